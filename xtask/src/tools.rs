//! The build tools, installed when missing, at exactly the versions the project pins.
//!
//! Trunk uses a tool found on PATH only when its version equals Trunk.toml `[tools]`; otherwise it
//! tries to download one (which fails offline). So the versions here are read from Trunk.toml and
//! Cargo.lock, and a mismatch between them is reported before anything is built.

use std::path::PathBuf;
use std::process::Command;

use crate::sh::{self, Failure, root, step};

pub const TRUNK_VERSION: &str = "0.22.1";

/// Where npm installs binaryen and axe-core (git-ignored, inside target/).
fn npm_prefix() -> PathBuf {
    root().join("target/tools/npm")
}

/// Installs an npm package (`name@version`) into the project's npm prefix.
fn npm_install(package: &str) -> Result<(), Failure> {
    let prefix = npm_prefix();
    std::fs::create_dir_all(&prefix).map_err(|e| Failure(format!("{}: {e}", prefix.display())))?;
    sh::run(Command::new("npm").args(["install", "--no-audit", "--no-fund", "--prefix"]).arg(&prefix).arg(package))
        .map_err(|Failure(m)| Failure(format!("{m}\n  ({package} comes from npm: install Node.js and npm)")))
}

/// PATH with the project's npm tools first.
fn tool_path() -> std::ffi::OsString {
    let mut paths = vec![npm_prefix().join("node_modules/.bin")];
    if let Some(home) = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
    {
        paths.push(home.join("bin"));
    }
    paths.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
    std::env::join_paths(paths).expect("PATH entries are valid")
}

/// A command for a tool, with the project's tool PATH.
pub fn tool(name: &str) -> Command {
    let mut cmd = Command::new(name);
    cmd.env("PATH", tool_path());
    cmd
}

/// A `trunk` command.
pub fn trunk() -> Command {
    tool("trunk")
}

fn read(rel: &str) -> Result<String, Failure> {
    std::fs::read_to_string(root().join(rel)).map_err(|e| Failure(format!("cannot read {rel}: {e}")))
}

/// The value of `key = "..."` in Trunk.toml's `[tools]`.
fn trunk_tool(key: &str) -> Result<String, Failure> {
    let text = read("Trunk.toml")?;
    text.lines()
        .skip_while(|l| l.trim() != "[tools]")
        .find_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim() == key).then(|| v.trim().trim_matches('"').to_string())
        })
        .ok_or_else(|| Failure(format!("Trunk.toml [tools] has no {key}")))
}

/// The version of package `name` in Cargo.lock.
fn locked(name: &str) -> Result<String, Failure> {
    let text = read("Cargo.lock")?;
    let needle = format!("name = \"{name}\"");
    let mut lines = text.lines();
    while let Some(l) = lines.next() {
        if l == needle {
            return lines
                .next()
                .and_then(|v| v.strip_prefix("version = \""))
                .map(|v| v.trim_end_matches('"').to_string())
                .ok_or_else(|| Failure(format!("Cargo.lock entry for {name} has no version")));
        }
    }
    Err(Failure(format!("Cargo.lock has no {name}; run `cargo generate-lockfile`")))
}

/// Checks that the pins agree: Trunk.toml's wasm_bindgen equals Cargo.lock's wasm-bindgen.
pub fn wasm_bindgen_version() -> Result<String, Failure> {
    let lock = locked("wasm-bindgen")?;
    let trunk = trunk_tool("wasm_bindgen")?;
    if lock != trunk {
        return Err(Failure(format!(
            "Cargo.lock has wasm-bindgen {lock} but Trunk.toml [tools] wasm_bindgen = \"{trunk}\": make them equal"
        )));
    }
    Ok(lock)
}

fn version_of(name: &str, arg: &str) -> Option<String> {
    sh::output(tool(name).arg(arg)).map(|s| s.trim().to_string())
}

/// Adds the wasm32-unknown-unknown target through rustup when it is missing.
pub fn ensure_wasm_target() -> Result<(), Failure> {
    let installed = sh::output(Command::new("rustup").args(["target", "list", "--installed"]))
        .ok_or_else(|| Failure("rustup is needed (https://rustup.rs)".into()))?;
    if installed.lines().any(|l| l.trim() == "wasm32-unknown-unknown") {
        println!("    wasm32-unknown-unknown target: present");
        Ok(())
    } else {
        sh::run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
    }
}

/// Makes `cargo <sub>` work (`fmt` or `clippy`), adding the rustup component (`rustfmt` or
/// `clippy`) when it is missing.
pub fn ensure_component(sub: &str, component: &str) -> Result<(), Failure> {
    let version = || sh::output(sh::cargo().args([sub, "--version"])).map(|v| v.trim().to_string());
    if let Some(v) = version() {
        println!("    {v}: present");
        return Ok(());
    }
    println!("    `cargo {sub}` missing; adding the {component} component");
    let added = sh::run(Command::new("rustup").args(["component", "add", component]));
    match (added, version()) {
        (Ok(()), Some(v)) => {
            println!("    {v}: installed");
            Ok(())
        }
        _ => Err(Failure(format!(
            "`cargo {sub}` is needed and `rustup component add {component}` did not provide it: \
             install the {component} component of this toolchain (https://rustup.rs)"
        ))),
    }
}

/// Installs whatever is missing: the wasm32 target, wasm-bindgen-cli, trunk and wasm-opt.
pub fn ensure_all() -> Result<(), Failure> {
    step("checking the build tools");
    ensure_wasm_target()?;

    let wb = wasm_bindgen_version()?;
    match version_of("wasm-bindgen", "--version") {
        Some(v) if v == format!("wasm-bindgen {wb}") => println!("    {v}: present"),
        found => {
            println!("    wasm-bindgen-cli {wb} missing (found {found:?}); installing (about 5 minutes)");
            // 0.2.130 installs only without --locked.
            sh::run(Command::new(env!("CARGO")).args(["install", "wasm-bindgen-cli", "--version", &wb, "--force"]))?;
        }
    }

    match version_of("trunk", "--version") {
        Some(v) if v == format!("trunk {TRUNK_VERSION}") => println!("    {v}: present"),
        found => {
            println!("    trunk {TRUNK_VERSION} missing (found {found:?}); installing (about 15 minutes)");
            sh::run(Command::new(env!("CARGO")).args([
                "install",
                "trunk",
                "--version",
                TRUNK_VERSION,
                "--locked",
                "--ignore-rust-version",
                "--force",
            ]))?;
        }
    }

    let opt = trunk_tool("wasm_opt")?;
    let want = opt.trim_start_matches("version_");
    match version_of("wasm-opt", "--version") {
        Some(v) if v.contains(&format!("version {want} ")) || v.ends_with(&format!("version {want}")) => {
            println!("    {v}: present")
        }
        found => {
            println!("    wasm-opt {want} missing (found {found:?}); installing binaryen@{want} from npm");
            npm_install(&format!("binaryen@{want}"))?;
        }
    }
    Ok(())
}

/// The reference MCP client, Python's `mcp` package, at the version the agents test names.
pub const MCP_PYTHON_VERSION: &str = "2.3.0";

/// A Python with `mcp` installed (a venv in target/tools/, made when missing, from PyPI like
/// the other tools from their registries), for the test that drives the MCP server with the
/// reference client (`crates/cli/tests/agents.rs`,
/// `the_reference_python_client_drives_the_server`); `None`, said, on a machine without python3.
/// A failed install fails, as a tool's does.
pub fn ensure_mcp_python() -> Result<Option<PathBuf>, Failure> {
    step(&format!("checking the reference MCP client (Python mcp {MCP_PYTHON_VERSION})"));
    if sh::output(Command::new("python3").arg("--version")).is_none() {
        println!("    no python3: the reference-client test is skipped (the Rust client test still runs)");
        return Ok(None);
    }
    let venv = root().join("target/tools/mcp-python");
    let python = venv.join("bin/python");
    let has = |python: &PathBuf| {
        sh::output(Command::new(python).args(["-c", "import importlib.metadata as m; print(m.version('mcp'))"]))
            .is_some_and(|v| v.trim() == MCP_PYTHON_VERSION)
    };
    if has(&python) {
        println!("    mcp {MCP_PYTHON_VERSION}: present");
        return Ok(Some(python));
    }
    println!("    mcp {MCP_PYTHON_VERSION} missing; installing into {} from PyPI", venv.display());
    sh::run(Command::new("python3").args(["-m", "venv", "--clear"]).arg(&venv))
        .map_err(|Failure(m)| Failure(format!("{m}\n  (a Python venv needs Debian's python3-venv; .ci/run installs it)")))?;
    sh::run(Command::new(&python).args(["-m", "pip", "install", "--quiet", &format!("mcp=={MCP_PYTHON_VERSION}")]))?;
    if has(&python) {
        Ok(Some(python))
    } else {
        Err(Failure(format!("mcp {MCP_PYTHON_VERSION} did not install into {}", venv.display())))
    }
}

/// axe-core, injected by the accessibility test.
pub const AXE_CORE_VERSION: &str = "4.14.1";

/// Chromium, chromedriver (Debian packages) and axe-core (npm) for the browser tests.
pub fn ensure_browser_tools() -> Result<(), Failure> {
    step("checking Chromium, chromedriver and axe-core");
    let axe = npm_prefix().join("node_modules/axe-core/axe.min.js");
    if axe.is_file() {
        println!("    axe-core: present");
    } else {
        println!("    axe-core {AXE_CORE_VERSION} missing; installing from npm");
        npm_install(&format!("axe-core@{AXE_CORE_VERSION}"))?;
    }
    let have = |bin: &str| sh::output(Command::new(bin).arg("--version"));
    if let (Some(c), Some(d)) = (have("chromium"), have("chromedriver")) {
        println!("    {}; {}", c.trim(), d.split(" (").next().unwrap_or("").trim());
        return Ok(());
    }
    Err(Failure(
        "the browser tests need Chromium and chromedriver: `apt-get install chromium chromium-driver` \
         (.ci/run does this), or run `cargo xtask test --no-browser`"
            .into(),
    ))
}

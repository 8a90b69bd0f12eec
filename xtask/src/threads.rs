//! The threaded CPU trainer (crates/threads): built on a pinned nightly with `-Z build-std` and
//! the atomics target features (wasm threads need a `std` compiled with them, which no stable
//! toolchain ships), bound with wasm-bindgen `--target web` (wasm-bindgen-rayon starts its
//! threads as module workers) and written into Trunk's staging folder as `threads/`.
//!
//! Trunk runs it as a `post_build` hook (Trunk.toml), so `trunk build` and `trunk serve` (and
//! with them `cargo xtask build|serve|test`) produce the whole app. The nightly is installed
//! with rustup when missing (minimal profile plus `rust-src`, about 15 s).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::sh::{self, Failure, root, step};
use crate::tools;

/// The pinned nightly (its `rust-src` builds `std` with atomics).
pub const NIGHTLY: &str = "nightly-2026-05-19";

/// Atomics and bulk memory (`std` and every crate compiled for threads), SIMD as the `trainer`
/// has it (.cargo/config.toml); then the linker's side, which rustc does not add by itself: one
/// shared memory, imported (so each thread instantiates the module on the same memory), with room
/// to grow to 4 GiB (a shared memory must declare its maximum), and the thread-local storage
/// symbols wasm-bindgen's thread set-up calls.
const RUSTFLAGS: &str = "-C target-feature=+atomics,+bulk-memory,+mutable-globals,+simd128 \
     -C link-arg=--shared-memory -C link-arg=--import-memory -C link-arg=--max-memory=4294967296 \
     -C link-arg=--export=__wasm_init_tls -C link-arg=--export=__tls_size \
     -C link-arg=--export=__tls_align -C link-arg=--export=__tls_base";

/// Where its cargo builds: `threads/` in the stable builds' target folder, apart from them
/// (its `std` differs).
fn target_dir() -> PathBuf {
    sh::target_dir().join("threads")
}

/// `rustup run NIGHTLY <program>`, without the variables the stable cargo running xtask (or
/// Trunk) set, which would pin the stable toolchain or its target folder.
fn nightly(program: &str) -> Command {
    let mut cmd = Command::new("rustup");
    cmd.args(["run", NIGHTLY, program]);
    for var in ["RUSTC", "RUSTDOC", "RUSTUP_TOOLCHAIN", "CARGO", "CARGO_TARGET_DIR", "RUSTC_WRAPPER", "CARGO_BUILD_TARGET"] {
        cmd.env_remove(var);
    }
    cmd
}

/// Installs the pinned nightly with `rust-src` when either is missing.
pub fn ensure_nightly() -> Result<(), Failure> {
    let sysroot = sh::output(nightly("rustc").args(["--print", "sysroot"]));
    if let Some(sysroot) = sysroot.map(|s| PathBuf::from(s.trim()))
        && sysroot.join("lib/rustlib/src/rust/library/std").is_dir()
    {
        println!("    {NIGHTLY} with rust-src: present");
        return Ok(());
    }
    println!("    {NIGHTLY} (with rust-src) missing; installing it with rustup");
    sh::run(Command::new("rustup").args(["toolchain", "install", NIGHTLY, "--profile", "minimal", "--component", "rust-src"]))
}

/// Builds the threaded trainer into `<staging>/threads/`: `trainer_threads.js` and `_bg.wasm`
/// (wasm-bindgen's), the pool's helper script (wasm-bindgen-rayon's snippet) and `worker.js`
/// (the entry the page starts).
pub fn build(staging: &Path) -> Result<(), Failure> {
    step("the threaded CPU trainer (crates/threads, nightly + build-std + atomics)");
    let started = std::time::Instant::now();
    ensure_nightly()?;
    let mut cargo = nightly("cargo");
    cargo
        .args(["build", "-p", "breastmnist-threads", "--target", "wasm32-unknown-unknown", "--profile", "wasm-threads"])
        .args(["-Z", "build-std=panic_abort,std"])
        .env("CARGO_TARGET_DIR", target_dir())
        .env("RUSTFLAGS", RUSTFLAGS);
    sh::run(&mut cargo)?;
    let wasm = target_dir().join("wasm32-unknown-unknown/wasm-threads/breastmnist_threads.wasm");
    let out = staging.join("threads");
    if out.exists() {
        std::fs::remove_dir_all(&out).map_err(|e| Failure(format!("{}: {e}", out.display())))?;
    }
    let wb = tools::wasm_bindgen_version()?;
    match sh::output(tools::tool("wasm-bindgen").arg("--version")) {
        Some(v) if v.trim() == format!("wasm-bindgen {wb}") => {}
        found => return Err(Failure(format!("wasm-bindgen {wb} is needed (found {found:?}): run `cargo xtask setup`"))),
    }
    sh::run(
        tools::tool("wasm-bindgen").args(["--target", "web", "--out-name", "trainer_threads", "--out-dir"]).arg(&out).arg(&wasm),
    )?;
    point_helper_at_glue(&out)?;
    let entry = root().join("crates/threads/js/worker.js");
    std::fs::copy(&entry, out.join("worker.js")).map_err(|e| Failure(format!("{}: {e}", entry.display())))?;
    println!("    built in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// wasm-bindgen-rayon's helper (written as a wasm-bindgen snippet) imports its glue as
/// `'../../..'`, the package folder a bundler resolves through package.json. Served as plain
/// files (as here: no bundler) that folder is no module, so the import names the glue's file.
/// (Its `no-bundler` variant instead starts the threads from `blob:` URLs, which the app's
/// `worker-src 'self'` refuses.)
fn point_helper_at_glue(out: &Path) -> Result<(), Failure> {
    let snippets = out.join("snippets");
    let dirs = std::fs::read_dir(&snippets).map_err(|e| Failure(format!("{}: {e}", snippets.display())))?;
    let mut patched = 0;
    for dir in dirs.flatten() {
        let helper = dir.path().join("src/workerHelpers.js");
        let Ok(text) = std::fs::read_to_string(&helper) else { continue };
        const FROM: &str = "import('../../..')";
        if text.matches(FROM).count() != 1 {
            return Err(Failure(format!("{}: expected one {FROM} (a new wasm-bindgen-rayon?)", helper.display())));
        }
        let text = text.replace(FROM, "import('../../../trainer_threads.js')");
        std::fs::write(&helper, text).map_err(|e| Failure(format!("{}: {e}", helper.display())))?;
        patched += 1;
    }
    if patched == 1 {
        Ok(())
    } else {
        Err(Failure(format!("{}: found {patched} wasm-bindgen-rayon helpers, not 1", snippets.display())))
    }
}

/// The `post_build` hook: Trunk names its staging folder in `TRUNK_STAGING_DIR`.
pub fn hook() -> Result<(), Failure> {
    let staging = std::env::var_os("TRUNK_STAGING_DIR")
        .ok_or_else(|| Failure("`cargo xtask threads` is Trunk's post_build hook: TRUNK_STAGING_DIR is not set".into()))?;
    build(Path::new(&staging))
}

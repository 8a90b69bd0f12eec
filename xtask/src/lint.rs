//! `cargo xtask lint`: rustfmt against the checked-in rustfmt.toml, then clippy with
//! `-D warnings` natively on every workspace crate (all targets) and for wasm32 on the crates
//! that build for the browser, so the wasm-only code (the page's components, runtime and
//! charts, the worker) is type-checked and linted without a browser.
//!
//! Every check runs even when an earlier one fails; the failure names all that failed.

use std::time::Instant;

use crate::sh::{self, Failure, step};
use crate::tools;

/// The profile clippy checks with: the native tests' (`cargo xtask test` builds with `ci`), so
/// build scripts and proc macros are compiled once for both.
const PROFILE: &str = "ci";

/// The packages that build for the browser: the page (lib and bin) and the worker (its
/// `trainer` bin). Everything else builds natively only.
const WASM_PACKAGES: [&str; 2] = ["breastmnist-lab", "breastmnist-worker"];

/// Runs every check; prints how long they took.
pub fn run() -> Result<(), Failure> {
    let started = Instant::now();
    step("lint: checking rustfmt, clippy and the wasm32 target");
    tools::ensure_component("fmt", "rustfmt")?;
    tools::ensure_component("clippy", "clippy")?;
    tools::ensure_wasm_target()?;

    let mut failed = Vec::new();
    step("lint: rustfmt (rustfmt.toml), listing the files it would change");
    if sh::run(sh::cargo().args(["fmt", "--all", "--", "--check", "--files-with-diff"])).is_err() {
        failed.push("rustfmt (`cargo fmt --all -- --check` shows the diffs, `cargo fmt --all` applies them)");
    }

    step("lint: clippy, native, every crate and target");
    let native = ["clippy", "--profile", PROFILE, "--workspace", "--all-targets", "--keep-going"];
    if sh::run(sh::cargo().args(native).args(["--", "-D", "warnings"])).is_err() {
        failed.push("clippy native");
    }

    step("lint: clippy, wasm32-unknown-unknown, the page and the worker");
    let mut wasm = sh::cargo();
    wasm.args(["clippy", "--profile", PROFILE, "--target", "wasm32-unknown-unknown", "--keep-going"]);
    for p in WASM_PACKAGES {
        wasm.args(["-p", p]);
    }
    // As Trunk builds the worker (index.html's `data-cargo-features`).
    wasm.args(["--features", "breastmnist-worker/webgpu"]);
    if sh::run(wasm.args(["--", "-D", "warnings"])).is_err() {
        failed.push("clippy wasm32");
    }

    let secs = started.elapsed().as_secs_f64();
    if failed.is_empty() {
        println!("\n    lint passed in {secs:.1} s");
        Ok(())
    } else {
        println!("\n    lint failed in {secs:.1} s");
        Err(Failure(format!("lint failed: {}", failed.join("; "))))
    }
}

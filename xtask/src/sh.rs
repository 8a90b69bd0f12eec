//! Running commands and printing what happens.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A task failed; the message says why and what to do.
#[derive(Debug)]
pub struct Failure(pub String);

/// The repository root (the workspace holding xtask/).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask/ has a parent").to_path_buf()
}

/// Cargo's target folder for the stable builds: `CARGO_TARGET_DIR` (relative to the root) or
/// `target/`.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), |d| root().join(d))
}

/// A `cargo` command: the cargo running this task (`$CARGO`), else the one that built xtask.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into()))
}

/// Announces a step.
pub fn step(what: &str) {
    println!("\n==> {what}");
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Runs `cmd` in the repository root, inheriting the terminal; fails if it fails.
pub fn run(cmd: &mut Command) -> Result<(), Failure> {
    let what = describe(cmd);
    println!("    $ {what}");
    let status = cmd.current_dir(root()).status().map_err(|e| Failure(format!("could not start `{what}`: {e}")))?;
    if status.success() { Ok(()) } else { Err(Failure(format!("`{what}` failed ({status})"))) }
}

/// Runs `cmd` and returns its stdout, or `None` if it cannot run or fails.
pub fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.current_dir(root()).stderr(Stdio::null()).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Size of a file once gzipped (level 9), via the system gzip.
pub fn gzipped_len(path: &Path) -> Result<usize, Failure> {
    let out = Command::new("gzip").args(["-9", "-c"]).arg(path).output().map_err(|e| Failure(format!("gzip: {e}")))?;
    Ok(out.stdout.len())
}

/// Counts passed and failed tests across `cargo test` runs.
#[derive(Default)]
pub struct Tally {
    pub passed: u64,
    pub failed: u64,
}

impl Tally {
    /// Runs `cargo test <args>`, echoing its output and adding up its `test result:` lines.
    pub fn cargo_test(&mut self, args: &[&str]) -> Result<(), Failure> {
        self.cargo_test_with(args, &[])
    }

    /// `cargo test ARGS` with `env` set for the tests.
    pub fn cargo_test_with(&mut self, args: &[&str], env: &[(&str, &std::path::Path)]) -> Result<(), Failure> {
        let mut cmd = Command::new(env!("CARGO"));
        cmd.arg("test").args(args).current_dir(root()).stdout(Stdio::piped());
        cmd.envs(env.iter().map(|(k, v)| (*k, *v)));
        let what = describe(&cmd);
        println!("    $ {what}");
        let mut child = cmd.spawn().map_err(|e| Failure(format!("could not start `{what}`: {e}")))?;
        let stdout = child.stdout.take().expect("piped stdout");
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("{line}");
            if let Some(rest) = line.trim().strip_prefix("test result: ") {
                self.passed += count(rest, " passed");
                self.failed += count(rest, " failed");
            }
        }
        let status = child.wait().map_err(|e| Failure(e.to_string()))?;
        if status.success() {
            Ok(())
        } else {
            self.failed = self.failed.max(1);
            println!("\n{} passed, {} failed", self.passed, self.failed);
            Err(Failure(format!("`{what}` failed ({status})")))
        }
    }
}

/// The number before `label` in a `test result:` line (`ok. 4 passed; 0 failed; ...`).
fn count(line: &str, label: &str) -> u64 {
    line.split(';')
        .find_map(|part| part.trim().trim_start_matches("ok. ").trim_start_matches("FAILED. ").strip_suffix(label.trim_start()))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn counts_the_result_line() {
        let line = "ok. 14 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 2.30s";
        assert_eq!(count(line, " passed"), 14);
        assert_eq!(count(line, " failed"), 2);
        assert_eq!(count("FAILED. 3 passed; 1 failed; 0 ignored", " failed"), 1);
    }
}

//! `cargo xtask fuzz [--minutes N] [--seed S]`: the seeded mutation tests that `cargo xtask test`
//! runs briefly (`crates/data/tests/fuzz.rs` for `decode_npz`, `crates/core/tests/fuzz.rs` for
//! checkpoints and snapshots), run for N minutes each, side by side, in the `ci` profile. The
//! mutators live in those tests; this task only sets their environment (`BREASTMNIST_FUZZ_SEED`,
//! `BREASTMNIST_FUZZ_SECONDS`, `BREASTMNIST_FUZZ_TRACE`) and prints cases tried and every crash
//! with the command that replays it. It knows nothing about the formats.

use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::sh::{Failure, cargo, root, step};

/// The fuzzed targets: a short name and the package whose `fuzz` test holds the mutators.
const TARGETS: [(&str, &str); 2] = [("data", "breastmnist-data"), ("core", "breastmnist-core")];

const USAGE: &str = "usage: cargo xtask fuzz [--minutes N] [--seed S]";

/// What one target's run reported.
struct Outcome {
    name: &'static str,
    package: &'static str,
    cases: Option<u64>,
    failures: Vec<String>,
    /// The case in progress when the process died (its trace file survived).
    died_in: Option<String>,
    ok: bool,
}

pub fn run(rest: &[String]) -> Result<(), Failure> {
    let (minutes, seed) = parse(rest)?;
    step("building the fuzz tests (ci profile)");
    let mut build = cargo();
    build.args(["test", "--profile", "ci", "--test", "fuzz", "--no-run"]);
    for (_, package) in TARGETS {
        build.args(["-p", package]);
    }
    crate::sh::run(&mut build)?;

    step(&format!("fuzzing for {minutes} minute(s) per target with seed {seed:#x}"));
    let dir = root().join("target/fuzz");
    std::fs::create_dir_all(&dir).map_err(|e| Failure(format!("{}: {e}", dir.display())))?;
    let children = TARGETS
        .iter()
        .map(|&(name, package)| {
            let trace = dir.join(format!("{name}.case"));
            let _ = std::fs::remove_file(&trace);
            let mut cmd = cargo();
            cmd.args(["test", "--quiet", "--profile", "ci", "-p", package, "--test", "fuzz"])
                .args(["seeded_mutations_fail_cleanly", "--", "--exact", "--nocapture"])
                .env("BREASTMNIST_FUZZ_SEED", format!("{seed:#x}"))
                .env("BREASTMNIST_FUZZ_SECONDS", (minutes * 60).to_string())
                .env("BREASTMNIST_FUZZ_TRACE", &trace)
                .current_dir(root())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            let child = cmd.spawn().map_err(|e| Failure(format!("could not start cargo test for {package}: {e}")))?;
            Ok((name, package, trace, child))
        })
        .collect::<Result<Vec<_>, Failure>>()?;

    let outcomes: Vec<Outcome> = std::thread::scope(|scope| {
        let handles: Vec<_> = children
            .into_iter()
            .map(|(name, package, trace, mut child)| {
                let stdout = child.stdout.take().expect("piped stdout");
                let stderr = child.stderr.take().expect("piped stderr");
                scope.spawn(move || {
                    let err_lines = std::thread::spawn(move || echo(name, stderr));
                    let mut lines = echo(name, stdout);
                    lines.extend(err_lines.join().unwrap_or_default());
                    let ok = child.wait().is_ok_and(|s| s.success());
                    let died_in = if ok { None } else { std::fs::read_to_string(&trace).ok() };
                    let cases = lines.iter().find_map(|l| field(l.strip_prefix("fuzz-summary: ")?, "cases"));
                    let failures = lines.iter().filter_map(|l| l.strip_prefix("FUZZ FAILURE ")).map(str::to_string).collect();
                    Outcome { name, package, cases, failures, died_in, ok }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("the reader thread does not panic")).collect()
    });

    println!();
    let mut failed = false;
    for o in &outcomes {
        let cases = o.cases.map_or("?".to_string(), |n| n.to_string());
        println!("{}: {cases} cases tried, {} crash(es)", o.name, o.failures.len());
        for f in &o.failures {
            println!("    {f}");
        }
        if let Some(case) = &o.died_in {
            println!("    the test process died during: {case}");
        }
        if !o.ok {
            failed = true;
            println!(
                "    replay a case: BREASTMNIST_FUZZ_SEED={seed:#x} BREASTMNIST_FUZZ_CASE=<case> \
                 cargo test --profile ci -p {} --test fuzz seeded -- --nocapture",
                o.package
            );
        }
    }
    if failed { Err(Failure("the fuzzer found crashes (see above)".into())) } else { Ok(()) }
}

/// Prints every line of `from` prefixed with `[name]` and returns them.
fn echo(name: &str, from: impl Read) -> Vec<String> {
    let mut lines = Vec::new();
    for line in BufReader::new(from).lines().map_while(Result::ok) {
        println!("[{name}] {line}");
        lines.push(line);
    }
    lines
}

/// The number after `key=` in a `fuzz-summary` line.
fn field(line: &str, key: &str) -> Option<u64> {
    line.split_whitespace().find_map(|w| w.strip_prefix(key)?.strip_prefix('=')?.parse().ok())
}

/// `--minutes N` (default 10) and `--seed S` (decimal or 0x-hex; default from the clock).
fn parse(rest: &[String]) -> Result<(u64, u64), Failure> {
    let mut minutes = 10;
    let mut seed = None;
    let mut args = rest.iter();
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| Failure(format!("{flag} wants a value\n{USAGE}")))?;
        match flag.as_str() {
            "--minutes" => {
                minutes = value
                    .parse()
                    .ok()
                    .filter(|&m| m > 0)
                    .ok_or_else(|| Failure(format!("--minutes wants a whole number above 0, got '{value}'")))?;
            }
            "--seed" => {
                let parsed = match value.strip_prefix("0x") {
                    Some(hex) => u64::from_str_radix(hex, 16),
                    None => value.parse(),
                };
                seed = Some(parsed.map_err(|_| Failure(format!("--seed wants a number, got '{value}'")))?);
            }
            _ => return Err(Failure(format!("fuzz takes only --minutes N and --seed S\n{USAGE}"))),
        }
    }
    let clock = || SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    Ok((minutes, seed.unwrap_or_else(clock)))
}

#[cfg(test)]
mod tests {
    use super::{field, parse};

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_minutes_and_seed() {
        assert_eq!(parse(&args(&["--minutes", "3", "--seed", "0x2a"])).unwrap(), (3, 42));
        assert_eq!(parse(&args(&["--seed", "7"])).unwrap(), (10, 7));
        assert!(parse(&args(&["--minutes", "0"])).is_err());
        assert!(parse(&args(&["--minutes"])).is_err());
        assert!(parse(&args(&["--hours", "1"])).is_err());
    }

    #[test]
    fn reads_the_summary_line() {
        let line = "target=decode_npz/seeded cases=3000 seconds=13.0 slowest=27.87ms (x) peak=6727KiB (y) failures=0";
        assert_eq!(field(line, "cases"), Some(3000));
        assert_eq!(field(line, "failures"), Some(0));
        assert_eq!(field(line, "missing"), None);
    }
}

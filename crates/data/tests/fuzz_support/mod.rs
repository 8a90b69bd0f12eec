//! The fuzz suites' measuring, shared by `crates/data/tests/fuzz.rs` and (through `#[path]`)
//! `crates/core/tests/fuzz.rs`: a counting allocator (per thread, so parallel tests do not mix),
//! and the case runner that checks each case for panics, time and peak allocation.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn note(delta: isize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

// SAFETY: every call is forwarded to `System` unchanged; only thread-local counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size() as isize);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Peak bytes this thread had allocated while `f` ran, above what was live before.
pub fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let start = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(start));
    let out = f();
    (out, (PEAK.with(Cell::get) - start).max(0) as usize)
}

/// Each case must finish within this (a case over it is run once more before it counts).
pub const TIME_LIMIT: Duration = Duration::from_millis(if cfg!(debug_assertions) { 2000 } else { 100 });
/// Each case may allocate at most this much at its peak.
pub const ALLOC_LIMIT: usize = 64 << 20;

/// Runs cases and keeps the figures: count, slowest, largest peak, failures.
pub struct Runner {
    target: &'static str,
    pub cases: u64,
    slowest: (Duration, String),
    largest: (usize, String),
    pub failures: Vec<String>,
    trace: Option<std::path::PathBuf>,
}

impl Runner {
    pub fn new(target: &'static str) -> Self {
        let trace = std::env::var_os("BREASTMNIST_FUZZ_TRACE").map(Into::into);
        Runner { target, cases: 0, slowest: Default::default(), largest: (0, String::new()), failures: Vec::new(), trace }
    }

    /// Runs `check` on `input` under `catch_unwind`, timing it and measuring its allocation.
    pub fn case(&mut self, label: &str, input: &[u8], check: &dyn Fn(&[u8]) -> Result<(), String>) {
        if let Some(path) = &self.trace {
            let _ = std::fs::write(path, label);
        }
        self.cases += 1;
        let attempt = || {
            let started = Instant::now();
            let (result, peak) = peak_of(|| catch_unwind(AssertUnwindSafe(|| check(input))));
            (result, peak, started.elapsed())
        };
        let (mut result, mut peak, mut elapsed) = attempt();
        if elapsed > TIME_LIMIT && result.as_ref().is_ok_and(Result::is_ok) {
            // A busy machine can stall one run; a hang stalls every run.
            (result, peak, elapsed) = attempt();
        }
        let failure = match result {
            Err(panic) => Some(format!("panicked: {}", panic_message(&*panic))),
            Ok(Err(why)) => Some(why),
            Ok(Ok(())) if elapsed > TIME_LIMIT => Some(format!("took {elapsed:?} (limit {TIME_LIMIT:?})")),
            Ok(Ok(())) if peak > ALLOC_LIMIT => Some(format!("allocated {peak} bytes at its peak (limit {ALLOC_LIMIT})")),
            Ok(Ok(())) => None,
        };
        if let Some(why) = failure {
            eprintln!("FUZZ FAILURE [{}] {label}: {why}", self.target);
            self.failures.push(format!("{label}: {why}"));
        }
        if elapsed > self.slowest.0 {
            self.slowest = (elapsed, label.to_string());
        }
        if peak > self.largest.0 {
            self.largest = (peak, label.to_string());
        }
    }

    /// Prints the figures (one `fuzz-summary` line, read by `cargo xtask fuzz`) and fails on
    /// any failure, naming each.
    pub fn finish(self, started: Instant) {
        println!(
            "fuzz-summary: target={} cases={} seconds={:.1} slowest={:.2}ms ({}) peak={}KiB ({}) failures={}",
            self.target,
            self.cases,
            started.elapsed().as_secs_f64(),
            self.slowest.0.as_secs_f64() * 1e3,
            self.slowest.1,
            self.largest.0 / 1024,
            self.largest.1,
            self.failures.len()
        );
        if let Some(path) = &self.trace {
            let _ = std::fs::remove_file(path);
        }
        assert!(self.failures.is_empty(), "{} failing case(s):\n{}", self.failures.len(), self.failures.join("\n"));
    }
}

pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

/// A number from the environment (decimal or `0x` hex); a malformed value stops the run.
pub fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let v = v.trim();
    let parsed = match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => v.parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{name}={v} is not a number")))
}

/// Which cases to run: `(seed, first..end, deadline)`.
pub fn plan(default_cases: u64) -> (u64, std::ops::Range<u64>, Option<Instant>) {
    let seed = env_u64("BREASTMNIST_FUZZ_SEED").unwrap_or(0xB4EA_5700);
    if let Some(only) = env_u64("BREASTMNIST_FUZZ_CASE") {
        return (seed, only..only + 1, None);
    }
    let deadline = env_u64("BREASTMNIST_FUZZ_SECONDS").map(|s| Instant::now() + Duration::from_secs(s));
    let cases = env_u64("BREASTMNIST_FUZZ_CASES").unwrap_or(if deadline.is_some() { u64::MAX } else { default_cases });
    (seed, 0..cases, deadline)
}

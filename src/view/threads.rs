//! Which trainer a worker runs: the `trainer` bundle (WebGPU, or burn's CPU backend on one
//! thread) or the threaded CPU trainer (`threads/worker.js`, crates/threads: the same rooms
//! over a rayon pool of wasm threads, without WebGPU).
//!
//! Threads need `SharedArrayBuffer`, which a browser gives only a cross-origin-isolated page
//! (COOP `same-origin` + COEP `require-corp`: `cargo xtask serve` and `assets/_headers` send
//! them, and the service worker adds them where a host does not).

use breastmnist_protocol::BackendChoice;

/// The most threads a run asks for by default: burn's kernels stop scaling well past this on
/// 28 px images, and the reader's other tabs need cores too.
pub const DEFAULT_MAX_THREADS: usize = 8;
/// The most `?threads=N` may ask for.
pub const MAX_THREADS: usize = 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrainerScript {
    /// `trainer_loader.js`: WebGPU, or the CPU on one thread.
    Single,
    /// `threads/worker.js?threads=N`: the CPU on a pool of N threads.
    Threads(usize),
}

/// What the page knows when it starts a worker.
#[derive(Clone, Copy, Debug)]
pub struct Setting<'a> {
    /// `crossOriginIsolated` and `SharedArrayBuffer` both exist.
    pub isolated: bool,
    pub choice: BackendChoice,
    /// Whether a hardware WebGPU adapter exists: `None` until the page's probe answers.
    pub hardware_gpu: Option<bool>,
    /// `?threads=`: `1` keeps the one-thread trainer, `N` asks for N.
    pub param: Option<&'a str>,
    /// `navigator.hardwareConcurrency`.
    pub cores: usize,
}

impl TrainerScript {
    /// Threads when the page may use them and the run would train on the CPU anyway: backend
    /// `cpu`, or `auto` once the probe found no hardware GPU (the worker's own rule then picks
    /// the CPU, so a reader with a GPU keeps WebGPU). A malformed `?threads=` is ignored.
    pub fn choose(s: Setting) -> TrainerScript {
        let asked = s.param.and_then(|p| p.trim().parse::<usize>().ok());
        let n = match asked {
            Some(n) => n.min(MAX_THREADS),
            None => s.cores.clamp(1, DEFAULT_MAX_THREADS),
        };
        let cpu_run = match s.choice {
            BackendChoice::Cpu => true,
            BackendChoice::Auto => s.hardware_gpu == Some(false),
            BackendChoice::WebGpu => false,
        };
        if s.isolated && cpu_run && n > 1 { TrainerScript::Threads(n) } else { TrainerScript::Single }
    }

    /// The worker's script, relative to the page.
    pub fn url(self) -> String {
        match self {
            TrainerScript::Single => "./trainer_loader.js".into(),
            TrainerScript::Threads(n) => format!("./threads/worker.js?threads={n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setting(choice: BackendChoice) -> Setting<'static> {
        Setting { isolated: true, choice, hardware_gpu: Some(false), param: None, cores: 4 }
    }

    #[test]
    fn a_cpu_run_on_an_isolated_page_gets_one_thread_per_core_up_to_the_cap() {
        assert_eq!(TrainerScript::choose(setting(BackendChoice::Cpu)), TrainerScript::Threads(4));
        let many = Setting { cores: 64, ..setting(BackendChoice::Cpu) };
        assert_eq!(TrainerScript::choose(many), TrainerScript::Threads(DEFAULT_MAX_THREADS));
        assert_eq!(TrainerScript::Threads(4).url(), "./threads/worker.js?threads=4");
    }

    #[test]
    fn without_isolation_or_with_one_core_the_single_trainer_runs() {
        let open = Setting { isolated: false, ..setting(BackendChoice::Cpu) };
        assert_eq!(TrainerScript::choose(open), TrainerScript::Single);
        let one = Setting { cores: 1, ..setting(BackendChoice::Cpu) };
        assert_eq!(TrainerScript::choose(one), TrainerScript::Single);
        assert_eq!(TrainerScript::Single.url(), "./trainer_loader.js");
    }

    #[test]
    fn auto_uses_threads_only_once_the_probe_found_no_hardware_gpu() {
        assert_eq!(TrainerScript::choose(setting(BackendChoice::Auto)), TrainerScript::Threads(4));
        let gpu = Setting { hardware_gpu: Some(true), ..setting(BackendChoice::Auto) };
        assert_eq!(TrainerScript::choose(gpu), TrainerScript::Single);
        let unknown = Setting { hardware_gpu: None, ..setting(BackendChoice::Auto) };
        assert_eq!(TrainerScript::choose(unknown), TrainerScript::Single);
        assert_eq!(TrainerScript::choose(setting(BackendChoice::WebGpu)), TrainerScript::Single);
    }

    #[test]
    fn the_threads_parameter_pins_the_count_or_turns_threads_off() {
        let one = Setting { param: Some("1"), ..setting(BackendChoice::Cpu) };
        assert_eq!(TrainerScript::choose(one), TrainerScript::Single);
        let two = Setting { param: Some("2"), cores: 16, ..setting(BackendChoice::Cpu) };
        assert_eq!(TrainerScript::choose(two), TrainerScript::Threads(2));
        let huge = Setting { param: Some("1000"), ..setting(BackendChoice::Cpu) };
        assert_eq!(TrainerScript::choose(huge), TrainerScript::Threads(MAX_THREADS));
        let junk = Setting { param: Some("lots"), ..setting(BackendChoice::Cpu) };
        assert_eq!(TrainerScript::choose(junk), TrainerScript::Threads(4));
    }
}

//! What each task does, in order, as data: `plan(task)` is pure, so a test can check the rules
//! that keep the tasks working on a fresh machine (no crate in cargo's registry, no `target/`).
//!
//! The rule that once broke `cargo xtask serve` for a newcomer: Trunk builds the wasm crates with
//! `cargo build --offline` (Trunk.toml `offline = true`, and `--offline` below, so Trunk never
//! downloads a tool of another version), and an offline cargo cannot download a crate. So every
//! plan that runs Trunk fetches the locked crates first (`cargo fetch --locked`, every target).

/// One step of a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Install the missing build tools (wasm32 target, wasm-bindgen-cli, trunk, wasm-opt).
    Tools,
    /// Copy or download and verify the data files into `assets/data`.
    Data,
    /// EfficientNet-Lite0's ImageNet weights into `target/imagenet` (for the tests that import
    /// them; the page does not serve them).
    Imagenet,
    /// `cargo fetch --locked`: every crate of Cargo.lock into cargo's registry.
    Fetch,
    /// rustfmt and clippy (online cargo).
    Lint,
    /// The native tests (online cargo).
    NativeTests,
    /// `trunk build --release --offline` into `dist/`, checked and measured.
    Build,
    /// Chromium, chromedriver and axe-core for the browser tests.
    BrowserTools,
    /// The browser tests over `dist/`.
    BrowserTests,
    /// Serve the built `dist/` on 127.0.0.1 with the headers of Trunk.toml `[serve.headers]`.
    Serve(u16),
}

impl Action {
    /// Whether this step runs cargo with `--offline` (Trunk's cargo builds, and the hook's).
    pub fn offline_cargo(self) -> bool {
        matches!(self, Action::Build)
    }
}

/// The tasks that build or serve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Task {
    Setup,
    Build,
    Serve(u16),
    Test { browser: bool },
}

/// The steps of `task`, in order.
pub fn plan(task: Task) -> Vec<Action> {
    use Action::*;
    match task {
        Task::Setup => vec![Tools, Data, Fetch],
        Task::Build => vec![Tools, Data, Fetch, Build],
        // Built once, before serving: a failed build stops here with its error, never an empty site.
        Task::Serve(port) => vec![Tools, Data, Fetch, Build, Serve(port)],
        Task::Test { browser: true } => vec![Tools, Data, Imagenet, Fetch, Lint, NativeTests, Build, BrowserTools, BrowserTests],
        Task::Test { browser: false } => vec![Data, Imagenet, Lint, NativeTests],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Task; 5] =
        [Task::Setup, Task::Build, Task::Serve(8080), Task::Test { browser: true }, Task::Test { browser: false }];

    /// The newcomer's failure: an offline cargo build with nothing fetched.
    #[test]
    fn every_offline_build_comes_after_a_fetch() {
        for task in ALL {
            let steps = plan(task);
            for (i, step) in steps.iter().enumerate().filter(|(_, s)| s.offline_cargo()) {
                assert!(steps[..i].contains(&Action::Fetch), "{task:?}: {step:?} runs cargo offline before any fetch: {steps:?}");
            }
        }
    }

    #[test]
    fn serve_builds_before_it_serves_and_has_the_tools_first() {
        let steps = plan(Task::Serve(8080));
        let at = |a: Action| steps.iter().position(|s| *s == a).unwrap_or_else(|| panic!("serve has no {a:?}"));
        assert!(at(Action::Tools) < at(Action::Build));
        assert!(at(Action::Build) < at(Action::Serve(8080)));
        assert_eq!(steps.last(), Some(&Action::Serve(8080)), "serving is the last step");
    }

    /// Trunk.toml keeps `offline = true` (Trunk must never download a tool): so its builds are
    /// offline cargo builds, which `Action::offline_cargo` must say.
    #[test]
    fn trunk_builds_offline_as_the_plan_assumes() {
        let toml = std::fs::read_to_string(crate::sh::root().join("Trunk.toml")).expect("Trunk.toml");
        assert!(toml.lines().any(|l| l.replace(' ', "") == "offline=true"), "Trunk.toml [build] sets offline = true");
        assert!(Action::Build.offline_cargo());
    }
}

//! The training worker. It owns the burn device and the `Trainer`, and talks to the page only
//! through `breastmnist_protocol` messages, so CPU training never blocks the page and the
//! page's bundle never carries burn.
//!
//! One run at a time: `start` (with the verified dataset bytes) runs the trainer step by step,
//! yielding to the event loop between steps so `pause`, `unpause` and `stop` arrive; once a run
//! is done its model answers the explorer's questions.
//!
//! Two builds share these rooms: the `trainer` bin (feature `webgpu`: WebGPU, or burn's CPU
//! backend on one thread) and `crates/threads` (feature `threads`: the CPU backend over a
//! rayon pool of wasm threads, for cross-origin-isolated pages). Entry point: [`start`].
//!
//! The rooms: `glue` (JavaScript: the message loop, posting, yielding), `backend` (which device),
//! `driver` (a run or an evaluation), `pretext` (self-supervised pretraining and what it
//! learned), `explain` (the explanation queue), `convert` (protocol <->
//! core, the only room that builds natively; it is unit-tested).

// Used by the other rooms in the browser; natively only its tests use it.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod convert;

#[cfg(target_arch = "wasm32")]
mod backend;
#[cfg(target_arch = "wasm32")]
mod driver;
#[cfg(target_arch = "wasm32")]
mod explain;
#[cfg(target_arch = "wasm32")]
mod glue;
#[cfg(target_arch = "wasm32")]
mod pretext;

/// Installs the message loop and posts `Ready`. `cpu_threads` is how many threads burn's CPU
/// backend computes on (1 for the `trainer` bin; the pool's size for the threaded build), so
/// the backend's description says it.
#[cfg(target_arch = "wasm32")]
pub fn start(cpu_threads: usize) {
    console_error_panic_hook::set_once();
    backend::set_cpu_threads(cpu_threads);
    glue::listen();
}

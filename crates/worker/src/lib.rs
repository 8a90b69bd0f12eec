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
//! The rooms, bottom to top: `io` (JavaScript: posting, reading an envelope, yielding, the
//! clock) and `control` (pause and stop); `job` (a command as a `Job`: the pure `plan`, tested
//! natively) and `convert` (protocol <-> core, tested natively); `backend` (which device);
//! `explain` (the kept model's question queue), `driver` (a run or an evaluation), `pretext`
//! (self-supervised pretraining) and `gan` (a GAN on the training images); at the top `dispatch`, the message loop, which imports the
//! others and is imported by none. No room imports one above it (the tidy test checks that the
//! rooms import each other in no circle).

// Used by the other rooms in the browser; natively only its tests use it.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod convert;

// The pure rules: built natively so their tests run there.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod job;

#[cfg(target_arch = "wasm32")]
mod backend;
#[cfg(target_arch = "wasm32")]
mod control;
#[cfg(target_arch = "wasm32")]
mod dispatch;
#[cfg(target_arch = "wasm32")]
mod driver;
#[cfg(target_arch = "wasm32")]
mod explain;
#[cfg(target_arch = "wasm32")]
mod gan;
#[cfg(target_arch = "wasm32")]
mod io;
#[cfg(target_arch = "wasm32")]
mod pretext;

/// Installs the message loop and posts `Ready`. `cpu_threads` is how many threads burn's CPU
/// backend computes on (1 for the `trainer` bin; the pool's size for the threaded build), so
/// the backend's description says it.
#[cfg(target_arch = "wasm32")]
pub fn start(cpu_threads: usize) {
    run_constructors_once();
    console_error_panic_hook::set_once();
    backend::set_cpu_threads(cpu_threads);
    dispatch::listen();
}

/// Runs the module's static constructors, once, before anything reads what they register.
///
/// cubecl registers about 3,000 of them with `inventory`. A module that never calls
/// `__wasm_call_ctors` itself is a "command" to wasm-ld, which then wraps every export in a call
/// to all of them: wasm-bindgen's `malloc`, `free` and externref-table exports, which the glue
/// calls for every string and JavaScript object it hands over. On WebGPU that was most of the
/// worker's CPU time (inventory's docs, "WebAssembly and constructors"). Calling it here makes
/// the module a reactor: no export is wrapped. `cargo xtask build` fails if one is.
#[cfg(target_arch = "wasm32")]
fn run_constructors_once() {
    use std::sync::atomic::{AtomicBool, Ordering};
    static DONE: AtomicBool = AtomicBool::new(false);
    unsafe extern "C" {
        fn __wasm_call_ctors();
    }
    if !DONE.swap(true, Ordering::SeqCst) {
        // SAFETY: wasm-ld synthesises `__wasm_call_ctors`, which runs each registered
        // constructor once per call; the flag makes this the only call.
        unsafe { __wasm_call_ctors() }
    }
}

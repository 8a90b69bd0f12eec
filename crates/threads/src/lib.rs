//! The threaded CPU trainer: the same worker rooms as the `trainer` bin, without WebGPU, with
//! burn flex's kernels spread over a rayon pool of wasm threads.
//!
//! Invariant: it computes what the single-threaded trainer computes (same seed, same history
//! up to the order of floating-point sums; `tests/threads.rs` checks it), and only a
//! cross-origin-isolated page (the only kind with `SharedArrayBuffer`) starts it.
//!
//! Entry: `worker.js` (this crate's `js/`) imports the wasm-bindgen module, awaits
//! `initThreadPool(n)` (wasm-bindgen-rayon: n module workers sharing this module's memory), then
//! calls [`start`].

// Exported to JavaScript as `initThreadPool` (wasm-bindgen-rayon's README: re-export it).
#[cfg(target_arch = "wasm32")]
pub use wasm_bindgen_rayon::init_thread_pool;

/// Installs the worker's message loop once the pool exists; `threads` is its size.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn start(threads: usize) {
    breastmnist_worker::start(threads);
}

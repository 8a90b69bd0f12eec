//! The app's edge to the outside world: network, browser storage, files, the address bar and
//! the trainer worker.
//!
//! Nothing here renders. `state` calls these and folds the results into signals; the core
//! crates receive only bytes from here.

pub mod blob;
pub mod cache;
pub mod dataset;
pub mod fetch;
pub mod frame;
pub mod hash;
pub mod locks;
pub mod offline;
pub mod pretrained;
pub mod runs;
pub mod scroll;
pub mod threads;
pub mod url;
pub mod worker;

/// Bytes of the page's wasm linear memory (the soak test reads it from the results).
pub fn wasm_memory_bytes() -> u64 {
    core::arch::wasm32::memory_size(0) as u64 * 65536
}

//! The `trainer` bin that Trunk builds: the worker's rooms (the library) on WebGPU or one CPU
//! thread.

#[cfg(target_arch = "wasm32")]
fn main() {
    breastmnist_worker::start(1);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the trainer is a Web Worker; it runs in the browser only");
}

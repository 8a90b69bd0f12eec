//! The training worker. It owns the burn device and the `Trainer`, and talks to the page only
//! through `breastmnist_protocol` messages, so CPU training never blocks the page and the
//! page's bundle never carries burn.
//!
//! One command at a time: `start` (with the verified dataset bytes) runs the trainer step by
//! step, yielding to the event loop between steps so `pause`, `resume` and `stop` arrive.

// Used by `worker` in the browser; natively only its tests use it.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod convert;
#[cfg(target_arch = "wasm32")]
mod worker;

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    worker::listen();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the trainer is a Web Worker; it runs in the browser only");
}

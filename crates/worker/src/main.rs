//! The training worker. It owns the burn device and the `Trainer`, and talks to the page only
//! through `breastmnist_protocol` messages, so CPU training never blocks the page and the
//! page's bundle never carries burn.
//!
//! One run at a time: `start` (with the verified dataset bytes) runs the trainer step by step,
//! yielding to the event loop between steps so `pause`, `unpause` and `stop` arrive; once a run
//! is done its model answers the explorer's questions.
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

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    glue::listen();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the trainer is a Web Worker; it runs in the browser only");
}

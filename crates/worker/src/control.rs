//! The run's switches: pause and stop, flipped by the dispatcher when those commands arrive and
//! read by a run between two steps.
//!
//! It must not know what a run computes.

use std::cell::Cell;

use breastmnist_protocol::FromWorker;

use crate::io::{post, yield_now};

/// The run's switches, flipped by the message loop and read by the driver between steps.
#[derive(Default)]
pub struct Control {
    pub paused: Cell<bool>,
    pub stop: Cell<bool>,
    /// A run is in progress (the dispatcher refuses a second one).
    pub running: Cell<bool>,
}

impl Control {
    /// Between two steps of a loop: `false` once stopped (after posting `Stopped`); while
    /// paused, waits here.
    pub async fn go_on(&self) -> bool {
        loop {
            if self.stop.get() {
                post(&FromWorker::Stopped, None);
                return false;
            }
            if !self.paused.get() {
                return true;
            }
            yield_now(100).await;
        }
    }
}

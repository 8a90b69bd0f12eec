//! Rendering in stages: run something once the browser has painted a few more frames, so a large
//! page is built over several short tasks instead of one long one (`components::lazy`'s
//! `stage`). It renders nothing itself.

use std::time::Duration;

use leptos::prelude::{request_animation_frame, set_timeout};

/// Runs `f` after `frames` more frames have been painted (0: now). Each step waits for the next
/// animation frame, then for the task after it, so the frame's layout and paint come first.
pub fn after_frames(frames: u32, f: impl FnOnce() + 'static) {
    if frames == 0 {
        return f();
    }
    request_animation_frame(move || set_timeout(move || after_frames(frames - 1, f), Duration::ZERO));
}

/// Calls `step` once per painted frame, from the next one, while it returns `true`.
pub fn each_frame(mut step: impl FnMut() -> bool + 'static) {
    after_frames(1, move || {
        if step() {
            each_frame(step);
        }
    });
}

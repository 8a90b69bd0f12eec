//! Which tab owns the stored run: the first launch in a tab asks for the run's Web Lock
//! (`runtime::locks`); while another tab holds it the launch waits, and the reader can take the
//! run over (which stops the other tab's run) or stay out. The decisions are
//! `view::control::RunControl`'s; this carries them out.

use leptos::prelude::*;
use leptos::task::spawn_local;

use breastmnist_protocol::FromWorker;

use super::{Launch, TrainCtx, now_ms};
use crate::runtime::locks::{self, Acquire};
use crate::view::control::Go;

impl TrainCtx {
    /// Launches once this tab owns the stored run: at once if it does, else after asking for it
    /// (another tab owning it makes the launch wait for [`TrainCtx::take_over`]).
    pub(super) fn launch(self, launch: Launch) {
        let go = self.control.try_update(|c| c.request(launch));
        match go {
            Some(Go::Now(launch)) => self.launch_owned(launch),
            Some(Go::Claim) => spawn_local(self.claim(false)),
            None => {}
        }
    }

    /// Starts the waiting launch here, taking the run from the other tab.
    pub fn take_over(self) {
        spawn_local(self.claim(true));
    }

    /// Forgets the waiting launch.
    pub fn stay_out(self) {
        self.control.update(|c| c.stay_out());
    }

    async fn claim(self, steal: bool) {
        match locks::acquire(steal, move || self.lost()).await {
            Acquire::Held | Acquire::Unsupported => {
                self.stored_elsewhere.set(false);
                if let Some(launch) = self.control.try_update(|c| c.claimed()).flatten() {
                    self.launch_owned(launch);
                }
            }
            Acquire::Busy => self.control.update(|c| c.busy()),
        }
    }

    /// Another tab took the run over: training here stops and nothing more is stored.
    fn lost(self) {
        self.control.update(|c| c.lost());
        if self.run.with_untracked(|r| r.phase.is_active()) {
            self.link.close();
            self.run.update(|r| r.apply(&FromWorker::Stopped, now_ms()));
        }
    }
}

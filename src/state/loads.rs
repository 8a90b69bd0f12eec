//! Numbered loads: each new load cancels the download of the one before it, and a load's
//! result is shown only while it is still the latest. `DataCtx` (the article's dataset) and
//! `BeyondCtx` (another MedMNIST set) both load this way.

use leptos::prelude::*;

use crate::runtime::dataset::LoadError;
use crate::runtime::fetch::Cancel;

/// Where a dataset is on its way into the page.
#[derive(Clone, Debug, PartialEq)]
pub enum LoadPhase {
    Idle,
    Downloading { received: u64, total: Option<u64> },
    Verifying,
    Ready,
    Failed(LoadError),
}

/// The count of loads and the latest one's cancel handle. `Copy`.
#[derive(Clone, Copy)]
pub struct Loads {
    generation: StoredValue<u64>,
    cancel: StoredValue<Option<Cancel>, LocalStorage>,
}

impl Loads {
    pub fn new() -> Self {
        Loads { generation: StoredValue::new(0), cancel: StoredValue::new_local(None) }
    }

    /// Starts a load: the one before it (if still running) is cancelled and its result will be
    /// ignored. Returns this load's generation and its cancel handle.
    pub fn begin(self) -> (u64, Cancel) {
        let cancel = Cancel::new();
        if let Some(old) = self.cancel.get_value() {
            old.cancel();
        }
        self.cancel.set_value(Some(cancel.clone()));
        self.generation.update_value(|g| *g += 1);
        (self.generation.get_value(), cancel)
    }

    /// Whether load `generation` is still the latest.
    pub fn current(self, generation: u64) -> bool {
        self.generation.get_value() == generation
    }

    /// The `on_verify` and `progress` callbacks of a download of load `generation`: they move
    /// `phase` to verifying and to the bytes received, while the load is the latest.
    pub fn reporting(
        self,
        generation: u64,
        phase: RwSignal<LoadPhase>,
    ) -> (impl FnOnce() + 'static, impl FnMut(u64, Option<u64>) + 'static) {
        let verifying = move || {
            if self.current(generation) {
                phase.set(LoadPhase::Verifying)
            }
        };
        let progress = move |received, total| {
            if self.current(generation) {
                phase.set(LoadPhase::Downloading { received, total })
            }
        };
        (verifying, progress)
    }
}

//! The dataset as the page holds it: where loading is ([`LoadPhase`]), the verified file once
//! loaded, and the variant (28 or 64 px) chosen. Every widget that shows samples reads it.
//! Loads are numbered: a newer one (another resolution, a picked file, Retry) cancels the
//! download of an older one, whose result is then ignored.

use std::sync::Arc;

use breastmnist_data::Variant;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen_futures::JsFuture;
use web_sys::File;

use crate::runtime::dataset::{LoadError, Loaded, load_local, load_official};
use crate::runtime::fetch::Cancel;
pub use crate::state::loads::LoadPhase;
use crate::state::loads::Loads;
use crate::view::audit::AuditPhase;

/// The loaded dataset, shared with every widget that shows samples.
#[derive(Clone, Copy)]
pub struct DataCtx {
    pub phase: RwSignal<LoadPhase>,
    pub loaded: RwSignal<Option<Arc<Loaded>>>,
    pub variant: RwSignal<Variant>,
    /// The data audit of the loaded file (near-duplicates within and across splits), computed
    /// off the main thread once the file is verified.
    pub audit: RwSignal<AuditPhase>,
    /// Numbers the loads: only the latest one's result is shown, and a newer one aborts its
    /// download.
    loads: Loads,
}

impl DataCtx {
    pub fn new() -> Self {
        Self {
            phase: RwSignal::new(LoadPhase::Idle),
            loaded: RwSignal::new(None),
            variant: RwSignal::new(
                crate::runtime::url::param("res")
                    .and_then(|r| r.parse().ok())
                    .and_then(Variant::from_side)
                    .filter(|v| Variant::SERVED.contains(v))
                    .unwrap_or(Variant::Px28),
            ),
            audit: RwSignal::new(AuditPhase::Waiting),
            loads: Loads::new(),
        }
    }

    /// Fetches (or takes from cache) the official file of the selected variant.
    pub fn load(self) {
        let variant = self.variant.get_untracked();
        let (generation, cancel) = self.loads.begin();
        self.phase.set(LoadPhase::Downloading { received: 0, total: variant.size() });
        spawn_local(async move {
            let (on_verify, progress) = self.loads.reporting(generation, self.phase);
            let result = load_official(variant, on_verify, progress, &cancel).await;
            self.finish(generation, result);
        });
    }

    /// Reads a local file and accepts it if it is an official one. A file larger than every
    /// official file is refused before a byte of it is read.
    pub fn load_file(self, file: File) {
        let (generation, _) = self.loads.begin();
        let name = file.name();
        let limit = Variant::ALL.into_iter().filter_map(Variant::size).max().unwrap_or(0);
        if file.size() > limit as f64 {
            let too_large = LoadError::TooLarge { name, bytes: file.size() as u64, limit };
            return self.finish(generation, Err(too_large));
        }
        self.phase.set(LoadPhase::Verifying);
        spawn_local(async move {
            let result = match JsFuture::from(file.array_buffer()).await {
                Ok(buf) => load_local(name, &js_sys::Uint8Array::new(&buf).to_vec()).await,
                Err(e) => Err(LoadError::File(format!("{e:?}"))),
            };
            if let Ok(l) = &result
                && self.loads.current(generation)
            {
                self.variant.set(l.variant);
            }
            self.finish(generation, result);
        });
    }

    /// The verified file, its training-split size and image side, once loaded.
    pub fn file(self) -> Option<(Arc<Vec<u8>>, usize, usize)> {
        self.loaded.with_untracked(|l| l.as_ref().map(|l| (l.file.clone(), l.dataset.train.len(), l.dataset.side)))
    }

    /// The verified official file of `side` px for an experiment: the one already loaded when it
    /// has that side, else the official one (from Cache Storage or the network), loaded beside
    /// the article's without replacing it. `cancel` aborts the download.
    pub async fn file_of(self, side: usize, cancel: &Cancel) -> Result<Arc<Vec<u8>>, String> {
        let loaded = self.loaded.with_untracked(|l| l.as_ref().filter(|l| l.dataset.side == side).map(|l| l.file.clone()));
        if let Some(file) = loaded {
            return Ok(file);
        }
        let variant = Variant::from_side(side).ok_or_else(|| format!("there is no official {side} px file"))?;
        load_official(variant, || {}, |_, _| {}, cancel).await.map(|l| l.file).map_err(|e| e.to_string())
    }

    /// Shows the outcome of load `generation`, unless a newer load replaced it.
    fn finish(self, generation: u64, result: Result<Loaded, LoadError>) {
        if !self.loads.current(generation) {
            return;
        }
        match result {
            Ok(loaded) => {
                let file = loaded.file.clone();
                self.loaded.set(Some(Arc::new(loaded)));
                self.phase.set(LoadPhase::Ready);
                self.audit_file(generation, file);
            }
            Err(e) => self.phase.set(LoadPhase::Failed(e)),
        }
    }

    /// Audits the verified file of load `generation` in the verifier worker.
    fn audit_file(self, generation: u64, file: Arc<Vec<u8>>) {
        self.audit.set(AuditPhase::Running);
        spawn_local(async move {
            let result = crate::runtime::hash::audit(&file).await;
            if self.loads.current(generation) {
                self.audit.set(match result {
                    Ok(a) => AuditPhase::Done(Arc::new(a)),
                    Err(e) => AuditPhase::Failed(e),
                });
            }
        });
    }
}

//! "Beyond BreastMNIST": the other MedMNIST 2D set the reader picked, loaded and verified
//! beside the article's dataset (never replacing it), and one run of the reader recipe on it in
//! a trainer worker of its own (a one-job `state::series`), with its downloads and Grad-CAM of
//! a few test images (the job, and so its worker and model, lasts until the next run or pick).
//!
//! Loads are numbered like `DataCtx`'s: a newer pick cancels an older download and its result
//! is ignored. A new pick or a new run stops the running one.

use std::sync::Arc;

use breastmnist_data::Flag;
use breastmnist_protocol::{BackendChoice, Explained, FromWorker, ModelKind, Split, ToWorker};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen_futures::JsFuture;
use web_sys::File;

use crate::runtime::blob::object_url;
use crate::runtime::dataset::{CatalogFile, LoadError, Origin, load_catalog, load_catalog_local};
use crate::runtime::fetch::Cancel;
use crate::runtime::url::param;
use crate::runtime::worker::{Outgoing, Report};
use crate::state::data::LoadPhase;
use crate::state::loads::Loads;
use crate::state::series::{Jobs, Series};
use crate::view::beyond::{Card, Run, Status, file_too_large, flags, request, too_large};
use crate::view::cam_choice::{Chooser, explain_picks};

/// A download of the run: what it is, its file name and its `blob:` URL.
#[derive(Clone, Debug, PartialEq)]
pub struct Download {
    pub what: &'static str,
    pub name: String,
    pub url: String,
}

/// Grad-CAM of a few test images of the run's kept model: what the worker said, and the maps.
#[derive(Clone, Debug, PartialEq)]
pub struct Explanation {
    pub info: Explained,
    pub maps: Vec<u8>,
}

/// Where Grad-CAM of the run's test images is.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Explaining {
    #[default]
    Waiting,
    Asked,
    Done(Arc<Explanation>),
    Failed(String),
}

/// The section's state, provided in context; `Copy`.
#[derive(Clone, Copy)]
pub struct BeyondCtx {
    /// The set picked (`None` until the reader picks one).
    pub flag: RwSignal<Option<Flag>>,
    /// Where the latest load fetches from.
    pub origin: RwSignal<Origin>,
    pub phase: RwSignal<LoadPhase>,
    pub loaded: RwSignal<Option<Arc<CatalogFile>>>,
    pub card: RwSignal<Option<Arc<Card>>>,
    pub model: RwSignal<ModelKind>,
    pub epochs: RwSignal<usize>,
    pub run: RwSignal<Run>,
    pub downloads: RwSignal<Vec<Download>>,
    pub explaining: RwSignal<Explaining>,
    /// The class whose Grad-CAM maps are shown; `None`: each image's predicted class.
    pub cam_class: RwSignal<Option<usize>>,
    /// The reader's choice of test images to explain next.
    pub chooser: RwSignal<Chooser>,
    backend: BackendChoice,
    series: Series,
    loads: Loads,
}

impl BeyondCtx {
    /// The section's state; `?other=FLAG` picks (and loads) a set at once.
    pub fn new() -> Self {
        let ctx = BeyondCtx {
            flag: RwSignal::new(None),
            origin: RwSignal::new(Origin::ThisServer),
            phase: RwSignal::new(LoadPhase::Idle),
            loaded: RwSignal::new(None),
            card: RwSignal::new(None),
            model: RwSignal::new(ModelKind::C8),
            epochs: RwSignal::new(1),
            run: RwSignal::new(Run::default()),
            downloads: RwSignal::new(Vec::new()),
            explaining: RwSignal::new(Explaining::Waiting),
            cam_class: RwSignal::new(None),
            chooser: RwSignal::new(Chooser::default()),
            backend: param("backend").as_deref().and_then(BackendChoice::parse_loose).unwrap_or_default(),
            series: Series::new(),
            loads: Loads::new(),
        };
        if let Some(flag) = param("other").and_then(|f| Flag::parse(&f)).filter(|f| flags().any(|o| o == *f)) {
            ctx.pick(flag);
        }
        ctx
    }

    /// Forgets the loaded set and its run (stopping it).
    fn clear(self) {
        self.stop();
        self.set_downloads(Vec::new());
        self.run.set(Run::default());
        self.explaining.set(Explaining::Waiting);
        self.chooser.set(Chooser::default());
        self.loaded.set(None);
        self.card.set(None);
    }

    /// Picks `flag`: loads its official 28 px file from this app's server (or the browser's
    /// cache), unless the tab cannot hold it (the section then says why).
    pub fn pick(self, flag: Flag) {
        self.load(flag, Origin::ThisServer);
    }

    /// Downloads the picked set's official file from Zenodo, in the tab (offered where this
    /// server has no copy).
    pub fn download_official(self) {
        if let Some(flag) = self.flag.get_untracked() {
            self.load(flag, Origin::Zenodo);
        }
    }

    fn load(self, flag: Flag, origin: Origin) {
        self.clear();
        self.flag.set(Some(flag));
        self.origin.set(origin);
        let (generation, cancel) = self.loads.begin();
        if too_large(flag).is_some() {
            return self.phase.set(LoadPhase::Idle);
        }
        self.phase.set(LoadPhase::Downloading { received: 0, total: None });
        spawn_local(async move {
            let (on_verify, progress) = self.loads.reporting(generation, self.phase);
            let result = load_catalog(flag, origin, on_verify, progress, &cancel).await;
            self.finish(generation, result);
        });
    }

    /// Reads a local file and accepts it when its MD5 is an official 28 px file this section
    /// offers; the set it is becomes the one picked. A file larger than the largest offered set
    /// could be is refused before a byte of it is read.
    pub fn pick_file(self, file: File) {
        self.clear();
        self.flag.set(None);
        let (generation, _) = self.loads.begin();
        let name = file.name();
        if let Some(why) = file_too_large(file.size() as u64) {
            return self.finish(generation, Err(LoadError::NotOffered { name, why }));
        }
        self.phase.set(LoadPhase::Verifying);
        spawn_local(async move {
            let result = match JsFuture::from(file.array_buffer()).await {
                Ok(buf) => load_catalog_local(name, &js_sys::Uint8Array::new(&buf).to_vec()).await,
                Err(e) => Err(LoadError::File(format!("{e:?}"))),
            };
            self.finish(generation, result);
        });
    }

    fn finish(self, generation: u64, result: Result<CatalogFile, LoadError>) {
        if !self.loads.current(generation) {
            return;
        }
        match result {
            Ok(file) => {
                let card = Card::of(file.flag, &file.dataset);
                self.epochs.set(card.default_epochs());
                self.flag.set(Some(file.flag));
                self.card.set(Some(Arc::new(card)));
                self.loaded.set(Some(Arc::new(file)));
                self.phase.set(LoadPhase::Ready);
            }
            Err(e) => self.phase.set(LoadPhase::Failed(e)),
        }
    }

    /// Trains the reader recipe on the loaded set, in a worker of its own.
    pub fn start(self) {
        if self.loaded.with_untracked(Option::is_none) || self.run.with_untracked(Run::is_running) {
            return;
        }
        self.set_downloads(Vec::new());
        self.explaining.set(Explaining::Waiting);
        self.run.set(Run::starting(self.epochs.get_untracked()));
        self.series.start(self);
    }

    /// Asks the run's worker for Grad-CAM of the test images the reader chose for this set, or
    /// else of the first two of each class (the model it kept stays there until the next run or
    /// pick).
    fn explain(self) {
        let chosen = self.chooser.with_untracked(|c| c.chosen.clone());
        if !chosen.is_empty() {
            return self.ask(chosen);
        }
        let picks = self.loaded.with_untracked(|l| {
            l.as_ref().map(|l| {
                let test = &l.dataset.test;
                explain_picks(&test.labels, test.width, l.flag.entry().classes())
            })
        });
        let Some(indices) = picks.filter(|p| !p.is_empty()) else { return };
        self.chooser.set(Chooser::with(indices.clone()));
        self.ask(indices);
    }

    /// Asks the run's worker for Grad-CAM of the test images the reader chose.
    pub fn explain_chosen(self) {
        let indices = self.chooser.with_untracked(|c| c.chosen.clone());
        if !indices.is_empty() && !matches!(self.explaining.get_untracked(), Explaining::Asked | Explaining::Waiting) {
            self.ask(indices);
        }
    }

    fn ask(self, indices: Vec<usize>) {
        self.cam_class.set(None);
        let stage = self.run.with_untracked(Run::cam_stage);
        let ask = ToWorker::ExplainImages { split: Split::Test, stage, indices };
        self.explaining.set(match self.series.send(ask) {
            Ok(()) => Explaining::Asked,
            Err(e) => Explaining::Failed(e),
        });
    }

    /// Stops the run: its worker ends; what it reported stays.
    pub fn stop(self) {
        self.series.stop();
        if self.run.with_untracked(Run::is_running) {
            self.run.update(|r| r.status = Status::Failed("stopped".into()));
        }
    }

    fn set_downloads(self, next: Vec<Download>) {
        for d in self.downloads.get_untracked() {
            let _ = web_sys::Url::revoke_object_url(&d.url);
        }
        self.downloads.set(next);
    }

    fn add_download(self, what: &'static str, name: String, mime: &str, bytes: &[u8]) {
        if let Ok(url) = object_url(mime, bytes) {
            self.downloads.update(|d| d.push(Download { what, name, url }));
        }
    }
}

impl Jobs for BeyondCtx {
    fn count(self) -> usize {
        1
    }

    async fn prepare(self, _: usize, _: Cancel) -> Result<Outgoing, String> {
        let (flag, file) =
            self.loaded.with_untracked(|l| l.as_ref().map(|l| (l.flag, l.file.clone()))).ok_or("no dataset is loaded")?;
        let req = request(flag, self.model.get_untracked(), self.epochs.get_untracked(), 0, self.backend);
        Ok(Outgoing { cmd: ToWorker::Start(req), bytes: Some(file), init: None, extra: Vec::new() })
    }

    fn failed(self, _: usize, why: String) {
        self.run.update(|r| r.status = Status::Failed(why));
    }

    fn report(self, _: usize, report: Report) -> bool {
        match (&report.msg, &report.bytes) {
            (FromWorker::Checkpoint { name, .. }, Some(b)) => {
                self.add_download("checkpoint", name.clone(), "application/octet-stream", b)
            }
            (FromWorker::Weights { name }, Some(b)) => {
                self.add_download("PyTorch weights", name.clone(), "application/octet-stream", b)
            }
            (FromWorker::Done(d), _) => {
                let name = self.loaded.with_untracked(|l| {
                    l.as_ref().map_or_else(String::new, |l| format!("{}-{}-seed0-", l.flag, self.model.get_untracked()))
                });
                self.add_download("metrics JSON", format!("{name}metrics.json"), "application/json", d.metrics_json.as_bytes());
                for f in &d.result_files {
                    let what = if f.split() == Some(breastmnist_protocol::Split::Val) {
                        "val scores (MedMNIST CSV)"
                    } else {
                        "test scores (MedMNIST CSV)"
                    };
                    self.add_download(what, f.name.clone(), "text/csv", f.contents.as_bytes());
                }
            }
            _ => {}
        }
        match (report.msg, report.bytes) {
            (FromWorker::Explained(info), Some(maps)) if info.maps_len() == maps.len() => {
                self.explaining.set(Explaining::Done(Arc::new(Explanation { info, maps })));
                false
            }
            (FromWorker::Explained(_), _) => {
                self.explaining.set(Explaining::Failed("the worker sent maps of the wrong size".into()));
                false
            }
            (FromWorker::ExplainFailed(e), _) => {
                self.explaining.set(Explaining::Failed(e.message));
                false
            }
            (msg, _) => {
                if let FromWorker::Failed(e) = &msg
                    && self.explaining.get_untracked() == Explaining::Asked
                {
                    // The worker failed while it explained: the run stays done (`Run::apply`).
                    self.explaining.set(Explaining::Failed(e.message.clone()));
                }
                let mut ended = false;
                self.run.update(|r| ended = r.apply(&msg));
                // A finished run keeps its worker, and the model in it, for Grad-CAM.
                if matches!(msg, FromWorker::Done(_)) {
                    self.explain();
                    return false;
                }
                ended
            }
        }
    }

    fn finished(self) {}
}

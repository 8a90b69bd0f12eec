//! The reader's run: the form draft, the run as shown ([`RunView`]), its exports, the imported
//! checkpoint, and the methods that start, continue, evaluate, discard and steer a run through
//! the trainer worker ([`TrainerLink`]). Every report is folded into the view, and the run is
//! stored after every epoch so a reload finds it, by the one tab that owns the stored run.

use std::sync::Arc;

use breastmnist_protocol::{ErrorKind, FromWorker, Split, ToWorker, TrainRequest, WorkerError};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::runtime::blob::object_url;
use crate::runtime::fetch::Cancel;
use crate::runtime::locks::{self, Acquire};
use crate::runtime::worker::{Outgoing, Report, TrainerLink};
use crate::runtime::{pretrained, runs, url};
use crate::state::data::DataCtx;
use crate::view::draft::Draft;
use crate::view::run::{RunPhase, RunView, SavedRun, looks_like_weights};

/// Download links of a finished run.
#[derive(Clone, Debug, PartialEq)]
pub struct Exports {
    /// The metrics JSON's `blob:` URL; empty after a failure (only the checkpoint is left).
    pub metrics: String,
    /// The kept checkpoint's file name and URL.
    pub checkpoint: Option<(String, String)>,
    /// The same weights as a PyTorch `.safetensors` state dict: file name and URL.
    pub weights: Option<(String, String)>,
    /// MedMNIST's standard result files: split, file name, URL.
    pub results: Vec<(Split, String, String)>,
}

impl Exports {
    /// Releases every download URL (the page replaced or discarded these downloads).
    pub fn revoke(&self) {
        let urls = [Some(&self.metrics), self.checkpoint.as_ref().map(|c| &c.1), self.weights.as_ref().map(|w| &w.1)];
        for url in urls.into_iter().flatten().chain(self.results.iter().map(|r| &r.2)).filter(|u| !u.is_empty()) {
            let _ = web_sys::Url::revoke_object_url(url);
        }
    }
}

/// The run's state and its controller. Provided in context by the app.
#[derive(Clone, Copy)]
pub struct TrainCtx {
    pub draft: RwSignal<Draft>,
    pub run: RwSignal<RunView>,
    /// Problems with the form, shown next to Start.
    pub form_error: RwSignal<Option<String>>,
    pub exports: RwSignal<Option<Exports>>,
    /// The name of the imported checkpoint (its bytes are kept beside), for fine-tuning.
    pub imported: RwSignal<Option<String>>,
    /// Whether the last run was restored from browser storage after a reload.
    pub restored: RwSignal<bool>,
    /// Why the run's progress could not be stored, if it could not.
    pub storage_error: RwSignal<Option<String>>,
    /// Another tab owns the stored run; a launch waits until the reader takes over.
    pub other_tab: RwSignal<bool>,
    /// Another tab took the run over from this one.
    pub taken_over: RwSignal<bool>,
    /// The stored run shown after a reload belongs to another tab that is training it now.
    pub stored_elsewhere: RwSignal<bool>,
    /// Why the stored snapshot cannot be continued (reported once; the reader discards it).
    pub unreadable_snapshot: RwSignal<Option<String>>,
    data: DataCtx,
    link: TrainerLink,
    checkpoint: StoredValue<Option<(String, Vec<u8>)>, LocalStorage>,
    /// The kept model as `.safetensors` (sent by the worker with each checkpoint; not stored).
    weights: StoredValue<Option<(String, Vec<u8>)>, LocalStorage>,
    imported_bytes: StoredValue<Option<Vec<u8>>, LocalStorage>,
    /// The file being imported, adopted once its evaluation succeeds.
    importing: StoredValue<Option<(String, Vec<u8>)>, LocalStorage>,
    /// What the page showed before the current launch, put back if it fails with nothing of
    /// its own: nothing is cleared or stored until a new run or import reports something.
    previous: StoredValue<Option<Kept>, LocalStorage>,
    /// Whether the current worker has sent anything worth keeping (a snapshot, a checkpoint,
    /// results).
    produced: StoredValue<bool>,
    /// Whether this tab owns the stored run (`runtime::locks`).
    owner: StoredValue<bool>,
    /// Whether the current launch continues a stored snapshot.
    continuing: StoredValue<bool>,
    /// A launch waiting for the reader to take the run over from another tab.
    waiting: StoredValue<Option<Launch>, LocalStorage>,
    /// A served starting point is being fetched for a Start (a second press waits for it).
    fetching_start: StoredValue<bool>,
}

/// A launch: what the page shows at first, the command, and its second buffer.
#[derive(Clone)]
struct Launch {
    initial: RunView,
    cmd: ToWorker,
    init: Option<Vec<u8>>,
}

/// The page's run before a launch.
#[derive(Clone)]
struct Kept {
    run: RunView,
    exports: Option<Exports>,
    checkpoint: Option<(String, Vec<u8>)>,
    restored: bool,
}

/// The narrowest view of the run, for widgets that only show its result (the benchmark table).
#[derive(Clone, Copy)]
pub struct RunReadout(pub ReadSignal<RunView>);

fn now_ms() -> f64 {
    js_sys::Date::now()
}

impl TrainCtx {
    pub fn new(data: DataCtx, link: TrainerLink) -> Self {
        let ctx = Self {
            draft: RwSignal::new(Draft::from_query(url::param)),
            run: RwSignal::new(RunView::default()),
            form_error: RwSignal::new(None),
            exports: RwSignal::new(None),
            imported: RwSignal::new(None),
            restored: RwSignal::new(false),
            storage_error: RwSignal::new(None),
            other_tab: RwSignal::new(false),
            taken_over: RwSignal::new(false),
            stored_elsewhere: RwSignal::new(false),
            unreadable_snapshot: RwSignal::new(None),
            data,
            link,
            checkpoint: StoredValue::new_local(None),
            weights: StoredValue::new_local(None),
            imported_bytes: StoredValue::new_local(None),
            importing: StoredValue::new_local(None),
            previous: StoredValue::new_local(None),
            produced: StoredValue::new(false),
            owner: StoredValue::new(false),
            continuing: StoredValue::new(false),
            waiting: StoredValue::new_local(None),
            fetching_start: StoredValue::new(false),
        };
        ctx.restore();
        ctx
    }

    pub fn readout(self) -> RunReadout {
        RunReadout(self.run.read_only())
    }

    /// Shows the run stored by an earlier visit, if any.
    fn restore(self) {
        spawn_local(async move {
            let Some(saved) = runs::load().await else { return };
            let elsewhere = locks::held_elsewhere().await;
            if self.run.with_untracked(|s| s.phase != RunPhase::Idle) {
                return;
            }
            self.stored_elsewhere.set(elsewhere);
            // A finished run's kept model, or a failed run's best one.
            let ckpt = match (saved.done.is_some() || saved.failure.is_some(), &saved.checkpoint_name) {
                (true, Some(name)) => runs::checkpoint().await.map(|b| (name.clone(), b)),
                _ => None,
            };
            let run = RunView::restored(saved);
            self.checkpoint.set_value(ckpt);
            self.publish_exports(&run);
            self.run.set(run);
            self.restored.set(true);
        });
    }

    /// The downloads of `run`: the metrics JSON and checkpoint of a finished run, the best
    /// checkpoint of a failed one.
    fn publish_exports(self, run: &RunView) {
        let metrics = run.done.as_ref().and_then(|d| object_url("application/json", d.metrics_json.as_bytes()).ok());
        let results = run.done.iter().flat_map(|d| &d.result_files).filter_map(|f| {
            let url = object_url("text/csv", f.contents.as_bytes()).ok()?;
            Some((f.split()?, f.name.clone(), url))
        });
        let results: Vec<_> = results.collect();
        let checkpoint = self.checkpoint_url();
        let weights = self.weights.with_value(|w| {
            w.as_ref().and_then(|(name, b)| object_url("application/octet-stream", b).ok().map(|u| (name.clone(), u)))
        });
        if metrics.is_some() || checkpoint.is_some() {
            let exports = Exports { metrics: metrics.unwrap_or_default(), checkpoint, weights, results };
            if let Some(old) = self.exports.get_untracked() {
                old.revoke();
            }
            self.exports.set(Some(exports));
        }
    }

    /// The verified dataset file, its training-split size and side; else a form error.
    fn dataset(self) -> Option<(Arc<Vec<u8>>, usize, usize)> {
        let found = self.data.file();
        if found.is_none() {
            self.form_error.set(Some("Wait until the dataset above is loaded and verified.".into()));
        }
        found
    }

    /// Validates the form and starts a fresh worker for the run: from fresh weights, the
    /// imported checkpoint, or a served starting point (fetched and verified first).
    pub fn start(self) {
        let Some((_, train_len, _)) = self.dataset() else { return };
        let draft = self.draft.get_untracked();
        let mut request = match draft.validate(train_len) {
            Ok(r) => r,
            Err(e) => return self.form_error.set(Some(e)),
        };
        if draft.fine_tune {
            let Some(bytes) = self.imported_bytes.get_value() else {
                let e = "Fine-tuning starts from a checkpoint: import one first.";
                return self.form_error.set(Some(e.into()));
            };
            request.init_name = self.imported.get_untracked();
            return self.launch_start(request, Some(bytes));
        }
        let Some(point) = draft.served() else { return self.launch_start(request, None) };
        if self.fetching_start.get_value() {
            return;
        }
        self.fetching_start.set_value(true);
        spawn_local(async move {
            let loaded = pretrained::load(point, &Cancel::new()).await;
            self.fetching_start.set_value(false);
            match loaded {
                Ok(bytes) => self.launch_start(request, Some(bytes)),
                Err(e) => self.form_error.set(Some(format!(
                    "The starting point {} could not be loaded ({e}); nothing was started. Choose \"fresh weights\" \
                     under Start from to train without it.",
                    point.url()
                ))),
            }
        });
    }

    /// Launches a fresh run of `request`, starting from `init` when it fine-tunes.
    fn launch_start(self, request: TrainRequest, init: Option<Vec<u8>>) {
        self.launch(RunView::starting(request.clone()), ToWorker::Start(request), init);
    }

    /// Continues the interrupted run from its stored snapshot, on the backend now chosen.
    pub fn continue_run(self) {
        let Some((_, _, side)) = self.dataset() else { return };
        let run = self.run.get_untracked();
        let backend = self.draft.with_untracked(|d| d.backend);
        spawn_local(async move {
            let Some(snapshot) = runs::snapshot().await else {
                let e = "The run's snapshot is no longer in this browser's storage.";
                return self.form_error.set(Some(e.into()));
            };
            if let Some(saved_side) = runs::load().await.map(|r| r.side).filter(|&s| s != side) {
                return self.form_error.set(Some(format!(
                    "This run trained on {saved_side} px images: choose {saved_side} px above before continuing."
                )));
            }
            let next = run.continuing(backend);
            let Some(request) = next.request.clone() else { return };
            self.launch(next, ToWorker::Continue(request), Some(snapshot));
        });
    }

    /// Evaluates a checkpoint file and keeps it for the explorer and for fine-tuning.
    pub fn import(self, name: String, bytes: Vec<u8>) {
        if self.dataset().is_none() {
            return;
        }
        // A quick look before anything is replaced.
        if !looks_like_weights(&bytes) {
            return self.form_error.set(Some(format!(
                "{name} is not a model file (a BreastMNIST Lab .ckpt, or a PyTorch state_dict as .safetensors or .pt); \
                 nothing was changed."
            )));
        }
        let request: TrainRequest = match self.draft.get_untracked().validate(546) {
            Ok(r) => r,
            Err(e) => return self.form_error.set(Some(e)),
        };
        self.importing.set_value(Some((name.clone(), bytes.clone())));
        let cmd = ToWorker::Evaluate { backend: request.backend, name: name.clone(), tta: request.tta };
        self.launch(RunView::evaluating(&name, request), cmd, Some(bytes));
    }

    /// Forgets the stored run.
    pub fn discard(self) {
        self.unreadable_snapshot.set(None);
        self.link.close();
        self.run.set(RunView::default());
        if let Some(old) = self.exports.get_untracked() {
            old.revoke();
        }
        self.exports.set(None);
        self.restored.set(false);
        spawn_local(runs::clear());
    }

    /// Loads the restored run's checkpoint into a worker so the explorer can use it.
    pub fn explore_restored(self) {
        let Some((name, bytes)) = self.checkpoint.get_value() else { return };
        self.import(name, bytes);
    }

    /// Pauses or un-pauses the run.
    pub fn toggle_pause(self) {
        let cmd = if self.run.with_untracked(|s| s.phase == RunPhase::Paused) { ToWorker::Unpause } else { ToWorker::Pause };
        self.send(cmd);
    }

    pub fn stop(self) {
        self.send(ToWorker::Stop);
    }

    fn send(self, cmd: ToWorker) {
        if let Err(e) = self.link.send(cmd) {
            self.fail(e);
        }
    }

    fn fail(self, e: WorkerError) {
        self.run.update(|s| s.apply(&FromWorker::Failed(e), now_ms()));
    }

    /// Launches once this tab owns the stored run: at once if it does, else after asking for it
    /// (another tab owning it makes the launch wait for [`TrainCtx::take_over`]).
    fn launch(self, initial: RunView, cmd: ToWorker, init: Option<Vec<u8>>) {
        if self.owner.get_value() {
            return self.launch_owned(initial, cmd, init);
        }
        self.waiting.set_value(Some(Launch { initial, cmd, init }));
        spawn_local(self.claim(false));
    }

    /// Starts the waiting launch here, taking the run from the other tab.
    pub fn take_over(self) {
        spawn_local(self.claim(true));
    }

    /// Forgets the waiting launch.
    pub fn stay_out(self) {
        self.waiting.set_value(None);
        self.other_tab.set(false);
    }

    async fn claim(self, steal: bool) {
        match locks::acquire(steal, move || self.lost()).await {
            Acquire::Held | Acquire::Unsupported => {
                self.owner.set_value(true);
                self.other_tab.set(false);
                self.stored_elsewhere.set(false);
                self.taken_over.set(false);
                if let Some(Launch { initial, cmd, init }) = self.waiting.get_value() {
                    self.waiting.set_value(None);
                    self.launch_owned(initial, cmd, init);
                }
            }
            Acquire::Busy => self.other_tab.set(true),
        }
    }

    /// Another tab took the run over: training here stops and nothing more is stored.
    fn lost(self) {
        self.owner.set_value(false);
        self.taken_over.set(true);
        if self.run.with_untracked(|r| r.phase.is_active()) {
            self.link.close();
            self.run.update(|r| r.apply(&FromWorker::Stopped, now_ms()));
        }
    }

    fn launch_owned(self, initial: RunView, cmd: ToWorker, init: Option<Vec<u8>>) {
        let Some((file, _, side)) = self.dataset() else { return };
        crate::runtime::cache::request_persistence();
        self.previous.set_value(Some(Kept {
            run: self.run.get_untracked(),
            exports: self.exports.get_untracked(),
            checkpoint: self.checkpoint.get_value(),
            restored: self.restored.get_untracked(),
        }));
        self.produced.set_value(false);
        self.continuing.set_value(matches!(cmd, ToWorker::Continue(_)));
        self.unreadable_snapshot.set(None);
        self.form_error.set(None);
        self.exports.set(None);
        self.restored.set(false);
        self.checkpoint.set_value(None);
        self.weights.set_value(None);
        self.run.set(initial);
        let first = Outgoing { cmd, bytes: Some(file), init, extra: Vec::new() };
        if let Err(e) = self.link.launch(first, move |report| self.on_report(report, side)) {
            self.fail(e);
        }
    }

    /// Folds a run report in and keeps what it carries (checkpoint, snapshot) in storage.
    fn on_report(self, report: Report, side: usize) {
        let Report { msg, bytes } = report;
        if matches!(msg, FromWorker::Checkpoint { .. } | FromWorker::Snapshot { .. } | FromWorker::Done(_)) {
            self.produced.set_value(true);
        }
        if let FromWorker::Failed(e) = &msg
            && !self.produced.get_value()
            && self.run.with_untracked(|r| r.evaluated.is_some())
        {
            return self.import_failed(e);
        }
        self.run.update(|s| s.apply(&msg, now_ms()));
        let saved = || self.run.with_untracked(|s| s.saved(side));
        match (&msg, bytes) {
            (FromWorker::Checkpoint { name }, Some(b)) => self.checkpoint.set_value(Some((name.clone(), b))),
            (FromWorker::Weights { name }, Some(b)) => self.weights.set_value(Some((name.clone(), b))),
            (FromWorker::Snapshot { .. }, Some(b)) => {
                // Nothing lost: the state and the snapshot go to storage after every epoch.
                if let Some(saved) = saved() {
                    self.store(async move { runs::save(&saved, Some(&b), None).await });
                }
            }
            (FromWorker::Done(_), _) => {
                self.forget_previous();
                if let Some((name, bytes)) = self.importing.get_value() {
                    self.importing.set_value(None);
                    self.imported_bytes.set_value(Some(bytes));
                    self.imported.set(Some(name));
                }
                self.run.with_untracked(|s| self.publish_exports(s));
                // The worker keeps the chosen model to answer the explorer.
                self.link.announce_model();
                self.save_with_checkpoint(saved());
            }
            (FromWorker::Failed(_), _) if self.produced.get_value() => {
                // A failed run may still have a kept model (NaN loss after some epochs): it
                // stays downloadable, explorable and stored.
                self.forget_previous();
                if self.checkpoint.with_value(Option::is_some) {
                    self.link.announce_model();
                    self.run.with_untracked(|s| self.publish_exports(s));
                }
                self.save_with_checkpoint(saved());
            }
            // A snapshot that cannot be read is not offered again: the reader is told once
            // and can discard it.
            (FromWorker::Failed(e), _) if e.kind == ErrorKind::Checkpoint && self.continuing.get_value() => {
                self.run.update(|r| r.snapshot_epoch = None);
                self.unreadable_snapshot.set(Some(e.message.clone()));
            }
            // Failed before it had anything of its own: storage keeps the previous run.
            (FromWorker::Failed(_), _) => {}
            // A fresh worker per run: a WebGPU device can be initialised once per worker.
            (FromWorker::Stopped, _) => self.link.close(),
            _ => {}
        }
    }

    /// The run before this launch is replaced for good: its download URLs are released.
    fn forget_previous(self) {
        if let Some(Kept { exports: Some(old), .. }) = self.previous.get_value() {
            old.revoke();
        }
        self.previous.set_value(None);
    }

    /// An import that failed: the page goes back to what it showed, storage is untouched.
    fn import_failed(self, e: &WorkerError) {
        let name = self.importing.get_value().map(|(n, _)| n).unwrap_or_default();
        self.importing.set_value(None);
        self.link.close();
        if let Some(kept) = self.previous.get_value() {
            self.previous.set_value(None);
            self.checkpoint.set_value(kept.checkpoint);
            self.exports.set(kept.exports);
            self.restored.set(kept.restored);
            self.run.set(kept.run);
        }
        self.form_error.set(Some(format!("{name} could not be imported: {}. Nothing was changed.", e.message)));
    }

    fn save_with_checkpoint(self, saved: Option<SavedRun>) {
        let Some(saved) = saved else { return };
        let ckpt = self.checkpoint.with_value(|c| c.as_ref().map(|(_, b)| b.clone()));
        self.store(async move { runs::save(&saved, None, ckpt.as_deref()).await });
    }

    /// Runs a storage write (unless another tab owns the run now); a failure shows as a notice
    /// until a later write succeeds.
    fn store(self, write: impl std::future::Future<Output = Result<(), String>> + 'static) {
        if !self.owner.get_value() {
            return;
        }
        spawn_local(async move {
            self.storage_error.set(write.await.err());
        });
    }

    /// The kept checkpoint's name and a download URL for it.
    fn checkpoint_url(self) -> Option<(String, String)> {
        self.checkpoint.with_value(|c| {
            c.as_ref().and_then(|(name, b)| object_url("application/octet-stream", b).ok().map(|u| (name.clone(), u)))
        })
    }
}

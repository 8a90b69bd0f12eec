//! The reader's run: the form draft, the run as shown ([`RunView`]), its downloads
//! ([`exports`]), the imported checkpoint, and the methods that start, continue, evaluate,
//! discard and steer a run through the trainer worker ([`TrainerLink`]).
//!
//! What happens after each report — what is shown, kept aside, put back, stored or released —
//! is decided by the pure [`RunControl`] (`view::control`, where every "nothing is lost" rule is
//! tested); this module carries its effects out. Which tab owns the stored run is
//! [`owner`]'s.

mod exports;
mod owner;

use std::sync::Arc;

use breastmnist_protocol::{FromWorker, ToWorker, TrainRequest, WorkerError};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen_futures::JsFuture;

pub use exports::Exports;

use crate::runtime::fetch::Cancel;
use crate::runtime::worker::{Outgoing, Report, TrainerLink};
use crate::runtime::{pretrained, runs, url};
use crate::state::data::DataCtx;
use crate::view::control::{Effect, LaunchKind, RunControl};
use crate::view::draft::Draft;
use crate::view::run::{RunPhase, RunView, SavedRun, looks_like_weights};

/// The largest file the import accepts (a ResNet-50 checkpoint is about 95 MB).
const IMPORT_LIMIT: f64 = 300e6;

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
    /// Another tab owns the stored run; a launch waits until the reader takes over (read from
    /// the controller's state).
    pub other_tab: Memo<bool>,
    /// Another tab took the run over from this one (read from the controller's state).
    pub taken_over: Memo<bool>,
    /// The stored run shown after a reload belongs to another tab that is training it now.
    pub stored_elsewhere: RwSignal<bool>,
    /// Why the stored snapshot cannot be continued (reported once; the reader discards it).
    pub unreadable_snapshot: RwSignal<Option<String>>,
    data: DataCtx,
    link: TrainerLink,
    /// The tab's ownership and its launch: the one state the rules read (`view::control`).
    control: RwSignal<RunControl<Kept, Launch>, LocalStorage>,
    /// The kept model's checkpoint (name, bytes): stored, downloadable, explorable.
    checkpoint: StoredValue<Option<(String, Vec<u8>)>, LocalStorage>,
    /// The kept model as `.safetensors` (sent by the worker with each checkpoint; not stored).
    weights: StoredValue<Option<(String, Vec<u8>)>, LocalStorage>,
    /// The adopted import's bytes, for fine-tuning.
    imported_bytes: StoredValue<Option<Vec<u8>>, LocalStorage>,
    /// The file being imported, adopted once its evaluation succeeds.
    importing: StoredValue<Option<(String, Vec<u8>)>, LocalStorage>,
}

/// A launch: what it is, what the page shows at first, the command, and its second buffer.
#[derive(Clone)]
struct Launch {
    kind: LaunchKind,
    initial: RunView,
    cmd: ToWorker,
    init: Option<Vec<u8>>,
}

/// The page's run before a launch, kept aside until the launch has something of its own.
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
        let control = RwSignal::new_local(RunControl::default());
        let ctx = Self {
            draft: RwSignal::new(Draft::from_query(url::param)),
            run: RwSignal::new(RunView::default()),
            form_error: RwSignal::new(None),
            exports: RwSignal::new(None),
            imported: RwSignal::new(None),
            restored: RwSignal::new(false),
            storage_error: RwSignal::new(None),
            other_tab: Memo::new(move |_| control.with(RunControl::waiting)),
            taken_over: Memo::new(move |_| control.with(RunControl::taken_over)),
            stored_elsewhere: RwSignal::new(false),
            unreadable_snapshot: RwSignal::new(None),
            data,
            link,
            control,
            checkpoint: StoredValue::new_local(None),
            weights: StoredValue::new_local(None),
            imported_bytes: StoredValue::new_local(None),
            importing: StoredValue::new_local(None),
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
            let elsewhere = crate::runtime::locks::held_elsewhere().await;
            if self.run.with_untracked(|s| s.phase != RunPhase::Idle) || !self.control.with_untracked(RunControl::may_restore) {
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

    /// Offers the downloads of `run`, releasing the ones offered before.
    fn publish_exports(self, run: &RunView) {
        let exports = self.checkpoint.with_value(|c| self.weights.with_value(|w| Exports::of(run, c.as_ref(), w.as_ref())));
        if let Some(exports) = exports {
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
        let Some((_, train_len, side)) = self.dataset() else { return };
        let draft = self.draft.get_untracked();
        let mut request = match draft.request_for(train_len, side) {
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
        if !self.control.try_update(|c| c.fetch_start()).unwrap_or(false) {
            return;
        }
        spawn_local(async move {
            let loaded = pretrained::load(point, &Cancel::new()).await;
            self.control.update(|c| c.fetched());
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
        let initial = RunView::starting(request.clone());
        self.launch(Launch { kind: LaunchKind::Start, initial, cmd: ToWorker::Start(request), init });
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
            let initial = run.continuing(backend);
            let Some(request) = initial.request.clone() else { return };
            self.launch(Launch { kind: LaunchKind::Continue, initial, cmd: ToWorker::Continue(request), init: Some(snapshot) });
        });
    }

    /// Reads a checkpoint file the reader picked and imports it; a file too large to be one is
    /// refused before it is read.
    pub fn import_file(self, file: web_sys::File) {
        let name = file.name();
        if file.size() > IMPORT_LIMIT {
            let e = format!("{name} is {:.0} MB: too large to be a checkpoint of these models.", file.size() / 1e6);
            return self.form_error.set(Some(e));
        }
        spawn_local(async move {
            match JsFuture::from(file.array_buffer()).await {
                Ok(buf) => self.import(name, js_sys::Uint8Array::new(&buf).to_vec()),
                Err(e) => self.form_error.set(Some(format!("could not read {name}: {e:?}"))),
            }
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
        let initial = RunView::evaluating(&name, request);
        self.launch(Launch { kind: LaunchKind::Import, initial, cmd, init: Some(bytes) });
    }

    /// Forgets the stored run.
    pub fn discard(self) {
        self.unreadable_snapshot.set(None);
        self.link.close();
        if let Some(Kept { exports: Some(old), .. }) = self.control.try_update(|c| c.discard()).flatten() {
            old.revoke();
        }
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

    /// Starts `launch` in a fresh worker, keeping the page's run aside until it reports
    /// something of its own.
    fn launch_owned(self, launch: Launch) {
        let Some((file, _, side)) = self.dataset() else { return };
        crate::runtime::cache::request_persistence();
        let previous = Kept {
            run: self.run.get_untracked(),
            exports: self.exports.get_untracked(),
            checkpoint: self.checkpoint.get_value(),
            restored: self.restored.get_untracked(),
        };
        self.control.update(|c| c.began(launch.kind, previous));
        self.unreadable_snapshot.set(None);
        self.form_error.set(None);
        self.exports.set(None);
        self.restored.set(false);
        self.checkpoint.set_value(None);
        self.weights.set_value(None);
        self.run.set(launch.initial);
        let first = Outgoing { cmd: launch.cmd, bytes: Some(file), init: launch.init, extra: Vec::new() };
        if let Err(e) = self.link.launch(first, move |report| self.on_report(report, side)) {
            self.fail(e);
        }
    }

    /// Keeps what a report carries (checkpoint, weights) and carries out the controller's
    /// effects.
    fn on_report(self, report: Report, side: usize) {
        let Report { msg, bytes } = report;
        let mut snapshot = None;
        match (&msg, bytes) {
            (FromWorker::Checkpoint { name, .. }, Some(b)) => self.checkpoint.set_value(Some((name.clone(), b))),
            (FromWorker::Weights { name }, Some(b)) => self.weights.set_value(Some((name.clone(), b))),
            (FromWorker::Snapshot { .. }, Some(b)) => snapshot = Some(b),
            _ => {}
        }
        let has_checkpoint = self.checkpoint.with_value(Option::is_some);
        let effects = self.control.try_update(|c| c.fold(&msg, has_checkpoint)).unwrap_or_default();
        let saved = || self.run.with_untracked(|s| s.saved(side));
        for effect in effects {
            match effect {
                Effect::Show => self.run.update(|s| s.apply(&msg, now_ms())),
                Effect::PutBack { previous, error } => self.put_back(previous, &error),
                Effect::Forget(Kept { exports, .. }) => {
                    if let Some(old) = exports {
                        old.revoke();
                    }
                }
                Effect::AdoptImport => {
                    if let Some((name, bytes)) = self.importing.get_value() {
                        self.importing.set_value(None);
                        self.imported_bytes.set_value(Some(bytes));
                        self.imported.set(Some(name));
                    }
                }
                Effect::Publish => {
                    self.run.with_untracked(|s| self.publish_exports(s));
                    // The worker keeps the chosen model to answer the explorer.
                    self.link.announce_model(self.run.with_untracked(RunView::kept_model));
                }
                // Nothing lost: the state and the snapshot go to storage after every epoch.
                Effect::StoreSnapshot => {
                    if let (Some(saved), Some(b)) = (saved(), snapshot.take()) {
                        self.store(async move { runs::save(&saved, Some(&b), None).await });
                    }
                }
                Effect::StoreWithCheckpoint => self.save_with_checkpoint(saved()),
                Effect::SnapshotUnreadable(why) => {
                    self.run.update(|r| r.snapshot_epoch = None);
                    self.unreadable_snapshot.set(Some(why));
                }
                // A fresh worker per run: a WebGPU device can be initialised once per worker.
                Effect::CloseWorker => self.link.close(),
            }
        }
    }

    /// An import that failed: the page goes back to what it showed, storage is untouched.
    fn put_back(self, previous: Option<Kept>, error: &str) {
        let name = self.importing.get_value().map(|(n, _)| n).unwrap_or_default();
        self.importing.set_value(None);
        if let Some(kept) = previous {
            self.checkpoint.set_value(kept.checkpoint);
            self.exports.set(kept.exports);
            self.restored.set(kept.restored);
            self.run.set(kept.run);
        }
        self.form_error.set(Some(format!("{name} could not be imported: {error}. Nothing was changed.")));
    }

    fn save_with_checkpoint(self, saved: Option<SavedRun>) {
        let Some(saved) = saved else { return };
        let ckpt = self.checkpoint.with_value(|c| c.as_ref().map(|(_, b)| b.clone()));
        self.store(async move { runs::save(&saved, None, ckpt.as_deref()).await });
    }

    /// Runs a storage write; a failure shows as a notice until a later write succeeds. (Only
    /// the owner's controller asks for writes.)
    fn store(self, write: impl std::future::Future<Output = Result<(), String>> + 'static) {
        spawn_local(async move {
            self.storage_error.set(write.await.err());
        });
    }
}

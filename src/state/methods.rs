//! The methods lab's state: the reader's picks and settings, one run per picked method, trained
//! one after another — same model, budget and seed — by the series runner (`state::series`),
//! each in a fresh trainer worker of its own (the article's main run keeps its worker).
//!
//! Settings come from the form or the address (`?methods=base,contrastive&methods_model=c8&
//! methods_epochs=5&methods_seed=1&methods_subset=128`).

use breastmnist_protocol::{BackendChoice, ExtraFile, FromWorker, Method, ModelKind, PretextTask, ToWorker, TrainRequest};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::runtime::dataset::load_extra;
use crate::runtime::fetch::Cancel;
use crate::runtime::pretrained;
use crate::runtime::url::param;
use crate::runtime::worker::{Outgoing, Report, WorkerHandle};
use crate::state::data::DataCtx;
use crate::state::series::{Jobs, Series};
use crate::view::methods::{self, DEFAULT_METHODS, LabSettings, MODELS, MethodRun, PretextRun, Status, TAB_METHODS, TabEncoder};
use crate::view::side_job::JobStatus;

/// The methods lab, provided in context; `Copy`.
#[derive(Clone, Copy)]
pub struct MethodsCtx {
    data: DataCtx,
    pub settings: RwSignal<LabSettings>,
    /// The methods ticked, in [`TAB_METHODS`] order.
    pub picked: RwSignal<Vec<Method>>,
    /// The runs of the last (or current) comparison.
    pub runs: RwSignal<Vec<MethodRun>>,
    pub running: RwSignal<bool>,
    series: Series,
    /// When each method's worker was asked to start (ms), for its duration.
    started: StoredValue<Vec<f64>>,
    /// Pretraining in the tab: its settings, progress and picture.
    pub pretext_task: RwSignal<PretextTask>,
    pub pretext_epochs: RwSignal<usize>,
    /// Other MedMNIST files added to the pretraining pool.
    pub pretext_extra: RwSignal<Vec<ExtraFile>>,
    pub pretext: RwSignal<PretextRun>,
    /// The encoder pretrained in this tab, if any (which model and task).
    pub tab_encoder: RwSignal<Option<TabEncoder>>,
    /// Whether the methods that start from a pretext encoder use the tab's (when it fits).
    pub use_tab_encoder: RwSignal<bool>,
    tab_encoder_bytes: StoredValue<Option<Vec<u8>>, LocalStorage>,
    pretext_worker: StoredValue<Option<WorkerHandle>, LocalStorage>,
}

impl MethodsCtx {
    pub fn new(data: DataCtx) -> Self {
        let picked = param("methods")
            .map(|list| list.split(',').filter_map(Method::parse).filter(|m| TAB_METHODS.contains(m)).collect::<Vec<_>>())
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| DEFAULT_METHODS.to_vec());
        let d = LabSettings::default();
        let settings = LabSettings {
            model: param("methods_model").and_then(|m| ModelKind::parse(&m)).filter(|m| MODELS.contains(m)).unwrap_or(d.model),
            epochs: param("methods_epochs").and_then(|e| e.parse().ok()).filter(|e| (1..=100).contains(e)).unwrap_or(d.epochs),
            seed: param("methods_seed").and_then(|s| s.parse().ok()).unwrap_or(d.seed),
            subset: param("methods_subset").and_then(|s| s.parse().ok()).filter(|&n| (1..=546).contains(&n)),
            backend: param("backend").as_deref().and_then(BackendChoice::parse_loose).unwrap_or(d.backend),
        };
        MethodsCtx {
            data,
            settings: RwSignal::new(settings),
            picked: RwSignal::new(picked),
            runs: RwSignal::new(Vec::new()),
            running: RwSignal::new(false),
            series: Series::new(),
            started: StoredValue::new(Vec::new()),
            pretext_task: RwSignal::new(
                param("pretext_task").and_then(|t| PretextTask::parse(&t)).unwrap_or(PretextTask::Masked),
            ),
            pretext_epochs: RwSignal::new(
                param("pretext_epochs").and_then(|e| e.parse().ok()).filter(|e| (1..=100).contains(e)).unwrap_or(5),
            ),
            pretext_extra: RwSignal::new(
                param("pretext_extra").map(|l| l.split(',').filter_map(ExtraFile::parse).collect()).unwrap_or_default(),
            ),
            pretext: RwSignal::new(PretextRun::default()),
            tab_encoder: RwSignal::new(None),
            use_tab_encoder: RwSignal::new(true),
            tab_encoder_bytes: StoredValue::new_local(None),
            pretext_worker: StoredValue::new_local(None),
        }
    }

    /// Pretrains an encoder in this tab (in a worker of its own) on BreastMNIST's training
    /// images, with the lab's model and seed.
    pub fn pretrain(self) {
        if self.pretext.with_untracked(PretextRun::is_running) {
            return;
        }
        let settings = self.settings.get_untracked();
        let (task, epochs) = (self.pretext_task.get_untracked(), self.pretext_epochs.get_untracked());
        let extra = self.pretext_extra.get_untracked();
        self.pretext.set(PretextRun::starting(epochs));
        spawn_local(async move {
            let file = match self.data.file_of(28, &Cancel::new()).await {
                Ok(f) => f,
                Err(e) => return self.pretext.update(|p| p.status = JobStatus::Failed(e)),
            };
            let mut extras = Vec::new();
            for &e in &extra {
                let file = methods::extra_file(e);
                self.pretext.update(|p| p.status = JobStatus::Loading(file.file_name().into()));
                match load_extra(file, &Cancel::new()).await {
                    Ok(bytes) => extras.push(bytes),
                    Err(err) => {
                        let why = format!("{}: {err} — {}", file.file_name(), err.hint());
                        return self.pretext.update(|p| p.status = JobStatus::Failed(why));
                    }
                }
            }
            self.pretext.update(|p| p.status = JobStatus::Loading("the trainer".into()));
            let request = methods::pretrain_request(task, &settings, epochs, extra);
            let started = js_sys::Date::now();
            let first = Outgoing { cmd: ToWorker::Pretrain(request), bytes: Some(file), init: None, extra: extras };
            let spawned = WorkerHandle::spawn(first, move |report: Report| {
                if let (FromWorker::Encoder { .. }, Some(bytes)) = (&report.msg, report.bytes) {
                    self.tab_encoder_bytes.set_value(Some(bytes));
                    self.tab_encoder.set(Some(TabEncoder { model: settings.model, task }));
                }
                let elapsed = (js_sys::Date::now() - started) / 1000.0;
                self.pretext.update(|p| p.apply(&report.msg, elapsed));
                if !self.pretext.with_untracked(PretextRun::is_running) {
                    self.pretext_worker.set_value(None);
                }
            });
            match spawned {
                Ok(w) => self.pretext_worker.set_value(Some(w)),
                Err(e) => self.pretext.update(|p| p.status = JobStatus::Failed(e.message)),
            }
        });
    }

    /// Stops pretraining; the encoder of an earlier, finished one stays.
    pub fn stop_pretrain(self) {
        self.pretext_worker.set_value(None);
        self.pretext.update(|p| {
            if p.is_running() {
                p.status = JobStatus::Failed("stopped".into());
            }
        });
    }

    /// The tab's encoder bytes, when `method` on `model` should start from them.
    fn tab_start(self, method: Method, model: ModelKind) -> Option<Vec<u8>> {
        let fits =
            self.use_tab_encoder.get_untracked() && self.tab_encoder.get_untracked().is_some_and(|e| e.serves(method, model));
        if fits { self.tab_encoder_bytes.get_value() } else { None }
    }

    /// Ticks or unticks `method` (kept in the offered order).
    pub fn toggle(self, method: Method, on: bool) {
        self.picked.update(|p| {
            p.retain(|&m| m != method);
            if on {
                p.push(method);
            }
            p.sort_by_key(|m| TAB_METHODS.iter().position(|t| t == m));
        });
    }

    /// Starts the comparison of the picked methods.
    pub fn start(self) {
        let picked = self.picked.get_untracked();
        if self.running.get_untracked() || picked.is_empty() {
            return;
        }
        let epochs = self.settings.get_untracked().epochs;
        self.runs.set(picked.iter().map(|&m| MethodRun::new(m, epochs)).collect());
        self.started.set_value(vec![0.0; picked.len()]);
        self.running.set(true);
        self.series.start(self);
    }

    /// Stops the comparison: the current run ends (also while its files load), the waiting
    /// ones are marked stopped.
    pub fn stop(self) {
        self.series.stop();
        self.running.set(false);
        self.runs.update(|runs| {
            for r in runs.iter_mut().filter(|r| !r.is_finished()) {
                r.status = Status::Failed("stopped".into());
            }
        });
    }

    fn set_status(self, i: usize, status: Status) {
        self.runs.update(|r| {
            if let Some(r) = r.get_mut(i) {
                r.status = status;
            }
        });
    }
}

impl Jobs for MethodsCtx {
    fn count(self) -> usize {
        self.runs.with_untracked(Vec::len)
    }

    /// The method's file and starting point (the tab's encoder where it fits, else a served
    /// one, fetched and verified), then its request.
    async fn prepare(self, i: usize, cancel: Cancel) -> Result<Outgoing, String> {
        // After each wait: a stopped series writes nothing more (its rows may be another
        // series' by then).
        let stopped = || cancel.is_cancelled().then(|| "stopped".to_string());
        let method = self.runs.with_untracked(|r| r.get(i).map(|r| r.method)).ok_or("no such method")?;
        let settings = self.settings.get_untracked();
        self.set_status(i, Status::Loading("the data".into()));
        let file = self.data.file_of(28, &cancel).await?;
        if let Some(why) = stopped() {
            return Err(why);
        }
        let (init, init_name) = match (self.tab_start(method, settings.model), methods::starting_point(method, settings.model)) {
            (Some(bytes), _) => (Some(bytes), Some(format!("{}-encoder-pretrained-in-the-tab.ckpt", settings.model))),
            (None, Some(point)) => {
                self.set_status(i, Status::Loading(format!("the starting point {}", point.file)));
                let bytes = pretrained::load(point, &cancel).await?;
                if let Some(why) = stopped() {
                    return Err(why);
                }
                (Some(bytes), Some(point.file.to_string()))
            }
            (None, None) => (None, None),
        };
        self.set_status(i, Status::Loading("the trainer".into()));
        let request = TrainRequest { init_name, ..methods::request(method, &settings) };
        self.started.update_value(|s| {
            if let Some(t) = s.get_mut(i) {
                *t = js_sys::Date::now();
            }
        });
        Ok(Outgoing { cmd: ToWorker::Start(request), bytes: Some(file), init, extra: Vec::new() })
    }

    fn failed(self, i: usize, why: String) {
        self.set_status(i, Status::Failed(why));
    }

    fn report(self, i: usize, report: Report) -> bool {
        let elapsed = (js_sys::Date::now() - self.started.with_value(|s| s.get(i).copied().unwrap_or_default())) / 1000.0;
        let was_finished = self.runs.with_untracked(|r| r.get(i).is_none_or(MethodRun::is_finished));
        self.runs.update(|r| {
            if let Some(r) = r.get_mut(i) {
                r.apply(&report.msg, elapsed);
            }
        });
        !was_finished && self.runs.with_untracked(|r| r.get(i).is_some_and(MethodRun::is_finished))
    }

    fn finished(self) {
        self.running.set(false);
    }
}

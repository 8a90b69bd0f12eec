//! The training panel's state, as plain data: the form draft (from the URL or the reader), its
//! validation into a `TrainRequest`, and the fold of worker reports into what the page shows.
//!
//! No signals and no DOM, so every rule here is tested natively.

use breastmnist_protocol::{Augment, BackendChoice, DoneView, EpochView, FromWorker, Preset, Selection, TrainRequest};
use serde::{Deserialize, Serialize};

/// Model names (the CLI's): the ResNets lightest first, then the plain CNNs.
pub const MODELS: [&str; 7] = ["tiny", "small", "medium", "resnet18", "c8", "c16", "c32"];

/// The preset a fresh page starts from.
pub const DEFAULT_PRESET: Preset = Preset::Reader;

/// The form as typed: strings, validated once by [`Draft::validate`].
#[derive(Clone, Debug, PartialEq)]
pub struct Draft {
    pub model: String,
    pub epochs: String,
    pub batch: String,
    pub lr: String,
    pub seed: String,
    pub subset: String,
    pub augment: Augment,
    pub mixup: String,
    pub selection: Selection,
    /// Flip test-time augmentation.
    pub tta: bool,
    /// The weight average's decay under `ema-last` (`None`: the core's default).
    pub ema_decay: Option<f64>,
    pub backend: BackendChoice,
    /// Start from the imported checkpoint.
    pub fine_tune: bool,
    /// When fine-tuning, train only layer4 and the head.
    pub freeze_backbone: bool,
}

impl Default for Draft {
    /// The `reader` preset: the best recipe that finishes in about two minutes on a laptop CPU.
    fn default() -> Self {
        let mut d = Draft {
            model: String::new(),
            epochs: String::new(),
            batch: String::new(),
            lr: String::new(),
            seed: "0".into(),
            subset: String::new(),
            augment: Augment::None,
            mixup: String::new(),
            selection: Selection::BestValAuc,
            tta: false,
            ema_decay: None,
            backend: BackendChoice::Auto,
            fine_tune: false,
            freeze_backbone: true,
        };
        d.apply_preset(DEFAULT_PRESET);
        d
    }
}

/// Prints a number as the form shows it (`0.001`, not `1e-3`).
fn number(x: f64) -> String {
    format!("{x}")
}

impl Draft {
    /// Fills the recipe fields (model, epochs, batch, learning rate, augmentation, mixup,
    /// selection, TTA) from `preset`; seed, subset and backend stay.
    pub fn apply_preset(&mut self, preset: Preset) {
        let r = preset.request();
        self.model = r.model;
        self.epochs = r.epochs.to_string();
        self.batch = r.batch_size.to_string();
        self.lr = number(r.lr);
        self.augment = r.augment;
        self.mixup = r.mixup.map(number).unwrap_or_default();
        self.selection = r.selection;
        self.tta = r.tta;
        self.ema_decay = r.ema_decay;
    }

    /// The preset whose recipe the form holds, or `None` once the reader changed a field.
    pub fn preset(&self) -> Option<Preset> {
        Preset::ALL.into_iter().find(|&p| {
            let mut other = self.clone();
            other.apply_preset(p);
            other == *self
        })
    }

    /// The default draft overridden by query parameters: `preset` first (`paper`, `reader` or
    /// `best`), then `model`, `epochs`, `batch`, `lr`, `seed`, `subset`, `backend`, `augment`
    /// (`none|flip|full`, or a boolean), `mixup`, `selection` and `tta`; `get` looks one up.
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> Draft {
        let mut d = Draft::default();
        if let Some(p) = get("preset").as_deref().and_then(Preset::parse) {
            d.apply_preset(p);
        }
        for (key, field) in [
            ("model", &mut d.model),
            ("epochs", &mut d.epochs),
            ("batch", &mut d.batch),
            ("lr", &mut d.lr),
            ("seed", &mut d.seed),
            ("subset", &mut d.subset),
            ("mixup", &mut d.mixup),
        ] {
            if let Some(v) = get(key) {
                *field = v;
            }
        }
        if let Some(b) = get("backend").as_deref().and_then(BackendChoice::parse) {
            d.backend = b;
        }
        if let Some(a) = get("augment").as_deref().and_then(Augment::parse) {
            d.augment = a;
        }
        if let Some(s) = get("selection").as_deref().and_then(Selection::parse) {
            d.selection = s;
        }
        if let Some(t) = get("tta") {
            d.tta = matches!(t.as_str(), "1" | "true" | "on" | "yes");
        }
        d
    }

    /// One validation: every field, with a message naming it.
    pub fn validate(&self, train_len: usize) -> Result<TrainRequest, String> {
        let model = self.model.trim().to_ascii_lowercase();
        if !MODELS.contains(&model.as_str()) {
            return Err(format!("model must be one of {} (got '{}')", MODELS.join(", "), self.model));
        }
        let int = |name: &str, v: &str, lo: usize, hi: usize| -> Result<usize, String> {
            match v.trim().parse::<usize>() {
                Ok(n) if (lo..=hi).contains(&n) => Ok(n),
                _ => Err(format!("{name} must be a whole number from {lo} to {hi} (got '{v}')")),
            }
        };
        let epochs = int("epochs", &self.epochs, 1, 500)?;
        let batch_size = int("batch size", &self.batch, 1, 546)?;
        let lr = match self.lr.trim().parse::<f64>() {
            Ok(x) if x.is_finite() && x > 0.0 && x <= 1.0 => x,
            _ => return Err(format!("learning rate must be a number in (0, 1] (got '{}')", self.lr)),
        };
        let seed = self.seed.trim().parse::<u64>().map_err(|_| format!("seed must be a whole number (got '{}')", self.seed))?;
        let subset = match self.subset.trim() {
            "" => None,
            s => Some(int("subset", s, 1, train_len)?),
        };
        let mixup = match self.mixup.trim() {
            "" | "0" => None,
            s => match s.parse::<f64>() {
                Ok(a) if a.is_finite() && a > 0.0 => Some(a),
                _ => return Err(format!("mixup alpha must be a positive number or empty (got '{s}')")),
            },
        };
        Ok(TrainRequest {
            model,
            epochs,
            batch_size,
            lr,
            seed,
            subset,
            augment: self.augment,
            mixup,
            backend: self.backend,
            fine_tune: self.fine_tune,
            freeze_backbone: self.fine_tune && self.freeze_backbone,
            resize: None,
            selection: self.selection,
            ema_decay: (self.selection == Selection::EmaLast).then_some(self.ema_decay).flatten(),
            tta: self.tta,
            preset: self.preset(),
        })
    }
}

/// Where a run is.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Phase {
    #[default]
    Idle,
    /// Loading the worker and picking the backend.
    Starting,
    Training,
    Paused,
    Done,
    Stopped,
    Failed(String),
    /// A run restored after a reload that had not finished: it can continue from its last
    /// snapshot.
    Interrupted,
}

impl Phase {
    pub fn is_active(&self) -> bool {
        matches!(self, Phase::Starting | Phase::Training | Phase::Paused)
    }
}

/// The backend the worker runs on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackendInfo {
    pub kind: String,
    pub adapter: String,
    pub notice: Option<String>,
}

/// Everything the panel shows about a run.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct TrainState {
    pub phase: Phase,
    pub request: Option<TrainRequest>,
    pub backend: Option<BackendInfo>,
    pub epoch: usize,
    pub step: usize,
    pub steps_per_epoch: usize,
    pub eval: Option<(String, usize, usize)>,
    /// `(epoch + step / steps_per_epoch, loss)` for every step.
    pub step_losses: Vec<(f64, f64)>,
    pub history: Vec<EpochView>,
    pub done: Option<DoneView>,
    pub checkpoint_name: Option<String>,
    /// When training (not set-up) began, and the steps taken since, for the ETA.
    pub first_step_ms: Option<f64>,
    pub steps_done: usize,
    /// Worker-measured milliseconds of each step of this session (the benchmark reads them).
    pub step_millis: Vec<f64>,
    /// The last epoch whose snapshot the worker sent (the page stores it).
    pub snapshot_epoch: Option<usize>,
    /// The file name, when the results are an imported checkpoint's evaluation.
    pub evaluated: Option<String>,
}

/// What the page stores after every epoch so a reload finds the run (the snapshot and
/// checkpoint bytes are stored beside it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedRun {
    pub version: u32,
    pub request: TrainRequest,
    /// Image side of the dataset the run used (28 or 64).
    pub side: usize,
    pub backend: Option<BackendInfo>,
    pub steps_per_epoch: usize,
    pub step_losses: Vec<(f64, f64)>,
    pub history: Vec<EpochView>,
    pub done: Option<DoneView>,
    pub checkpoint_name: Option<String>,
    pub snapshot_epoch: Option<usize>,
    pub evaluated: Option<String>,
    /// Why the run ended early, if it did.
    pub failure: Option<String>,
}

impl SavedRun {
    pub const VERSION: u32 = 1;

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("plain data serialises")
    }

    /// The stored run, or why it cannot be read (an older format, say).
    pub fn from_json(s: &str) -> Result<SavedRun, String> {
        let run: SavedRun = serde_json::from_str(s).map_err(|e| e.to_string())?;
        if run.version != Self::VERSION {
            return Err(format!("saved by another version ({})", run.version));
        }
        Ok(run)
    }
}

impl TrainState {
    /// A fresh run of `request`.
    pub fn starting(request: TrainRequest) -> TrainState {
        TrainState { phase: Phase::Starting, request: Some(request), ..TrainState::default() }
    }

    /// Folds one worker report in (`now_ms`: the page clock).
    pub fn apply(&mut self, msg: &FromWorker, now_ms: f64) {
        match msg {
            FromWorker::Ready => {}
            FromWorker::Backend { kind, adapter, notice } => {
                self.backend = Some(BackendInfo { kind: kind.clone(), adapter: adapter.clone(), notice: notice.clone() });
            }
            FromWorker::Step { epoch, step, steps_per_epoch, loss, millis } => {
                self.step_millis.push(*millis);
                if self.phase == Phase::Starting {
                    self.phase = Phase::Training;
                }
                self.first_step_ms.get_or_insert(now_ms);
                self.steps_done += 1;
                self.epoch = *epoch;
                self.step = *step;
                self.steps_per_epoch = *steps_per_epoch;
                self.eval = None;
                let x = (*epoch - 1) as f64 + *step as f64 / (*steps_per_epoch).max(1) as f64;
                self.step_losses.push((x, *loss));
            }
            FromWorker::Eval { split, done, total } => self.eval = Some((split.clone(), *done, *total)),
            FromWorker::Epoch(m) => {
                self.eval = None;
                self.history.push(m.clone());
            }
            FromWorker::Done(d) => {
                self.done = Some(d.clone());
                self.phase = Phase::Done;
                self.eval = None;
            }
            FromWorker::Checkpoint { name } => self.checkpoint_name = Some(name.clone()),
            FromWorker::Snapshot { epoch } => self.snapshot_epoch = Some(*epoch),
            FromWorker::Paused => self.phase = Phase::Paused,
            FromWorker::Resumed => self.phase = Phase::Training,
            FromWorker::Stopped => self.phase = Phase::Stopped,
            FromWorker::Failed { message } => self.phase = Phase::Failed(message.clone()),
            // Explanations belong to the explorer, not to the run.
            FromWorker::Explaining { .. }
            | FromWorker::Explained(_)
            | FromWorker::ActivationGrid(_)
            | FromWorker::ExplainFailed { .. } => {}
        }
    }

    /// Evaluating an imported checkpoint named `name`.
    pub fn evaluating(name: &str, request: TrainRequest) -> TrainState {
        TrainState { evaluated: Some(name.to_string()), ..TrainState::starting(request) }
    }

    /// What to store; `None` before a run has a request.
    pub fn saved(&self, side: usize) -> Option<SavedRun> {
        Some(SavedRun {
            version: SavedRun::VERSION,
            request: self.request.clone()?,
            side,
            backend: self.backend.clone(),
            steps_per_epoch: self.steps_per_epoch,
            step_losses: self.step_losses.clone(),
            history: self.history.clone(),
            done: self.done.clone(),
            checkpoint_name: self.checkpoint_name.clone(),
            snapshot_epoch: self.snapshot_epoch,
            evaluated: self.evaluated.clone(),
            failure: match &self.phase {
                Phase::Failed(m) => Some(m.clone()),
                _ => None,
            },
        })
    }

    /// A stored run as the page shows it after a reload: finished, or interrupted at its last
    /// snapshot (steps after it are dropped: the run continues from there).
    pub fn restored(run: SavedRun) -> TrainState {
        let epoch = run.snapshot_epoch.unwrap_or(run.history.len());
        let finished = run.done.is_some();
        let mut history = run.history;
        let mut step_losses = run.step_losses;
        if !finished {
            history.retain(|h| h.epoch <= epoch);
            step_losses.retain(|&(x, _)| x <= epoch as f64 + 1e-9);
        }
        TrainState {
            phase: if finished { Phase::Done } else { Phase::Interrupted },
            request: Some(run.request),
            backend: run.backend,
            epoch,
            step: if finished { 0 } else { run.steps_per_epoch },
            steps_per_epoch: run.steps_per_epoch,
            eval: None,
            step_losses,
            history,
            done: run.done,
            checkpoint_name: run.checkpoint_name,
            first_step_ms: None,
            steps_done: 0,
            step_millis: Vec::new(),
            snapshot_epoch: run.snapshot_epoch,
            evaluated: run.evaluated,
        }
    }

    /// Continuing this (interrupted) run: its history stays, the clock restarts.
    pub fn continuing(&self, backend: BackendChoice) -> TrainState {
        let mut next = self.clone();
        next.phase = Phase::Starting;
        next.backend = None;
        next.first_step_ms = None;
        next.steps_done = 0;
        next.step_millis.clear();
        next.done = None;
        if let Some(r) = &mut next.request {
            r.backend = backend;
        }
        next
    }

    /// Whether the run can continue from a stored snapshot.
    pub fn can_continue(&self) -> bool {
        self.snapshot_epoch.is_some()
            && matches!(self.phase, Phase::Interrupted | Phase::Failed(_) | Phase::Stopped)
            && self.done.is_none()
    }

    pub fn epochs_total(&self) -> usize {
        self.request.as_ref().map_or(0, |r| r.epochs)
    }

    /// Fraction of optimisation steps done, in [0, 1].
    pub fn fraction(&self) -> f64 {
        let total = self.epochs_total() * self.steps_per_epoch;
        if self.phase == Phase::Done {
            1.0
        } else if total == 0 {
            0.0
        } else {
            (((self.epoch.max(1) - 1) * self.steps_per_epoch + self.step) as f64 / total as f64).min(1.0)
        }
    }

    /// Seconds left at the pace of the steps so far (evaluation time included in the pace).
    pub fn eta_seconds(&self, now_ms: f64) -> Option<f64> {
        let start = self.first_step_ms?;
        let total = self.epochs_total() * self.steps_per_epoch;
        if self.steps_done < 2 || total == 0 || self.phase == Phase::Done {
            return None;
        }
        let per_step = (now_ms - start) / 1000.0 / (self.steps_done - 1) as f64;
        let done = (self.epoch.max(1) - 1) * self.steps_per_epoch + self.step;
        Some(per_step * total.saturating_sub(done) as f64)
    }
}

/// The charts' plotting area on their 560-px-wide canvases: plotters' margin (10) plus the
/// y-label area (44) on the left, the margin on the right.
pub const CHART_WIDTH: f64 = 560.0;
const PLOT_LEFT: f64 = 54.0;
const PLOT_RIGHT: f64 = 550.0;

/// The x value (epochs, `0..epochs`) under canvas pixel `x`.
pub fn epoch_at(x: f64, epochs: usize) -> f64 {
    ((x - PLOT_LEFT) / (PLOT_RIGHT - PLOT_LEFT)).clamp(0.0, 1.0) * epochs.max(1) as f64
}

/// The history entry nearest to `x` epochs (ties: the earlier).
pub fn nearest_epoch(history: &[EpochView], x: f64) -> Option<&EpochView> {
    history.iter().min_by(|a, b| (a.epoch as f64 - x).abs().total_cmp(&(b.epoch as f64 - x).abs()))
}

/// Which series a chart draws (the reader toggles them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Series {
    pub steps: bool,
    pub train: bool,
    pub val: bool,
}

impl Default for Series {
    fn default() -> Self {
        Series { steps: true, train: true, val: true }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| pairs.iter().find(|(key, _)| *key == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn url_parameters_fill_the_form() {
        let d = Draft::from_query(query(&[("model", "small"), ("epochs", "2"), ("backend", "cpu"), ("subset", "64"), ("lr", "0.01")]));
        let r = d.validate(546).unwrap();
        assert_eq!((r.model.as_str(), r.epochs, r.subset, r.lr, r.backend), ("small", 2, Some(64), 0.01, BackendChoice::Cpu));
        assert_eq!(r.batch_size, 64, "unset parameters keep their defaults");
        assert_eq!(r.preset, None, "a changed recipe is no longer the preset");
    }

    #[test]
    fn the_default_is_the_reader_preset_and_presets_fill_the_form() {
        let r = Draft::default().validate(546).unwrap();
        assert_eq!(r, TrainRequest { backend: BackendChoice::Auto, ..Preset::Reader.request() });
        for p in Preset::ALL {
            let d = Draft::from_query(query(&[("preset", p.name()), ("seed", "4"), ("backend", "cpu")]));
            assert_eq!(d.preset(), Some(p));
            let r = d.validate(546).unwrap();
            assert_eq!(r, TrainRequest { seed: 4, backend: BackendChoice::Cpu, ..p.request() }, "{}", p.name());
        }
        // A URL parameter after the preset overrides it and makes the recipe custom.
        let d = Draft::from_query(query(&[("preset", "best"), ("epochs", "5"), ("augment", "full"), ("selection", "last")]));
        let r = d.validate(546).unwrap();
        assert_eq!((r.model.as_str(), r.epochs, r.augment, r.selection, r.tta), ("c16", 5, Augment::Full, Selection::Last, true));
        assert_eq!((d.preset(), r.preset, r.ema_decay), (None, None, None));
        // Older links with augment=1 still mean the full augmentation.
        assert_eq!(Draft::from_query(query(&[("augment", "1")])).augment, Augment::Full);
        assert_eq!(Draft::from_query(query(&[("preset", "nope")])), Draft::default());
    }

    #[test]
    fn bad_fields_are_named() {
        let bad = |f: fn(&mut Draft)| {
            let mut d = Draft::default();
            f(&mut d);
            d.validate(546).unwrap_err()
        };
        assert!(bad(|d| d.model = "resnet152".into()).starts_with("model must be one of"));
        assert!(bad(|d| d.epochs = "0".into()).starts_with("epochs"));
        assert!(bad(|d| d.batch = "x".into()).starts_with("batch size"));
        assert!(bad(|d| d.lr = "-1".into()).starts_with("learning rate"));
        assert!(bad(|d| d.subset = "1000".into()).starts_with("subset"));
        assert!(bad(|d| d.mixup = "nan".into()).starts_with("mixup"));
    }

    #[test]
    fn reports_fold_into_progress_history_and_result() {
        let req = Draft::from_query(query(&[("epochs", "2")])).validate(546).unwrap();
        let mut s = TrainState::starting(req);
        s.apply(&FromWorker::Backend { kind: "cpu".into(), adapter: "flex".into(), notice: None }, 0.0);
        assert_eq!(s.phase, Phase::Starting);
        for step in 1..=4 {
            s.apply(&FromWorker::Step { epoch: 1, step, steps_per_epoch: 4, loss: 1.0 / step as f64, millis: 5.0 }, step as f64 * 1000.0);
        }
        assert_eq!(s.phase, Phase::Training);
        assert_eq!(s.step_losses.len(), 4);
        assert_eq!(s.step_losses[3].0, 1.0);
        assert!((s.fraction() - 0.5).abs() < 1e-9);
        let eta = s.eta_seconds(4000.0).unwrap();
        assert!((eta - 4.0).abs() < 1e-9, "4 steps left at 1 s each: {eta}");
        s.apply(&FromWorker::Paused, 0.0);
        assert_eq!(s.phase, Phase::Paused);
        s.apply(&FromWorker::Resumed, 0.0);
        s.apply(&FromWorker::Failed { message: "loss became NaN".into() }, 0.0);
        assert_eq!(s.phase, Phase::Failed("loss became NaN".into()));
        assert!(!s.phase.is_active());
    }

    fn epoch(e: usize) -> EpochView {
        EpochView { epoch: e, train_loss: 0.5, train_acc: 0.7, val_loss: 0.6, val_acc: 0.7, val_auc: 0.8, lr: 1e-3, is_best: e == 1 }
    }

    #[test]
    fn a_saved_run_restores_at_its_last_snapshot_and_continues() {
        let request = Draft::default().validate(546).unwrap();
        let mut s = TrainState::starting(request);
        s.apply(&FromWorker::Backend { kind: "cpu".into(), adapter: "flex".into(), notice: None }, 0.0);
        for e in 1..=3 {
            for step in 1..=2 {
                s.apply(&FromWorker::Step { epoch: e, step, steps_per_epoch: 2, loss: 0.5, millis: 1.0 }, 0.0);
            }
            s.apply(&FromWorker::Epoch(epoch(e)), 0.0);
            if e < 3 {
                s.apply(&FromWorker::Snapshot { epoch: e }, 0.0);
            }
        }
        // Saved after epoch 2's snapshot, but the state already holds epoch 3: it is dropped.
        let saved = SavedRun::from_json(&s.saved(28).unwrap().to_json()).unwrap();
        let r = TrainState::restored(saved);
        assert_eq!(r.phase, Phase::Interrupted);
        assert_eq!((r.epoch, r.history.len(), r.step_losses.len()), (2, 2, 4));
        assert!(r.can_continue());
        assert!(!r.phase.is_active());
        let c = r.continuing(BackendChoice::Cpu);
        assert_eq!(c.phase, Phase::Starting);
        assert_eq!(c.history.len(), 2);
        assert_eq!(c.request.as_ref().unwrap().backend, BackendChoice::Cpu);
        // A finished run restores as done and cannot continue.
        let mut d = s.clone();
        d.apply(&FromWorker::Done(DoneView { best_epoch: 1, val_auc: 0.8, test_auc: 0.8, test_acc: 0.7, confusion: [[1, 2], [3, 4]], roc: vec![], metrics_json: "{}".into() }), 0.0);
        let r = TrainState::restored(d.saved(28).unwrap());
        assert_eq!((r.phase.clone(), r.history.len()), (Phase::Done, 3));
        assert!(!r.can_continue());
        assert!(SavedRun::from_json("{}").is_err());
        assert!(SavedRun::from_json(&d.saved(28).unwrap().to_json().replace("\"version\":1", "\"version\":9")).is_err());
    }

    #[test]
    fn hover_finds_the_nearest_epoch() {
        let h: Vec<EpochView> = (1..=4).map(epoch).collect();
        assert_eq!(epoch_at(54.0, 4), 0.0);
        assert_eq!(epoch_at(550.0, 4), 4.0);
        assert_eq!(epoch_at(9999.0, 4), 4.0);
        assert!((epoch_at(302.0, 4) - 2.0).abs() < 1e-9);
        assert_eq!(nearest_epoch(&h, epoch_at(302.0, 4)).unwrap().epoch, 2);
        assert_eq!(nearest_epoch(&h, 0.0).unwrap().epoch, 1);
        assert_eq!(nearest_epoch(&h, 3.6).unwrap().epoch, 4);
        assert!(nearest_epoch(&[], 1.0).is_none());
    }
}

//! The training panel's state, as plain data: the form draft (from the URL or the reader), its
//! validation into a `TrainRequest`, and the fold of worker reports into what the page shows.
//!
//! No signals and no DOM, so every rule here is tested natively.

use breastmnist_protocol::{BackendChoice, DoneView, EpochView, FromWorker, TrainRequest};

/// Model names, lightest first (the CLI's names).
pub const MODELS: [&str; 4] = ["tiny", "small", "medium", "resnet18"];

/// The form as typed: strings, validated once by [`Draft::validate`].
#[derive(Clone, Debug, PartialEq)]
pub struct Draft {
    pub model: String,
    pub epochs: String,
    pub batch: String,
    pub lr: String,
    pub seed: String,
    pub subset: String,
    pub augment: bool,
    pub mixup: String,
    pub backend: BackendChoice,
}

impl Default for Draft {
    /// A light default that finishes in about a minute on a laptop CPU.
    fn default() -> Self {
        Draft {
            model: "tiny".into(),
            epochs: "10".into(),
            batch: "64".into(),
            lr: "0.001".into(),
            seed: "0".into(),
            subset: String::new(),
            augment: false,
            mixup: String::new(),
            backend: BackendChoice::Auto,
        }
    }
}

impl Draft {
    /// The default draft overridden by query parameters (`model`, `epochs`, `batch`, `lr`, `seed`,
    /// `subset`, `backend`, `augment`, `mixup`); `get` looks one up.
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> Draft {
        let mut d = Draft::default();
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
        if let Some(a) = get("augment") {
            d.augment = matches!(a.as_str(), "1" | "true" | "on" | "yes");
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
        Ok(TrainRequest { model, epochs, batch_size, lr, seed, subset, augment: self.augment, mixup, backend: self.backend })
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
}

impl Phase {
    pub fn is_active(&self) -> bool {
        matches!(self, Phase::Starting | Phase::Training | Phase::Paused)
    }
}

/// The backend the worker runs on.
#[derive(Clone, Debug, PartialEq)]
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
            FromWorker::Step { epoch, step, steps_per_epoch, loss } => {
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
            FromWorker::Paused => self.phase = Phase::Paused,
            FromWorker::Resumed => self.phase = Phase::Training,
            FromWorker::Stopped => self.phase = Phase::Stopped,
            FromWorker::Failed { message } => self.phase = Phase::Failed(message.clone()),
        }
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
            s.apply(&FromWorker::Step { epoch: 1, step, steps_per_epoch: 4, loss: 1.0 / step as f64 }, step as f64 * 1000.0);
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
}

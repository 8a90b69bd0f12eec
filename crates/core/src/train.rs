//! The hand-written training loop: configuration, a step-at-a-time [`Trainer`], typed events.
//!
//! Owns the recipe (MedMNIST v2's by default: Adam lr 1e-3, batch 128, 100 epochs, lr × 0.1 at
//! 50 % and 75 % of the epochs, cross-entropy on two logits, model chosen by validation AUC,
//! test metrics computed once on that model) and its options (augmentation, mixup, weight
//! decay, cosine schedule, subsets, resizing, fine-tuning with a frozen backbone).
//!
//! [`Trainer::step`] does at most one optimisation step or one evaluation chunk per call, so a
//! browser can interleave training with rendering, pause between calls, or snapshot at an
//! epoch boundary and resume later. Every tensor read on this path is `into_data_async`.
//!
//! It must not know about files, the browser, progress bars or JSON layout: it emits
//! [`TrainEvent`]s and leaves their display and storage to its callers.

use std::sync::Arc;

use breastmnist_data::{Dataset, Split};
use burn::config::Config;
use burn::module::Module;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::Device;
use burn::tensor::activation::log_softmax;
use serde::{Deserialize, Serialize};

use crate::batch::{Augment, Batcher, HostBatch, ImageView};
use crate::checkpoint::{self, Checkpoint, CheckpointError};
use crate::eval::{self, EVAL_CHUNK, EvalError};
use crate::metrics::{self, Evaluation, MetricsError, RocPoint};
use crate::model::{ModelConfig, ModelError, ModelSize, ResNet};
use crate::rng::Rng;

/// How the learning rate changes over the epochs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Schedule {
    /// MedMNIST's: × 0.1 once 50 % and again once 75 % of the epochs are done.
    MultiStep,
    /// Cosine annealing from `lr` towards 0 over the epochs (per epoch).
    Cosine,
    /// The same rate throughout.
    Constant,
}

/// A training run's configuration. The defaults are the official MedMNIST v2 recipe.
#[derive(Config, Debug, PartialEq)]
pub struct TrainConfig {
    /// Which member of the ResNet family to train.
    #[config(default = "ModelSize::Resnet18")]
    pub model: ModelSize,
    #[config(default = 100)]
    pub epochs: usize,
    #[config(default = 128)]
    pub batch_size: usize,
    /// Adam's learning rate (the initial one, before the schedule).
    #[config(default = 1e-3)]
    pub lr: f64,
    #[config(default = "Schedule::MultiStep")]
    pub schedule: Schedule,
    /// L2 penalty added to the gradients (Adam's `weight_decay`); 0 disables it.
    #[config(default = 0.0)]
    pub weight_decay: f64,
    /// Random flip, ±10° rotation and ±7 % translation of training images.
    #[config(default = false)]
    pub augment: bool,
    /// Mixup with Beta(α, α) coefficients; `None` disables it.
    #[config(default = "None")]
    pub mixup: Option<f64>,
    /// Fixes weight initialisation, shuffling, augmentation and mixup.
    #[config(default = 0)]
    pub seed: u64,
    /// Train on the first `N` training images only.
    #[config(default = "None")]
    pub subset: Option<usize>,
    /// Bilinearly resize inputs to this side inside the model (e.g. 28 px seen at 64 px).
    #[config(default = "None")]
    pub resize: Option<usize>,
    /// Fine-tuning: train only the last stage (layer4) and the classifier; earlier layers keep
    /// their weights and BatchNorm statistics.
    #[config(default = false)]
    pub freeze_backbone: bool,
}

/// Invalid training settings, each naming the field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("epochs must be at least 1 (got {0})")]
    Epochs(usize),
    #[error("batch size must be at least 1 (got {0})")]
    BatchSize(usize),
    #[error("learning rate must be a positive number (got {0})")]
    Lr(f64),
    #[error("weight decay must be a non-negative number (got {0})")]
    WeightDecay(f64),
    #[error("mixup alpha must be a positive number (got {0})")]
    Mixup(f64),
    #[error("subset must be between 1 and {max} images (got {got})")]
    Subset { got: usize, max: usize },
}

impl TrainConfig {
    /// Checks every user-settable value; `train_len` is the size of the training split.
    pub fn validate(&self, train_len: usize) -> Result<(), ConfigError> {
        if self.epochs == 0 {
            return Err(ConfigError::Epochs(self.epochs));
        }
        if self.batch_size == 0 {
            return Err(ConfigError::BatchSize(self.batch_size));
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(ConfigError::Lr(self.lr));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(ConfigError::WeightDecay(self.weight_decay));
        }
        if let Some(a) = self.mixup
            && !(a.is_finite() && a > 0.0)
        {
            return Err(ConfigError::Mixup(a));
        }
        if let Some(n) = self.subset
            && (n == 0 || n > train_len)
        {
            return Err(ConfigError::Subset { got: n, max: train_len });
        }
        Ok(())
    }

    /// The learning rate during epoch `epoch` (1-based).
    pub fn lr_at(&self, epoch: usize) -> f64 {
        let i = epoch.saturating_sub(1) as f64;
        let n = self.epochs.max(1) as f64;
        match self.schedule {
            Schedule::Constant => self.lr,
            Schedule::MultiStep => {
                let drops = [0.5 * n, 0.75 * n].iter().filter(|&&m| i >= m).count();
                self.lr * 0.1f64.powi(drops as i32)
            }
            Schedule::Cosine => self.lr * 0.5 * (1.0 + (std::f64::consts::PI * i / n).cos()),
        }
    }

    /// The model configuration for images of `side` px with `channels` channels.
    pub fn model_config(&self, side: usize, channels: usize) -> ModelConfig {
        ModelConfig::new()
            .with_size(self.model)
            .with_in_channels(channels)
            .with_input_size(side)
            .with_resize(self.resize)
    }

    fn batcher(&self) -> Batcher {
        Batcher {
            augment: self.augment.then(Augment::default),
            mixup: self.mixup.map(|a| a as f32),
            num_classes: 2,
        }
    }
}

/// One epoch's summary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// 1-based.
    pub epoch: usize,
    /// Mean training loss over the epoch's batches (on the mixed targets when mixup is on).
    pub train_loss: f64,
    /// Training accuracy of the argmax against the original labels.
    pub train_acc: f64,
    pub val_loss: f64,
    pub val_acc: f64,
    pub val_auc: f64,
    /// The learning rate used during this epoch.
    pub lr: f64,
    /// Whether this epoch's model is the best so far by validation AUC (ties keep the earlier).
    pub is_best: bool,
}

/// One test image's result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// Position in the official test split.
    pub index: usize,
    pub label: u8,
    /// Softmax probability of label 1.
    pub score: f64,
}

/// Test results of the model chosen on validation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestReport {
    pub auc: f64,
    pub acc: f64,
    pub confusion: metrics::Confusion,
    pub roc: Vec<RocPoint>,
    pub predictions: Vec<Prediction>,
}

/// Everything a finished run produced (the checkpoint bytes aside).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    pub config: TrainConfig,
    pub model: ModelConfig,
    pub history: Vec<EpochMetrics>,
    /// The epoch whose model was kept (1-based).
    pub best_epoch: usize,
    /// Validation metrics of the kept model.
    pub val: Evaluation,
    pub test: TestReport,
}

/// Why a run stopped early.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TrainFailure {
    #[error("the loss became {value} at epoch {epoch}, step {step}; the best model so far is kept")]
    NonFiniteLoss { epoch: usize, step: usize, value: String },
    #[error("the model's outputs on the validation images are not finite after epoch {epoch}; the best model so far is kept")]
    NonFiniteOutput { epoch: usize },
}

/// What the loop reports. Serialises as `{"type": "step", ...}`, `{"type": "epoch", ...}`, ...
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TrainEvent {
    /// One optimisation step finished (1-based epoch and step).
    Step { epoch: usize, step: usize, steps_per_epoch: usize, loss: f64, lr: f64 },
    /// Evaluation progress on a split (images done of total).
    Eval { split: String, done: usize, total: usize },
    Epoch(EpochMetrics),
    Done(Box<RunResult>),
    Error(TrainFailure),
}

/// Errors that stop the trainer (as opposed to [`TrainFailure`], which ends a run cleanly).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Eval(#[from] EvalError),
    #[error(transparent)]
    Metrics(#[from] MetricsError),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error("reading the loss back from the device failed: {0}")]
    Read(String),
    #[error("the checkpoint is for {ckpt} px, {ckpt_ch}-channel images but the data is {data} px, {data_ch}-channel")]
    DataShape { ckpt: usize, ckpt_ch: usize, data: usize, data_ch: usize },
    #[error("a snapshot can only be taken between epochs")]
    NotAtEpochBoundary,
    #[error("the run has no model yet to save")]
    NoModel,
    #[error("the saved state is unreadable: {0}")]
    State(String),
}

/// Where the trainer is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    /// Training epoch `epoch` (1-based); `step` steps of it are done.
    Train { epoch: usize, step: usize },
    /// Evaluating epoch `epoch`'s model on the validation split; `done` images so far.
    Val { epoch: usize, done: usize },
    /// Evaluating the kept model on the test split.
    Test { done: usize },
    Done,
    Failed,
}

/// The resumable part of a trainer's state, taken between epochs (see [`Trainer::snapshot`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainState {
    pub config: TrainConfig,
    pub model: ModelConfig,
    /// The next epoch to train (1-based).
    pub next_epoch: usize,
    pub history: Vec<EpochMetrics>,
    pub rng: Rng,
    pub best_epoch: Option<usize>,
    pub best_auc: Option<f64>,
}

/// A snapshot to resume from: the state plus checkpoint bytes of the current and best models.
/// Adam's moment estimates are not saved: a resumed run restarts them (and so can differ
/// slightly from an uninterrupted one).
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    pub state: TrainState,
    pub current: Vec<u8>,
    pub best: Option<Vec<u8>>,
}

const SNAPSHOT_MAGIC: &[u8; 8] = b"BMNSNAP1";

impl Snapshot {
    /// `BMNSNAP1`, then three length-prefixed (u64 LE) parts: the state as JSON, the current
    /// model's checkpoint, the best model's checkpoint (empty when there is none yet).
    pub fn to_bytes(&self) -> Vec<u8> {
        let state = serde_json::to_vec(&self.state).expect("plain data serialises");
        let best = self.best.as_deref().unwrap_or_default();
        let mut out = Vec::with_capacity(8 + 24 + state.len() + self.current.len() + best.len());
        out.extend_from_slice(SNAPSHOT_MAGIC);
        for part in [&state[..], &self.current, best] {
            out.extend_from_slice(&(part.len() as u64).to_le_bytes());
            out.extend_from_slice(part);
        }
        out
    }

    /// Reads [`Snapshot::to_bytes`]; anything else is a [`TrainError::State`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Snapshot, TrainError> {
        let bad = |why: &str| TrainError::State(why.to_string());
        let mut rest = bytes.strip_prefix(SNAPSHOT_MAGIC).ok_or_else(|| bad("not a BreastMNIST Lab snapshot"))?;
        let mut parts = Vec::with_capacity(3);
        for _ in 0..3 {
            let (len, tail) = rest.split_first_chunk::<8>().ok_or_else(|| bad("truncated"))?;
            let len = usize::try_from(u64::from_le_bytes(*len)).map_err(|_| bad("a part is too large"))?;
            if tail.len() < len {
                return Err(bad("truncated"));
            }
            let (part, tail) = tail.split_at(len);
            parts.push(part);
            rest = tail;
        }
        if !rest.is_empty() {
            return Err(bad("trailing bytes"));
        }
        let state: TrainState = serde_json::from_slice(parts[0]).map_err(|e| TrainError::State(e.to_string()))?;
        Ok(Snapshot {
            state,
            current: parts[1].to_vec(),
            best: (!parts[2].is_empty()).then(|| parts[2].to_vec()),
        })
    }
}

struct Best {
    epoch: usize,
    auc: f64,
    model: ResNet,
    /// Validation metrics of this model (`None` after a resume until re-evaluated).
    val: Option<Evaluation>,
}

/// The training loop, one small step at a time.
pub struct Trainer {
    config: TrainConfig,
    model_config: ModelConfig,
    data: Arc<Dataset>,
    device: Device,
    model: Option<ResNet>,
    optim: ModuleOptimizer,
    batcher: Batcher,
    rng: Rng,
    train_len: usize,
    order: Vec<usize>,
    phase: Phase,
    loss_sum: f64,
    correct: usize,
    seen: usize,
    batches: usize,
    val_scores: Vec<f32>,
    test_scores: Vec<f32>,
    history: Vec<EpochMetrics>,
    best: Option<Best>,
    result: Option<RunResult>,
}

/// Adam as the recipe sets it up (epsilon 1e-8 as in PyTorch; L2 weight decay if configured).
pub fn optimizer(config: &TrainConfig) -> ModuleOptimizer {
    let mut adam = AdamConfig::new().with_epsilon(1e-8);
    if config.weight_decay > 0.0 {
        adam = adam.with_weight_decay(Some(WeightDecayConfig::new(config.weight_decay as f32)));
    }
    adam.init()
}

fn freeze_backbone(model: ResNet) -> ResNet {
    let mut m = model.freeze();
    m.layer4 = m.layer4.unfreeze();
    m.fc = m.fc.unfreeze();
    m
}

impl Trainer {
    /// A new run from freshly initialised weights (seeded by `config.seed`) on `device`
    /// (autodiff is enabled on it here).
    pub fn new(config: TrainConfig, data: Arc<Dataset>, device: &Device) -> Result<Self, TrainError> {
        config.validate(data.train.len())?;
        let model_config = config.model_config(data.side, data.channels);
        let ad = device.clone().autodiff();
        // Nothing in the loop draws from burn's RNG (init, shuffling, augmentation and mixup use
        // the crate's own seeded generator); seeding it too keeps any future use reproducible.
        ad.seed(config.seed);
        let model = model_config.init(&ad, config.seed)?;
        Self::with_model(config, model_config, data, ad, model)
    }

    /// Fine-tuning: a new run starting from `checkpoint`'s weights (its architecture wins over
    /// `config.model`/`config.resize`). Combine with `freeze_backbone` and a smaller `lr`.
    pub fn from_checkpoint(
        mut config: TrainConfig,
        data: Arc<Dataset>,
        checkpoint: &Checkpoint,
        device: &Device,
    ) -> Result<Self, TrainError> {
        config.validate(data.train.len())?;
        let mc = checkpoint_config_for(checkpoint, &data)?;
        config.model = mc.size;
        config.resize = mc.resize;
        let ad = device.clone().autodiff();
        let model = checkpoint.load(&ad)?;
        Self::with_model(config, mc, data, ad, model)
    }

    fn with_model(
        config: TrainConfig,
        model_config: ModelConfig,
        data: Arc<Dataset>,
        device: Device,
        model: ResNet,
    ) -> Result<Self, TrainError> {
        let model = if config.freeze_backbone { freeze_backbone(model) } else { model };
        let train_len = config.subset.unwrap_or(data.train.len()).min(data.train.len());
        Ok(Trainer {
            optim: optimizer(&config),
            batcher: config.batcher(),
            rng: Rng::new(config.seed).fork(1),
            model_config,
            data,
            device,
            model: Some(model),
            train_len,
            order: Vec::new(),
            phase: Phase::Train { epoch: 1, step: 0 },
            loss_sum: 0.0,
            correct: 0,
            seen: 0,
            batches: 0,
            val_scores: Vec::new(),
            test_scores: Vec::new(),
            history: Vec::new(),
            best: None,
            result: None,
            config,
        })
    }

    /// Continues a run from a [`Snapshot`] (taken between epochs).
    pub fn resume(snapshot: &Snapshot, data: Arc<Dataset>, device: &Device) -> Result<Self, TrainError> {
        let st = &snapshot.state;
        st.config.validate(data.train.len())?;
        let ad = device.clone().autodiff();
        let model = Checkpoint::from_bytes(&snapshot.current)?.load_as(&st.model, &ad)?;
        let mut t = Self::with_model(st.config.clone(), st.model.clone(), data, ad.clone(), model)?;
        t.rng = st.rng.clone();
        t.history = st.history.clone();
        t.phase = if st.next_epoch > st.config.epochs {
            Phase::Test { done: 0 }
        } else {
            Phase::Train { epoch: st.next_epoch, step: 0 }
        };
        if let (Some(epoch), Some(auc), Some(bytes)) = (st.best_epoch, st.best_auc, &snapshot.best) {
            let model = Checkpoint::from_bytes(bytes)?.load_as(&st.model, &ad)?.valid();
            t.best = Some(Best { epoch, auc, model, val: None });
        }
        Ok(t)
    }

    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    pub fn model_config(&self) -> &ModelConfig {
        &self.model_config
    }

    pub fn phase(&self) -> &Phase {
        &self.phase
    }

    pub fn history(&self) -> &[EpochMetrics] {
        &self.history
    }

    /// Optimisation steps in one epoch.
    pub fn steps_per_epoch(&self) -> usize {
        self.train_len.div_ceil(self.config.batch_size)
    }

    /// Whether [`step`](Self::step) has nothing left to do.
    pub fn is_finished(&self) -> bool {
        matches!(self.phase, Phase::Done | Phase::Failed)
    }

    /// The result, once [`TrainEvent::Done`] was emitted.
    pub fn result(&self) -> Option<&RunResult> {
        self.result.as_ref()
    }

    /// The model kept so far (best validation AUC), in evaluation mode, with its epoch.
    pub fn best_model(&self) -> Option<(usize, &ResNet)> {
        self.best.as_ref().map(|b| (b.epoch, &b.model))
    }

    /// The model being trained, in evaluation mode (for Grad-CAM or inspection mid-run).
    pub fn current_model(&self) -> Option<ResNet> {
        self.model.as_ref().map(|m| m.valid())
    }

    /// Checkpoint bytes of the best model so far (async reads: safe on WebGPU).
    pub async fn best_checkpoint(&self) -> Result<Option<Vec<u8>>, TrainError> {
        match &self.best {
            Some(b) => Ok(Some(checkpoint::save_async(&b.model, &self.model_config).await?)),
            None => Ok(None),
        }
    }

    /// A resumable snapshot; only between epochs (after an `Epoch` event, before the next step).
    pub async fn snapshot(&self) -> Result<Snapshot, TrainError> {
        let next_epoch = match self.phase {
            Phase::Train { epoch, step: 0 } => epoch,
            Phase::Test { done: 0 } => self.config.epochs + 1,
            _ => return Err(TrainError::NotAtEpochBoundary),
        };
        let model = self.model.as_ref().ok_or(TrainError::NoModel)?;
        let current = checkpoint::save_async(&model.valid(), &self.model_config).await?;
        Ok(Snapshot {
            state: TrainState {
                config: self.config.clone(),
                model: self.model_config.clone(),
                next_epoch,
                history: self.history.clone(),
                rng: self.rng.clone(),
                best_epoch: self.best.as_ref().map(|b| b.epoch),
                best_auc: self.best.as_ref().map(|b| b.auc),
            },
            current,
            best: self.best_checkpoint().await?,
        })
    }

    /// Advances by at most one optimisation step or one evaluation chunk, returning what
    /// happened. Returns no events once the run is done or failed.
    pub async fn step(&mut self) -> Result<Vec<TrainEvent>, TrainError> {
        match self.phase.clone() {
            Phase::Train { epoch, step } => self.train_step(epoch, step).await,
            Phase::Val { epoch, done } => self.val_chunk(epoch, done).await,
            Phase::Test { done } => self.test_chunk(done).await,
            Phase::Done | Phase::Failed => Ok(Vec::new()),
        }
    }

    async fn train_step(&mut self, epoch: usize, step: usize) -> Result<Vec<TrainEvent>, TrainError> {
        if step == 0 {
            self.order = (0..self.train_len).collect();
            self.rng.shuffle(&mut self.order);
            self.loss_sum = 0.0;
            self.correct = 0;
            self.seen = 0;
            self.batches = 0;
        }
        let spe = self.steps_per_epoch();
        let bs = self.config.batch_size;
        let idx: Vec<usize> = self.order[step * bs..((step + 1) * bs).min(self.train_len)].to_vec();
        let view = ImageView::of(&self.data, Split::Train);
        let batch = self.batcher.host_batch(&view, &idx, &mut self.rng);
        let lr = self.config.lr_at(epoch);

        let model = self.model.take().ok_or(TrainError::NoModel)?;
        let logits = model.forward(batch.images(&self.device));
        let loss = -(batch.targets(&self.device) * log_softmax(logits.clone(), 1)).sum_dim(1).mean();
        let loss_value = read_f32(loss.clone()).await?;
        if !loss_value.iter().all(|v| v.is_finite()) {
            self.model = Some(model);
            self.phase = Phase::Failed;
            let value = loss_value.first().map(|v| v.to_string()).unwrap_or_default();
            return Ok(vec![TrainEvent::Error(TrainFailure::NonFiniteLoss { epoch, step: step + 1, value })]);
        }
        let logit_values = read_f32(logits.detach()).await?;
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        self.model = Some(self.optim.step(lr, model, grads));

        let loss_value = loss_value[0] as f64;
        self.loss_sum += loss_value;
        self.batches += 1;
        for (row, &label) in logit_values.chunks(2).zip(&batch.labels) {
            let pred = u8::from(row[1] > row[0]);
            self.correct += usize::from(pred == label);
        }
        self.seen += idx.len();
        let step = step + 1;
        self.phase = if step >= spe { Phase::Val { epoch, done: 0 } } else { Phase::Train { epoch, step } };
        Ok(vec![TrainEvent::Step { epoch, step, steps_per_epoch: spe, loss: loss_value, lr }])
    }

    async fn val_chunk(&mut self, epoch: usize, done: usize) -> Result<Vec<TrainEvent>, TrainError> {
        let view = ImageView::of(&self.data, Split::Val);
        let total = view.len();
        if done == 0 {
            self.val_scores.clear();
        }
        let model = self.model.as_ref().ok_or(TrainError::NoModel)?.valid();
        let end = (done + EVAL_CHUNK).min(total);
        let idx: Vec<usize> = (done..end).collect();
        let probs = eval::probabilities(&model, &view, &idx, &self.device).await?;
        self.val_scores.extend(probs.chunks(2).map(|r| r[1]));
        let mut events = vec![TrainEvent::Eval { split: "val".into(), done: end, total }];
        if end < total {
            self.phase = Phase::Val { epoch, done: end };
            return Ok(events);
        }
        if self.val_scores.iter().any(|s| !s.is_finite()) {
            self.phase = Phase::Failed;
            events.push(TrainEvent::Error(TrainFailure::NonFiniteOutput { epoch }));
            return Ok(events);
        }
        let ev = metrics::evaluate(view.labels, &self.val_scores)?;
        let is_best = self.best.as_ref().is_none_or(|b| ev.auc > b.auc);
        if is_best {
            self.best = Some(Best { epoch, auc: ev.auc, model, val: Some(ev.clone()) });
        }
        let m = EpochMetrics {
            epoch,
            train_loss: self.loss_sum / self.batches.max(1) as f64,
            train_acc: self.correct as f64 / self.seen.max(1) as f64,
            val_loss: eval::binary_log_loss(view.labels, &self.val_scores),
            val_acc: ev.acc,
            val_auc: ev.auc,
            lr: self.config.lr_at(epoch),
            is_best,
        };
        self.history.push(m.clone());
        events.push(TrainEvent::Epoch(m));
        self.phase = if epoch >= self.config.epochs {
            Phase::Test { done: 0 }
        } else {
            Phase::Train { epoch: epoch + 1, step: 0 }
        };
        Ok(events)
    }

    async fn test_chunk(&mut self, done: usize) -> Result<Vec<TrainEvent>, TrainError> {
        let view = ImageView::of(&self.data, Split::Test);
        let total = view.len();
        if done == 0 {
            self.test_scores.clear();
        }
        let best = self.best.as_ref().ok_or(TrainError::NoModel)?;
        let end = (done + EVAL_CHUNK).min(total);
        let idx: Vec<usize> = (done..end).collect();
        let probs = eval::probabilities(&best.model, &view, &idx, &self.device).await?;
        self.test_scores.extend(probs.chunks(2).map(|r| r[1]));
        let mut events = vec![TrainEvent::Eval { split: "test".into(), done: end, total }];
        if end < total {
            self.phase = Phase::Test { done: end };
            return Ok(events);
        }
        let test = test_report(view.labels, &self.test_scores)?;
        let best_epoch = best.epoch;
        let val = match &best.val {
            Some(v) => v.clone(),
            None => eval::evaluate(&best.model, &ImageView::of(&self.data, Split::Val), &self.device).await?.0,
        };
        let result = RunResult {
            config: self.config.clone(),
            model: self.model_config.clone(),
            history: self.history.clone(),
            best_epoch,
            val,
            test,
        };
        self.result = Some(result.clone());
        self.phase = Phase::Done;
        events.push(TrainEvent::Done(Box::new(result)));
        Ok(events)
    }
}

/// The test report of label-1 `scores` against `labels`: AUC, ACC, confusion, ROC and one
/// prediction per image.
pub fn test_report(labels: &[u8], scores: &[f32]) -> Result<TestReport, MetricsError> {
    let ev = metrics::evaluate(labels, scores)?;
    let roc = metrics::roc_curve(labels, scores)?;
    let predictions = labels
        .iter()
        .zip(scores)
        .enumerate()
        .map(|(index, (&label, &s))| Prediction { index, label, score: s as f64 })
        .collect();
    Ok(TestReport { auc: ev.auc, acc: ev.acc, confusion: ev.confusion, roc, predictions })
}

/// The checkpoint's model configuration, if its images have the data's side and channels.
fn checkpoint_config_for(checkpoint: &Checkpoint, data: &Dataset) -> Result<ModelConfig, TrainError> {
    let mc = checkpoint.config.clone();
    if mc.input_size != data.side || mc.in_channels != data.channels {
        return Err(TrainError::DataShape {
            ckpt: mc.input_size,
            ckpt_ch: mc.in_channels,
            data: data.side,
            data_ch: data.channels,
        });
    }
    Ok(mc)
}

/// An imported checkpoint evaluated as a run of zero epochs: its model's validation and test
/// metrics (empty history, `best_epoch` 0, the default recipe as `config` with the checkpoint's
/// architecture). Returns the loaded model too (plain device, evaluation mode).
pub async fn evaluate_checkpoint(
    checkpoint: &Checkpoint,
    data: &Dataset,
    device: &Device,
) -> Result<(RunResult, ResNet), TrainError> {
    let mc = checkpoint_config_for(checkpoint, data)?;
    let plain = device.clone().without_autodiff();
    let model = checkpoint.load(&plain)?.valid();
    let (val, _) = eval::evaluate(&model, &ImageView::of(data, Split::Val), &plain).await?;
    let test_view = ImageView::of(data, Split::Test);
    let scores = eval::scores(&model, &test_view, &plain).await?;
    let test = test_report(test_view.labels, &scores)?;
    let mut config = TrainConfig::new().with_model(mc.size);
    config.resize = mc.resize;
    let result = RunResult { config, model: mc, history: Vec::new(), best_epoch: 0, val, test };
    Ok((result, model))
}

/// One optimisation step outside a [`Trainer`] (for benchmarks): forward, cross-entropy on the
/// batch's targets, backward, Adam. `model` must live on an autodiff device (`device`). Returns
/// the updated model and the loss, read back asynchronously (which also waits for the step).
pub async fn train_step(
    model: ResNet,
    optim: &mut ModuleOptimizer,
    batch: &HostBatch,
    lr: f64,
    device: &Device,
) -> Result<(ResNet, f64), TrainError> {
    let logits = model.forward(batch.images(device));
    let loss = -(batch.targets(device) * log_softmax(logits, 1)).sum_dim(1).mean();
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    let model = optim.step(lr, model, grads);
    let value = read_f32(loss.detach()).await?;
    Ok((model, value.first().copied().unwrap_or(f32::NAN) as f64))
}

async fn read_f32<const D: usize>(t: burn::tensor::Tensor<D>) -> Result<Vec<f32>, TrainError> {
    let data = t.into_data_async().await.map_err(|e| TrainError::Read(format!("{e:?}")))?;
    data.try_into_vec::<f32>().map_err(|e| TrainError::Read(format!("{e:?}")))
}

/// Drives `trainer` to the end, handing every event to `on_event`; returns the result, or the
/// failure if the run stopped early.
pub async fn run_to_end(
    trainer: &mut Trainer,
    mut on_event: impl FnMut(&TrainEvent),
) -> Result<Result<RunResult, TrainFailure>, TrainError> {
    loop {
        for ev in trainer.step().await? {
            on_event(&ev);
            match ev {
                TrainEvent::Done(r) => return Ok(Ok(*r)),
                TrainEvent::Error(f) => return Ok(Err(f)),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules() {
        let c = TrainConfig::new().with_epochs(100).with_lr(1e-3);
        assert_eq!(c.lr_at(1), 1e-3);
        assert_eq!(c.lr_at(50), 1e-3);
        assert!((c.lr_at(51) - 1e-4).abs() < 1e-12);
        assert!((c.lr_at(75) - 1e-4).abs() < 1e-12);
        assert!((c.lr_at(76) - 1e-5).abs() < 1e-12);
        let c = c.with_schedule(Schedule::Cosine);
        assert_eq!(c.lr_at(1), 1e-3);
        assert!((c.lr_at(51) - 0.5e-3).abs() < 1e-12);
        assert!(c.lr_at(100) < 1e-5);
    }

    #[test]
    fn defaults_are_the_official_recipe_and_validation_names_fields() {
        let c = TrainConfig::new();
        assert_eq!((c.model, c.epochs, c.batch_size, c.lr), (ModelSize::Resnet18, 100, 128, 1e-3));
        assert_eq!((c.schedule, c.augment, c.mixup, c.weight_decay), (Schedule::MultiStep, false, None, 0.0));
        assert_eq!(c.validate(546), Ok(()));
        assert_eq!(c.clone().with_epochs(0).validate(546), Err(ConfigError::Epochs(0)));
        assert_eq!(c.clone().with_subset(Some(600)).validate(546), Err(ConfigError::Subset { got: 600, max: 546 }));
        assert!(matches!(c.clone().with_lr(f64::NAN).validate(546), Err(ConfigError::Lr(_))));
        assert_eq!(c.with_mixup(Some(0.0)).validate(546), Err(ConfigError::Mixup(0.0)));
    }

    #[test]
    fn events_serialise_with_a_type_tag() {
        let e = TrainEvent::Step { epoch: 1, step: 2, steps_per_epoch: 5, loss: 0.5, lr: 1e-3 };
        let j = serde_json::to_value(&e).unwrap();
        assert_eq!(j["type"], "step");
        let back: TrainEvent = serde_json::from_value(j).unwrap();
        assert_eq!(back, e);
        let f = TrainEvent::Error(TrainFailure::NonFiniteLoss { epoch: 1, step: 1, value: "NaN".into() });
        let j = serde_json::to_value(&f).unwrap();
        assert_eq!(j["type"], "error");
        assert_eq!(serde_json::from_value::<TrainEvent>(j).unwrap(), f);
    }
}

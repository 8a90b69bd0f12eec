//! The hand-written training loop: a step-at-a-time [`Trainer`]. Its typed events and result
//! are `events`, the recipe [`config`], resumable snapshots [`snapshot`], and an imported
//! checkpoint's evaluation as a run of zero epochs `imported`.
//!
//! The loop: shuffle, batch (with the recipe's augmentation and mixup), forward, burn's
//! `cross_entropy_with_logits` on (soft) targets, backward, Adam, then one read of the loss and
//! logits together; after each epoch an evaluation on validation of the model the selection
//! rule would keep (the trained weights, or their moving average for `ema-last`), optionally
//! with flip test-time augmentation; at the end the kept model is evaluated once on test.
//!
//! [`Trainer::step`] does at most one optimisation step or one evaluation chunk per call, so a
//! browser can interleave training with rendering, pause between calls, or snapshot at an
//! epoch boundary and resume later. Every tensor read on this path is asynchronous.
//!
//! It must not know about files, the browser, progress bars or JSON layout: it emits
//! [`TrainEvent`]s and leaves their display and storage to its callers.

pub mod config;
pub mod curriculum;
mod events;
mod imported;
mod scored;
pub mod snapshot;

pub use config::{ConfigError, InitFile, OptimizerConfig, Preset, Schedule, Selection, StartingPoint, TrainConfig};
pub use curriculum::{Curriculum, Order};
pub use events::{
    EpochMetrics, Prediction, Rates, RunResult, SubsetReport, TaskRun, TestReport, TrainError, TrainEvent, TrainFailure,
    dataset_test_report, predictions, test_report,
};
pub use imported::{evaluate_checkpoint, evaluate_checkpoint_reporting, outputs_fit};
pub use scored::task_of;
pub use snapshot::{Snapshot, TrainState};

use std::sync::Arc;

use breastmnist_data::{Dataset, Split};
use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::Device;
use burn::tensor::Tensor;
use burn::tensor::activation::log_sigmoid;
use burn::tensor::loss::cross_entropy_with_logits;
use serde::{Deserialize, Serialize};

use crate::batch::{Batcher, HostBatch, ImageView};
use crate::checkpoint::{self, Checkpoint};
use crate::ema::Ema;
use crate::eval;
use crate::model::conv_check::{ConvRace, Settled};
use crate::model::{ConvAlgo, ModelConfig, Network};
use crate::prototypes::Search;
use crate::read::{read_all, read_f32};
use crate::rng::Rng;
use imported::checkpoint_shape_for;
use scored::Scored;

/// Where the trainer is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    /// Training epoch `epoch` (1-based); `step` steps of it are done.
    Train {
        epoch: usize,
        step: usize,
    },
    /// Projecting a prototype head's prototypes onto their nearest training patches after
    /// epoch `epoch`'s steps; `done` training images searched so far.
    Project {
        epoch: usize,
        done: usize,
    },
    /// Evaluating epoch `epoch`'s model on the validation split; `done` images so far.
    Val {
        epoch: usize,
        done: usize,
    },
    /// Evaluating the kept model on the test split.
    Test {
        done: usize,
    },
    Done,
    Failed,
}

struct Best {
    epoch: usize,
    auc: f64,
    model: Network,
    /// Validation metrics and probabilities of this model (`None` after a resume until
    /// re-evaluated).
    val: Option<Scored>,
}

/// The training loop, one small step at a time.
pub struct Trainer {
    config: TrainConfig,
    model_config: ModelConfig,
    data: Arc<Dataset>,
    device: Device,
    model: Option<Network>,
    /// The weight average, under `ema-last`.
    ema: Option<Ema>,
    optim: ModuleOptimizer,
    batcher: Batcher,
    rng: Rng,
    train_len: usize,
    /// This epoch's training images, in batch order.
    order: Vec<usize>,
    /// Each training image's loss the last time it was trained on (the curriculum's score).
    difficulty: Vec<f32>,
    phase: Phase,
    loss_sum: f64,
    /// Correct predictions this epoch (multi-label: the share of an image's labels right).
    correct: f64,
    seen: usize,
    batches: usize,
    /// This evaluation's probabilities so far, `[n][k]`.
    val_probs: Vec<f32>,
    test_probs: Vec<f32>,
    history: Vec<EpochMetrics>,
    best: Option<Best>,
    result: Option<RunResult>,
    /// A race between the convolution algorithms over the first full steps, and the clock
    /// (milliseconds) that times them; see [`Trainer::race_conv`].
    race: Option<(ConvRace, fn() -> f64)>,
    /// The projection in progress (a prototype head's, [`Phase::Project`]).
    search: Option<Search>,
}

impl Trainer {
    /// A new run from freshly initialised weights (seeded by `config.seed`) on `device`
    /// (autodiff is enabled on it here).
    pub fn new(config: TrainConfig, data: Arc<Dataset>, device: &Device) -> Result<Self, TrainError> {
        config.validate(data.train.len())?;
        task_of(&data)?;
        let model_config = config.model_config_for(&data);
        let ad = device.clone().autodiff();
        // Nothing in the loop draws from burn's RNG (init, shuffling, augmentation and mixup use
        // the crate's own seeded generator); seeding it too keeps any future use reproducible.
        ad.seed(config.seed);
        let model = model_config.init(&ad, config.seed)?;
        Self::with_model(config, model_config, data, ad, model)
    }

    /// Fine-tuning: a new run starting from `checkpoint`'s weights (its architecture wins over
    /// `config.model`/`config.resize`). Combine with `freeze_backbone` and a smaller `lr`. A
    /// checkpoint whose outputs are not the data's classes (transfer from another dataset, e.g.
    /// RetinaMNIST's five grades to BreastMNIST's two classes) keeps its features and gets a
    /// fresh classifier, seeded by `config.seed`.
    pub fn from_checkpoint(
        config: TrainConfig,
        data: Arc<Dataset>,
        checkpoint: &Checkpoint,
        device: &Device,
    ) -> Result<Self, TrainError> {
        config.validate(data.train.len())?;
        task_of(&data)?;
        let mc = checkpoint_shape_for(checkpoint, &data)?;
        let target = config.model_config_for(&data);
        // A prototype head asked for starts fresh on the checkpoint's features; one the checkpoint
        // has is kept unless the recipe asks for another.
        let target = mc
            .clone()
            .with_num_classes(target.num_classes)
            .with_multi_label(target.multi_label)
            .with_prototypes(config.prototypes.or(mc.prototypes));
        let config = config.with_architecture(&target);
        // Again with the checkpoint's architecture (a prototype head it brings cannot be kept as
        // a weight average either).
        config.validate(data.train.len())?;
        let ad = device.clone().autodiff();
        let model = checkpoint.load(&ad)?;
        let model = if target == mc {
            model
        } else {
            let fresh = target.init(&ad, config.seed)?;
            model.with_head_of(fresh).ok_or(TrainError::Classes { got: mc.num_classes, expected: target.num_classes })?
        };
        Self::with_model(config, target, data, ad, model)
    }

    fn with_model(
        config: TrainConfig,
        model_config: ModelConfig,
        data: Arc<Dataset>,
        device: Device,
        model: Network,
    ) -> Result<Self, TrainError> {
        let model = model.with_conv(config.conv);
        let model = if config.linear_probe {
            model.freeze_features()
        } else if config.freeze_backbone {
            model.freeze_backbone()
        } else {
            model
        };
        let ema = (config.selection == Selection::EmaLast).then(|| Ema::new(&model, config.ema_decay));
        let train_len = config.subset.unwrap_or(data.train.len()).min(data.train.len());
        Ok(Trainer {
            optim: config.optimizer.init(),
            batcher: config.batcher(model_config.num_classes),
            rng: Rng::new(config.seed).fork(1),
            model_config,
            data,
            device,
            model: Some(model),
            ema,
            train_len,
            order: Vec::new(),
            difficulty: vec![0.0; train_len],
            phase: Phase::Train { epoch: 1, step: 0 },
            loss_sum: 0.0,
            correct: 0.0,
            seen: 0,
            batches: 0,
            val_probs: Vec::new(),
            test_probs: Vec::new(),
            history: Vec::new(),
            best: None,
            result: None,
            race: None,
            search: None,
            config,
        })
    }

    /// Continues a run from a [`Snapshot`] (taken between epochs).
    pub fn resume(snapshot: &Snapshot, data: Arc<Dataset>, device: &Device) -> Result<Self, TrainError> {
        let st = &snapshot.state;
        st.config.validate(data.train.len())?;
        task_of(&data)?;
        imported::outputs_fit(&st.model, &data)?;
        let ad = device.clone().autodiff();
        let model = Checkpoint::from_bytes(&snapshot.current)?.load_as(&st.model, &ad)?;
        let mut t = Self::with_model(st.config.clone(), st.model.clone(), data, ad.clone(), model)?;
        t.rng = st.rng.clone();
        if st.difficulty.len() == t.train_len {
            t.difficulty = st.difficulty.clone();
        }
        t.history = st.history.clone();
        t.phase = if st.next_epoch > st.config.epochs {
            Phase::Test { done: 0 }
        } else {
            Phase::Train { epoch: st.next_epoch, step: 0 }
        };
        if let (Some(epoch), Some(auc), Some(bytes)) = (st.best_epoch, st.best_auc, &snapshot.best) {
            let model = Checkpoint::from_bytes(bytes)?.load_as(&st.model, &ad)?.valid();
            if t.config.selection == Selection::EmaLast {
                // Under `ema-last` the kept model is the average itself: continue it.
                let updates = ((st.next_epoch.max(1) - 1) * t.steps_per_epoch()) as u64;
                t.ema = Some(Ema::resume(model.clone(), t.config.ema_decay, updates));
            }
            t.best = Some(Best { epoch, auc, model, val: None });
        }
        Ok(t)
    }

    /// Lets a [`ConvRace`] pick the convolution algorithm from this run's first full training
    /// steps, timed with `clock` (milliseconds; the caller's, as the core has no clock in the
    /// browser). Only for algorithms verified on the device
    /// ([`should_race`](crate::model::conv_check::should_race)).
    pub fn race_conv(&mut self, clock: fn() -> f64) {
        self.race = Some((ConvRace::new(), clock));
    }

    /// `settled` with the race's outcome (the winner and its times) once it finished.
    pub fn conv_outcome(&self, settled: Settled) -> Settled {
        match &self.race {
            Some((race, _)) => race.outcome(settled),
            None => settled,
        }
    }

    /// Runs the convolutions with `algo` from the next step on (a verified switch, e.g. a
    /// [`ConvRace`](crate::model::conv_check::ConvRace)'s): the weights, the optimiser state
    /// and the run's position are unchanged.
    pub fn set_conv(&mut self, algo: ConvAlgo) {
        self.config.conv = Some(algo);
        self.model = self.model.take().map(|m| m.with_conv(Some(algo)));
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

    /// Optimisation steps in one full epoch (a paced curriculum epoch has fewer; each
    /// [`TrainEvent::Step`] carries its epoch's count).
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

    /// The model kept so far (by the selection rule), in evaluation mode, with its epoch.
    pub fn best_model(&self) -> Option<(usize, &Network)> {
        self.best.as_ref().map(|b| (b.epoch, &b.model))
    }

    /// The model being trained, in evaluation mode (for Grad-CAM or inspection mid-run).
    pub fn current_model(&self) -> Option<Network> {
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
                difficulty: self.difficulty.clone(),
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
            Phase::Project { epoch, done } => self.project_chunk(epoch, done).await,
            Phase::Val { epoch, done } => self.val_chunk(epoch, done).await,
            Phase::Test { done } => self.test_chunk(done).await,
            Phase::Done | Phase::Failed => Ok(Vec::new()),
        }
    }

    async fn train_step(&mut self, epoch: usize, step: usize) -> Result<Vec<TrainEvent>, TrainError> {
        if step == 0 {
            self.order = match &self.config.curriculum {
                Some(c) => c.pick(epoch, &self.difficulty, &mut self.rng),
                None => {
                    let mut all: Vec<usize> = (0..self.train_len).collect();
                    self.rng.shuffle(&mut all);
                    all
                }
            };
            self.loss_sum = 0.0;
            self.correct = 0.0;
            self.seen = 0;
            self.batches = 0;
        }
        let spe = self.order.len().div_ceil(self.config.batch_size);
        let bs = self.config.batch_size;
        let idx: Vec<usize> = self.order[step * bs..((step + 1) * bs).min(self.order.len())].to_vec();
        let view = ImageView::of(&self.data, Split::Train);
        let batch = self.batcher.host_batch(&view, &idx, &mut self.rng);
        let lr = self.config.lr_at(epoch);

        let racing = self.race.as_ref().filter(|(r, _)| r.decided().is_none()).map(|(r, clock)| (r.next(), *clock, clock()));
        if let Some((algo, _, _)) = racing {
            self.set_conv(algo);
        }
        let model = self.model.take().ok_or(TrainError::NoModel)?;
        let before = model.clone();
        let targets = batch.targets(&self.device);
        let (logits, costs) = model.forward_costed(batch.images(&self.device), targets.clone());
        let (k, multi_label) = (self.model_config.num_classes, self.model_config.multi_label);
        let loss = loss(logits.clone(), targets, multi_label);
        let loss = match costs {
            Some(c) => loss + c,
            None => loss,
        };
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let model = self.optim.step(lr, model, grads);
        // One read a step: the loss and the logits together, after the update.
        let n = batch.n;
        let mut read = read_all(vec![loss.detach(), logits.detach().reshape([n * k])]).await?.into_iter();
        let (loss_value, logit_values) = (read.next().unwrap_or_default(), read.next().unwrap_or_default());
        let loss_value = loss_value.first().copied().unwrap_or(f32::NAN);
        if !loss_value.is_finite() {
            // The update was computed from a non-finite loss: keep the weights from before it.
            self.model = Some(before);
            self.phase = Phase::Failed;
            return Ok(vec![TrainEvent::Error(TrainFailure::NonFiniteLoss {
                epoch,
                step: step + 1,
                value: loss_value.to_string(),
            })]);
        }
        if let Some(ema) = &mut self.ema {
            ema.update(&model);
        }
        self.model = Some(model);
        // Only full batches are comparable (the last one of an epoch may be smaller).
        if let (Some((algo, clock, started)), Some((race, _))) = (racing, self.race.as_mut())
            && idx.len() == bs
        {
            race.record(algo, clock() - started);
            if let Some((winner, _)) = race.decided() {
                self.set_conv(winner);
            }
        }

        let loss_value = loss_value as f64;
        self.loss_sum += loss_value;
        self.batches += 1;
        if multi_label {
            // A label is predicted present when its logit is positive (sigmoid > 0.5).
            let hits = logit_values.iter().zip(&batch.labels).filter(|&(&x, &l)| (x > 0.0) == (l == 1)).count();
            self.correct += hits as f64 / k as f64;
        } else {
            for (row, &label) in logit_values.chunks(k).zip(&batch.labels) {
                // The first largest logit, as the Evaluator's argmax (two classes: `row[1] > row[0]`).
                let pred = (0..k).fold(0, |best, j| if row[j] > row[best] { j } else { best });
                self.correct += f64::from(u8::from(pred == label as usize));
            }
        }
        let losses = curriculum::per_image_loss(&logit_values, &batch.targets, k, multi_label);
        for (&i, l) in idx.iter().zip(losses) {
            self.difficulty[i] = l;
        }
        self.seen += idx.len();
        let step = step + 1;
        self.phase = if step < spe {
            Phase::Train { epoch, step }
        } else if self.model_config.prototypes.is_some() {
            Phase::Project { epoch, done: 0 }
        } else {
            Phase::Val { epoch, done: 0 }
        };
        Ok(vec![TrainEvent::Step { epoch, step, steps_per_epoch: spe, loss: loss_value, lr }])
    }

    /// Searches the next chunk of training images for every prototype's nearest patch of its
    /// class; after the last, moves each prototype onto its patch (ProtoPNet's projection), so
    /// the model evaluated next explains itself with real training patches.
    async fn project_chunk(&mut self, epoch: usize, done: usize) -> Result<Vec<TrainEvent>, TrainError> {
        let model = self.model.as_ref().ok_or(TrainError::NoModel)?.valid();
        if done == 0 {
            self.search = Some(Search::new(&model).await?);
        }
        let view = ImageView::of(&self.data, Split::Train);
        let total = self.train_len;
        let end = (done + eval::chunk_size(&model, view.side)).min(total);
        let idx: Vec<usize> = (done..end).collect();
        let search = self.search.as_mut().ok_or(TrainError::NoModel)?;
        search.add(&model, &view, &idx, &self.device).await?;
        if end < total {
            self.phase = Phase::Project { epoch, done: end };
        } else {
            let values = search.projected();
            self.search = None;
            self.model = self.model.take().map(|m| m.with_prototypes(values));
            self.phase = Phase::Val { epoch, done: 0 };
        }
        Ok(vec![TrainEvent::Eval { split: Split::Train, done: end, total }])
    }

    async fn val_chunk(&mut self, epoch: usize, done: usize) -> Result<Vec<TrainEvent>, TrainError> {
        let view = ImageView::of(&self.data, Split::Val);
        let total = view.len();
        if done == 0 {
            self.val_probs.clear();
        }
        // The model the selection rule would keep: the trained weights, or their average.
        let model = match &self.ema {
            Some(ema) => ema.model().clone(),
            None => self.model.as_ref().ok_or(TrainError::NoModel)?.valid(),
        };
        let end = (done + eval::chunk_size(&model, view.side)).min(total);
        let idx: Vec<usize> = (done..end).collect();
        let (k, multi_label) = (self.model_config.num_classes, self.model_config.multi_label);
        let probs = eval::probabilities_as(&model, &view, &idx, &self.device, self.config.tta, multi_label).await?;
        self.val_probs.extend(probs);
        let mut events = vec![TrainEvent::Eval { split: Split::Val, done: end, total }];
        if end < total {
            self.phase = Phase::Val { epoch, done: end };
            return Ok(events);
        }
        if self.val_probs.iter().any(|s| !s.is_finite()) {
            self.phase = Phase::Failed;
            events.push(TrainEvent::Error(TrainFailure::NonFiniteOutput { epoch }));
            return Ok(events);
        }
        let scored = scored::score(&self.data, Split::Val, std::mem::take(&mut self.val_probs), k)?;
        let ev = scored.eval.clone();
        let val_loss = if scored.task.is_none() {
            eval::binary_log_loss(view.labels, &scored::label_one(&scored.probs))
        } else {
            eval::log_loss(view.labels, &scored.probs, k, multi_label)
        };
        let is_best = match self.config.selection {
            Selection::BestValAuc => self.best.as_ref().is_none_or(|b| ev.auc > b.auc),
            Selection::Last | Selection::EmaLast => true,
        };
        if is_best {
            self.best = Some(Best { epoch, auc: ev.auc, model, val: Some(scored) });
        }
        let m = EpochMetrics {
            epoch,
            train_loss: self.loss_sum / self.batches.max(1) as f64,
            train_acc: self.correct / self.seen.max(1) as f64,
            val_loss,
            val_acc: ev.acc,
            val_auc: ev.auc,
            lr: self.config.lr_at(epoch),
            is_best,
        };
        self.history.push(m.clone());
        events.push(TrainEvent::Epoch(m));
        self.phase =
            if epoch >= self.config.epochs { Phase::Test { done: 0 } } else { Phase::Train { epoch: epoch + 1, step: 0 } };
        Ok(events)
    }

    async fn test_chunk(&mut self, done: usize) -> Result<Vec<TrainEvent>, TrainError> {
        let view = ImageView::of(&self.data, Split::Test);
        let total = view.len();
        if done == 0 {
            self.test_probs.clear();
        }
        let (k, multi_label) = (self.model_config.num_classes, self.model_config.multi_label);
        let best = self.best.as_ref().ok_or(TrainError::NoModel)?;
        let end = (done + eval::chunk_size(&best.model, view.side)).min(total);
        let idx: Vec<usize> = (done..end).collect();
        let probs = eval::probabilities_as(&best.model, &view, &idx, &self.device, self.config.tta, multi_label).await?;
        self.test_probs.extend(probs);
        let mut events = vec![TrainEvent::Eval { split: Split::Test, done: end, total }];
        if end < total {
            self.phase = Phase::Test { done: end };
            return Ok(events);
        }
        let test = scored::score(&self.data, Split::Test, std::mem::take(&mut self.test_probs), k)?;
        let val = match &best.val {
            Some(v) => v.clone(),
            None => {
                let view = ImageView::of(&self.data, Split::Val);
                let probs =
                    eval::probabilities_reporting(&best.model, &view, &self.device, self.config.tta, multi_label, &mut |_, _| {})
                        .await?;
                scored::score(&self.data, Split::Val, probs, k)?
            }
        };
        let result = scored::assemble(
            &self.data,
            self.config.clone(),
            self.model_config.clone(),
            self.history.clone(),
            best.epoch,
            val,
            test,
        )?;
        self.result = Some(result.clone());
        self.phase = Phase::Done;
        events.push(TrainEvent::Done(Box::new(result)));
        Ok(events)
    }
}

/// The training loss of `logits` against `targets` (`[n][k]`): burn's cross-entropy on (soft)
/// class targets, or for multi-label data the mean binary cross-entropy of every label,
/// `-(t ln σ(x) + (1 - t) ln σ(-x))`, as MedMNIST's reference trainer (`BCEWithLogitsLoss`).
fn loss(logits: Tensor<2>, targets: Tensor<2>, multi_label: bool) -> Tensor<1> {
    if multi_label {
        let positive = targets.clone() * log_sigmoid(logits.clone());
        let negative = (targets.neg() + 1.0) * log_sigmoid(logits.neg());
        (positive + negative).neg().mean()
    } else {
        cross_entropy_with_logits(logits, targets)
    }
}

/// One optimisation step outside a [`Trainer`] (for benchmarks): forward, cross-entropy on the
/// batch's targets, backward, Adam. `model` must live on an autodiff device (`device`). Returns
/// the updated model and the loss, read back asynchronously (which also waits for the step).
pub async fn train_step(
    model: Network,
    optim: &mut ModuleOptimizer,
    batch: &HostBatch,
    lr: f64,
    device: &Device,
) -> Result<(Network, f64), TrainError> {
    let logits = model.forward(batch.images(device));
    let loss = cross_entropy_with_logits(logits, batch.targets(device));
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    let model = optim.step(lr, model, grads);
    let value = read_f32(loss.detach()).await?;
    Ok((model, value.first().copied().unwrap_or(f32::NAN) as f64))
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

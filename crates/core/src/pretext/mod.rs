//! Self-supervised pretraining of a zoo encoder on unlabeled images, one step at a time:
//! - [`Task::Contrastive`]: SimCLR — two random views of each image ([`ViewAugment`]), a
//!   projection head, the NT-Xent loss ([`loss::nt_xent`]);
//! - [`Task::Masked`]: masked-image reconstruction — square patches hidden
//!   ([`views::mask_patches`]), a light decoder from layer4, the squared error on the hidden
//!   pixels only ([`loss::masked_mse`]).
//!
//! The images come from a [`Pool`] (BreastMNIST's training split and other MedMNIST files),
//! never from BreastMNIST's validation or test splits. The result is the encoder as a
//! [`Checkpoint`](crate::Checkpoint)-able [`Network`] whose classifier is freshly initialised:
//! fine-tune it (`Trainer::from_checkpoint`) or train its classifier alone (a linear probe,
//! [`TrainConfig::linear_probe`](crate::TrainConfig)).
//!
//! It must not know about files, the browser or how the events are shown.

pub mod heads;
pub mod inspect;
pub mod loss;
pub mod pool;
pub mod views;

pub use heads::{Decoder, Head, PretextModel, Projection};
pub use pool::{Pool, PoolError, Source};
pub use views::ViewAugment;

use std::sync::Arc;

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::checkpoint::{self, CheckpointError};
use crate::epochs::{Epochs, Turn};
use crate::model::{ModelConfig, ModelError, ModelSize, Network, Stage, reinit};
use crate::read::{ReadError, read_f32};
use crate::rng::Rng;
use crate::train::{ConfigError, OptimizerConfig, Schedule};

breastmnist_data::names! {
    /// The pretext task.
    pub Task ("pretext task") {
        /// SimCLR: agree across two augmented views of an image.
        Contrastive => "contrastive",
        /// Reconstruct hidden patches from the visible ones.
        Masked => "masked",
    }
}

/// A pretraining run's configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PretextConfig {
    pub task: Task,
    /// The encoder: a member of the zoo.
    pub model: ModelSize,
    pub epochs: usize,
    /// Images per step (a contrastive step sees twice as many views).
    pub batch_size: usize,
    #[serde(flatten)]
    pub optimizer: OptimizerConfig,
    /// NT-Xent's temperature.
    pub temperature: f64,
    /// Fraction of the patches hidden (masked).
    pub mask_ratio: f64,
    /// Side of a hidden square in pixels (masked).
    pub patch: usize,
    /// How contrastive views are drawn.
    pub views: ViewAugment,
    pub seed: u64,
}

impl PretextConfig {
    /// The defaults for `task` on `model`: 10 epochs of batch 128, Adam 1e-3 with cosine
    /// annealing; temperature 0.2; half of the 4x4 patches hidden.
    pub fn new(task: Task, model: ModelSize) -> Self {
        PretextConfig {
            task,
            model,
            epochs: 10,
            batch_size: 128,
            optimizer: OptimizerConfig::new().with_schedule(Schedule::Cosine),
            temperature: 0.2,
            mask_ratio: 0.5,
            patch: 4,
            views: ViewAugment::default(),
            seed: 0,
        }
    }

    #[must_use]
    pub fn with_epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
        self
    }

    #[must_use]
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    #[must_use]
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    #[must_use]
    pub fn with_lr(mut self, lr: f64) -> Self {
        self.optimizer.lr = lr;
        self
    }

    pub fn validate(&self) -> Result<(), PretextError> {
        if self.epochs == 0 {
            return Err(ConfigError::Epochs(0).into());
        }
        // NT-Xent needs at least one negative: two images a batch.
        if self.batch_size < 2 {
            return Err(ConfigError::BatchSize(self.batch_size).into());
        }
        self.optimizer.validate()?;
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return Err(PretextError::Setting(format!("the temperature must be a positive number (got {})", self.temperature)));
        }
        if !(self.mask_ratio > 0.0 && self.mask_ratio < 1.0) {
            return Err(PretextError::Setting(format!("the mask ratio must be in (0, 1) (got {})", self.mask_ratio)));
        }
        if self.patch == 0 {
            return Err(PretextError::Setting("the patch side must be at least 1 px".into()));
        }
        Ok(())
    }

    /// The encoder's configuration for one-channel images of `side` px.
    pub fn model_config(&self, side: usize) -> ModelConfig {
        ModelConfig::of(self.model).with_input_size(side).with_in_channels(1)
    }
}

/// What the loop reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PretextEvent {
    /// One optimisation step (1-based epoch and step) and its loss.
    Step {
        epoch: usize,
        step: usize,
        steps_per_epoch: usize,
        loss: f64,
        lr: f64,
    },
    /// An epoch's mean loss.
    Epoch {
        epoch: usize,
        loss: f64,
    },
    Done,
}

/// Errors that stop pretraining.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PretextError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Setting(String),
    #[error(transparent)]
    Pool(#[from] PoolError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error("the pretext loss became {value} at epoch {epoch}, step {step}")]
    NonFinite { epoch: usize, step: usize, value: String },
    #[error("pretraining has no model (it failed earlier)")]
    NoModel,
}

/// One epoch's mean pretext loss (the report's curve).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochLoss {
    pub epoch: usize,
    pub loss: f64,
}

/// The loop, one step at a time.
pub struct PretextTrainer {
    config: PretextConfig,
    model_config: ModelConfig,
    pool: Arc<Pool>,
    device: Device,
    model: Option<PretextModel>,
    optim: ModuleOptimizer,
    rng: Rng,
    epochs: Epochs,
    loss_sum: f64,
    history: Vec<EpochLoss>,
}

impl PretextTrainer {
    /// A fresh encoder (seeded by `config.seed`) and head on `device` (autodiff enabled here).
    pub fn new(config: PretextConfig, pool: Arc<Pool>, device: &Device) -> Result<Self, PretextError> {
        config.validate()?;
        if pool.is_empty() {
            return Err(PoolError::Empty.into());
        }
        let model_config = config.model_config(pool.side());
        let ad = device.clone().autodiff();
        ad.seed(config.seed);
        let encoder = model_config.init(&ad, config.seed)?;
        let features = model_config.stage_channels(Stage::Layer4);
        let head = match config.task {
            Task::Contrastive => Head::Projection(Projection::new(features, &ad)),
            Task::Masked => Head::Decoder(Decoder::new(features, 1, pool.side(), &ad)),
        };
        let head = reinit(head, config.seed ^ 0x4EAD);
        Ok(PretextTrainer {
            optim: config.optimizer.init(),
            rng: Rng::new(config.seed).fork(7),
            model: Some(PretextModel { encoder, head }),
            model_config,
            epochs: Epochs::new(pool.len(), config.batch_size, config.epochs),
            pool,
            device: ad,
            loss_sum: 0.0,
            history: Vec::new(),
            config,
        })
    }

    pub fn config(&self) -> &PretextConfig {
        &self.config
    }

    pub fn steps_per_epoch(&self) -> usize {
        self.epochs.steps_per_epoch()
    }

    pub fn is_finished(&self) -> bool {
        self.epochs.is_finished()
    }

    /// Each finished epoch's mean loss.
    pub fn history(&self) -> &[EpochLoss] {
        &self.history
    }

    /// The model, in evaluation mode (encoder and head).
    pub fn model(&self) -> Option<PretextModel> {
        self.model.as_ref().map(|m| m.valid())
    }

    /// The encoder as a zoo network with a fresh classifier, in evaluation mode.
    pub fn encoder(&self) -> Option<Network> {
        self.model.as_ref().map(|m| m.encoder.valid())
    }

    /// The encoder's checkpoint bytes (async reads: safe on WebGPU).
    pub async fn checkpoint(&self) -> Result<Vec<u8>, PretextError> {
        let encoder = self.encoder().ok_or(PretextError::NoModel)?;
        Ok(checkpoint::save_async(&encoder, &self.model_config).await?)
    }

    /// One optimisation step; returns nothing once every epoch is done.
    pub async fn step(&mut self) -> Result<Vec<PretextEvent>, PretextError> {
        if self.is_finished() {
            return Ok(Vec::new());
        }
        let Turn { epoch, step, indices: idx, starts_epoch } = self.epochs.turn(&mut self.rng);
        if starts_epoch {
            self.loss_sum = 0.0;
        }
        let spe = self.steps_per_epoch();
        let lr = self.config.optimizer.lr_at(epoch, self.config.epochs);
        let model = self.model.take().ok_or(PretextError::NoModel)?;
        let loss = self.loss(&model, &idx);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let before = model.clone();
        let model = self.optim.step(lr, model, grads);
        let value = read_f32(loss.detach()).await?.first().copied().unwrap_or(f32::NAN);
        if !value.is_finite() {
            self.model = Some(before);
            return Err(PretextError::NonFinite { epoch, step: step + 1, value: value.to_string() });
        }
        self.model = Some(model);
        self.loss_sum += value as f64;
        let mut events = vec![PretextEvent::Step { epoch, step: step + 1, steps_per_epoch: spe, loss: value as f64, lr }];
        if self.epochs.advance() {
            let mean = self.loss_sum / spe as f64;
            self.history.push(EpochLoss { epoch, loss: mean });
            events.push(PretextEvent::Epoch { epoch, loss: mean });
            if self.is_finished() {
                events.push(PretextEvent::Done);
            }
        }
        Ok(events)
    }

    /// The task's loss on the images `idx` of the pool.
    fn loss(&mut self, model: &PretextModel, idx: &[usize]) -> Tensor<1> {
        let side = self.pool.side();
        let per = side * side;
        let n = idx.len();
        let tensor = |v: Vec<f32>| Tensor::<4>::from_data(TensorData::new(v, [n, 1, side, side]), &self.device);
        match self.config.task {
            Task::Contrastive => {
                let (mut a, mut b) = (vec![0.0; n * per], vec![0.0; n * per]);
                for (k, &i) in idx.iter().enumerate() {
                    self.config.views.view_into(self.pool.image(i), side, &mut self.rng, &mut a[k * per..(k + 1) * per]);
                    self.config.views.view_into(self.pool.image(i), side, &mut self.rng, &mut b[k * per..(k + 1) * per]);
                }
                // Both views go through the encoder as one batch (shared BatchNorm statistics).
                let both = Tensor::cat(vec![tensor(a), tensor(b)], 0);
                let z = model.project(both).expect("a contrastive model has a projection head");
                let z1 = z.clone().narrow(0, 0, n);
                let z2 = z.narrow(0, n, n);
                loss::nt_xent(z1, z2, self.config.temperature)
            }
            Task::Masked => {
                let (mut input, mut target, mut mask) = (vec![0.0; n * per], vec![0.0; n * per], vec![0.0; n * per]);
                for (k, &i) in idx.iter().enumerate() {
                    let img = self.pool.image(i);
                    let flip = self.rng.unit() < 0.5;
                    let m = views::mask_patches(side, self.config.patch, self.config.mask_ratio as f32, &mut self.rng);
                    for y in 0..side {
                        for x in 0..side {
                            let sx = if flip { side - 1 - x } else { x };
                            let v = crate::batch::normalise(img[y * side + sx]);
                            let o = k * per + y * side + x;
                            target[o] = v;
                            mask[o] = m[y * side + x];
                            // Hidden pixels read as 0, the middle of the normalised range.
                            input[o] = v * (1.0 - m[y * side + x]);
                        }
                    }
                }
                let prediction = model.reconstruct(tensor(input)).expect("a masked model has a decoder");
                loss::masked_mse(prediction, tensor(target), tensor(mask))
            }
        }
    }
}

/// Runs `trainer` to the end, handing every event to `on_event`.
pub async fn run_to_end(trainer: &mut PretextTrainer, mut on_event: impl FnMut(&PretextEvent)) -> Result<(), PretextError> {
    while !trainer.is_finished() {
        for ev in trainer.step().await? {
            on_event(&ev);
        }
    }
    Ok(())
}

/// What a pretraining run did: the document `breastmnist ssl` writes beside the encoder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PretextReport {
    pub schema_version: u32,
    pub kind: String,
    pub config: PretextConfig,
    /// Every file the pool read, with the splits read.
    pub sources: Vec<Source>,
    pub images: usize,
    pub history: Vec<EpochLoss>,
    pub seconds: f64,
}

impl PretextReport {
    pub fn new(trainer: &PretextTrainer, seconds: f64) -> Self {
        PretextReport {
            schema_version: crate::export::SCHEMA_VERSION,
            kind: "pretext".into(),
            config: trainer.config.clone(),
            sources: trainer.pool.sources().to_vec(),
            images: trainer.pool.len(),
            history: trainer.history.clone(),
            seconds,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}

//! GAN-based augmentation: a small class-conditional DCGAN ([`nets`]) trained on a dataset's
//! *training* images only, one step at a time, and its samples mixed into a recipe's training
//! set (the lab's `gan-aug`); [`crate::frechet`] measures how close they come to the real images.
//!
//! The rule "never a validation or test image" is kept by [`Real`], the only way the trainer
//! gets images: it reads `Split::Train` alone (`the_gan_reads_the_training_split_only`).
//! Generated images are always marked as such: [`Synthetic`] carries them apart from any
//! dataset until [`Synthetic::mixed_into`] appends them, after the real training images, to a
//! copy whose validation and test splits are the original's.

pub mod nets;

use std::sync::Arc;

use breastmnist_data::{Dataset, SplitData, Targets};
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::batch::normalise;
use crate::epochs::{Epochs, Turn};
use crate::read::{ReadError, read_f32};
use crate::rng::Rng;
use nets::{Discriminator, Generator, LATENT, SIDE};

/// The recipe: DCGAN's Adam (lr 2e-4, beta1 0.5), batch 32.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GanConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub seed: u64,
}

impl Default for GanConfig {
    fn default() -> Self {
        GanConfig { epochs: 60, batch_size: 32, lr: 2e-4, seed: 0 }
    }
}

impl GanConfig {
    pub fn with_epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
        self
    }

    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    fn validate(&self) -> Result<(), GanError> {
        if self.epochs == 0 || self.batch_size < 2 || !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err(GanError::Setting(format!(
                "a GAN needs at least 1 epoch, a batch of 2 or more and a positive learning rate (got {} epochs, batch {}, lr {})",
                self.epochs, self.batch_size, self.lr
            )));
        }
        Ok(())
    }
}

/// Why a GAN cannot train or sample.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GanError {
    #[error(
        "the GAN generates 28 px gray images of single-label classes; this data has {side} px images with {channels} channel(s) ({targets})"
    )]
    Shape { side: usize, channels: usize, targets: String },
    #[error("{0}")]
    Setting(String),
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("the GAN's losses became {value} at epoch {epoch}, step {step}")]
    NonFinite { epoch: usize, step: usize, value: String },
    #[error("the GAN has no model (it failed earlier)")]
    NoModel,
}

/// The real images a GAN learns from: a dataset's training split, and nothing else.
#[derive(Clone, Debug, PartialEq)]
pub struct Real {
    images: Vec<u8>,
    labels: Vec<u8>,
    classes: usize,
}

impl Real {
    /// `data`'s training images and labels (28 px, one channel, one class each).
    pub fn training(data: &Dataset) -> Result<Real, GanError> {
        let Targets::Classes(classes) = data.targets else {
            return Err(Self::shape(data));
        };
        if data.side != SIDE || data.channels != 1 || data.train.is_empty() {
            return Err(Self::shape(data));
        }
        Ok(Real { images: data.train.images.clone(), labels: data.train.labels.clone(), classes })
    }

    fn shape(data: &Dataset) -> GanError {
        GanError::Shape { side: data.side, channels: data.channels, targets: format!("{:?}", data.targets) }
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Image `i`'s pixels.
    pub fn image(&self, i: usize) -> &[u8] {
        &self.images[i * SIDE * SIDE..(i + 1) * SIDE * SIDE]
    }

    pub fn label(&self, i: usize) -> u8 {
        self.labels[i]
    }
}

/// What the loop reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum GanEvent {
    /// One step: the discriminator's and the generator's losses.
    Step {
        epoch: usize,
        step: usize,
        steps_per_epoch: usize,
        d_loss: f64,
        g_loss: f64,
    },
    /// An epoch's mean losses.
    Epoch(GanEpoch),
    Done,
}

/// One epoch's mean losses (the report's curves).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GanEpoch {
    pub epoch: usize,
    pub d_loss: f64,
    pub g_loss: f64,
}

/// One GAN of a lab's `gan-aug` rows: its recipe, curves and what it added.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GanRun {
    pub model: String,
    pub seed: u64,
    pub config: GanConfig,
    /// Generated images added per real training image.
    pub ratio: f64,
    /// Generated images added, all labelled synthetic.
    pub synthetic: usize,
    pub history: Vec<GanEpochReport>,
    pub seconds: f64,
}

/// An epoch's losses and, when an encoder was given, the Fréchet distance between the training
/// images and as many generated ones in that encoder's feature space.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GanEpochReport {
    pub epoch: usize,
    pub d_loss: f64,
    pub g_loss: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frechet: Option<f64>,
}

/// Generated images and the class each was asked for: synthetic, never part of a split.
#[derive(Clone, Debug, PartialEq)]
pub struct Synthetic {
    pub images: Vec<u8>,
    pub labels: Vec<u8>,
}

impl Synthetic {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// A copy of `data` whose training split is its own images followed by these (so
    /// `subset: N` still takes real images first); validation and test are `data`'s.
    pub fn mixed_into(&self, data: &Dataset) -> Dataset {
        let mut images = data.train.images.clone();
        images.extend_from_slice(&self.images);
        let mut labels = data.train.labels.clone();
        labels.extend_from_slice(&self.labels);
        Dataset { train: SplitData::single(images, labels), ..data.clone() }
    }
}

/// Binary cross-entropy on logits against a constant target: `max(x, 0) - x t + log(1 + e^-|x|)`.
fn bce(logits: Tensor<2>, target: f32) -> Tensor<1> {
    let softplus = logits.clone().abs().neg().exp().log1p();
    (relu(logits.clone()) - logits * target + softplus).mean()
}

/// The loop, one step (a discriminator update, then a generator update) at a time.
pub struct GanTrainer {
    config: GanConfig,
    real: Arc<Real>,
    device: Device,
    generator: Option<Generator>,
    discriminator: Option<Discriminator>,
    opt_g: ModuleOptimizer,
    opt_d: ModuleOptimizer,
    rng: Rng,
    epochs: Epochs,
    sums: (f64, f64),
    history: Vec<GanEpoch>,
}

impl GanTrainer {
    /// Fresh networks (seeded by `config.seed`) on `device` (autodiff is enabled on it here).
    pub fn new(config: GanConfig, real: Arc<Real>, device: &Device) -> Result<Self, GanError> {
        config.validate()?;
        let ad = device.clone().autodiff();
        ad.seed(config.seed);
        let adam = || AdamConfig::new().with_beta_1(0.5).with_beta_2(0.999).with_epsilon(1e-8).init();
        Ok(GanTrainer {
            generator: Some(Generator::new(real.classes(), &ad)),
            discriminator: Some(Discriminator::new(real.classes(), &ad)),
            opt_g: adam(),
            opt_d: adam(),
            rng: Rng::new(config.seed).fork(11),
            device: ad,
            epochs: Epochs::new(real.len(), config.batch_size, config.epochs),
            real,
            sums: (0.0, 0.0),
            history: Vec::new(),
            config,
        })
    }

    pub fn config(&self) -> &GanConfig {
        &self.config
    }

    pub fn steps_per_epoch(&self) -> usize {
        self.epochs.steps_per_epoch()
    }

    pub fn is_finished(&self) -> bool {
        self.epochs.is_finished()
    }

    /// Each finished epoch's mean losses.
    pub fn history(&self) -> &[GanEpoch] {
        &self.history
    }

    /// The generator's and discriminator's class input: `[n, k]`, one-hot.
    fn onehot(labels: &[u8], k: usize, device: &Device) -> Tensor<2> {
        let v: Vec<f32> = labels.iter().flat_map(|&l| (0..k).map(move |c| f32::from(u8::from(usize::from(l) == c)))).collect();
        Tensor::<2>::from_data(TensorData::new(v, [labels.len(), k]), device)
    }

    fn latent(rng: &mut Rng, n: usize, device: &Device) -> Tensor<2> {
        let v: Vec<f32> = (0..n * LATENT).map(|_| rng.normal() as f32).collect();
        Tensor::<2>::from_data(TensorData::new(v, [n, LATENT]), device)
    }

    /// One step; returns nothing once every epoch is done.
    pub async fn step(&mut self) -> Result<Vec<GanEvent>, GanError> {
        if self.is_finished() {
            return Ok(Vec::new());
        }
        let Turn { epoch, step, indices: idx, starts_epoch } = self.epochs.turn(&mut self.rng);
        if starts_epoch {
            self.sums = (0.0, 0.0);
        }
        let spe = self.steps_per_epoch();
        let n = idx.len();
        // Real images, flipped at random (the only augmentation), and their classes.
        let mut pixels = Vec::with_capacity(n * SIDE * SIDE);
        for &i in &idx {
            let image = self.real.image(i);
            let flip = self.rng.unit() < 0.5;
            for y in 0..SIDE {
                for x in 0..SIDE {
                    pixels.push(normalise(image[y * SIDE + if flip { SIDE - 1 - x } else { x }]));
                }
            }
        }
        let real = Tensor::<4>::from_data(TensorData::new(pixels, [n, 1, SIDE, SIDE]), &self.device);
        let labels: Vec<u8> = idx.iter().map(|&i| self.real.label(i)).collect();
        let y = Self::onehot(&labels, self.real.classes(), &self.device);
        // Fakes of the batch's classes, so that they come at the training prior: were their
        // classes drawn uniformly, the conditional discriminator could call a fake by its class
        // alone (on BreastMNIST a malignant label would mostly mean "fake"), and the generator
        // would be pushed to match the class frequencies rather than the images.
        let fy = y.clone();
        let (g, d) = (self.generator.take().ok_or(GanError::NoModel)?, self.discriminator.take().ok_or(GanError::NoModel)?);
        let lr = self.config.lr;

        // The discriminator: real as real (one-sided label smoothing, 0.9), fakes as fakes.
        let fake = g.forward(Self::latent(&mut self.rng, n, &self.device), fy.clone()).detach();
        let d_loss = bce(d.forward(real, y), 0.9) + bce(d.forward(fake, fy.clone()), 0.0);
        let grads = GradientsParams::from_grads(d_loss.backward(), &d);
        let d = self.opt_d.step(lr, d, grads);

        // The generator: its fakes judged real by the updated discriminator.
        let fake = g.forward(Self::latent(&mut self.rng, n, &self.device), fy.clone());
        let g_loss = bce(d.forward(fake, fy), 1.0);
        let grads = GradientsParams::from_grads(g_loss.backward(), &g);
        let g = self.opt_g.step(lr, g, grads);

        let values = read_f32(Tensor::cat(vec![d_loss.detach(), g_loss.detach()], 0)).await?;
        let (dl, gl) = (values[0] as f64, values[1] as f64);
        if !dl.is_finite() || !gl.is_finite() {
            return Err(GanError::NonFinite { epoch, step: step + 1, value: format!("{dl} / {gl}") });
        }
        self.generator = Some(g);
        self.discriminator = Some(d);
        self.sums.0 += dl;
        self.sums.1 += gl;
        let mut events = vec![GanEvent::Step { epoch, step: step + 1, steps_per_epoch: spe, d_loss: dl, g_loss: gl }];
        if self.epochs.advance() {
            let e = GanEpoch { epoch, d_loss: self.sums.0 / spe as f64, g_loss: self.sums.1 / spe as f64 };
            self.history.push(e.clone());
            events.push(GanEvent::Epoch(e));
            if self.is_finished() {
                events.push(GanEvent::Done);
            }
        }
        Ok(events)
    }

    /// `counts[c]` images of each class `c` from the generator in evaluation mode, from latent
    /// vectors drawn with `seed` (the same seed gives the same images), class by class.
    pub async fn sample(&self, counts: &[usize], seed: u64) -> Result<Synthetic, GanError> {
        let k = self.real.classes();
        if counts.len() != k {
            return Err(GanError::Setting(format!("{} counts for {k} classes", counts.len())));
        }
        let g = self.generator.as_ref().ok_or(GanError::NoModel)?.valid();
        let plain = self.device.clone().without_autodiff();
        let mut rng = Rng::new(seed).fork(13);
        let mut out = Synthetic { images: Vec::new(), labels: Vec::new() };
        for (class, &count) in counts.iter().enumerate() {
            let mut left = count;
            while left > 0 {
                let n = left.min(128);
                let labels = vec![class as u8; n];
                let y = Self::onehot(&labels, k, &plain);
                let images = read_f32(g.forward(Self::latent(&mut rng, n, &plain), y)).await?;
                out.images.extend(images.iter().map(|&v| ((v * 0.5 + 0.5) * 255.0).round().clamp(0.0, 255.0) as u8));
                out.labels.extend(labels);
                left -= n;
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loss_is_binary_cross_entropy_on_logits() {
        let d = Device::flex();
        let x = Tensor::<2>::from_floats([[0.0], [2.0], [-3.0]], &d);
        let got = bce(x, 0.9).into_data().try_into_vec::<f32>().unwrap()[0];
        let want = [0.0f32, 2.0, -3.0]
            .iter()
            .map(|&x| {
                let p = 1.0 / (1.0 + (-x).exp());
                -(0.9 * p.ln() + 0.1 * (1.0 - p).ln())
            })
            .sum::<f32>()
            / 3.0;
        assert!((got - want).abs() < 1e-5, "{got} vs {want}");
    }
}

//! Whether a backend trains as burn flex does. The same model, from the same weights (written on
//! flex and loaded onto the device), computes its logits on one fixed batch and then takes the
//! same Adam steps on it on `device` and on flex, the pure-Rust CPU backend every test runs on;
//! the logits and the loss of every step are compared.
//!
//! The logits are compared before training, where the forward pass alone decides them: after
//! some Adam steps a parameter whose gradient is near zero moves by about the learning rate in
//! either direction on a rounding difference, so later logits part by more than any kernel
//! error would make them. The loss trajectory is what shows a wrong or lost update.
//!
//! This is what stands between a GPU backend the CLI can be built with (`wgpu`, `vulkan`,
//! `cuda`, and burn's `fusion` on any of them) and a run on it: `breastmnist bench` prints the
//! check for every backend it times, and `breastmnist check --backend X` runs it alone.
//!
//! It must not know about files, the CLI or the browser.

use burn::tensor::Device;

use crate::batch::{Batcher, HostBatch, ImageView};
use crate::checkpoint::{self, Checkpoint};
use crate::model::conv_check::relative;
use crate::model::{ConvAlgo, ModelConfig, ModelSize};
use crate::read::read_f32;
use crate::rng::Rng;
use crate::train::{self, TrainConfig, TrainError};

/// The losses of every step on both backends and how far the device strays from flex.
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceCheck {
    /// Loss after each step on flex (the reference).
    pub flex: Vec<f32>,
    /// Loss after each step on the device.
    pub device: Vec<f32>,
    /// Worst relative difference of the loss trajectories (`max |a - b| / max |b|`).
    pub loss: f64,
    /// Worst relative difference of the logits on the batch before the first step.
    pub logits: f64,
}

impl DeviceCheck {
    /// For the loss trajectory: f32 sums reorder between backends, and Adam carries a difference
    /// from step to step; a backend that computes something else (a wrong kernel, a lost
    /// update) parts by far more.
    pub const TOLERANCE: f64 = 1e-3;
    /// For the logits of one forward pass (`model::conv_check`'s bound for one layer).
    pub const LOGITS_TOLERANCE: f64 = 1e-4;

    /// Whether both differences are finite and within their bounds.
    pub fn passed(&self) -> bool {
        self.loss.is_finite() && self.logits.is_finite() && self.loss <= Self::TOLERANCE && self.logits <= Self::LOGITS_TOLERANCE
    }
}

/// Runs `size` on one fixed batch of 16 seeded images on `device` and on flex, from the same
/// initial weights: its logits, then `steps` Adam steps (learning rate 1e-3), with convolutions
/// run by `conv` (`None`: burn's kernel) on both; compares the two.
pub async fn against_flex(
    device: &Device,
    size: ModelSize,
    steps: usize,
    conv: Option<ConvAlgo>,
) -> Result<DeviceCheck, TrainError> {
    let config = ModelConfig::of(size);
    let start = checkpoint::save(&config.init(&Device::flex(), 11)?, &config)?;
    let batch = fixed_batch(&config, 16);
    let (flex, flex_logits) = trajectory(&start, &batch, &Device::flex(), steps, conv).await?;
    let (on_device, device_logits) = trajectory(&start, &batch, device, steps, conv).await?;
    Ok(DeviceCheck { loss: relative(&on_device, &flex), logits: relative(&device_logits, &flex_logits), flex, device: on_device })
}

/// `n` seeded random images of the model's input size, labels alternating, normalised as for
/// evaluation: the fixed batch of this check, of `breastmnist bench` and of the core's
/// convolution trajectory test.
pub fn fixed_batch(config: &ModelConfig, n: usize) -> HostBatch {
    let (side, channels) = (config.input_size, config.in_channels);
    let mut rng = Rng::new(9);
    let images: Vec<u8> = (0..n * side * side * channels).map(|_| rng.below(256) as u8).collect();
    let labels: Vec<u8> = (0..n).map(|i| (i % 2) as u8).collect();
    let view = ImageView::single(&images, &labels, side, channels);
    let idx: Vec<usize> = (0..n).collect();
    Batcher::eval().host_batch(&view, &idx, &mut rng)
}

/// The loss after each of `steps` steps from `start` on `device`, and the logits before them.
async fn trajectory(
    start: &[u8],
    batch: &HostBatch,
    device: &Device,
    steps: usize,
    conv: Option<ConvAlgo>,
) -> Result<(Vec<f32>, Vec<f32>), TrainError> {
    let ad = device.clone().autodiff();
    let mut model = Checkpoint::from_bytes(start)?.load(&ad)?.with_conv(conv);
    let logits = read_f32(model.forward(batch.images(&ad)).detach()).await?;
    let mut optim = TrainConfig::new().optimizer.init();
    let mut losses = Vec::with_capacity(steps);
    for _ in 0..steps {
        let (next, loss) = train::train_step(model, &mut optim, batch, 1e-3, &ad).await?;
        model = next;
        losses.push(loss as f32);
    }
    Ok((losses, logits))
}

#[cfg(test)]
mod tests {
    use futures_lite::future::block_on;

    use super::*;

    fn check(flex: &[f32], device: &[f32], logits: f64) -> DeviceCheck {
        DeviceCheck { flex: flex.to_vec(), device: device.to_vec(), loss: relative(device, flex), logits }
    }

    #[test]
    fn flex_against_itself_is_exact_and_the_batch_is_learned() {
        let c = block_on(against_flex(&Device::flex(), ModelSize::Tiny, 8, None)).unwrap();
        assert_eq!(c.flex.len(), 8);
        assert_eq!((c.loss, c.logits), (0.0, 0.0), "flex is deterministic: {c:?}");
        assert!(c.passed());
        assert!(c.flex[7] < c.flex[0], "the fixed batch is being learned: {:?}", c.flex);
    }

    #[test]
    fn gemm_convolutions_on_flex_pass_but_are_not_bit_identical() {
        // Another summation order through a whole network: a real, small difference.
        let c = block_on(against_flex(&Device::flex(), ModelSize::C8, 6, Some(ConvAlgo::Gemm))).unwrap();
        assert_eq!(c.loss, 0.0, "both sides run gemm, so they agree: {c:?}");
        let direct = block_on(against_flex(&Device::flex(), ModelSize::C8, 6, None)).unwrap();
        let parted = relative(&c.flex, &direct.flex);
        assert!(parted > 0.0 && parted < DeviceCheck::TOLERANCE, "gemm vs direct on flex: {parted:e}");
    }

    #[test]
    fn a_backend_that_strays_or_breaks_fails() {
        let good = check(&[0.7, 0.6, 0.5], &[0.7, 0.6000001, 0.5], 1e-6);
        assert!(good.passed(), "{good:?}");
        // A lost update: the loss stops falling.
        let stuck = check(&[0.7, 0.6, 0.5], &[0.7, 0.7, 0.7], 1e-6);
        assert!(!stuck.passed() && stuck.loss > 0.2);
        // A forward pass off by more than one layer's bound, with a trajectory that agrees.
        let wrong_logits = check(&[0.7, 0.6], &[0.7, 0.6], 5e-4);
        assert!(!wrong_logits.passed());
        let nan = check(&[0.7, 0.6], &[0.7, f32::NAN], 0.0);
        assert!(nan.loss.is_infinite() && !nan.passed());
        assert!(!check(&[0.7], &[0.7], f64::NAN).passed());
        let short = check(&[0.7, 0.6], &[0.7], 0.0);
        assert!(!short.passed(), "a trajectory cut short fails");
    }
}

//! Inference over images: class probabilities and label-1 scores, in chunks, with async reads.
//!
//! Owns running a model in evaluation mode over a set of images and reading the softmax back
//! with `into_data_async` (WebGPU forbids synchronous reads). The caller chooses the chunks, so
//! a UI can interleave them with rendering.
//!
//! It must not know about optimisers, checkpoints' bytes, files or the browser.

use burn::module::Module;
use burn::tensor::Device;
use burn::tensor::activation::{sigmoid, softmax};

use crate::batch::{Batcher, ImageView};
use crate::metrics::{self, Evaluation, MetricsError};
use crate::model::Network;
use crate::read::{ReadError, read_f32};
use crate::rng::Rng;

/// Images per forward pass when evaluating (at most; see [`chunk_size`]).
pub const EVAL_CHUNK: usize = 128;

/// The most floats the largest activation of one evaluation pass may hold: 64 MiB, half of
/// WebGPU's default binding limit, and a few hundred MB of a wasm CPU heap at peak.
pub const EVAL_BUDGET_FLOATS: usize = 16 << 20;

/// Images per forward pass for `model` on `side` px images: [`EVAL_CHUNK`], or fewer where the
/// model's largest activation would pass [`EVAL_BUDGET_FLOATS`] (a torchvision ResNet at
/// 224 px: 20; ResNet-50 at 28 px: 83; ResNet-18 at 64 px: 64). The zoo's other members get
/// the full 128 at 28 px.
pub fn chunk_size(model: &Network, side: usize) -> usize {
    (EVAL_BUDGET_FLOATS / model.peak_activation(side).max(1)).clamp(1, EVAL_CHUNK)
}

/// Errors while evaluating.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvalError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("the images are {got} px but the model expects {expected} px")]
    Side { expected: usize, got: usize },
    #[error("the images have {got} channels but the model expects {expected}")]
    Channels { expected: usize, got: usize },
    #[error(transparent)]
    Metrics(#[from] MetricsError),
}

/// Softmax probabilities (`[n][num_classes]`, row-major) of `indices` under `model`; with
/// `tta`, the mean of the probabilities of each image and of its left-right mirror.
///
/// `model` should be in evaluation mode (`model.valid()`), and `device` a plain (non-autodiff)
/// device; the model is switched with `valid()` here anyway, which is cheap when it already is.
pub async fn probabilities(
    model: &Network,
    view: &ImageView<'_>,
    indices: &[usize],
    device: &Device,
    tta: bool,
) -> Result<Vec<f32>, EvalError> {
    probabilities_as(model, view, indices, device, tta, false).await
}

/// [`probabilities`], or with `multi_label` each output's own sigmoid (a multi-label model's
/// independent label probabilities, `ModelConfig::multi_label`).
pub async fn probabilities_as(
    model: &Network,
    view: &ImageView<'_>,
    indices: &[usize],
    device: &Device,
    tta: bool,
    multi_label: bool,
) -> Result<Vec<f32>, EvalError> {
    if indices.is_empty() {
        return Ok(Vec::new());
    }
    let model = model.valid();
    let device = device.clone().without_autodiff();
    let batch = Batcher::eval().host_batch(view, indices, &mut Rng::new(0));
    let images = batch.images(&device);
    let head = |logits| if multi_label { sigmoid(logits) } else { softmax(logits, 1) };
    let probs = head(model.forward(images.clone()));
    let probs = if tta { (probs + head(model.forward(images.flip([3])))).div_scalar(2.0) } else { probs };
    Ok(read_f32(probs).await?)
}

/// The label-1 softmax score of every image in `view`, in order, evaluated in chunks.
pub async fn scores(model: &Network, view: &ImageView<'_>, device: &Device, tta: bool) -> Result<Vec<f32>, EvalError> {
    scores_reporting(model, view, device, tta, &mut |_, _| {}).await
}

/// [`scores`], calling `progress(done, total)` after each chunk (a slow model's progress bar).
pub async fn scores_reporting(
    model: &Network,
    view: &ImageView<'_>,
    device: &Device,
    tta: bool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<f32>, EvalError> {
    let p = probabilities_reporting(model, view, device, tta, false, progress).await?;
    let k = p.len() / view.len().max(1);
    Ok(p.chunks(k.max(1)).map(|row| row[1]).collect())
}

/// Every image's probabilities (`[n][k]`, softmax or with `multi_label` sigmoid), in order,
/// evaluated in chunks, calling `progress(done, total)` after each.
pub async fn probabilities_reporting(
    model: &Network,
    view: &ImageView<'_>,
    device: &Device,
    tta: bool,
    multi_label: bool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<f32>, EvalError> {
    let model = model.valid();
    let mut out = Vec::new();
    let all: Vec<usize> = (0..view.len()).collect();
    for chunk in all.chunks(chunk_size(&model, view.side)) {
        out.extend(probabilities_as(&model, view, chunk, device, tta, multi_label).await?);
        progress(chunk.last().map_or(0, |&i| i + 1), view.len());
    }
    Ok(out)
}

/// AUC, ACC and confusion matrix of `model` on every image of `view`, plus the scores.
pub async fn evaluate(
    model: &Network,
    view: &ImageView<'_>,
    device: &Device,
    tta: bool,
) -> Result<(Evaluation, Vec<f32>), EvalError> {
    let s = scores(model, view, device, tta).await?;
    Ok((metrics::evaluate(view.labels, &s)?, s))
}

/// The mean of several models' probabilities (an ensemble), image by image; `probs` holds one
/// `[n][num_classes]` row-major vector per model, all of one length.
pub fn average(probs: &[Vec<f32>]) -> Vec<f32> {
    let Some(first) = probs.first() else { return Vec::new() };
    let k = probs.len() as f32;
    (0..first.len()).map(|i| probs.iter().map(|p| p[i]).sum::<f32>() / k).collect()
}

/// The label-1 score of every image in `view` under an ensemble: the mean of the members'
/// probabilities (each with flip TTA when `tta`).
pub async fn ensemble_scores(
    models: &[Network],
    view: &ImageView<'_>,
    device: &Device,
    tta: bool,
) -> Result<Vec<f32>, EvalError> {
    let mut all = Vec::with_capacity(models.len());
    for m in models {
        all.push(scores(m, view, device, tta).await?);
    }
    Ok(average(&all))
}

/// Mean cross-entropy of probabilities `[n][k]` against labels (`width` per image, as an
/// [`ImageView`] holds them), clamped away from `ln 0`: of the true class, or with
/// `multi_label` the mean binary cross-entropy of the `k` labels.
pub fn log_loss(labels: &[u8], probs: &[f32], k: usize, multi_label: bool) -> f64 {
    let rows = probs.len() / k.max(1);
    if rows == 0 {
        return 0.0;
    }
    let ln = |p: f64| -p.max(1e-12).ln();
    let total: f64 = if multi_label {
        labels.iter().zip(probs).map(|(&l, &p)| ln(if l == 1 { p as f64 } else { 1.0 - p as f64 })).sum::<f64>() / k as f64
    } else {
        labels.iter().zip(probs.chunks(k)).map(|(&l, row)| ln(row.get(l as usize).copied().unwrap_or(0.0) as f64)).sum()
    };
    total / rows as f64
}

/// Mean cross-entropy of label-1 scores (two classes), clamped away from `ln 0`.
pub fn binary_log_loss(labels: &[u8], scores: &[f32]) -> f64 {
    if labels.is_empty() {
        return 0.0;
    }
    let total: f64 = labels
        .iter()
        .zip(scores)
        .map(|(&l, &s)| {
            let p = if l == 1 { s as f64 } else { 1.0 - s as f64 };
            -p.max(1e-12).ln()
        })
        .sum();
    total / labels.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ModelConfig, ModelSize, Resample, Stem};

    #[test]
    fn chunks_shrink_only_for_models_whose_activations_pass_the_budget() {
        let cpu = Device::flex();
        let chunk = |c: ModelConfig| chunk_size(&c.init(&cpu, 0).unwrap(), c.input_size);
        for size in ModelSize::ALL.into_iter().filter(|&s| s != ModelSize::Resnet50) {
            assert_eq!(chunk(ModelConfig::of(size)), EVAL_CHUNK, "{size} at 28 px");
        }
        // At 64 px the 64-wide stems make 64 x 64 x 64 floats an image: 64 images a pass.
        assert_eq!(chunk(ModelConfig::of(ModelSize::Resnet18).with_input_size(64)), 64);
        assert_eq!(chunk(ModelConfig::of(ModelSize::C16).with_input_size(64)), EVAL_CHUNK);
        // ResNet-50 at 28 px: layer1 is 256 x 28 x 28 floats an image.
        assert_eq!(chunk(ModelConfig::of(ModelSize::Resnet50)), EVAL_BUDGET_FLOATS / (256 * 28 * 28));
        // torchvision at 224 px: the stem's 64 x 112 x 112 (and ResNet-50's layer1, 256 x 56 x 56).
        for size in [ModelSize::Resnet18, ModelSize::Resnet50] {
            let tv = ModelConfig::of(size).with_stem(Stem::Torchvision).with_resize(Some(224)).with_resample(Resample::Nearest);
            assert_eq!(chunk(tv), EVAL_BUDGET_FLOATS / (64 * 112 * 112), "{size}");
        }
    }
}

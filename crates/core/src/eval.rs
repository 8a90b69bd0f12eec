//! Inference over images: class probabilities and label-1 scores, in chunks, with async reads.
//!
//! Owns running a model in evaluation mode over a set of images and reading the softmax back
//! with `into_data_async` (WebGPU forbids synchronous reads). The caller chooses the chunks, so
//! a UI can interleave them with rendering.
//!
//! It must not know about optimisers, checkpoints' bytes, files or the browser.

use burn::module::Module;
use burn::tensor::Device;
use burn::tensor::activation::softmax;

use crate::batch::{Batcher, ImageView};
use crate::metrics::{self, Evaluation, MetricsError};
use crate::model::Network;
use crate::read::{ReadError, read_f32};
use crate::rng::Rng;

/// Images per forward pass when evaluating.
pub const EVAL_CHUNK: usize = 128;

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
    if indices.is_empty() {
        return Ok(Vec::new());
    }
    let model = model.valid();
    let device = device.clone().without_autodiff();
    let batch = Batcher::eval().host_batch(view, indices, &mut Rng::new(0));
    let images = batch.images(&device);
    let probs = softmax(model.forward(images.clone()), 1);
    let probs = if tta { (probs + softmax(model.forward(images.flip([3])), 1)).div_scalar(2.0) } else { probs };
    Ok(read_f32(probs).await?)
}

/// The label-1 softmax score of every image in `view`, in order, evaluated in chunks.
pub async fn scores(model: &Network, view: &ImageView<'_>, device: &Device, tta: bool) -> Result<Vec<f32>, EvalError> {
    let model = model.valid();
    let mut out = Vec::with_capacity(view.len());
    let all: Vec<usize> = (0..view.len()).collect();
    for chunk in all.chunks(EVAL_CHUNK) {
        let p = probabilities(&model, view, chunk, device, tta).await?;
        let k = p.len() / chunk.len();
        out.extend(p.chunks(k).map(|row| row[1]));
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

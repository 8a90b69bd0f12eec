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
use crate::model::ResNet;
use crate::rng::Rng;

/// Images per forward pass when evaluating.
pub const EVAL_CHUNK: usize = 128;

/// Errors while evaluating.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvalError {
    #[error("reading results back from the device failed: {0}")]
    Read(String),
    #[error("the images are {got} px but the model expects {expected} px")]
    Side { expected: usize, got: usize },
    #[error("the images have {got} channels but the model expects {expected}")]
    Channels { expected: usize, got: usize },
    #[error(transparent)]
    Metrics(#[from] MetricsError),
}

/// Softmax probabilities (`[n][num_classes]`, row-major) of `indices` under `model`.
///
/// `model` should be in evaluation mode (`model.valid()`), and `device` a plain (non-autodiff)
/// device; the model is switched with `valid()` here anyway, which is cheap when it already is.
pub async fn probabilities(
    model: &ResNet,
    view: &ImageView<'_>,
    indices: &[usize],
    device: &Device,
) -> Result<Vec<f32>, EvalError> {
    if indices.is_empty() {
        return Ok(Vec::new());
    }
    let model = model.valid();
    let device = device.clone().without_autodiff();
    let batch = Batcher::eval().host_batch(view, indices, &mut Rng::new(0));
    let logits = model.forward(batch.images(&device));
    let probs = softmax(logits, 1);
    let data = probs.into_data_async().await.map_err(|e| EvalError::Read(format!("{e:?}")))?;
    data.try_into_vec::<f32>().map_err(|e| EvalError::Read(format!("{e:?}")))
}

/// The label-1 softmax score of every image in `view`, in order, evaluated in chunks.
pub async fn scores(model: &ResNet, view: &ImageView<'_>, device: &Device) -> Result<Vec<f32>, EvalError> {
    let model = model.valid();
    let mut out = Vec::with_capacity(view.len());
    let all: Vec<usize> = (0..view.len()).collect();
    for chunk in all.chunks(EVAL_CHUNK) {
        let p = probabilities(&model, view, chunk, device).await?;
        let k = p.len() / chunk.len();
        out.extend(p.chunks(k).map(|row| row[1]));
    }
    Ok(out)
}

/// AUC, ACC and confusion matrix of `model` on every image of `view`, plus the scores.
pub async fn evaluate(
    model: &ResNet,
    view: &ImageView<'_>,
    device: &Device,
) -> Result<(Evaluation, Vec<f32>), EvalError> {
    let s = scores(model, view, device).await?;
    Ok((metrics::evaluate(view.labels, &s)?, s))
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

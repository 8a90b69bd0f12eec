//! Grad-CAM (Selvaraju et al., 2017): which regions of an image drove a class's logit.
//!
//! Owns the computation for one stage of a [`Network`]: the gradient of the chosen class's logit
//! with respect to that stage's activations (the activations are made an autodiff leaf and the
//! rest of the network is run on it), channel weights = spatial mean of those gradients, the
//! weighted sum of activation channels, ReLU, bilinear upsampling to the input size and division
//! by the map's maximum (an all-zero map stays zero). Batched, with async reads only.
//!
//! It must not know about colour maps, canvases or the browser: it returns `[0, 1]` floats.

use burn::module::Module;
use burn::tensor::activation::{relu, softmax};
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::batch::{Batcher, ImageView};
use crate::model::{ModelConfig, Network, Stage};
use crate::read::{ReadError, read_all};
use crate::rng::Rng;

/// Errors computing Grad-CAM.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GradCamError {
    #[error("class {class} does not exist (the model has {num_classes} classes)")]
    Class { class: usize, num_classes: usize },
    #[error("image {index} has {got} bytes, expected {expected} ({side} px × {side} px × {channels} channels)")]
    ImageSize { index: usize, got: usize, expected: usize, side: usize, channels: usize },
    #[error("{images} images but {classes} target classes")]
    Count { images: usize, classes: usize },
    #[error("Grad-CAM needs gradients, which failed: {0}")]
    NoGradient(String),
    #[error(
        "{model}'s {stage} map of a {px} px image is 1 x 1 and cannot say where anything is: explain an earlier stage ({hint})"
    )]
    Coarse { model: String, stage: Stage, px: usize, hint: Stage },
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Eval(#[from] crate::eval::EvalError),
}

/// One Grad-CAM map.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Heatmap {
    /// Side of the map in pixels (the model's input size).
    pub side: usize,
    /// `side * side` values in `[0, 1]`, row-major; 1 marks the most important region.
    pub values: Vec<f32>,
    /// The explained class.
    pub class: usize,
    /// The model's softmax probability of that class for this image.
    pub probability: f32,
    /// The stage explained.
    pub stage: Stage,
    /// The un-normalised map's maximum (0 when nothing positively supports the class).
    pub raw_max: f32,
}

/// Grad-CAM maps of several images at once: `images[i]` explained for class `classes[i]`.
///
/// `images` are `u8` pixels as stored in the dataset (`side * side * channels`, channel last),
/// with the model's input size and channels. `device` is the plain device the model runs on;
/// autodiff is enabled on the stage's activations only.
pub async fn grad_cam_batch(
    model: &Network,
    config: &ModelConfig,
    images: &[&[u8]],
    classes: &[usize],
    stage: Stage,
    device: &Device,
) -> Result<Vec<Heatmap>, GradCamError> {
    if images.len() != classes.len() {
        return Err(GradCamError::Count { images: images.len(), classes: classes.len() });
    }
    if images.is_empty() {
        return Ok(Vec::new());
    }
    let (side, ch, k) = (config.input_size, config.in_channels, config.num_classes);
    let per = side * side * ch;
    for (index, img) in images.iter().enumerate() {
        if img.len() != per {
            return Err(GradCamError::ImageSize { index, got: img.len(), expected: per, side, channels: ch });
        }
    }
    if let Some(&class) = classes.iter().find(|&&c| c >= k) {
        return Err(GradCamError::Class { class, num_classes: k });
    }
    if config.stage_side(stage) < 2 {
        let (model, px, hint) = (config.size.to_string(), config.effective_size(), config.cam_stage(stage));
        return Err(GradCamError::Coarse { model, stage, px, hint });
    }
    let n = images.len();
    let flat: Vec<u8> = images.iter().flat_map(|i| i.iter().copied()).collect();
    let labels = vec![0u8; n];
    let view = ImageView::single(&flat, &labels, side, ch);
    let idx: Vec<usize> = (0..n).collect();
    let batch = Batcher::eval().host_batch(&view, &idx, &mut Rng::new(0));

    let plain = device.clone().without_autodiff();
    let model = model.valid();
    // Activations of the stage, as an autodiff leaf that keeps its gradient.
    let features = model.forward_to(batch.images(&plain), stage).detach();
    let leaf = features.clone().autodiff().require_grad();
    let logits = model.forward_after(leaf.clone(), stage);
    let mut mask = vec![0f32; n * k];
    for (i, &c) in classes.iter().enumerate() {
        mask[i * k + c] = 1.0;
    }
    let mask_t = Tensor::<2>::from_data(TensorData::new(mask, [n, k]), &leaf.device());
    let objective = (logits.clone() * mask_t.clone()).sum();
    let grads = objective.backward();
    let grad = leaf
        .grad(&grads)
        .ok_or_else(|| GradCamError::NoGradient("no gradient reached the stage's activations".into()))?
        .without_autodiff();

    let weights = grad.mean_dim(3).mean_dim(2); // [n, c, 1, 1]
    let cam = relu((features * weights).sum_dim(1)); // [n, 1, h, w]
    let cam = interpolate(
        cam,
        InterpolateOptions::new(InterpolateMode::Bilinear).with_align_corners(false).with_output_size([side, side]),
    );
    let probs = (softmax(logits.without_autodiff(), 1) * mask_t.without_autodiff()).sum_dim(1);

    let (cam_len, probs_len) = (cam.shape().num_elements(), probs.shape().num_elements());
    let mut read = read_all(vec![cam.reshape([cam_len]), probs.reshape([probs_len])]).await?.into_iter();
    let (cam, probs) = (read.next().unwrap_or_default(), read.next().unwrap_or_default());

    Ok(cam
        .chunks(side * side)
        .zip(classes)
        .zip(probs)
        .map(|((map, &class), probability)| {
            let (values, raw_max) = normalise(map);
            Heatmap { side, values, class, probability, stage, raw_max }
        })
        .collect())
}

/// Grad-CAM of one image for `class` at `stage`.
pub async fn grad_cam(
    model: &Network,
    config: &ModelConfig,
    image: &[u8],
    class: usize,
    stage: Stage,
    device: &Device,
) -> Result<Heatmap, GradCamError> {
    let mut maps = grad_cam_batch(model, config, &[image], &[class], stage, device).await?;
    maps.pop().ok_or_else(|| GradCamError::Read(ReadError("no map returned".into())))
}

/// Clamps to `>= 0` (bilinear upsampling can undershoot by rounding) and divides by the
/// maximum; maps whose maximum is not positive (or not finite) become all zeros.
fn normalise(map: &[f32]) -> (Vec<f32>, f32) {
    let max = map.iter().copied().fold(0.0f32, f32::max);
    if !(max.is_finite() && max > 1e-12) {
        return (vec![0.0; map.len()], 0.0);
    }
    (map.iter().map(|&v| if v.is_finite() { (v / max).clamp(0.0, 1.0) } else { 0.0 }).collect(), max)
}

/// Pearson correlation of two equally long maps (0 when either is constant).
pub fn correlation(a: &[f32], b: &[f32]) -> f64 {
    let n = a.len().min(b.len());
    if n == 0 {
        return 0.0;
    }
    let ma = a[..n].iter().map(|&x| x as f64).sum::<f64>() / n as f64;
    let mb = b[..n].iter().map(|&x| x as f64).sum::<f64>() / n as f64;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let (x, y) = (a[i] as f64 - ma, b[i] as f64 - mb);
        sab += x * y;
        saa += x * x;
        sbb += y * y;
    }
    if saa <= 0.0 || sbb <= 0.0 { 0.0 } else { sab / (saa * sbb).sqrt() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalise_handles_zero_and_scales_to_one() {
        assert_eq!(normalise(&[0.0, 0.0]), (vec![0.0, 0.0], 0.0));
        assert_eq!(normalise(&[f32::NAN, 0.0]).0, vec![0.0, 0.0]);
        let (v, m) = normalise(&[1.0, 2.0, 4.0, -0.0001]);
        assert_eq!(m, 4.0);
        assert_eq!(v, vec![0.25, 0.5, 1.0, 0.0]);
        assert!((correlation(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0]) - 1.0).abs() < 1e-12);
        assert!((correlation(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
        assert_eq!(correlation(&[1.0, 1.0], &[1.0, 2.0]), 0.0);
    }
}

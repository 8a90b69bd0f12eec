//! What the explorer shows for a trained model: per image, the class probabilities and the
//! Grad-CAM maps of both classes, quantised to bytes so a whole split travels cheaply to the
//! page; and, for one image, a stage's strongest channel activations.
//!
//! Owns batching [`grad_cam_batch`] over a split in caller-chosen chunks (a UI interleaves
//! them with rendering and progress) and the layout of the bytes it returns. It must not know
//! about colour maps, canvases or the browser.

use burn::module::Module;

use crate::batch::{Batcher, ImageView};
use crate::gradcam::{GradCamError, grad_cam_batch};
use crate::model::{ModelConfig, Network, Stage};
use crate::read::read_f32;
use crate::rng::Rng;
use burn::tensor::Device;

/// Explanations of a run of images, in the order asked.
///
/// `maps` holds, per image, one map per class (class 0 first), each `side * side` bytes where
/// 255 is the map's maximum (`(v * 255).round()` of [`Heatmap::values`](crate::Heatmap)).
#[derive(Clone, Debug, PartialEq)]
pub struct Explanations {
    pub side: usize,
    pub num_classes: usize,
    pub stage: Stage,
    /// Softmax probabilities, `[n][num_classes]` row-major.
    pub probabilities: Vec<f32>,
    pub maps: Vec<u8>,
}

impl Explanations {
    pub fn len(&self) -> usize {
        self.probabilities.len() / self.num_classes.max(1)
    }

    pub fn is_empty(&self) -> bool {
        self.probabilities.is_empty()
    }

    /// The map of image `i` for `class`.
    pub fn map(&self, i: usize, class: usize) -> &[u8] {
        let n = self.side * self.side;
        let start = (i * self.num_classes + class) * n;
        &self.maps[start..start + n]
    }

    /// Appends another chunk (same side, stage and classes).
    pub fn extend(&mut self, other: Explanations) {
        self.probabilities.extend(other.probabilities);
        self.maps.extend(other.maps);
    }
}

/// Probabilities and the Grad-CAM maps of every class at `stage` for images `indices` of `view`.
/// With `tta` the probabilities are flip test-time augmented (as the run's metrics were), the
/// maps explain the image as shown.
pub async fn explain(
    model: &Network,
    config: &ModelConfig,
    view: &ImageView<'_>,
    indices: &[usize],
    stage: Stage,
    device: &Device,
    tta: bool,
) -> Result<Explanations, GradCamError> {
    let k = config.num_classes;
    let side = config.input_size;
    let images: Vec<&[u8]> = indices.iter().map(|&i| view.image(i)).collect();
    let n = images.len();
    let mut per_class = Vec::with_capacity(k);
    for class in 0..k {
        per_class.push(grad_cam_batch(model, config, &images, &vec![class; n], stage, device).await?);
    }
    let mut probabilities = Vec::with_capacity(n * k);
    let mut maps = Vec::with_capacity(n * k * side * side);
    for i in 0..n {
        for heatmaps in &per_class {
            // Each Grad-CAM pass reports the softmax probability of the class it explains.
            probabilities.push(heatmaps[i].probability);
        }
        for heatmaps in &per_class {
            maps.extend(heatmaps[i].values.iter().map(|&v| (v * 255.0).round().clamp(0.0, 255.0) as u8));
        }
    }
    if tta {
        probabilities = crate::eval::probabilities(model, view, indices, device, true).await?;
    }
    Ok(Explanations { side, num_classes: k, stage, probabilities, maps })
}

/// The strongest channels of one stage's activations for one image.
#[derive(Clone, Debug, PartialEq)]
pub struct ActivationGrid {
    pub stage: Stage,
    /// Spatial side of the stage's maps (stem to layer4 at 28 px: 28, 28, 14, 7, 4 for the
    /// ResNets, 28, 28, 14, 7, 3 for the CNNs; [`ModelConfig::stage_side`](crate::ModelConfig::stage_side)).
    pub side: usize,
    /// Channels of the stage.
    pub total_channels: usize,
    /// The channels shown, strongest mean activation first.
    pub channels: Vec<usize>,
    /// Their mean activations.
    pub means: Vec<f32>,
    /// `channels.len()` maps of `side * side` bytes, each scaled to its own maximum (255).
    pub values: Vec<u8>,
}

/// The `max_channels` channels of `stage` with the largest mean activation for `image`.
pub async fn activations(
    model: &Network,
    config: &ModelConfig,
    image: &[u8],
    stage: Stage,
    max_channels: usize,
    device: &Device,
) -> Result<ActivationGrid, GradCamError> {
    let (side, ch) = (config.input_size, config.in_channels);
    let expected = side * side * ch;
    if image.len() != expected {
        return Err(GradCamError::ImageSize { index: 0, got: image.len(), expected, side, channels: ch });
    }
    let labels = [0u8];
    let view = ImageView::single(image, &labels, side, ch);
    let batch = Batcher::eval().host_batch(&view, &[0], &mut Rng::new(0));
    let plain = device.clone().without_autodiff();
    let features = model.valid().forward_to(batch.images(&plain), stage);
    let [_, c, h, w] = features.dims();
    let values = read_f32(features).await?;
    let hw = h * w;
    let mut order: Vec<(usize, f32)> =
        values.chunks(hw).enumerate().map(|(i, m)| (i, m.iter().sum::<f32>() / hw as f32)).collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    order.truncate(max_channels.min(c));
    let mut bytes = Vec::with_capacity(order.len() * hw);
    for &(i, _) in &order {
        let map = &values[i * hw..(i + 1) * hw];
        let max = map.iter().copied().fold(0.0f32, f32::max);
        bytes.extend(
            map.iter().map(
                |&v| {
                    if max > 1e-12 && v.is_finite() { (v.max(0.0) / max * 255.0).round().min(255.0) as u8 } else { 0 }
                },
            ),
        );
    }
    debug_assert_eq!(h, w);
    Ok(ActivationGrid {
        stage,
        side: h,
        total_channels: c,
        channels: order.iter().map(|o| o.0).collect(),
        means: order.iter().map(|o| o.1).collect(),
        values: bytes,
    })
}

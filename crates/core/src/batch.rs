//! The batcher: `u8` images in, normalised tensors and (soft) targets out.
//!
//! Owns normalisation (`(x/255 - 0.5) / 0.5`, MedMNIST's `Normalize(mean=[.5], std=[.5])`),
//! the CPU-side augmentation of `u8` images (random horizontal flip, small rotation and
//! translation, bilinear sampling, black fill) and mixup. Every random draw comes from the
//! caller's seeded [`Rng`], so a seed fixes the batches.
//!
//! It must not know about models, optimisers, metrics or where the bytes came from.

use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::rng::Rng;

/// Maps a `u8` pixel to the network's input range `[-1, 1]`.
#[inline]
pub fn normalise(p: u8) -> f32 {
    (p as f32 / 255.0 - 0.5) / 0.5
}

/// Random geometric augmentation applied to training images.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Augment {
    /// Flip left-right with probability 1/2.
    pub hflip: bool,
    /// Maximum absolute rotation in degrees (uniform in `[-max, max]`).
    pub max_rotate_deg: f32,
    /// Maximum absolute translation as a fraction of the side (uniform per axis).
    pub max_shift: f32,
}

impl Default for Augment {
    /// Flip, ±10°, ±2 px at 28 px (7 %).
    fn default() -> Self {
        Augment { hflip: true, max_rotate_deg: 10.0, max_shift: 0.07 }
    }
}

/// Which augmentation a recipe uses (the serialisable choice; [`Augment`] holds the numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Augmentation {
    None,
    /// Random left-right flips only (the best choice at 28 px in our measurements).
    Flip,
    /// Flips, ±10° rotation and ±7 % translation ([`Augment::default`]).
    Full,
}

impl Augmentation {
    pub const ALL: [Augmentation; 3] = [Augmentation::None, Augmentation::Flip, Augmentation::Full];

    pub fn name(self) -> &'static str {
        match self {
            Augmentation::None => "none",
            Augmentation::Flip => "flip",
            Augmentation::Full => "full",
        }
    }

    /// The numbers for the batcher (`None`: no augmentation).
    pub fn augment(self) -> Option<Augment> {
        match self {
            Augmentation::None => None,
            Augmentation::Flip => Some(Augment { hflip: true, max_rotate_deg: 0.0, max_shift: 0.0 }),
            Augmentation::Full => Some(Augment::default()),
        }
    }
}

impl std::str::FromStr for Augmentation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim().to_ascii_lowercase();
        match s.as_str() {
            "true" | "1" | "on" | "yes" => Ok(Augmentation::Full),
            "false" | "0" | "off" | "no" | "" => Ok(Augmentation::None),
            _ => Augmentation::ALL
                .into_iter()
                .find(|a| a.name() == s)
                .ok_or_else(|| format!("unknown augmentation '{s}' (expected none, flip or full)")),
        }
    }
}

impl<'de> Deserialize<'de> for Augmentation {
    /// Reads `"none"`/`"flip"`/`"full"`, and the booleans that older configurations hold.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Bool(bool),
            Name(String),
        }
        match Repr::deserialize(d)? {
            Repr::Bool(b) => Ok(if b { Augmentation::Full } else { Augmentation::None }),
            Repr::Name(n) => n.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// Images in the layout of `breastmnist_data::SplitData`: `side * side * channels` bytes per
/// image, row-major, channel last.
#[derive(Clone, Copy, Debug)]
pub struct ImageView<'a> {
    pub images: &'a [u8],
    /// `width` labels per image: a class, or `k` 0/1 values (multi-label).
    pub labels: &'a [u8],
    pub side: usize,
    pub channels: usize,
    /// Labels per image (`breastmnist_data::SplitData::width`): 1, or `k` for multi-label.
    pub width: usize,
}

impl<'a> ImageView<'a> {
    /// A view of one split of a dataset.
    pub fn of(data: &'a breastmnist_data::Dataset, split: breastmnist_data::Split) -> Self {
        let s = data.split(split);
        ImageView { images: &s.images, labels: &s.labels, side: data.side, channels: data.channels, width: s.width }
    }

    /// A view of images with one label each.
    pub fn single(images: &'a [u8], labels: &'a [u8], side: usize, channels: usize) -> Self {
        ImageView { images, labels, side, channels, width: 1 }
    }

    pub fn len(&self) -> usize {
        self.labels.len() / self.width.max(1)
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The bytes of image `i`.
    pub fn image(&self, i: usize) -> &'a [u8] {
        let n = self.side * self.side * self.channels;
        &self.images[i * n..(i + 1) * n]
    }
}

/// One batch on the host, ready to become tensors.
#[derive(Clone, Debug, PartialEq)]
pub struct HostBatch {
    /// `[n, channels, side, side]`, normalised.
    pub pixels: Vec<f32>,
    /// `[n, k]` targets: probabilities (one-hot, or mixed by mixup), or multi-hot 0/1 values
    /// for multi-label data (mixed by mixup the same way).
    pub targets: Vec<f32>,
    /// The original labels (`width` per image, as in the [`ImageView`]).
    pub labels: Vec<u8>,
    pub n: usize,
    pub channels: usize,
    pub side: usize,
}

impl HostBatch {
    /// The input tensor `[n, channels, side, side]` on `device`.
    pub fn images(&self, device: &Device) -> Tensor<4> {
        Tensor::from_data(TensorData::new(self.pixels.clone(), [self.n, self.channels, self.side, self.side]), device)
    }

    /// The target tensor `[n, num_classes]` on `device`.
    pub fn targets(&self, device: &Device) -> Tensor<2> {
        let k = self.targets.len() / self.n.max(1);
        Tensor::from_data(TensorData::new(self.targets.clone(), [self.n, k]), device)
    }
}

/// Builds batches; holds the augmentation settings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Batcher {
    /// `None` for evaluation and for the official recipe.
    pub augment: Option<Augment>,
    /// Mixup's Beta(α, α) parameter; `None` or `0` disables it.
    pub mixup: Option<f32>,
    /// Number of classes (one-hot targets) or labels (multi-hot targets).
    pub num_classes: usize,
}

impl Batcher {
    /// A batcher with no augmentation (evaluation).
    pub fn eval() -> Self {
        Batcher { augment: None, mixup: None, num_classes: 2 }
    }

    /// Builds the batch of `indices` from `view`, drawing augmentation and mixup from `rng`.
    pub fn host_batch(&self, view: &ImageView<'_>, indices: &[usize], rng: &mut Rng) -> HostBatch {
        let (side, ch) = (view.side, view.channels);
        let per = side * side * ch;
        let n = indices.len();
        let k = self.num_classes.max(2);
        let mut pixels = vec![0f32; n * per];
        let mut targets = vec![0f32; n * k];
        let mut labels = Vec::with_capacity(n);
        for (b, &i) in indices.iter().enumerate() {
            let img = view.image(i);
            let out = &mut pixels[b * per..(b + 1) * per];
            match &self.augment {
                Some(a) => augment_into(img, side, ch, a, rng, out),
                None => to_chw(img, side, ch, out),
            }
            if view.width > 1 {
                let ls = &view.labels[i * view.width..(i + 1) * view.width];
                labels.extend_from_slice(ls);
                for (t, &l) in targets[b * k..(b + 1) * k].iter_mut().zip(ls) {
                    *t = f32::from(l);
                }
            } else {
                let l = view.labels[i];
                labels.push(l);
                targets[b * k + (l as usize).min(k - 1)] = 1.0;
            }
        }
        if let Some(alpha) = self.mixup.filter(|&a| a > 0.0)
            && n > 1
        {
            let lam = rng.beta(alpha as f64, alpha as f64) as f32;
            let mut perm: Vec<usize> = (0..n).collect();
            rng.shuffle(&mut perm);
            let (px0, tg0) = (pixels.clone(), targets.clone());
            for b in 0..n {
                let o = perm[b];
                for j in 0..per {
                    pixels[b * per + j] = lam * px0[b * per + j] + (1.0 - lam) * px0[o * per + j];
                }
                for j in 0..k {
                    targets[b * k + j] = lam * tg0[b * k + j] + (1.0 - lam) * tg0[o * k + j];
                }
            }
        }
        HostBatch { pixels, targets, labels, n, channels: ch, side }
    }
}

/// HWC `u8` to CHW normalised `f32`.
fn to_chw(img: &[u8], side: usize, ch: usize, out: &mut [f32]) {
    for y in 0..side {
        for x in 0..side {
            for c in 0..ch {
                out[c * side * side + y * side + x] = normalise(img[(y * side + x) * ch + c]);
            }
        }
    }
}

/// Applies a random flip/rotation/translation (inverse mapping, bilinear, black outside) and
/// normalises into CHW `out`.
fn augment_into(img: &[u8], side: usize, ch: usize, a: &Augment, rng: &mut Rng, out: &mut [f32]) {
    let flip = a.hflip && rng.unit() < 0.5;
    let theta = (rng.uniform(-1.0, 1.0) * a.max_rotate_deg).to_radians();
    let max_px = a.max_shift * side as f32;
    let tx = rng.uniform(-1.0, 1.0) * max_px;
    let ty = rng.uniform(-1.0, 1.0) * max_px;
    let (sin, cos) = theta.sin_cos();
    let c0 = (side as f32 - 1.0) / 2.0;
    let black = normalise(0);
    let at = |x: isize, y: isize, c: usize| -> f32 {
        if x < 0 || y < 0 || x >= side as isize || y >= side as isize {
            0.0
        } else {
            img[(y as usize * side + x as usize) * ch + c] as f32
        }
    };
    for y in 0..side {
        for x in 0..side {
            // Output pixel -> source pixel: undo translation, then rotation, then flip.
            let dx = x as f32 - c0 - tx;
            let dy = y as f32 - c0 - ty;
            let mut sx = cos * dx + sin * dy + c0;
            let sy = -sin * dx + cos * dy + c0;
            if flip {
                sx = side as f32 - 1.0 - sx;
            }
            let inside = sx > -1.0 && sy > -1.0 && sx < side as f32 && sy < side as f32;
            for c in 0..ch {
                let v = if inside {
                    let (x0, y0) = (sx.floor(), sy.floor());
                    let (fx, fy) = (sx - x0, sy - y0);
                    let (x0, y0) = (x0 as isize, y0 as isize);
                    let top = at(x0, y0, c) * (1.0 - fx) + at(x0 + 1, y0, c) * fx;
                    let bot = at(x0, y0 + 1, c) * (1.0 - fx) + at(x0 + 1, y0 + 1, c) * fx;
                    ((top * (1.0 - fy) + bot * fy) / 255.0 - 0.5) / 0.5
                } else {
                    black
                };
                out[c * side * side + y * side + x] = v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view<'a>(images: &'a [u8], labels: &'a [u8], side: usize) -> ImageView<'a> {
        ImageView::single(images, labels, side, 1)
    }

    #[test]
    fn normalises_and_one_hots_without_augmentation() {
        let side = 4;
        let images: Vec<u8> = (0..2 * 16).map(|i| if i < 16 { 0 } else { 255 }).collect();
        let labels = [1u8, 0];
        let b = Batcher::eval().host_batch(&view(&images, &labels, side), &[1, 0], &mut Rng::new(0));
        assert_eq!(b.n, 2);
        assert!(b.pixels[..16].iter().all(|&p| p == 1.0));
        assert!(b.pixels[16..].iter().all(|&p| p == -1.0));
        assert_eq!(b.targets, vec![1.0, 0.0, 0.0, 1.0]);
        assert_eq!(b.labels, vec![0, 1]);
    }

    #[test]
    fn flip_only_mirrors_exactly() {
        let side = 5;
        let images: Vec<u8> = (0..25).map(|i| (i * 10) as u8).collect();
        let labels = [0u8];
        let batcher =
            Batcher { augment: Some(Augment { hflip: true, max_rotate_deg: 0.0, max_shift: 0.0 }), mixup: None, num_classes: 2 };
        let plain = Batcher::eval().host_batch(&view(&images, &labels, side), &[0], &mut Rng::new(0));
        let mut saw_flip = false;
        let mut saw_same = false;
        let mut rng = Rng::new(1);
        for _ in 0..20 {
            let b = batcher.host_batch(&view(&images, &labels, side), &[0], &mut rng);
            if b.pixels == plain.pixels {
                saw_same = true;
            } else {
                saw_flip = true;
                for y in 0..side {
                    for x in 0..side {
                        assert!((b.pixels[y * side + x] - plain.pixels[y * side + side - 1 - x]).abs() < 1e-5);
                    }
                }
            }
        }
        assert!(saw_flip && saw_same);
    }

    #[test]
    fn augmentation_is_seeded_and_bounded_and_mixup_mixes_targets() {
        let side = 28;
        let images: Vec<u8> = (0..3 * 784).map(|i| (i % 251) as u8).collect();
        let labels = [0u8, 1, 1];
        let batcher = Batcher { augment: Some(Augment::default()), mixup: Some(0.4), num_classes: 2 };
        let v = view(&images, &labels, side);
        let a = batcher.host_batch(&v, &[0, 1, 2], &mut Rng::new(5));
        let b = batcher.host_batch(&v, &[0, 1, 2], &mut Rng::new(5));
        let c = batcher.host_batch(&v, &[0, 1, 2], &mut Rng::new(6));
        assert_eq!(a, b);
        assert_ne!(a.pixels, c.pixels);
        assert!(a.pixels.iter().all(|p| (-1.0..=1.0).contains(p)));
        for t in a.targets.chunks(2) {
            assert!((t[0] + t[1] - 1.0).abs() < 1e-6);
        }
    }
}

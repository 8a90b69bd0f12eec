//! The inputs of the two pretext tasks, built on the host from `u8` grayscale images with the
//! caller's seeded [`Rng`]:
//! - [`ViewAugment`]: SimCLR-style random views (random resized crop, flip, small rotation,
//!   brightness and contrast jitter, Gaussian noise);
//! - [`mask_patches`]: a random set of square patches hidden for masked-image reconstruction.
//!
//! It must not know about tensors or models: it fills `f32` buffers in the network's
//! normalised range (`[-1, 1]`, as [`crate::batch::normalise`]).

use serde::{Deserialize, Serialize};

use crate::rng::Rng;

/// How a contrastive view is drawn from an image.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ViewAugment {
    /// Smallest crop area, as a fraction of the image (SimCLR's random resized crop).
    pub min_crop: f32,
    /// Maximum absolute rotation in degrees.
    pub max_rotate_deg: f32,
    /// Brightness jitter: an offset uniform in `±brightness` (in the `[-1, 1]` range).
    pub brightness: f32,
    /// Contrast jitter: a factor uniform in `1 ± contrast` around the view's mean.
    pub contrast: f32,
    /// Standard deviation of added Gaussian noise (in the `[-1, 1]` range).
    pub noise: f32,
}

impl Default for ViewAugment {
    /// Crops of 35-100 % of the area, ±10°, ±0.2 brightness, ×(1 ± 0.3) contrast, σ 0.05 noise.
    fn default() -> Self {
        ViewAugment { min_crop: 0.35, max_rotate_deg: 10.0, brightness: 0.2, contrast: 0.3, noise: 0.05 }
    }
}

impl ViewAugment {
    /// One random view of `img` (`side * side` grayscale bytes) into `out` (`side * side`).
    pub fn view_into(&self, img: &[u8], side: usize, rng: &mut Rng, out: &mut [f32]) {
        let s = side as f32;
        // Random resized crop: area fraction and aspect ratio (log-uniform in [3/4, 4/3]).
        let area = rng.uniform(self.min_crop.clamp(0.01, 1.0), 1.0);
        let aspect = (rng.uniform((0.75f32).ln(), (4.0f32 / 3.0).ln())).exp();
        let w = (s * (area * aspect).sqrt()).min(s);
        let h = (s * (area / aspect).sqrt()).min(s);
        let cx = rng.uniform(w / 2.0, s - w / 2.0) - 0.5;
        let cy = rng.uniform(h / 2.0, s - h / 2.0) - 0.5;
        let flip = rng.unit() < 0.5;
        let theta = (rng.uniform(-1.0, 1.0) * self.max_rotate_deg).to_radians();
        let (sin, cos) = theta.sin_cos();
        let c0 = (s - 1.0) / 2.0;
        let at = |x: isize, y: isize| -> f32 {
            if x < 0 || y < 0 || x >= side as isize || y >= side as isize {
                0.0
            } else {
                img[y as usize * side + x as usize] as f32
            }
        };
        for y in 0..side {
            for x in 0..side {
                // Output pixel -> offset in the crop (flipped, rotated) -> source pixel.
                let mut dx = (x as f32 - c0) * (w / s);
                let dy = (y as f32 - c0) * (h / s);
                if flip {
                    dx = -dx;
                }
                let sx = cx + cos * dx + sin * dy;
                let sy = cy - sin * dx + cos * dy;
                let (x0, y0) = (sx.floor(), sy.floor());
                let (fx, fy) = (sx - x0, sy - y0);
                let (x0, y0) = (x0 as isize, y0 as isize);
                let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1, y0) * fx;
                let bot = at(x0, y0 + 1) * (1.0 - fx) + at(x0 + 1, y0 + 1) * fx;
                out[y * side + x] = (top * (1.0 - fy) + bot * fy) / 127.5 - 1.0;
            }
        }
        let offset = rng.uniform(-self.brightness, self.brightness);
        let factor = 1.0 + rng.uniform(-self.contrast, self.contrast);
        let mean = out.iter().sum::<f32>() / out.len().max(1) as f32;
        for v in out.iter_mut() {
            let noise = if self.noise > 0.0 { rng.normal() as f32 * self.noise } else { 0.0 };
            *v = ((*v - mean) * factor + mean + offset + noise).clamp(-1.0, 1.0);
        }
    }
}

/// A mask over a `side * side` image (`1.0` = hidden): `round(ratio * patches)` of the
/// `patch × patch` squares that tile it (the last row and column of squares may be cut off),
/// chosen uniformly at random. At least one square is always hidden.
pub fn mask_patches(side: usize, patch: usize, ratio: f32, rng: &mut Rng) -> Vec<f32> {
    let patch = patch.clamp(1, side.max(1));
    let per_row = side.div_ceil(patch);
    let total = per_row * per_row;
    let hidden = ((ratio.clamp(0.0, 1.0) * total as f32).round() as usize).clamp(1, total);
    let mut order: Vec<usize> = (0..total).collect();
    rng.shuffle(&mut order);
    let mut mask = vec![0.0; side * side];
    for &p in &order[..hidden] {
        let (py, px) = (p / per_row * patch, p % per_row * patch);
        for y in py..(py + patch).min(side) {
            for x in px..(px + patch).min(side) {
                mask[y * side + x] = 1.0;
            }
        }
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_are_seeded_in_range_and_differ() {
        let side = 28;
        let img: Vec<u8> = (0..side * side).map(|i| (i * 7 % 256) as u8).collect();
        let aug = ViewAugment::default();
        let (mut a, mut b, mut c) = (vec![0.0; side * side], vec![0.0; side * side], vec![0.0; side * side]);
        aug.view_into(&img, side, &mut Rng::new(3), &mut a);
        aug.view_into(&img, side, &mut Rng::new(3), &mut b);
        aug.view_into(&img, side, &mut Rng::new(4), &mut c);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(a.iter().all(|v| (-1.0..=1.0).contains(v)));
    }

    #[test]
    fn a_view_without_jitter_at_full_crop_is_the_image_or_its_mirror() {
        let side = 6;
        // Columns differ by 40 grey levels, rows by 2: a mirror is far from the image.
        let img: Vec<u8> = (0..36).map(|i| (i % 6 * 40 + i / 6 * 2) as u8).collect();
        let aug = ViewAugment { min_crop: 1.0, max_rotate_deg: 0.0, brightness: 0.0, contrast: 0.0, noise: 0.0 };
        let norm = |p: u8| p as f32 / 127.5 - 1.0;
        let (mut saw_plain, mut saw_flip) = (false, false);
        let mut rng = Rng::new(0);
        for _ in 0..20 {
            let mut out = vec![0.0; 36];
            aug.view_into(&img, side, &mut rng, &mut out);
            // Full area but a random aspect in [3/4, 4/3]: one axis may be squeezed to 87 %,
            // which moves a pixel by at most a third of a column.
            let plain = (0..36).all(|i| (out[i] - norm(img[i])).abs() < 0.35);
            let flipped = (0..36).all(|i| (out[i] - norm(img[i / 6 * 6 + 5 - i % 6])).abs() < 0.35);
            saw_plain |= plain;
            saw_flip |= flipped;
            assert!(plain || flipped, "{out:?}");
        }
        assert!(saw_plain && saw_flip);
    }

    #[test]
    fn masks_hide_whole_patches_in_the_asked_proportion() {
        let mut rng = Rng::new(1);
        let m = mask_patches(28, 4, 0.5, &mut rng);
        // 49 squares of 16 px; round(24.5) = 25 hidden (round half away from zero).
        assert_eq!(m.iter().filter(|&&v| v == 1.0).count(), 25 * 16);
        for py in 0..7 {
            for px in 0..7 {
                let first = m[py * 4 * 28 + px * 4];
                assert!((0..4).all(|y| (0..4).all(|x| m[(py * 4 + y) * 28 + px * 4 + x] == first)));
            }
        }
        assert_ne!(m, mask_patches(28, 4, 0.5, &mut rng));
        assert!(mask_patches(5, 4, 0.0, &mut Rng::new(0)).contains(&1.0), "at least one patch is hidden");
    }
}

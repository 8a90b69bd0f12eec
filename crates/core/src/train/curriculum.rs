//! Curriculum learning: which training images an epoch uses, ordered by a difficulty score.
//!
//! The score of an image is its cross-entropy loss the last time it was trained on (the first
//! epoch uses every image, in random order, and scores them all). From then on an epoch takes
//! the easiest images (`easy-first`, the curriculum), the hardest (`hard-first`, the
//! anti-curriculum) or a random selection (`random`, the control that sees the same number of
//! images), in a number that grows linearly from `start` of the training set at epoch 2 to all
//! of it at epoch `full_at` (the pacing function). The chosen images are shuffled before
//! batching, so the order within an epoch stays random.
//!
//! It must not know about tensors, devices, files or the browser.

use serde::{Deserialize, Serialize};

use crate::rng::Rng;

breastmnist_data::names! {
    /// Which images a paced epoch keeps.
    pub Order ("curriculum order") {
        /// The lowest-loss images first: curriculum learning.
        EasyFirst => "easy-first",
        /// The highest-loss images first: anti-curriculum.
        HardFirst => "hard-first",
        /// A random selection of the same size: the control.
        Random => "random",
    }
}

/// A curriculum: the order and the pacing.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Curriculum {
    pub order: Order,
    /// Fraction of the training images used at epoch 2 (epoch 1 uses all of them to score them).
    pub start: f64,
    /// The epoch from which every image is used again.
    pub full_at: usize,
}

impl Curriculum {
    /// Start from the easiest 40 %, reach all images at `full_at`.
    pub fn new(order: Order, full_at: usize) -> Curriculum {
        Curriculum { order, start: 0.4, full_at }
    }

    /// Whether the settings make sense (`start` in (0, 1], `full_at` at least 2).
    pub fn is_valid(&self) -> bool {
        self.start > 0.0 && self.start <= 1.0 && self.full_at >= 2
    }

    /// The fraction of the training images epoch `epoch` (1-based) uses: 1 at epoch 1, `start`
    /// at epoch 2, growing linearly to 1 at `full_at` and after.
    pub fn fraction(&self, epoch: usize) -> f64 {
        if epoch <= 1 || epoch >= self.full_at {
            return 1.0;
        }
        let span = (self.full_at - 2).max(1) as f64;
        let t = (epoch - 2) as f64 / span;
        (self.start + (1.0 - self.start) * t).min(1.0)
    }

    /// The images (indices into `0..difficulty.len()`) epoch `epoch` trains on, shuffled.
    /// Ties in difficulty keep the lower index first, so the choice depends only on the scores
    /// and the generator.
    pub fn pick(&self, epoch: usize, difficulty: &[f32], rng: &mut Rng) -> Vec<usize> {
        let n = difficulty.len();
        let mut order: Vec<usize> = (0..n).collect();
        let take = ((self.fraction(epoch) * n as f64).ceil() as usize).clamp(1.min(n), n);
        if take < n {
            match self.order {
                Order::EasyFirst => order.sort_by(|&a, &b| difficulty[a].total_cmp(&difficulty[b]).then(a.cmp(&b))),
                Order::HardFirst => order.sort_by(|&a, &b| difficulty[b].total_cmp(&difficulty[a]).then(a.cmp(&b))),
                Order::Random => rng.shuffle(&mut order),
            }
            order.truncate(take);
        }
        rng.shuffle(&mut order);
        order
    }
}

/// Per-image loss of `logits` (`[n][k]` row-major) against `targets` (`[n][k]`), computed on
/// the host from values the training step reads anyway: the cross-entropy against soft targets,
/// or with `multi_label` the mean binary cross-entropy of the `k` labels.
pub fn per_image_loss(logits: &[f32], targets: &[f32], k: usize, multi_label: bool) -> Vec<f32> {
    logits
        .chunks(k.max(1))
        .zip(targets.chunks(k.max(1)))
        .map(|(l, t)| {
            if multi_label {
                // max(x, 0) - x t + ln(1 + e^-|x|), the stable form of the logistic loss.
                let sum: f32 = l.iter().zip(t).map(|(&x, &t)| x.max(0.0) - x * t + (-x.abs()).exp().ln_1p()).sum();
                sum / l.len() as f32
            } else {
                let m = l.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let lse = m + l.iter().map(|&x| (x - m).exp()).sum::<f32>().ln();
                -l.iter().zip(t).map(|(&x, &t)| t * (x - lse)).sum::<f32>()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacing_grows_linearly_from_start_to_all() {
        let c = Curriculum { order: Order::EasyFirst, start: 0.4, full_at: 8 };
        assert_eq!(c.fraction(1), 1.0, "epoch 1 scores every image");
        assert!((c.fraction(2) - 0.4).abs() < 1e-12);
        assert!((c.fraction(5) - 0.7).abs() < 1e-12);
        assert_eq!(c.fraction(8), 1.0);
        assert_eq!(c.fraction(20), 1.0);
        assert!(c.is_valid());
        assert!(!Curriculum { full_at: 1, ..c }.is_valid());
        assert!(!Curriculum { start: 0.0, ..c }.is_valid());
    }

    #[test]
    fn orders_pick_by_the_known_score() {
        // Difficulty = index reversed: image 9 is the easiest, image 0 the hardest.
        let difficulty: Vec<f32> = (0..10).map(|i| (9 - i) as f32).collect();
        let c = Curriculum { order: Order::EasyFirst, start: 0.4, full_at: 8 };
        let mut rng = Rng::new(1);
        let mut easy = c.pick(2, &difficulty, &mut rng);
        easy.sort();
        assert_eq!(easy, vec![6, 7, 8, 9]);
        let mut hard = Curriculum { order: Order::HardFirst, ..c }.pick(2, &difficulty, &mut rng);
        hard.sort();
        assert_eq!(hard, vec![0, 1, 2, 3]);
        let random = Curriculum { order: Order::Random, ..c }.pick(2, &difficulty, &mut rng);
        assert_eq!(random.len(), 4);
        let mut all = c.pick(8, &difficulty, &mut rng);
        assert_eq!(all.len(), 10);
        all.sort();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        // Half-way: ceil(0.7 * 10) = 7 easiest.
        let mut mid = c.pick(5, &difficulty, &mut rng);
        mid.sort();
        assert_eq!(mid, (3..10).collect::<Vec<_>>());
        // The same generator state gives the same epoch.
        assert_eq!(c.pick(3, &difficulty, &mut Rng::new(4)), c.pick(3, &difficulty, &mut Rng::new(4)));
    }

    #[test]
    fn per_image_loss_is_the_cross_entropy() {
        let logits = [0.0f32, 0.0, 2.0, -1.0];
        let targets = [1.0f32, 0.0, 0.0, 1.0];
        let l = per_image_loss(&logits, &targets, 2, false);
        assert!((l[0] - std::f32::consts::LN_2).abs() < 1e-6);
        // -log softmax(-1 | [2, -1]) = 3 + ln(1 + e^-3)
        assert!((l[1] - (3.0 + (1.0f32 + (-3.0f32).exp()).ln())).abs() < 1e-5);
        // Three classes: -log softmax(0 | [0, ln 2, ln 3]) = ln 6.
        let three = per_image_loss(&[0.0, 2f32.ln(), 3f32.ln()], &[1.0, 0.0, 0.0], 3, false);
        assert!((three[0] - 6f32.ln()).abs() < 1e-6);
        // Multi-label: the mean of -ln sigmoid(x) for t = 1 and -ln(1 - sigmoid(x)) for t = 0.
        let ml = per_image_loss(&[0.0, 3.0], &[1.0, 0.0], 2, true);
        let expected = (std::f32::consts::LN_2 + (1.0 + 3f32.exp()).ln()) / 2.0;
        assert!((ml[0] - expected).abs() < 1e-6, "{ml:?} {expected}");
        for o in Order::ALL {
            assert_eq!(o.name().parse::<Order>(), Ok(o));
        }
    }
}

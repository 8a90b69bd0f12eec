//! Where a step-at-a-time loop over a shuffled set stands (pretraining's and the GAN's): the
//! epoch, the step in it, and the epoch's order, drawn afresh as each epoch starts.

use crate::rng::Rng;

/// One step's images (indices into the set) and where the step is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Turn {
    /// From 1.
    pub epoch: usize,
    /// From 0, within the epoch.
    pub step: usize,
    pub indices: Vec<usize>,
    /// The first step of its epoch (the order was just drawn).
    pub starts_epoch: bool,
}

/// The loop's position over `epochs` epochs of a set of `len` items in batches of `batch`.
#[derive(Clone, Debug)]
pub struct Epochs {
    len: usize,
    batch: usize,
    epochs: usize,
    epoch: usize,
    step: usize,
    order: Vec<usize>,
}

impl Epochs {
    /// At the first step of epoch 1. `len` and `batch` are at least 1 (the loops refuse an
    /// empty set and a batch of 0 first).
    pub fn new(len: usize, batch: usize, epochs: usize) -> Self {
        debug_assert!(len >= 1, "an empty set has no batches");
        Epochs { len, batch: batch.max(1), epochs, epoch: 1, step: 0, order: Vec::new() }
    }

    pub fn steps_per_epoch(&self) -> usize {
        self.len.div_ceil(self.batch)
    }

    pub fn is_finished(&self) -> bool {
        self.epoch > self.epochs
    }

    /// The next step's images. As an epoch starts its order is drawn from `rng`; a last batch
    /// of one image borrows the epoch's first (BatchNorm, and a contrastive loss's negatives,
    /// need two). Asking again before [`Epochs::advance`] gives the same step (redrawn at an
    /// epoch's start).
    pub fn turn(&mut self, rng: &mut Rng) -> Turn {
        let starts_epoch = self.step == 0;
        if starts_epoch {
            self.order = (0..self.len).collect();
            rng.shuffle(&mut self.order);
        }
        let from = (self.step * self.batch).min(self.order.len());
        let mut indices = self.order[from..(from + self.batch).min(self.order.len())].to_vec();
        if indices.len() < 2
            && let Some(&first) = self.order.first()
        {
            indices.push(first);
        }
        Turn { epoch: self.epoch, step: self.step, indices, starts_epoch }
    }

    /// Moves past the step [`Epochs::turn`] gave; `true` when that step ended its epoch.
    pub fn advance(&mut self) -> bool {
        if self.step + 1 >= self.steps_per_epoch() {
            self.epoch += 1;
            self.step = 0;
            true
        } else {
            self.step += 1;
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_once_per_epoch_in_a_fresh_order_and_a_lone_last_image_gets_company() {
        let mut rng = Rng::new(3);
        let mut e = Epochs::new(5, 2, 2);
        assert_eq!(e.steps_per_epoch(), 3);
        let mut orders = Vec::new();
        while !e.is_finished() {
            let t = e.turn(&mut rng);
            assert_eq!(t.starts_epoch, t.step == 0);
            if t.starts_epoch {
                orders.push(Vec::new());
            }
            let ended = e.advance();
            assert_eq!(ended, t.step == 2, "epoch {} step {}", t.epoch, t.step);
            if t.step == 2 {
                assert_eq!(t.indices.len(), 2, "the fifth image and the epoch's first");
                assert_eq!(t.indices[1], orders.last().unwrap()[0]);
                orders.last_mut().unwrap().push(t.indices[0]);
            } else {
                orders.last_mut().unwrap().extend(&t.indices);
            }
        }
        assert_eq!(orders.len(), 2);
        for o in &orders {
            let mut sorted = o.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, vec![0, 1, 2, 3, 4], "every item once: {o:?}");
        }
        assert_ne!(orders[0], orders[1], "each epoch draws its own order");
        // The same seed, the same orders; asking twice gives the same step.
        let mut again = Epochs::new(5, 2, 2);
        let mut rng = Rng::new(3);
        let first = again.turn(&mut rng);
        assert_eq!(first.indices, orders[0][..2].to_vec());
        again.advance();
        assert_eq!(again.turn(&mut rng), again.clone().turn(&mut rng));
        // A set of one image is a batch of two.
        assert_eq!(Epochs::new(1, 32, 1).turn(&mut Rng::new(0)).indices, vec![0, 0]);
    }
}

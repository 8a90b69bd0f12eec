//! The data audit: near-duplicate images within and across the splits of a dataset file.
//!
//! The measure is the Pearson correlation of two images' stored pixels (each image flattened,
//! centred on its own mean and scaled to unit length; the correlation is the dot product, in
//! `f64`). Two images whose correlation exceeds [`TWIN_THRESHOLD`] are *twins*: the same
//! picture stored twice, or a near-copy (a re-export, a slightly different crop or gain).
//!
//! Why 0.95: in both official BreastMNIST files each test image's nearest training image has a
//! correlation with a bimodal distribution — the bulk (median 0.89 at 28 px, 0.85 at 64 px) and
//! a cluster of twins near 1 — and 0.95 sits in the trough between them, at least 1.9e-3 from
//! the nearest value on either side in every split of both files; every pair above it that was
//! inspected by eye is the same picture. (The 99.9th percentile of all test-train pairs is 0.92
//! at 28 px and 0.89 at 64 px.) The [`Audit`] carries both histograms, so the page shows the
//! reader the distribution the threshold is read from.
//!
//! It must not know about models or metrics: it reports pairs, counts and the test images that
//! have no training twin ([`Audit::deduplicated_test`]), and leaves their use to the caller.

use serde::{Deserialize, Serialize};

use crate::{Dataset, Split};

/// The correlation above which two images are counted as twins.
pub const TWIN_THRESHOLD: f64 = 0.95;

/// The audit's measure, as the report names it.
pub const MEASURE: &str = "Pearson correlation of the stored pixels";

/// The most pixel products an audit computes (all pairs of all splits): past it a file is too
/// large to audit pair by pair.
pub const MAX_PRODUCTS: u64 = 40_000_000_000;

/// A file too large to audit pair by pair.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("auditing {images} images of {pixels} values pair by pair takes {products} products, over the limit of {MAX_PRODUCTS}")]
pub struct TooLarge {
    pub images: usize,
    pub pixels: usize,
    pub products: u64,
}

/// One image of a split.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Image {
    pub split: Split,
    pub index: usize,
    pub label: u8,
}

/// Two twins.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pair {
    pub a: Image,
    pub b: Image,
    /// Their correlation.
    pub r: f64,
    /// Every stored byte is equal.
    pub identical: bool,
}

impl Pair {
    /// The twins carry different labels.
    pub fn conflict(&self) -> bool {
        self.a.label != self.b.label
    }
}

/// What one pair of splits shares.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitPair {
    pub first: Split,
    pub second: Split,
    /// Images of `first` with a twin in `second` (for a split with itself: images with a twin
    /// among the others).
    pub images: usize,
    /// Twin pairs between them.
    pub pairs: usize,
    /// Of those, pairs whose labels differ.
    pub conflicts: usize,
    /// Pairs whose stored bytes are all equal.
    pub identical: usize,
}

/// Counts of values in equal bins from `from`, `width` wide; `below` counts the values under
/// `from`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    pub from: f64,
    pub width: f64,
    pub counts: Vec<usize>,
    pub below: usize,
}

impl Histogram {
    fn of(values: impl IntoIterator<Item = f64>, from: f64, width: f64, bins: usize) -> Histogram {
        let mut h = Histogram { from, width, counts: vec![0; bins], below: 0 };
        for v in values {
            if v < from {
                h.below += 1;
            } else {
                let bin = (((v - from) / width) as usize).min(bins - 1);
                h.counts[bin] += 1;
            }
        }
        h
    }

    /// How many values were counted.
    pub fn total(&self) -> usize {
        self.below + self.counts.iter().sum::<usize>()
    }

    /// The share of the values that lie in bins ending at or before `x` (values under `from`
    /// included); 0 for an empty histogram.
    pub fn share_below(&self, x: f64) -> f64 {
        let ended = (0..self.counts.len()).filter(|&i| self.from + (i + 1) as f64 * self.width <= x + 1e-9);
        let n = self.below + ended.map(|i| self.counts[i]).sum::<usize>();
        if self.total() == 0 { 0.0 } else { n as f64 / self.total() as f64 }
    }
}

/// The audit of one file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Audit {
    pub measure: String,
    pub threshold: f64,
    /// Test-train, val-train, test-val, then each split with itself.
    pub splits: Vec<SplitPair>,
    /// Every twin pair, the closest first.
    pub pairs: Vec<Pair>,
    /// Each test image's correlation with its nearest training image, in test order.
    pub nearest_train: Vec<f64>,
    /// The histogram of `nearest_train` (bins of 0.01 from 0.5): the distribution the
    /// threshold is read from.
    pub nearest_histogram: Histogram,
    /// Every test-train pair's correlation (bins of 0.02 from -1).
    pub all_pairs_histogram: Histogram,
    /// The test images without a training twin, in test order: the de-duplicated test subset.
    pub deduplicated_test: Vec<usize>,
}

impl Audit {
    /// The counts for `first` against `second`.
    pub fn split_pair(&self, first: Split, second: Split) -> Option<&SplitPair> {
        self.splits.iter().find(|p| p.first == first && p.second == second)
    }

    /// The twin pairs that join `first` and `second` (in either order).
    pub fn pairs_between(&self, first: Split, second: Split) -> impl Iterator<Item = &Pair> {
        self.pairs.iter().filter(move |p| (p.a.split, p.b.split) == (first, second) || (p.a.split, p.b.split) == (second, first))
    }

    /// Whether test image `index` has a training twin.
    pub fn test_has_train_twin(&self, index: usize) -> bool {
        self.deduplicated_test.binary_search(&index).is_err()
    }
}

/// Every image of a split, centred and scaled to unit length (`None` for a constant image,
/// whose correlation with anything is undefined).
fn normalised(data: &Dataset, split: Split) -> Vec<Option<Vec<f64>>> {
    (0..data.split(split).len())
        .map(|i| {
            let px = data.image(split, i);
            let mean = px.iter().map(|&v| v as f64).sum::<f64>() / px.len() as f64;
            let centred: Vec<f64> = px.iter().map(|&v| v as f64 - mean).collect();
            let norm = centred.iter().map(|v| v * v).sum::<f64>().sqrt();
            (norm > 0.0).then(|| centred.into_iter().map(|v| v / norm).collect())
        })
        .collect()
}

/// A split's place in [`Split::ALL`].
fn slot(split: Split) -> usize {
    match split {
        Split::Train => 0,
        Split::Val => 1,
        Split::Test => 2,
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Each test image's correlation with its nearest training image, in test order (the part of
/// the audit every run needs: [`deduplicated_test`]).
pub fn nearest_train(data: &Dataset) -> Vec<f64> {
    let (train, test) = (normalised(data, Split::Train), normalised(data, Split::Test));
    (0..test.len())
        .map(|i| {
            (0..train.len())
                .map(|j| match (&test[i], &train[j]) {
                    (Some(x), Some(y)) => dot(x, y),
                    _ => f64::from(u8::from(data.image(Split::Test, i) == data.image(Split::Train, j))),
                })
                .fold(f64::NEG_INFINITY, f64::max)
        })
        .collect()
}

/// The test images whose nearest training image correlates at most `threshold`: the
/// de-duplicated test subset, in test order.
pub fn deduplicated_test(data: &Dataset, threshold: f64) -> Vec<usize> {
    below(&nearest_train(data), threshold)
}

fn below(nearest: &[f64], threshold: f64) -> Vec<usize> {
    (0..nearest.len()).filter(|&i| nearest[i] <= threshold).collect()
}

/// The audit of `data` at `threshold` (use [`TWIN_THRESHOLD`]).
pub fn audit(data: &Dataset, threshold: f64) -> Result<Audit, TooLarge> {
    let images = data.len();
    let pixels = data.image_len();
    let products = (images as u64 * images.saturating_sub(1) as u64 / 2) * pixels as u64;
    if products > MAX_PRODUCTS {
        return Err(TooLarge { images, pixels, products });
    }
    let vectors: Vec<Vec<Option<Vec<f64>>>> = Split::ALL.iter().map(|&s| normalised(data, s)).collect();
    // Multi-label images carry k labels each: their twins are counted, their labels not compared.
    let label = |split: Split, index: usize| {
        let s = data.split(split);
        if s.width == 1 { s.labels[index] } else { 0 }
    };
    let image = |split: Split, index: usize| Image { split, index, label: label(split, index) };
    // The correlation of two images; a constant image correlates 1 with its identical copy, else 0.
    let r = |a: Image, b: Image| -> (f64, bool) {
        let identical = data.image(a.split, a.index) == data.image(b.split, b.index);
        let (va, vb) = (&vectors[slot(a.split)][a.index], &vectors[slot(b.split)][b.index]);
        let r = match (va, vb) {
            (Some(x), Some(y)) => dot(x, y),
            _ => f64::from(u8::from(identical)),
        };
        (r, identical)
    };
    let order = [(Split::Test, Split::Train), (Split::Val, Split::Train), (Split::Test, Split::Val)];
    let within = [(Split::Train, Split::Train), (Split::Val, Split::Val), (Split::Test, Split::Test)];
    let mut splits = Vec::new();
    let mut pairs = Vec::new();
    let mut nearest_train = Vec::new();
    let mut all_test_train = Vec::new();
    for (first, second) in order.into_iter().chain(within) {
        let same = first == second;
        let (n1, n2) = (data.split(first).len(), data.split(second).len());
        let mut has_twin = vec![false; n1];
        let mut count = SplitPair { first, second, images: 0, pairs: 0, conflicts: 0, identical: 0 };
        for i in 0..n1 {
            let mut best = f64::NEG_INFINITY;
            for j in if same { i + 1..n2 } else { 0..n2 } {
                let (a, b) = (image(first, i), image(second, j));
                let (r, identical) = r(a, b);
                best = best.max(r);
                if (first, second) == (Split::Test, Split::Train) {
                    all_test_train.push(r);
                }
                if r > threshold {
                    has_twin[i] = true;
                    if same {
                        has_twin[j] = true;
                    }
                    let pair = Pair { a, b, r, identical };
                    count.pairs += 1;
                    count.conflicts += usize::from(pair.conflict());
                    count.identical += usize::from(identical);
                    pairs.push(pair);
                }
            }
            if (first, second) == (Split::Test, Split::Train) {
                nearest_train.push(best);
            }
        }
        count.images = has_twin.iter().filter(|&&t| t).count();
        splits.push(count);
    }
    pairs.sort_by(|x, y| y.r.total_cmp(&x.r));
    let deduplicated_test = below(&nearest_train, threshold);
    Ok(Audit {
        measure: MEASURE.to_string(),
        threshold,
        nearest_histogram: Histogram::of(nearest_train.iter().copied(), 0.5, 0.01, 50),
        all_pairs_histogram: Histogram::of(all_test_train, -1.0, 0.02, 100),
        splits,
        pairs,
        nearest_train,
        deduplicated_test,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SplitData;

    /// A 4 x 4 image from a seed: distinct seeds give unrelated patterns.
    fn picture(seed: u32) -> Vec<u8> {
        (0..16u32).map(|i| ((i * 37 + seed * 101) ^ (seed * 13 + i * i * 7)) as u8).collect()
    }

    fn split(pictures: &[Vec<u8>], labels: &[u8]) -> SplitData {
        SplitData::single(pictures.concat(), labels.to_vec())
    }

    fn data() -> Dataset {
        let a = picture(1);
        // A darker, lower-contrast copy of `a`: correlation near 1, bytes differ.
        let a_gain: Vec<u8> = a.iter().map(|&v| v / 2 + 10).collect();
        let b = picture(2);
        let flat = vec![7u8; 16];
        Dataset {
            side: 4,
            channels: 1,
            targets: crate::Targets::Classes(2),
            train: split(&[a.clone(), b.clone(), picture(3), flat.clone()], &[0, 1, 1, 0]),
            val: split(&[picture(4), a_gain], &[1, 0]),
            // a (label 1: a conflict), b (same label), unrelated, a constant image equal to train #3.
            test: split(&[a, b, picture(5), flat], &[1, 1, 0, 0]),
        }
    }

    #[test]
    fn a_histogram_counts_its_values_and_the_share_below_a_bin_edge() {
        let h = Histogram::of([-1.0, 0.05, 0.15, 0.15, 0.25, 7.0], 0.0, 0.1, 3);
        assert_eq!((h.below, h.counts.clone(), h.total()), (1, vec![1, 2, 2], 6), "the last bin takes what lies past it");
        assert_eq!(h.share_below(0.0), 1.0 / 6.0);
        assert_eq!(h.share_below(0.2), 4.0 / 6.0);
        assert_eq!(h.share_below(0.15), 2.0 / 6.0, "a bin counts only once it has ended");
        assert_eq!(Histogram::of([], 0.0, 0.1, 3).share_below(1.0), 0.0);
    }

    #[test]
    fn finds_copies_across_and_within_splits_with_their_labels() {
        let audit = audit(&data(), TWIN_THRESHOLD).unwrap();
        let tt = audit.split_pair(Split::Test, Split::Train).unwrap();
        assert_eq!((tt.images, tt.pairs, tt.conflicts, tt.identical), (3, 3, 1, 3));
        let conflicts: Vec<(usize, usize)> =
            audit.pairs_between(Split::Test, Split::Train).filter(|p| p.conflict()).map(|p| (p.a.index, p.b.index)).collect();
        assert_eq!(conflicts, [(0, 0)]);
        assert_eq!(audit.deduplicated_test, [2], "only the unrelated test image has no training twin");
        assert_eq!(deduplicated_test(&data(), TWIN_THRESHOLD), [2]);
        assert_eq!(nearest_train(&data()), audit.nearest_train);
        assert!(audit.test_has_train_twin(0) && !audit.test_has_train_twin(2));
        let vt = audit.split_pair(Split::Val, Split::Train).unwrap();
        assert_eq!((vt.images, vt.identical), (1, 0), "a re-scaled copy is a twin, not identical");
        // Within train nothing repeats; the test split's a and the val copy are twins across.
        assert_eq!(audit.split_pair(Split::Train, Split::Train).unwrap().pairs, 0);
        assert_eq!(audit.split_pair(Split::Test, Split::Val).unwrap().pairs, 1);
        assert!(audit.pairs.windows(2).all(|w| w[0].r >= w[1].r), "closest first");
        assert_eq!(audit.nearest_train.len(), 4);
        assert_eq!(audit.nearest_histogram.counts.iter().sum::<usize>() + audit.nearest_histogram.below, 4);
        assert_eq!(audit.all_pairs_histogram.counts.iter().sum::<usize>() + audit.all_pairs_histogram.below, 16);
    }

    #[test]
    fn within_a_split_both_twins_count_and_a_file_too_large_is_refused() {
        let mut d = data();
        d.train = split(&[picture(1), picture(1), picture(3)], &[0, 1, 1]);
        let audit = audit(&d, TWIN_THRESHOLD).unwrap();
        let tr = audit.split_pair(Split::Train, Split::Train).unwrap();
        assert_eq!((tr.images, tr.pairs, tr.conflicts), (2, 1, 1));
        // Refused from the sizes alone, before a pixel is read (the images are not even there).
        let big = Dataset { side: 224, channels: 3, train: SplitData::single(Vec::new(), vec![0; 3_000]), ..d };
        let e = super::audit(&big, TWIN_THRESHOLD).unwrap_err();
        assert_eq!((e.images, e.pixels), (3_006, 224 * 224 * 3));
    }
}

//! The data audit as the article shows it: the counts per pair of splits, the twin pairs in the
//! order a reader should see them (label conflicts first, then the closest), the histogram the
//! threshold is read from, and which images the gallery's "twins" filter keeps.
//!
//! No signals and no DOM, so every rule is tested natively.

use std::collections::HashSet;

use breastmnist_data::Split;
use breastmnist_data::audit::{Audit, Pair};

/// Where the audit of the loaded file is.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum AuditPhase {
    /// No verified file yet.
    #[default]
    Waiting,
    /// Computing in the verifier worker.
    Running,
    Done(std::sync::Arc<Audit>),
    Failed(String),
}

/// One row of the counts table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountRow {
    /// "test – train", "train (within)".
    pub label: String,
    pub images: usize,
    /// The first split's size.
    pub of: usize,
    pub pairs: usize,
    pub conflicts: usize,
    pub identical: usize,
}

/// The counts table, in the audit's order (across splits, then within each).
pub fn count_rows(audit: &Audit, split_len: impl Fn(Split) -> usize) -> Vec<CountRow> {
    audit
        .splits
        .iter()
        .map(|p| CountRow {
            label: if p.first == p.second { format!("{} (within)", p.first) } else { format!("{} – {}", p.first, p.second) },
            images: p.images,
            of: split_len(p.first),
            pairs: p.pairs,
            conflicts: p.conflicts,
            identical: p.identical,
        })
        .collect()
}

/// The pairs across splits a reader should see first: label conflicts, then the closest; the
/// test–train pairs before the others. At most `n`.
pub fn shown_pairs(audit: &Audit, n: usize) -> Vec<&Pair> {
    let rank = |p: &Pair| match (p.a.split, p.b.split) {
        (Split::Test, Split::Train) => 0,
        (Split::Val, Split::Train) | (Split::Test, Split::Val) => 1,
        _ => 2,
    };
    let mut pairs: Vec<&Pair> = audit.pairs.iter().filter(|p| p.a.split != p.b.split).collect();
    pairs.sort_by(|x, y| (!x.conflict(), rank(x)).cmp(&(!y.conflict(), rank(y))).then(y.r.total_cmp(&x.r)));
    pairs.truncate(n);
    pairs
}

/// Every image with a twin (in any split, itself included), for the gallery's filter.
pub fn twins(audit: &Audit) -> HashSet<(Split, usize)> {
    audit.pairs.iter().flat_map(|p| [(p.a.split, p.a.index), (p.b.split, p.b.index)]).collect()
}

/// A pair's caption: where each image is, its label, the correlation, and what is wrong.
pub fn caption(p: &Pair) -> String {
    let name = |l: u8| if l == 0 { "malignant" } else { "normal/benign" };
    let what = match (p.identical, p.conflict()) {
        (true, true) => "identical pixels, opposite labels",
        (true, false) => "identical pixels",
        (false, true) => "opposite labels",
        (false, false) => "near-copy",
    };
    format!(
        "{} #{} ({}) ~ {} #{} ({}): r = {:.4}, {what}",
        p.a.split,
        p.a.index,
        name(p.a.label),
        p.b.split,
        p.b.index,
        name(p.b.label),
        p.r
    )
}

/// The share of test images the de-duplicated subset keeps, as the article says it.
pub fn summary(audit: &Audit, test_len: usize) -> String {
    let tt = audit.split_pair(Split::Test, Split::Train);
    let (twins, conflicts) = tt.map_or((0, 0), |p| (p.images, p.conflicts));
    format!(
        "{twins} of the {test_len} test images have a near-copy in the training split ({conflicts} of those pairs with opposite \
         labels); the de-duplicated test subset keeps the other {}.",
        audit.deduplicated_test.len()
    )
}

#[cfg(test)]
mod tests {
    use breastmnist_data::audit::{Histogram, Image, SplitPair};

    use super::*;

    fn pair(a: (Split, usize, u8), b: (Split, usize, u8), r: f64, identical: bool) -> Pair {
        let img = |(split, index, label)| Image { split, index, label };
        Pair { a: img(a), b: img(b), r, identical }
    }

    fn audit() -> Audit {
        let h = Histogram { from: 0.5, width: 0.01, counts: vec![0; 50], below: 0 };
        Audit {
            measure: "m".into(),
            threshold: 0.95,
            splits: vec![
                SplitPair { first: Split::Test, second: Split::Train, images: 2, pairs: 2, conflicts: 1, identical: 1 },
                SplitPair { first: Split::Train, second: Split::Train, images: 2, pairs: 1, conflicts: 0, identical: 0 },
            ],
            pairs: vec![
                pair((Split::Train, 1, 1), (Split::Train, 2, 1), 0.999, false),
                pair((Split::Test, 76, 1), (Split::Train, 115, 0), 1.0, true),
                pair((Split::Test, 8, 1), (Split::Train, 42, 1), 0.996, false),
                pair((Split::Val, 1, 0), (Split::Train, 3, 0), 0.997, false),
            ],
            nearest_train: vec![],
            nearest_histogram: h.clone(),
            all_pairs_histogram: h,
            deduplicated_test: vec![0, 1, 2],
        }
    }

    #[test]
    fn conflicts_come_first_then_test_then_the_closest() {
        let a = audit();
        let shown: Vec<(Split, usize)> = shown_pairs(&a, 10).iter().map(|p| (p.a.split, p.a.index)).collect();
        assert_eq!(shown, [(Split::Test, 76), (Split::Test, 8), (Split::Val, 1)], "within-split pairs are not shown");
        assert_eq!(shown_pairs(&a, 1).len(), 1);
        assert_eq!(
            caption(shown_pairs(&a, 1)[0]),
            "test #76 (normal/benign) ~ train #115 (malignant): r = 1.0000, identical pixels, opposite labels"
        );
    }

    #[test]
    fn counts_twins_and_summary() {
        let a = audit();
        let rows = count_rows(&a, |s| if s == Split::Test { 156 } else { 546 });
        assert_eq!(rows[0], CountRow { label: "test – train".into(), images: 2, of: 156, pairs: 2, conflicts: 1, identical: 1 });
        assert_eq!(rows[1].label, "train (within)");
        let t = twins(&a);
        assert!(t.contains(&(Split::Test, 76)) && t.contains(&(Split::Train, 115)) && t.contains(&(Split::Train, 2)));
        assert_eq!(t.len(), 8);
        assert!(summary(&a, 156).starts_with("2 of the 156 test images have a near-copy"), "{}", summary(&a, 156));
        assert!(summary(&a, 156).ends_with("keeps the other 3."));
    }
}

//! What the gallery shows: the filter a reader picks and the list of samples it selects.
//!
//! Plain data and functions (no signals, no DOM), so the rules are tested natively.

use breastmnist_data::{Class, Dataset, Split};

use crate::view::explore::Correctness;

/// Which split the gallery shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SplitFilter {
    #[default]
    All,
    Only(Split),
}

/// Which class the gallery shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ClassFilter {
    #[default]
    All,
    Only(Class),
}

/// The gallery's filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct GalleryFilter {
    pub split: SplitFilter,
    pub class: ClassFilter,
    /// Right or wrong under the trained model (samples of splits without predictions are
    /// neither).
    pub correctness: Correctness,
    /// Only the images the data audit found a twin for.
    pub twins_only: bool,
}

/// The images the data audit found a twin for (`view::audit::twins`).
pub type Twins = std::collections::HashSet<(Split, usize)>;

/// Label-1 scores of each split (train, val, test), where predictions exist.
pub type SplitScores<'a> = [Option<&'a [f32]>; 3];

fn split_slot(split: Split) -> usize {
    match split {
        Split::Train => 0,
        Split::Val => 1,
        Split::Test => 2,
    }
}

/// The score of one sample, if its split has predictions.
pub fn score_of(scores: &SplitScores<'_>, split: Split, index: usize) -> Option<f32> {
    scores[split_slot(split)].and_then(|s| s.get(index).copied())
}

/// One sample of the dataset, addressed by its official split and index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SampleRef {
    pub split: Split,
    pub index: usize,
    pub class: Class,
}

impl SampleRef {
    /// A stable key, e.g. `test-42`.
    pub fn key(&self) -> String {
        format!("{}-{}", self.split.key(), self.index)
    }
}

impl GalleryFilter {
    pub fn accepts(&self, s: &SampleRef, score: Option<f32>) -> bool {
        let split_ok = match self.split {
            SplitFilter::All => true,
            SplitFilter::Only(sp) => sp == s.split,
        };
        let class_ok = match self.class {
            ClassFilter::All => true,
            ClassFilter::Only(c) => c == s.class,
        };
        split_ok && class_ok && self.correctness.accepts(s.class.label(), score)
    }

    /// The samples this filter selects, in official order (train, val, test; by index).
    /// `twins`: the audit's, once it is done (until then the twins filter selects nothing).
    pub fn select(&self, ds: &Dataset, scores: &SplitScores<'_>, twins: Option<&Twins>) -> Vec<SampleRef> {
        Split::ALL
            .into_iter()
            .flat_map(|split| {
                (0..ds.split(split).len()).map(move |index| SampleRef { split, index, class: ds.label(split, index) })
            })
            .filter(|s| self.accepts(s, score_of(scores, s.split, s.index)))
            .filter(|s| !self.twins_only || twins.is_some_and(|t| t.contains(&(s.split, s.index))))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use breastmnist_data::SplitData;

    const NONE: SplitScores<'static> = [None, None, None];

    fn dataset() -> Dataset {
        let split = |labels: Vec<u8>| SplitData::single(vec![0; labels.len() * 4], labels);
        Dataset {
            side: 2,
            channels: 1,
            targets: breastmnist_data::Targets::Classes(2),
            train: split(vec![0, 1, 1]),
            val: split(vec![1]),
            test: split(vec![0, 0]),
        }
    }

    #[test]
    fn all_selects_everything_in_official_order() {
        let keys: Vec<_> = GalleryFilter::default().select(&dataset(), &NONE, None).iter().map(SampleRef::key).collect();
        assert_eq!(keys, ["train-0", "train-1", "train-2", "val-0", "test-0", "test-1"]);
    }

    #[test]
    fn split_and_class_filters_combine() {
        let ds = dataset();
        let malignant = GalleryFilter { class: ClassFilter::Only(Class::Malignant), ..Default::default() };
        assert_eq!(malignant.select(&ds, &NONE, None).len(), 3);
        let test_benign = GalleryFilter {
            split: SplitFilter::Only(Split::Test),
            class: ClassFilter::Only(Class::Benign),
            ..Default::default()
        };
        assert!(test_benign.select(&ds, &NONE, None).is_empty());
        let train_benign = GalleryFilter {
            split: SplitFilter::Only(Split::Train),
            class: ClassFilter::Only(Class::Benign),
            ..Default::default()
        };
        let keys: Vec<_> = train_benign.select(&ds, &NONE, None).iter().map(SampleRef::key).collect();
        assert_eq!(keys, ["train-1", "train-2"]);
    }

    #[test]
    fn mistakes_filter_uses_the_splits_with_predictions() {
        let ds = dataset();
        // Test labels [0, 0]: a score of 0.9 is a mistake, 0.1 is right; train/val have none.
        let test_scores = [0.9f32, 0.1];
        let scores: SplitScores<'_> = [None, None, Some(&test_scores)];
        let wrong = GalleryFilter { correctness: Correctness::Incorrect, ..Default::default() };
        let keys: Vec<_> = wrong.select(&ds, &scores, None).iter().map(SampleRef::key).collect();
        assert_eq!(keys, ["test-0"]);
        let right = GalleryFilter { correctness: Correctness::Correct, ..Default::default() };
        assert_eq!(right.select(&ds, &scores, None).len(), 1);
        assert_eq!(GalleryFilter::default().select(&ds, &scores, None).len(), 6);
        // The audit's twins: nothing before the audit is done, then exactly those images.
        let twins_only = GalleryFilter { twins_only: true, ..Default::default() };
        assert!(twins_only.select(&ds, &scores, None).is_empty());
        let twins: Twins = [(Split::Test, 1), (Split::Train, 0)].into();
        let keys: Vec<_> = twins_only.select(&ds, &scores, Some(&twins)).iter().map(SampleRef::key).collect();
        assert_eq!(keys, ["train-0", "test-1"]);
        assert_eq!(score_of(&scores, Split::Test, 1), Some(0.1));
        assert_eq!(score_of(&scores, Split::Train, 0), None);
    }
}

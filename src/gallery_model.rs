//! What the gallery shows: the filter a reader picks and the list of samples it selects.
//!
//! Plain data and functions (no signals, no DOM), so the rules are tested natively.

use breastmnist_data::{Class, Dataset, Split};

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
    pub fn accepts(&self, s: &SampleRef) -> bool {
        let split_ok = match self.split {
            SplitFilter::All => true,
            SplitFilter::Only(sp) => sp == s.split,
        };
        let class_ok = match self.class {
            ClassFilter::All => true,
            ClassFilter::Only(c) => c == s.class,
        };
        split_ok && class_ok
    }

    /// The samples this filter selects, in official order (train, val, test; by index).
    pub fn select(&self, ds: &Dataset) -> Vec<SampleRef> {
        Split::ALL
            .into_iter()
            .flat_map(|split| {
                (0..ds.split(split).len()).map(move |index| SampleRef { split, index, class: ds.label(split, index) })
            })
            .filter(|s| self.accepts(s))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use breastmnist_data::SplitData;

    fn dataset() -> Dataset {
        let split = |labels: Vec<u8>| SplitData { images: vec![0; labels.len() * 4], labels };
        Dataset { side: 2, channels: 1, train: split(vec![0, 1, 1]), val: split(vec![1]), test: split(vec![0, 0]) }
    }

    #[test]
    fn all_selects_everything_in_official_order() {
        let keys: Vec<_> = GalleryFilter::default().select(&dataset()).iter().map(SampleRef::key).collect();
        assert_eq!(keys, ["train-0", "train-1", "train-2", "val-0", "test-0", "test-1"]);
    }

    #[test]
    fn split_and_class_filters_combine() {
        let ds = dataset();
        let malignant = GalleryFilter { split: SplitFilter::All, class: ClassFilter::Only(Class::Malignant) };
        assert_eq!(malignant.select(&ds).len(), 3);
        let test_benign = GalleryFilter { split: SplitFilter::Only(Split::Test), class: ClassFilter::Only(Class::Benign) };
        assert!(test_benign.select(&ds).is_empty());
        let train_benign = GalleryFilter { split: SplitFilter::Only(Split::Train), class: ClassFilter::Only(Class::Benign) };
        let keys: Vec<_> = train_benign.select(&ds).iter().map(SampleRef::key).collect();
        assert_eq!(keys, ["train-1", "train-2"]);
    }
}

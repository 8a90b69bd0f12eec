//! MedMNIST files as bytes in, validated arrays out (BreastMNIST first).
//!
//! This crate owns everything about the dataset *file*: the MedMNIST 2D catalog ([`catalog`]:
//! every official file's task, labels, split sizes and MD5) and BreastMNIST's variants
//! ([`Variant`]), how a downloaded file is verified ([`verify`]: size and MD5) or identified
//! ([`identify`]: by MD5), and how an `.npz` archive is decoded into a [`Dataset`]
//! ([`decode_npz`]) with every member, dtype, shape, split size and label checked against what
//! the catalog promises ([`Entry::decode_options`]).
//!
//! It must not fetch anything (it names the official addresses, never opens them), nor know the
//! browser, tensors or models: callers hand it bytes. It builds
//! for wasm32 with no web dependency and no backend, so the first paint of the app can use it
//! without pulling in burn. The one exception, [`local`], searches this machine's folders for
//! the files, for the tests and tooling; the app never calls it.

pub mod audit;
pub mod catalog;
mod extra;
pub mod local;
mod names;
mod npz;
pub mod synthetic;
mod variant;

pub use catalog::{CATALOG, Entry, Flag, Size, Task, identify};
pub use extra::Extra;
pub use local::{locate, real_file};
pub use names::UnknownName;
pub use npz::{DecodeOptions, Targets, decode_npz};
pub use variant::{Variant, md5_hex, verify};

use std::fmt;

/// One of the three official splits. Serialises as its [`key`](Split::key).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Train,
    Val,
    Test,
}

impl Split {
    pub const ALL: [Split; 3] = [Split::Train, Split::Val, Split::Test];

    /// The prefix of this split's members in the npz (`train_images`, `val_labels`, ...).
    pub fn key(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Val => "val",
            Split::Test => "test",
        }
    }

    /// Number of images in the official BreastMNIST split.
    pub fn official_len(self) -> usize {
        match self {
            Split::Train => 546,
            Split::Val => 78,
            Split::Test => 156,
        }
    }

    /// Parses `train`, `val` or `test` (as used in URLs and on the command line).
    pub fn parse(s: &str) -> Option<Split> {
        Split::ALL.into_iter().find(|sp| sp.key() == s)
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// The two BreastMNIST classes. The numeric label is the official one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    /// Label 0.
    Malignant = 0,
    /// Label 1 (normal or benign).
    Benign = 1,
}

impl Class {
    pub const ALL: [Class; 2] = [Class::Malignant, Class::Benign];

    pub fn from_label(label: u8) -> Option<Class> {
        match label {
            0 => Some(Class::Malignant),
            1 => Some(Class::Benign),
            _ => None,
        }
    }

    pub fn label(self) -> u8 {
        self as u8
    }

    /// Human name, as the MedMNIST metadata gives it.
    pub fn name(self) -> &'static str {
        match self {
            Class::Malignant => "malignant",
            Class::Benign => "normal, benign",
        }
    }
}

/// The images and labels of one split, row-major `uint8`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitData {
    /// `len * side * side * channels` bytes, sample-major, then row, column, channel.
    pub images: Vec<u8>,
    /// `width` labels per image, sample-major: one class each `< k`, or `k` 0/1 values
    /// (multi-label).
    pub labels: Vec<u8>,
    /// Labels per image ([`Targets::width`]): 1, or `k` for multi-label.
    pub width: usize,
}

impl SplitData {
    /// One label per image.
    pub fn single(images: Vec<u8>, labels: Vec<u8>) -> Self {
        Self { images, labels, width: 1 }
    }

    pub fn len(&self) -> usize {
        self.labels.len() / self.width.max(1)
    }

    /// The first `n` images (all of them when there are fewer) and their labels.
    pub fn first(&self, n: usize) -> SplitData {
        let n = n.min(self.len());
        let per = self.images.len() / self.len().max(1);
        SplitData { images: self.images[..n * per].to_vec(), labels: self.labels[..n * self.width].to_vec(), width: self.width }
    }

    /// The labels of image `index` (`width` values).
    pub fn labels_of(&self, index: usize) -> &[u8] {
        &self.labels[index * self.width..(index + 1) * self.width]
    }

    /// Images per class (single-label), or positives per label (multi-label), over `k`.
    pub fn counts(&self, k: usize) -> Vec<usize> {
        let mut counts = vec![0; k];
        if self.width == 1 {
            self.labels.iter().filter(|&&l| (l as usize) < k).for_each(|&l| counts[l as usize] += 1);
        } else {
            for (i, &v) in self.labels.iter().enumerate() {
                counts[i % self.width] += usize::from(v == 1 && i % self.width < k);
            }
        }
        counts
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Number of images per class label of a binary set (BreastMNIST's two classes).
    pub fn class_counts(&self) -> [usize; 2] {
        let c = self.counts(2);
        [c[0], c[1]]
    }
}

/// A decoded, validated MedMNIST file (BreastMNIST unless said otherwise; any resolution).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dataset {
    /// Image height and width in pixels (28, 64, 128 or 224 for the official files).
    pub side: usize,
    /// 1 (gray) or 3 (RGB, `(N,H,W,3)`).
    pub channels: usize,
    /// What the labels hold (BreastMNIST: two classes).
    pub targets: Targets,
    pub train: SplitData,
    pub val: SplitData,
    pub test: SplitData,
}

impl Dataset {
    pub fn split(&self, split: Split) -> &SplitData {
        match split {
            Split::Train => &self.train,
            Split::Val => &self.val,
            Split::Test => &self.test,
        }
    }

    /// Bytes of one image.
    pub fn image_len(&self) -> usize {
        self.side * self.side * self.channels
    }

    /// The pixels of image `index` of `split` (`side * side * channels` bytes).
    pub fn image(&self, split: Split, index: usize) -> &[u8] {
        let n = self.image_len();
        &self.split(split).images[index * n..(index + 1) * n]
    }

    /// The BreastMNIST class of image `index` of `split`.
    ///
    /// # Panics
    /// On a label other than 0 or 1: call it on two-class files only (BreastMNIST's).
    pub fn label(&self, split: Split, index: usize) -> Class {
        Class::from_label(self.split(split).labels[index]).expect("labels validated at decode")
    }

    /// Classes (single-label) or labels (multi-label); 0 for images only.
    pub fn classes(&self) -> usize {
        match self.targets {
            Targets::Classes(k) | Targets::MultiLabel(k) => k,
            Targets::Unlabeled => 0,
        }
    }

    /// Total number of images across the three splits.
    pub fn len(&self) -> usize {
        Split::ALL.iter().map(|&s| self.split(s).len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// "0 or 1" for two classes, "0 to k-1, k classes" otherwise.
fn label_range(classes: usize) -> String {
    if classes == 2 { "0 or 1".to_string() } else { format!("0 to {}, {classes} classes", classes.saturating_sub(1)) }
}

/// Everything that can be wrong with a dataset file, each saying what and where.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum DataError {
    #[error("the file has {got} bytes, but the official {file} has {expected}")]
    Size { file: &'static str, expected: u64, got: u64 },
    #[error("checksum mismatch for {file}: MD5 is {got}, expected {expected}")]
    Checksum { file: &'static str, expected: &'static str, got: String },
    #[error("not a readable npz (zip) archive: {0}")]
    Archive(String),
    #[error("the archive has no member '{0}.npy'")]
    MissingMember(String),
    #[error("unexpected archive member '{0}' (expected train/val/test _images/_labels .npy)")]
    UnexpectedMember(String),
    #[error("member '{member}' decompresses to {size} bytes, over the {limit}-byte limit")]
    TooLarge { member: String, size: u64, limit: u64 },
    #[error("member '{member}' is not a valid .npy array: {reason}")]
    Npy { member: String, reason: String },
    #[error("member '{member}' has dtype {got}, expected uint8 (|u1)")]
    DType { member: String, got: String },
    #[error("member '{member}' has shape {got:?}, expected {expected}")]
    Shape { member: String, expected: String, got: Vec<u64> },
    #[error("split '{split}' has {got} images, expected {expected}")]
    SplitSize { split: Split, expected: usize, got: usize },
    #[error("split '{split}' has {images} images but {labels} labels")]
    LabelCount { split: Split, images: usize, labels: usize },
    #[error("label {value} at index {index} of split '{split}' is out of range (labels are {})", label_range(*classes))]
    LabelRange { split: Split, index: usize, value: u8, classes: usize },
    #[error("a dataset needs 2 to 255 classes or labels (got {0})")]
    Classes(usize),
    #[error("split '{split}' has no image of class {class}: every class must appear in every split")]
    ClassAbsent { split: Split, class: usize },
    #[error("label {label} of image {index} in split '{split}' is {value}; multi-label values are 0 or 1")]
    MultiLabelValue { split: Split, index: usize, label: usize, value: u8 },
    #[error("label {label} is {value} for every image of split '{split}': each label needs both values")]
    LabelConstant { split: Split, label: usize, value: u8 },
    #[error("member '{member}' has {got} label columns, expected {expected}")]
    LabelWidth { member: String, expected: usize, got: usize },
    #[error("member '{member}' has {got} channels, but this dataset has {expected}")]
    Channels { member: String, expected: usize, got: usize },
    #[error("member '{member}' has {got}x{got} images, but this file should hold {expected}x{expected}")]
    Side { member: String, expected: usize, got: usize },
    #[error("member '{member}' needs {size} bytes, more memory than this process can get")]
    OutOfMemory { member: String, size: u64 },
    #[error("the splits disagree on image size: {0}")]
    Inconsistent(String),
}

//! The unlabeled images that self-supervised pretraining reads: BreastMNIST's *training*
//! images (labels unused) and every image of other MedMNIST files, converted to grayscale.
//!
//! The pool is the only way pretraining gets images, and it is where the rule "never
//! BreastMNIST's validation or test images" is enforced: [`Pool::add_target`] reads the
//! training split alone, and [`Pool::add_other`] refuses a file with BreastMNIST's official
//! split sizes. What was read is recorded in [`Pool::sources`] (and so in the report).

use breastmnist_data::{Dataset, Split};
use serde::{Deserialize, Serialize};

/// What one file contributed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// The file's name as the caller gave it (e.g. `pneumoniamnist.npz`).
    pub name: String,
    /// The splits read.
    pub splits: Vec<Split>,
    pub images: usize,
    /// Channels of the file (3 for RetinaMNIST, converted to one).
    pub channels: usize,
}

/// Why a file cannot join the pool.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    #[error("{name} has {got} px images; the pool holds {want} px images")]
    Side { name: String, got: usize, want: usize },
    #[error("{name} has {channels} channels (expected 1 or 3)")]
    Channels { name: String, channels: usize },
    #[error(
        "{0} has BreastMNIST's split sizes (546/78/156): add it with its training split only, so that its validation and test images are never used for pretraining"
    )]
    BreastMnistAsOther(String),
    #[error("the pool is empty")]
    Empty,
}

/// Grayscale `u8` images of one side, with where they came from.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pool {
    side: usize,
    images: Vec<u8>,
    sources: Vec<Source>,
}

/// ITU-R 601 luma with PIL's integer weights (`Image.convert("L")`): what MedMNIST's
/// `as_rgb=False` readers get from an RGB image.
pub fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((r as u32 * 299 + g as u32 * 587 + b as u32 * 114 + 500) / 1000) as u8
}

impl Pool {
    /// An empty pool of `side` px images.
    pub fn new(side: usize) -> Self {
        Pool { side, images: Vec::new(), sources: Vec::new() }
    }

    pub fn side(&self) -> usize {
        self.side
    }

    pub fn len(&self) -> usize {
        self.images.len() / (self.side * self.side).max(1)
    }

    pub fn is_empty(&self) -> bool {
        self.images.is_empty()
    }

    /// The pixels of image `i` (`side * side` bytes).
    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.side * self.side;
        &self.images[i * n..(i + 1) * n]
    }

    /// Every file read so far, in order.
    pub fn sources(&self) -> &[Source] {
        &self.sources
    }

    /// The dataset being studied (BreastMNIST): its training images only.
    pub fn add_target(&mut self, name: &str, data: &Dataset) -> Result<(), PoolError> {
        self.add(name, data, &[Split::Train])
    }

    /// Another MedMNIST file (PneumoniaMNIST, RetinaMNIST): all its splits, as grayscale.
    pub fn add_other(&mut self, name: &str, data: &Dataset) -> Result<(), PoolError> {
        if Split::ALL.iter().all(|&s| data.split(s).len() == s.official_len()) {
            return Err(PoolError::BreastMnistAsOther(name.to_string()));
        }
        self.add(name, data, &Split::ALL)
    }

    fn add(&mut self, name: &str, data: &Dataset, splits: &[Split]) -> Result<(), PoolError> {
        if data.side != self.side {
            return Err(PoolError::Side { name: name.to_string(), got: data.side, want: self.side });
        }
        let before = self.len();
        for &split in splits {
            let images = &data.split(split).images;
            match data.channels {
                1 => self.images.extend_from_slice(images),
                3 => self.images.extend(images.chunks_exact(3).map(|p| luma(p[0], p[1], p[2]))),
                channels => return Err(PoolError::Channels { name: name.to_string(), channels }),
            }
        }
        self.sources.push(Source {
            name: name.to_string(),
            splits: splits.to_vec(),
            images: self.len() - before,
            channels: data.channels,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use breastmnist_data::SplitData;

    fn split(n: usize, side: usize, ch: usize, value: u8) -> SplitData {
        SplitData::single(vec![value; n * side * side * ch], vec![0; n])
    }

    /// BreastMNIST-shaped data whose splits are told apart by their pixel values.
    fn breast(side: usize) -> Dataset {
        Dataset {
            side,
            channels: 1,
            targets: breastmnist_data::Targets::Classes(2),
            train: split(546, side, 1, 10),
            val: split(78, side, 1, 200),
            test: split(156, side, 1, 250),
        }
    }

    #[test]
    fn the_target_gives_its_training_images_only() {
        let mut pool = Pool::new(4);
        pool.add_target("breastmnist.npz", &breast(4)).unwrap();
        assert_eq!(pool.len(), 546);
        assert!((0..pool.len()).all(|i| pool.image(i).iter().all(|&p| p == 10)), "a val/test pixel got in");
        assert_eq!(pool.sources()[0].splits, vec![Split::Train]);
        // The same file as "other" data would bring its val/test images: refused.
        assert_eq!(pool.add_other("breastmnist.npz", &breast(4)), Err(PoolError::BreastMnistAsOther("breastmnist.npz".into())));
        assert_eq!(pool.len(), 546);
    }

    #[test]
    fn other_files_give_every_split_in_grayscale() {
        let mut pool = Pool::new(2);
        let rgb = Dataset {
            side: 2,
            channels: 3,
            targets: breastmnist_data::Targets::Unlabeled,
            train: split(3, 2, 3, 100),
            val: split(1, 2, 3, 100),
            test: split(2, 2, 3, 100),
        };
        pool.add_other("retinamnist.npz", &rgb).unwrap();
        assert_eq!(pool.len(), 6);
        assert_eq!(pool.image(5), &[100; 4]);
        assert_eq!(luma(255, 0, 0), 76);
        assert_eq!(luma(0, 255, 0), 150);
        assert_eq!(luma(0, 0, 255), 29);
        assert_eq!(luma(255, 255, 255), 255);
        let wrong = Dataset { side: 3, ..breast(3) };
        assert!(matches!(pool.add_target("b", &wrong), Err(PoolError::Side { got: 3, want: 2, .. })));
    }
}

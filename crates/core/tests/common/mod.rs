//! Helpers shared by the core's integration tests: the real data files, synthetic datasets and
//! a tiny executor for the core's async API.
#![allow(dead_code)]

use breastmnist_core::rng::Rng;
use breastmnist_data::{Dataset, DecodeOptions, SplitData, Targets, decode_npz};

/// Runs a future to completion on this thread.
pub fn run<F: std::future::Future>(f: F) -> F::Output {
    futures_lite::future::block_on(f)
}

/// The decoded real file, from the first folder of `breastmnist_data::locate` that holds it
/// (`BREASTMNIST_DATA_DIR`, `<repo>/assets/data`, `<repo>/../shared/data`); `None` (after printing
/// SKIP) when absent, a failure when `BREASTMNIST_REQUIRE_DATA=1`.
pub fn real_dataset(file: &str) -> Option<Dataset> {
    let path = breastmnist_data::real_file(file)?;
    let bytes = std::fs::read(&path).expect("readable data file");
    Some(decode_npz(&bytes, &DecodeOptions::default()).expect("valid BreastMNIST file"))
}

/// Where the bright blob of a synthetic label-1 image is (top-left corner, size).
#[derive(Clone, Copy, Debug)]
pub struct Blob {
    pub x: usize,
    pub y: usize,
    pub size: usize,
}

/// A synthetic image: dim speckle noise; label 1 adds a bright square blob at a random place.
pub fn synthetic_image(side: usize, label: u8, rng: &mut Rng) -> (Vec<u8>, Option<Blob>) {
    let mut img: Vec<u8> = (0..side * side).map(|_| 20 + rng.below(60) as u8).collect();
    if label == 1 {
        let size = side / 4;
        let x = rng.below(side - size);
        let y = rng.below(side - size);
        for yy in y..y + size {
            for xx in x..x + size {
                img[yy * side + xx] = 200 + rng.below(55) as u8;
            }
        }
        return (img, Some(Blob { x, y, size }));
    }
    (img, None)
}

/// A synthetic dataset of `n_train`/`n_val`/`n_test` images, labels alternating, and the blobs.
pub fn synthetic_dataset(side: usize, sizes: [usize; 3], seed: u64) -> (Dataset, [Vec<Option<Blob>>; 3]) {
    let mut rng = Rng::new(seed);
    let mut splits = Vec::new();
    let mut blobs: [Vec<Option<Blob>>; 3] = Default::default();
    for (s, &n) in sizes.iter().enumerate() {
        let mut images = Vec::with_capacity(n * side * side);
        let mut labels = Vec::with_capacity(n);
        for i in 0..n {
            let label = ((i + s) % 2) as u8;
            let (img, blob) = synthetic_image(side, label, &mut rng);
            images.extend(img);
            labels.push(label);
            blobs[s].push(blob);
        }
        splits.push(SplitData::single(images, labels));
    }
    let test = splits.pop().unwrap();
    let val = splits.pop().unwrap();
    let train = splits.pop().unwrap();
    (Dataset { side, channels: 1, targets: Targets::Classes(2), train, val, test }, blobs)
}

/// Random noise images with random labels (pure memorisation).
pub fn noise_dataset(side: usize, n: usize, seed: u64) -> Dataset {
    let mut rng = Rng::new(seed);
    let mut make = |n: usize| {
        let images: Vec<u8> = (0..n * side * side).map(|_| rng.below(256) as u8).collect();
        let labels: Vec<u8> = (0..n).map(|i| (i % 2) as u8).collect();
        SplitData::single(images, labels)
    };
    let train = make(n);
    let val = make(8);
    let test = make(8);
    Dataset { side, channels: 1, targets: Targets::Classes(2), train, val, test }
}

//! Small synthetic MedMNIST-shaped files, for tests and for trying a task whose official file
//! cannot be downloaded here: any task, class count, channel count, side and split sizes, in
//! the official `.npz` layout (labels `(N, 1)`, or `(N, k)` for multi-label).
//!
//! Every class (or label) is drawn as a bright square in its own cell of a grid over faint
//! noise, tinted per class in RGB files, so a small network separates them in a few epochs;
//! single-label files cycle through the classes, so each split holds every class.
//!
//! It must not be mistaken for data: nothing here is served to readers or cited as a result.

use std::io::Write;

use crate::catalog::Task;

/// What to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spec {
    pub task: Task,
    /// Classes (single-label) or labels (multi-label), 2 to 16.
    pub classes: usize,
    /// 1 or 3.
    pub channels: usize,
    /// Image side in pixels, at least 8.
    pub side: usize,
    /// Images in train, val and test.
    pub splits: [usize; 3],
    pub seed: u64,
}

impl Spec {
    /// Label bytes per image.
    fn width(&self) -> usize {
        if self.task == Task::MultiLabel { self.classes } else { 1 }
    }
}

/// SplitMix64: a fixed, seedable stream (no dependency for test data).
fn mix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The labels of image `i`: one class, or `k` 0/1 values (image `i < 2` is all 0 / all 1, so
/// every label takes both values in a split of two or more images).
fn labels_of(spec: &Spec, i: usize, rng: &mut u64) -> Vec<u8> {
    match spec.task {
        Task::MultiLabel => match i {
            0 => vec![0; spec.classes],
            1 => vec![1; spec.classes],
            _ => (0..spec.classes).map(|_| (mix(rng) & 1) as u8).collect(),
        },
        Task::Binary | Task::MultiClass | Task::Ordinal => vec![(i % spec.classes) as u8],
    }
}

/// Draws image `i` with the given active classes.
fn image(spec: &Spec, active: &[usize], rng: &mut u64) -> Vec<u8> {
    let (s, c) = (spec.side, spec.channels);
    let grid = (1..).find(|g| g * g >= spec.classes).expect("a grid fits");
    let cell = s / grid;
    let mut px: Vec<u8> = (0..s * s * c).map(|_| 20 + (mix(rng) % 40) as u8).collect();
    for &k in active {
        let (gy, gx) = (k / grid, k % grid);
        let margin = cell / 4;
        for y in gy * cell + margin..(gy + 1) * cell - margin {
            for x in gx * cell + margin..(gx + 1) * cell - margin {
                for ch in 0..c {
                    // RGB: each class has its own tint; gray: plain white.
                    let tint = if c == 3 { 150 + ((k * 37 + ch * 71) % 105) as u8 } else { 230 };
                    px[(y * s + x) * c + ch] = tint;
                }
            }
        }
    }
    px
}

/// `.npy` v1.0 bytes of an array of `descr` (NumPy's dtype string, `|u1` for `uint8`), `shape`
/// and raw `data`, laid out as NumPy writes it (header padded to 64 bytes, `(n,)` for one axis).
pub fn npy(descr: &str, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let shape_txt = match shape {
        [n] => format!("({n},)"),
        _ => format!("({})", shape.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")),
    };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_txt}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

/// The npz bytes of a synthetic file.
///
/// # Panics
/// On a spec outside the documented ranges (this is for tests and tools).
pub fn npz(spec: &Spec) -> Vec<u8> {
    assert!((2..=16).contains(&spec.classes) && matches!(spec.channels, 1 | 3) && spec.side >= 8, "{spec:?}");
    let mut rng = spec.seed;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (split, &n) in ["train", "val", "test"].iter().zip(&spec.splits) {
        let (mut images, mut labels) = (Vec::new(), Vec::new());
        for i in 0..n {
            let l = labels_of(spec, i, &mut rng);
            let active: Vec<usize> = match spec.task {
                Task::MultiLabel => (0..spec.classes).filter(|&k| l[k] == 1).collect(),
                _ => vec![l[0] as usize],
            };
            images.extend(image(spec, &active, &mut rng));
            labels.extend(l);
        }
        let image_shape: Vec<usize> =
            if spec.channels == 3 { vec![n, spec.side, spec.side, 3] } else { vec![n, spec.side, spec.side] };
        for (name, bytes) in [("images", npy("|u1", &image_shape, &images)), ("labels", npy("|u1", &[n, spec.width()], &labels))]
        {
            w.start_file(format!("{split}_{name}.npy"), opts).expect("in-memory zip");
            w.write_all(&bytes).expect("in-memory zip");
        }
    }
    w.finish().expect("in-memory zip").into_inner()
}

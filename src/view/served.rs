//! The pretrained starting points the app serves from its own origin (`pretrained/FILE`): each
//! one's model, kind, size and MD5, which the page checks before it uses the file, and how the
//! form names them. The methods lab, the train form and the model note share them.
//!
//! No signals and no DOM.

use breastmnist_protocol::{ModelKind, StartingPoint};

/// A pretrained starting point the app serves from its own origin (`pretrained/FILE`, made by
/// `breastmnist lab --save-pretrained`; `assets/pretrained/README.md` has the command).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServedPoint {
    pub model: ModelKind,
    pub kind: StartingPoint,
    pub file: &'static str,
    pub bytes: u64,
    pub md5: &'static str,
}

/// Every served starting point (the tidy test checks these against the files).
pub const STARTING_POINTS: [ServedPoint; 7] = [
    ServedPoint {
        model: ModelKind::C8,
        kind: StartingPoint::Pneumonia,
        file: "c8-pneumonia.ckpt",
        bytes: 305503,
        md5: "f3e18a5a2215b36c07c4c0615e5f028d",
    },
    ServedPoint {
        model: ModelKind::C8,
        kind: StartingPoint::Contrastive,
        file: "c8-contrastive.ckpt",
        bytes: 305503,
        md5: "f6b328b28bbf0ca989def2d59b8990cc",
    },
    ServedPoint {
        model: ModelKind::C8,
        kind: StartingPoint::Masked,
        file: "c8-masked.ckpt",
        bytes: 305503,
        md5: "1971a2c384abe59e6093997f8a3d4657",
    },
    ServedPoint {
        model: ModelKind::C16,
        kind: StartingPoint::Pneumonia,
        file: "c16-pneumonia.ckpt",
        bytes: 1186144,
        md5: "15a1689890374939ccebd8b17e265670",
    },
    ServedPoint {
        model: ModelKind::C16,
        kind: StartingPoint::Contrastive,
        file: "c16-contrastive.ckpt",
        bytes: 1186144,
        md5: "61e8eb6564647d2c64b1b268f5ead1b0",
    },
    ServedPoint {
        model: ModelKind::C16,
        kind: StartingPoint::Masked,
        file: "c16-masked.ckpt",
        bytes: 1186144,
        md5: "79d9f50a647b235306e0484341bcd006",
    },
    // ImageNet's EfficientNet-Lite0 for the 64 px images, in half precision (9.4 MB; made by
    // `breastmnist export --half`, see assets/pretrained/README.md).
    ServedPoint {
        model: ModelKind::Lite0,
        kind: StartingPoint::Imagenet,
        file: "lite0-imagenet.ckpt",
        bytes: 9433133,
        md5: "5685b2286c281ed7964dc2fbd320730d",
    },
];

impl ServedPoint {
    /// Its URL, relative to the page.
    pub fn url(&self) -> String {
        format!("pretrained/{}", self.file)
    }

    /// The served file of `kind` for `model`, if the app serves one (c8 and c16; ImageNet's for
    /// Lite0).
    pub fn find(model: ModelKind, kind: StartingPoint) -> Option<&'static ServedPoint> {
        STARTING_POINTS.iter().find(|p| p.model == model && p.kind == kind)
    }

    /// The image side the file is for, when it is for one only: ImageNet's Lite0 is converted
    /// for the 64 px images (the served encoders and the X-ray model are 28 px files).
    pub fn side(&self) -> usize {
        match self.kind {
            StartingPoint::Imagenet => IMAGENET_SIDE,
            StartingPoint::Pneumonia | StartingPoint::Contrastive | StartingPoint::Masked => 28,
        }
    }

    /// What Start will cost, said before it: the download, and for ImageNet's Lite0 (heavy for a
    /// tab) the training time of `epochs` epochs of `images` images seen at `seen` px, at the
    /// measured pace ([`lite0_pace`]).
    pub fn before_start(&self, epochs: usize, images: usize, seen: usize) -> String {
        let fetch = format!(
            "Start fetches {} ({:.1} MB) once, checks its MD5 and keeps it in this browser",
            self.file,
            self.bytes as f64 / 1e6
        );
        match self.kind {
            StartingPoint::Imagenet => {
                let (pace, measured) = lite0_pace(seen);
                let at = if seen == IMAGENET_SIDE {
                    format!("at {seen} px")
                } else {
                    format!("seen at {seen} px (the {IMAGENET_SIDE} px images upsampled)")
                };
                let took = if measured {
                    format!(
                        "on a 2-core machine the CPU trainer took {} per epoch of the 546 training images {at}",
                        duration(546.0 * pace)
                    )
                } else {
                    format!(
                        "on a 2-core machine the CPU trainer would take {} per epoch of the 546 training images {at} \
                         (not measured: the measured pace scaled by the pixel count)",
                        duration(546.0 * pace)
                    )
                };
                format!(
                    "{fetch}. Lite0 is heavy for a tab: {took}, so {epochs} epoch(s) of {images} images take {} of \
                     training, plus scoring (WebGPU is faster where the GPU is).",
                    duration(epochs as f64 * images as f64 * pace)
                )
            }
            StartingPoint::Pneumonia | StartingPoint::Contrastive | StartingPoint::Masked => format!("{fetch}."),
        }
    }

    /// The models the app serves `kind` for, by name ("c8 and c16").
    pub fn models_of(kind: StartingPoint) -> String {
        let names: Vec<&str> = STARTING_POINTS.iter().filter(|p| p.kind == kind).map(|p| p.model.name()).collect();
        match names.as_slice() {
            [] => "no model".into(),
            [one] => one.to_string(),
            [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
        }
    }
}

/// The side of the images the ImageNet starting point is served for.
pub const IMAGENET_SIDE: usize = 64;

/// Seconds the tab's CPU trainer spent per training image per epoch fine-tuning Lite0 from the
/// ImageNet start, by the side the network sees the images at: measured in headless Chromium on
/// a 2-core machine with the browser test
/// `lite0_fine_tunes_from_the_served_imagenet_start_on_the_64_px_images_and_at_128` (which runs
/// 32 images) and, back to back, the same test with the subset removed: one epoch of 546 images
/// against one of 32, so the difference is 514 images' training. At 64 px 43.3 s against 10.8 s;
/// at 128 px, the 64 px images upsampled, 111.5 s against 24.6 s: 2.7 times the 64 px pace, not
/// 4 (not all of a step's cost grows with the pixels). An earlier session's 64 px pair gave
/// 34.3 s against 10.9 s, 0.046 s an image: on this shared machine the pace varies by about a
/// third between sessions, so the figures said before Start are "about".
pub const LITE0_SECONDS_PER_IMAGE: [(usize, f64); 2] = [(64, 0.063), (128, 0.169)];

/// The pace at `seen` px, and whether it was measured: else the nearest measured side's, scaled
/// by the pixel count (a convolution's cost).
pub fn lite0_pace(seen: usize) -> (f64, bool) {
    let &(side, pace) = LITE0_SECONDS_PER_IMAGE.iter().min_by_key(|(s, _)| s.abs_diff(seen)).expect("a measured pace");
    let scale = (seen as f64 / side as f64).powi(2);
    (pace * scale, side == seen)
}

/// "about 40 s", "about 9 min".
fn duration(seconds: f64) -> String {
    if seconds < 90.0 { format!("about {:.0} s", seconds.max(1.0)) } else { format!("about {:.0} min", seconds / 60.0) }
}

/// How the form names a served starting point: a short label and its tooltip.
pub fn start_label(kind: StartingPoint) -> (&'static str, &'static str) {
    match kind {
        StartingPoint::Contrastive => {
            ("SimCLR", "The contrastive (SimCLR) encoder this page serves, pretrained without labels on 8,002 scans")
        }
        StartingPoint::Masked => {
            ("masked", "The masked-reconstruction encoder this page serves, pretrained without labels on 8,002 scans")
        }
        StartingPoint::Pneumonia => ("chest X-rays", "The model this page serves, trained on PneumoniaMNIST's chest X-rays"),
        StartingPoint::Imagenet => (
            "ImageNet",
            "EfficientNet-Lite0 with ImageNet's weights (1.28 million everyday photographs; Apache 2.0), for the 64 px images: 9.4 MB, fetched once",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_served_starting_points_are_the_files_the_table_names() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/pretrained");
        for p in STARTING_POINTS {
            let bytes = std::fs::read(dir.join(p.file)).unwrap_or_else(|e| panic!("{}: {e}", p.file));
            assert_eq!(bytes.len() as u64, p.bytes, "{}: size", p.file);
            assert_eq!(breastmnist_data::md5_hex(&bytes), p.md5, "{}: MD5", p.file);
            assert_eq!(&bytes[..8], breastmnist_protocol::CHECKPOINT_MAGIC, "{}: a checkpoint", p.file);
            // The configuration's side and model, as the page checks them before Start.
            let len = u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize;
            let config: serde_json::Value = serde_json::from_slice(&bytes[12..12 + len]).unwrap();
            assert_eq!(config["input_size"], p.side(), "{}: side", p.file);
            assert_eq!(config["size"], p.model.name(), "{}: model", p.file);
        }
        assert_eq!(ServedPoint::models_of(StartingPoint::Masked), "c8 and c16");
        let l0 = ServedPoint::find(ModelKind::Lite0, StartingPoint::Imagenet).unwrap();
        let said = l0.before_start(20, 546, 64);
        assert!(said.starts_with("Start fetches lite0-imagenet.ckpt (9.4 MB) once"), "{said}");
        assert!(said.contains("about 34 s per epoch") && said.contains("20 epoch(s) of 546 images take about 11 min"), "{said}");
        assert!(l0.before_start(1, 32, 64).contains("take about 2 s of training"));
        // Upsampled, the measured pace at 128 px; a side not measured is said to be an estimate.
        let big = l0.before_start(20, 546, 128);
        assert!(
            big.contains("CPU trainer took about 2 min per epoch") && big.contains("seen at 128 px (the 64 px images upsampled)"),
            "{big}"
        );
        assert!(big.contains("20 epoch(s) of 546 images take about 31 min"), "{big}");
        assert!(!big.contains("not measured"), "{big}");
        let (p64, p128) = (lite0_pace(64), lite0_pace(128));
        assert!(p64.1 && p128.1 && p128.0 > 2.0 * p64.0, "{p64:?} {p128:?}");
        let (p96, measured) = lite0_pace(96);
        assert!(!measured && (p96 - p64.0 * 2.25).abs() < 1e-12, "{p96}: halfway, scaled from the first measured side (64 px)");
        assert!(l0.before_start(20, 546, 224).contains("would take") && l0.before_start(20, 546, 224).contains("not measured"));
        let c8 = ServedPoint::find(ModelKind::C8, StartingPoint::Masked).unwrap();
        assert_eq!(
            c8.before_start(20, 546, 64),
            "Start fetches c8-masked.ckpt (0.3 MB) once, checks its MD5 and keeps it in this browser."
        );
        assert_eq!(ServedPoint::models_of(StartingPoint::Imagenet), "lite0");
        let files = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "ckpt"))
            .count();
        assert_eq!(files, STARTING_POINTS.len(), "every served file is in the table");
    }
}

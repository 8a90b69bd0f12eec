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
pub const STARTING_POINTS: [ServedPoint; 6] = [
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
];

impl ServedPoint {
    /// Its URL, relative to the page.
    pub fn url(&self) -> String {
        format!("pretrained/{}", self.file)
    }

    /// The served file of `kind` for `model`, if the app serves one (c8 and c16).
    pub fn find(model: ModelKind, kind: StartingPoint) -> Option<&'static ServedPoint> {
        STARTING_POINTS.iter().find(|p| p.model == model && p.kind == kind)
    }
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
        }
        let files = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "ckpt"))
            .count();
        assert_eq!(files, STARTING_POINTS.len(), "every served file is in the table");
    }
}

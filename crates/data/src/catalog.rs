//! The MedMNIST v2 2D catalog: the twelve datasets the official `medmnist` 3.0.2 package lists
//! (its `INFO` table), each with its task, channels, label names, split sizes, licence and the
//! MD5 of each of its four sizes, and the address of every official file.
//!
//! A file is identified by its MD5 ([`identify`]), never by its name: a renamed official file is
//! still known, and a file the catalog does not know is read as a custom dataset only when the
//! user names its task. [`crate::Variant`] and [`crate::Extra`] are views onto these rows.
//!
//! It must not know about the network or the file system; the test
//! `the_catalog_matches_the_info_table` (tests/catalog.rs) reads the committed copy of `INFO`
//! and checks every row here against it.

use crate::npz::{DecodeOptions, Targets};
use crate::variant::ZENODO_RECORD;

crate::names! {
    /// A MedMNIST v2 2D dataset, by its official flag.
    pub Flag ("MedMNIST 2D dataset") {
        Path => "pathmnist" | "path",
        Chest => "chestmnist" | "chest",
        Derma => "dermamnist" | "derma",
        Oct => "octmnist" | "oct",
        Pneumonia => "pneumoniamnist" | "pneumonia",
        Retina => "retinamnist" | "retina",
        Breast => "breastmnist" | "breast",
        Blood => "bloodmnist" | "blood",
        Tissue => "tissuemnist" | "tissue",
        OrganA => "organamnist" | "organa",
        OrganC => "organcmnist" | "organc",
        OrganS => "organsmnist" | "organs",
    }
}

crate::names! {
    /// What a dataset's labels ask of a model, in `INFO`'s words.
    pub Task ("task") {
        /// Two classes; the Evaluator scores the last column (label 1 positive).
        Binary => "binary-class" | "binary",
        /// k classes, one per image.
        MultiClass => "multi-class" | "multiclass",
        /// k ordered grades, one per image (scored like multi-class).
        Ordinal => "ordinal-regression" | "ordinal",
        /// k independent yes/no labels per image.
        MultiLabel => "multi-label, binary-class" | "multi-label" | "multilabel",
    }
}

crate::names! {
    /// One of the four official 2D image sizes.
    pub Size ("image size") {
        Px28 => "28",
        Px64 => "64",
        Px128 => "128",
        Px224 => "224",
    }
}

impl Size {
    /// Image height and width in pixels.
    pub fn side(self) -> usize {
        match self {
            Size::Px28 => 28,
            Size::Px64 => 64,
            Size::Px128 => 128,
            Size::Px224 => 224,
        }
    }

    /// The size of `side`-pixel images, if official.
    pub fn from_side(side: usize) -> Option<Size> {
        Size::ALL.into_iter().find(|s| s.side() == side)
    }

    /// The package's `size_flag`: empty for 28 px, `_64` and so on for the others.
    pub fn size_flag(self) -> &'static str {
        match self {
            Size::Px28 => "",
            Size::Px64 => "_64",
            Size::Px128 => "_128",
            Size::Px224 => "_224",
        }
    }

    fn index(self) -> usize {
        Size::ALL.iter().position(|&s| s == self).expect("a member of ALL")
    }
}

/// One row of the catalog: what `INFO[flag]` says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub flag: Flag,
    /// The package's class name (`BreastMNIST`).
    pub title: &'static str,
    pub task: Task,
    /// 1 (gray) or 3 (RGB).
    pub channels: usize,
    /// The label names, by label value (multi-label: by column).
    pub labels: &'static [&'static str],
    /// Images in train, val and test.
    pub splits: [usize; 3],
    pub licence: &'static str,
    /// The MD5 of the 28, 64, 128 and 224 px files.
    pub md5: [&'static str; 4],
}

impl Entry {
    /// Classes (single-label tasks) or labels (multi-label): the model's output width.
    pub fn classes(&self) -> usize {
        self.labels.len()
    }

    /// What the file's label arrays hold.
    pub fn targets(&self) -> Targets {
        targets(self.task, self.classes())
    }

    /// The official MD5 of the file of `size`.
    pub fn md5(&self, size: Size) -> &'static str {
        self.md5[size.index()]
    }

    /// The official file name (`pneumoniamnist_64.npz`).
    pub fn file_name(&self, size: Size) -> String {
        format!("{}{}.npz", self.flag, size.size_flag())
    }

    /// The official download address (Zenodo record 10519652), as `INFO` spells it.
    pub fn url(&self, size: Size) -> String {
        format!("https://zenodo.org/records/{ZENODO_RECORD}/files/{}?download=1", self.file_name(size))
    }

    /// The same file through Zenodo's API (`…/api/records/10519652/files/FILE/content`): the
    /// address a web page can fetch, as Zenodo answers it with CORS headers
    /// (`Access-Control-Allow-Origin: *`), which the record's own address does not send
    /// (zenodo/zenodo#2593).
    pub fn api_url(&self, size: Size) -> String {
        format!("https://zenodo.org/api/records/{ZENODO_RECORD}/files/{}/content", self.file_name(size))
    }

    /// Images in all three splits.
    pub fn images(&self) -> usize {
        self.splits.iter().sum()
    }

    /// Bytes of the largest split's image array, decompressed, at `size`.
    pub fn largest_member(&self, size: Size) -> u64 {
        let max = *self.splits.iter().max().expect("three splits") as u64;
        max * (size.side() * size.side() * self.channels) as u64
    }

    /// Bytes of every image and label array, decompressed, at `size`: what decoding holds.
    pub fn decoded_bytes(&self, size: Size) -> u64 {
        let width = if self.task == Task::MultiLabel { self.classes() } else { 1 } as u64;
        self.images() as u64 * ((size.side() * size.side() * self.channels) as u64 + width)
    }

    /// What decoding the official file of `size` expects: its split sizes, channels and
    /// labels, and a member limit of its largest array (plus the `.npy` header).
    pub fn decode_options(&self, size: Size) -> DecodeOptions {
        DecodeOptions {
            max_member_bytes: self.largest_member(size) + 4096,
            split_sizes: Some(self.splits),
            channels: Some(self.channels),
            side: Some(size.side()),
            targets: self.targets(),
            every_class: true,
        }
    }
}

/// What a file's labels hold for `task` with `classes` classes or labels.
pub fn targets(task: Task, classes: usize) -> Targets {
    match task {
        Task::MultiLabel => Targets::MultiLabel(classes),
        Task::Binary | Task::MultiClass | Task::Ordinal => Targets::Classes(classes),
    }
}

impl Flag {
    /// This dataset's catalog row.
    pub fn entry(self) -> &'static Entry {
        CATALOG.iter().find(|e| e.flag == self).expect("every flag has a row")
    }
}

/// The official file whose MD5 is `md5` (lower-case hex), if any.
pub fn identify(md5: &str) -> Option<(Flag, Size)> {
    CATALOG.iter().find_map(|e| Size::ALL.into_iter().find(|&s| e.md5(s).eq_ignore_ascii_case(md5)).map(|s| (e.flag, s)))
}

/// The eleven abdominal organs the three OrganMNIST sets (axial, coronal, sagittal views of the
/// same CT scans) share as labels.
const ORGANS: &[&str] = &[
    "bladder",
    "femur-left",
    "femur-right",
    "heart",
    "kidney-left",
    "kidney-right",
    "liver",
    "lung-left",
    "lung-right",
    "pancreas",
    "spleen",
];

/// Every MedMNIST v2 2D dataset, in `INFO`'s order.
pub static CATALOG: [Entry; 12] = [
    Entry {
        flag: Flag::Path,
        title: "PathMNIST",
        task: Task::MultiClass,
        channels: 3,
        labels: &[
            "adipose",
            "background",
            "debris",
            "lymphocytes",
            "mucus",
            "smooth muscle",
            "normal colon mucosa",
            "cancer-associated stroma",
            "colorectal adenocarcinoma epithelium",
        ],
        splits: [89996, 10004, 7180],
        licence: "CC BY 4.0",
        md5: [
            "a8b06965200029087d5bd730944a56c1",
            "55aa9c1e0525abe5a6b9d8343a507616",
            "ac42d08fb904d92c244187169d1fd1d9",
            "2c51a510bcdc9cf8ddb2af93af1eadec",
        ],
    },
    Entry {
        flag: Flag::Chest,
        title: "ChestMNIST",
        task: Task::MultiLabel,
        channels: 1,
        labels: &[
            "atelectasis",
            "cardiomegaly",
            "effusion",
            "infiltration",
            "mass",
            "nodule",
            "pneumonia",
            "pneumothorax",
            "consolidation",
            "edema",
            "emphysema",
            "fibrosis",
            "pleural",
            "hernia",
        ],
        splits: [78468, 11219, 22433],
        licence: "CC BY 4.0",
        md5: [
            "02c8a6516a18b556561a56cbdd36c4a8",
            "9de6cd0b934ebb5b7426cfba5efbae16",
            "db107e5590b27930b62dbaf558aebee3",
            "45bd33e6f06c3e8cdb481c74a89152aa",
        ],
    },
    Entry {
        flag: Flag::Derma,
        title: "DermaMNIST",
        task: Task::MultiClass,
        channels: 3,
        labels: &[
            "actinic keratoses and intraepithelial carcinoma",
            "basal cell carcinoma",
            "benign keratosis-like lesions",
            "dermatofibroma",
            "melanoma",
            "melanocytic nevi",
            "vascular lesions",
        ],
        splits: [7007, 1003, 2005],
        licence: "CC BY-NC 4.0",
        md5: [
            "0744692d530f8e62ec473284d019b0c7",
            "b70a2f5635c6199aeaa28c31d7202e1f",
            "2defd784463fa5243564e855ed717de1",
            "8974907d8e169bef5f5b96bc506ae45d",
        ],
    },
    Entry {
        flag: Flag::Oct,
        title: "OCTMNIST",
        task: Task::MultiClass,
        channels: 1,
        labels: &["choroidal neovascularization", "diabetic macular edema", "drusen", "normal"],
        splits: [97477, 10832, 1000],
        licence: "CC BY 4.0",
        md5: [
            "c68d92d5b585d8d81f7112f81e2d0842",
            "e229e9440236b774d9f0dfef9d07bdaf",
            "0a97e76651ace45c5d943ee3f65b63ae",
            "abc493b6d529d5de7569faaef2773ba3",
        ],
    },
    Entry {
        flag: Flag::Pneumonia,
        title: "PneumoniaMNIST",
        task: Task::Binary,
        channels: 1,
        labels: &["normal", "pneumonia"],
        splits: [4708, 524, 624],
        licence: "CC BY 4.0",
        md5: [
            "28209eda62fecd6e6a2d98b1501bb15f",
            "8f4eceb4ccffa70c672198ea285246c6",
            "05b46931834c231683c68f40c47b2971",
            "d6a3c71de1b945ea11211b03746c1fe1",
        ],
    },
    Entry {
        flag: Flag::Retina,
        title: "RetinaMNIST",
        task: Task::Ordinal,
        channels: 3,
        labels: &["0", "1", "2", "3", "4"],
        splits: [1080, 120, 400],
        licence: "CC BY 4.0",
        md5: [
            "bd4c0672f1bba3e3a89f0e4e876791e4",
            "afda852cc34dcda56f86ad2b2457dbcc",
            "e48e916a24454daf90583d4e6efb1a18",
            "eae7e3b6f3fcbda4ae613ebdcbe35348",
        ],
    },
    Entry {
        flag: Flag::Breast,
        title: "BreastMNIST",
        task: Task::Binary,
        channels: 1,
        labels: &["malignant", "normal, benign"],
        splits: [546, 78, 156],
        licence: "CC BY 4.0",
        md5: [
            "750601b1f35ba3300ea97c75c52ff8f6",
            "742edef2a1fd1524b2efff4bd7ba9364",
            "363e4b3f8d712e9b5de15470a2aaadf1",
            "b56378a6eefa9fed602bb16d192d4c8b",
        ],
    },
    Entry {
        flag: Flag::Blood,
        title: "BloodMNIST",
        task: Task::MultiClass,
        channels: 3,
        labels: &[
            "basophil",
            "eosinophil",
            "erythroblast",
            "immature granulocytes(myelocytes, metamyelocytes and promyelocytes)",
            "lymphocyte",
            "monocyte",
            "neutrophil",
            "platelet",
        ],
        splits: [11959, 1712, 3421],
        licence: "CC BY 4.0",
        md5: [
            "7053d0359d879ad8a5505303e11de1dc",
            "2b94928a2ae4916078ca51e05b6b800b",
            "adace1e0ed228fccda1f39692059dd4c",
            "b718ff6835fcbdb22ba9eacccd7b2601",
        ],
    },
    Entry {
        flag: Flag::Tissue,
        title: "TissueMNIST",
        task: Task::MultiClass,
        channels: 1,
        labels: &[
            "Collecting Duct, Connecting Tubule",
            "Distal Convoluted Tubule",
            "Glomerular endothelial cells",
            "Interstitial endothelial cells",
            "Leukocytes",
            "Podocytes",
            "Proximal Tubule Segments",
            "Thick Ascending Limb",
        ],
        splits: [165466, 23640, 47280],
        licence: "CC BY 4.0",
        md5: [
            "ebe78ee8b05294063de985d821c1c34b",
            "123ece2eba09d0aa5d698fda57103344",
            "61b955355d7425a89687b06cca3ce0c2",
            "b077128c4a949f0a4eb01517f9037b9c",
        ],
    },
    Entry {
        flag: Flag::OrganA,
        title: "OrganAMNIST",
        task: Task::MultiClass,
        channels: 1,
        labels: ORGANS,
        splits: [34561, 6491, 17778],
        licence: "CC BY 4.0",
        md5: [
            "68e3f8846a6bd62f0c9bf841c0d9eacc",
            "2dcccc29b88e6da5a01161ef20cda288",
            "eeae80d0a227a8d099027e1b3cfd3b60",
            "50747347e05c87dd3aaf92c49f9f3170",
        ],
    },
    Entry {
        flag: Flag::OrganC,
        title: "OrganCMNIST",
        task: Task::MultiClass,
        channels: 1,
        labels: ORGANS,
        splits: [12975, 2392, 8216],
        licence: "CC BY 4.0",
        md5: [
            "b9ceb9546e10131b32923c5bbeaea2b1",
            "3ce34a8724ea6f548e6db4744d03b6a9",
            "773c1f009daa3fe5d9a2a201b2a7ed94",
            "050f5e875dc056f6768abf94ec9995d1",
        ],
    },
    Entry {
        flag: Flag::OrganS,
        title: "OrganSMNIST",
        task: Task::MultiClass,
        channels: 1,
        labels: ORGANS,
        splits: [13932, 2452, 8827],
        licence: "CC BY 4.0",
        md5: [
            "9ab87b696fb54e2a387ebe992d6ed5f1",
            "53a6d115339d874c25e309a994ff46d3",
            "ded0c5fa01a95dc4978b956f613e9b8e",
            "b354719e553fbbb2513d5533f52a4cb1",
        ],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flag_has_one_row_and_names_round_trip() {
        for flag in Flag::ALL {
            assert_eq!(CATALOG.iter().filter(|e| e.flag == flag).count(), 1, "{flag}");
            assert_eq!(Flag::parse(flag.name()), Some(flag));
            assert_eq!(flag.entry().title.to_ascii_lowercase(), flag.name());
        }
        assert_eq!(Flag::parse("RetinaMNIST"), Some(Flag::Retina));
        assert_eq!(Task::parse("multi-label"), Some(Task::MultiLabel));
        assert_eq!("x".parse::<Flag>().unwrap_err().what, "MedMNIST 2D dataset");
    }

    #[test]
    fn files_are_named_and_found_as_the_package_names_them() {
        let breast = Flag::Breast.entry();
        assert_eq!(breast.file_name(Size::Px28), "breastmnist.npz");
        assert_eq!(breast.url(Size::Px64), "https://zenodo.org/records/10519652/files/breastmnist_64.npz?download=1");
        assert_eq!(breast.api_url(Size::Px28), "https://zenodo.org/api/records/10519652/files/breastmnist.npz/content");
        assert_eq!(identify("750601B1F35BA3300EA97C75C52FF8F6"), Some((Flag::Breast, Size::Px28)));
        assert_eq!(identify(Flag::Tissue.entry().md5(Size::Px224)), Some((Flag::Tissue, Size::Px224)));
        assert_eq!(identify("00000000000000000000000000000000"), None);
    }

    #[test]
    fn the_member_limit_follows_the_largest_split() {
        // TissueMNIST's 165,466 training images at 28 px gray: 129.7 MB, over the old 96 MiB cap.
        let tissue = Flag::Tissue.entry();
        assert_eq!(tissue.largest_member(Size::Px28), 165_466 * 784);
        assert!(tissue.decode_options(Size::Px28).max_member_bytes > 96 << 20);
        assert_eq!(Flag::Chest.entry().targets(), Targets::MultiLabel(14));
        assert_eq!(Flag::Retina.entry().targets(), Targets::Classes(5));
    }
}

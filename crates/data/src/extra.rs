//! The other official MedMNIST v2 files the lab pretrains on (same Zenodo record, same
//! licence): PneumoniaMNIST's chest X-rays and RetinaMNIST's fundus photographs, both 28 px, as
//! views onto their catalog rows with their measured byte sizes. For pretraining their labels are not BreastMNIST's (RetinaMNIST has five grades), so they are decoded as
//! images only (`Targets::Unlabeled`) and never mixed into BreastMNIST's splits.

use crate::variant::ZENODO_RECORD;
use crate::{DataError, md5_hex};

/// An extra file for pretraining.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Extra {
    /// 5,856 pediatric chest X-rays (Kermany et al., 2018), grayscale.
    PneumoniaMnist,
    /// 1,600 retinal fundus photographs (DeepDRiD), RGB.
    RetinaMnist,
}

impl Extra {
    pub const ALL: [Extra; 2] = [Extra::PneumoniaMnist, Extra::RetinaMnist];

    /// File name on Zenodo and in the served `data/` folder.
    pub fn file_name(self) -> &'static str {
        match self {
            Extra::PneumoniaMnist => "pneumoniamnist.npz",
            Extra::RetinaMnist => "retinamnist.npz",
        }
    }

    /// This file's catalog row.
    pub fn flag(self) -> crate::Flag {
        match self {
            Extra::PneumoniaMnist => crate::Flag::Pneumonia,
            Extra::RetinaMnist => crate::Flag::Retina,
        }
    }

    /// The MD5 published by the `medmnist` package (the catalog's, 28 px).
    pub fn md5(self) -> &'static str {
        self.flag().entry().md5(crate::Size::Px28)
    }

    /// The exact size in bytes of the official 28 px file.
    pub fn size(self) -> u64 {
        match self {
            Extra::PneumoniaMnist => 4_170_669,
            Extra::RetinaMnist => 3_291_041,
        }
    }

    /// Images in all three splits.
    pub fn images(self) -> usize {
        self.flag().entry().images()
    }

    /// Official download address.
    pub fn zenodo_url(self) -> String {
        format!("https://zenodo.org/records/{ZENODO_RECORD}/files/{}?download=1", self.file_name())
    }

    /// Checks `bytes` against the official size and MD5.
    pub fn verify(self, bytes: &[u8]) -> Result<(), DataError> {
        let file = self.file_name();
        if bytes.len() as u64 != self.size() {
            return Err(DataError::Size { file, expected: self.size(), got: bytes.len() as u64 });
        }
        let got = md5_hex(bytes);
        if got != self.md5() {
            return Err(DataError::Checksum { file, expected: self.md5(), got });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extras_are_verified_by_size_then_md5() {
        assert_eq!(
            Extra::RetinaMnist.verify(b"x").unwrap_err(),
            DataError::Size { file: "retinamnist.npz", expected: 3_291_041, got: 1 }
        );
        let zeros = vec![0u8; 4_170_669];
        assert!(matches!(Extra::PneumoniaMnist.verify(&zeros), Err(DataError::Checksum { .. })));
        assert!(Extra::PneumoniaMnist.zenodo_url().ends_with("pneumoniamnist.npz?download=1"));
        for e in Extra::ALL {
            assert_eq!(e.zenodo_url(), e.flag().entry().url(crate::Size::Px28));
        }
        assert_eq!((Extra::PneumoniaMnist.images(), Extra::RetinaMnist.images()), (5_856, 1_600));
    }

    #[test]
    fn the_real_extras_verify_when_present() {
        for e in Extra::ALL {
            let Ok(path) = crate::local::find(e.file_name()) else { continue };
            let bytes = std::fs::read(&path).unwrap();
            assert_eq!(e.verify(&bytes), Ok(()), "{}", path.display());
        }
    }
}

//! The official BreastMNIST files (Zenodo record 10519652) and their verification: a view onto
//! the catalog's BreastMNIST row that adds the measured byte sizes.

use md5::{Digest, Md5};

use crate::DataError;

/// One official resolution of BreastMNIST, as published on Zenodo.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Variant {
    Px28,
    Px64,
    Px128,
    Px224,
}

/// The Zenodo record that hosts every official file.
pub const ZENODO_RECORD: u32 = 10519652;

impl Variant {
    pub const ALL: [Variant; 4] = [Variant::Px28, Variant::Px64, Variant::Px128, Variant::Px224];

    /// The variants the project ships and tests with (the others are verified if given).
    pub const SERVED: [Variant; 2] = [Variant::Px28, Variant::Px64];

    pub fn side(self) -> usize {
        match self {
            Variant::Px28 => 28,
            Variant::Px64 => 64,
            Variant::Px128 => 128,
            Variant::Px224 => 224,
        }
    }

    pub fn from_side(side: usize) -> Option<Variant> {
        Variant::ALL.into_iter().find(|v| v.side() == side)
    }

    /// File name on Zenodo and in the served `data/` folder.
    pub fn file_name(self) -> &'static str {
        match self {
            Variant::Px28 => "breastmnist.npz",
            Variant::Px64 => "breastmnist_64.npz",
            Variant::Px128 => "breastmnist_128.npz",
            Variant::Px224 => "breastmnist_224.npz",
        }
    }

    /// The catalog's size of this variant.
    pub fn size_of(self) -> crate::Size {
        crate::Size::from_side(self.side()).expect("every variant is an official size")
    }

    /// The MD5 published by the `medmnist` package (the catalog's row for BreastMNIST).
    pub fn md5(self) -> &'static str {
        crate::Flag::Breast.entry().md5(self.size_of())
    }

    /// The exact size in bytes, where it has been measured on the verified file.
    pub fn size(self) -> Option<u64> {
        match self {
            Variant::Px28 => Some(559_580),
            Variant::Px64 => Some(2_846_041),
            Variant::Px128 | Variant::Px224 => None,
        }
    }

    /// Official download address.
    pub fn zenodo_url(self) -> String {
        format!("https://zenodo.org/records/{ZENODO_RECORD}/files/{}?download=1", self.file_name())
    }
}

/// Lower-case hexadecimal MD5 of `bytes`.
pub fn md5_hex(bytes: &[u8]) -> String {
    Md5::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks `bytes` against the official size and MD5 of `variant`.
pub fn verify(bytes: &[u8], variant: Variant) -> Result<(), DataError> {
    let file = variant.file_name();
    if let Some(expected) = variant.size()
        && expected != bytes.len() as u64
    {
        return Err(DataError::Size { file, expected, got: bytes.len() as u64 });
    }
    let got = md5_hex(bytes);
    if got != variant.md5() {
        return Err(DataError::Checksum { file, expected: variant.md5(), got });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_of_known_strings() {
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(md5_hex(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
    }

    #[test]
    fn wrong_size_is_reported_before_hashing() {
        let err = verify(b"short", Variant::Px28).unwrap_err();
        assert_eq!(err, DataError::Size { file: "breastmnist.npz", expected: 559_580, got: 5 });
    }

    #[test]
    fn wrong_checksum_is_reported() {
        let bytes = vec![0u8; 559_580];
        match verify(&bytes, Variant::Px28).unwrap_err() {
            DataError::Checksum { expected, got, .. } => {
                assert_eq!(expected, "750601b1f35ba3300ea97c75c52ff8f6");
                assert_eq!(got, md5_hex(&bytes));
            }
            other => panic!("expected a checksum error, got {other:?}"),
        }
    }

    #[test]
    fn variants_are_the_catalogs_breastmnist_files() {
        for v in Variant::ALL {
            assert_eq!(v.file_name(), crate::Flag::Breast.entry().file_name(v.size_of()));
            assert_eq!(v.zenodo_url(), crate::Flag::Breast.entry().url(v.size_of()));
        }
    }

    #[test]
    fn sides_round_trip() {
        for v in Variant::ALL {
            assert_eq!(Variant::from_side(v.side()), Some(v));
        }
        assert_eq!(Variant::from_side(32), None);
    }
}

//! Helpers shared by the data tests: finding the real files and building synthetic npz archives.
#![allow(dead_code)]

use std::io::Write;

use zip::write::SimpleFileOptions;

/// The bytes of the real `file` from the first folder of `breastmnist_data::locate` that holds
/// it; `None` (after printing SKIP) when absent, a failure when `BREASTMNIST_REQUIRE_DATA=1`.
pub fn real_file(file: &str) -> Option<Vec<u8>> {
    breastmnist_data::real_file(file).map(|p| std::fs::read(p).expect("readable data file"))
}

/// A `.npy` v1.0 file of the given descr, shape and raw data.
pub use breastmnist_data::synthetic::npy;

/// One member of a synthetic archive.
pub struct Member {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// The six members of a valid archive with official split sizes and `side` px images; labels
/// alternate 0/1 and pixel values encode the sample index.
pub fn valid_members(side: usize) -> Vec<Member> {
    let mut members = Vec::new();
    for (split, n) in [("train", 546), ("val", 78), ("test", 156)] {
        let images: Vec<u8> = (0..n).flat_map(|i| std::iter::repeat_n((i % 251) as u8, side * side)).collect();
        let labels: Vec<u8> = (0..n).map(|i| (i % 2) as u8).collect();
        members.push(Member { name: format!("{split}_images.npy"), bytes: npy("|u1", &[n, side, side], &images) });
        members.push(Member { name: format!("{split}_labels.npy"), bytes: npy("|u1", &[n, 1], &labels) });
    }
    members
}

/// Zips the members, deflated or stored.
pub fn zip(members: &[Member], deflate: bool) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let method = if deflate { zip::CompressionMethod::Deflated } else { zip::CompressionMethod::Stored };
    let opts = SimpleFileOptions::default().compression_method(method);
    for m in members {
        w.start_file(m.name.as_str(), opts).unwrap();
        w.write_all(&m.bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

pub fn replace(members: &mut [Member], name: &str, bytes: Vec<u8>) {
    members.iter_mut().find(|m| m.name == name).expect("member exists").bytes = bytes;
}

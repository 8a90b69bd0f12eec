//! Every kind of malformed input yields its own, specific error.

mod common;

use breastmnist_data::{DataError, DecodeOptions, Split, Variant, decode_npz, verify};
use common::{Member, npy, replace, valid_members, zip};

fn decode(members: &[Member]) -> Result<breastmnist_data::Dataset, DataError> {
    decode_npz(&zip(members, true), &DecodeOptions::default())
}

#[test]
fn synthetic_archive_decodes_stored_and_deflated_in_any_order() {
    let mut members = valid_members(28);
    for deflate in [false, true] {
        let ds = decode_npz(&zip(&members, deflate), &DecodeOptions::default()).unwrap();
        assert_eq!((ds.train.len(), ds.val.len(), ds.test.len()), (546, 78, 156));
        assert_eq!(ds.image(Split::Val, 5), &[5u8; 28 * 28][..]);
        assert_eq!(ds.val.labels[5], 1);
    }
    members.reverse();
    let ds = decode(&members).unwrap();
    assert_eq!(ds.image(Split::Test, 155), &[155u8; 28 * 28][..]);
}

#[test]
fn rgb_images_are_accepted_with_three_channels() {
    let mut members = valid_members(8);
    for (split, n) in [("train", 546), ("val", 78), ("test", 156)] {
        replace(&mut members, &format!("{split}_images.npy"), npy("|u1", &[n, 8, 8, 3], &vec![7; n * 8 * 8 * 3]));
    }
    let ds = decode(&members).unwrap();
    assert_eq!((ds.side, ds.channels), (8, 3));
    assert_eq!(ds.image(Split::Train, 3).len(), 8 * 8 * 3);
}

#[test]
fn truncated_archive() {
    let bytes = zip(&valid_members(28), true);
    let cut = &bytes[..bytes.len() / 2];
    assert!(matches!(decode_npz(cut, &DecodeOptions::default()), Err(DataError::Archive(_))));
    assert!(matches!(decode_npz(b"not a zip at all", &DecodeOptions::default()), Err(DataError::Archive(_))));
}

#[test]
fn truncated_npy_data() {
    let mut members = valid_members(28);
    let full = members.iter().find(|m| m.name == "val_images.npy").unwrap().bytes.clone();
    replace(&mut members, "val_images.npy", full[..full.len() - 10].to_vec());
    match decode(&members) {
        Err(DataError::Npy { member, reason }) => {
            assert_eq!(member, "val_images.npy");
            assert!(reason.contains("needs"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn garbage_npy_header() {
    let mut members = valid_members(28);
    replace(&mut members, "test_labels.npy", b"\x93NUMPY garbage".to_vec());
    assert!(matches!(decode(&members), Err(DataError::Npy { member, .. }) if member == "test_labels.npy"));
}

#[test]
fn wrong_checksum() {
    let Some(mut bytes) = common::real_file("breastmnist.npz") else { return };
    bytes[1000] ^= 0xff;
    assert!(matches!(verify(&bytes, Variant::Px28), Err(DataError::Checksum { .. })));
}

#[test]
fn wrong_dtype() {
    let mut members = valid_members(28);
    replace(&mut members, "train_labels.npy", npy("<i8", &[546, 1], &vec![0; 546 * 8]));
    match decode(&members) {
        Err(DataError::DType { member, got }) => {
            assert_eq!(member, "train_labels.npy");
            assert_eq!(got, "<i8");
        }
        other => panic!("{other:?}"),
    }
    replace(&mut members, "train_labels.npy", npy("<f4", &[546, 1], &vec![0; 546 * 4]));
    assert!(matches!(decode(&members), Err(DataError::DType { .. })));
}

#[test]
fn wrong_shape() {
    let mut members = valid_members(28);
    replace(&mut members, "val_images.npy", npy("|u1", &[78, 28, 27], &vec![0; 78 * 28 * 27]));
    match decode(&members) {
        Err(DataError::Shape { member, got, .. }) => {
            assert_eq!(member, "val_images.npy");
            assert_eq!(got, vec![78, 28, 27]);
        }
        other => panic!("{other:?}"),
    }
    let mut members = valid_members(28);
    replace(&mut members, "val_labels.npy", npy("|u1", &[78, 2], &[0; 156]));
    assert!(matches!(decode(&members), Err(DataError::Shape { member, .. }) if member == "val_labels.npy"));
}

#[test]
fn inconsistent_sides_between_splits() {
    let mut members = valid_members(28);
    replace(&mut members, "test_images.npy", npy("|u1", &[156, 64, 64], &vec![0; 156 * 64 * 64]));
    assert!(matches!(decode(&members), Err(DataError::Inconsistent(_))));
}

#[test]
fn wrong_split_size_and_label_count() {
    let mut members = valid_members(28);
    replace(&mut members, "val_images.npy", npy("|u1", &[77, 28, 28], &vec![0; 77 * 28 * 28]));
    assert_eq!(decode(&members).unwrap_err(), DataError::SplitSize { split: Split::Val, expected: 78, got: 77 });

    let mut members = valid_members(28);
    replace(&mut members, "test_labels.npy", npy("|u1", &[155, 1], &[0; 155]));
    assert_eq!(decode(&members).unwrap_err(), DataError::LabelCount { split: Split::Test, images: 156, labels: 155 });
}

#[test]
fn missing_member() {
    let mut members = valid_members(28);
    members.retain(|m| m.name != "test_images.npy");
    assert_eq!(decode(&members).unwrap_err(), DataError::MissingMember("test_images".into()));
}

#[test]
fn unexpected_member() {
    let mut members = valid_members(28);
    members.push(Member { name: "extra.npy".into(), bytes: npy("|u1", &[1], &[0]) });
    assert_eq!(decode(&members).unwrap_err(), DataError::UnexpectedMember("extra.npy".into()));
}

#[test]
fn label_out_of_range() {
    let mut members = valid_members(28);
    let mut labels = vec![0u8; 546];
    labels[300] = 2;
    replace(&mut members, "train_labels.npy", npy("|u1", &[546, 1], &labels));
    assert_eq!(decode(&members).unwrap_err(), DataError::LabelRange { split: Split::Train, index: 300, value: 2, classes: 2 });
    // Read as images only (pretraining on RetinaMNIST's grades), the same file decodes and
    // holds no label the two classes cannot name.
    let ds = decode_npz(&zip(&members, true), &DecodeOptions::default().unlabeled()).unwrap();
    assert_eq!(ds.train.len(), 546);
    assert!(Split::ALL.iter().all(|&s| ds.split(s).labels.iter().all(|&l| l == 0)));
}

#[test]
fn oversized_member_is_refused_before_it_is_inflated() {
    // 64 MiB of zeros deflates to ~64 KiB: a small zip bomb.
    let mut members = valid_members(28);
    replace(&mut members, "train_images.npy", vec![0; 64 << 20]);
    let bytes = zip(&members, true);
    assert!(bytes.len() < 1 << 20);
    let options = DecodeOptions { max_member_bytes: 8 << 20, ..DecodeOptions::default() };
    match decode_npz(&bytes, &options) {
        Err(DataError::TooLarge { member, size, limit }) => {
            assert_eq!(member, "train_images.npy");
            assert_eq!(size, 64 << 20);
            assert_eq!(limit, 8 << 20);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn errors_read_as_sentences() {
    let e = DataError::LabelRange { split: Split::Train, index: 3, value: 9, classes: 2 };
    assert_eq!(e.to_string(), "label 9 at index 3 of split 'train' is out of range (labels are 0 or 1)");
}

/// A `.npy` member whose header text is `header` (v1.0 or v2.0 framing), followed by `data`.
fn npy_with_header(header: &str, version: u8, data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x93];
    out.extend_from_slice(b"NUMPY");
    out.extend_from_slice(&[version, 0]);
    if version == 1 {
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

/// Crafted headers that hang or exhaust npyz's parser are refused before it sees them, at once
/// (unchecked, a set nested 24 deep never finishes and a million-digit integer takes seconds).
#[test]
fn crafted_npy_headers_are_refused_before_parsing() {
    let labels = vec![0u8; 156];
    let nested = format!("{}0{}", "{".repeat(24), "}".repeat(24));
    let cases = [
        (
            npy_with_header(
                &format!("{{'descr': '|u1', 'fortran_order': False, 'shape': (156, 1), 'x': {nested}}}\n"),
                1,
                &labels,
            ),
            "nests",
        ),
        (
            npy_with_header(
                &format!("{{'descr': '|u1', 'fortran_order': False, 'shape': ({}, 1), }}\n", "9".repeat(1_000_000)),
                2,
                &labels,
            ),
            "10000",
        ),
        (
            npy_with_header(
                &format!("{{'descr': '|u1', 'fortran_order': False, 'shape': ({}, 1), }}\n", "9".repeat(40)),
                1,
                &labels,
            ),
            "digit",
        ),
        (npy_with_header("{'descr': '|u1', 'fortran_order': False, 'shape': (156, 1), 'extra': 1, }\n", 1, &labels), "keys"),
        (npy_with_header("{'descr': '|u1', 'fortran_order': False, 'shape': ((156, 1)), }\n", 1, &labels), "nests"),
        (npy_with_header("{'descr': '|u1', 'fortran_order': False, 'shape': [156, 1], }\n", 1, &labels), "nests"),
    ];
    for (bytes, why) in cases {
        let mut members = valid_members(28);
        replace(&mut members, "test_labels.npy", bytes);
        let started = std::time::Instant::now();
        let err = decode(&members).unwrap_err();
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "took {:?}", started.elapsed());
        match err {
            DataError::Npy { member, reason } => {
                assert_eq!(member, "test_labels.npy");
                assert!(reason.contains(why), "{reason} lacks '{why}'");
            }
            other => panic!("{other:?}"),
        }
    }
    // A declared length of 4 GiB is refused without allocating it.
    let mut huge = vec![0x93];
    huge.extend_from_slice(b"NUMPY\x02\x00");
    huge.extend_from_slice(&u32::MAX.to_le_bytes());
    huge.extend_from_slice(b"{'descr': '|u1'");
    let mut members = valid_members(28);
    replace(&mut members, "test_labels.npy", huge);
    assert!(matches!(decode(&members), Err(DataError::Npy { reason, .. }) if reason.contains("declares 4294967295 bytes")));
    // What NumPy writes (v1 and v2 framing, with the trailing comma) still decodes.
    let mut members = valid_members(28);
    replace(
        &mut members,
        "test_labels.npy",
        npy_with_header("{'descr': '|u1', 'fortran_order': False, 'shape': (156, 1), }          \n", 2, &labels),
    );
    assert!(decode(&members).is_ok());
}

//! Decoding the two official files (when present) with exact counts, shapes and labels.

mod common;

use breastmnist_data::{Class, DecodeOptions, Split, Variant, decode_npz, verify};

fn check(variant: Variant) {
    let Some(bytes) = common::real_file(variant.file_name()) else { return };
    verify(&bytes, variant).expect("the official file verifies");
    let ds = decode_npz(&bytes, &DecodeOptions::default()).expect("the official file decodes");
    assert_eq!(ds.side, variant.side());
    assert_eq!(ds.channels, 1);
    assert_eq!(ds.len(), 780);
    assert_eq!((ds.train.len(), ds.val.len(), ds.test.len()), (546, 78, 156));
    for split in Split::ALL {
        assert_eq!(ds.split(split).images.len(), split.official_len() * variant.side() * variant.side());
    }
    // Class balance of the official splits (malignant, benign).
    assert_eq!(ds.train.class_counts(), [147, 399]);
    assert_eq!(ds.val.class_counts(), [21, 57]);
    assert_eq!(ds.test.class_counts(), [42, 114]);
    assert_eq!(ds.label(Split::Test, 0).label(), ds.test.labels[0]);
    assert!(matches!(ds.label(Split::Train, 0), Class::Malignant | Class::Benign));
    // Real ultrasound images are not constant.
    let img = ds.image(Split::Train, 0);
    assert!(img.iter().max() > img.iter().min());
}

#[test]
fn decodes_official_28px() {
    check(Variant::Px28);
}

#[test]
fn decodes_official_64px() {
    check(Variant::Px64);
}

#[test]
fn the_two_resolutions_share_labels() {
    let (Some(a), Some(b)) = (common::real_file("breastmnist.npz"), common::real_file("breastmnist_64.npz")) else {
        return;
    };
    let a = decode_npz(&a, &DecodeOptions::default()).unwrap();
    let b = decode_npz(&b, &DecodeOptions::default()).unwrap();
    for split in Split::ALL {
        assert_eq!(a.split(split).labels, b.split(split).labels, "{split}");
    }
}

#[test]
fn each_file_fails_the_other_files_checksum() {
    let Some(a) = common::real_file("breastmnist.npz") else { return };
    assert!(verify(&a, Variant::Px64).is_err());
}

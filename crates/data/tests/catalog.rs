//! The catalog against the committed copy of the `medmnist` 3.0.2 package's `INFO` table, and
//! the decoder on synthetic files of every task: multi-class RGB, multi-label, and each
//! rejected input with its own error.

mod common;

use breastmnist_data::synthetic::{self, Spec};
use breastmnist_data::{CATALOG, DataError, DecodeOptions, Flag, Size, Split, Targets, Task, decode_npz, identify};
use serde_json::Value;

fn info() -> Value {
    let text = include_str!("fixtures/medmnist_info.json");
    serde_json::from_str(text).expect("the committed INFO copy is JSON")
}

#[test]
fn the_catalog_matches_the_info_table() {
    let info = info();
    let rows = info["datasets"].as_array().expect("datasets");
    assert_eq!(rows.len(), 12, "twelve 2D datasets");
    assert_eq!(CATALOG.len(), rows.len());
    let mut md5s = 0;
    for (row, entry) in rows.iter().zip(&CATALOG) {
        let flag = row["flag"].as_str().unwrap();
        assert_eq!(entry.flag.name(), flag, "INFO's order");
        assert_eq!(entry.title, row["python_class"].as_str().unwrap());
        assert_eq!(entry.task.name(), row["task"].as_str().unwrap(), "{flag}");
        assert_eq!(entry.channels as u64, row["n_channels"].as_u64().unwrap(), "{flag}");
        assert_eq!(entry.licence, row["license"].as_str().unwrap(), "{flag}");
        let labels = row["label"].as_object().unwrap();
        assert_eq!(entry.labels.len(), labels.len(), "{flag}");
        for (i, name) in entry.labels.iter().enumerate() {
            assert_eq!(labels[&i.to_string()].as_str().unwrap(), *name, "{flag} label {i}");
        }
        for (split, &n) in Split::ALL.iter().zip(&entry.splits) {
            assert_eq!(row["n_samples"][split.key()].as_u64().unwrap(), n as u64, "{flag} {split}");
        }
        for size in Size::ALL {
            assert_eq!(entry.md5(size), row["md5"][size.name()].as_str().unwrap(), "{flag} {size}");
            assert_eq!(entry.url(size), row["url"][size.name()].as_str().unwrap(), "{flag} {size}");
            assert_eq!(identify(entry.md5(size)), Some((entry.flag, size)));
            md5s += 1;
        }
    }
    assert_eq!(md5s, 48);
}

/// Decoding a synthetic file of `spec` with the options a catalog row of that shape gives.
fn options(spec: &Spec) -> DecodeOptions {
    DecodeOptions {
        max_member_bytes: 1 << 24,
        split_sizes: Some(spec.splits),
        channels: Some(spec.channels),
        side: Some(spec.side),
        targets: breastmnist_data::catalog::targets(spec.task, spec.classes),
        every_class: true,
    }
}

const RGB4: Spec = Spec { task: Task::MultiClass, classes: 4, channels: 3, side: 16, splits: [40, 12, 12], seed: 1 };
const LABELS3: Spec = Spec { task: Task::MultiLabel, classes: 3, channels: 1, side: 16, splits: [40, 12, 12], seed: 2 };

#[test]
fn a_four_class_rgb_file_decodes_with_every_class() {
    let ds = decode_npz(&synthetic::npz(&RGB4), &options(&RGB4)).unwrap();
    assert_eq!((ds.side, ds.channels, ds.targets, ds.classes()), (16, 3, Targets::Classes(4), 4));
    assert_eq!(ds.train.len(), 40);
    assert_eq!(ds.train.counts(4), vec![10; 4]);
    assert_eq!(ds.test.counts(4), vec![3; 4]);
    assert_eq!(ds.image(Split::Val, 1).len(), 16 * 16 * 3);
}

#[test]
fn a_three_label_file_decodes_with_its_label_columns() {
    let ds = decode_npz(&synthetic::npz(&LABELS3), &options(&LABELS3)).unwrap();
    assert_eq!((ds.channels, ds.targets), (1, Targets::MultiLabel(3)));
    assert_eq!(ds.val.len(), 12);
    assert_eq!(ds.val.width, 3);
    assert_eq!(ds.val.labels_of(0), &[0, 0, 0]);
    assert_eq!(ds.val.labels_of(1), &[1, 1, 1]);
    let positives = ds.train.counts(3);
    assert!(positives.iter().all(|&p| p > 5 && p < 35), "{positives:?}");
}

/// Replaces one member of an npz made by `synthetic::npz`.
fn with_member(spec: &Spec, name: &str, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(synthetic::npz(spec))).unwrap();
    let mut members = Vec::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut f, &mut bytes).unwrap();
        let member = f.name().unwrap().to_string();
        let bytes = if member == name { common::npy("|u1", shape, data) } else { bytes };
        members.push(common::Member { name: member, bytes });
    }
    common::zip(&members, false)
}

#[test]
fn each_rejected_input_has_its_own_error() {
    // A label at or above k.
    let mut labels: Vec<u8> = (0..12).map(|i| (i % 4) as u8).collect();
    labels[5] = 4;
    let bytes = with_member(&RGB4, "test_labels.npy", &[12, 1], &labels);
    assert_eq!(
        decode_npz(&bytes, &options(&RGB4)).unwrap_err(),
        DataError::LabelRange { split: Split::Test, index: 5, value: 4, classes: 4 }
    );
    // A class absent from a split.
    let labels: Vec<u8> = (0..12).map(|i| (i % 3) as u8).collect();
    let bytes = with_member(&RGB4, "val_labels.npy", &[12, 1], &labels);
    assert_eq!(decode_npz(&bytes, &options(&RGB4)).unwrap_err(), DataError::ClassAbsent { split: Split::Val, class: 3 });
    // A multi-label value other than 0 or 1.
    let mut labels: Vec<u8> = (0..36).map(|i| ((i / 3) % 2) as u8).collect();
    labels[7] = 2;
    let bytes = with_member(&LABELS3, "val_labels.npy", &[12, 3], &labels);
    assert_eq!(
        decode_npz(&bytes, &options(&LABELS3)).unwrap_err(),
        DataError::MultiLabelValue { split: Split::Val, index: 2, label: 1, value: 2 }
    );
    // A label that never takes one of its values.
    let labels: Vec<u8> = (0..36).map(|i| if i % 3 == 2 { 0 } else { ((i / 3) % 2) as u8 }).collect();
    let bytes = with_member(&LABELS3, "test_labels.npy", &[12, 3], &labels);
    assert_eq!(
        decode_npz(&bytes, &options(&LABELS3)).unwrap_err(),
        DataError::LabelConstant { split: Split::Test, label: 2, value: 0 }
    );
    // Label columns that disagree with the catalog, either way.
    let bytes = synthetic::npz(&LABELS3);
    let four = DecodeOptions { targets: Targets::MultiLabel(4), ..options(&LABELS3) };
    assert_eq!(
        decode_npz(&bytes, &four).unwrap_err(),
        DataError::LabelWidth { member: "train_labels.npy".into(), expected: 4, got: 3 }
    );
    let single = DecodeOptions { targets: Targets::Classes(3), ..options(&LABELS3) };
    assert!(matches!(
        decode_npz(&bytes, &single).unwrap_err(),
        DataError::Shape { member, expected, got } if member == "train_labels.npy" && expected == "(N, 1)" && got == [40, 3]
    ));
    // Images only read any label layout, keeping one 0 per image.
    let images = decode_npz(&bytes, &DecodeOptions { targets: Targets::Unlabeled, ..options(&LABELS3) }).unwrap();
    assert_eq!((images.train.len(), images.train.labels.len(), images.train.width), (40, 40, 1));
    // Fewer than two classes is no dataset.
    let one = DecodeOptions { targets: Targets::Classes(1), ..options(&RGB4) };
    assert_eq!(decode_npz(&synthetic::npz(&RGB4), &one).unwrap_err(), DataError::Classes(1));
    // A class absent from a split is allowed in BreastMNIST's default layout (every_class off).
    let labels: Vec<u8> = (0..12).map(|i| (i % 3) as u8).collect();
    let bytes = with_member(&RGB4, "val_labels.npy", &[12, 1], &labels);
    assert!(decode_npz(&bytes, &DecodeOptions { every_class: false, ..options(&RGB4) }).is_ok());
    // Channels and side that disagree with the catalog.
    let gray = DecodeOptions { channels: Some(1), ..options(&RGB4) };
    assert_eq!(
        decode_npz(&synthetic::npz(&RGB4), &gray).unwrap_err(),
        DataError::Channels { member: "train_images.npy".into(), expected: 1, got: 3 }
    );
    let big = DecodeOptions { side: Some(28), ..options(&RGB4) };
    assert_eq!(
        decode_npz(&synthetic::npz(&RGB4), &big).unwrap_err(),
        DataError::Side { member: "train_images.npy".into(), expected: 28, got: 16 }
    );
    // Every one reads as a sentence that names the place.
    let e = DataError::ClassAbsent { split: Split::Val, class: 3 };
    assert_eq!(e.to_string(), "split 'val' has no image of class 3: every class must appear in every split");
}

#[test]
fn the_real_other_files_decode_with_their_catalog_rows() {
    for flag in [Flag::Pneumonia, Flag::Retina, Flag::Breast] {
        let entry = flag.entry();
        let Some(bytes) = common::real_file(&entry.file_name(Size::Px28)) else { continue };
        let (found, size) = identify(&breastmnist_data::md5_hex(&bytes)).expect("an official file");
        assert_eq!((found, size), (flag, Size::Px28));
        let ds = decode_npz(&bytes, &entry.decode_options(size)).expect("the official file decodes");
        assert_eq!([ds.train.len(), ds.val.len(), ds.test.len()], entry.splits);
        assert_eq!((ds.channels, ds.classes()), (entry.channels, entry.classes()));
        for split in Split::ALL {
            assert!(ds.split(split).counts(ds.classes()).iter().all(|&c| c > 0), "{flag} {split}");
        }
    }
    // RetinaMNIST's test split: its five grades as the file holds them.
    if let Some(bytes) = common::real_file("retinamnist.npz") {
        let ds = decode_npz(&bytes, &Flag::Retina.entry().decode_options(Size::Px28)).unwrap();
        assert_eq!(ds.test.counts(5), vec![174, 46, 92, 68, 20]);
    }
}

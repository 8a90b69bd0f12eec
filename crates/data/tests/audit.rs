//! The data audit on the two official files (when present): the twins the source collection is
//! known to hold (Pawłowska et al., Data in Brief 48:109247, 2023), and every count checked
//! against an independent computation of the correlation in this test (sums of raw pixel values,
//! not the module's centred unit vectors).

mod common;

use breastmnist_data::audit::{TWIN_THRESHOLD, audit};
use breastmnist_data::{Dataset, DecodeOptions, Split, Variant, decode_npz};

fn load(variant: Variant) -> Option<Dataset> {
    let bytes = common::real_file(variant.file_name())?;
    Some(decode_npz(&bytes, &DecodeOptions::default()).expect("the official file decodes"))
}

/// Pearson's r from raw sums: (nΣxy − ΣxΣy) / sqrt((nΣx² − (Σx)²)(nΣy² − (Σy)²)).
fn pearson(x: &[u8], y: &[u8]) -> f64 {
    let n = x.len() as f64;
    let (mut sx, mut sy, mut sxx, mut syy, mut sxy) = (0f64, 0f64, 0f64, 0f64, 0f64);
    for (&a, &b) in x.iter().zip(y) {
        let (a, b) = (a as f64, b as f64);
        sx += a;
        sy += b;
        sxx += a * a;
        syy += b * b;
        sxy += a * b;
    }
    (n * sxy - sx * sy) / ((n * sxx - sx * sx) * (n * syy - sy * sy)).sqrt()
}

/// Images of `first` whose best match in `second` exceeds `t`, by brute force.
fn with_twin(d: &Dataset, first: Split, second: Split, t: f64) -> Vec<usize> {
    (0..d.split(first).len())
        .filter(|&i| (0..d.split(second).len()).any(|j| pearson(d.image(first, i), d.image(second, j)) > t))
        .collect()
}

fn check(variant: Variant, test_twins_at_099: usize, val_twins_at_099: usize) {
    let Some(d) = load(variant) else { return };
    let a = audit(&d, TWIN_THRESHOLD).unwrap();
    // Test #76 is train #115, byte for byte, with the opposite label.
    let p =
        a.pairs_between(Split::Test, Split::Train).find(|p| p.a.index == 76 && p.b.index == 115).expect("test 76 ~ train 115");
    assert!(p.identical && p.conflict() && p.r > 0.999_999, "{p:?}");
    // Test #7 is a near-copy of train #481 (and of train #18), also with the opposite label.
    let p = a.pairs_between(Split::Test, Split::Train).find(|p| p.a.index == 7 && p.b.index == 481).expect("test 7 ~ train 481");
    assert!(!p.identical && p.conflict() && p.r > 0.998, "{p:?}");
    // The counts equal the brute-force ones, at the threshold and at the 0.99.
    for (first, second) in [(Split::Test, Split::Train), (Split::Val, Split::Train), (Split::Test, Split::Val)] {
        let brute = with_twin(&d, first, second, TWIN_THRESHOLD);
        assert_eq!(a.split_pair(first, second).unwrap().images, brute.len(), "{first}-{second} at {}", variant.side());
        if (first, second) == (Split::Test, Split::Train) {
            let dedup: Vec<usize> = (0..d.test.len()).filter(|i| !brute.contains(i)).collect();
            assert_eq!(a.deduplicated_test, dedup);
        }
    }
    assert_eq!(with_twin(&d, Split::Test, Split::Train, 0.99).len(), test_twins_at_099);
    assert_eq!(with_twin(&d, Split::Val, Split::Train, 0.99).len(), val_twins_at_099);
    let at_099 = a.nearest_train.iter().filter(|&&r| r > 0.99).count();
    assert_eq!(at_099, test_twins_at_099, "the audit's nearest correlations agree with brute force");
    // The threshold sits in a trough: no test image's nearest training image is within 1e-3 of it.
    assert!(a.nearest_train.iter().all(|r| (r - TWIN_THRESHOLD).abs() > 1e-3));
}

#[test]
fn the_28px_file_has_the_known_twins() {
    check(Variant::Px28, 39, 22);
}

#[test]
fn the_64px_file_has_the_known_twins() {
    check(Variant::Px64, 19, 12);
}

//! GAN-based augmentation: the GAN reads the training split only, learns the classes it is
//! conditioned on, samples reproducibly, and its samples join a copy's training split only.

mod common;

use std::sync::Arc;

use breastmnist_core::Device;
use breastmnist_core::frechet::{Moments, distance};
use breastmnist_core::gan::{GanConfig, GanError, GanEvent, GanTrainer, Real};
use breastmnist_data::{Dataset, SplitData, Targets};

/// 28 px data whose splits are told apart by their pixels: training images are dark (class 0)
/// or bright (class 1) squares on gray; every validation pixel is 1 and every test pixel 2.
fn marked(n: usize) -> Dataset {
    let mut images = Vec::new();
    let mut labels = Vec::new();
    for i in 0..n {
        let class = (i % 2) as u8;
        let ink = if class == 0 { 30 } else { 230 };
        for y in 0..28 {
            for x in 0..28 {
                let inside = (6..22).contains(&y) && (6..22).contains(&x);
                images.push(if inside { ink } else { 128 + (i % 5) as u8 });
            }
        }
        labels.push(class);
    }
    Dataset {
        side: 28,
        channels: 1,
        targets: Targets::Classes(2),
        train: SplitData::single(images, labels),
        val: SplitData::single(vec![1; 8 * 784], vec![0; 8]),
        test: SplitData::single(vec![2; 8 * 784], vec![1; 8]),
    }
}

#[test]
fn the_gan_reads_the_training_split_only_and_refuses_what_it_cannot_generate() {
    let data = marked(10);
    let real = Real::training(&data).unwrap();
    assert_eq!((real.len(), real.classes()), (10, 2));
    for i in 0..real.len() {
        assert!(real.image(i).iter().all(|&p| p != 1 && p != 2), "image {i} holds a validation or test pixel");
        assert_eq!(real.image(i), &data.train.images[i * 784..(i + 1) * 784]);
    }
    let wider = Dataset { side: 64, ..marked(2) };
    assert!(matches!(Real::training(&wider), Err(GanError::Shape { side: 64, .. })));
    let rgb = Dataset { channels: 3, ..marked(2) };
    assert!(matches!(Real::training(&rgb), Err(GanError::Shape { channels: 3, .. })));
    let multi = Dataset { targets: Targets::MultiLabel(2), ..marked(2) };
    assert!(Real::training(&multi).unwrap_err().to_string().contains("single-label"));
    let bad = GanConfig { batch_size: 1, ..GanConfig::default() };
    assert!(matches!(GanTrainer::new(bad, Arc::new(real), &Device::flex()), Err(GanError::Setting(_))));
}

#[test]
fn a_gan_learns_its_classes_samples_reproducibly_and_its_samples_join_the_training_split_only() {
    let data = marked(64);
    let real = Arc::new(Real::training(&data).unwrap());
    let config = GanConfig { epochs: 25, batch_size: 16, lr: 2e-3, seed: 3 };
    let mut gan = GanTrainer::new(config, real.clone(), &Device::flex()).unwrap();
    let mut epochs = 0;
    while !gan.is_finished() {
        for e in common::run(gan.step()).unwrap() {
            if let GanEvent::Epoch(e) = e {
                assert!(e.d_loss.is_finite() && e.g_loss.is_finite());
                epochs += 1;
            }
        }
    }
    assert_eq!((epochs, gan.history().len()), (25, 25));
    let samples = common::run(gan.sample(&[20, 30], 9)).unwrap();
    assert_eq!(samples.len(), 50);
    assert_eq!(samples.labels.iter().filter(|&&l| l == 1).count(), 30);
    assert_eq!(common::run(gan.sample(&[20, 30], 9)).unwrap(), samples, "the same seed, the same images");
    assert_ne!(common::run(gan.sample(&[20, 30], 10)).unwrap(), samples);
    // The class it is asked for shows: the square's ink, dark for 0 and bright for 1.
    let ink = |class: u8| {
        let centre: Vec<f64> = samples
            .labels
            .iter()
            .enumerate()
            .filter(|(_, l)| **l == class)
            .map(|(i, _)| {
                let img = &samples.images[i * 784..(i + 1) * 784];
                (8..20).flat_map(|y| (8..20).map(move |x| f64::from(img[y * 28 + x]))).sum::<f64>() / 144.0
            })
            .collect();
        centre.iter().sum::<f64>() / centre.len() as f64
    };
    let (dark, bright) = (ink(0), ink(1));
    println!("after 25 epochs: class 0's square {dark:.0}, class 1's {bright:.0} (real: 30 and 230)");
    assert!(bright - dark > 60.0, "the generator ignores its class: {dark:.0} vs {bright:.0}");
    // Mixed in: real training images first, then the samples; validation and test untouched.
    let mixed = samples.mixed_into(&data);
    assert_eq!(mixed.train.len(), 64 + 50);
    assert_eq!(&mixed.train.images[..64 * 784], &data.train.images[..]);
    assert_eq!(&mixed.train.images[64 * 784..], &samples.images[..]);
    assert_eq!(&mixed.train.labels[64..], &samples.labels[..]);
    assert_eq!((&mixed.val, &mixed.test), (&data.val, &data.test));
    // The Fréchet distance, here on raw pixels: a set is at 0 from itself, the samples further.
    let rows = |images: &[u8]| -> Vec<Vec<f32>> {
        images.chunks(784).map(|c| (0..49).map(|k| f32::from(c[(k / 7) * 4 * 28 + (k % 7) * 4]) / 255.0).collect()).collect()
    };
    let r = Moments::of(&rows(&data.train.images)).unwrap();
    let s = Moments::of(&rows(&samples.images)).unwrap();
    assert!(distance(&r, &r).unwrap() < 1e-3);
    assert!(distance(&r, &s).unwrap() > 1e-3);
}

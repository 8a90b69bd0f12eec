//! Grad-CAM tests: shape and range, the Adebayo et al. randomisation check, and behaviour on a
//! trained model (maps follow the object, differ between samples, respond to the class).

mod common;

use std::sync::Arc;

use breastmnist_core::Device;
use breastmnist_core::gradcam::{self, GradCamError, correlation, grad_cam_batch};
use breastmnist_core::model::{ModelConfig, ModelSize, Stage};
use breastmnist_core::train::{Schedule, TrainConfig, Trainer, run_to_end};
use breastmnist_data::Split;

#[test]
fn maps_have_the_input_shape_and_unit_range() {
    let device = Device::flex();
    let config = ModelConfig::of(ModelSize::Tiny);
    let model = config.init(&device, 0).unwrap();
    let (data, _) = common::synthetic_dataset(28, [4, 4, 4], 9);
    let images: Vec<&[u8]> = (0..4).map(|i| data.image(Split::Test, i)).collect();
    for stage in [Stage::Layer3, Stage::Layer4] {
        let maps = common::run(grad_cam_batch(&model, &config, &images, &[0, 1, 0, 1], stage, &device)).unwrap();
        assert_eq!(maps.len(), 4);
        for m in &maps {
            assert_eq!((m.side, m.values.len(), m.stage), (28, 784, stage));
            assert!(m.values.iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v)));
            let max = m.values.iter().copied().fold(0.0f32, f32::max);
            assert!(max == 1.0 || (max == 0.0 && m.raw_max == 0.0), "max {max}");
            assert!((0.0..=1.0).contains(&m.probability));
        }
    }
    // 64 px input: 64 px maps.
    let c64 = ModelConfig::of(ModelSize::Tiny).with_input_size(64);
    let m64 = c64.init(&device, 0).unwrap();
    let img = vec![128u8; 64 * 64];
    let map = common::run(gradcam::grad_cam(&m64, &c64, &img, 1, Stage::Layer3, &device)).unwrap();
    assert_eq!(map.values.len(), 64 * 64);
    // Bad inputs are typed errors.
    let err = common::run(gradcam::grad_cam(&model, &config, &img, 0, Stage::Layer3, &device)).unwrap_err();
    assert!(matches!(err, GradCamError::ImageSize { .. }));
    let err = common::run(gradcam::grad_cam(&model, &config, images[0], 2, Stage::Layer3, &device)).unwrap_err();
    assert!(matches!(err, GradCamError::Class { class: 2, num_classes: 2 }));
}

/// Mean of the map inside the blob minus the mean outside it.
fn contrast(values: &[f32], side: usize, b: common::Blob) -> f32 {
    let (mut sin, mut nin, mut sout, mut nout) = (0.0, 0, 0.0, 0);
    for y in 0..side {
        for x in 0..side {
            let v = values[y * side + x];
            if (b.x..b.x + b.size).contains(&x) && (b.y..b.y + b.size).contains(&y) {
                sin += v;
                nin += 1;
            } else {
                sout += v;
                nout += 1;
            }
        }
    }
    sin / nin as f32 - sout / nout as f32
}

#[test]
fn trained_maps_follow_the_object_differ_between_samples_and_fail_randomisation() {
    let device = Device::flex();
    let (data, blobs) = common::synthetic_dataset(28, [256, 32, 32], 21);
    let data = Arc::new(data);
    let config = TrainConfig::new()
        .with_model(ModelSize::Tiny)
        .with_epochs(4)
        .with_batch_size(32)
        .with_lr(3e-3)
        .with_schedule(Schedule::Constant)
        .with_seed(3);
    let mut trainer = Trainer::new(config, data.clone(), &device).unwrap();
    let result = common::run(run_to_end(&mut trainer, |_| {})).unwrap().unwrap();
    eprintln!("synthetic task: test AUC {:.3}", result.test.auc);
    assert!(result.test.auc > 0.95, "the blob task is learnt (AUC {})", result.test.auc);
    let (_, model) = trainer.best_model().unwrap();
    let mc = trainer.model_config().clone();

    // The label-1 (blob) test images, explained for class 1 at layer3 (7x7).
    let idx: Vec<usize> = (0..data.test.len()).filter(|&i| blobs[2][i].is_some()).collect();
    let images: Vec<&[u8]> = idx.iter().map(|&i| data.image(Split::Test, i)).collect();
    let ones = vec![1usize; idx.len()];
    let zeros = vec![0usize; idx.len()];
    let maps = common::run(grad_cam_batch(model, &mc, &images, &ones, Stage::Layer3, &device)).unwrap();

    // 1. The maps point at the blob.
    let hits = idx.iter().zip(&maps).filter(|(i, m)| contrast(&m.values, 28, blobs[2][**i].unwrap()) > 0.0).count();
    eprintln!("blob localisation: {hits}/{}", idx.len());
    assert!(hits * 10 >= idx.len() * 8, "class-1 maps highlight the blob in {hits}/{} images", idx.len());

    // 2. They differ between samples (the blobs are in different places).
    let mut corrs = Vec::new();
    for a in 0..maps.len() {
        for b in a + 1..maps.len() {
            corrs.push(correlation(&maps[a].values, &maps[b].values));
        }
    }
    let mean_pair = corrs.iter().sum::<f64>() / corrs.len() as f64;
    eprintln!("mean correlation between samples: {mean_pair:.3}");
    assert!(mean_pair < 0.5, "maps of different images are too alike ({mean_pair})");

    // 3. They respond to the chosen class.
    let maps0 = common::run(grad_cam_batch(model, &mc, &images, &zeros, Stage::Layer3, &device)).unwrap();
    let class_diff: f32 = maps
        .iter()
        .zip(&maps0)
        .map(|(a, b)| a.values.iter().zip(&b.values).map(|(x, y)| (x - y).abs()).sum::<f32>() / 784.0)
        .sum::<f32>()
        / maps.len() as f32;
    eprintln!("mean |class1 - class0| map difference: {class_diff:.3}");
    assert!(class_diff > 0.1, "class 0 and class 1 maps are too alike ({class_diff})");

    // 4. Adebayo et al.: re-initialising the weights changes the explanation substantially.
    let random = mc.init(&device, 999).unwrap();
    let rmaps = common::run(grad_cam_batch(&random, &mc, &images, &ones, Stage::Layer3, &device)).unwrap();
    let rand_corr = maps.iter().zip(&rmaps).map(|(a, b)| correlation(&a.values, &b.values)).sum::<f64>() / maps.len() as f64;
    let rand_hits = idx.iter().zip(&rmaps).filter(|(i, m)| contrast(&m.values, 28, blobs[2][**i].unwrap()) > 0.0).count();
    eprintln!("trained vs re-initialised correlation: {rand_corr:.3}; random-model localisation {rand_hits}/{}", idx.len());
    assert!(rand_corr < 0.5, "maps survive weight randomisation (correlation {rand_corr})");
}

#[test]
fn explanations_match_grad_cam_chunk_for_chunk() {
    use breastmnist_core::batch::ImageView;
    use breastmnist_core::eval;
    use breastmnist_core::explain::{activations, explain};
    let device = Device::flex();
    let config = ModelConfig::of(ModelSize::Tiny);
    let model = config.init(&device, 3).unwrap();
    let (data, _) = common::synthetic_dataset(28, [4, 4, 5], 11);
    let view = ImageView::of(&data, Split::Test);
    let whole = common::run(explain(&model, &config, &view, &[0, 1, 2, 3, 4], Stage::Layer3, &device, false)).unwrap();
    let mut parts = common::run(explain(&model, &config, &view, &[0, 1, 2], Stage::Layer3, &device, false)).unwrap();
    parts.extend(common::run(explain(&model, &config, &view, &[3, 4], Stage::Layer3, &device, false)).unwrap());
    assert_eq!((whole.len(), whole.side, whole.num_classes, whole.maps.len()), (5, 28, 2, 5 * 2 * 784));
    assert_eq!(parts.maps, whole.maps);
    // Probabilities are the model's softmax, rows sum to one.
    let probs = common::run(eval::probabilities(&model, &view, &[0, 1, 2, 3, 4], &device, false)).unwrap();
    for (a, b) in whole.probabilities.iter().zip(&probs) {
        assert!((a - b).abs() < 1e-4, "{a} vs {b}");
    }
    // With TTA the probabilities are the flip-averaged ones the run's metrics use; the maps
    // still explain the image as shown.
    let tta = common::run(explain(&model, &config, &view, &[0, 1, 2, 3, 4], Stage::Layer3, &device, true)).unwrap();
    let tta_probs = common::run(eval::probabilities(&model, &view, &[0, 1, 2, 3, 4], &device, true)).unwrap();
    assert_eq!(tta.maps, whole.maps);
    for (a, b) in tta.probabilities.iter().zip(&tta_probs) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
    // Each map is the quantised Grad-CAM of that image and class.
    for class in 0..2 {
        let map = common::run(gradcam::grad_cam(&model, &config, view.image(4), class, Stage::Layer3, &device)).unwrap();
        let q: Vec<u8> = map.values.iter().map(|v| (v * 255.0).round() as u8).collect();
        let diff = q.iter().zip(whole.map(4, class)).map(|(&a, &b)| (a as i32 - b as i32).abs()).max().unwrap();
        assert!(diff <= 1, "map of image 4, class {class} differs by {diff}");
    }
    // Activation grids: the stage's spatial size, strongest channels first, scaled to 255.
    let grid = common::run(activations(&model, &config, view.image(0), Stage::Layer3, 8, &device)).unwrap();
    assert_eq!((grid.side, grid.channels.len(), grid.values.len()), (7, 8, 8 * 49));
    assert!(grid.total_channels >= 8);
    assert!(grid.means.windows(2).all(|w| w[0] >= w[1]), "{:?}", grid.means);
    assert!(grid.values.chunks(49).zip(&grid.means).all(|(m, &mean)| mean <= 0.0 || m.contains(&255)));
    let err = common::run(activations(&model, &config, &[0u8; 10], Stage::Layer3, 8, &device)).unwrap_err();
    assert!(matches!(err, GradCamError::ImageSize { .. }));
}

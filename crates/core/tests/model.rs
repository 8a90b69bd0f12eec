//! Architecture tests: parameter counts, output and feature shapes, and memorisation.

mod common;

use breastmnist_core::Device;
use breastmnist_core::burn::module::Module;
use breastmnist_core::burn::tensor::{Tensor, TensorData};
use breastmnist_core::model::{
    C16_TRAINABLE_PARAMS, Family, ModelConfig, ModelSize, Network, RESNET18_TRAINABLE_PARAMS, RESNET50_TRAINABLE_PARAMS,
    Resample, Stage, Stem, trainable_params,
};
use breastmnist_core::train::{Schedule, TrainConfig, TrainEvent, Trainer};
use std::sync::Arc;

#[test]
fn resnet18_has_the_medmnist_parameter_count() {
    let model = ModelConfig::of(ModelSize::Resnet18).init(&Device::flex(), 0).unwrap();
    // Conv/linear weights and biases plus BatchNorm gamma/beta, counted by hand from the
    // architecture: bias-free 3x3 convs, 1x1 projection shortcuts where the shape changes.
    let conv = |cin: usize, cout: usize, k: usize| cin * cout * k * k;
    let bn = |c: usize| 2 * c;
    let block = |cin: usize, c: usize| {
        let proj = if cin != c { conv(cin, c, 1) + bn(c) } else { 0 };
        conv(cin, c, 3) + bn(c) + conv(c, c, 3) + bn(c) + proj
    };
    let stage = |cin: usize, c: usize| block(cin, c) + block(c, c);
    let by_hand = conv(1, 64, 3) + bn(64) + stage(64, 64) + stage(64, 128) + stage(128, 256) + stage(256, 512) + 512 * 2 + 2;
    assert_eq!(by_hand, 11_168_706);
    assert_eq!(trainable_params(&model), by_hand);
    assert_eq!(RESNET18_TRAINABLE_PARAMS, by_hand);
    // burn's `num_params` visits every float tensor, BatchNorm running mean and variance included
    // (non-trainable state): ResNet-18 has 4,800 BatchNorm channels, so 2 × 4,800 more.
    assert_eq!(model.num_params(), by_hand + 2 * 4_800);
}

#[test]
fn every_cnn_has_its_documented_parameter_count() {
    let device = Device::flex();
    // Eight bias-free 3x3 convolutions (1->w->w, w->2w->2w, 2w->4w->4w, 4w->8w->8w), a
    // BatchNorm after each, and Linear(8w, 2). The counts `ModelSize`'s docs state.
    let by_hand = |w: usize| {
        let conv = |cin: usize, cout: usize| cin * cout * 9;
        let pairs = [(1, w), (w, w), (w, 2 * w), (2 * w, 2 * w), (2 * w, 4 * w), (4 * w, 4 * w), (4 * w, 8 * w), (8 * w, 8 * w)];
        pairs.iter().map(|&(i, o)| conv(i, o) + 2 * o).sum::<usize>() + 8 * w * 2 + 2
    };
    for (size, stated) in [(ModelSize::C8, 73_834), (ModelSize::C16, 293_970), (ModelSize::C32, 1_173_154)] {
        assert_eq!(by_hand(size.base_width()), stated, "{size}");
        assert_eq!(trainable_params(&ModelConfig::of(size).init(&device, 0).unwrap()), stated, "{size}");
    }
    // "38 times fewer than the ResNet-18" (cnn.rs).
    assert_eq!((RESNET18_TRAINABLE_PARAMS as f64 / C16_TRAINABLE_PARAMS as f64).round(), 38.0);
}

#[test]
fn resnet18_breakdown_and_three_channel_count_are_as_documented() {
    let device = Device::flex();
    let Network::ResNet(r) = ModelConfig::of(ModelSize::Resnet18).init(&device, 0).unwrap() else {
        panic!("resnet18 is a ResNet");
    };
    let parts = [
        trainable_params(&r.conv1),
        trainable_params(&r.bn1),
        trainable_params(&r.layer1),
        trainable_params(&r.layer2),
        trainable_params(&r.layer3),
        trainable_params(&r.layer4),
        trainable_params(&r.fc),
    ];
    assert_eq!(parts, [576, 128, 147_968, 525_568, 2_099_712, 8_393_728, 1_026]);
    assert_eq!(parts.iter().sum::<usize>(), RESNET18_TRAINABLE_PARAMS);
    let rgb = ModelConfig::of(ModelSize::Resnet18).with_in_channels(3).init(&device, 0).unwrap();
    assert_eq!(trainable_params(&rgb), 11_169_858);
}

#[test]
fn lighter_members_are_smaller_and_names_round_trip() {
    let device = Device::flex();
    for family in [Family::ResNet, Family::Cnn] {
        let mut last = 0;
        for size in ModelSize::ALL.into_iter().filter(|s| s.family() == family) {
            assert_eq!(size.name().parse::<ModelSize>().unwrap(), size);
            assert_eq!(size.to_string(), size.name());
            let n = trainable_params(&ModelConfig::of(size).init(&device, 0).unwrap());
            assert!(n > last, "{size} has {n} params, not more than {last}");
            last = n;
        }
    }
    let err = "resnet101".parse::<ModelSize>().unwrap_err();
    assert!(err.to_string().contains("resnet101") && err.to_string().contains("tiny") && err.to_string().contains("c16"));
}

#[test]
fn output_and_stage_shapes_at_28_and_64_px_and_resized() {
    let device = Device::flex();
    // Lite0's stages are its own (tests/lite0.rs).
    for size in ModelSize::ALL.into_iter().filter(|&s| s != ModelSize::Lite0) {
        // Stride-2 convolutions round up, 2x2 max-pooling rounds down.
        let at28 = match size.family() {
            Family::ResNet | Family::EfficientNet => [28, 14, 7, 4],
            Family::Cnn => [28, 14, 7, 3],
        };
        let cases = [(28, None, at28), (64, None, [64, 32, 16, 8]), (28, Some(64), [64, 32, 16, 8])];
        for (side, resize, sides) in cases {
            let config = ModelConfig::of(size).with_input_size(side).with_resize(resize);
            let model = config.init(&device, 1).unwrap();
            let x = Tensor::<4>::from_data(TensorData::new(vec![0.1f32; 2 * side * side], [2, 1, side, side]), &device);
            let (logits, l3, l4) = model.valid().forward_with_features(x.clone());
            assert_eq!(logits.dims(), [2, 2], "{size} at {side}");
            let w = size.base_width() * size.expansion();
            assert_eq!(l3.dims(), [2, 4 * w, sides[2], sides[2]], "{size} layer3 at {side}->{resize:?}");
            assert_eq!(l4.dims(), [2, 8 * w, sides[3], sides[3]], "{size} layer4 at {side}->{resize:?}");
            for (stage, s) in [Stage::Layer1, Stage::Layer2, Stage::Layer3, Stage::Layer4].into_iter().zip(sides) {
                assert_eq!(config.stage_side(stage), s);
                assert_eq!(config.stage_channels(stage), model.valid().forward_to(x.clone(), stage).dims()[1]);
            }
        }
    }
}

#[test]
fn resnet50_and_the_torchvision_stem_count_what_torchvision_counts() {
    let device = Device::flex();
    let r50 = ModelConfig::of(ModelSize::Resnet50).init(&device, 0).unwrap();
    assert!(matches!(r50, Network::BottleneckResNet(_)));
    assert_eq!(trainable_params(&r50), RESNET50_TRAINABLE_PARAMS);
    // torchvision's resnet18 and resnet50 as built by `resnet18()`/`resnet50()`: RGB, 1000
    // classes, the 7x7 stem (their published parameter counts).
    let imagenet = |size| ModelConfig::of(size).with_in_channels(3).with_num_classes(1000).with_stem(Stem::Torchvision);
    assert_eq!(trainable_params(&imagenet(ModelSize::Resnet18).init(&device, 0).unwrap()), 11_689_512);
    assert_eq!(trainable_params(&imagenet(ModelSize::Resnet50).init(&device, 0).unwrap()), 25_557_032);
    assert!(ModelConfig::of(ModelSize::C16).with_stem(Stem::Torchvision).init(&device, 0).is_err());
}

#[test]
fn the_torchvision_stem_takes_224_px_to_56_then_halves_per_stage() {
    let device = Device::flex();
    for size in [ModelSize::Tiny, ModelSize::Resnet50] {
        let config = ModelConfig::of(size).with_stem(Stem::Torchvision).with_resize(Some(224)).with_resample(Resample::Nearest);
        let model = config.init(&device, 2).unwrap().valid();
        let x = Tensor::<4>::from_data(TensorData::new(vec![0.3f32; 28 * 28], [1, 1, 28, 28]), &device);
        for (stage, side) in Stage::ALL.into_iter().zip([56, 56, 28, 14, 7]) {
            assert_eq!(config.stage_side(stage), side, "{size} {stage}");
            let dims = model.forward_to(x.clone(), stage).dims();
            assert_eq!(dims, [1, config.stage_channels(stage), side, side], "{size} {stage}");
        }
        assert_eq!(model.forward(x).dims(), [1, 2]);
    }
}

#[test]
fn same_seed_same_weights_other_seed_other_weights() {
    let device = Device::flex();
    let c = ModelConfig::of(ModelSize::Tiny);
    let w = |seed| c.init(&device, seed).unwrap().fc_weight().into_data().try_into_vec::<f32>().unwrap();
    assert_eq!(w(3), w(3));
    assert_ne!(w(3), w(4));
}

#[test]
fn bad_model_configs_are_errors() {
    let device = Device::flex();
    assert!(ModelConfig::of(ModelSize::Tiny).with_input_size(4).init(&device, 0).is_err());
    assert!(ModelConfig::of(ModelSize::Tiny).with_in_channels(2).init(&device, 0).is_err());
    assert!(ModelConfig::of(ModelSize::Tiny).with_resize(Some(1000)).init(&device, 0).is_err());
}

#[test]
fn tiny_model_memorises_32_noise_images() {
    let data = Arc::new(common::noise_dataset(28, 32, 11));
    let config = TrainConfig::new()
        .with_model(ModelSize::Tiny)
        .with_epochs(400)
        .with_batch_size(32)
        .with_lr(3e-3)
        .with_schedule(Schedule::Constant)
        .with_seed(1);
    let mut trainer = Trainer::new(config, data, &Device::flex()).unwrap();
    let mut first = None;
    let mut last = f64::INFINITY;
    let mut steps = 0;
    'outer: while steps < 400 {
        for ev in common::run(trainer.step()).unwrap() {
            if let TrainEvent::Step { loss, .. } = ev {
                steps += 1;
                first.get_or_insert(loss);
                last = loss;
                if loss < 0.05 {
                    break 'outer;
                }
            }
        }
    }
    eprintln!("memorisation: loss {first:?} -> {last} in {steps} steps");
    assert!(first.unwrap() > 0.5, "starts near ln 2");
    assert!(last < 0.05, "loss {last} after {steps} steps");
}

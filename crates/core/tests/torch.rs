//! PyTorch interchange: weights out as `.safetensors` and back in exactly (MedMNIST's 28 px
//! ResNets, its 224 px torchvision ResNets, our CNNs); a `.pt` written in torch.save's layout
//! (by Python's pickle, tests/fixtures/safetensors_to_pt.py) imports and predicts like the
//! model it came from; an RGB stem on grayscale data folds; PyTorch's Linear convention holds.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use breastmnist_core::Device;
use breastmnist_core::batch::{Batcher, ImageView};
use breastmnist_core::burn::tensor::Tensor;
use breastmnist_core::checkpoint::{self, Checkpoint};
use breastmnist_core::model::{ModelConfig, ModelSize, Network, Resample, Stage, Stem};
use breastmnist_core::rng::Rng;
use breastmnist_core::torch::{self, Format};
use breastmnist_core::train::{TrainConfig, Trainer};
use breastmnist_core::{eval, read, weights};
use breastmnist_data::{Dataset, Split};

/// A tiny model after a few training steps (BatchNorm statistics away from their defaults)
/// and its checkpoint.
fn trained(size: ModelSize) -> (Arc<Dataset>, Network, Checkpoint) {
    let (data, _) = common::synthetic_dataset(28, [64, 16, 16], 4);
    let data = Arc::new(data);
    let config = TrainConfig::new().with_model(size).with_epochs(1).with_batch_size(16).with_seed(3);
    let mut trainer = Trainer::new(config, data.clone(), &Device::flex()).unwrap();
    for _ in 0..4 {
        common::run(trainer.step()).unwrap();
    }
    let model = trainer.current_model().unwrap();
    let ckpt = Checkpoint::from_bytes(&checkpoint::save(&model, trainer.model_config()).unwrap()).unwrap();
    (data, model, ckpt)
}

fn scores(model: &Network, data: &Dataset) -> Vec<f32> {
    common::run(eval::scores(model, &ImageView::of(data, Split::Test), &Device::flex(), false)).unwrap()
}

#[test]
fn weights_out_and_back_in_are_exact_and_predict_the_same() {
    for size in [ModelSize::Tiny, ModelSize::C8] {
        let (data, model, ckpt) = trained(size);
        let file = common::run(torch::to_safetensors(&ckpt)).unwrap();
        assert_eq!(Format::sniff(&file), Some(Format::Safetensors));
        let back = torch::checkpoint_from_bytes(&file, 28, 1, None).unwrap();
        assert_eq!(back.config, ckpt.config, "{size}: the architecture is inferred from names and shapes");
        let again = back.load(&Device::flex()).unwrap();
        let values = |m: &Network| {
            common::run(weights::read(m)).unwrap().into_iter().map(|n| (n.path, n.shape, n.values)).collect::<Vec<_>>()
        };
        assert_eq!(values(&again), values(&model), "{size}: every tensor comes back bit for bit");
        assert_eq!(scores(&again, &data), scores(&model, &data));
    }
}

/// A model of `config` with every tensor drawn at random (BatchNorm variances positive), so a
/// name or a layout mixed up anywhere changes the predictions; and its checkpoint.
fn random_model(config: &ModelConfig, seed: u64) -> (Network, Checkpoint) {
    let cpu = Device::flex();
    let mut rng = Rng::new(seed);
    let values: HashMap<_, _> = weights::shapes(&config.init(&cpu, 0).unwrap())
        .into_iter()
        .map(|(path, shape)| {
            let n: usize = shape.iter().product();
            let (lo, hi) = if path.ends_with("running_var") { (0.5, 1.5) } else { (-0.3, 0.3) };
            (path, (None, (0..n).map(|_| rng.uniform(lo, hi)).collect()))
        })
        .collect();
    let model = weights::build(config, &cpu, values).unwrap();
    let ckpt = Checkpoint::from_bytes(&checkpoint::save(&model, config).unwrap()).unwrap();
    (model, ckpt)
}

/// MedMNIST's 224 px rows: torchvision's stem on the 28 px images upsampled 8x by nearest
/// neighbours.
fn torchvision(size: ModelSize) -> ModelConfig {
    ModelConfig::of(size).with_stem(Stem::Torchvision).with_resize(Some(224)).with_resample(Resample::Nearest)
}

#[test]
fn resnet50s_and_torchvision_models_go_out_under_their_modules_names_and_come_back_exactly() {
    let (data, _) = common::synthetic_dataset(28, [8, 8, 8], 6);
    for config in [ModelConfig::of(ModelSize::Resnet50), torchvision(ModelSize::Tiny), torchvision(ModelSize::Resnet18)] {
        let (model, ckpt) = random_model(&config, 11);
        let dict = common::run(torch::state_dict(&model, &config)).unwrap();
        let name = format!("{} {}", config.size, config.stem.name());
        let w = config.size.base_width();
        match config.stem {
            // torchvision's module: `fc`, `downsample`, an RGB stem.
            Stem::Torchvision => {
                assert_eq!(dict["conv1.weight"].shape, vec![w, 3, 7, 7], "{name}");
                assert_eq!(dict["fc.weight"].shape, vec![2, 8 * w], "{name}");
                assert!(dict.contains_key("layer2.0.downsample.1.running_var"), "{name}");
                assert!(!dict.keys().any(|k| k.starts_with("linear.") || k.contains("shortcut")), "{name}");
            }
            // MedMNIST's models.py: Bottlenecks named conv1-3/bn1-3, `shortcut`, `linear`.
            Stem::Medmnist => {
                assert_eq!(dict["conv1.weight"].shape, vec![64, 1, 3, 3]);
                assert_eq!(dict["layer1.0.conv3.weight"].shape, vec![256, 64, 1, 1]);
                assert_eq!(dict["layer1.0.shortcut.0.weight"].shape, vec![256, 64, 1, 1]);
                assert_eq!(dict["layer4.2.bn3.running_mean"].shape, vec![2048]);
                assert_eq!(dict["linear.weight"].shape, vec![2, 2048]);
                assert_eq!(dict.keys().filter(|k| k.ends_with(".conv3.weight")).count(), 3 + 4 + 6 + 3);
            }
        }
        let file = common::run(torch::to_safetensors(&ckpt)).unwrap();
        let back = torch::checkpoint_from_bytes(&file, 28, 1, None).unwrap();
        assert_eq!(back.config, config, "{name}: architecture, stem and upsampling inferred from names and shapes");
        let again = back.load(&Device::flex()).unwrap();
        let values = |m: &Network| {
            common::run(weights::read(m)).unwrap().into_iter().map(|n| (n.path, n.shape, n.values)).collect::<Vec<_>>()
        };
        assert_eq!(values(&again), values(&model), "{name}: every tensor comes back bit for bit");
        assert_eq!(scores(&again, &data), scores(&model, &data), "{name}");
    }
}

/// MedMNIST's torchvision models see `as_rgb` copies of the grayscale images: imported on
/// grayscale data, the folded stem gives what the RGB model gives on three equal channels.
#[test]
fn an_rgb_stem_imported_for_grayscale_data_predicts_what_the_rgb_model_predicts_on_copies() {
    let rgb = torchvision(ModelSize::Tiny).with_in_channels(3);
    let (model, _) = random_model(&rgb, 12);
    let dict = common::run(torch::state_dict(&model, &rgb)).unwrap();
    assert_eq!(dict["conv1.weight"].shape, vec![8, 3, 7, 7]);
    let gray = torch::to_checkpoint(dict, 28, 1, None).unwrap();
    assert_eq!(gray.config, torchvision(ModelSize::Tiny));
    let folded = gray.load(&Device::flex()).unwrap();
    let mut rng = Rng::new(4);
    let x: Vec<f32> = (0..4 * 28 * 28).map(|_| rng.uniform(-1.0, 1.0)).collect();
    let x = Tensor::<4>::from_data(breastmnist_core::burn::tensor::TensorData::new(x, [4, 1, 28, 28]), &Device::flex());
    let ours = common::run(read::read_f32(folded.forward(x.clone()))).unwrap();
    let theirs = common::run(read::read_f32(model.forward(Tensor::cat(vec![x.clone(), x.clone(), x], 1)))).unwrap();
    let scale = theirs.iter().fold(0f32, |m, v| m.max(v.abs()));
    for (a, b) in ours.iter().zip(&theirs) {
        assert!((a - b).abs() <= 1e-5 * scale, "{ours:?} vs {theirs:?}");
    }
}

/// PyTorch's `linear.weight` is `[out, in]` and `y = x Wᵀ + b`: the exported head computed by
/// hand that way gives the model's logits.
#[test]
fn the_exported_head_follows_pytorchs_linear_convention() {
    let (data, model, ckpt) = trained(ModelSize::Tiny);
    let dict = common::run(torch::state_dict(&model, &ckpt.config)).unwrap();
    let (w, b) = (&dict["linear.weight"], &dict["linear.bias"]);
    assert_eq!(w.shape, vec![2, 64]);
    let view = ImageView::of(&data, Split::Test);
    let batch = Batcher::eval().host_batch(&view, &[0, 1, 2, 3], &mut Rng::new(0));
    let x = batch.images(&Device::flex());
    let l4 = model.forward_to(x.clone(), Stage::Layer4);
    let [n, c, h, wd] = l4.dims();
    let l4 = common::run(read::read_f32(l4)).unwrap();
    let logits = common::run(read::read_f32(model.forward(x))).unwrap();
    assert_eq!(c, 64);
    for i in 0..n {
        // Global average pooling by hand.
        let f: Vec<f32> =
            (0..c).map(|k| l4[(i * c + k) * h * wd..(i * c + k + 1) * h * wd].iter().sum::<f32>() / (h * wd) as f32).collect();
        for o in 0..2 {
            let by_hand: f32 = b.values[o] + (0..64).map(|k| w.values[o * 64 + k] * f[k]).sum::<f32>();
            assert!((by_hand - logits[i * 2 + o]).abs() < 1e-4, "image {i} class {o}: {by_hand} vs {}", logits[i * 2 + o]);
        }
    }
    for bn in ["bn1", "layer2.0.shortcut.1"] {
        assert!(dict[&format!("{bn}.running_var")].values.iter().all(|&v| v > 0.0));
        assert!(dict[&format!("{bn}.running_mean")].values.iter().any(|&v| v != 0.0), "{bn}: trained statistics");
    }
}

/// A `.pt` as torch.save writes it (ZIP, pickle protocol 2, storages by persistent id), nested
/// under `net` like MedMNIST's experiments save it, with `num_batches_tracked` int64 scalars.
#[test]
fn a_pytorch_pt_file_imports_and_predicts_like_its_model() {
    let (data, model, ckpt) = trained(ModelSize::Tiny);
    let dir = std::env::temp_dir().join(format!("bmn-torch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let st = dir.join("tiny.safetensors");
    let pt = dir.join("tiny.pt");
    std::fs::write(&st, common::run(torch::to_safetensors(&ckpt)).unwrap()).unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/safetensors_to_pt.py");
    let out = Command::new("python3").arg(&script).arg(&st).arg(&pt).args(["--nest", "net"]).output().expect("python3 runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bytes = std::fs::read(&pt).unwrap();
    assert_eq!(Format::sniff(&bytes), Some(Format::Pytorch));
    // Read from memory (the browser's way) and by burn's file reader: the same tensors.
    let from_memory = torch::read_pytorch_bytes(&bytes).unwrap();
    let dict = torch::read_pytorch_file(&pt).unwrap();
    assert_eq!(from_memory.len(), dict.len());
    for (name, t) in &dict {
        let ours = &from_memory[name];
        assert!(ours.shape == t.shape && ours.values == t.values, "{name} differs between the two readers");
    }
    let in_memory = torch::checkpoint_from_bytes(&bytes, 28, 1, None).unwrap();
    assert_eq!(scores(&in_memory.load(&Device::flex()).unwrap(), &data), scores(&model, &data));

    assert!(dict.contains_key("net.layer1.0.conv1.weight"), "{:?}", dict.keys().take(4).collect::<Vec<_>>());
    let imported = torch::to_checkpoint(dict, 28, 1, None).unwrap();
    assert_eq!(imported.config, ckpt.config);
    let loaded = imported.load(&Device::flex()).unwrap();
    assert_eq!(scores(&loaded, &data), scores(&model, &data));
    std::fs::remove_dir_all(&dir).ok();
}

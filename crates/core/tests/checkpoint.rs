//! Checkpoint tests: round trips, sync/async equality, typed errors.

mod common;

use std::sync::Arc;

use breastmnist_core::Device;
use breastmnist_core::batch::ImageView;
use breastmnist_core::checkpoint::{self, Checkpoint, CheckpointError};
use breastmnist_core::eval;
use breastmnist_core::model::{ModelConfig, ModelSize};
use breastmnist_core::train::{TrainConfig, TrainError, Trainer};
use breastmnist_data::Split;

#[test]
fn round_trip_gives_identical_predictions() {
    let (data, _) = common::synthetic_dataset(28, [64, 16, 16], 4);
    let data = Arc::new(data);
    let config = TrainConfig::new().with_model(ModelSize::Tiny).with_epochs(1).with_batch_size(16).with_seed(2);
    let mut trainer = Trainer::new(config, data.clone(), &Device::flex()).unwrap();
    for _ in 0..4 {
        common::run(trainer.step()).unwrap();
    }
    let model = trainer.current_model().unwrap();
    let device = Device::flex();
    let bytes = checkpoint::save(&model, trainer.model_config()).unwrap();
    assert_eq!(&bytes[..8], checkpoint::MAGIC);
    // The async path (the one WebGPU needs) writes an equivalent checkpoint: same layout and
    // size (only the ids burn gives BatchNorm running statistics may differ), same weights.
    let async_bytes = common::run(checkpoint::save_async(&model, trainer.model_config())).unwrap();
    assert_eq!(bytes.len(), async_bytes.len());

    let ckpt = Checkpoint::from_bytes(&bytes).unwrap();
    assert_eq!(&ckpt.config, trainer.model_config());
    let loaded = ckpt.load_as(trainer.model_config(), &device).unwrap();
    let view = ImageView::of(&data, Split::Test);
    let before = common::run(eval::scores(&model, &view, &device, false)).unwrap();
    let after = common::run(eval::scores(&loaded, &view, &device, false)).unwrap();
    assert_eq!(before, after);
    let from_async = Checkpoint::from_bytes(&async_bytes).unwrap().load(&device).unwrap();
    assert_eq!(before, common::run(eval::scores(&from_async, &view, &device, false)).unwrap());
    // Trained weights differ from a fresh init's, so the round trip is not trivially equal.
    let fresh = trainer.model_config().init(&device, 2).unwrap();
    let fresh_scores = common::run(eval::scores(&fresh, &view, &device, false)).unwrap();
    assert_ne!(before, fresh_scores);
}

#[test]
fn mismatched_architecture_is_a_typed_error_naming_both() {
    let device = Device::flex();
    let tiny = ModelConfig::of(ModelSize::Tiny);
    let bytes = checkpoint::save(&tiny.init(&device, 0).unwrap(), &tiny).unwrap();
    let ckpt = Checkpoint::from_bytes(&bytes).unwrap();
    let err = ckpt.load_as(&ModelConfig::of(ModelSize::Resnet18), &device).unwrap_err();
    match &err {
        CheckpointError::Mismatch { expected, found, .. } => {
            assert_eq!((expected.as_str(), found.as_str()), ("resnet18", "tiny"));
        }
        other => panic!("expected Mismatch, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("tiny") && msg.contains("resnet18"), "{msg}");

    // A header that lies about the architecture: the weights do not fit.
    let mut forged = Checkpoint::from_bytes(&bytes).unwrap();
    forged.config = ModelConfig::of(ModelSize::Small);
    let err = Checkpoint::from_bytes(&forged.to_bytes()).unwrap().load(&device).unwrap_err();
    assert!(matches!(err, CheckpointError::Weights { .. }), "{err:?}");

    assert_eq!(Checkpoint::from_bytes(b"not a checkpoint"), Err(CheckpointError::Magic));
}

/// A checkpoint header is checked before anything is allocated: an absurd class count is a
/// typed error at parse time, and a plausible but wrong one (3 classes, over a 2-class
/// record) is refused before evaluation or fine-tuning on BreastMNIST's two labels.
#[test]
fn forged_class_counts_are_typed_errors() {
    let device = Device::flex();
    let tiny = ModelConfig::of(ModelSize::Tiny);
    let bytes = checkpoint::save(&tiny.init(&device, 0).unwrap(), &tiny).unwrap();
    let json_len = u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize;
    let forge = |classes: &str| {
        let json = String::from_utf8(bytes[12..12 + json_len].to_vec())
            .unwrap()
            .replace("\"num_classes\":2", &format!("\"num_classes\":{classes}"));
        let mut out = checkpoint::MAGIC.to_vec();
        out.extend_from_slice(&(json.len() as u32).to_le_bytes());
        out.extend_from_slice(json.as_bytes());
        out.extend_from_slice(&bytes[12 + json_len..]);
        out
    };
    let err = Checkpoint::from_bytes(&forge("99999999999")).unwrap_err();
    assert!(matches!(err, CheckpointError::Model(breastmnist_core::model::ModelError::Classes(99_999_999_999))), "{err:?}");
    let three = Checkpoint::from_bytes(&forge("3")).unwrap();
    let data = Arc::new(common::synthetic_dataset(28, [8, 4, 4], 1).0);
    let err = common::run(breastmnist_core::train::evaluate_checkpoint(&three, &data, &device, false)).unwrap_err();
    assert!(matches!(err, TrainError::Classes { got: 3, expected: 2 }), "{err:?}");
    // Fine-tuning would keep its features and replace its head, but its weights are not the
    // 3-class network its header promises: a typed error, not a panic.
    let err = Trainer::from_checkpoint(TrainConfig::new().with_epochs(1), data, &three, &device).err().unwrap();
    assert!(matches!(err, TrainError::Checkpoint(_)), "{err:?}");
}

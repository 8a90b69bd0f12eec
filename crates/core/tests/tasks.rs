//! Training on data other than two classes: a synthetic 4-class RGB file and a synthetic
//! 3-label file (breastmnist_data::synthetic) train `c8` for a few epochs on flex and separate
//! their own test split (AUC > 0.9); the run carries the Evaluator's report with every image's
//! k probabilities, its result files re-score to the same figures, and a saved checkpoint
//! evaluates to the same report.

mod common;

use std::sync::Arc;

use breastmnist_core::evaluator::{self, Confusions};
use breastmnist_core::model::ModelSize;
use breastmnist_core::result_file;
use breastmnist_core::train::{TrainConfig, TrainError, Trainer, run_to_end};
use breastmnist_core::{Device, checkpoint};
use breastmnist_data::synthetic::{Spec, npz};
use breastmnist_data::{Dataset, DecodeOptions, Flag, Split, Targets, Task, catalog, decode_npz};

fn dataset(spec: &Spec) -> Arc<Dataset> {
    let options = DecodeOptions {
        max_member_bytes: 1 << 24,
        split_sizes: Some(spec.splits),
        channels: Some(spec.channels),
        side: Some(spec.side),
        targets: catalog::targets(spec.task, spec.classes),
        every_class: true,
    };
    Arc::new(decode_npz(&npz(spec), &options).unwrap())
}

fn recipe() -> TrainConfig {
    TrainConfig::new().with_model(ModelSize::C8).with_epochs(6).with_batch_size(32).with_lr(3e-3).with_seed(0)
}

/// Trains, checks the report and the result files, and returns the run.
fn train_and_check(spec: &Spec, flag: Flag) -> breastmnist_core::RunResult {
    let data = dataset(spec);
    let mut trainer = Trainer::new(recipe(), data.clone(), &Device::flex()).unwrap();
    assert_eq!(trainer.model_config().num_classes, spec.classes);
    assert_eq!(trainer.model_config().in_channels, spec.channels);
    let result = common::run(run_to_end(&mut trainer, |_| {})).unwrap().unwrap();
    let task = result.task.as_ref().expect("a k-class report");
    assert_eq!((task.classes, task.task), (spec.classes, spec.task));
    assert!(task.test.auc > 0.9, "{:?} test AUC {}", spec.task, task.test.auc);
    assert_eq!((result.test.auc, result.test.acc), (task.test.auc, task.test.acc));
    assert_eq!(task.test.per_class_auc.len(), spec.classes);
    assert_eq!(task.test_probabilities.len(), spec.splits[2] * spec.classes);
    assert!(result.test.predictions.is_empty() && result.val_predictions.is_empty(), "no binary figures");
    // The kept epoch's validation AUC is the one reported.
    let kept = &result.history[result.best_epoch - 1];
    assert!((kept.val_auc - task.val.auc).abs() < 1e-12);

    // Result files: k columns that re-score to the same numbers.
    let files = result_file::result_files_for(&result, flag, "c8-seed0");
    assert_eq!(files.len(), 2);
    for (file, split, m) in [(&files[0], Split::Val, &task.val), (&files[1], Split::Test, &task.test)] {
        let name = result_file::parse_standard_name(&file.name).unwrap();
        assert_eq!((name.flag, name.split), (flag, split));
        let table = result_file::parse_table(&file.contents).unwrap();
        assert_eq!(table.k, spec.classes);
        let again = evaluator::evaluate(spec.task, data.targets, &data.split(split).labels, &table.scores, table.k).unwrap();
        assert_eq!((again.auc, again.acc), (m.auc, m.acc), "{}", file.name);
    }

    // The kept model, saved and evaluated as an imported checkpoint, reports the same test figures.
    let (_, model) = trainer.best_model().unwrap();
    let bytes = checkpoint::save(model, trainer.model_config()).unwrap();
    let ckpt = checkpoint::Checkpoint::from_bytes(&bytes).unwrap();
    let (imported, _) = common::run(breastmnist_core::train::evaluate_checkpoint(&ckpt, &data, &Device::flex(), false)).unwrap();
    let again = imported.task.unwrap();
    assert!((again.test.auc - task.test.auc).abs() < 1e-6 && (again.test.acc - task.test.acc).abs() < 1e-6);
    result
}

#[test]
fn a_four_class_rgb_set_trains_and_reports_a_four_by_four_confusion() {
    let spec = Spec { task: Task::MultiClass, classes: 4, channels: 3, side: 28, splits: [192, 48, 64], seed: 3 };
    let result = train_and_check(&spec, Flag::Derma);
    let task = result.task.unwrap();
    match &task.test.confusion {
        Confusions::Classes(m) => {
            assert_eq!((m.len(), m[0].len()), (4, 4));
            assert_eq!(m.iter().flatten().sum::<u32>(), 64);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_three_label_set_trains_with_a_sigmoid_head() {
    let spec = Spec { task: Task::MultiLabel, classes: 3, channels: 1, side: 28, splits: [192, 48, 64], seed: 4 };
    let result = train_and_check(&spec, Flag::Chest);
    assert!(result.model.multi_label);
    let task = result.task.unwrap();
    // Sigmoid outputs: a row need not sum to one.
    assert!(task.test_probabilities.chunks(3).any(|r| (r.iter().sum::<f32>() - 1.0).abs() > 0.1));
    match &task.test.confusion {
        Confusions::PerLabel(m) => assert_eq!(m.len(), 3),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_checkpoint_of_other_classes_transfers_its_features_with_a_fresh_head() {
    let four = Spec { task: Task::MultiClass, classes: 4, channels: 1, side: 16, splits: [16, 8, 8], seed: 1 };
    let data = dataset(&four);
    let two = common::synthetic_dataset(16, [16, 8, 8], 1).0;
    let config = TrainConfig::new().with_model(ModelSize::C8).with_epochs(1);
    let trainer = Trainer::new(config.clone(), Arc::new(two), &Device::flex()).unwrap();
    let source = trainer.current_model().unwrap();
    let bytes = checkpoint::save(&source, trainer.model_config()).unwrap();
    let ckpt = checkpoint::Checkpoint::from_bytes(&bytes).unwrap();
    // Evaluating a two-class model on four classes is refused...
    let err = common::run(breastmnist_core::train::evaluate_checkpoint(&ckpt, &data, &Device::flex(), false)).unwrap_err();
    assert!(matches!(err, TrainError::Classes { got: 2, expected: 4 }), "{err:?}");
    // ...fine-tuning keeps its features and gives it a fresh four-way classifier.
    let tuned = Trainer::from_checkpoint(config, data.clone(), &ckpt, &Device::flex()).unwrap();
    assert_eq!(tuned.model_config().num_classes, 4);
    let model = tuned.current_model().unwrap();
    assert_eq!(model.fc_weight().dims()[1], 4);
    let image = breastmnist_core::batch::Batcher::eval().host_batch(
        &breastmnist_core::batch::ImageView::of(&data, Split::Train),
        &[0, 1],
        &mut breastmnist_core::rng::Rng::new(0),
    );
    let features = |m: &breastmnist_core::Network| {
        m.forward_to(image.images(&Device::flex()), breastmnist_core::model::Stage::Layer4)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap()
    };
    assert_eq!(features(&model), features(&source), "the features are the checkpoint's");
    // Images only cannot be trained on.
    let unlabeled = Arc::new(Dataset { targets: Targets::Unlabeled, ..(*data).clone() });
    let err = Trainer::new(TrainConfig::new().with_epochs(1), unlabeled, &Device::flex()).err().unwrap();
    assert!(matches!(err, TrainError::Unlabeled), "{err:?}");
}

#[test]
fn a_snapshot_resumes_only_on_data_with_its_outputs() {
    let four = Spec { task: Task::MultiClass, classes: 4, channels: 1, side: 16, splits: [32, 8, 8], seed: 2 };
    let data = dataset(&four);
    let config = TrainConfig::new().with_model(ModelSize::C8).with_epochs(2).with_batch_size(16);
    let mut trainer = Trainer::new(config, data.clone(), &Device::flex()).unwrap();
    while trainer.history().is_empty() {
        common::run(trainer.step()).unwrap();
    }
    let snap = common::run(trainer.snapshot()).unwrap();
    assert!(Trainer::resume(&snap, data, &Device::flex()).is_ok());
    // The same snapshot on two-class data would score four outputs as two: refused.
    let two = Arc::new(common::synthetic_dataset(16, [32, 8, 8], 1).0);
    let err = Trainer::resume(&snap, two, &Device::flex()).err().unwrap();
    assert!(matches!(err, TrainError::Classes { got: 4, expected: 2 }), "{err:?}");
}

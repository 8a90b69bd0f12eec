//! Training-loop tests: determinism, resuming, fine-tuning, divergence, small-step control.

mod common;

use std::sync::Arc;

use breastmnist_core::Device;
use breastmnist_core::batch::Augmentation;
use breastmnist_core::checkpoint::Checkpoint;
use breastmnist_core::model::ModelSize;
use breastmnist_core::train::{Phase, Schedule, TrainConfig, TrainError, TrainEvent, TrainFailure, Trainer, run_to_end};
use breastmnist_data::{Dataset, Split};

fn data() -> Arc<Dataset> {
    Arc::new(common::real_dataset("breastmnist.npz").unwrap_or_else(|| common::synthetic_dataset(28, [546, 78, 156], 1).0))
}

fn tiny(seed: u64) -> TrainConfig {
    TrainConfig::new()
        .with_model(ModelSize::Tiny)
        .with_epochs(2)
        .with_batch_size(32)
        .with_subset(Some(96))
        .with_seed(seed)
        .with_augment(Augmentation::Full)
        .with_mixup(Some(0.4))
}

fn full_run(config: TrainConfig, data: Arc<Dataset>) -> (Vec<TrainEvent>, breastmnist_core::RunResult) {
    let mut trainer = Trainer::new(config, data, &Device::flex()).unwrap();
    let mut events = Vec::new();
    let result = common::run(run_to_end(&mut trainer, |e| events.push(e.clone()))).unwrap().unwrap();
    (events, result)
}

#[test]
fn same_seed_gives_identical_histories_and_predictions() {
    let d = data();
    let (ev_a, a) = full_run(tiny(7), d.clone());
    let (ev_b, b) = full_run(tiny(7), d.clone());
    assert_eq!(a.history.len(), 2);
    assert!(ev_a == ev_b, "every step loss, epoch metric and prediction must match");
    // Every event survives JSON (what a worker or the export would send).
    for e in &ev_a {
        let back: TrainEvent = serde_json::from_str(&serde_json::to_string(e).unwrap()).unwrap();
        assert!(&back == e, "{e:?} does not round-trip");
    }
    assert!(a == b, "identical results");
    let (_, c) = full_run(tiny(8), d);
    assert_ne!(a.history, c.history, "another seed gives another run");
}

#[test]
fn steps_are_small_and_events_are_in_order() {
    let d = data();
    let mut trainer = Trainer::new(tiny(1).with_epochs(1), d.clone(), &Device::flex()).unwrap();
    assert_eq!(trainer.steps_per_epoch(), 3);
    let mut kinds = Vec::new();
    while !trainer.is_finished() {
        let events = common::run(trainer.step()).unwrap();
        assert!(!events.is_empty() && events.len() <= 2, "{events:?}");
        let steps = events.iter().filter(|e| matches!(e, TrainEvent::Step { .. })).count();
        assert!(steps <= 1);
        for e in events {
            kinds.push(match e {
                TrainEvent::Step { .. } => "step",
                TrainEvent::Eval { .. } => "eval",
                TrainEvent::Epoch(_) => "epoch",
                TrainEvent::Done(_) => "done",
                TrainEvent::Error(_) => "error",
            });
        }
    }
    // 3 steps, val (78 images = 1 chunk) + epoch, test (156 images = 2 chunks) + done.
    assert_eq!(kinds, ["step", "step", "step", "eval", "epoch", "eval", "eval", "done"]);
    assert_eq!(trainer.phase(), &Phase::Done);
    assert!(common::run(trainer.step()).unwrap().is_empty());
    let r = trainer.result().unwrap();
    assert_eq!(r.test.predictions.len(), d.test.len());
    assert!(r.test.predictions.iter().enumerate().all(|(i, p)| p.index == i && p.label == d.test.labels[i]));
}

#[test]
fn snapshot_and_resume_continue_the_run() {
    let d = data();
    let config = tiny(3).with_epochs(2).with_augment(Augmentation::None).with_mixup(None);
    let mut trainer = Trainer::new(config.clone(), d.clone(), &Device::flex()).unwrap();
    // Mid-epoch snapshots are refused.
    common::run(trainer.step()).unwrap();
    assert!(common::run(trainer.snapshot()).is_err());
    while trainer.history().is_empty() {
        common::run(trainer.step()).unwrap();
    }
    let snap = common::run(trainer.snapshot()).unwrap();
    assert_eq!(snap.state.next_epoch, 2);
    assert!(snap.best.is_some());
    // Snapshots travel as bytes (the browser stores them after every epoch).
    let bytes = snap.to_bytes();
    let snap = breastmnist_core::train::Snapshot::from_bytes(&bytes).unwrap();
    assert_eq!(snap.to_bytes(), bytes);
    for bad in [&bytes[..bytes.len() - 1], &bytes[1..], b"BMNSNAP1".as_slice()] {
        assert!(matches!(breastmnist_core::train::Snapshot::from_bytes(bad), Err(TrainError::State(_))));
    }
    let mut resumed = Trainer::resume(&snap, d.clone(), &Device::flex()).unwrap();
    assert_eq!(resumed.phase(), &Phase::Train { epoch: 2, step: 0 });
    let r = common::run(run_to_end(&mut resumed, |_| {})).unwrap().unwrap();
    assert_eq!(r.history.len(), 2);
    assert_eq!(r.history[0], trainer.history()[0]);
    // The resumed model starts from the snapshot's weights: its first-epoch row is carried over
    // and the second epoch trains on (the run is complete, with test predictions).
    assert_eq!(r.test.predictions.len(), d.test.len());

    // The kept model, exported and imported again, evaluates to the run's own test metrics.
    let ckpt = Checkpoint::from_bytes(&common::run(resumed.best_checkpoint()).unwrap().unwrap()).unwrap();
    let (imported, _) = common::run(breastmnist_core::train::evaluate_checkpoint(&ckpt, &d, &Device::flex(), false)).unwrap();
    assert!((imported.test.auc - r.test.auc).abs() < 1e-9, "{} vs {}", imported.test.auc, r.test.auc);
    assert_eq!(imported.test.confusion, r.test.confusion);
    assert_eq!((imported.best_epoch, imported.history.len()), (0, 0));
    // Evaluated with progress reports: validation's chunks, then test's, each ending at its
    // split's size, and the same result.
    let mut reports = Vec::new();
    let (reported, _) = common::run(breastmnist_core::train::evaluate_checkpoint_reporting(
        &ckpt,
        &d,
        &Device::flex(),
        false,
        &mut |split, done, total| reports.push((split, done, total)),
    ))
    .unwrap();
    assert_eq!(reported.test.auc, imported.test.auc);
    assert_eq!(reports.first().map(|r| r.0), Some(Split::Val));
    assert_eq!(reports.last(), Some(&(Split::Test, d.test.len(), d.test.len())));
    assert!(reports.contains(&(Split::Val, d.val.len(), d.val.len())), "{reports:?}");
    assert!(reports.windows(2).all(|w| w[0].0 != w[1].0 || w[0].1 < w[1].1), "progress only grows: {reports:?}");
}

#[test]
fn fine_tuning_with_a_frozen_backbone_only_moves_layer4_and_the_head() {
    let d = data();
    let base = Trainer::new(tiny(5).with_epochs(1), d.clone(), &Device::flex()).unwrap();
    let bytes = breastmnist_core::checkpoint::save(&base.current_model().unwrap(), base.model_config()).unwrap();
    let ckpt = Checkpoint::from_bytes(&bytes).unwrap();
    let config = TrainConfig::new()
        .with_epochs(1)
        .with_batch_size(32)
        .with_subset(Some(64))
        .with_lr(1e-2)
        .with_freeze_backbone(true)
        .with_model(ModelSize::Resnet18); // overridden by the checkpoint's architecture
    let mut ft = Trainer::from_checkpoint(config, d, &ckpt, &Device::flex()).unwrap();
    assert_eq!(ft.config().model, ModelSize::Tiny);
    common::run(ft.step()).unwrap();
    common::run(ft.step()).unwrap();
    let resnet = |m: breastmnist_core::Network| match m {
        breastmnist_core::Network::ResNet(r) => r,
        other => panic!("a tiny checkpoint gave {other:?}"),
    };
    let before = resnet(base.current_model().unwrap());
    let after = resnet(ft.current_model().unwrap());
    let v = |t: breastmnist_core::burn::tensor::Tensor<4>| t.into_data().try_into_vec::<f32>().unwrap();
    assert_eq!(v(before.conv1.weight.val()), v(after.conv1.weight.val()), "stem frozen");
    assert_eq!(v(before.layer3[0].conv2.weight.val()), v(after.layer3[0].conv2.weight.val()), "layer3 frozen");
    assert_ne!(v(before.layer4[0].conv2.weight.val()), v(after.layer4[0].conv2.weight.val()), "layer4 trains");
    let fc = |m: &breastmnist_core::model::ResNet| m.fc.weight.val().into_data().try_into_vec::<f32>().unwrap();
    assert_ne!(fc(&before), fc(&after), "head trains");
}

#[test]
fn a_diverging_run_stops_with_a_typed_error_event() {
    let d = Arc::new(common::noise_dataset(28, 64, 2));
    let config = TrainConfig::new()
        .with_model(ModelSize::Tiny)
        .with_epochs(20)
        .with_batch_size(32)
        .with_lr(1e30)
        .with_schedule(Schedule::Constant);
    let mut trainer = Trainer::new(config, d, &Device::flex()).unwrap();
    let outcome = common::run(run_to_end(&mut trainer, |_| {})).unwrap();
    match outcome {
        Err(TrainFailure::NonFiniteLoss { .. }) | Err(TrainFailure::NonFiniteOutput { .. }) => {}
        other => panic!("expected a non-finite failure, got {other:?}"),
    }
    assert!(trainer.is_finished());
    assert!(common::run(trainer.step()).unwrap().is_empty());
}

#[test]
fn invalid_configs_are_rejected_before_training() {
    let d = data();
    let err = Trainer::new(tiny(0).with_subset(Some(10_000)), d.clone(), &Device::flex()).err().unwrap();
    assert!(err.to_string().contains("subset"), "{err}");
    assert!(Trainer::new(tiny(0).with_batch_size(0), d, &Device::flex()).is_err());
}

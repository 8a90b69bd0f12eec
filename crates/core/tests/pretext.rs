//! Self-supervised pretraining: both pretext tasks learn (their loss falls), are seeded, and
//! hand over an encoder that fine-tunes and linear-probes on BreastMNIST-shaped data.

mod common;

use std::sync::Arc;

use breastmnist_core::checkpoint::Checkpoint;
use breastmnist_core::model::ModelSize;
use breastmnist_core::pretext::{self, Pool, PretextConfig, PretextEvent, PretextTrainer, Task};
use breastmnist_core::train::{Selection, TrainConfig, Trainer};
use breastmnist_core::{Device, Network};
use breastmnist_data::Split;

fn pool(seed: u64) -> Arc<Pool> {
    let (data, _) = common::synthetic_dataset(28, [96, 8, 8], seed);
    let mut pool = Pool::new(28);
    pool.add_target("synthetic", &data).unwrap();
    Arc::new(pool)
}

fn pretrain(task: Task, epochs: usize, seed: u64) -> PretextTrainer {
    let config = PretextConfig::new(task, ModelSize::C8).with_epochs(epochs).with_batch_size(32).with_seed(seed);
    let mut t = PretextTrainer::new(config, pool(1), &Device::flex()).unwrap();
    common::run(pretext::run_to_end(&mut t, |_| {})).unwrap();
    t
}

/// The convolution weights (trainable, unlike BatchNorm's running statistics, which a
/// frozen layer in training mode still updates).
fn conv_weights(model: &Network) -> Vec<(String, Vec<f32>)> {
    let all = common::run(breastmnist_core::weights::read(model)).unwrap();
    let conv: Vec<_> = all.into_iter().filter(|w| w.path.ends_with("conv.weight")).map(|w| (w.path, w.values)).collect();
    assert_eq!(conv.len(), 8, "c8 has eight convolutions");
    conv
}

#[test]
fn both_tasks_lower_their_loss_and_are_seeded() {
    for task in Task::ALL {
        let t = pretrain(task, 4, 0);
        let h = t.history();
        assert_eq!(h.len(), 4);
        assert!(h.iter().all(|e| e.loss.is_finite()));
        eprintln!("{task}: {:?}", h.iter().map(|e| e.loss).collect::<Vec<_>>());
        assert!(h[3].loss < h[0].loss * 0.95, "{task}: loss {:.4} -> {:.4}", h[0].loss, h[3].loss);
        // Contrastive: the first epoch starts near log(2N - 1) (random embeddings).
        if task == Task::Contrastive {
            assert!(h[0].loss < (63f64).ln() + 0.5, "{}", h[0].loss);
        }
        let again = pretrain(task, 1, 0);
        assert_eq!(again.history()[0], h[0], "{task}: same seed, same first epoch");
    }
}

#[test]
fn events_count_steps_and_epochs() {
    let config = PretextConfig::new(Task::Masked, ModelSize::C8).with_epochs(2).with_batch_size(40);
    let mut t = PretextTrainer::new(config, pool(2), &Device::flex()).unwrap();
    let mut events = Vec::new();
    common::run(pretext::run_to_end(&mut t, |e| events.push(e.clone()))).unwrap();
    // 96 images in batches of 40: 3 steps an epoch (40, 40, 16).
    let steps = events.iter().filter(|e| matches!(e, PretextEvent::Step { .. })).count();
    assert_eq!(steps, 6);
    assert_eq!(events.iter().filter(|e| matches!(e, PretextEvent::Epoch { .. })).count(), 2);
    assert_eq!(events.last(), Some(&PretextEvent::Done));
    assert!(common::run(t.step()).unwrap().is_empty(), "nothing after Done");
}

#[test]
fn the_encoder_fine_tunes_and_a_linear_probe_moves_only_the_classifier() {
    let t = pretrain(Task::Contrastive, 1, 3);
    let bytes = common::run(t.checkpoint()).unwrap();
    let ckpt = Checkpoint::from_bytes(&bytes).unwrap();
    assert_eq!(ckpt.config.size, ModelSize::C8);
    let before = conv_weights(&ckpt.load(&Device::flex()).unwrap());
    assert_eq!(before, conv_weights(&t.encoder().unwrap()), "the checkpoint holds the pretrained encoder");

    let (data, _) = common::synthetic_dataset(28, [64, 16, 16], 9);
    let data = Arc::new(data);
    let recipe = TrainConfig::new().with_model(ModelSize::C8).with_epochs(2).with_batch_size(16).with_selection(Selection::Last);
    let mut probe =
        Trainer::from_checkpoint(recipe.clone().with_linear_probe(true).with_lr(1e-2), data.clone(), &ckpt, &Device::flex())
            .unwrap();
    let probed = common::run(breastmnist_core::train::run_to_end(&mut probe, |_| {})).unwrap().unwrap();
    assert_eq!(probed.test.predictions.len(), 16);
    assert_eq!(conv_weights(probe.best_model().unwrap().1), before, "a linear probe leaves the encoder's convolutions alone");
    assert!(probed.config.linear_probe);

    let mut tune = Trainer::from_checkpoint(recipe, data, &ckpt, &Device::flex()).unwrap();
    common::run(breastmnist_core::train::run_to_end(&mut tune, |_| {})).unwrap().unwrap();
    let tuned = conv_weights(tune.best_model().unwrap().1);
    assert!(tuned.iter().zip(&before).all(|(a, b)| a.1 != b.1), "fine-tuning moves every convolution");
}

#[test]
fn the_real_pool_reads_breastmnist_training_images_only_and_pretrains() {
    let Some(breast) = common::real_dataset("breastmnist.npz") else { return };
    let mut pool = Pool::new(28);
    pool.add_target("breastmnist.npz", &breast).unwrap();
    assert_eq!(pool.len(), breast.train.len());
    assert_eq!(pool.image(545), breast.image(Split::Train, 545));
    assert!(pool.add_other("breastmnist.npz", &breast).is_err(), "val/test images refused");
    let config = PretextConfig::new(Task::Masked, ModelSize::C8).with_epochs(1).with_batch_size(128);
    let mut t = PretextTrainer::new(config, Arc::new(pool), &Device::flex()).unwrap();
    common::run(pretext::run_to_end(&mut t, |_| {})).unwrap();
    assert!(t.history()[0].loss.is_finite());
}

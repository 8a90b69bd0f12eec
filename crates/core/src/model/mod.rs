//! The model zoo: configuration, names, construction, seeded initialisation and the
//! stage-wise forward that Grad-CAM uses.
//!
//! Three families share one interface ([`Network`]): the ResNets (`tiny`, `small`, `medium`,
//! `resnet18` of BasicBlocks, `resnet50` of Bottlenecks; [`resnet`]), the plain CNNs (`c8`,
//! `c16`, `c32`; [`cnn`]) and EfficientNet-Lite0 (`lite0`, the ImageNet starting point;
//! [`lite0`]). Each has a stem, four stages named `layer1`-`layer4` and a linear head on
//! globally pooled features; a plain CNN may classify with a prototype head instead ([`proto`]). A ResNet's stem is MedMNIST's 28 px one or torchvision's
//! ImageNet one ([`Stem`]), which MedMNIST's 224 px rows use on images upsampled with nearest
//! neighbours ([`Resample`]).
//! Adding a model is one [`ModelSize`] variant: every `match` on it fails to compile until the
//! new arm is written. Its configuration ([`ModelConfig`]) is [`config`].
//!
//! It must not know about datasets, batching, optimisers, files or the browser: it maps a
//! normalised `[batch, channels, side, side]` tensor to two logits.

pub mod cnn;
pub mod config;
pub mod conv;
pub mod conv_check;
pub mod lite0;
pub mod proto;
pub mod resnet;

use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use burn::tensor::{Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::rng::Rng;
pub use cnn::Cnn;
pub use config::{MAX_CLASSES, MAX_PROTOTYPES, ModelConfig, ModelError, Resample, Stem};
pub use conv::ConvAlgo;
pub use lite0::{LITE0_IMAGENET_PARAMS, Lite0};
pub use proto::ProtoHead;
pub use resnet::{BasicBlock, Bottleneck, ResNet};

/// Number of trainable parameters of the MedMNIST ResNet-18 (1 input channel, 2 classes):
/// every conv/linear weight and bias and every BatchNorm gamma and beta.
///
/// Breakdown: conv1 576 + bn1 128 + layer1 147,968 + layer2 525,568 + layer3 2,099,712 +
/// layer4 8,393,728 + fc 1,026 = 11,168,706 (with 3 input channels: 11,169,858): the
/// architecture as specified (bias-free convolutions, 1x1 projection shortcuts), equal to
/// torchvision's resnet18 with a 3x3 one-channel stem and a two-class head.
pub const RESNET18_TRAINABLE_PARAMS: usize = 11_168_706;

/// Number of trainable parameters of `c16` (1 input channel, 2 classes): convolutions 292,752
/// + BatchNorm 960 + classifier 258.
pub const C16_TRAINABLE_PARAMS: usize = 293_970;

/// Number of trainable parameters of the MedMNIST ResNet-50 (1 input channel, 2 classes, 3x3
/// stem): torchvision's resnet50 (25,557,032) less its 7x7 three-channel stem (9,408) and
/// 1000-class head (2,049,000), plus a 3x3 one-channel stem (576) and a two-class head (4,098).
pub const RESNET50_TRAINABLE_PARAMS: usize = 23_503_298;

/// The two architecture families.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// BasicBlocks with residual connections and stride-2 downsampling.
    ResNet,
    /// Plain [conv → BN → ReLU] × 2 stages with 2x2 max-pooling.
    Cnn,
    /// EfficientNet-Lite: MBConv blocks with depthwise convolutions and ReLU6 ([`lite0`]).
    EfficientNet,
}

breastmnist_data::names! {
    /// A member of the zoo, by name. Parses from and prints to its lowercase name.
    pub ModelSize ("model") {
        /// ResNet, base width 8, one BasicBlock per stage: an epoch on a CPU takes seconds.
        Tiny => "tiny",
        /// ResNet, base width 16, one BasicBlock per stage.
        Small => "small",
        /// ResNet, base width 32, two BasicBlocks per stage.
        Medium => "medium",
        /// The MedMNIST ResNet-18: base width 64, two BasicBlocks per stage (11,168,706 params).
        Resnet18 => "resnet18" | "resnet-18",
        /// The MedMNIST ResNet-50: base width 64, 3/4/6/3 Bottlenecks (23,503,298 params).
        Resnet50 => "resnet50" | "resnet-50",
        /// Plain CNN, widths 8/16/32/64 (73,834 params).
        C8 => "c8",
        /// Plain CNN, widths 16/32/64/128 (293,970 params).
        C16 => "c16",
        /// Plain CNN, widths 32/64/128/256 (1,173,154 params).
        C32 => "c32",
        /// EfficientNet-Lite0, the ImageNet starting point (4,652,008 params with ImageNet's
        /// 1,000 classes; 3,373,570 with two).
        Lite0 => "lite0" | "efficientnet-lite0",
    }
}

impl ModelSize {
    pub fn family(self) -> Family {
        match self {
            ModelSize::Tiny | ModelSize::Small | ModelSize::Medium | ModelSize::Resnet18 | ModelSize::Resnet50 => Family::ResNet,
            ModelSize::C8 | ModelSize::C16 | ModelSize::C32 => Family::Cnn,
            ModelSize::Lite0 => Family::EfficientNet,
        }
    }

    /// Channels of the first stage (later stages double it each time).
    pub fn base_width(self) -> usize {
        match self {
            ModelSize::Tiny | ModelSize::C8 => 8,
            ModelSize::Small | ModelSize::C16 => 16,
            ModelSize::Medium | ModelSize::C32 | ModelSize::Lite0 => 32,
            ModelSize::Resnet18 | ModelSize::Resnet50 => 64,
        }
    }

    /// Blocks in each of the four stages (ResNets; the CNNs have two convolutions per stage,
    /// the stem counting as stage 1's first).
    pub fn blocks(self) -> [usize; 4] {
        match self {
            ModelSize::Tiny | ModelSize::Small => [1, 1, 1, 1],
            ModelSize::Medium | ModelSize::Resnet18 => [2, 2, 2, 2],
            ModelSize::Resnet50 => [3, 4, 6, 3],
            ModelSize::C8 | ModelSize::C16 | ModelSize::C32 | ModelSize::Lite0 => [0; 4],
        }
    }

    /// Whether the stages are built of Bottlenecks (four times the base width out of each
    /// block) rather than BasicBlocks.
    pub fn bottleneck(self) -> bool {
        self == ModelSize::Resnet50
    }

    /// A stage's output channels per base-width channel (4 for Bottlenecks, else 1).
    pub fn expansion(self) -> usize {
        if self.bottleneck() { 4 } else { 1 }
    }
}

/// A model name that is not one of the zoo.
pub type UnknownModel = breastmnist_data::UnknownName;

/// The input resized to `resize` px, if set, by `resample`.
fn resize_input(x: Tensor<4>, resize: Option<usize>, resample: Resample) -> Tensor<4> {
    let mode = match resample {
        Resample::Bilinear => InterpolateMode::Bilinear,
        Resample::Nearest => InterpolateMode::Nearest,
    };
    match resize {
        Some(r) => interpolate(x, InterpolateOptions::new(mode).with_align_corners(false).with_output_size([r, r])),
        None => x,
    }
}

/// Global average pooling: `[batch, channels, h, w]` to `[batch, channels]` (both families'
/// heads).
fn global_average_pool(features: Tensor<4>) -> Tensor<2> {
    let [b, c, _, _] = features.dims();
    features.mean_dim(3).mean_dim(2).reshape([b, c])
}

/// A member of the zoo, whichever family (see [`ModelConfig`]). Lite0's variant holds more
/// layers inline than the others; a network is built once per run and moved rarely, so the
/// size difference costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Network {
    ResNet(ResNet),
    BottleneckResNet(ResNet<Bottleneck>),
    Cnn(Cnn),
    Lite0(Lite0),
}

/// `$body` with `$m` bound to the network inside `$net`, whichever variant it is.
macro_rules! each {
    ($net:expr, $m:ident => $body:expr) => {
        match $net {
            Network::ResNet($m) => $body,
            Network::BottleneckResNet($m) => $body,
            Network::Cnn($m) => $body,
            Network::Lite0($m) => $body,
        }
    };
}

/// The same variant of `$net` holding `$body`, with `$m` bound (mutably) to the network inside.
macro_rules! map_each {
    ($net:expr, $m:ident => $body:expr) => {
        match $net {
            Network::ResNet(mut $m) => Network::ResNet($body),
            Network::BottleneckResNet(mut $m) => Network::BottleneckResNet($body),
            Network::Cnn(mut $m) => Network::Cnn($body),
            Network::Lite0(mut $m) => Network::Lite0($body),
        }
    };
}

impl Network {
    /// Logits `[batch, num_classes]` for normalised images `[batch, channels, side, side]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let f = self.forward_to(x, Stage::Layer4);
        self.head(f)
    }

    /// Logits plus the layer3 and layer4 activations (for Grad-CAM and inspection).
    pub fn forward_with_features(&self, x: Tensor<4>) -> (Tensor<2>, Tensor<4>, Tensor<4>) {
        let l3 = self.forward_to(x, Stage::Layer3);
        let l4 = self.forward_from(l3.clone(), Stage::Layer3, Stage::Layer4);
        (self.head(l4.clone()), l3, l4)
    }

    /// Runs the network from the input up to and including `stage`.
    pub fn forward_to(&self, x: Tensor<4>, stage: Stage) -> Tensor<4> {
        each!(self, m => m.forward_to(x, stage))
    }

    /// Runs the stages after `from` up to and including `to` on `from`'s activations.
    pub fn forward_from(&self, x: Tensor<4>, from: Stage, to: Stage) -> Tensor<4> {
        each!(self, m => m.forward_from(x, from, to))
    }

    /// Global average pooling and the linear classifier on layer4's activations.
    pub fn head(&self, features: Tensor<4>) -> Tensor<2> {
        each!(self, m => m.head(features))
    }

    /// Logits for the activations of `stage` (the rest of the network after it).
    pub fn forward_after(&self, features: Tensor<4>, stage: Stage) -> Tensor<2> {
        self.head(self.forward_from(features, stage, Stage::Layer4))
    }

    /// Fine-tuning: every layer frozen except the last stage (layer4) and the classifier (a
    /// prototype head counts as the classifier).
    pub fn freeze_backbone(self) -> Network {
        map_each!(self.freeze(), m => {
            m.fc = m.fc.unfreeze();
            m.unfreeze_last_stage()
        })
        .unfreeze_prototypes()
    }

    /// A linear probe: every layer frozen except the classifier (or the prototype head).
    pub fn freeze_features(self) -> Network {
        map_each!(self.freeze(), m => {
            m.fc = m.fc.unfreeze();
            m
        })
        .unfreeze_prototypes()
    }

    fn unfreeze_prototypes(self) -> Network {
        match self {
            Network::Cnn(mut m) => {
                m.proto = m.proto.map(Module::unfreeze);
                Network::Cnn(m)
            }
            other => other,
        }
    }

    /// The prototype head, if this network classifies with one ([`proto`]; the CNNs only).
    pub fn prototypes(&self) -> Option<&ProtoHead> {
        match self {
            Network::Cnn(m) => m.proto.as_ref(),
            _ => None,
        }
    }

    /// The network with `values` (`[prototypes, proto::DIM]`) as its prototypes (the
    /// projection); unchanged without a prototype head.
    pub fn with_prototypes(self, values: Vec<f32>) -> Network {
        match self {
            Network::Cnn(mut m) => {
                m.proto = m.proto.map(|p| p.with_prototypes(values));
                Network::Cnn(m)
            }
            other => other,
        }
    }

    /// Logits for training, and the cost the architecture adds to the loss for `targets`
    /// (`[batch, classes]`): a prototype head's cluster, separation and L1 costs
    /// ([`proto::costs`]); `None` for the others.
    pub fn forward_costed(&self, x: Tensor<4>, targets: Tensor<2>) -> (Tensor<2>, Option<Tensor<1>>) {
        match self.prototypes() {
            Some(head) => {
                let out = head.forward(self.forward_to(x, Stage::Layer4));
                let costs = proto::costs(head, out.min_distances, targets);
                (out.logits, Some(costs))
            }
            None => (self.forward(x), None),
        }
    }

    /// This network with `fresh`'s classifier (transfer to data with other classes: the
    /// features are kept, the head starts from `fresh`'s seeded initialisation). `None` when the
    /// two are different architectures.
    pub fn with_head_of(self, fresh: Network) -> Option<Network> {
        match (self, fresh) {
            (Network::ResNet(mut m), Network::ResNet(f)) => {
                m.fc = f.fc;
                Some(Network::ResNet(m))
            }
            (Network::BottleneckResNet(mut m), Network::BottleneckResNet(f)) => {
                m.fc = f.fc;
                Some(Network::BottleneckResNet(m))
            }
            (Network::Cnn(mut m), Network::Cnn(f)) => {
                m.fc = f.fc;
                m.proto = f.proto;
                Some(Network::Cnn(m))
            }
            (Network::Lite0(mut m), Network::Lite0(f)) => {
                m.fc = f.fc;
                Some(Network::Lite0(m))
            }
            _ => None,
        }
    }

    /// Runs every convolution with `algo` (`None`: burn's kernel; see [`conv`]). The weights
    /// are unchanged.
    pub fn with_conv(self, algo: Option<ConvAlgo>) -> Network {
        map_each!(self, m => {
            m.conv = algo;
            m
        })
    }

    /// Floats of the largest activation one `side` px image makes (the stem's or the first
    /// stage's output: later stages are smaller), for sizing chunks of images.
    pub fn peak_activation(&self, side: usize) -> usize {
        each!(self, m => m.peak_activation(side))
    }

    /// The convolution algorithm set with [`Network::with_conv`], if any.
    pub fn conv(&self) -> Option<ConvAlgo> {
        each!(self, m => m.conv)
    }

    /// The classifier's weight `[features, classes]` (for inspection and tests).
    pub fn fc_weight(&self) -> Tensor<2> {
        each!(self, m => m.fc.weight.val())
    }

    /// The record of the network inside, whichever variant (its paths start below the
    /// variant: `conv1.weight`, not `ResNet.conv1.weight`). Reads every parameter
    /// synchronously: Flex only (see [`crate::checkpoint::save`]).
    pub(crate) fn record(self) -> burn::store::ModuleRecord {
        each!(self, m => m.into_record())
    }

    /// The network with `record`'s values loaded (a record of [`Network::record`]'s layout).
    pub(crate) fn with_record(self, record: burn::store::ModuleRecord) -> Result<Network, String> {
        let loaded = match self {
            Network::ResNet(m) => m.try_load_record(record).map(Network::ResNet),
            Network::BottleneckResNet(m) => m.try_load_record(record).map(Network::BottleneckResNet),
            Network::Cnn(m) => m.try_load_record(record).map(Network::Cnn),
            Network::Lite0(m) => m.try_load_record(record).map(Network::Lite0),
        };
        loaded.map_err(|e| e.to_string())
    }
}

breastmnist_data::names! {
    /// A point in the network whose activations Grad-CAM can explain.
    pub Stage ("stage") {
        /// After conv1 + BN + ReLU.
        Stem => "stem",
        Layer1 => "layer1",
        Layer2 => "layer2",
        /// 7x7 at 28 px.
        Layer3 => "layer3",
        /// 4x4 at 28 px.
        Layer4 => "layer4",
    }
}

impl Stage {
    pub(crate) fn index(self) -> usize {
        match self {
            Stage::Stem => 0,
            Stage::Layer1 => 1,
            Stage::Layer2 => 2,
            Stage::Layer3 => 3,
            Stage::Layer4 => 4,
        }
    }

    fn downsamples(self) -> usize {
        self.index().saturating_sub(1)
    }
}

/// Counts trainable parameters (everything burn's `num_params` counts except the BatchNorm
/// running mean and variance, which are state, not parameters).
pub fn trainable_params<M: Module>(model: &M) -> usize {
    struct Counter {
        path: Vec<String>,
        count: usize,
    }
    impl burn::module::ModuleVisitor for Counter {
        fn enter_module(&mut self, name: &str, _: &str) {
            self.path.push(name.to_string());
        }
        fn exit_module(&mut self, _: &str, _: &str) {
            self.path.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let last = self.path.last().map(String::as_str).unwrap_or("");
            if last != "running_mean" && last != "running_var" {
                self.count += param.lazy_shape().num_elements();
            }
        }
    }
    let mut c = Counter { path: Vec::new(), count: 0 };
    model.visit(&mut c);
    c.count
}

/// Re-draws every parameter from a generator seeded with `seed` (He-uniform for convolutions,
/// PyTorch's uniform(±1/sqrt(fan_in)) for the classifier, BatchNorm gamma 1 / beta 0, running
/// mean 0 / variance 1). The values depend only on the seed and the parameter order, never on
/// the backend or on other threads' use of burn's global RNG.
pub fn reinit<M: Module>(model: M, seed: u64) -> M {
    struct Init {
        path: Vec<String>,
        rng: Rng,
        /// Fan-in of the last 2-D (linear) weight seen; its bias comes right after it.
        linear_fan_in: usize,
    }
    impl ModuleMapper for Init {
        fn enter_module(&mut self, name: &str, _: &str) {
            self.path.push(name.to_string());
        }
        fn exit_module(&mut self, _: &str, _: &str) {
            self.path.pop();
        }
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let shape = param.lazy_shape();
            let device = param.lazy_device();
            let n = shape.num_elements();
            let dims = shape.to_vec();
            let last = self.path.last().map(String::as_str).unwrap_or("");
            let parent = self.path.iter().rev().nth(1).map(String::as_str).unwrap_or("");
            let values: Vec<f32> = match last {
                // A prototype head ([`proto`]): prototypes uniform in [0, 1) as ProtoPNet's, the
                // last layer's class connections 1 and -0.5.
                "prototypes" => (0..n).map(|_| self.rng.uniform(0.0, 1.0)).collect(),
                "weight" if D == 2 && parent == "last" => proto::ProtoHead::class_connections(dims[0], dims[1]),
                "running_mean" | "beta" => vec![0.0; n],
                "running_var" | "gamma" => vec![1.0; n],
                "weight" if D == 4 => {
                    let fan_in = dims[1] * dims[2] * dims[3];
                    let bound = (6.0 / fan_in as f32).sqrt();
                    (0..n).map(|_| self.rng.uniform(-bound, bound)).collect()
                }
                "weight" if D == 2 => {
                    // A linear weight is [d_input, d_output].
                    self.linear_fan_in = dims[0];
                    let bound = 1.0 / (dims[0].max(1) as f32).sqrt();
                    (0..n).map(|_| self.rng.uniform(-bound, bound)).collect()
                }
                "bias" if parent == "fc" => {
                    let bound = 1.0 / (self.linear_fan_in.max(1) as f32).sqrt();
                    (0..n).map(|_| self.rng.uniform(-bound, bound)).collect()
                }
                _ => {
                    let bound = 1.0 / (n.max(1) as f32).sqrt();
                    (0..n).map(|_| self.rng.uniform(-bound, bound)).collect()
                }
            };
            let tensor = Tensor::<D>::from_data(TensorData::new(values, shape.clone()), &device);
            let id = param.id;
            param.transform_for_load(tensor, id)
        }
    }
    let mut init = Init { path: Vec::new(), rng: Rng::new(seed ^ 0x5EED_1417), linear_fan_in: 1 };
    model.map(&mut init)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    #[test]
    fn nearest_resampling_repeats_every_pixel_as_pil_does() {
        // PIL's NEAREST (MedMNIST's 224 px transform) takes source pixel floor((i + 0.5) / 8)
        // for output pixel i at 28 -> 224, which is floor(i / 8): every pixel an 8x8 block.
        let device = Device::flex();
        let values: Vec<f32> = (0..28 * 28).map(|i| i as f32).collect();
        let x = Tensor::<4>::from_data(TensorData::new(values.clone(), [1, 1, 28, 28]), &device);
        let out = resize_input(x, Some(224), Resample::Nearest).into_data().try_into_vec::<f32>().unwrap();
        assert_eq!(out.len(), 224 * 224);
        for (i, v) in out.iter().enumerate() {
            let (r, c) = (i / 224, i % 224);
            assert_eq!(*v, values[(r / 8) * 28 + c / 8], "output ({r}, {c})");
        }
    }
}

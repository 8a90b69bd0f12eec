//! The plain CNN family (`c8`, `c16`, `c32`): four stages of [3x3 conv (no bias) → BatchNorm →
//! ReLU] × 2 at widths w, 2w, 4w, 8w, a 2x2 max-pool before stages 2-4, global average pooling
//! and a linear classifier. `c16` has 293,970 trainable parameters — 38 times fewer than the
//! ResNet-18 — and trains an epoch of BreastMNIST in about a second on one CPU thread.
//!
//! The stage names match the ResNet's so Grad-CAM and activation grids work unchanged: the
//! stem is stage 1's first convolution, `layer1` its second, `layer2`-`layer4` the pooled stages.
//!
//! It must not know about other architectures, datasets, optimisers or files.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, Relu};
use burn::tensor::{Device, Tensor};

use super::conv::{self, ConvAlgo};
use super::proto::ProtoHead;
use super::resnet::conv_layer;
use super::{ModelConfig, Resample, Stage, global_average_pool, resize_input};

/// One 3x3 convolution (no bias), BatchNorm and ReLU.
#[derive(Module, Debug)]
pub struct ConvBn {
    pub conv: Conv2d,
    pub bn: BatchNorm,
    pub relu: Relu,
}

impl ConvBn {
    fn new(cin: usize, cout: usize, device: &Device) -> Self {
        ConvBn { conv: conv_layer(cin, cout, 3, 1, 1, device), bn: BatchNormConfig::new(cout).init(device), relu: Relu::new() }
    }

    /// The layer on `x`, its convolution run by `algo` (see [`conv::forward`]).
    pub fn forward(&self, x: Tensor<4>, algo: Option<ConvAlgo>) -> Tensor<4> {
        self.relu.forward(self.bn.forward(conv::forward(&self.conv, x, algo)))
    }
}

/// A member of the plain CNN family (see the module docs).
#[derive(Module, Debug)]
pub struct Cnn {
    pub stem: ConvBn,
    pub layer1: Vec<ConvBn>,
    pub layer2: Vec<ConvBn>,
    pub layer3: Vec<ConvBn>,
    pub layer4: Vec<ConvBn>,
    pub pool: MaxPool2d,
    pub fc: Linear,
    /// A prototype head that replaces `fc` as the classifier ([`ModelConfig::prototypes`]).
    pub proto: Option<ProtoHead>,
    #[module(skip)]
    pub resize: Option<usize>,
    #[module(skip)]
    pub resample: Resample,
    /// How the convolutions run; `None`: burn's kernel (see [`conv::forward`]).
    #[module(skip)]
    pub conv: Option<ConvAlgo>,
}

impl Cnn {
    /// A freshly built (not yet initialised) CNN for `config`.
    pub(super) fn build(config: &ModelConfig, device: &Device) -> Cnn {
        let w = config.size.base_width();
        let stage = |cin: usize, cout: usize| vec![ConvBn::new(cin, cout, device), ConvBn::new(cout, cout, device)];
        Cnn {
            stem: ConvBn::new(config.in_channels, w, device),
            layer1: vec![ConvBn::new(w, w, device)],
            layer2: stage(w, 2 * w),
            layer3: stage(2 * w, 4 * w),
            layer4: stage(4 * w, 8 * w),
            pool: MaxPool2dConfig::new([2, 2]).init(),
            fc: LinearConfig::new(8 * w, config.num_classes).init(device),
            proto: config.prototypes.map(|m| ProtoHead::new(8 * w, config.num_classes, m, device)),
            resize: config.resize.filter(|&r| r != config.input_size),
            resample: config.resample,
            conv: None,
        }
    }

    /// Floats of the largest activation one `side` px image makes (stem and layer1: `w` channels
    /// at full size).
    pub fn peak_activation(&self, side: usize) -> usize {
        let s = self.resize.unwrap_or(side);
        self.stem.conv.weight.shape().dims::<4>()[0] * s * s
    }

    /// Runs the network from the input up to and including `stage`.
    pub fn forward_to(&self, x: Tensor<4>, stage: Stage) -> Tensor<4> {
        let x = self.stem.forward(resize_input(x, self.resize, self.resample), self.conv);
        self.forward_from(x, Stage::Stem, stage)
    }

    /// Runs the stages after `from` up to and including `to` on `from`'s activations.
    pub fn forward_from(&self, mut x: Tensor<4>, from: Stage, to: Stage) -> Tensor<4> {
        let layers = [&self.layer1, &self.layer2, &self.layer3, &self.layer4];
        for (i, layer) in layers.iter().enumerate() {
            let idx = i + 1;
            if idx > from.index() && idx <= to.index() {
                if idx >= 2 {
                    x = self.pool.forward(x);
                }
                for block in layer.iter() {
                    x = block.forward(x, self.conv);
                }
            }
        }
        x
    }

    /// Trains `layer4` again in a frozen network.
    pub(super) fn unfreeze_last_stage(mut self) -> Cnn {
        self.layer4 = self.layer4.unfreeze();
        self
    }

    /// Global average pooling and the linear classifier on layer4's activations, or the
    /// prototype head's logits.
    pub fn head(&self, features: Tensor<4>) -> Tensor<2> {
        match &self.proto {
            Some(p) => p.forward(features).logits,
            None => self.fc.forward(global_average_pool(features)),
        }
    }
}

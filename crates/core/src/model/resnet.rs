//! The ResNets: a stem, four stages of residual blocks with stride-2 downsampling in stages
//! 2-4, global average pooling and a linear classifier.
//!
//! One generic network, two blocks: [`BasicBlock`] (two 3x3 convolutions; ResNet-18 and the
//! lighter members) and [`Bottleneck`] (1x1 → 3x3 → 1x1 at four times the width; ResNet-50).
//! Two stems ([`Stem`]): MedMNIST's 28 px stem (3x3, stride 1, no max-pool) and torchvision's
//! ImageNet stem (7x7, stride 2, then a 3x3 stride-2 max-pool), which MedMNIST's 224 px rows use.
//!
//! It must not know about other architectures, datasets, optimisers or files.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d, Relu};
use burn::tensor::{Device, Tensor};

use super::conv::{self, ConvAlgo};
use super::{ModelConfig, Resample, Stage, Stem, global_average_pool, resize_input};

pub(super) fn conv_layer(cin: usize, cout: usize, k: usize, stride: usize, pad: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([cin, cout], [k, k])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
        .with_bias(false)
        .init(device)
}

/// The 1x1 convolution + BatchNorm projection used when a block changes shape.
#[derive(Module, Debug)]
pub struct Shortcut {
    pub conv: Conv2d,
    pub bn: BatchNorm,
}

impl Shortcut {
    /// A projection from `cin` to `cout` channels at `stride`, if the block changes shape.
    fn when_needed(cin: usize, cout: usize, stride: usize, device: &Device) -> Option<Shortcut> {
        (stride != 1 || cin != cout)
            .then(|| Shortcut { conv: conv_layer(cin, cout, 1, stride, 0, device), bn: BatchNormConfig::new(cout).init(device) })
    }

    /// `x` through the projection, or `x` itself when there is none.
    fn apply(this: &Option<Shortcut>, x: Tensor<4>, algo: Option<ConvAlgo>) -> Tensor<4> {
        match this {
            Some(s) => s.bn.forward(conv::forward(&s.conv, x, algo)),
            None => x,
        }
    }
}

/// A residual block the generic [`ResNet`] stacks.
pub trait Block: Module + core::fmt::Debug {
    /// Output channels per `planes` (1 for BasicBlock, 4 for Bottleneck).
    const EXPANSION: usize;
    /// A block from `in_planes` channels to `planes * EXPANSION`, downsampling by `stride`.
    fn new(in_planes: usize, planes: usize, stride: usize, device: &Device) -> Self;
    /// The block on `x`, its convolutions run by `algo` (see [`conv::forward`]).
    fn forward(&self, x: Tensor<4>, algo: Option<ConvAlgo>) -> Tensor<4>;
}

/// The ResNet BasicBlock: two 3x3 convolutions with BatchNorm and a residual connection.
#[derive(Module, Debug)]
pub struct BasicBlock {
    pub conv1: Conv2d,
    pub bn1: BatchNorm,
    pub conv2: Conv2d,
    pub bn2: BatchNorm,
    pub shortcut: Option<Shortcut>,
    pub relu: Relu,
}

impl Block for BasicBlock {
    const EXPANSION: usize = 1;

    fn new(in_planes: usize, planes: usize, stride: usize, device: &Device) -> Self {
        BasicBlock {
            conv1: conv_layer(in_planes, planes, 3, stride, 1, device),
            bn1: BatchNormConfig::new(planes).init(device),
            conv2: conv_layer(planes, planes, 3, 1, 1, device),
            bn2: BatchNormConfig::new(planes).init(device),
            shortcut: Shortcut::when_needed(in_planes, planes, stride, device),
            relu: Relu::new(),
        }
    }

    fn forward(&self, x: Tensor<4>, algo: Option<ConvAlgo>) -> Tensor<4> {
        let out = self.relu.forward(self.bn1.forward(conv::forward(&self.conv1, x.clone(), algo)));
        let out = self.bn2.forward(conv::forward(&self.conv2, out, algo));
        self.relu.forward(out + Shortcut::apply(&self.shortcut, x, algo))
    }
}

/// The ResNet Bottleneck (as in torchvision and MedMNIST's experiments: the stride on the 3x3
/// convolution): 1x1 down to `planes`, 3x3, 1x1 up to `4 * planes`, each with BatchNorm.
#[derive(Module, Debug)]
pub struct Bottleneck {
    pub conv1: Conv2d,
    pub bn1: BatchNorm,
    pub conv2: Conv2d,
    pub bn2: BatchNorm,
    pub conv3: Conv2d,
    pub bn3: BatchNorm,
    pub shortcut: Option<Shortcut>,
    pub relu: Relu,
}

impl Block for Bottleneck {
    const EXPANSION: usize = 4;

    fn new(in_planes: usize, planes: usize, stride: usize, device: &Device) -> Self {
        let out = planes * Self::EXPANSION;
        Bottleneck {
            conv1: conv_layer(in_planes, planes, 1, 1, 0, device),
            bn1: BatchNormConfig::new(planes).init(device),
            conv2: conv_layer(planes, planes, 3, stride, 1, device),
            bn2: BatchNormConfig::new(planes).init(device),
            conv3: conv_layer(planes, out, 1, 1, 0, device),
            bn3: BatchNormConfig::new(out).init(device),
            shortcut: Shortcut::when_needed(in_planes, out, stride, device),
            relu: Relu::new(),
        }
    }

    fn forward(&self, x: Tensor<4>, algo: Option<ConvAlgo>) -> Tensor<4> {
        let out = self.relu.forward(self.bn1.forward(conv::forward(&self.conv1, x.clone(), algo)));
        let out = self.relu.forward(self.bn2.forward(conv::forward(&self.conv2, out, algo)));
        let out = self.bn3.forward(conv::forward(&self.conv3, out, algo));
        self.relu.forward(out + Shortcut::apply(&self.shortcut, x, algo))
    }
}

/// A member of the ResNet family (see [`ModelConfig`]), built of blocks `K`.
#[derive(Module, Debug)]
pub struct ResNet<K: Block = BasicBlock> {
    pub conv1: Conv2d,
    pub bn1: BatchNorm,
    pub relu: Relu,
    /// Torchvision's stem max-pools after conv1 + BN + ReLU; MedMNIST's does not.
    pub pool: Option<MaxPool2d>,
    pub layer1: Vec<K>,
    pub layer2: Vec<K>,
    pub layer3: Vec<K>,
    pub layer4: Vec<K>,
    pub fc: Linear,
    #[module(skip)]
    pub resize: Option<usize>,
    #[module(skip)]
    pub resample: Resample,
    /// How the convolutions run; `None`: burn's kernel (see [`conv::forward`]).
    #[module(skip)]
    pub conv: Option<ConvAlgo>,
}

impl<K: Block> ResNet<K> {
    /// Runs the network from the input up to and including `stage`.
    pub fn forward_to(&self, x: Tensor<4>, stage: Stage) -> Tensor<4> {
        let x = resize_input(x, self.resize, self.resample);
        let x = self.relu.forward(self.bn1.forward(conv::forward(&self.conv1, x, self.conv)));
        let x = match &self.pool {
            Some(pool) => pool.forward(x),
            None => x,
        };
        self.forward_from(x, Stage::Stem, stage)
    }

    /// Runs the stages after `from` up to and including `to` on `from`'s activations.
    pub fn forward_from(&self, mut x: Tensor<4>, from: Stage, to: Stage) -> Tensor<4> {
        let layers = [&self.layer1, &self.layer2, &self.layer3, &self.layer4];
        for (i, layer) in layers.iter().enumerate() {
            let idx = i + 1;
            if idx > from.index() && idx <= to.index() {
                for block in layer.iter() {
                    x = block.forward(x, self.conv);
                }
            }
        }
        x
    }

    /// Floats of the largest activation one `side` px image makes (see
    /// [`super::Network::peak_activation`]).
    pub fn peak_activation(&self, side: usize) -> usize {
        let s = self.resize.unwrap_or(side);
        let w = self.conv1.weight.shape().dims::<4>()[0];
        let (stem, layer1) = if self.pool.is_some() { (s.div_ceil(2), s.div_ceil(4)) } else { (s, s) };
        (w * stem * stem).max(w * K::EXPANSION * layer1 * layer1)
    }

    /// Trains `layer4` again in a frozen network.
    pub(super) fn unfreeze_last_stage(mut self) -> ResNet<K> {
        self.layer4 = self.layer4.unfreeze();
        self
    }

    /// Global average pooling and the linear classifier on layer4's activations.
    pub fn head(&self, features: Tensor<4>) -> Tensor<2> {
        self.fc.forward(global_average_pool(features))
    }

    /// A freshly built (not yet initialised) ResNet for `config`.
    pub(super) fn build(config: &ModelConfig, device: &Device) -> ResNet<K> {
        let w = config.size.base_width();
        let blocks = config.size.blocks();
        let mut in_planes = w;
        let mut make_stage = |planes: usize, n: usize, stride: usize| {
            let mut layer = Vec::with_capacity(n);
            for i in 0..n {
                let s = if i == 0 { stride } else { 1 };
                layer.push(K::new(in_planes, planes, s, device));
                in_planes = planes * K::EXPANSION;
            }
            layer
        };
        let layer1 = make_stage(w, blocks[0], 1);
        let layer2 = make_stage(w * 2, blocks[1], 2);
        let layer3 = make_stage(w * 4, blocks[2], 2);
        let layer4 = make_stage(w * 8, blocks[3], 2);
        let (conv1, pool) = match config.stem {
            Stem::Medmnist => (conv_layer(config.in_channels, w, 3, 1, 1, device), None),
            Stem::Torchvision => (
                conv_layer(config.in_channels, w, 7, 2, 3, device),
                Some(
                    MaxPool2dConfig::new([3, 3]).with_strides([2, 2]).with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1)).init(),
                ),
            ),
        };
        ResNet {
            conv1,
            bn1: BatchNormConfig::new(w).init(device),
            relu: Relu::new(),
            pool,
            layer1,
            layer2,
            layer3,
            layer4,
            fc: LinearConfig::new(w * 8 * K::EXPANSION, config.num_classes).init(device),
            resize: config.resize.filter(|&r| r != config.input_size),
            resample: config.resample,
            conv: None,
        }
    }
}

//! The MedMNIST ResNet: a 3x3 stem (no max-pool), four stages of BasicBlocks with stride-2
//! downsampling in stages 2-4, global average pooling and a linear classifier.
//!
//! It must not know about other architectures, datasets, optimisers or files.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d, Relu};
use burn::tensor::{Device, Tensor};

use super::conv::{self, ConvAlgo};
use super::{ModelConfig, Stage, global_average_pool, resize_input};

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

impl BasicBlock {
    fn new(in_planes: usize, planes: usize, stride: usize, device: &Device) -> Self {
        let shortcut = (stride != 1 || in_planes != planes).then(|| Shortcut {
            conv: conv_layer(in_planes, planes, 1, stride, 0, device),
            bn: BatchNormConfig::new(planes).init(device),
        });
        BasicBlock {
            conv1: conv_layer(in_planes, planes, 3, stride, 1, device),
            bn1: BatchNormConfig::new(planes).init(device),
            conv2: conv_layer(planes, planes, 3, 1, 1, device),
            bn2: BatchNormConfig::new(planes).init(device),
            shortcut,
            relu: Relu::new(),
        }
    }

    /// The block on `x`, its convolutions run by `algo` (see [`conv::forward`]).
    pub fn forward(&self, x: Tensor<4>, algo: Option<ConvAlgo>) -> Tensor<4> {
        let out = self.relu.forward(self.bn1.forward(conv::forward(&self.conv1, x.clone(), algo)));
        let out = self.bn2.forward(conv::forward(&self.conv2, out, algo));
        let identity = match &self.shortcut {
            Some(s) => s.bn.forward(conv::forward(&s.conv, x, algo)),
            None => x,
        };
        self.relu.forward(out + identity)
    }
}

/// A member of the MedMNIST ResNet family (see [`ModelConfig`]).
#[derive(Module, Debug)]
pub struct ResNet {
    pub conv1: Conv2d,
    pub bn1: BatchNorm,
    pub relu: Relu,
    pub layer1: Vec<BasicBlock>,
    pub layer2: Vec<BasicBlock>,
    pub layer3: Vec<BasicBlock>,
    pub layer4: Vec<BasicBlock>,
    pub fc: Linear,
    #[module(skip)]
    pub resize: Option<usize>,
    /// How the convolutions run; `None`: burn's kernel (see [`conv::forward`]).
    #[module(skip)]
    pub conv: Option<ConvAlgo>,
}

impl ResNet {
    /// Runs the network from the input up to and including `stage`.
    pub fn forward_to(&self, x: Tensor<4>, stage: Stage) -> Tensor<4> {
        let x = resize_input(x, self.resize);
        let x = self.relu.forward(self.bn1.forward(conv::forward(&self.conv1, x, self.conv)));
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

    /// Global average pooling and the linear classifier on layer4's activations.
    pub fn head(&self, features: Tensor<4>) -> Tensor<2> {
        self.fc.forward(global_average_pool(features))
    }

    /// A freshly built (not yet initialised) ResNet for `config`.
    pub(super) fn build(config: &ModelConfig, device: &Device) -> ResNet {
        let w = config.size.base_width();
        let blocks = config.size.blocks();
        let mut in_planes = w;
        let mut make_stage = |planes: usize, n: usize, stride: usize| {
            let mut layer = Vec::with_capacity(n);
            for i in 0..n {
                let s = if i == 0 { stride } else { 1 };
                layer.push(BasicBlock::new(in_planes, planes, s, device));
                in_planes = planes;
            }
            layer
        };
        let layer1 = make_stage(w, blocks[0], 1);
        let layer2 = make_stage(w * 2, blocks[1], 2);
        let layer3 = make_stage(w * 4, blocks[2], 2);
        let layer4 = make_stage(w * 8, blocks[3], 2);
        ResNet {
            conv1: conv_layer(config.in_channels, w, 3, 1, 1, device),
            bn1: BatchNormConfig::new(w).init(device),
            relu: Relu::new(),
            layer1,
            layer2,
            layer3,
            layer4,
            fc: LinearConfig::new(w * 8, config.num_classes).init(device),
            resize: config.resize.filter(|&r| r != config.input_size),
            conv: None,
        }
    }
}

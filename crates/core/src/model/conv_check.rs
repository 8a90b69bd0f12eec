//! Whether `gemm` convolutions compute what burn's kernel computes on a given device: the
//! outputs, the input gradients and the weight gradients of the convolution shapes the zoo uses,
//! on fixed inputs, compared within [`ConvCheck::TOLERANCE`] of the reference's magnitude.
//!
//! Callers run it once per device before training with `gemm` (the worker on the reader's
//! WebGPU adapter, the CLI on a GPU) and fall back to `direct` when it fails, so a driver bug
//! costs speed, never a silently wrong model. When both pass and nobody pinned one, a
//! [`ConvRace`] times the run's own first steps with each and keeps the faster: which one wins
//! depends on the device (on SwiftShader, a software GPU, burn's kernel is 3x faster; on the
//! CPU it is 2x faster, so the CPU does not race).
//!
//! It must not know about architectures, datasets, optimisers or files.

use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::conv::{self, ConvAlgo};
use crate::read::{ReadError, read_all};
use crate::rng::Rng;

/// The worst difference between `gemm` and `direct` over the checked shapes, each relative to
/// the largest magnitude of burn's result.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConvCheck {
    pub forward: f64,
    pub input_grad: f64,
    pub weight_grad: f64,
}

impl ConvCheck {
    /// The largest relative difference that passes (float sums in another order differ by far
    /// less; a wrong index or a racy kernel by far more).
    pub const TOLERANCE: f64 = 1e-4;

    /// The largest of the three differences; NaN if any is NaN.
    pub fn worst(&self) -> f64 {
        [self.forward, self.input_grad, self.weight_grad]
            .into_iter()
            .fold(0.0, |w: f64, d| if w.is_nan() || d.is_nan() { f64::NAN } else { w.max(d) })
    }

    pub fn passed(&self) -> bool {
        let worst = self.worst();
        worst.is_finite() && worst <= Self::TOLERANCE
    }
}

/// The algorithm a run uses on a device, and the check that chose it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settled {
    pub algo: ConvAlgo,
    /// The check, when `gemm` was asked for (explicitly or as the device's default).
    pub check: Option<ConvCheck>,
    /// `gemm` was asked for but failed its check, so the run uses `direct`.
    pub fell_back: bool,
    /// The race that picked `algo` from the run's first steps, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub race: Option<RaceTimes>,
}

/// The fastest timed step of each algorithm in a [`ConvRace`], in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RaceTimes {
    pub direct_ms: f64,
    pub gemm_ms: f64,
}

/// Picks the faster of two verified algorithms from a run's own training steps: one warm-up
/// step each (kernels compile), then [`ConvRace::TIMED`] alternating timed steps each; the
/// faster minimum wins. Pure bookkeeping: the caller times the steps (the worker with
/// `performance.now()`, the CLI with `Instant`) and switches the trainer with
/// `Trainer::set_conv`. Both algorithms computing the same values (the check), switching
/// mid-run changes float rounding only.
#[derive(Clone, Debug, PartialEq)]
pub struct ConvRace {
    steps: Vec<(ConvAlgo, f64)>,
    decided: Option<(ConvAlgo, RaceTimes)>,
}

impl Default for ConvRace {
    fn default() -> Self {
        ConvRace::new()
    }
}

impl ConvRace {
    /// Timed steps per algorithm after its warm-up.
    pub const TIMED: usize = 2;

    pub fn new() -> ConvRace {
        ConvRace { steps: Vec::new(), decided: None }
    }

    /// The algorithm the next step should use: alternating until decided, then the winner.
    pub fn next(&self) -> ConvAlgo {
        match self.decided {
            Some((algo, _)) => algo,
            None => ConvAlgo::ALL[self.steps.len() % 2],
        }
    }

    /// Records a full training step (the last, smaller batch of an epoch should not be
    /// recorded) that ran with `algo` and took `millis`; decides once every step is in.
    pub fn record(&mut self, algo: ConvAlgo, millis: f64) {
        if self.decided.is_some() || algo != self.next() || !millis.is_finite() {
            return;
        }
        self.steps.push((algo, millis));
        if self.steps.len() == 2 * (1 + Self::TIMED) {
            let best = |a: ConvAlgo| self.steps[2..].iter().filter(|s| s.0 == a).map(|s| s.1).fold(f64::INFINITY, f64::min);
            let times = RaceTimes { direct_ms: best(ConvAlgo::Direct), gemm_ms: best(ConvAlgo::Gemm) };
            let winner = if times.gemm_ms < times.direct_ms { ConvAlgo::Gemm } else { ConvAlgo::Direct };
            self.decided = Some((winner, times));
        }
    }

    /// The winner and the times that chose it, once decided.
    pub fn decided(&self) -> Option<(ConvAlgo, RaceTimes)> {
        self.decided
    }

    /// `settled` with the race's outcome, if it finished (otherwise the algorithm of the
    /// steps so far is the last one used).
    pub fn outcome(&self, settled: Settled) -> Settled {
        match self.decided {
            Some((algo, times)) => Settled { algo, race: Some(times), ..settled },
            None => settled,
        }
    }
}

/// Whether a run should race: `gemm` passed its check and nobody pinned an algorithm.
pub fn should_race(choice: Option<ConvAlgo>, settled: &Settled) -> bool {
    choice.is_none() && settled.algo == ConvAlgo::Gemm && !settled.fell_back
}

impl Settled {
    /// `algo` without a check (burn's kernel needs none).
    pub fn unchecked(algo: ConvAlgo) -> Settled {
        Settled { algo, check: None, fell_back: false, race: None }
    }
}

/// `choice` (or `device`'s preferred algorithm) made safe: `gemm` only if it passes [`check`]
/// on `device`.
pub async fn settle(choice: Option<ConvAlgo>, device: &Device) -> Result<Settled, ReadError> {
    match ConvAlgo::resolve(choice, device) {
        ConvAlgo::Direct => Ok(Settled::unchecked(ConvAlgo::Direct)),
        ConvAlgo::Gemm => {
            let c = check(device).await?;
            let ok = c.passed();
            Ok(Settled { algo: if ok { ConvAlgo::Gemm } else { ConvAlgo::Direct }, check: Some(c), fell_back: !ok, race: None })
        }
    }
}

/// The checked shapes: (in channels, out channels, kernel, stride, padding, side): the zoo's 3x3
/// convolutions at stride 1 and 2, its 1x1 stride-2 shortcut, and a biased 3-channel stem.
const SHAPES: [(usize, usize, usize, usize, usize, usize, bool); 4] =
    [(8, 16, 3, 1, 1, 14, false), (8, 16, 3, 2, 1, 14, false), (8, 16, 1, 2, 0, 7, false), (3, 8, 3, 1, 1, 9, true)];

/// Compares `gemm` with `direct` on `device` for every shape in [`SHAPES`] (batch 4, inputs and
/// weights from a fixed seed, the loss a fixed random weighting of the outputs).
pub async fn check(device: &Device) -> Result<ConvCheck, ReadError> {
    let ad = device.clone().autodiff();
    let mut rng = Rng::new(0xC0B5);
    let mut worst = ConvCheck { forward: 0.0, input_grad: 0.0, weight_grad: 0.0 };
    for (cin, cout, k, stride, pad, side, bias) in SHAPES {
        let layer = fixed_conv(cin, cout, k, stride, pad, bias, &mut rng, &ad);
        let x = random(&mut rng, [4, cin, side, side], &ad);
        let out_side = (side + 2 * pad - k) / stride + 1;
        let weighting = random(&mut rng, [4, cout, out_side, out_side], &ad);
        let mut reads = Vec::new();
        for algo in ConvAlgo::ALL {
            let x = x.clone().require_grad();
            let y = conv::forward(&layer, x.clone(), Some(algo));
            let grads = (y.clone() * weighting.clone()).sum().backward();
            let gx = x.grad(&grads).map_or_else(|| empty(device), flat);
            let gw = layer.weight.val().grad(&grads).map_or_else(|| empty(device), flat);
            reads.push(read_all(vec![flat(y), gx, gw]).await?);
        }
        let (direct, gemm) = (&reads[0], &reads[1]);
        worst.forward = worst.forward.max(relative(&gemm[0], &direct[0]));
        worst.input_grad = worst.input_grad.max(relative(&gemm[1], &direct[1]));
        worst.weight_grad = worst.weight_grad.max(relative(&gemm[2], &direct[2]));
    }
    Ok(worst)
}

/// `max |a - b| / max |b|`; infinite when the shapes differ or anything is not finite.
pub fn relative(a: &[f32], b: &[f32]) -> f64 {
    if a.len() != b.len() || a.is_empty() || a.iter().chain(b).any(|v| !v.is_finite()) {
        return f64::INFINITY;
    }
    let scale = b.iter().fold(0f64, |m, v| m.max(v.abs() as f64));
    let diff = a.iter().zip(b).fold(0f64, |m, (x, y)| m.max((x - y).abs() as f64));
    if scale == 0.0 { if diff == 0.0 { 0.0 } else { f64::INFINITY } } else { diff / scale }
}

/// `t` on the plain device, as one row.
fn flat(t: Tensor<4>) -> Tensor<1> {
    let n = t.shape().num_elements();
    t.without_autodiff().reshape([n])
}

fn empty(device: &Device) -> Tensor<1> {
    Tensor::from_data(TensorData::new(Vec::<f32>::new(), [0]), device)
}

fn random<const D: usize>(rng: &mut Rng, shape: [usize; D], device: &Device) -> Tensor<D> {
    let n = shape.iter().product();
    let values: Vec<f32> = (0..n).map(|_| rng.normal() as f32).collect();
    Tensor::from_data(TensorData::new(values, shape), device)
}

#[allow(clippy::too_many_arguments)]
fn fixed_conv(
    cin: usize,
    cout: usize,
    k: usize,
    stride: usize,
    pad: usize,
    bias: bool,
    rng: &mut Rng,
    device: &Device,
) -> Conv2d {
    let mut c = Conv2dConfig::new([cin, cout], [k, k])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
        .with_bias(bias)
        .init(device);
    c.weight = c.weight.map(|_| random(rng, [cout, cin, k, k], device).require_grad());
    c.bias = c.bias.map(|b| b.map(|_| random(rng, [cout], device).require_grad()));
    c
}

#[cfg(test)]
mod tests {
    use futures_lite::future::block_on;

    use super::*;

    #[test]
    fn gemm_passes_on_the_cpu_and_settling_keeps_it() {
        let c = block_on(check(&Device::flex())).unwrap();
        assert!(c.passed(), "{c:?}");
        // Not trivially zero: gemm sums in another order than burn's kernel.
        assert!(c.forward > 0.0 || c.weight_grad > 0.0, "{c:?}");
        let s = block_on(settle(Some(ConvAlgo::Gemm), &Device::flex())).unwrap();
        assert_eq!((s.algo, s.fell_back, s.check.is_some()), (ConvAlgo::Gemm, false, true));
        // The CPU prefers burn's kernel: nothing to check.
        let s = block_on(settle(None, &Device::flex())).unwrap();
        assert_eq!(s, Settled::unchecked(ConvAlgo::Direct));
        assert!(!should_race(None, &s), "the CPU does not race");
    }

    #[test]
    fn a_race_warms_up_then_times_both_and_keeps_the_faster() {
        let mut race = ConvRace::new();
        // Warm-ups (slow, compiling) do not count; gemm wins the timed steps here.
        for (algo, ms) in [(ConvAlgo::Direct, 900.0), (ConvAlgo::Gemm, 5000.0), (ConvAlgo::Direct, 90.0), (ConvAlgo::Gemm, 12.0)]
        {
            assert_eq!(race.next(), algo);
            race.record(algo, ms);
            assert_eq!(race.decided(), None);
        }
        // A step recorded out of turn or without a time is ignored.
        race.record(ConvAlgo::Gemm, 1.0);
        race.record(ConvAlgo::Direct, f64::NAN);
        race.record(ConvAlgo::Direct, 80.0);
        race.record(ConvAlgo::Gemm, 15.0);
        let (winner, times) = race.decided().unwrap();
        assert_eq!((winner, times), (ConvAlgo::Gemm, RaceTimes { direct_ms: 80.0, gemm_ms: 12.0 }));
        assert_eq!(race.next(), ConvAlgo::Gemm);
        let checked = Settled { algo: ConvAlgo::Gemm, check: None, fell_back: false, race: None };
        assert_eq!(race.outcome(checked).race, Some(times));
        // Ties and a slower gemm keep burn's kernel.
        let mut race = ConvRace::new();
        for ms in [1.0, 1.0, 10.0, 30.0, 10.0, 30.0] {
            race.record(race.next(), ms);
        }
        assert_eq!(race.decided().map(|d| d.0), Some(ConvAlgo::Direct));
        assert!(should_race(None, &checked));
        assert!(!should_race(Some(ConvAlgo::Gemm), &checked), "a pinned choice is kept");
        assert!(!should_race(None, &Settled { fell_back: true, algo: ConvAlgo::Direct, ..checked }));
    }

    #[test]
    fn a_failed_or_broken_comparison_does_not_pass() {
        assert_eq!(relative(&[1.0, 2.0], &[1.0, 2.0]), 0.0);
        assert!((relative(&[1.0, 2.1], &[1.0, 2.0]) - 0.05).abs() < 1e-6);
        assert_eq!(relative(&[1.0], &[1.0, 2.0]), f64::INFINITY);
        assert_eq!(relative(&[f32::NAN], &[1.0]), f64::INFINITY);
        assert_eq!(relative(&[1.0], &[0.0]), f64::INFINITY);
        assert!(!ConvCheck { forward: 0.0, input_grad: 2e-4, weight_grad: 0.0 }.passed());
        assert!(!ConvCheck { forward: f64::NAN, input_grad: 0.0, weight_grad: 0.0 }.passed());
        assert!(!ConvCheck { forward: 0.0, input_grad: f64::INFINITY, weight_grad: 0.0 }.passed());
        assert_eq!(ConvCheck { forward: 1e-7, input_grad: 3e-7, weight_grad: 2e-7 }.worst(), 3e-7);
    }
}

//! `bench`: seconds per training step of each model on each backend, for each convolution
//! algorithm, each GPU backend checked against flex (tiny) first; and `check`: that check alone,
//! for one backend, with every model and algorithm asked for. Both return typed records; the
//! front ends print them.

use std::time::Instant;

use breastmnist_core::device_check::{self, DeviceCheck};
use breastmnist_core::model::conv_check::{self, ConvCheck};
use breastmnist_core::model::{ConvAlgo, ModelSize};
use breastmnist_core::train::{self, TrainConfig};
use breastmnist_core::{Device, ModelConfig};
use futures_lite::future::block_on;
use serde::Serialize;

use crate::backend::{self, Backend, TUNING};
use crate::error::Error;
use crate::event::{Cancel, EVENTS_VERSION, Event, Sink};

/// Adam steps of a backend check (`check`'s default, and what `bench` runs first).
pub const CHECK_STEPS: usize = 20;

/// What to time.
#[derive(Clone, Debug)]
pub struct BenchRequest {
    pub models: Vec<ModelSize>,
    /// Timed steps per measurement (after one warm-up step).
    pub steps: usize,
    pub batches: Vec<usize>,
    pub conv: Vec<ConvAlgo>,
    /// A reference time in ms per step to give ratios to.
    pub reference_ms: Option<f64>,
    /// The backends [flex and every GPU backend compiled in that starts].
    pub backends: Vec<Backend>,
}

/// A backend trained beside flex from the same weights on one fixed batch.
#[derive(Clone, Debug, Serialize)]
pub struct BackendCheck {
    pub backend: &'static str,
    pub model: &'static str,
    /// The convolution algorithm both sides used (`None`: burn's kernel).
    pub conv: Option<&'static str>,
    pub steps: usize,
    /// Worst relative difference of the loss trajectories.
    pub loss: f64,
    /// Worst relative difference of the first logits.
    pub logits: f64,
    pub final_loss_device: Option<f32>,
    pub final_loss_flex: Option<f32>,
    pub passed: bool,
}

impl BackendCheck {
    fn of(backend: Backend, model: ModelSize, conv: Option<ConvAlgo>, c: &DeviceCheck) -> Self {
        BackendCheck {
            backend: backend.name(),
            model: model.name(),
            conv: conv.map(ConvAlgo::name),
            steps: c.flex.len(),
            loss: c.loss,
            logits: c.logits,
            final_loss_device: c.device.last().copied(),
            final_loss_flex: c.flex.last().copied(),
            passed: c.passed(),
        }
    }
}

/// `gemm` against `direct` on a device: the worst relative differences.
#[derive(Clone, Debug, Serialize)]
pub struct ConvAgreement {
    pub backend: &'static str,
    #[serde(flatten)]
    pub check: ConvCheck,
    pub passed: bool,
}

/// One measurement.
#[derive(Clone, Debug, Serialize)]
pub struct Timing {
    pub model: &'static str,
    pub backend: &'static str,
    pub conv: &'static str,
    pub params: usize,
    pub batch: usize,
    pub ms_per_step: f64,
    /// Seconds for one epoch of BreastMNIST's 546 training images.
    pub s_per_epoch: f64,
    /// `direct`'s time over this one's (how much faster than burn's kernel).
    pub vs_direct: Option<f64>,
    /// This time over the reference.
    pub vs_reference: Option<f64>,
}

/// Every record of a bench, in the order it measured them.
#[derive(Clone, Debug, Serialize)]
pub struct Benched {
    /// GPU backends compiled in that did not start, and why.
    pub skipped: Vec<String>,
    /// How the GPU backends are tuned (printed when one runs).
    pub tuning: &'static str,
    /// Each GPU backend against flex (tiny), before it is timed.
    pub backend_checks: Vec<BackendCheck>,
    pub conv_checks: Vec<ConvAgreement>,
    /// The convolution each backend prefers.
    pub preferred: Vec<(&'static str, &'static str)>,
    pub threads: usize,
    pub steps: usize,
    pub reference_ms: Option<f64>,
    pub rows: Vec<Timing>,
}

fn started(command: &str, detail: String) -> Event {
    Event::Started { version: EVENTS_VERSION, command: command.into(), data: None, detail }
}

/// Times every model × backend × batch × convolution algorithm.
pub fn bench(req: &BenchRequest, sink: &mut dyn Sink, cancel: &Cancel) -> Result<Benched, Error> {
    if req.reference_ms.is_some_and(|r| !(r.is_finite() && r > 0.0)) {
        return Err(Error::Usage("--reference-ms must be a positive number".into()));
    }
    if req.steps == 0 || req.batches.is_empty() || req.batches.contains(&0) {
        return Err(Error::Usage("--steps and batch sizes must be at least 1".into()));
    }
    if req.models.is_empty() || req.conv.is_empty() {
        return Err(Error::Usage("--models and --conv must each name at least one".into()));
    }
    let (gpus, skipped) = if req.backends.is_empty() {
        backend::gpus()
    } else {
        let asked = req.backends.iter().filter(|b| **b != Backend::Flex);
        (asked.map(|&b| backend::start(b).map(|d| (b, d))).collect::<Result<_, _>>()?, Vec::new())
    };
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mut devices = Vec::new();
    if req.backends.is_empty() || req.backends.contains(&Backend::Flex) {
        devices.push((Backend::Flex, Device::flex()));
    }
    let join = |v: Vec<String>| v.join(", ");
    sink.emit(started(
        "bench",
        format!(
            "timing {} on {} at batch {} with {} convolutions, {} steps each after a warm-up",
            join(req.models.iter().map(|m| m.name().to_string()).collect()),
            join(devices.iter().map(|(b, _)| b.name()).chain(gpus.iter().map(|(b, _)| b.name())).map(String::from).collect()),
            join(req.batches.iter().map(usize::to_string).collect()),
            join(req.conv.iter().map(|c| c.name().to_string()).collect()),
            req.steps
        ),
    ));
    let mut backend_checks = Vec::new();
    for (b, d) in gpus {
        let c = block_on(device_check::against_flex(&d, ModelSize::Tiny, CHECK_STEPS, None))?;
        backend_checks.push(BackendCheck::of(b, ModelSize::Tiny, None, &c));
        devices.push((b, d));
    }
    let (mut conv_checks, mut preferred) = (Vec::new(), Vec::new());
    for (b, dev) in &devices {
        if req.conv.contains(&ConvAlgo::Gemm) {
            let check = block_on(conv_check::check(dev)).map_err(train::TrainError::from)?;
            conv_checks.push(ConvAgreement { backend: b.name(), passed: check.passed(), check });
        }
        preferred.push((b.name(), ConvAlgo::preferred(dev).name()));
    }
    let mut rows = Vec::new();
    for &size in &req.models {
        for (b, dev) in &devices {
            for &bs in &req.batches {
                let mut direct_ms = None;
                for &algo in &req.conv {
                    if cancel.is_cancelled() {
                        return Err(Error::Cancelled { kept: Vec::new() });
                    }
                    let (params, secs) = time_steps(size, dev, bs, req.steps, algo)?;
                    let ms = secs * 1e3;
                    if algo == ConvAlgo::Direct {
                        direct_ms = Some(ms);
                    }
                    sink.emit(Event::Note { message: format!("timed: {size} on {b} ({algo}), batch {bs}: {ms:.1} ms/step") });
                    rows.push(Timing {
                        model: size.name(),
                        backend: b.name(),
                        conv: algo.name(),
                        params,
                        batch: bs,
                        ms_per_step: ms,
                        s_per_epoch: secs * 546usize.div_ceil(bs) as f64,
                        vs_direct: direct_ms.map(|d| d / ms),
                        vs_reference: req.reference_ms.map(|r| ms / r),
                    });
                }
            }
        }
    }
    Ok(Benched {
        skipped,
        tuning: TUNING,
        backend_checks,
        conv_checks,
        preferred,
        threads,
        steps: req.steps,
        reference_ms: req.reference_ms,
        rows,
    })
}

/// A backend to check against flex.
#[derive(Clone, Debug)]
pub struct CheckRequest {
    pub backend: Backend,
    pub models: Vec<ModelSize>,
    /// Adam steps on the fixed batch.
    pub steps: usize,
    /// Convolution algorithms to train with; both sides use the same one.
    pub conv: Vec<ConvAlgo>,
}

/// Every check of a backend.
#[derive(Clone, Debug, Serialize)]
pub struct Checked {
    pub backend: &'static str,
    /// How a GPU backend is tuned (none for flex).
    pub tuning: Option<&'static str>,
    /// `gemm` against `direct` on the device, when gemm was asked for.
    pub conv_check: Option<ConvAgreement>,
    pub checks: Vec<BackendCheck>,
    /// What did not pass (empty when the backend trains as flex does).
    pub failed: Vec<String>,
}

impl Checked {
    /// The check as the command's outcome: an error naming what did not pass, with its figures
    /// (the JSON printer's `error` is the only line a failed check writes).
    pub fn verdict(&self) -> Result<(), Error> {
        if self.failed.is_empty() {
            return Ok(());
        }
        let mut figures: Vec<String> = self
            .conv_check
            .iter()
            .filter(|c| !c.passed)
            .map(|c| {
                format!(
                    "gemm vs direct: forward {:.1e}, input grad {:.1e}, weight grad {:.1e} (bound {:.0e})",
                    c.check.forward,
                    c.check.input_grad,
                    c.check.weight_grad,
                    ConvCheck::TOLERANCE
                )
            })
            .collect();
        figures.extend(self.checks.iter().filter(|c| !c.passed).map(|c| {
            format!(
                "{} ({}): loss {:.1e} (bound {:.0e}), first logits {:.1e} (bound {:.0e})",
                c.model,
                c.conv.unwrap_or("burn's kernel"),
                c.loss,
                DeviceCheck::TOLERANCE,
                c.logits,
                DeviceCheck::LOGITS_TOLERANCE
            )
        }));
        Err(Error::CheckFailed(format!("{} does not train as flex does: {}", self.backend, figures.join("; "))))
    }
}

/// Checks `req.backend` against flex for every model and convolution algorithm (and `gemm`
/// against `direct` on the device).
pub fn check(req: &CheckRequest, sink: &mut dyn Sink, cancel: &Cancel) -> Result<Checked, Error> {
    if req.steps == 0 || req.models.is_empty() || req.conv.is_empty() {
        return Err(Error::Usage("--steps must be at least 1 and --models and --conv must each name one".into()));
    }
    let device = backend::start(req.backend)?;
    sink.emit(started("check", format!("{} against flex, {} Adam steps on a fixed batch", req.backend, req.steps)));
    let mut failed = Vec::new();
    let conv_check = if req.conv.contains(&ConvAlgo::Gemm) {
        let check = block_on(conv_check::check(&device)).map_err(train::TrainError::from)?;
        if !check.passed() {
            failed.push("gemm vs direct".to_string());
        }
        Some(ConvAgreement { backend: req.backend.name(), passed: check.passed(), check })
    } else {
        None
    };
    let mut checks = Vec::new();
    for &size in &req.models {
        for &algo in &req.conv {
            if cancel.is_cancelled() {
                return Err(Error::Cancelled { kept: Vec::new() });
            }
            let c = block_on(device_check::against_flex(&device, size, req.steps, Some(algo)))?;
            if !c.passed() {
                failed.push(format!("{size} ({algo})"));
            }
            checks.push(BackendCheck::of(req.backend, size, Some(algo), &c));
        }
    }
    Ok(Checked {
        backend: req.backend.name(),
        tuning: (req.backend != Backend::Flex).then_some(TUNING),
        conv_check,
        checks,
        failed,
    })
}

/// Seconds per training step of `size` at batch `bs` on `device` with `algo`'s convolutions,
/// and the parameter count.
fn time_steps(size: ModelSize, device: &Device, bs: usize, steps: usize, algo: ConvAlgo) -> Result<(usize, f64), Error> {
    let ad = device.clone().autodiff();
    let mc = ModelConfig::of(size);
    let mut model = mc.init(&ad, 0).map_err(train::TrainError::from)?.with_conv(Some(algo));
    let params = breastmnist_core::model::trainable_params(&model);
    let batch = device_check::fixed_batch(&mc, bs);
    let config = TrainConfig::new().with_model(size);
    let mut optim = config.optimizer.init();
    let (m, _) = block_on(train::train_step(model, &mut optim, &batch, 1e-3, &ad))?;
    model = m;
    let start = Instant::now();
    for _ in 0..steps {
        let (m, _) = block_on(train::train_step(model, &mut optim, &batch, 1e-3, &ad))?;
        model = m;
    }
    Ok((params, start.elapsed().as_secs_f64() / steps as f64))
}

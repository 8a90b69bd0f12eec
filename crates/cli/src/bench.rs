//! `breastmnist bench`: seconds per training step of each model on each compiled-in backend,
//! for each convolution algorithm, each GPU backend's check against flex (tiny) printed before
//! its rows; bench times a backend either way, `check` is the gate that fails.
//! `breastmnist check`: that check alone, for one backend, failing when it does not pass.

use std::time::Instant;

use breastmnist_core::device_check::{self, DeviceCheck};
use breastmnist_core::model::conv_check::{self, ConvCheck};
use breastmnist_core::model::{ConvAlgo, ModelSize};
use breastmnist_core::train::{self, TrainConfig};
use breastmnist_core::{Device, ModelConfig};
use futures_lite::future::block_on;

use crate::CliError;
use breastmnist_ops::backend::{self as backends, Backend as BackendArg};

#[derive(clap::Args, Debug)]
pub(crate) struct BenchArgs {
    /// Comma-separated model names.
    #[arg(long, default_value = "tiny,small,medium,resnet18,c8,c16,c32")]
    models: String,
    /// Timed steps per measurement (after one warm-up step).
    #[arg(long, default_value_t = 3)]
    steps: usize,
    /// Batch sizes to time.
    #[arg(long, default_value = "32,128")]
    batches: String,
    /// Convolution algorithms to time side by side (direct, gemm); `gemm` is checked against
    /// `direct` on each device first and its worst difference printed.
    #[arg(long, default_value = "direct,gemm")]
    conv: String,
    /// A reference time in ms per step (e.g. PyTorch's on the same machine) to print ratios to.
    #[arg(long, value_name = "MS")]
    reference_ms: Option<f64>,
    /// Comma-separated backends to time; each GPU one must start [flex and every GPU backend
    /// compiled in that starts].
    #[arg(long, value_delimiter = ',')]
    backends: Vec<BackendArg>,
}

/// Times every model × backend × batch × convolution algorithm; prints ratios to `direct` (and
/// to `--reference-ms`).
pub(crate) fn cmd_bench(a: BenchArgs) -> Result<(), CliError> {
    let models: Vec<ModelSize> =
        a.models.split(',').filter(|s| !s.trim().is_empty()).map(str::parse).collect::<Result<_, _>>()?;
    let batches: Vec<usize> = a
        .batches
        .split(',')
        .map(|s| s.trim().parse::<usize>().map_err(|_| CliError::Usage(format!("bad batch size '{s}'"))))
        .collect::<Result<_, _>>()?;
    let algos: Vec<ConvAlgo> =
        a.conv.split(',').map(|s| s.trim().parse::<ConvAlgo>().map_err(CliError::Name)).collect::<Result<_, _>>()?;
    if a.reference_ms.is_some_and(|r| !(r.is_finite() && r > 0.0)) {
        return Err(CliError::Usage("--reference-ms must be a positive number".into()));
    }
    if a.steps == 0 || batches.contains(&0) {
        return Err(CliError::Usage("--steps and batch sizes must be at least 1".into()));
    }
    let (gpus, skipped) = if a.backends.is_empty() {
        backends::gpus()
    } else {
        let asked = a.backends.iter().filter(|b| **b != BackendArg::Flex);
        (asked.map(|&b| backends::start(b).map(|d| (b, d))).collect::<Result<_, _>>()?, Vec::new())
    };
    for line in &skipped {
        println!("{line}");
    }
    let mut backends = Vec::new();
    if a.backends.is_empty() || a.backends.contains(&BackendArg::Flex) {
        backends.push(("flex", Device::flex()));
    }
    for (b, d) in gpus {
        println!("{}: {}", b.name(), backends::TUNING);
        let c = block_on(device_check::against_flex(&d, ModelSize::Tiny, CHECK_STEPS, None))?;
        println!("{}", check_line(b.name(), ModelSize::Tiny, None, &c));
        backends.push((b.name(), d));
    }
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!(
        "train-step time (forward + backward + Adam), 28 px, {} timed steps after 1 warm-up; {threads} CPU threads",
        a.steps
    );
    for (name, dev) in &backends {
        if algos.contains(&ConvAlgo::Gemm) {
            let c = block_on(conv_check::check(dev)).map_err(train::TrainError::from)?;
            println!("{}", conv_check_line(name, &c));
        }
        println!("{name}: preferred convolution {}", ConvAlgo::preferred(dev));
    }
    let reference = a.reference_ms.map_or(String::new(), |r| format!(" {:>9}", format!("x{r}ms")));
    println!(
        "{:<9} {:<7} {:<6} {:>12} {:>6} {:>10} {:>13} {:>9}{reference}",
        "model", "backend", "conv", "params", "batch", "ms/step", "s/epoch(546)", "vs direct"
    );
    for &size in &models {
        for (name, dev) in &backends {
            for &bs in &batches {
                let mut direct_ms = None;
                for &algo in &algos {
                    let (params, secs) = bench_one(size, dev, bs, a.steps, algo)?;
                    let ms = secs * 1e3;
                    if algo == ConvAlgo::Direct {
                        direct_ms = Some(ms);
                    }
                    let epoch = secs * 546usize.div_ceil(bs) as f64;
                    let ratio = direct_ms.map_or("–".to_string(), |d| format!("{:.2}x", d / ms));
                    let vs_ref = a.reference_ms.map_or(String::new(), |r| format!(" {:>9.2}", ms / r));
                    println!(
                        "{:<9} {:<7} {:<6} {:>12} {:>6} {:>10.1} {:>13.1} {:>9}{vs_ref}",
                        size.name(),
                        name,
                        algo.name(),
                        params,
                        bs,
                        ms,
                        epoch,
                        ratio
                    );
                }
            }
        }
    }
    Ok(())
}

/// Adam steps of a backend check (`check`'s default, and what `bench` runs first).
const CHECK_STEPS: usize = 20;

#[derive(clap::Args, Debug)]
pub(crate) struct CheckArgs {
    /// The backend to check against flex.
    #[arg(long)]
    backend: BackendArg,
    /// Comma-separated model names, each trained on the fixed batch.
    #[arg(long, default_value = "tiny,c8")]
    models: String,
    /// Adam steps on the fixed batch.
    #[arg(long, default_value_t = CHECK_STEPS)]
    steps: usize,
    /// Convolution algorithms to train with (direct, gemm); both sides use the same one.
    #[arg(long, default_value = "direct,gemm")]
    conv: String,
}

/// Checks `--backend` against flex for every model and convolution algorithm (and `gemm`
/// against `direct` on the device); fails when any check does not pass.
pub(crate) fn cmd_check(a: CheckArgs) -> Result<(), CliError> {
    let models: Vec<ModelSize> =
        a.models.split(',').filter(|s| !s.trim().is_empty()).map(str::parse).collect::<Result<_, _>>()?;
    let algos: Vec<ConvAlgo> =
        a.conv.split(',').map(|s| s.trim().parse::<ConvAlgo>().map_err(CliError::Name)).collect::<Result<_, _>>()?;
    if a.steps == 0 || models.is_empty() {
        return Err(CliError::Usage("--steps must be at least 1 and --models must name a model".into()));
    }
    let device = backends::start(a.backend)?;
    let name = a.backend.name();
    if a.backend != BackendArg::Flex {
        println!("{name}: {}", backends::TUNING);
    }
    let mut failed = Vec::new();
    if algos.contains(&ConvAlgo::Gemm) {
        let c = block_on(conv_check::check(&device)).map_err(train::TrainError::from)?;
        println!("{}", conv_check_line(name, &c));
        if !c.passed() {
            failed.push("gemm vs direct".to_string());
        }
    }
    for &size in &models {
        for &algo in &algos {
            let c = block_on(device_check::against_flex(&device, size, a.steps, Some(algo)))?;
            println!("{}", check_line(name, size, Some(algo), &c));
            if !c.passed() {
                failed.push(format!("{size} ({algo})"));
            }
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(CliError::CheckFailed(format!("{name} does not train as flex does: {}", failed.join(", "))))
    }
}

/// `gemm` against `direct` on a device as a line.
fn conv_check_line(name: &str, c: &ConvCheck) -> String {
    format!(
        "{name}: gemm vs direct, worst relative difference: forward {:.1e}, input grad {:.1e}, weight grad {:.1e} ({})",
        c.forward,
        c.input_grad,
        c.weight_grad,
        if c.passed() { "pass" } else { "FAIL" }
    )
}

/// A device check as a line: the two differences, the last losses, pass or FAIL.
fn check_line(name: &str, size: ModelSize, algo: Option<ConvAlgo>, c: &DeviceCheck) -> String {
    let last = |v: &[f32]| v.last().map_or("–".to_string(), |l| format!("{l:.5}"));
    format!(
        "{name} vs flex, {size}{}, {} Adam steps on a fixed batch: loss {:.1e}, first logits {:.1e} (final loss {} vs {}) ({})",
        algo.map_or(String::new(), |a| format!(" ({a})")),
        c.flex.len(),
        c.loss,
        c.logits,
        last(&c.device),
        last(&c.flex),
        if c.passed() { "pass" } else { "FAIL" }
    )
}

/// Seconds per training step of `size` at batch `bs` on `device` with `algo`'s convolutions,
/// and the parameter count.
fn bench_one(size: ModelSize, device: &Device, bs: usize, steps: usize, algo: ConvAlgo) -> Result<(usize, f64), CliError> {
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

//! `breastmnist bench`: seconds per training step of each model on each compiled-in backend,
//! for each convolution algorithm.

use std::time::Instant;

use breastmnist_core::batch::{Batcher, ImageView};
use breastmnist_core::model::{ConvAlgo, ModelSize, conv_check};
use breastmnist_core::rng::Rng;
use breastmnist_core::train::{self, TrainConfig};
use breastmnist_core::{Device, ModelConfig};
use futures_lite::future::block_on;

use crate::{CliError, wgpu_device};

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
        a.conv.split(',').map(|s| s.trim().parse::<ConvAlgo>().map_err(CliError::Arg)).collect::<Result<_, _>>()?;
    if a.reference_ms.is_some_and(|r| !(r.is_finite() && r > 0.0)) {
        return Err(CliError::Usage("--reference-ms must be a positive number".into()));
    }
    if a.steps == 0 || batches.contains(&0) {
        return Err(CliError::Usage("--steps and batch sizes must be at least 1".into()));
    }
    let mut backends = vec![("flex", Device::flex())];
    if cfg!(feature = "wgpu") {
        match wgpu_device() {
            Ok(d) => backends.push(("wgpu", d)),
            Err(e) => println!("wgpu: skipped ({e})"),
        }
    } else {
        println!("wgpu: not compiled in (build with --features wgpu); timing flex only");
    }
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!(
        "train-step time (forward + backward + Adam), 28 px, {} timed steps after 1 warm-up; {threads} CPU threads",
        a.steps
    );
    for (name, dev) in &backends {
        if algos.contains(&ConvAlgo::Gemm) {
            let c = block_on(conv_check::check(dev)).map_err(train::TrainError::from)?;
            println!(
                "{name}: gemm vs direct, worst relative difference: forward {:.1e}, input grad {:.1e}, weight grad {:.1e} ({})",
                c.forward,
                c.input_grad,
                c.weight_grad,
                if c.passed() { "pass" } else { "FAIL" }
            );
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

/// Seconds per training step of `size` at batch `bs` on `device` with `algo`'s convolutions,
/// and the parameter count.
fn bench_one(size: ModelSize, device: &Device, bs: usize, steps: usize, algo: ConvAlgo) -> Result<(usize, f64), CliError> {
    let ad = device.clone().autodiff();
    let mc = ModelConfig::of(size);
    let mut model = mc.init(&ad, 0).map_err(train::TrainError::from)?.with_conv(Some(algo));
    let params = breastmnist_core::model::trainable_params(&model);
    let mut rng = Rng::new(1);
    let images: Vec<u8> = (0..bs * 784).map(|_| rng.below(256) as u8).collect();
    let labels: Vec<u8> = (0..bs).map(|i| (i % 2) as u8).collect();
    let view = ImageView { images: &images, labels: &labels, side: 28, channels: 1 };
    let idx: Vec<usize> = (0..bs).collect();
    let batch = Batcher::eval().host_batch(&view, &idx, &mut rng);
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

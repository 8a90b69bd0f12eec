//! `breastmnist ssl`: self-supervised pretraining of an encoder on the unlabeled pool
//! (BreastMNIST's training images and, with `--extra`, every image of other MedMNIST files),
//! written as `encoder.ckpt` (for `train --init`, with or without `--linear-probe`) and
//! `pretext.json`. The lab's self-supervised methods pretrain through [`pretrain`] too.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use breastmnist_core::checkpoint::Checkpoint;
use breastmnist_core::lab::PretextRow;
use breastmnist_core::model::ModelSize;
use breastmnist_core::pretext::{self, Pool, PretextConfig, PretextEvent, PretextReport, PretextTrainer, Task};
use breastmnist_data::{Dataset, DecodeOptions};
use futures_lite::future::block_on;

use crate::{BackendArg, CliError, device, load_data, load_data_with, write};

#[derive(clap::Args, Debug)]
pub struct SslArgs {
    /// The BreastMNIST .npz (28 px): its training images join the pool, labels unused.
    #[arg(long)]
    data: PathBuf,
    /// contrastive (SimCLR, NT-Xent) or masked (masked-image reconstruction).
    #[arg(long, default_value = "contrastive")]
    task: String,
    /// Other MedMNIST files whose every image joins the pool, in grayscale (comma-separated,
    /// e.g. pneumoniamnist.npz,retinamnist.npz).
    #[arg(long, value_delimiter = ',', value_name = "NPZ")]
    extra: Vec<PathBuf>,
    /// The encoder: tiny, small, medium, resnet18, c8, c16 or c32.
    #[arg(long, default_value = "c16")]
    model: String,
    #[arg(long, default_value_t = 10)]
    epochs: usize,
    #[arg(long, default_value_t = 128)]
    batch: usize,
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Where encoder.ckpt and pretext.json go.
    #[arg(long)]
    out: PathBuf,
    #[arg(long, default_value = "flex")]
    backend: BackendArg,
}

/// The pool: `data`'s training split and every image of the `extra` files.
pub fn pool(data_path: &Path, data: &Dataset, extra: &[PathBuf]) -> Result<Pool, CliError> {
    let mut pool = Pool::new(data.side);
    let name = |p: &Path| p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned());
    pool.add_target(&name(data_path), data).map_err(|e| CliError::Usage(e.to_string()))?;
    let images_only = DecodeOptions { split_sizes: None, ..DecodeOptions::default() }.unlabeled();
    for path in extra {
        let other = load_data_with(path, &images_only)?;
        pool.add_other(&name(path), &other).map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?;
    }
    Ok(pool)
}

/// Pretrains `config` on `pool`, printing each epoch's loss under `label`; returns the
/// encoder's checkpoint and the lab's row.
pub fn pretrain(
    config: PretextConfig,
    pool: Arc<Pool>,
    device: &breastmnist_core::Device,
    label: &str,
) -> Result<(Vec<u8>, PretextRow, PretextReport), CliError> {
    let started = Instant::now();
    let failed = |e: pretext::PretextError| CliError::Usage(format!("pretraining failed: {e}"));
    let mut trainer = PretextTrainer::new(config.clone(), pool.clone(), device).map_err(failed)?;
    eprintln!(
        "{label}: {} pretraining of {} on {} images ({}), {} epochs × {} steps",
        config.task,
        config.model,
        pool.len(),
        pool.sources().iter().map(|s| format!("{} {}", s.name, s.images)).collect::<Vec<_>>().join(", "),
        config.epochs,
        trainer.steps_per_epoch()
    );
    block_on(pretext::run_to_end(&mut trainer, |ev| {
        if let PretextEvent::Epoch { epoch, loss } = ev {
            eprintln!("{label}: epoch {epoch:>3}  {} loss {loss:.4}  ({:.0} s)", config.task, started.elapsed().as_secs_f64());
        }
    }))
    .map_err(failed)?;
    let bytes = block_on(trainer.checkpoint()).map_err(failed)?;
    let seconds = started.elapsed().as_secs_f64();
    let report = PretextReport::new(&trainer, seconds);
    let row = PretextRow {
        model: config.model.name().to_string(),
        config,
        sources: pool.sources().iter().map(|s| format!("{} ({} images)", s.name, s.images)).collect(),
        images: pool.len(),
        losses: trainer.history().iter().map(|e| e.loss).collect(),
        seconds,
    };
    Ok((bytes, row, report))
}

pub fn cmd_ssl(a: SslArgs) -> Result<(), CliError> {
    let task: Task = a.task.parse().map_err(CliError::Name)?;
    let model: ModelSize = a.model.parse()?;
    let config = PretextConfig::new(task, model).with_epochs(a.epochs).with_batch_size(a.batch).with_lr(a.lr).with_seed(a.seed);
    config.validate().map_err(|e| CliError::Usage(e.to_string()))?;
    let data = load_data(&a.data)?;
    if data.channels != 1 {
        return Err(CliError::Usage(format!(
            "{} has {} channels; pretraining is for grayscale BreastMNIST",
            a.data.display(),
            data.channels
        )));
    }
    let pool = Arc::new(pool(&a.data, &data, &a.extra)?);
    let (device, _) = device(a.backend)?;
    std::fs::create_dir_all(&a.out).map_err(|source| CliError::Write { path: a.out.clone(), source })?;
    let (bytes, _, report) = pretrain(config, pool, &device, "ssl")?;
    // What is written must load back as a checkpoint.
    Checkpoint::from_bytes(&bytes).map_err(|source| CliError::Checkpoint { path: a.out.join("encoder.ckpt"), source })?;
    write(&a.out.join("encoder.ckpt"), &bytes)?;
    write(&a.out.join("pretext.json"), report.to_json().as_bytes())?;
    println!(
        "{} loss {:.4} -> {:.4} in {:.0} s; wrote {}/{{encoder.ckpt, pretext.json}}",
        task,
        report.history.first().map_or(f64::NAN, |e| e.loss),
        report.history.last().map_or(f64::NAN, |e| e.loss),
        report.seconds,
        a.out.display()
    );
    println!("fine-tune: breastmnist train --data {} --init {}/encoder.ckpt [--linear-probe]", a.data.display(), a.out.display());
    Ok(())
}

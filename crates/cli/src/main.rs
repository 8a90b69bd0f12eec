//! `breastmnist`: train, evaluate and benchmark the core natively.
//!
//! Thin glue: clap parses raw arguments, [`validate`](TrainArgs::validate) turns them once into
//! the core's typed configuration, the core does the work, and this file prints progress and
//! writes files. It must not hold ML logic of its own.

mod pretext;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use breastmnist_core::batch::{Augmentation, Batcher, ImageView};
use breastmnist_core::checkpoint::{self, Checkpoint};
use breastmnist_core::eval;
use breastmnist_core::export::{EnsembleFile, EnsembleMember, Environment, MetricsFile, ValSummary, predictions_csv};
use breastmnist_core::model::{ModelSize, UnknownModel};
use breastmnist_core::result_file::{self, ResultFile};
use breastmnist_core::rng::Rng;
use breastmnist_core::torch;
use breastmnist_core::train::{self, Curriculum, Order, Preset, Schedule, Selection, TrainConfig, TrainEvent, Trainer};
use breastmnist_core::{Device, ModelConfig};
use breastmnist_data::{DecodeOptions, Split, decode_npz};
use clap::{Parser, Subcommand, ValueEnum};
use futures_lite::future::block_on;
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Parser, Debug)]
#[command(name = "breastmnist", version, about = "Train, evaluate and benchmark BreastMNIST ResNets")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Train a model and write metrics.json, predictions.csv, best.ckpt and MedMNIST's
    /// standard result files for val and test (scored by `medmnist.Evaluator`) to --out.
    Train(Box<TrainArgs>),
    /// Supervised pretraining on another binary MedMNIST file (e.g. pneumoniamnist.npz): the
    /// same recipe flags as `train`, any split sizes; fine-tune the result on BreastMNIST with
    /// `train --init DIR/best.ckpt`.
    Pretrain(Box<TrainArgs>),
    /// Self-supervised pretraining (contrastive or masked reconstruction) on BreastMNIST's
    /// training images (labels unused) and other MedMNIST files; writes encoder.ckpt for
    /// `train --init DIR/encoder.ckpt [--linear-probe]` and pretext.json.
    Ssl(pretext::SslArgs),
    /// Evaluate a checkpoint on a split and print AUC, ACC and the confusion matrix; with --out,
    /// also write metrics.json and MedMNIST's standard result files for val and test. Takes our
    /// .ckpt, a PyTorch state_dict as .safetensors or .pt/.pth (MedMNIST's ResNet names).
    Eval(EvalArgs),
    /// Write a checkpoint's weights as .safetensors with PyTorch's names and layouts
    /// (MedMNIST's ResNet; the README has the PyTorch module and the loading snippet).
    Export(ExportArgs),
    /// Time training steps of each model size on each compiled-in backend.
    Bench(BenchArgs),
    /// Evaluate several checkpoints as one model (the mean of their probabilities) and write
    /// ensemble.json, predictions.csv and the standard result files for val and test to --out.
    Ensemble(EnsembleArgs),
    /// Run training methods side by side on a base recipe, for several seeds and models, and
    /// write the summary (mean ± sd of test AUC and ACC) as JSON.
    Lab(LabArgs),
}

#[derive(clap::Args, Debug)]
struct LabArgs {
    #[arg(long)]
    data: PathBuf,
    /// The base recipe: paper, reader or best.
    #[arg(long, default_value = "reader")]
    preset: String,
    /// Comma-separated models.
    #[arg(long, default_value = "c8,c16")]
    models: String,
    /// Comma-separated seeds.
    #[arg(long, default_value = "0,1,2")]
    seeds: String,
    /// Comma-separated methods (base, no-tta, best-val-auc, ema-last, curriculum-easy,
    /// curriculum-hard, curriculum-random, transfer, contrastive, contrastive-probe, masked,
    /// masked-probe, ensemble) [all; transfer needs --pretrain-data].
    #[arg(long)]
    methods: Option<String>,
    /// Override the base recipe's epochs.
    #[arg(long)]
    epochs: Option<usize>,
    /// Train on the first N training images.
    #[arg(long)]
    subset: Option<usize>,
    /// Another binary MedMNIST file for the `transfer` method (e.g. pneumoniamnist.npz).
    #[arg(long, value_name = "NPZ")]
    pretrain_data: Option<PathBuf>,
    /// Epochs of the transfer method's pretraining (seed 0, the base recipe otherwise).
    #[arg(long, default_value_t = 10)]
    pretrain_epochs: usize,
    /// Other MedMNIST files whose every image joins the self-supervised methods' unlabeled
    /// pool (beside BreastMNIST's training images), e.g. pneumoniamnist.npz,retinamnist.npz.
    #[arg(long, value_delimiter = ',', value_name = "NPZ")]
    ssl_extra: Vec<PathBuf>,
    /// Epochs of each self-supervised pretraining (seed 0, batch 128, one per model and task).
    #[arg(long, default_value_t = 10)]
    ssl_epochs: usize,
    /// Where to write the report.
    #[arg(long, default_value = "lab.json")]
    out: PathBuf,
    /// Also keep the pretrained starting points here, as MODEL-pneumonia.ckpt,
    /// MODEL-contrastive.ckpt and MODEL-masked.ckpt (what the page serves).
    #[arg(long, value_name = "DIR")]
    save_pretrained: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
struct EnsembleArgs {
    #[arg(long)]
    data: PathBuf,
    /// Two or more checkpoints, comma-separated (e.g. the best.ckpt of three seeds).
    #[arg(long, value_delimiter = ',', num_args = 1.., required = true)]
    checkpoints: Vec<PathBuf>,
    /// Flip test-time augmentation for every member.
    #[arg(long)]
    tta: bool,
    #[arg(long)]
    out: PathBuf,
    /// The run name in the result files' names [ensemble-N].
    #[arg(long, value_name = "NAME")]
    run: Option<String>,
    #[arg(long, value_enum, default_value = "flex")]
    backend: BackendArg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum BackendArg {
    Flex,
    Wgpu,
}

/// `breastmnist train`: a preset (default `paper`, MedMNIST's official recipe) and flags that
/// override its values, whatever their order.
#[derive(clap::Args, Debug)]
struct TrainArgs {
    /// The BreastMNIST .npz file (28 or 64 px).
    #[arg(long)]
    data: PathBuf,
    /// Start from a named recipe: paper (ResNet-18, 100 epochs, best validation AUC), reader
    /// (c16, 20 epochs, flips, last epoch, flip TTA) or best (c16, 60 epochs, EMA, flip TTA).
    #[arg(long, default_value = "paper")]
    preset: String,
    /// tiny, small, medium, resnet18, c8, c16 or c32 [preset's].
    #[arg(long)]
    model: Option<String>,
    #[arg(long)]
    epochs: Option<usize>,
    #[arg(long)]
    batch: Option<usize>,
    #[arg(long)]
    lr: Option<f64>,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output folder (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Train on the first N training images.
    #[arg(long)]
    subset: Option<usize>,
    /// none, flip, or full (flips, rotations and shifts); `--augment` alone means full.
    #[arg(long, value_name = "MODE", num_args = 0..=1, default_missing_value = "full")]
    augment: Option<String>,
    /// Mixup with Beta(A, A).
    #[arg(long, value_name = "A")]
    mixup: Option<f64>,
    #[arg(long)]
    weight_decay: Option<f64>,
    /// Cosine learning-rate schedule instead of the multi-step one.
    #[arg(long)]
    cosine: bool,
    /// Which model to keep: best-val-auc, last or ema-last.
    #[arg(long, value_name = "RULE")]
    selection: Option<String>,
    /// Per-step decay of the weight average (with --selection ema-last).
    #[arg(long, value_name = "DECAY")]
    ema: Option<f64>,
    /// Flip test-time augmentation (true/false; the flag alone means true).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    tta: Option<bool>,
    /// Curriculum learning by each image's last loss: easy-first (curriculum), hard-first
    /// (anti-curriculum) or random (the control).
    #[arg(long, value_name = "ORDER")]
    curriculum: Option<String>,
    /// With --curriculum: the fraction of images used at epoch 2.
    #[arg(long, value_name = "F", default_value_t = 0.4)]
    curriculum_start: f64,
    /// With --curriculum: the epoch from which all images are used [half the epochs].
    #[arg(long, value_name = "K")]
    curriculum_full_at: Option<usize>,
    /// Resize inputs to N px inside the model.
    #[arg(long, value_name = "N")]
    resize: Option<usize>,
    /// Fine-tune from this checkpoint instead of starting from scratch.
    #[arg(long, value_name = "FILE")]
    init: Option<PathBuf>,
    /// With --init: train only the last stage and the classifier.
    #[arg(long)]
    freeze_backbone: bool,
    /// With --init: a linear probe, training only the classifier on the checkpoint's features.
    #[arg(long)]
    linear_probe: bool,
    /// The run name in the result files' names (`..._[ACC]0.897@NAME.csv`) [MODEL-seedSEED].
    #[arg(long, value_name = "NAME")]
    run: Option<String>,
    #[arg(long, value_enum, default_value = "flex")]
    backend: BackendArg,
}

#[derive(clap::Args, Debug)]
struct EvalArgs {
    #[arg(long)]
    data: PathBuf,
    #[arg(long)]
    checkpoint: PathBuf,
    /// train, val or test.
    #[arg(long, default_value = "test")]
    split: String,
    /// Flip test-time augmentation.
    #[arg(long)]
    tta: bool,
    /// Also write metrics.json and the standard result files for val and test here.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// With --out: the run name in the result files' names [the checkpoint's file stem].
    #[arg(long, value_name = "NAME")]
    run: Option<String>,
    /// For a PyTorch file: the architecture (tiny, small, medium, resnet18, c8, c16, c32)
    /// [inferred from the tensors' names and shapes].
    #[arg(long)]
    model: Option<ModelSize>,
    #[arg(long, value_enum, default_value = "flex")]
    backend: BackendArg,
}

#[derive(clap::Args, Debug)]
struct ExportArgs {
    /// Our checkpoint (.ckpt).
    #[arg(long)]
    checkpoint: PathBuf,
    /// The .safetensors file to write.
    #[arg(long)]
    out: PathBuf,
}

#[derive(clap::Args, Debug)]
struct BenchArgs {
    /// Comma-separated model names.
    #[arg(long, default_value = "tiny,small,medium,resnet18,c8,c16,c32")]
    models: String,
    /// Timed steps per measurement (after one warm-up step).
    #[arg(long, default_value_t = 3)]
    steps: usize,
    /// Batch sizes to time.
    #[arg(long, default_value = "32,128")]
    batches: String,
}

/// Everything that ends the program with a message.
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a usable BreastMNIST file: {source}")]
    Data { path: PathBuf, source: breastmnist_data::DataError },
    #[error("{path}: {source}")]
    Checkpoint { path: PathBuf, source: breastmnist_core::CheckpointError },
    #[error("{path}: {source}")]
    Weights { path: PathBuf, source: Box<torch::TorchError> },
    #[error(transparent)]
    Model(#[from] UnknownModel),
    #[error("{0}")]
    Arg(String),
    #[error("invalid setting: {0}")]
    Config(#[from] train::ConfigError),
    #[error("training failed: {0}")]
    Train(#[from] train::TrainError),
    #[error("evaluation failed: {0}")]
    Eval(#[from] eval::EvalError),
    #[error("{0}")]
    Usage(String),
    #[error("training stopped: {0}")]
    Failure(train::TrainFailure),
    #[error("the wgpu backend is not available: {0}")]
    NoWgpu(String),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(a) => cmd_train(*a, &DecodeOptions::default(), true),
        // Another dataset: BreastMNIST's result files would be misnamed, so none are written.
        Command::Pretrain(a) => cmd_train(*a, &DecodeOptions { split_sizes: None, ..DecodeOptions::default() }, false),
        Command::Eval(a) => cmd_eval(a),
        Command::Export(a) => cmd_export(a),
        Command::Bench(a) => cmd_bench(a),
        Command::Ensemble(a) => cmd_ensemble(a),
        Command::Lab(a) => cmd_lab(a),
        Command::Ssl(a) => pretext::cmd_ssl(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn read(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|source| CliError::Read { path: path.to_path_buf(), source })
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    std::fs::write(path, bytes).map_err(|source| CliError::Write { path: path.to_path_buf(), source })
}

/// Writes MedMNIST's standard result files into `dir` and prints their names. An earlier file
/// of the same data size, split and run (another run's metrics in its name) is removed first,
/// so the folder holds one file per split and run.
fn write_result_files(dir: &Path, files: &[ResultFile]) -> Result<(), CliError> {
    let new: Vec<result_file::FileName> = files.iter().filter_map(|f| result_file::parse_name(&f.name).ok()).collect();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(old) = result_file::parse_name(&name) else { continue };
            let replaced = new.iter().any(|n| (n.side, n.split, &n.run) == (old.side, old.split, &old.run));
            if replaced && !files.iter().any(|f| f.name == name) {
                let path = entry.path();
                std::fs::remove_file(&path).map_err(|source| CliError::Write { path, source })?;
            }
        }
    }
    println!("result files (score with medmnist's Evaluator.parse_and_evaluate):");
    for f in files {
        write(&dir.join(&f.name), f.contents.as_bytes())?;
        println!("  {}", dir.join(&f.name).display());
    }
    Ok(())
}

fn load_data(path: &Path) -> Result<breastmnist_data::Dataset, CliError> {
    load_data_with(path, &DecodeOptions::default())
}

/// Decodes a MedMNIST-layout `.npz`; `options` say which split sizes it must have.
fn load_data_with(path: &Path, options: &DecodeOptions) -> Result<breastmnist_data::Dataset, CliError> {
    let bytes = read(path)?;
    decode_npz(&bytes, options).map_err(|source| CliError::Data { path: path.to_path_buf(), source })
}

/// The device for a backend choice, with the names the metrics JSON records.
fn device(backend: BackendArg) -> Result<(Device, Environment), CliError> {
    match backend {
        BackendArg::Flex => Ok((Device::flex(), Environment::new("flex", "cpu"))),
        BackendArg::Wgpu => wgpu_device().map(|d| (d, Environment::new("wgpu", "default adapter"))),
    }
}

#[cfg(feature = "wgpu")]
fn wgpu_device() -> Result<Device, CliError> {
    // Creating the device is lazy; the first tensor operation finds the adapter, and panics
    // when there is none. Probe it once here so the failure is a clear message.
    let probe = std::panic::catch_unwind(|| {
        let d = Device::wgpu(Default::default());
        let t = breastmnist_core::burn::tensor::Tensor::<1>::ones([4], &d);
        block_on(t.into_data_async()).map(|_| d)
    });
    match probe {
        Ok(Ok(d)) => Ok(d),
        Ok(Err(e)) => Err(CliError::NoWgpu(format!("{e:?}"))),
        Err(_) => Err(CliError::NoWgpu("no GPU/Vulkan adapter found".into())),
    }
}

#[cfg(not(feature = "wgpu"))]
fn wgpu_device() -> Result<Device, CliError> {
    Err(CliError::NoWgpu("this binary was built without the `wgpu` feature".into()))
}

impl TrainArgs {
    /// The one place raw arguments become the core's typed configuration.
    /// The preset's recipe with every given flag applied over it.
    fn recipe(&self) -> Result<TrainConfig, CliError> {
        let preset: Preset = self.preset.parse().map_err(CliError::Arg)?;
        if self.freeze_backbone && self.init.is_none() {
            return Err(CliError::Usage("--freeze-backbone needs --init CHECKPOINT".into()));
        }
        if self.linear_probe && self.init.is_none() {
            return Err(CliError::Usage(
                "--linear-probe needs --init CHECKPOINT (e.g. the encoder.ckpt of `breastmnist ssl`)".into(),
            ));
        }
        let mut c = preset.config().with_seed(self.seed).with_subset(self.subset).with_resize(self.resize);
        c.freeze_backbone = self.freeze_backbone;
        c.linear_probe = self.linear_probe;
        if let Some(m) = &self.model {
            c.model = m.parse::<ModelSize>()?;
        }
        if let Some(v) = self.epochs {
            c.epochs = v;
        }
        if let Some(v) = self.batch {
            c.batch_size = v;
        }
        if let Some(v) = self.lr {
            c.optimizer.lr = v;
        }
        if let Some(a) = &self.augment {
            c.augment = a.parse::<Augmentation>().map_err(CliError::Arg)?;
        }
        if self.mixup.is_some() {
            c.mixup = self.mixup;
        }
        if let Some(v) = self.weight_decay {
            c.optimizer.weight_decay = v;
        }
        if self.cosine {
            c.optimizer.schedule = Schedule::Cosine;
        }
        if let Some(r) = &self.selection {
            c.selection = r.parse::<Selection>().map_err(CliError::Arg)?;
        }
        if let Some(v) = self.ema {
            c.ema_decay = v;
        }
        if let Some(v) = self.tta {
            c.tta = v;
        }
        if let Some(o) = &self.curriculum {
            let order: Order = o.parse().map_err(CliError::Arg)?;
            let full_at = self.curriculum_full_at.unwrap_or((c.epochs / 2).max(2));
            c.curriculum = Some(Curriculum { order, start: self.curriculum_start, full_at });
        }
        Ok(c)
    }

    /// The one place raw arguments become the core's typed, validated configuration.
    fn validate(&self, train_len: usize) -> Result<TrainConfig, CliError> {
        let config = self.recipe()?;
        config.validate(train_len)?;
        Ok(config)
    }
}

/// `train` and `pretrain`; `official` (BreastMNIST itself) adds the standard result files.
fn cmd_train(a: TrainArgs, options: &DecodeOptions, official: bool) -> Result<(), CliError> {
    // Validate what needs no file first, so typos fail fast.
    a.recipe()?;
    let data = Arc::new(load_data_with(&a.data, options)?);
    let config = a.validate(data.train.len())?;
    let (device, env) = device(a.backend)?;
    std::fs::create_dir_all(&a.out).map_err(|source| CliError::Write { path: a.out.clone(), source })?;
    let mut trainer = match &a.init {
        Some(path) => {
            let ckpt =
                Checkpoint::from_bytes(&read(path)?).map_err(|source| CliError::Checkpoint { path: path.clone(), source })?;
            Trainer::from_checkpoint(config, data.clone(), &ckpt, &device)?
        }
        None => Trainer::new(config, data.clone(), &device)?,
    };
    let total = (trainer.config().epochs * trainer.steps_per_epoch()) as u64;
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} steps {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    eprintln!(
        "training {} ({}) on {} images ({} px), {} epochs × {} steps, keeping {}{}, backend {}",
        trainer.config().model,
        trainer.config().preset.map_or("custom recipe".to_string(), |p| format!("preset {p}")),
        trainer.config().subset.unwrap_or(data.train.len()),
        data.side,
        trainer.config().epochs,
        trainer.steps_per_epoch(),
        trainer.config().selection,
        if trainer.config().tta { ", flip TTA" } else { "" },
        env.backend
    );
    let outcome = block_on(train::run_to_end(&mut trainer, |ev| match ev {
        TrainEvent::Step { epoch, loss, lr, .. } => {
            bar.inc(1);
            bar.set_message(format!("epoch {epoch} loss {loss:.4} lr {lr:.1e}"));
        }
        TrainEvent::Epoch(m) => say(
            &bar,
            format!(
                "epoch {:>3}  train loss {:.4} acc {:.3} | val loss {:.4} acc {:.3} auc {:.4}{}",
                m.epoch,
                m.train_loss,
                m.train_acc,
                m.val_loss,
                m.val_acc,
                m.val_auc,
                if m.is_best { "  *kept" } else { "" }
            ),
        ),
        _ => {}
    }))?;
    bar.finish_and_clear();
    // Keep the best model even when the run stopped early.
    if let Some(bytes) = block_on(trainer.best_checkpoint())? {
        write(&a.out.join("best.ckpt"), &bytes)?;
    }
    let result = outcome.map_err(CliError::Failure)?;
    let file = MetricsFile::new(&result, env);
    write(&a.out.join("metrics.json"), file.to_json().as_bytes())?;
    write(&a.out.join("predictions.csv"), predictions_csv(&result.test.predictions).as_bytes())?;
    let c = result.test.confusion;
    println!(
        "kept epoch {} (val AUC {:.4}, ACC {:.4})\ntest AUC {:.4}  ACC {:.4}  confusion [[tn {}, fp {}], [fn {}, tp {}]]",
        result.best_epoch,
        result.val.auc,
        result.val.acc,
        result.test.auc,
        result.test.acc,
        c.tn(),
        c.fp(),
        c.fn_(),
        c.tp()
    );
    println!("wrote {}/{{metrics.json, predictions.csv, best.ckpt}}", a.out.display());
    if official {
        let run = a.run.clone().unwrap_or_else(|| result_file::run_name(&result));
        write_result_files(&a.out, &result_file::result_files(&result, &run))?;
    }
    Ok(())
}

/// Prints a line above the progress bar, or to stderr when the bar is hidden (not a terminal).
fn say(bar: &ProgressBar, line: String) {
    if bar.is_hidden() {
        eprintln!("{line}");
    } else {
        bar.println(line);
    }
}

/// Our checkpoint from any weight file: our .ckpt, or a PyTorch state dict (.safetensors,
/// .pt/.pth) for `data`'s images, its architecture `model` or inferred.
fn load_weights(path: &Path, data: &breastmnist_data::Dataset, model: Option<ModelSize>) -> Result<Checkpoint, CliError> {
    let weights = |source| CliError::Weights { path: path.to_path_buf(), source: Box::new(source) };
    let bytes = read(path)?;
    let ckpt = match torch::Format::sniff(&bytes) {
        Some(torch::Format::Pytorch) => {
            let dict = torch::read_pytorch_file(path).map_err(weights)?;
            torch::to_checkpoint(dict, data.side, data.channels, model).map_err(weights)?
        }
        _ => torch::checkpoint_from_bytes(&bytes, data.side, data.channels, model).map_err(weights)?,
    };
    if ckpt.config.input_size != data.side || ckpt.config.in_channels != data.channels {
        return Err(CliError::Usage(format!(
            "{} is for {} px images with {} channel(s) but the data has {} px images with {}",
            path.display(),
            ckpt.config.input_size,
            ckpt.config.in_channels,
            data.side,
            data.channels
        )));
    }
    Ok(ckpt)
}

fn cmd_export(a: ExportArgs) -> Result<(), CliError> {
    let ckpt = Checkpoint::from_bytes(&read(&a.checkpoint)?)
        .map_err(|source| CliError::Checkpoint { path: a.checkpoint.clone(), source })?;
    let bytes = block_on(torch::to_safetensors(&ckpt))
        .map_err(|source| CliError::Weights { path: a.checkpoint.clone(), source: Box::new(source) })?;
    write(&a.out, &bytes)?;
    println!("wrote {} ({} model, PyTorch names; see the README to load it)", a.out.display(), ckpt.config.size);
    Ok(())
}

fn cmd_eval(a: EvalArgs) -> Result<(), CliError> {
    let split = Split::parse(&a.split)
        .ok_or_else(|| CliError::Usage(format!("unknown split '{}' (expected train, val or test)", a.split)))?;
    let data = load_data(&a.data)?;
    let ckpt = load_weights(&a.checkpoint, &data, a.model)?;
    let (device, env) = device(a.backend)?;
    let model = ckpt.load(&device).map_err(|source| CliError::Checkpoint { path: a.checkpoint.clone(), source })?;
    let view = ImageView::of(&data, split);
    let (ev, _) = block_on(eval::evaluate(&model, &view, &device, a.tta))?;
    let c = ev.confusion;
    println!("model {} on {split} ({} images)", ckpt.config.size, view.len());
    println!("AUC {:.4}\nACC {:.4}", ev.auc, ev.acc);
    println!("confusion (rows true, cols predicted; label 1 positive):");
    println!("            pred 0  pred 1\n  true 0  {:>7} {:>7}\n  true 1  {:>7} {:>7}", c.tn(), c.fp(), c.fn_(), c.tp());
    if let Some(out) = &a.out {
        let (result, _) = block_on(train::evaluate_checkpoint(&ckpt, &data, &device, a.tta))?;
        std::fs::create_dir_all(out).map_err(|source| CliError::Write { path: out.clone(), source })?;
        write(&out.join("metrics.json"), MetricsFile::new(&result, env).to_json().as_bytes())?;
        println!("wrote {}", out.join("metrics.json").display());
        let stem = a.checkpoint.file_stem().map(|s| s.to_string_lossy().into_owned());
        let run = a.run.clone().or(stem).unwrap_or_else(|| result_file::run_name(&result));
        write_result_files(out, &result_file::result_files(&result, &run))?;
    }
    Ok(())
}

/// Validation metrics and predictions, and the test report, of `models` as one model (the
/// mean probability).
fn ensemble_metrics(
    models: &[breastmnist_core::Network],
    data: &breastmnist_data::Dataset,
    device: &Device,
    tta: bool,
) -> Result<(breastmnist_core::metrics::Evaluation, Vec<train::Prediction>, train::TestReport), CliError> {
    let val_view = ImageView::of(data, Split::Val);
    let val_scores = block_on(eval::ensemble_scores(models, &val_view, device, tta))?;
    let val = breastmnist_core::metrics::evaluate(val_view.labels, &val_scores).map_err(eval::EvalError::from)?;
    let test_view = ImageView::of(data, Split::Test);
    let test_scores = block_on(eval::ensemble_scores(models, &test_view, device, tta))?;
    let test = train::test_report(test_view.labels, &test_scores).map_err(eval::EvalError::from)?;
    Ok((val, train::predictions(val_view.labels, &val_scores), test))
}

fn cmd_ensemble(a: EnsembleArgs) -> Result<(), CliError> {
    if a.checkpoints.len() < 2 {
        return Err(CliError::Usage("an ensemble needs at least two --checkpoints".into()));
    }
    let data = load_data(&a.data)?;
    let (device, env) = device(a.backend)?;
    let mut models = Vec::with_capacity(a.checkpoints.len());
    let mut members = Vec::with_capacity(a.checkpoints.len());
    for path in &a.checkpoints {
        let ckpt = load_weights(path, &data, None)?;
        models.push(ckpt.load(&device).map_err(|source| CliError::Checkpoint { path: path.clone(), source })?);
        members.push(EnsembleMember { source: path.display().to_string(), model_config: ckpt.config });
    }
    let (val, val_predictions, test) = ensemble_metrics(&models, &data, &device, a.tta)?;
    std::fs::create_dir_all(&a.out).map_err(|source| CliError::Write { path: a.out.clone(), source })?;
    let file = EnsembleFile {
        schema_version: breastmnist_core::export::SCHEMA_VERSION,
        kind: "mean-probability".into(),
        members,
        tta: a.tta,
        environment: env,
        val: ValSummary { auc: val.auc, acc: val.acc, epoch: 0, confusion: val.confusion, predictions: val_predictions },
        test,
    };
    write(&a.out.join("ensemble.json"), file.to_json().as_bytes())?;
    write(&a.out.join("predictions.csv"), predictions_csv(&file.test.predictions).as_bytes())?;
    println!(
        "ensemble of {} (mean probability{}): val AUC {:.4} ACC {:.4}\ntest AUC {:.4}  ACC {:.4}",
        models.len(),
        if a.tta { ", flip TTA" } else { "" },
        file.val.auc,
        file.val.acc,
        file.test.auc,
        file.test.acc
    );
    println!("wrote {}/{{ensemble.json, predictions.csv}}", a.out.display());
    let run = a.run.clone().unwrap_or_else(|| format!("ensemble-{}", models.len()));
    let results = [
        ResultFile::new(data.side, Split::Val, file.val.auc, file.val.acc, &file.val.predictions, &run),
        ResultFile::new(data.side, Split::Test, file.test.auc, file.test.acc, &file.test.predictions, &run),
    ];
    write_result_files(&a.out, &results)?;
    Ok(())
}

fn list<T: std::str::FromStr>(what: &str, s: &str) -> Result<Vec<T>, CliError>
where
    T::Err: std::fmt::Display,
{
    s.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| p.trim().parse::<T>().map_err(|e| CliError::Arg(format!("bad {what} '{p}': {e}"))))
        .collect()
}

/// Trains `config` to the end (fresh, or from `init`), returning the run, its kept model and
/// the seconds it took.
fn run_once(
    config: TrainConfig,
    data: &Arc<breastmnist_data::Dataset>,
    init: Option<&Checkpoint>,
    device: &Device,
) -> Result<(train::RunResult, breastmnist_core::Network, f64), CliError> {
    let started = Instant::now();
    let mut trainer = match init {
        Some(ckpt) => Trainer::from_checkpoint(config, data.clone(), ckpt, device)?,
        None => Trainer::new(config, data.clone(), device)?,
    };
    let result = block_on(train::run_to_end(&mut trainer, |_| {}))?.map_err(CliError::Failure)?;
    let model = trainer.best_model().map(|(_, m)| m.clone()).ok_or(train::TrainError::NoModel)?;
    Ok((result, model, started.elapsed().as_secs_f64()))
}

/// Writes a pretrained starting point into `dir`, if one was given.
fn save_pretrained(dir: Option<&Path>, name: &str, bytes: &[u8]) -> Result<(), CliError> {
    let Some(dir) = dir else { return Ok(()) };
    std::fs::create_dir_all(dir).map_err(|source| CliError::Write { path: dir.to_path_buf(), source })?;
    write(&dir.join(name), bytes)?;
    eprintln!("kept {}", dir.join(name).display());
    Ok(())
}

fn cmd_lab(a: LabArgs) -> Result<(), CliError> {
    use breastmnist_core::lab::{LabReport, LabRow, LabRun, Method};
    use breastmnist_core::pretext::{Pool, PretextConfig, Task};
    let preset: Preset = a.preset.parse().map_err(CliError::Arg)?;
    let models: Vec<ModelSize> = list("model", &a.models)?;
    let seeds: Vec<u64> = list("seed", &a.seeds)?;
    let mut methods: Vec<Method> = match &a.methods {
        Some(m) => list("method", m)?,
        None => Method::ALL.into_iter().filter(|&m| m != Method::Transfer || a.pretrain_data.is_some()).collect(),
    };
    methods.dedup();
    if methods.contains(&Method::Transfer) && a.pretrain_data.is_none() {
        return Err(CliError::Usage("the transfer method needs --pretrain-data NPZ".into()));
    }
    if models.is_empty() || seeds.is_empty() || methods.is_empty() {
        return Err(CliError::Usage("--models, --seeds and --methods must each name at least one".into()));
    }
    let data = Arc::new(load_data(&a.data)?);
    let pretrain_data = match &a.pretrain_data {
        Some(p) => Some(Arc::new(load_data_with(p, &DecodeOptions { split_sizes: None, ..DecodeOptions::default() })?)),
        None => None,
    };
    let device = Device::flex();
    let started = Instant::now();
    let ssl_pool = Arc::new(if methods.iter().any(|m| m.pretext().is_some()) {
        pretext::pool(&a.data, &data, &a.ssl_extra)?
    } else {
        Pool::new(data.side)
    });
    let mut pretext_rows = Vec::new();
    let mut rows = Vec::new();
    for &model in &models {
        let mut base = preset.config().with_model(model).with_subset(a.subset);
        if let Some(e) = a.epochs {
            base.epochs = e;
        }
        base.validate(data.train.len())?;
        let mut base_models = Vec::new();
        let pretrained = match (&pretrain_data, methods.contains(&Method::Transfer)) {
            (Some(pd), true) => {
                let config = base.clone().with_epochs(a.pretrain_epochs).with_subset(None).with_seed(0);
                eprintln!(
                    "{model}: pretraining on {} ({} images, {} epochs)",
                    a.pretrain_data.as_deref().unwrap_or(Path::new("")).display(),
                    pd.train.len(),
                    config.epochs
                );
                let (_, net, secs) = run_once(config, pd, None, &device)?;
                eprintln!("{model}: pretrained in {secs:.0} s");
                let bytes = checkpoint::save(&net, &base.model_config(pd.side, pd.channels))
                    .map_err(|source| CliError::Checkpoint { path: PathBuf::from("(pretrained)"), source })?;
                save_pretrained(a.save_pretrained.as_deref(), &format!("{model}-pneumonia.ckpt"), &bytes)?;
                Some(
                    Checkpoint::from_bytes(&bytes)
                        .map_err(|source| CliError::Checkpoint { path: PathBuf::from("(pretrained)"), source })?,
                )
            }
            _ => None,
        };
        // One self-supervised pretraining per task the methods need (seed 0).
        let mut encoders = Vec::new();
        for task in Task::ALL.into_iter().filter(|&t| methods.iter().any(|m| m.pretext() == Some(t))) {
            let config = PretextConfig::new(task, model).with_epochs(a.ssl_epochs);
            let (bytes, row, _) = pretext::pretrain(config, ssl_pool.clone(), &device, &format!("{model} {task}"))?;
            save_pretrained(a.save_pretrained.as_deref(), &format!("{model}-{task}.ckpt"), &bytes)?;
            let ckpt = Checkpoint::from_bytes(&bytes)
                .map_err(|source| CliError::Checkpoint { path: PathBuf::from("(pretext encoder)"), source })?;
            encoders.push((task, ckpt));
            pretext_rows.push(row);
        }
        for &method in methods.iter().filter(|&&m| m != Method::Ensemble) {
            let mut runs = Vec::new();
            for &seed in &seeds {
                let config = method.config(&base).with_seed(seed);
                let init = match method.pretext() {
                    Some(task) => encoders.iter().find(|(t, _)| *t == task).map(|(_, c)| c),
                    None if method == Method::Transfer => pretrained.as_ref(),
                    None => None,
                };
                let (result, net, seconds) = run_once(config, &data, init, &device)?;
                eprintln!(
                    "{model} {method} seed {seed}: test AUC {:.4} ACC {:.4} ({seconds:.0} s)",
                    result.test.auc, result.test.acc
                );
                if method == Method::Base {
                    base_models.push(net);
                }
                runs.push(LabRun {
                    seed,
                    val_auc: result.val.auc,
                    test_auc: result.test.auc,
                    test_acc: result.test.acc,
                    seconds,
                });
            }
            rows.push(LabRow::new(method, model.name(), method.config(&base).with_seed(seeds[0]), runs));
        }
        if methods.contains(&Method::Ensemble) {
            if base_models.is_empty() {
                // The ensemble combines the base recipe's models: train them if `base` was not asked for.
                for &seed in &seeds {
                    base_models.push(run_once(base.clone().with_seed(seed), &data, None, &device)?.1);
                }
            }
            let t = Instant::now();
            let (val, _, test) = ensemble_metrics(&base_models, &data, &device, base.tta)?;
            eprintln!("{model} ensemble of {}: test AUC {:.4} ACC {:.4}", base_models.len(), test.auc, test.acc);
            let run = LabRun {
                seed: base_models.len() as u64,
                val_auc: val.auc,
                test_auc: test.auc,
                test_acc: test.acc,
                seconds: t.elapsed().as_secs_f64(),
            };
            rows.push(LabRow::new(Method::Ensemble, model.name(), base.clone().with_seed(seeds[0]), vec![run]));
        }
    }
    let report = LabReport {
        schema_version: breastmnist_core::export::SCHEMA_VERSION,
        kind: "lab".into(),
        base: preset.name().into(),
        seeds: seeds.clone(),
        pretrain: a.pretrain_data.as_ref().filter(|_| methods.contains(&Method::Transfer)).map(|p| p.display().to_string()),
        pretext: pretext_rows,
        rows,
        total_seconds: started.elapsed().as_secs_f64(),
        note: "156 test images (42 malignant): differences under about 0.01 AUC are noise".into(),
    };
    write(&a.out, report.to_json().as_bytes())?;
    println!("{:<6} {:<18} {:>16} {:>16}", "model", "method", "test AUC", "test ACC");
    for r in &report.rows {
        println!(
            "{:<6} {:<18} {:>8.3} ± {:.3} {:>8.3} ± {:.3}",
            r.model,
            r.method.name(),
            r.test_auc.mean,
            r.test_auc.sd,
            r.test_acc.mean,
            r.test_acc.sd
        );
    }
    println!("({} seeds; {:.0} s in all) wrote {}", seeds.len(), report.total_seconds, a.out.display());
    Ok(())
}

fn cmd_bench(a: BenchArgs) -> Result<(), CliError> {
    let models: Vec<ModelSize> =
        a.models.split(',').filter(|s| !s.trim().is_empty()).map(str::parse).collect::<Result<_, _>>()?;
    let batches: Vec<usize> = a
        .batches
        .split(',')
        .map(|s| s.trim().parse::<usize>().map_err(|_| CliError::Usage(format!("bad batch size '{s}'"))))
        .collect::<Result<_, _>>()?;
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
    println!("{:<9} {:<7} {:>12} {:>6} {:>12} {:>14}", "model", "backend", "params", "batch", "s/step", "s/epoch(546)");
    for &size in &models {
        for (name, dev) in &backends {
            for &bs in &batches {
                let (params, secs) = bench_one(size, dev, bs, a.steps)?;
                let epoch = secs * 546usize.div_ceil(bs) as f64;
                println!("{:<9} {:<7} {:>12} {:>6} {:>12.3} {:>14.1}", size.name(), name, params, bs, secs, epoch);
            }
        }
    }
    Ok(())
}

/// Seconds per training step of `size` at batch `bs` on `device`, and the parameter count.
fn bench_one(size: ModelSize, device: &Device, bs: usize, steps: usize) -> Result<(usize, f64), CliError> {
    let ad = device.clone().autodiff();
    let mc = ModelConfig::of(size);
    let mut model = mc.init(&ad, 0).map_err(train::TrainError::from)?;
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

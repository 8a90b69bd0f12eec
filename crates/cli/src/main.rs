//! `breastmnist`: train, evaluate and benchmark the core natively.
//!
//! Thin glue: clap parses raw arguments, [`validate`](TrainArgs::validate) turns them once into
//! the core's typed configuration, the core does the work, and the commands print progress and
//! write files. It must not hold ML logic of its own.
//!
//! One module per command: [`training`] (`train`, `pretrain`), [`evaluate`] (`eval`, `export`,
//! `ensemble`), [`lab`], [`bench`] (`bench`, `check`), [`pretext`] (`ssl`), [`audit`] and
//! [`catalog`] (`datasets`, `score`); [`backends`]
//! starts the devices they run on. This file holds the command list, the errors, and the file
//! helpers they share.

mod audit;
mod backends;
mod bench;
mod catalog;
mod evaluate;
mod lab;
mod pretext;
mod training;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use breastmnist_core::eval;
use breastmnist_core::result_file::{self, ResultFile};
use breastmnist_core::torch;
use breastmnist_core::train;
use breastmnist_data::{DecodeOptions, decode_npz};
use clap::{Parser, Subcommand};

use backends::{BackendArg, device};
use bench::{BenchArgs, CheckArgs, cmd_bench, cmd_check};
use evaluate::{EnsembleArgs, EvalArgs, ExportArgs, cmd_ensemble, cmd_eval, cmd_export};
use lab::{LabArgs, cmd_lab};
use training::{TrainArgs, cmd_train};

#[derive(Parser, Debug)]
#[command(name = "breastmnist", version, about = "Train, evaluate and benchmark BreastMNIST ResNets")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Train a model on BreastMNIST or any MedMNIST 2D dataset (--dataset FLAG, or --data FILE
    /// identified by MD5) and write metrics.json, predictions.csv, best.ckpt and MedMNIST's
    /// standard result files for val and test (scored by `medmnist.Evaluator`) to --out.
    Train(Box<TrainArgs>),
    /// Supervised pretraining on another MedMNIST file (e.g. pneumoniamnist.npz): the same
    /// recipe flags as `train`, any split sizes, no result files; fine-tune the result on
    /// BreastMNIST with `train --init DIR/best.ckpt` (other outputs get a fresh classifier).
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
    /// Check a backend against flex: the same model from the same weights computes its logits
    /// and takes the same Adam steps on one fixed batch on both; prints how far the logits and
    /// losses part, and fails beyond 1e-4 (logits) or 1e-3 (losses), relative.
    Check(CheckArgs),
    /// Evaluate several checkpoints as one model (the mean of their probabilities) and write
    /// ensemble.json, predictions.csv and the standard result files for val and test to --out.
    Ensemble(EnsembleArgs),
    /// Run training methods side by side on a base recipe, for several seeds and models, and
    /// write the summary (mean ± sd of validation AUC, test AUC and ACC, and each method
    /// against the base recipe with paired bootstrap intervals) as JSON.
    Lab(LabArgs),
    /// Audit a dataset file for near-duplicate images within and across its splits (pixel
    /// correlation): print the pairs, the counts per pair of splits and the de-duplicated test
    /// subset as JSON.
    Audit(audit::AuditArgs),
    /// List the MedMNIST 2D catalog (task, channels, classes, split sizes, licence) and which
    /// official files are in the data folders, verified by MD5.
    Datasets(catalog::DatasetsArgs),
    /// Score a standard result file of any MedMNIST 2D dataset against its data file, as
    /// `medmnist.Evaluator.parse_and_evaluate` would (AUC and ACC of the dataset's task), with
    /// the per-class AUC and the confusion.
    Score(catalog::ScoreArgs),
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
    Name(#[from] breastmnist_data::UnknownName),
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
    #[error("the {backend} backend is not available: {reason}")]
    NoBackend { backend: &'static str, reason: String },
    #[error("{0}")]
    CheckFailed(String),
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
        Command::Check(a) => cmd_check(a),
        Command::Ensemble(a) => cmd_ensemble(a),
        Command::Lab(a) => cmd_lab(a),
        Command::Ssl(a) => pretext::cmd_ssl(a),
        Command::Audit(a) => audit::cmd_audit(a),
        Command::Datasets(a) => catalog::cmd_datasets(a),
        Command::Score(a) => catalog::cmd_score(a),
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

/// How sure a test report is, one line each: the AUC's 95% interval with label 0's
/// sensitivity and specificity (BreastMNIST's malignant, unless `class0` names another
/// dataset's label 0), and the figures on the de-duplicated test subset.
fn certainty(test: &train::TestReport, class0: Option<&str>) -> String {
    let mut lines = Vec::new();
    if let (Some(ci), Some(m)) = (test.auc_ci, test.malignant) {
        let class0 = class0.map_or("malignant".to_string(), |name| format!("label 0 ({name}) as positive"));
        lines.push(format!(
            "test AUC 95% interval (DeLong) {:.4}-{:.4}; {class0}: sensitivity {:.3}, specificity {:.3}",
            ci.lo, ci.hi, m.sensitivity, m.specificity
        ));
    }
    if let Some(d) = &test.deduplicated {
        lines.push(format!(
            "no training twin ({} of {} test images): AUC {:.4} ({:.4}-{:.4})  ACC {:.4}",
            d.images,
            test.predictions.len(),
            d.auc,
            d.auc_ci.lo,
            d.auc_ci.hi,
            d.acc
        ));
    }
    lines.join("\n")
}

fn load_data(path: &Path) -> Result<breastmnist_data::Dataset, CliError> {
    load_data_with(path, &DecodeOptions::default())
}

/// Decodes a MedMNIST-layout `.npz`; `options` say which split sizes it must have.
fn load_data_with(path: &Path, options: &DecodeOptions) -> Result<breastmnist_data::Dataset, CliError> {
    let bytes = read(path)?;
    decode_npz(&bytes, options).map_err(|source| CliError::Data { path: path.to_path_buf(), source })
}

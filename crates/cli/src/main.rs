//! `breastmnist`: train, evaluate and benchmark the core natively.
//!
//! Thin glue: clap parses raw arguments into the operations layer's requests
//! (`breastmnist_ops`), which does the work and reports events; [`printer`] prints them as text
//! or, with `--json`, as JSON Lines; `mcp` hands the same operations to an agent
//! (`breastmnist_mcp`). It must not hold ML logic of its own.
//!
//! One module per command group: [`training`] (`train`, `pretrain`), [`evaluate`] (`eval`,
//! `export`, `predict`, `explain`, `ensemble`), [`catalog`] (`datasets`, `inspect`, `score`,
//! `runs`), [`audit`], and the commands not yet on the operations layer (text only): [`lab`],
//! [`bench`] (`bench`, `check`), [`pretext`] (`ssl`).

mod audit;
mod bench;
mod catalog;
mod evaluate;
mod lab;
mod pretext;
mod printer;
mod training;

use std::process::ExitCode;

use breastmnist_ops::train::Purpose;
use clap::{Parser, Subcommand};

use bench::{BenchArgs, CheckArgs, cmd_bench, cmd_check};
use evaluate::{
    EnsembleArgs, EvalArgs, ExplainArgs, ExportArgs, PredictArgs, cmd_ensemble, cmd_eval, cmd_explain, cmd_export, cmd_predict,
};
use lab::{LabArgs, cmd_lab};
use printer::Printer;
use training::{TrainArgs, cmd_train};

// The commands not yet on the operations layer share its error type, file helpers and devices.
pub(crate) use breastmnist_ops::backend::{Backend as BackendArg, device};
pub(crate) use breastmnist_ops::source::{load_data, load_data_with};
pub(crate) use breastmnist_ops::{Error as CliError, read, write};
pub(crate) use training::certainty;

#[derive(Parser, Debug)]
#[command(name = "breastmnist", version, about = "Train, evaluate and benchmark BreastMNIST ResNets")]
struct Cli {
    /// Print JSON Lines on stdout (events: started, epoch, evaluated, file, warning, done,
    /// error; docs/events.schema.json), human notes on stderr. Exit codes: docs/agents.md.
    #[arg(long, global = true)]
    json: bool,
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
    /// Identify a data file by MD5 and count its images per split and per class.
    Inspect(catalog::InspectArgs),
    /// Every image's class probabilities on a split, as CSV (--out) or JSON rows.
    Predict(PredictArgs),
    /// Grad-CAM of one image for a class (default: the predicted one), written as a PNG of the
    /// image beside the map over it.
    Explain(ExplainArgs),
    /// The training runs under a folder: finished (metrics.json) or cancelled (progress.json).
    Runs(catalog::RunsArgs),
    /// Serve the lab's operations to an AI agent over the Model Context Protocol (stdio):
    /// datasets, inspect_data, train, evaluate, predict, score_result_file, explain, list_runs,
    /// export_weights. Every path must lie inside --root.
    Mcp(McpArgs),
}

#[derive(clap::Args, Debug)]
struct McpArgs {
    /// The folder every path an agent names must resolve inside (created if missing).
    #[arg(long)]
    root: std::path::PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut printer = Printer::new(cli.json);
    let result = run(cli.command, &mut printer);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            printer.fail(&e);
            ExitCode::from(e.kind().exit_code())
        }
    }
}

fn run(command: Command, printer: &mut Printer) -> Result<(), CliError> {
    let text_only = match &command {
        Command::Bench(_) => Some("bench"),
        Command::Check(_) => Some("check"),
        Command::Ensemble(_) => Some("ensemble"),
        Command::Lab(_) => Some("lab"),
        Command::Ssl(_) => Some("ssl"),
        _ => None,
    };
    if let (true, Some(name)) = (printer.is_json(), text_only) {
        return Err(CliError::Usage(format!(
            "`{name}` has no --json mode yet (it prints text); train, pretrain, eval, export, predict, explain, \
             score, datasets, inspect, audit and runs have one"
        )));
    }
    match command {
        Command::Train(a) => cmd_train(*a, Purpose::Train, printer),
        // Another dataset: BreastMNIST's result files would be misnamed, so none are written.
        Command::Pretrain(a) => cmd_train(*a, Purpose::Pretrain, printer),
        Command::Eval(a) => cmd_eval(a, printer),
        Command::Export(a) => cmd_export(a, printer),
        Command::Predict(a) => cmd_predict(a, printer),
        Command::Explain(a) => cmd_explain(a, printer),
        Command::Audit(a) => audit::cmd_audit(a, printer),
        Command::Datasets(a) => catalog::cmd_datasets(a, printer),
        Command::Score(a) => catalog::cmd_score(a, printer),
        Command::Inspect(a) => catalog::cmd_inspect(a, printer),
        Command::Runs(a) => catalog::cmd_runs(a, printer),
        Command::Mcp(a) => breastmnist_mcp::serve(&a.root),
        Command::Bench(a) => cmd_bench(a),
        Command::Check(a) => cmd_check(a),
        Command::Ensemble(a) => cmd_ensemble(a),
        Command::Lab(a) => cmd_lab(a),
        Command::Ssl(a) => pretext::cmd_ssl(a),
    }
}

//! `breastmnist`: train, evaluate and benchmark the core natively.
//!
//! Thin glue: clap parses raw arguments into the operations layer's requests
//! (`breastmnist_ops`), which does the work and reports events; [`printer`] prints them as text
//! or, with `--json`, as JSON Lines; `mcp` hands the same operations to an agent
//! (`breastmnist_mcp`). It must not hold ML logic of its own.
//!
//! One module per command group: [`training`] (`train`, `pretrain`), [`evaluate`] (`eval`,
//! `export`, `predict`, `explain`, `ensemble`), [`catalog`] (`datasets`, `inspect`, `score`,
//! `runs`), [`audit`], [`lab`], [`bench`] (`bench`, `check`) and [`pretext`] (`ssl`). Every
//! command has a `--json` mode; the long ones stop cleanly on Ctrl-C ([`cancel_on_ctrl_c`]).

mod audit;
mod bench;
mod catalog;
mod evaluate;
mod lab;
mod pretext;
mod printer;
mod training;

use std::process::ExitCode;

use breastmnist_ops::Cancel;
use breastmnist_ops::train::Purpose;
use clap::{Parser, Subcommand};

use bench::{BenchArgs, CheckArgs, cmd_bench, cmd_check};
use evaluate::{
    EnsembleArgs, EvalArgs, ExplainArgs, ExportArgs, PredictArgs, cmd_ensemble, cmd_eval, cmd_explain, cmd_export, cmd_predict,
};
use lab::{LabArgs, cmd_lab};
use printer::Printer;
use training::{TrainArgs, cmd_train};

pub(crate) use breastmnist_ops::Error as CliError;
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
    Lab(Box<LabArgs>),
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
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // With --json a usage error is an `error` event too (bad input, exit code 2, as clap's).
        Err(e) if e.use_stderr() && std::env::args().any(|a| a == "--json") => {
            let message = e.render().to_string();
            let message = message.trim().trim_start_matches("error: ").lines().next().unwrap_or_default().to_string();
            let error = CliError::Usage(message);
            Printer::new(true).fail(&error);
            return ExitCode::from(error.kind().exit_code());
        }
        Err(e) => e.exit(),
    };
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

/// A cancel flag that Ctrl-C sets, for the commands that look at one between steps (train,
/// pretrain, ssl, lab, bench, check): a first Ctrl-C stops after the current step and keeps
/// what the operation keeps (a training run: best.ckpt and progress.json), exit code 6; a
/// second quits at once. Other commands keep the terminal's default (Ctrl-C ends them).
fn cancel_on_ctrl_c() -> Cancel {
    let cancel = Cancel::new();
    let flag = cancel.clone();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_io().build();
    if let Ok(runtime) = runtime {
        std::thread::spawn(move || {
            runtime.block_on(async {
                if tokio::signal::ctrl_c().await.is_ok() {
                    eprintln!("stopping after this step (Ctrl-C again to quit now)");
                    flag.cancel();
                    if tokio::signal::ctrl_c().await.is_ok() {
                        std::process::exit(130);
                    }
                }
            })
        });
    }
    cancel
}

fn run(command: Command, printer: &mut Printer) -> Result<(), CliError> {
    let long = matches!(
        command,
        Command::Train(_) | Command::Pretrain(_) | Command::Ssl(_) | Command::Lab(_) | Command::Bench(_) | Command::Check(_)
    );
    let cancel = if long { cancel_on_ctrl_c() } else { Cancel::new() };
    match command {
        Command::Train(a) => cmd_train(*a, Purpose::Train, printer, &cancel),
        // Another dataset: BreastMNIST's result files would be misnamed, so none are written.
        Command::Pretrain(a) => cmd_train(*a, Purpose::Pretrain, printer, &cancel),
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
        Command::Bench(a) => cmd_bench(a, printer, &cancel),
        Command::Check(a) => cmd_check(a, printer, &cancel),
        Command::Ensemble(a) => cmd_ensemble(a, printer),
        Command::Lab(a) => cmd_lab(*a, printer, &cancel),
        Command::Ssl(a) => pretext::cmd_ssl(a, printer, &cancel),
    }
}

/// The article's agent session (the page's own data file, which uses nothing outside itself).
#[cfg(test)]
#[path = "../../../src/view/agents.rs"]
mod article_agents;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::article_agents::{CLIENT_CONFIG, SERVE, SESSION};

    /// The `breastmnist ...` lines of a markdown file's code blocks, continuations joined,
    /// comments and redirections dropped, quotes removed.
    fn documented_commands(markdown: &str) -> Vec<Vec<String>> {
        let mut commands = Vec::new();
        let (mut in_code, mut pending) = (false, String::new());
        for line in markdown.lines() {
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
                continue;
            }
            if !in_code {
                continue;
            }
            let line = line.trim();
            if pending.is_empty() && !line.starts_with("breastmnist ") {
                continue;
            }
            let code = line.split(" #").next().unwrap_or("").split(" > ").next().unwrap_or("").trim_end();
            match code.strip_suffix('\\') {
                Some(head) => pending.push_str(head),
                None => {
                    pending.push_str(code);
                    let words = pending.split_whitespace().map(|w| w.trim_matches('"').to_string()).collect();
                    commands.push(words);
                    pending.clear();
                }
            }
        }
        commands
    }

    /// Every command the README and the docs show parses as this CLI's arguments.
    #[test]
    fn the_documented_commands_parse() {
        let docs = [
            ("README.md", include_str!("../../../README.md")),
            ("docs/cli.md", include_str!("../../../docs/cli.md")),
            ("docs/agents.md", include_str!("../../../docs/agents.md")),
            ("docs/pytorch.md", include_str!("../../../docs/pytorch.md")),
            ("docs/training.md", include_str!("../../../docs/training.md")),
        ];
        let mut failures = Vec::new();
        let mut seen = 0;
        for (name, text) in docs {
            for words in documented_commands(text) {
                seen += 1;
                if let Err(e) = Cli::try_parse_from(&words) {
                    failures.push(format!(
                        "{name}: `{}`: {}",
                        words.join(" "),
                        e.render().to_string().lines().next().unwrap_or("")
                    ));
                }
            }
        }
        assert!(seen >= 30, "found only {seen} documented commands");
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        let sample = "text\n```\nbreastmnist lab --data b.npz \\\n  --out x.json   # note\nbreastmnist audit --data b.npz > a.json\n```\nbreastmnist nope\n";
        assert_eq!(
            documented_commands(sample),
            [vec!["breastmnist", "lab", "--data", "b.npz", "--out", "x.json"], vec!["breastmnist", "audit", "--data", "b.npz"]]
        );
    }

    /// Every command the article shows parses as this CLI's arguments, every tool call names
    /// one of the server's tools with arguments its input schema allows, and each step's tool
    /// call and command name the same things.
    #[test]
    fn the_article_s_agent_session_parses() {
        let tools = breastmnist_mcp::tools::catalog();
        for step in &SESSION {
            assert!(step.what.ends_with('.'), "each step says what it does in a sentence: {}", step.what);
            let words: Vec<&str> = step.command.split_whitespace().collect();
            Cli::try_parse_from(&words).unwrap_or_else(|e| panic!("{}: {e}", step.command));
            let (_, _, schema) = tools.iter().find(|(name, _, _)| *name == step.tool).unwrap_or_else(|| panic!("{}", step.tool));
            let args: serde_json::Value = serde_json::from_str(step.arguments).unwrap();
            let args = args.as_object().unwrap();
            for key in args.keys() {
                assert!(schema["properties"].get(key).is_some(), "{}: no argument {key}", step.tool);
            }
            for key in schema["required"].as_array().unwrap() {
                assert!(args.contains_key(key.as_str().unwrap()), "{}: {key} is required", step.tool);
            }
            for value in args.values() {
                let word = value.as_str().map_or_else(|| value.to_string(), str::to_string);
                assert!(words.contains(&word.as_str()), "{}: {word} is not in `{}`", step.tool, step.command);
            }
        }
        Cli::try_parse_from(SERVE.split_whitespace()).unwrap();
        let config: serde_json::Value = serde_json::from_str(CLIENT_CONFIG).unwrap();
        let server = &config["mcpServers"]["breastmnist"];
        let args: Vec<&str> = server["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
        let cli = Cli::try_parse_from(std::iter::once(server["command"].as_str().unwrap()).chain(args)).unwrap();
        assert!(matches!(cli.command, Command::Mcp(_)));
    }
}

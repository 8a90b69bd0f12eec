//! `breastmnist eval`, `export`, `predict` and `explain` (over the operations layer), and
//! `ensemble` (several checkpoints averaged as one model), all over the operations layer.

use std::path::PathBuf;

use breastmnist_core::evaluator::Confusions;
use breastmnist_core::model::ModelSize;
use breastmnist_data::Split;
use breastmnist_ops::ensemble::{EnsembleRequest, ensemble};
use breastmnist_ops::evaluate::{self as ops, EvalRequest, ExplainRequest, PredictRequest};
use breastmnist_ops::export::{ExportRequest, export};

use crate::CliError;
use crate::catalog::{DataArgs, print_task};
use crate::printer::Printer;
use crate::training::print_result_files;
use breastmnist_ops::Backend as BackendArg;

#[derive(clap::Args, Debug)]
pub(crate) struct EnsembleArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Two or more checkpoints, comma-separated (e.g. the best.ckpt of three seeds).
    #[arg(long, value_delimiter = ',', num_args = 1.., required = true)]
    checkpoints: Vec<PathBuf>,
    /// Flip test-time augmentation for every member (true/false; the flag alone means true)
    /// [the members' own, when every member's run recorded the same in its metrics.json, else
    /// false].
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    tta: Option<bool>,
    #[arg(long)]
    out: PathBuf,
    /// The run name in the result files' names [ensemble-N].
    #[arg(long, value_name = "NAME")]
    run: Option<String>,
    #[arg(long, default_value = "flex")]
    backend: BackendArg,
}

#[derive(clap::Args, Debug)]
pub(crate) struct EvalArgs {
    #[command(flatten)]
    on: OnSplit,
    /// Also write metrics.json and the standard result files for val and test here.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// With --out: the run name in the result files' names [the checkpoint's file stem].
    #[arg(long, value_name = "NAME")]
    run: Option<String>,
    /// For a PyTorch file: the architecture (tiny, small, medium, resnet18, resnet50, c8, c16,
    /// c32, lite0) [inferred from the tensors' names and shapes].
    #[arg(long)]
    model: Option<ModelSize>,
}

#[derive(clap::Args, Debug)]
pub(crate) struct ExportArgs {
    /// Our checkpoint (.ckpt), or a PyTorch file (.safetensors, .pt/.pth) with --data.
    #[arg(long)]
    checkpoint: PathBuf,
    /// The file to write: .safetensors with PyTorch's names, or .ckpt, our checkpoint.
    #[arg(long)]
    out: PathBuf,
    /// Store our checkpoint's floats in half precision (f16, half the bytes; .ckpt only).
    #[arg(long)]
    half: bool,
    /// For a PyTorch file: the data it is for (its image size and channels).
    #[arg(long)]
    data: Option<PathBuf>,
    /// For a PyTorch file: the architecture [inferred from the tensors' names and shapes].
    #[arg(long)]
    model: Option<ModelSize>,
}

#[derive(clap::Args, Debug)]
pub(crate) struct PredictArgs {
    #[command(flatten)]
    on: OnSplit,
    /// Write every row here as CSV (index, label, p0..pk-1).
    #[arg(long, value_name = "CSV")]
    out: Option<PathBuf>,
    /// The most rows printed [all without --out, none with it].
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
}

#[derive(clap::Args, Debug)]
pub(crate) struct ExplainArgs {
    #[command(flatten)]
    on: OnSplit,
    /// The image's position in its split.
    #[arg(long)]
    index: usize,
    /// The class explained [the predicted one].
    #[arg(long)]
    class: Option<usize>,
    /// The PNG to write (the image beside the map over it).
    #[arg(long, value_name = "PNG")]
    out: PathBuf,
}

/// A checkpoint on one split of a dataset: what `eval`, `predict` and `explain` read.
#[derive(clap::Args, Debug)]
pub(crate) struct OnSplit {
    /// The data: BreastMNIST or any MedMNIST 2D dataset.
    #[command(flatten)]
    data: DataArgs,
    #[arg(long)]
    checkpoint: PathBuf,
    /// train, val or test.
    #[arg(long, default_value = "test")]
    split: String,
    /// flex, or a GPU backend compiled in (wgpu, vulkan, cuda).
    #[arg(long, default_value = "flex")]
    backend: BackendArg,
    /// Flip test-time augmentation of the probabilities (true/false; the flag alone means true)
    /// [the run's own: its recipe in the metrics.json beside the checkpoint, else false].
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    tta: Option<bool>,
}

impl OnSplit {
    fn split(&self) -> Result<Split, CliError> {
        Split::parse(&self.split)
            .ok_or_else(|| CliError::Usage(format!("unknown split '{}' (expected train, val or test)", self.split)))
    }
}

pub(crate) fn cmd_export(a: ExportArgs, printer: &mut Printer) -> Result<(), CliError> {
    let req = ExportRequest { checkpoint: a.checkpoint, out: a.out, data: a.data, model: a.model, half: a.half };
    let e = export(&req, printer)?;
    let files = vec![e.out.clone()];
    let result = serde_json::to_value(&e).unwrap_or_default();
    printer.done("export", result, files, || match e.format {
        "safetensors" => println!("wrote {} ({} model, PyTorch names; see the README to load it)", e.out.display(), e.model),
        f => println!("wrote {} ({} model, our {f}, {:.1} MB)", e.out.display(), e.model, e.bytes as f64 / 1e6),
    });
    Ok(())
}

pub(crate) fn cmd_eval(a: EvalArgs, printer: &mut Printer) -> Result<(), CliError> {
    let req = EvalRequest {
        split: a.on.split()?,
        data: a.on.data.spec(),
        checkpoint: a.on.checkpoint,
        tta: a.on.tta,
        out: a.out,
        run: a.run,
        model: a.model,
        backend: a.on.backend,
    };
    let e = ops::evaluate(&req, printer)?;
    let result = serde_json::to_value(&e).unwrap_or_default();
    printer.done("eval", result, e.files.clone(), || {
        println!("model {} on {} ({} images), {}; {}", e.model, e.split, e.images, e.task, e.tta);
        println!("AUC {:.4}\nACC {:.4}", e.auc, e.acc);
        match &e.metrics.confusion {
            Confusions::Classes(c) if e.task == "binary-class" => {
                println!("confusion (rows true, cols predicted; label 1 positive):");
                println!(
                    "            pred 0  pred 1\n  true 0  {:>7} {:>7}\n  true 1  {:>7} {:>7}",
                    c[0][0], c[0][1], c[1][0], c[1][1]
                );
            }
            _ => print_task(&e.metrics, Some(&e.labels)),
        }
        if let Some(m) = e.files.iter().find(|f| f.ends_with("metrics.json")) {
            println!("wrote {}", m.display());
        }
        print_result_files(&e.result_files);
    });
    Ok(())
}

pub(crate) fn cmd_predict(a: PredictArgs, printer: &mut Printer) -> Result<(), CliError> {
    let inline = a.limit.unwrap_or(if a.out.is_some() { 0 } else { usize::MAX });
    let req = PredictRequest {
        split: a.on.split()?,
        data: a.on.data.spec(),
        checkpoint: a.on.checkpoint,
        tta: a.on.tta,
        inline,
        truncate: a.limit.is_some(),
        csv: a.out,
        backend: a.on.backend,
    };
    let p = ops::predict(&req, printer)?;
    let result = serde_json::to_value(&p).unwrap_or_default();
    printer.done("predict", result, p.csv.iter().cloned().collect(), || {
        for r in &p.rows {
            let probs: Vec<String> = r.probabilities.iter().map(|v| format!("{v:.4}")).collect();
            println!("{:>5}  label {:?}  predicted {:?}  [{}]", r.index, r.label, r.predicted, probs.join(", "));
        }
        if let Some(csv) = &p.csv {
            println!("wrote {} ({} images of {})", csv.display(), p.images, p.split);
        }
    });
    Ok(())
}

pub(crate) fn cmd_explain(a: ExplainArgs, printer: &mut Printer) -> Result<(), CliError> {
    let req = ExplainRequest {
        split: a.on.split()?,
        data: a.on.data.spec(),
        checkpoint: a.on.checkpoint,
        index: a.index,
        class: a.class,
        tta: a.on.tta,
        out: Some(a.out.clone()),
        backend: a.on.backend,
    };
    let x = ops::explain(&req, printer)?;
    let result = serde_json::to_value(&x).unwrap_or_default();
    printer.done("explain", result, x.files.clone(), || {
        let name = x.class_name.map_or(String::new(), |n| format!(" ({n})"));
        println!(
            "{} image {} (label {:?}): Grad-CAM of class {}{name}, probability {:.4}, at {}",
            x.split, x.index, x.label, x.class, x.probability, x.stage
        );
        println!("probabilities {:?} ({})", x.probabilities, x.tta);
        if let Some(p) = &x.prototypes {
            println!("this looks like that (the prototypes that add most to class {}):", p.class);
            for m in &p.matches {
                let source = m.source.as_ref().map_or("no training patch".into(), |s| {
                    format!("training image {}, cell ({}, {}) of {}x{}", s.index, s.row, s.col, p.map_side, p.map_side)
                });
                println!(
                    "  prototype {} (class {}): similarity {:.2} x weight {:.2} = {:+.2}; it is {source}",
                    m.prototype, m.class, m.similarity, m.weight, m.contribution
                );
            }
        }
        println!("wrote {}", a.out.display());
    });
    Ok(())
}

pub(crate) fn cmd_ensemble(a: EnsembleArgs, printer: &mut Printer) -> Result<(), CliError> {
    let req = EnsembleRequest {
        data: a.data.spec(),
        checkpoints: a.checkpoints,
        tta: a.tta,
        out: a.out,
        run: a.run,
        backend: a.backend,
    };
    let done = ensemble(&req, printer)?;
    printer.done("ensemble", done.json(), done.files.clone(), || {
        println!(
            "ensemble of {} (mean probability, {}): val AUC {:.4} ACC {:.4}\ntest AUC {:.4}  ACC {:.4}",
            done.members, done.tta, done.val.auc, done.val.acc, done.test.auc, done.test.acc
        );
        if let Some(test) = &done.breast_test {
            println!("{}", crate::certainty(test, None));
        }
        if let Some(m) = &done.task_test {
            print_task(m, Some(&done.labels));
        }
        println!("wrote {}/{{ensemble.json, predictions.csv}}", done.out.display());
        print_result_files(&done.result_files);
    });
    Ok(())
}

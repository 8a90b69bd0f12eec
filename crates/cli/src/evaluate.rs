//! `breastmnist eval`, `export`, `predict` and `explain` (over the operations layer), and
//! `ensemble` (several checkpoints averaged as one model; text only).

use std::path::PathBuf;

use breastmnist_core::Device;
use breastmnist_core::batch::ImageView;
use breastmnist_core::eval;
use breastmnist_core::evaluator::Confusions;
use breastmnist_core::export::{EnsembleFile, EnsembleMember, ValSummary, predictions_csv};
use breastmnist_core::model::ModelSize;
use breastmnist_core::result_file::ResultFile;
use breastmnist_core::train;
use breastmnist_data::Split;
use breastmnist_ops::evaluate::{self as ops, EvalRequest, ExplainRequest, ExportRequest, PredictRequest, load_weights};
use breastmnist_ops::event::Written;
use breastmnist_ops::{Event, Sink};
use futures_lite::future::block_on;

use crate::catalog::{DataArgs, print_task};
use crate::printer::Printer;
use crate::training::print_result_files;
use crate::{BackendArg, CliError, device, load_data, read, write};

#[derive(clap::Args, Debug)]
pub(crate) struct EnsembleArgs {
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
    #[arg(long, default_value = "flex")]
    backend: BackendArg,
}

#[derive(clap::Args, Debug)]
pub(crate) struct EvalArgs {
    #[command(flatten)]
    on: OnSplit,
    /// Flip test-time augmentation.
    #[arg(long)]
    tta: bool,
    /// Also write metrics.json and the standard result files for val and test here.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// With --out: the run name in the result files' names [the checkpoint's file stem].
    #[arg(long, value_name = "NAME")]
    run: Option<String>,
    /// For a PyTorch file: the architecture (tiny, small, medium, resnet18, resnet50, c8, c16,
    /// c32) [inferred from the tensors' names and shapes].
    #[arg(long)]
    model: Option<ModelSize>,
}

#[derive(clap::Args, Debug)]
pub(crate) struct ExportArgs {
    /// Our checkpoint (.ckpt), or a PyTorch file (.safetensors, .pt/.pth) with --data.
    #[arg(long)]
    checkpoint: PathBuf,
    /// The .safetensors file to write.
    #[arg(long)]
    out: PathBuf,
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
    /// Flip test-time augmentation.
    #[arg(long)]
    tta: bool,
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
}

impl OnSplit {
    fn split(&self) -> Result<Split, CliError> {
        Split::parse(&self.split)
            .ok_or_else(|| CliError::Usage(format!("unknown split '{}' (expected train, val or test)", self.split)))
    }
}

pub(crate) fn cmd_export(a: ExportArgs, printer: &mut Printer) -> Result<(), CliError> {
    let req = ExportRequest { checkpoint: a.checkpoint, out: a.out, data: a.data, model: a.model };
    let e = ops::export(&req, printer)?;
    let files = vec![e.out.clone()];
    let result = serde_json::to_value(&e).unwrap_or_default();
    printer.done("export", result, files, || {
        println!("wrote {} ({} model, PyTorch names; see the README to load it)", e.out.display(), e.model)
    });
    Ok(())
}

pub(crate) fn cmd_eval(a: EvalArgs, printer: &mut Printer) -> Result<(), CliError> {
    let req = EvalRequest {
        split: a.on.split()?,
        data: a.on.data.spec(),
        checkpoint: a.on.checkpoint,
        tta: a.tta,
        out: a.out,
        run: a.run,
        model: a.model,
        backend: a.on.backend,
    };
    let e = ops::evaluate(&req, printer)?;
    let result = serde_json::to_value(&e).unwrap_or_default();
    printer.done("eval", result, e.files.clone(), || {
        println!("model {} on {} ({} images), {}", e.model, e.split, e.images, e.task);
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
        tta: a.tta,
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
        backend: a.on.backend,
    };
    let x = ops::explain(&req, printer)?;
    write(&a.out, &x.png)?;
    printer.emit(Event::file(a.out.clone(), "picture"));
    let result = serde_json::to_value(&x).unwrap_or_default();
    printer.done("explain", result, vec![a.out.clone()], || {
        let name = x.class_name.map_or(String::new(), |n| format!(" ({n})"));
        println!(
            "{} image {} (label {:?}): Grad-CAM of class {}{name}, probability {:.4}, at {}",
            x.split, x.index, x.label, x.class, x.probability, x.stage
        );
        println!("wrote {}", a.out.display());
    });
    Ok(())
}

/// Validation metrics and predictions, and the test report, of `models` as one model (the
/// mean probability).
pub(crate) fn ensemble_metrics(
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
    let test = train::dataset_test_report(data, &test_scores).map_err(eval::EvalError::from)?;
    Ok((val, train::predictions(val_view.labels, &val_scores), test))
}

pub(crate) fn cmd_ensemble(a: EnsembleArgs) -> Result<(), CliError> {
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
        let source = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        let md5 = breastmnist_data::md5_hex(&read(path)?);
        members.push(EnsembleMember { source, md5, model_config: ckpt.config });
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
    println!("{}", crate::certainty(&file.test, None));
    println!("wrote {}/{{ensemble.json, predictions.csv}}", a.out.display());
    let run = a.run.clone().unwrap_or_else(|| format!("ensemble-{}", models.len()));
    let results = [
        ResultFile::new(data.side, Split::Val, file.val.auc, file.val.acc, &file.val.predictions, &run),
        ResultFile::new(data.side, Split::Test, file.test.auc, file.test.acc, &file.test.predictions, &run),
    ];
    let paths = breastmnist_ops::train::write_result_files(&a.out, &results, &mut |_| {}, &mut Written::default())?;
    print_result_files(&paths);
    Ok(())
}

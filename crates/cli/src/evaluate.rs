//! `breastmnist eval`, `export` and `ensemble`: checkpoints (ours or PyTorch's) evaluated,
//! converted to PyTorch's names, or averaged as one model.

use std::path::{Path, PathBuf};

use breastmnist_core::Device;
use breastmnist_core::batch::ImageView;
use breastmnist_core::checkpoint::Checkpoint;
use breastmnist_core::eval;
use breastmnist_core::evaluator;
use breastmnist_core::export::{EnsembleFile, EnsembleMember, MetricsFile, ValSummary, predictions_csv};
use breastmnist_core::model::ModelSize;
use breastmnist_core::result_file::{self, ResultFile};
use breastmnist_core::torch;
use breastmnist_core::train;
use breastmnist_data::{DecodeOptions, Split};
use futures_lite::future::block_on;

use crate::catalog::{DataArgs, print_task};
use crate::{BackendArg, CliError, device, load_data, read, write, write_result_files};

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
    #[arg(long, value_enum, default_value = "flex")]
    backend: BackendArg,
}

#[derive(clap::Args, Debug)]
pub(crate) struct EvalArgs {
    /// The data: BreastMNIST or any MedMNIST 2D dataset.
    #[command(flatten)]
    data: DataArgs,
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
    /// For a PyTorch file: the architecture (tiny, small, medium, resnet18, resnet50, c8, c16,
    /// c32) [inferred from the tensors' names and shapes].
    #[arg(long)]
    model: Option<ModelSize>,
    #[arg(long, value_enum, default_value = "flex")]
    backend: BackendArg,
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

/// Our checkpoint from any weight file: our .ckpt, or a PyTorch state dict (.safetensors,
/// .pt/.pth) for `data`'s images, its architecture `model` or inferred.
pub(crate) fn load_weights(
    path: &Path,
    data: &breastmnist_data::Dataset,
    model: Option<ModelSize>,
) -> Result<Checkpoint, CliError> {
    let weights = |source| CliError::Weights { path: path.to_path_buf(), source: Box::new(source) };
    let bytes = read(path)?;
    let format = torch::Format::sniff(&bytes);
    if format != Some(torch::Format::Ours) && data.classes() != 2 {
        return Err(CliError::Usage(format!(
            "{}: PyTorch weight files are read for two-class data only (this data has {} classes); \
             use a checkpoint (.ckpt) that `breastmnist train` wrote",
            path.display(),
            data.classes()
        )));
    }
    let ckpt = match format {
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

pub(crate) fn cmd_export(a: ExportArgs) -> Result<(), CliError> {
    let bytes = read(&a.checkpoint)?;
    let ckpt = match (torch::Format::sniff(&bytes), &a.data) {
        (Some(torch::Format::Ours), _) | (None, None) => {
            Checkpoint::from_bytes(&bytes).map_err(|source| CliError::Checkpoint { path: a.checkpoint.clone(), source })?
        }
        (_, Some(data)) => load_weights(&a.checkpoint, &load_data(data)?, a.model)?,
        (Some(_), None) => {
            return Err(CliError::Usage(format!(
                "{} is a PyTorch file: add --data NPZ (the images it is for) to convert it",
                a.checkpoint.display()
            )));
        }
    };
    let bytes = block_on(torch::to_safetensors(&ckpt))
        .map_err(|source| CliError::Weights { path: a.checkpoint.clone(), source: Box::new(source) })?;
    write(&a.out, &bytes)?;
    println!("wrote {} ({} model, PyTorch names; see the README to load it)", a.out.display(), ckpt.config.size);
    Ok(())
}

pub(crate) fn cmd_eval(a: EvalArgs) -> Result<(), CliError> {
    let split = Split::parse(&a.split)
        .ok_or_else(|| CliError::Usage(format!("unknown split '{}' (expected train, val or test)", a.split)))?;
    let (_, opened) = a.data.open(Some(&DecodeOptions::default()))?;
    let (flag, labels) = (opened.flag, opened.labels());
    let task = opened.task;
    let data = opened.data;
    let ckpt = load_weights(&a.checkpoint, &data, a.model)?;
    // The core's own check of a model's outputs against the data (as `evaluate_checkpoint` makes).
    train::outputs_fit(&ckpt.config, &data).map_err(|e| CliError::Usage(format!("{}: {e}", a.checkpoint.display())))?;
    let (k, multi_label) = (ckpt.config.num_classes, ckpt.config.multi_label);
    let (device, env) = device(a.backend)?;
    let model = ckpt.load(&device).map_err(|source| CliError::Checkpoint { path: a.checkpoint.clone(), source })?;
    let view = ImageView::of(&data, split);
    if let Some(task) = train::task_of(&data)? {
        let probs = block_on(eval::probabilities_reporting(&model, &view, &device, a.tta, multi_label, &mut |_, _| {}))?;
        let wide: Vec<f64> = probs.iter().map(|&p| f64::from(p)).collect();
        let m = evaluator::evaluate(task, data.targets, view.labels, &wide, k)
            .map_err(|e| CliError::Train(train::TrainError::from(e)))?;
        println!("model {} on {split} ({} images), {}", ckpt.config.size, view.len(), flag.map_or(task, |f| f.entry().task));
        println!("AUC {:.4}\nACC {:.4}", m.auc, m.acc);
        print_task(&m, Some(&labels));
    } else {
        print_binary(&model, &view, &device, a.tta, &ckpt, split)?;
    }
    if let Some(out) = &a.out {
        let (mut result, _) = block_on(train::evaluate_checkpoint(&ckpt, &data, &device, a.tta))?;
        result.task = result.task.map(|t| t.named(task));
        std::fs::create_dir_all(out).map_err(|source| CliError::Write { path: out.clone(), source })?;
        let file = MetricsFile::new(&result, env).with_dataset(&result, flag, &labels);
        write(&out.join("metrics.json"), file.to_json().as_bytes())?;
        println!("wrote {}", out.join("metrics.json").display());
        let stem = a.checkpoint.file_stem().map(|s| s.to_string_lossy().into_owned());
        let run = a.run.clone().or(stem).unwrap_or_else(|| result_file::run_name(&result));
        match flag {
            Some(flag) => write_result_files(out, &result_file::result_files_for(&result, flag, &run))?,
            None => println!("no standard result files: a custom dataset has no MedMNIST flag for the Evaluator"),
        }
    }
    Ok(())
}

/// A two-class evaluation's AUC, ACC and confusion, printed.
fn print_binary(
    model: &breastmnist_core::Network,
    view: &ImageView<'_>,
    device: &Device,
    tta: bool,
    ckpt: &Checkpoint,
    split: Split,
) -> Result<(), CliError> {
    let (ev, _) = block_on(eval::evaluate(model, view, device, tta))?;
    let c = ev.confusion;
    println!("model {} on {split} ({} images)", ckpt.config.size, view.len());
    println!("AUC {:.4}\nACC {:.4}", ev.auc, ev.acc);
    println!("confusion (rows true, cols predicted; label 1 positive):");
    println!("            pred 0  pred 1\n  true 0  {:>7} {:>7}\n  true 1  {:>7} {:>7}", c.tn(), c.fp(), c.fn_(), c.tp());
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
    write_result_files(&a.out, &results)?;
    Ok(())
}

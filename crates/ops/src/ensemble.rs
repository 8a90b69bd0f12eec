//! `ensemble`: several checkpoints scored as one model (the mean of their probabilities), with
//! ensemble.json, predictions.csv and MedMNIST's standard result files for val and test, on
//! BreastMNIST (its test report) or any MedMNIST 2D set (the Evaluator's metrics for its task). The
//! lab's `ensemble` method scores its base models through [`mean_probability`] too.

use std::path::PathBuf;

use breastmnist_core::batch::ImageView;
use breastmnist_core::evaluator::{self, TaskMetrics};
use breastmnist_core::export::task_predictions_csv;
use breastmnist_core::export::{EnsembleFile, EnsembleMember, ValSummary, predictions_csv};
use breastmnist_core::metrics::Evaluation;
use breastmnist_core::result_file::{self, ResultFile};
use breastmnist_core::train::{self, Prediction, TestReport};
use breastmnist_core::{Device, Network, eval};
use breastmnist_data::{Dataset, DecodeOptions, Flag, Split};
use futures_lite::future::block_on;
use serde::Serialize;

use crate::backend::{Backend, device};
use crate::error::{Error, create_dir, file_name, read};
use crate::evaluate::{Tta, TtaFrom, flip_tta};
use crate::event::{EVENTS_VERSION, Event, Sink, Written};
use crate::source::DataSpec;
use crate::train::{Figures, write_result_files};
use crate::weights::load_weights;

/// Checkpoints to combine.
#[derive(Clone, Debug)]
pub struct EnsembleRequest {
    pub data: DataSpec,
    /// Two or more weight files for the data's images.
    pub checkpoints: Vec<PathBuf>,
    /// Flip test-time augmentation for every member [the members' own, when every member's run
    /// recorded the same (see [`crate::evaluate::flip_tta`]), else off].
    pub tta: Option<bool>,
    pub out: PathBuf,
    /// The run name in the result files' names [ensemble-N].
    pub run: Option<String>,
    pub backend: Backend,
}

/// What `ensemble` wrote and found.
#[derive(Clone, Debug)]
pub struct Ensembled {
    pub members: usize,
    pub tta: Tta,
    pub val: Figures,
    pub test: Figures,
    /// BreastMNIST's test report (the interval, sensitivity and specificity, the test images
    /// without a training twin).
    pub breast_test: Option<TestReport>,
    /// Another dataset's test metrics, as MedMNIST's Evaluator computes them for its task.
    pub task_test: Option<TaskMetrics>,
    /// The label names (empty for a custom dataset).
    pub labels: Vec<&'static str>,
    pub files: Vec<PathBuf>,
    pub result_files: Vec<PathBuf>,
    pub out: PathBuf,
}

#[derive(Serialize)]
struct EnsembledJson<'a> {
    out: &'a std::path::Path,
    members: usize,
    tta: Tta,
    val: Figures,
    test: Figures,
    task_test: Option<&'a TaskMetrics>,
}

impl Ensembled {
    /// The `done` event's result: the members, the TTA used, val and test figures (and another
    /// dataset's per-class metrics).
    pub fn json(&self) -> serde_json::Value {
        serde_json::to_value(EnsembledJson {
            out: &self.out,
            members: self.members,
            tta: self.tta,
            val: self.val,
            test: self.test,
            task_test: self.task_test.as_ref(),
        })
        .unwrap_or_default()
    }
}

/// What ensemble.json says of an ensemble on a dataset other than BreastMNIST.
#[derive(Serialize)]
struct TaskEnsembleFile<'a> {
    schema_version: u32,
    kind: &'static str,
    dataset: Option<String>,
    task: &'static str,
    labels: &'a [&'static str],
    members: &'a [EnsembleMember],
    tta: bool,
    environment: &'a breastmnist_core::export::Environment,
    val: &'a TaskMetrics,
    test: &'a TaskMetrics,
}

/// Validation metrics and predictions, and the test report, of `models` as one model (the mean
/// probability). Two-class data.
pub fn mean_probability(
    models: &[Network],
    data: &Dataset,
    device: &Device,
    tta: bool,
) -> Result<(Evaluation, Vec<Prediction>, TestReport), Error> {
    let val_view = ImageView::of(data, Split::Val);
    let val_scores = block_on(eval::ensemble_scores(models, &val_view, device, tta))?;
    let val = breastmnist_core::metrics::evaluate(val_view.labels, &val_scores).map_err(eval::EvalError::from)?;
    let test_view = ImageView::of(data, Split::Test);
    let test_scores = block_on(eval::ensemble_scores(models, &test_view, device, tta))?;
    let test = train::dataset_test_report(data, &test_scores).map_err(eval::EvalError::from)?;
    Ok((val, train::predictions(val_view.labels, &val_scores), test))
}

/// TTA as asked; else as every member's run recorded it, when they agree; else off.
fn members_tta(asked: Option<bool>, checkpoints: &[PathBuf]) -> Tta {
    if let Some(on) = asked {
        return Tta { on, from: TtaFrom::Asked };
    }
    let each: Vec<Tta> = checkpoints.iter().map(|c| flip_tta(None, c)).collect();
    match each.first() {
        Some(first) if first.from == TtaFrom::Run && each.iter().all(|t| t == first) => *first,
        _ => Tta { on: false, from: TtaFrom::Default },
    }
}

/// Scores `req.checkpoints` as one model and writes its files into `req.out`.
pub fn ensemble(req: &EnsembleRequest, sink: &mut dyn Sink) -> Result<Ensembled, Error> {
    if req.checkpoints.len() < 2 {
        return Err(Error::Usage("an ensemble needs at least two --checkpoints".into()));
    }
    let opened = req.data.open(Some(&DecodeOptions::default()))?;
    let data = &opened.data;
    let (device, env) = device(req.backend)?;
    let mut models = Vec::with_capacity(req.checkpoints.len());
    let mut members = Vec::with_capacity(req.checkpoints.len());
    for path in &req.checkpoints {
        let ckpt = load_weights(path, data, None)?;
        models.push(ckpt.load(&device).map_err(|source| Error::Checkpoint { path: path.clone(), source })?);
        // Members are named by file name and MD5: a file carries no path of the machine that wrote it.
        let source = file_name(path);
        let md5 = breastmnist_data::md5_hex(&read(path)?);
        members.push(EnsembleMember { source, md5, model_config: ckpt.config });
    }
    let tta = members_tta(req.tta, &req.checkpoints);
    sink.emit(Event::Started {
        version: EVENTS_VERSION,
        command: "ensemble".into(),
        data: Some(opened.info()),
        detail: format!("ensemble of {} (mean probability), {tta}", models.len()),
    });
    create_dir(&req.out)?;
    let mut written = Written::default();
    let run = req.run.clone().unwrap_or_else(|| format!("ensemble-{}", models.len()));
    if opened.task == breastmnist_data::Task::Binary && opened.flag == Some(Flag::Breast) {
        // BreastMNIST: the report the page and the lab read (ensemble.json with the test report).
        let (val, val_predictions, test) = mean_probability(&models, data, &device, tta.on)?;
        sink.emit(Event::Evaluated { split: "val".into(), images: data.val.len(), auc: val.auc, acc: val.acc });
        sink.emit(Event::Evaluated { split: "test".into(), images: data.test.len(), auc: test.auc, acc: test.acc });
        let file = EnsembleFile {
            schema_version: breastmnist_core::export::SCHEMA_VERSION,
            kind: "mean-probability".into(),
            members,
            tta: tta.on,
            environment: env,
            val: ValSummary { auc: val.auc, acc: val.acc, epoch: 0, confusion: val.confusion, predictions: val_predictions },
            test,
        };
        written.write(sink, req.out.join("ensemble.json"), file.to_json().as_bytes(), "ensemble")?;
        written.write(
            sink,
            req.out.join("predictions.csv"),
            predictions_csv(&file.test.predictions).as_bytes(),
            "predictions",
        )?;
        let results = [
            ResultFile::new(data.side, Split::Val, file.val.auc, file.val.acc, &file.val.predictions, &run),
            ResultFile::new(data.side, Split::Test, file.test.auc, file.test.acc, &file.test.predictions, &run),
        ];
        let result_files = write_result_files(&req.out, &results, sink, &mut written)?;
        return Ok(Ensembled {
            members: file.members.len(),
            tta,
            val: Figures { auc: file.val.auc, acc: file.val.acc },
            test: Figures { auc: file.test.auc, acc: file.test.acc },
            breast_test: Some(file.test),
            task_test: None,
            labels: opened.labels(),
            files: written.0,
            result_files,
            out: req.out.clone(),
        });
    }
    // Any other dataset: every member's k probabilities averaged, scored as its task.
    let k = models_outputs(&members)?;
    let multi = opened.task == breastmnist_data::Task::MultiLabel;
    let score = |split: Split| -> Result<(Vec<f32>, TaskMetrics), Error> {
        let view = ImageView::of(data, split);
        let mut mean: Vec<f32> = Vec::new();
        for m in &models {
            let p = block_on(eval::probabilities_reporting(m, &view, &device, tta.on, multi, &mut |_, _| {}))?;
            if mean.is_empty() {
                mean = p;
            } else {
                mean.iter_mut().zip(&p).for_each(|(a, b)| *a += b);
            }
        }
        let n = models.len() as f32;
        mean.iter_mut().for_each(|a| *a /= n);
        let wide: Vec<f64> = mean.iter().map(|&p| f64::from(p)).collect();
        let m = evaluator::evaluate(opened.task, data.targets, view.labels, &wide, k)
            .map_err(|e| Error::Train(train::TrainError::from(e)))?;
        Ok((mean, m))
    };
    let (val_probs, val) = score(Split::Val)?;
    let (test_probs, test) = score(Split::Test)?;
    sink.emit(Event::Evaluated { split: "val".into(), images: data.val.len(), auc: val.auc, acc: val.acc });
    sink.emit(Event::Evaluated { split: "test".into(), images: data.test.len(), auc: test.auc, acc: test.acc });
    let labels = opened.labels();
    let file = TaskEnsembleFile {
        schema_version: breastmnist_core::export::SCHEMA_VERSION_TASK,
        kind: "mean-probability",
        dataset: opened.flag.map(|f| f.to_string()),
        task: opened.task.name(),
        labels: &labels,
        members: &members,
        tta: tta.on,
        environment: &env,
        val: &val,
        test: &test,
    };
    let json = serde_json::to_string_pretty(&file).unwrap_or_default();
    written.write(sink, req.out.join("ensemble.json"), json.as_bytes(), "ensemble")?;
    let csv = task_predictions_csv(&data.test.labels, data.test.width, &test_probs, k);
    written.write(sink, req.out.join("predictions.csv"), csv.as_bytes(), "predictions")?;
    let result_files = match opened.flag {
        Some(flag) => {
            let file_of = |split: Split, m: &TaskMetrics, probs: &[f32]| ResultFile {
                name: result_file::name_for(flag, data.side, split, m.auc, m.acc, &run),
                contents: result_file::table_csv(probs, k),
            };
            let results = [file_of(Split::Val, &val, &val_probs), file_of(Split::Test, &test, &test_probs)];
            write_result_files(&req.out, &results, sink, &mut written)?
        }
        None => Vec::new(),
    };
    Ok(Ensembled {
        members: members.len(),
        tta,
        val: Figures { auc: val.auc, acc: val.acc },
        test: Figures { auc: test.auc, acc: test.acc },
        breast_test: None,
        task_test: Some(test),
        labels,
        files: written.0,
        result_files,
        out: req.out.clone(),
    })
}

/// The members' common number of outputs (they must agree to be averaged).
fn models_outputs(members: &[EnsembleMember]) -> Result<usize, Error> {
    let k = members.first().map_or(2, |m| m.model_config.num_classes);
    match members.iter().find(|m| m.model_config.num_classes != k) {
        Some(m) => Err(Error::Usage(format!(
            "{} has {} outputs but {} has {k}: an ensemble averages members of one head",
            m.source, m.model_config.num_classes, members[0].source
        ))),
        None => Ok(k),
    }
}

//! `ensemble`: several checkpoints scored as one model (the mean of their probabilities), with
//! ensemble.json, predictions.csv and MedMNIST's standard result files for val and test. The
//! lab's `ensemble` method scores its base models through [`mean_probability`] too.

use std::path::PathBuf;

use breastmnist_core::batch::ImageView;
use breastmnist_core::export::{EnsembleFile, EnsembleMember, ValSummary, predictions_csv};
use breastmnist_core::metrics::Evaluation;
use breastmnist_core::result_file::ResultFile;
use breastmnist_core::train::{self, Prediction, TestReport};
use breastmnist_core::{Device, Network, eval};
use breastmnist_data::{Dataset, DecodeOptions, Split};
use futures_lite::future::block_on;
use serde::Serialize;

use crate::backend::{Backend, device};
use crate::error::{Error, create_dir, read};
use crate::evaluate::{Tta, flip_tta, load_weights};
use crate::event::{EVENTS_VERSION, Event, Sink, Written};
use crate::source::DataSpec;
use crate::train::write_result_files;

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
    pub file: EnsembleFile,
    pub files: Vec<PathBuf>,
    pub result_files: Vec<PathBuf>,
    pub out: PathBuf,
}

#[derive(Serialize)]
struct EnsembledJson<'a> {
    out: &'a std::path::Path,
    members: usize,
    tta: bool,
    val: Figures,
    test: Figures,
}

#[derive(Serialize)]
struct Figures {
    auc: f64,
    acc: f64,
}

impl Ensembled {
    /// The `done` event's result: the members, val and test figures.
    pub fn json(&self) -> serde_json::Value {
        serde_json::to_value(EnsembledJson {
            out: &self.out,
            members: self.file.members.len(),
            tta: self.file.tta,
            val: Figures { auc: self.file.val.auc, acc: self.file.val.acc },
            test: Figures { auc: self.file.test.auc, acc: self.file.test.acc },
        })
        .unwrap_or_default()
    }
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
        return Tta { on, from: "asked" };
    }
    let each: Vec<Tta> = checkpoints.iter().map(|c| flip_tta(None, c)).collect();
    match each.first() {
        Some(first) if first.from == "run" && each.iter().all(|t| t == first) => *first,
        _ => Tta { on: false, from: "default" },
    }
}

/// Scores `req.checkpoints` as one model and writes its files into `req.out`.
pub fn ensemble(req: &EnsembleRequest, sink: &mut dyn Sink) -> Result<Ensembled, Error> {
    if req.checkpoints.len() < 2 {
        return Err(Error::Usage("an ensemble needs at least two --checkpoints".into()));
    }
    let opened = req.data.open(Some(&DecodeOptions::default()))?;
    if opened.flag != Some(breastmnist_data::Flag::Breast) {
        return Err(Error::Usage(format!(
            "an ensemble is scored and named as BreastMNIST's (its report and result files); {} is {}",
            opened.path.display(),
            opened.official.map_or_else(|| "not a BreastMNIST file".to_string(), |(e, _)| e.title.to_string())
        )));
    }
    let data = &opened.data;
    let (device, env) = device(req.backend)?;
    let mut models = Vec::with_capacity(req.checkpoints.len());
    let mut members = Vec::with_capacity(req.checkpoints.len());
    for path in &req.checkpoints {
        let ckpt = load_weights(path, data, None)?;
        models.push(ckpt.load(&device).map_err(|source| Error::Checkpoint { path: path.clone(), source })?);
        // Members are named by file name and MD5: a file carries no path of the machine that wrote it.
        let source = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
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
    let (val, val_predictions, test) = mean_probability(&models, data, &device, tta.on)?;
    sink.emit(Event::Evaluated { split: "val".into(), images: data.val.len(), auc: val.auc, acc: val.acc });
    sink.emit(Event::Evaluated { split: "test".into(), images: data.test.len(), auc: test.auc, acc: test.acc });
    create_dir(&req.out)?;
    let file = EnsembleFile {
        schema_version: breastmnist_core::export::SCHEMA_VERSION,
        kind: "mean-probability".into(),
        members,
        tta: tta.on,
        environment: env,
        val: ValSummary { auc: val.auc, acc: val.acc, epoch: 0, confusion: val.confusion, predictions: val_predictions },
        test,
    };
    let mut written = Written::default();
    written.write(sink, req.out.join("ensemble.json"), file.to_json().as_bytes(), "ensemble")?;
    written.write(sink, req.out.join("predictions.csv"), predictions_csv(&file.test.predictions).as_bytes(), "predictions")?;
    let run = req.run.clone().unwrap_or_else(|| format!("ensemble-{}", models.len()));
    let results = [
        ResultFile::new(data.side, Split::Val, file.val.auc, file.val.acc, &file.val.predictions, &run),
        ResultFile::new(data.side, Split::Test, file.test.auc, file.test.acc, &file.test.predictions, &run),
    ];
    let result_files = write_result_files(&req.out, &results, sink, &mut written)?;
    Ok(Ensembled { file, files: written.0, result_files, out: req.out.clone() })
}

//! `datasets` (the MedMNIST 2D catalog and which official files are present and verified),
//! `inspect` (what one data file is: identified by MD5, per-split and per-class counts) and
//! `score` (what `medmnist.Evaluator` would say of a standard result file, from our own
//! evaluator).

use std::path::{Path, PathBuf};

use breastmnist_core::evaluator::{self, TaskMetrics};
use breastmnist_core::result_file::{self, StandardName};
use breastmnist_data::{CATALOG, DecodeOptions, Entry, Size, Split, md5_hex};
use serde::Serialize;

use crate::error::{Error, read};
use crate::event::{DataInfo, Event, Sink};
use crate::source::{DataSpec, entry_name};

/// What was found of one official file.
#[derive(Clone, Debug, Serialize)]
pub struct Found {
    pub size: usize,
    pub file: String,
    pub md5: &'static str,
    /// `verified`, `wrong-md5` or `absent`.
    pub status: &'static str,
    pub path: Option<PathBuf>,
}

/// One catalog row and its files.
#[derive(Clone, Debug, Serialize)]
pub struct DatasetRow {
    pub flag: String,
    pub title: &'static str,
    pub task: String,
    pub channels: usize,
    pub labels: Vec<&'static str>,
    pub splits: Splits,
    pub licence: &'static str,
    pub files: Vec<Found>,
}

#[derive(Clone, Copy, Debug, Serialize)]
pub struct Splits {
    pub train: usize,
    pub val: usize,
    pub test: usize,
}

/// The catalog, and the folders searched.
#[derive(Clone, Debug, Serialize)]
pub struct Datasets {
    pub searched: Vec<PathBuf>,
    pub datasets: Vec<DatasetRow>,
}

/// `extra` is searched first, then the data folders.
pub fn folders(extra: Option<&Path>) -> Vec<PathBuf> {
    extra.map(Path::to_path_buf).into_iter().chain(breastmnist_data::locate()).collect()
}

fn look(entry: &Entry, size: Size, dirs: &[PathBuf]) -> Result<Found, Error> {
    let file = entry.file_name(size);
    let md5 = entry.md5(size);
    let side = size.side();
    let Ok(path) = breastmnist_data::local::find_in(&file, dirs) else {
        return Ok(Found { size: side, file, md5, status: "absent", path: None });
    };
    let status = if md5_hex(&read(&path)?) == md5 { "verified" } else { "wrong-md5" };
    Ok(Found { size: side, file, md5, status, path: Some(path) })
}

/// The catalog and which of its files are in `extra` or the data folders, verified by MD5.
pub fn datasets(extra: Option<&Path>, sink: &mut dyn Sink) -> Result<Datasets, Error> {
    let dirs = folders(extra);
    sink.emit(Event::Started {
        version: crate::event::EVENTS_VERSION,
        command: "datasets".into(),
        data: None,
        detail: format!("{} datasets, searching {} folders", CATALOG.len(), dirs.len()),
    });
    let mut rows = Vec::new();
    for e in &CATALOG {
        let files = Size::ALL.into_iter().map(|s| look(e, s, &dirs)).collect::<Result<Vec<_>, _>>()?;
        rows.push(DatasetRow {
            flag: e.flag.name().to_string(),
            title: e.title,
            task: e.task.name().to_string(),
            channels: e.channels,
            labels: e.labels.to_vec(),
            splits: Splits { train: e.splits[0], val: e.splits[1], test: e.splits[2] },
            licence: e.licence,
            files,
        });
    }
    Ok(Datasets { searched: dirs, datasets: rows })
}

/// What a data file is, with its per-split, per-class counts.
#[derive(Clone, Debug, Serialize)]
pub struct Inspection {
    #[serde(flatten)]
    pub info: DataInfo,
    /// Images of each class (images carrying each label, for multi-label) in train, val, test.
    pub counts: SplitCounts,
}

#[derive(Clone, Debug, Serialize)]
pub struct SplitCounts {
    pub train: Vec<usize>,
    pub val: Vec<usize>,
    pub test: Vec<usize>,
}

/// Opens `spec` (any layout it can be read in) and counts its classes.
pub fn inspect(spec: &DataSpec, sink: &mut dyn Sink) -> Result<Inspection, Error> {
    let opened = spec.open(Some(&DecodeOptions { split_sizes: None, ..DecodeOptions::default() }))?;
    let info = opened.info();
    sink.emit(Event::Started {
        version: crate::event::EVENTS_VERSION,
        command: "inspect".into(),
        data: Some(info.clone()),
        detail: String::new(),
    });
    let k = opened.data.classes();
    let counts = |s: Split| opened.data.split(s).counts(k);
    Ok(Inspection {
        counts: SplitCounts { train: counts(Split::Train), val: counts(Split::Val), test: counts(Split::Test) },
        info,
    })
}

/// The Evaluator's figures for a result file, and whether its name's agree.
#[derive(Clone, Debug, Serialize)]
pub struct Score {
    pub result: PathBuf,
    pub flag: String,
    pub split: String,
    pub task: String,
    pub metrics: TaskMetrics,
    /// The `[AUC]` and `[ACC]` in the file's name, when it has them.
    pub name_metrics: Option<(f64, f64)>,
    /// Whether the name's figures agree with the scores at 3 decimals (null without them).
    pub name_agrees: Option<bool>,
    /// A 95% percentile-bootstrap interval of the AUC, when asked for.
    pub auc_interval: Option<[f64; 2]>,
    pub bootstrap: usize,
    /// The label names (empty for a custom dataset).
    pub labels: Vec<&'static str>,
}

/// Scores the standard result file `result` against `spec`'s labels.
pub fn score(spec: &DataSpec, result: &Path, bootstrap: usize, sink: &mut dyn Sink) -> Result<Score, Error> {
    let opened = spec.open(None)?;
    sink.emit(Event::Started {
        version: crate::event::EVENTS_VERSION,
        command: "score".into(),
        data: Some(opened.info()),
        detail: result.display().to_string(),
    });
    let file_name = result.file_name().unwrap_or_default().to_string_lossy().into_owned();
    let name: StandardName = result_file::parse_standard_name(&file_name).map_err(|e| Error::Usage(e.to_string()))?;
    if let Some((entry, size)) = opened.official
        && (name.flag, name.size) != (entry.flag, size)
    {
        return Err(Error::Usage(format!(
            "{file_name} is a result file for {}, but {} is {}",
            entry_name(name.flag, name.size),
            opened.path.display(),
            entry_name(entry.flag, size)
        )));
    }
    let text = String::from_utf8(read(result)?).map_err(|_| Error::Usage(format!("{} is not UTF-8 text", result.display())))?;
    let table = result_file::parse_table(&text).map_err(|e| Error::Usage(format!("{}: {e}", result.display())))?;
    let split = opened.data.split(name.split);
    if table.len() != split.len() {
        return Err(Error::Usage(format!(
            "{} has {} rows, but the {} split has {} images",
            result.display(),
            table.len(),
            name.split,
            split.len()
        )));
    }
    let m = evaluator::evaluate(opened.task, opened.data.targets, &split.labels, &table.scores, table.k)
        .map_err(|e| Error::Usage(format!("{}: {e}", result.display())))?;
    sink.emit(Event::Evaluated { split: name.split.key().to_string(), images: split.len(), auc: m.auc, acc: m.acc });
    let auc_interval = if bootstrap > 0 {
        evaluator::bootstrap_auc(opened.task, opened.data.targets, &split.labels, &table.scores, table.k, bootstrap, 0)
            .map(|ci| [ci.lo, ci.hi])
    } else {
        None
    };
    let name_agrees = name
        .metrics
        .map(|(auc, acc)| format!("{:.3}", m.auc) == format!("{auc:.3}") && format!("{:.3}", m.acc) == format!("{acc:.3}"));
    Ok(Score {
        result: result.to_path_buf(),
        flag: name.flag.name().to_string(),
        split: name.split.key().to_string(),
        task: opened.task.name().to_string(),
        metrics: m,
        name_metrics: name.metrics,
        name_agrees,
        auc_interval,
        bootstrap,
        labels: opened.official.map(|(e, _)| e.labels.to_vec()).unwrap_or_default(),
    })
}

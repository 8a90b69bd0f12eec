//! `breastmnist datasets` (the MedMNIST 2D catalog, and which official files this machine holds
//! and whether they verify) and `breastmnist score` (what `medmnist.Evaluator` would print for a
//! standard result file, computed by our own evaluator).
//!
//! Files are identified by MD5 through the data crate's catalog; the metrics are
//! `breastmnist_core::evaluator`'s. This module only finds files and prints.

use std::path::{Path, PathBuf};

use breastmnist_core::evaluator::{self, Confusions, TaskMetrics};
use breastmnist_core::result_file::{self, StandardName};
use breastmnist_data::{CATALOG, DecodeOptions, Entry, Flag, Size, Task, catalog, decode_npz, identify, md5_hex};
use clap::Args;

use crate::{CliError, read};

#[derive(Args, Debug)]
pub struct DatasetsArgs {
    /// Also look for the files in this folder (searched first).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Print the catalog and the files found as JSON.
    #[arg(long)]
    json: bool,
}

/// What was found of one official file.
struct Found {
    size: Size,
    file: String,
    md5: &'static str,
    /// `verified`, `wrong-md5` or `absent`.
    status: &'static str,
    path: Option<PathBuf>,
}

impl Found {
    fn json(&self) -> serde_json::Value {
        serde_json::json!({ "size": self.size, "file": self.file, "md5": self.md5, "status": self.status, "path": self.path })
    }
}

fn folders(extra: Option<&Path>) -> Vec<PathBuf> {
    extra.map(Path::to_path_buf).into_iter().chain(breastmnist_data::locate()).collect()
}

fn look(entry: &Entry, size: Size, dirs: &[PathBuf]) -> Result<Found, CliError> {
    let file = entry.file_name(size);
    let md5 = entry.md5(size);
    let Ok(path) = breastmnist_data::local::find_in(&file, dirs) else {
        return Ok(Found { size, file, md5, status: "absent", path: None });
    };
    let status = if md5_hex(&read(&path)?) == md5 { "verified" } else { "wrong-md5" };
    Ok(Found { size, file, md5, status, path: Some(path) })
}

pub(crate) fn cmd_datasets(a: DatasetsArgs) -> Result<(), CliError> {
    let dirs = folders(a.dir.as_deref());
    let mut rows = Vec::new();
    for entry in &CATALOG {
        let found = Size::ALL.into_iter().map(|s| look(entry, s, &dirs)).collect::<Result<Vec<_>, _>>()?;
        rows.push((entry, found));
    }
    if a.json {
        let doc: Vec<serde_json::Value> = rows
            .iter()
            .map(|(e, found)| {
                serde_json::json!({
                    "flag": e.flag, "title": e.title, "task": e.task, "channels": e.channels,
                    "labels": e.labels, "splits": { "train": e.splits[0], "val": e.splits[1], "test": e.splits[2] },
                    "licence": e.licence, "files": found.iter().map(Found::json).collect::<Vec<_>>(),
                })
            })
            .collect();
        let doc = serde_json::json!({ "searched": dirs, "datasets": doc });
        println!("{}", serde_json::to_string_pretty(&doc).map_err(|e| CliError::Usage(e.to_string()))?);
        return Ok(());
    }
    println!(
        "{:<15} {:<26} {:>2} {:>7} {:>21}  {:<12} files (28/64/128/224 px)",
        "flag", "task", "ch", "classes", "train/val/test", "licence"
    );
    for (e, found) in &rows {
        let marks: Vec<&str> = found
            .iter()
            .map(|f| match f.status {
                "verified" => "ok",
                "wrong-md5" => "BAD",
                _ => "-",
            })
            .collect();
        let splits = format!("{}/{}/{}", e.splits[0], e.splits[1], e.splits[2]);
        println!(
            "{:<15} {:<26} {:>2} {:>7} {:>21}  {:<12} {}",
            e.flag.name(),
            e.task.name(),
            e.channels,
            e.classes(),
            splits,
            e.licence,
            marks.join(" ")
        );
    }
    println!("searched: {}", dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", "));
    for (_, found) in &rows {
        for f in found.iter().filter(|f| f.status == "wrong-md5") {
            let path = f.path.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
            println!("warning: {path} does not have the official MD5 {} (re-download it)", f.md5);
        }
    }
    println!("fetch one with: cargo xtask data --dataset FLAG [--size N] (where the official source is reachable)");
    Ok(())
}

#[derive(Args, Debug)]
pub struct ScoreArgs {
    /// The data the predictions are for.
    #[command(flatten)]
    data: DataArgs,
    /// The result file: `{flag}[_{size}]_{split}...csv`, one line `index,score_0,...,score_k-1`
    /// per image (the name says the split; its flag and size must be the data file's).
    result: PathBuf,
    /// Also print a 95% percentile-bootstrap interval of the AUC over this many resamples of
    /// the images (within each class; seed 0).
    #[arg(long, value_name = "N", default_value_t = 0)]
    bootstrap: usize,
}

/// Where a command's data comes from: `--data FILE` or `--dataset FLAG [--size N]`, and for a
/// file the catalog does not know, its `--task` and `--classes`.
#[derive(Args, Debug, Clone)]
pub(crate) struct DataArgs {
    /// The dataset file (.npz in MedMNIST's layout), identified by its MD5: an official file of
    /// any MedMNIST 2D dataset, or with --task and --classes any file of that layout.
    #[arg(long, conflicts_with = "dataset", required_unless_present = "dataset")]
    pub data: Option<PathBuf>,
    /// An official dataset by its flag (e.g. retinamnist; `breastmnist datasets` lists them),
    /// found in the data folders (`cargo xtask data --dataset FLAG` puts it there).
    #[arg(long, value_name = "FLAG")]
    pub dataset: Option<Flag>,
    /// With --dataset: the image size, 28, 64, 128 or 224 [28].
    #[arg(long, value_name = "N", requires = "dataset", conflicts_with = "data")]
    pub size: Option<Size>,
    /// For a file the catalog does not know: its task (binary-class, multi-class,
    /// ordinal-regression, multi-label).
    #[arg(long, requires = "classes", conflicts_with = "dataset")]
    pub task: Option<Task>,
    /// For a file the catalog does not know: its classes (or labels, for multi-label).
    #[arg(long, requires = "task", conflicts_with = "dataset")]
    pub classes: Option<usize>,
}

impl DataArgs {
    /// The file to read: `--data`, or the catalog file of `--dataset` in the data folders.
    pub fn path(&self) -> Result<PathBuf, CliError> {
        if let Some(p) = &self.data {
            return Ok(p.clone());
        }
        let flag = self.dataset.ok_or_else(|| CliError::Usage("give --data FILE or --dataset FLAG".into()))?;
        let file = flag.entry().file_name(self.size.unwrap_or(Size::Px28));
        breastmnist_data::local::find(&file).map_err(|e| {
            CliError::Usage(format!(
                "{e}; fetch it with `cargo xtask data --dataset {flag} --size {}`",
                self.size.unwrap_or(Size::Px28)
            ))
        })
    }

    /// Reads the data (see [`open_with`]).
    pub fn open(&self, fallback: Option<&DecodeOptions>) -> Result<(PathBuf, Opened), CliError> {
        let path = self.path()?;
        let bytes = read(&path)?;
        let md5 = md5_hex(&bytes);
        if let Some(flag) = self.dataset {
            // The file found under the official name must be the official file.
            let size = self.size.unwrap_or(Size::Px28);
            if identify(&md5) != Some((flag, size)) {
                return Err(CliError::Usage(format!(
                    "{} is not the official {} (its MD5 is {md5}, the official {}); fetch it again with `cargo xtask data --dataset {flag} --size {size}`",
                    path.display(),
                    entry_name(flag, size),
                    flag.entry().md5(size)
                )));
            }
        }
        let opened = open_with(&path, &bytes, md5, self.task, self.classes, fallback)?;
        if let (Some((entry, size)), Some(_)) = (opened.official, self.task) {
            return Err(CliError::Usage(format!(
                "{} is the official {} ({}, {} classes): --task and --classes are for files the catalog does not know",
                path.display(),
                entry_name(entry.flag, size),
                entry.task,
                entry.classes()
            )));
        }
        Ok((path, opened))
    }
}

/// A decoded data file and what it is.
pub(crate) struct Opened {
    pub data: breastmnist_data::Dataset,
    /// The catalog's row and size, for an official file.
    pub official: Option<(&'static Entry, Size)>,
    pub task: Task,
    /// The file's MD5 (lower-case hex).
    pub md5: String,
    /// The flag its result files are named with: the catalog's, BreastMNIST's for a file read
    /// in BreastMNIST's layout, none for a custom dataset.
    pub flag: Option<Flag>,
}

impl Opened {
    /// The names of the flag's labels (none for a custom dataset).
    pub fn labels(&self) -> Vec<&'static str> {
        self.flag.map(|f| f.entry().labels.to_vec()).unwrap_or_default()
    }
}

/// Reads and decodes `path`: an official file by its MD5 with the checks its catalog row
/// promises; any other file with `task` and `classes` named, or else with `fallback` (the
/// command's BreastMNIST layout) when there is one.
fn open_with(
    path: &Path,
    bytes: &[u8],
    md5: String,
    task: Option<Task>,
    classes: Option<usize>,
    fallback: Option<&DecodeOptions>,
) -> Result<Opened, CliError> {
    let data_err = |source| CliError::Data { path: path.to_path_buf(), source };
    if let Some((flag, size)) = identify(&md5) {
        let entry = flag.entry();
        let data = decode_npz(bytes, &entry.decode_options(size)).map_err(data_err)?;
        return Ok(Opened { data, official: Some((entry, size)), task: entry.task, md5, flag: Some(flag) });
    }
    if let (None, Some(options)) = (task, fallback) {
        let data = decode_npz(bytes, options).map_err(data_err)?;
        let task = if data.classes() == 2 { Task::Binary } else { Task::MultiClass };
        return Ok(Opened { data, official: None, task, md5, flag: Some(Flag::Breast) });
    }
    let (Some(task), Some(classes)) = (task, classes) else {
        return Err(CliError::Usage(format!(
            "{} is not an official MedMNIST file (its MD5 is in no catalog row); name its task and classes \
             (--task multi-class --classes 4) to read it as a custom dataset",
            path.display()
        )));
    };
    if !(2..=255).contains(&classes) {
        return Err(CliError::Usage(format!("--classes must be 2 to 255 (got {classes})")));
    }
    if task == Task::Binary && classes != 2 {
        return Err(CliError::Usage(format!("a binary-class dataset has 2 classes (got --classes {classes})")));
    }
    let options = DecodeOptions {
        max_member_bytes: 1 << 31,
        split_sizes: None,
        channels: None,
        side: None,
        targets: catalog::targets(task, classes),
        every_class: true,
    };
    let data = decode_npz(bytes, &options).map_err(data_err)?;
    Ok(Opened { data, official: None, task, md5, flag: None })
}

pub(crate) fn cmd_score(a: ScoreArgs) -> Result<(), CliError> {
    let (data_path, opened) = a.data.open(None)?;
    let file_name = a.result.file_name().unwrap_or_default().to_string_lossy().into_owned();
    let name = result_file::parse_standard_name(&file_name).map_err(|e| CliError::Usage(e.to_string()))?;
    if let Some((entry, size)) = opened.official
        && (name.flag, name.size) != (entry.flag, size)
    {
        return Err(CliError::Usage(format!(
            "{file_name} is a result file for {}, but {} is {}",
            entry_name(name.flag, name.size),
            data_path.display(),
            entry_name(entry.flag, size)
        )));
    }
    let text =
        String::from_utf8(read(&a.result)?).map_err(|_| CliError::Usage(format!("{} is not UTF-8 text", a.result.display())))?;
    let table = result_file::parse_table(&text).map_err(|e| CliError::Usage(format!("{}: {e}", a.result.display())))?;
    let split = opened.data.split(name.split);
    if table.len() != split.len() {
        return Err(CliError::Usage(format!(
            "{} has {} rows, but the {} split has {} images",
            a.result.display(),
            table.len(),
            name.split,
            split.len()
        )));
    }
    let m = evaluator::evaluate(opened.task, opened.data.targets, &split.labels, &table.scores, table.k)
        .map_err(|e| CliError::Usage(format!("{}: {e}", a.result.display())))?;
    print_metrics(&m, &name, opened.official.map(|(e, _)| e.labels));
    if a.bootstrap > 0 {
        match evaluator::bootstrap_auc(opened.task, opened.data.targets, &split.labels, &table.scores, table.k, a.bootstrap, 0) {
            Some(ci) => {
                println!("AUC 95% interval (bootstrap over the images, {} resamples): {:.4}-{:.4}", a.bootstrap, ci.lo, ci.hi)
            }
            None => println!("no bootstrap interval: no resample could be scored"),
        }
    }
    Ok(())
}

fn entry_name(flag: Flag, size: Size) -> String {
    format!("{} at {} px", flag.entry().title, size.side())
}

fn print_metrics(m: &TaskMetrics, name: &StandardName, labels: Option<&[&str]>) {
    // The Evaluator prints its namedtuple: Metrics(AUC=..., ACC=...).
    println!("Metrics(AUC={}, ACC={})", m.auc, m.acc);
    if let Some((auc, acc)) = name.metrics {
        let agrees = format!("{:.3}", m.auc) == format!("{auc:.3}") && format!("{:.3}", m.acc) == format!("{acc:.3}");
        let verdict = if agrees { "agree" } else { "DISAGREE" };
        println!("the name's [AUC]{auc:.3} [ACC]{acc:.3} {verdict} with the file's scores");
    }
    println!("{} on {} ({})", m.task, name.split, name.flag);
    print_task(m, labels);
}

/// The per-class AUC and the confusion of a k-class report.
pub(crate) fn print_task(m: &TaskMetrics, labels: Option<&[&str]>) {
    println!("per-class AUC:");
    for (i, auc) in m.per_class_auc.iter().enumerate() {
        let label = labels.and_then(|l| l.get(i)).copied().unwrap_or("");
        println!("  {i:>2} {auc:.4}  {label}");
    }
    match &m.confusion {
        Confusions::Classes(rows) => {
            println!("confusion (rows: true class, columns: predicted):");
            for (i, row) in rows.iter().enumerate() {
                let cells: Vec<String> = row.iter().map(|c| format!("{c:>6}")).collect();
                println!("  {i:>2} {}", cells.join(""));
            }
        }
        Confusions::PerLabel(ms) => {
            println!("per label [[tn, fp], [fn, tp]] at > 0.5:");
            for (i, c) in ms.iter().enumerate() {
                println!("  {i:>2} {c:?}");
            }
        }
    }
}

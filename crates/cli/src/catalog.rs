//! `breastmnist datasets` (the MedMNIST 2D catalog, and which official files this machine holds
//! and whether they verify), `inspect` (one file, identified by MD5, counted), `score` (what
//! `medmnist.Evaluator` would print for a standard result file) and `runs`: the operations
//! layer's results, printed. Also [`DataArgs`], the data flags the commands share.

use std::path::PathBuf;

use breastmnist_core::evaluator::{Confusions, TaskMetrics};
use breastmnist_data::{Flag, Size, Task};
use breastmnist_ops::catalog as ops;
use breastmnist_ops::{DataSource, DataSpec};
use clap::Args;

use crate::CliError;
use crate::printer::Printer;

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
    /// The flags as the operations layer's data request.
    pub fn spec(&self) -> DataSpec {
        let source = match (&self.data, self.dataset) {
            (Some(p), _) => DataSource::File(p.clone()),
            (None, Some(flag)) => DataSource::Catalog { flag, size: self.size.unwrap_or(Size::Px28), dirs: Vec::new() },
            // clap requires one of the two.
            (None, None) => DataSource::File(PathBuf::new()),
        };
        DataSpec { source, task: self.task, classes: self.classes }
    }
}

#[derive(Args, Debug)]
pub struct DatasetsArgs {
    /// Also look for the files in this folder (searched first).
    #[arg(long)]
    dir: Option<PathBuf>,
}

pub(crate) fn cmd_datasets(a: DatasetsArgs, printer: &mut Printer) -> Result<(), CliError> {
    let d = ops::datasets(a.dir.as_deref(), printer)?;
    let result = serde_json::to_value(&d).unwrap_or_default();
    printer.done("datasets", result, Vec::new(), || print_datasets(&d));
    Ok(())
}

fn print_datasets(d: &ops::Datasets) {
    println!(
        "{:<15} {:<26} {:>2} {:>7} {:>21}  {:<12} files (28/64/128/224 px)",
        "flag", "task", "ch", "classes", "train/val/test", "licence"
    );
    for e in &d.datasets {
        let marks: Vec<&str> = e
            .files
            .iter()
            .map(|f| match f.status {
                "verified" => "ok",
                "wrong-md5" => "BAD",
                _ => "-",
            })
            .collect();
        let splits = format!("{}/{}/{}", e.splits.train, e.splits.val, e.splits.test);
        println!(
            "{:<15} {:<26} {:>2} {:>7} {:>21}  {:<12} {}",
            e.flag,
            e.task,
            e.channels,
            e.labels.len(),
            splits,
            e.licence,
            marks.join(" ")
        );
    }
    println!("searched: {}", d.searched.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", "));
    for f in d.datasets.iter().flat_map(|e| &e.files).filter(|f| f.status == "wrong-md5") {
        let path = f.path.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
        println!("warning: {path} does not have the official MD5 {} (re-download it)", f.md5);
    }
    println!("fetch one with: cargo xtask data --dataset FLAG [--size N] (where the official source is reachable)");
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    #[command(flatten)]
    data: DataArgs,
}

pub(crate) fn cmd_inspect(a: InspectArgs, printer: &mut Printer) -> Result<(), CliError> {
    let i = ops::inspect(&a.data.spec(), printer)?;
    let result = serde_json::to_value(&i).unwrap_or_default();
    printer.done("inspect", result, Vec::new(), || {
        let info = &i.info;
        let what =
            info.official.as_ref().map_or("not in the catalog".to_string(), |o| format!("official {} at {} px", o.flag, o.size));
        println!("{} (MD5 {}): {what}", info.path.display(), info.md5);
        println!("{}, {} classes, {} channel(s), {} px", info.task, info.classes, info.channels, info.side);
        let counts = [("train", &i.counts.train), ("val", &i.counts.val), ("test", &i.counts.test)];
        for ((split, counts), n) in counts.into_iter().zip(info.splits) {
            println!("{split:<5} {n:>6} images, per class {counts:?}");
        }
        for (k, name) in info.labels.iter().enumerate() {
            println!("  {k:>2} {name}");
        }
    });
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

pub(crate) fn cmd_score(a: ScoreArgs, printer: &mut Printer) -> Result<(), CliError> {
    let s = ops::score(&a.data.spec(), &a.result, a.bootstrap, printer)?;
    let result = serde_json::to_value(&s).unwrap_or_default();
    printer.done("score", result, Vec::new(), || {
        let m = &s.metrics;
        // The Evaluator prints its namedtuple: Metrics(AUC=..., ACC=...).
        println!("Metrics(AUC={}, ACC={})", m.auc, m.acc);
        if let (Some((auc, acc)), Some(agrees)) = (s.name_metrics, s.name_agrees) {
            let verdict = if agrees { "agree" } else { "DISAGREE" };
            println!("the name's [AUC]{auc:.3} [ACC]{acc:.3} {verdict} with the file's scores");
        }
        println!("{} on {} ({})", m.task, s.split, s.flag);
        print_task(m, Some(&s.labels));
        match s.auc_interval {
            Some([lo, hi]) => {
                println!("AUC 95% interval (bootstrap over the images, {} resamples): {lo:.4}-{hi:.4}", s.bootstrap)
            }
            None if s.bootstrap > 0 => println!("no bootstrap interval: no resample could be scored"),
            None => {}
        }
    });
    Ok(())
}

#[derive(Args, Debug)]
pub struct RunsArgs {
    /// The folder to look in (and below it).
    dir: PathBuf,
}

pub(crate) fn cmd_runs(a: RunsArgs, printer: &mut Printer) -> Result<(), CliError> {
    let runs = breastmnist_ops::runs::list_runs(&a.dir)?;
    let result = serde_json::json!({ "runs": runs });
    printer.done("runs", result, Vec::new(), || {
        for r in &runs {
            let fig = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.4}"));
            println!(
                "{:<10} {:<40} {:<14} {:<6} epochs {:>3}  val AUC {}  test AUC {} ACC {}",
                r.status,
                r.path.display(),
                r.dataset.as_deref().unwrap_or("-"),
                r.model.as_deref().unwrap_or("-"),
                r.epochs_done.map_or("-".to_string(), |e| e.to_string()),
                fig(r.val_auc),
                fig(r.test_auc),
                fig(r.test_acc)
            );
        }
        if runs.is_empty() {
            println!("no runs under {}", a.dir.display());
        }
    });
    Ok(())
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

//! `train` and `pretrain`: a recipe on a dataset, stepped by the core's trainer, with an event
//! per step and per epoch, a look at the cancel flag before every step, and the run's files:
//! metrics.json, predictions.csv, best.ckpt and MedMNIST's standard result files.
//!
//! Cancelled, it keeps what it has: best.ckpt (the model kept so far) and progress.json (the
//! epochs so far), and fails with [`Error::Cancelled`] naming them. The lab's runs, which write
//! no files, step the same trainer through [`run_once`].

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use breastmnist_core::checkpoint::Checkpoint;
use breastmnist_core::export::{MetricsFile, predictions_csv, task_predictions_csv};
use breastmnist_core::model::conv_check::{settle, should_race};
use breastmnist_core::result_file::{self, ResultFile};
use breastmnist_core::train::{self, InitFile, TrainConfig, TrainEvent, Trainer};
use breastmnist_core::{Device, Network, RunResult};
use breastmnist_data::{Dataset, DecodeOptions, Flag};
use futures_lite::future::block_on;
use serde::Serialize;

use crate::backend::{Backend, device};
use crate::error::{Error, create_dir, file_name, read};
use crate::event::{Cancel, DataInfo, EVENTS_VERSION, Event, Sink, Written};
use crate::recipe::Recipe;
use crate::source::DataSpec;
use crate::weights::weights_from;

/// Supervised training on the data's own splits (`Train`, with MedMNIST's result files), or
/// pretraining on another file (`Pretrain`: any split sizes, no result files).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Train,
    Pretrain,
}

/// One training run.
#[derive(Clone, Debug)]
pub struct TrainRequest {
    pub data: DataSpec,
    pub recipe: Recipe,
    /// The folder the run's files go to (created if missing).
    pub out: PathBuf,
    /// The run name in the result files' names [MODEL-seedSEED].
    pub run: Option<String>,
    pub backend: Backend,
    pub purpose: Purpose,
}

/// A finished run.
#[derive(Clone, Debug)]
pub struct Trained {
    pub result: RunResult,
    pub data: DataInfo,
    pub flag: Option<Flag>,
    pub labels: Vec<&'static str>,
    /// metrics.json's document.
    pub metrics: serde_json::Value,
    /// Every file written, in order.
    pub files: Vec<PathBuf>,
    /// The standard result files among them.
    pub result_files: Vec<PathBuf>,
    /// Why no result files were written, when none were.
    pub no_result_files: Option<&'static str>,
    pub out: PathBuf,
}

/// What `done` says of a training run (besides the files).
#[derive(Serialize)]
struct TrainedJson<'a> {
    out: &'a Path,
    best_epoch: usize,
    val: Figures,
    test: Figures,
    metrics: &'a serde_json::Value,
}

/// MedMNIST's AUC and ACC of a split.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Figures {
    pub auc: f64,
    pub acc: f64,
}

impl Trained {
    /// The `done` event's result: the kept epoch, val and test figures, and metrics.json.
    pub fn json(&self) -> serde_json::Value {
        serde_json::to_value(TrainedJson {
            out: &self.out,
            best_epoch: self.result.best_epoch,
            val: Figures { auc: self.result.val.auc, acc: self.result.val.acc },
            test: Figures { auc: self.result.test.auc, acc: self.result.test.acc },
            metrics: &self.metrics,
        })
        .unwrap_or_default()
    }
}

/// Milliseconds since the first call (the convolution race's clock).
fn clock_ms() -> f64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1e3
}

/// The epochs so far, written when a run is cancelled.
#[derive(Serialize)]
struct Progress<'a> {
    status: &'static str,
    epochs_done: usize,
    epochs: usize,
    history: &'a [train::EpochMetrics],
}

/// Trains `req`, reporting to `sink`, stopping between steps when `cancel` is set.
pub fn train(req: &TrainRequest, sink: &mut dyn Sink, cancel: &Cancel) -> Result<Trained, Error> {
    // What needs no data file fails first, so typos and a missing starting point fail fast.
    let (mut config, init) = req.recipe.config()?;
    let fallback = match req.purpose {
        Purpose::Train => DecodeOptions::default(),
        Purpose::Pretrain => DecodeOptions { split_sizes: None, ..DecodeOptions::default() },
    };
    let opened = req.data.open(Some(&fallback))?;
    let info = opened.info();
    // A file the catalog does not know, read in BreastMNIST's layout, is named as BreastMNIST.
    let (flag, labels, task) = (opened.flag, opened.labels(), opened.task);
    let data = Arc::new(opened.data);
    config.validate(data.train.len())?;
    let (device, env) = device(req.backend)?;
    let pinned = config.conv;
    let conv = block_on(settle(pinned, &device)).map_err(train::TrainError::from)?;
    // Warnings found before the run starts follow its `started` event.
    let mut early = Vec::new();
    if conv.fell_back {
        early.push(format!("gemm convolutions disagree with burn's kernel on this device ({:?}); using direct", conv.check));
    }
    if info.official.is_none() && req.data.task.is_none() {
        early.push(format!(
            "{} is not an official MedMNIST file (MD5 {}); it is read in BreastMNIST's layout{}",
            info.path.display(),
            info.md5,
            if req.purpose == Purpose::Train { " and its result files are named as BreastMNIST's" } else { "" }
        ));
    }
    config.conv = Some(conv.algo);
    create_dir(&req.out)?;
    let mut trainer = match init {
        Some(path) => {
            let name = file_name(&path);
            let bytes = read(&path)?;
            let ckpt = weights_from(&path, &bytes, &data, None, config.resize)?;
            config.init = Some(InitFile::of(name, &bytes));
            Trainer::from_checkpoint(config, data.clone(), &ckpt, &device)?
        }
        None => Trainer::new(config, data.clone(), &device)?,
    };
    if should_race(pinned, &conv) {
        trainer.race_conv(clock_ms);
    }
    let c = trainer.config();
    let epochs = c.epochs;
    let detail = format!(
        "training {}{} ({}) on {} images ({} px), {} epochs × {} steps, keeping {}{}, backend {} ({} convolutions)",
        c.model,
        c.init.as_ref().map_or(String::new(), |i| format!(" from {}", i.name)),
        c.preset.map_or("custom recipe".to_string(), |p| format!("preset {p}")),
        c.subset.unwrap_or(data.train.len()),
        data.side,
        c.epochs,
        trainer.steps_per_epoch(),
        c.selection,
        if c.tta { ", flip TTA" } else { "" },
        env.backend,
        if should_race(pinned, &conv) { "direct and gemm racing".to_string() } else { format!("{}", conv.algo) }
    );
    let command = match req.purpose {
        Purpose::Train => "train",
        Purpose::Pretrain => "pretrain",
    };
    sink.emit(Event::Started { version: EVENTS_VERSION, command: command.into(), data: Some(info.clone()), detail });
    for message in early {
        sink.emit(Event::Warning { message });
    }
    let mut written = Written::default();
    let outcome = loop {
        if cancel.is_cancelled() {
            return Err(keep_on_cancel(&trainer, &req.out, epochs, sink, &mut written));
        }
        let mut end = None;
        for ev in block_on(trainer.step())? {
            match ev {
                TrainEvent::Step { epoch, step, steps_per_epoch, loss, .. } => {
                    sink.emit(Event::Step { epoch, epochs, step, steps_per_epoch, loss })
                }
                TrainEvent::Epoch(m) => sink.emit(Event::Epoch {
                    epoch: m.epoch,
                    epochs,
                    train_loss: m.train_loss,
                    train_acc: m.train_acc,
                    val_loss: m.val_loss,
                    val_acc: m.val_acc,
                    val_auc: m.val_auc,
                    lr: m.lr,
                    kept: m.is_best,
                }),
                TrainEvent::Eval { .. } => {}
                TrainEvent::Done(r) => end = Some(Ok(*r)),
                TrainEvent::Error(f) => end = Some(Err(f)),
            }
        }
        if let Some(end) = end {
            break end;
        }
    };
    // Keep the best model even when the run stopped early.
    if let Some(bytes) = block_on(trainer.best_checkpoint())? {
        written.write(sink, req.out.join("best.ckpt"), &bytes, "checkpoint")?;
    }
    let mut result = outcome.map_err(Error::Failure)?;
    result.task = result.task.map(|t| t.named(task));
    let conv = trainer.conv_outcome(conv);
    if let Some(t) = conv.race {
        sink.emit(Event::Warning {
            message: format!(
                "convolutions: {} won the race ({:.1} ms direct, {:.1} ms gemm per step)",
                conv.algo, t.direct_ms, t.gemm_ms
            ),
        });
    }
    let (val, test) = (&result.val, &result.test);
    sink.emit(Event::Evaluated { split: "val".into(), images: data.val.len(), auc: val.auc, acc: val.acc });
    sink.emit(Event::Evaluated { split: "test".into(), images: data.test.len(), auc: test.auc, acc: test.acc });
    let file = MetricsFile::new(&result, env.with_conv(conv)).with_dataset(&result, flag, &labels);
    let metrics_json = file.to_json();
    written.write(sink, req.out.join("metrics.json"), metrics_json.as_bytes(), "metrics")?;
    let csv = match &result.task {
        Some(t) => task_predictions_csv(&data.test.labels, data.test.width, &t.test_probabilities, t.classes),
        None => predictions_csv(&result.test.predictions),
    };
    written.write(sink, req.out.join("predictions.csv"), csv.as_bytes(), "predictions")?;
    let (result_files, no_result_files) = match (req.purpose, flag) {
        (Purpose::Train, Some(flag)) => {
            let run = req.run.clone().unwrap_or_else(|| result_file::run_name(&result));
            let files = result_file::result_files_for(&result, flag, &run);
            (write_result_files(&req.out, &files, sink, &mut written)?, None)
        }
        (Purpose::Train, None) => (Vec::new(), Some("a custom dataset has no MedMNIST flag for the Evaluator")),
        (Purpose::Pretrain, _) => (Vec::new(), None),
    };
    Ok(Trained {
        result,
        data: info,
        flag,
        labels,
        metrics: serde_json::from_str(&metrics_json).unwrap_or_default(),
        files: written.0,
        result_files,
        no_result_files,
        out: req.out.clone(),
    })
}

/// Writes what a cancelled run has (its kept model and its epochs so far) and the error that
/// names them.
fn keep_on_cancel(trainer: &Trainer, out: &Path, epochs: usize, sink: &mut dyn Sink, written: &mut Written) -> Error {
    let mut kept = Vec::new();
    if let Ok(Some(bytes)) = block_on(trainer.best_checkpoint())
        && written.write(sink, out.join("best.ckpt"), &bytes, "checkpoint").is_ok()
    {
        kept.push(out.join("best.ckpt").display().to_string());
    }
    let history = trainer.history();
    let progress = Progress { status: "cancelled", epochs_done: history.len(), epochs, history };
    if let Ok(text) = serde_json::to_string_pretty(&progress)
        && written.write(sink, out.join("progress.json"), text.as_bytes(), "progress").is_ok()
    {
        kept.push(out.join("progress.json").display().to_string());
    }
    Error::Cancelled { kept }
}

/// Writes MedMNIST's standard result files into `dir`. An earlier file of the same data size,
/// split and run (another run's metrics in its name) is removed first, so the folder holds one
/// file per split and run.
pub fn write_result_files(
    dir: &Path,
    files: &[ResultFile],
    sink: &mut dyn Sink,
    written: &mut Written,
) -> Result<Vec<PathBuf>, Error> {
    let new: Vec<result_file::FileName> = files.iter().filter_map(|f| result_file::parse_name(&f.name).ok()).collect();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(old) = result_file::parse_name(&name) else { continue };
            let replaced = new.iter().any(|n| (n.side, n.split, &n.run) == (old.side, old.split, &old.run));
            if replaced && !files.iter().any(|f| f.name == name) {
                let path = entry.path();
                std::fs::remove_file(&path).map_err(|source| Error::Write { path, source })?;
            }
        }
    }
    let mut paths = Vec::new();
    for f in files {
        let path = dir.join(&f.name);
        written.write(sink, path.clone(), f.contents.as_bytes(), "result-file")?;
        paths.push(path);
    }
    Ok(paths)
}

/// The lab's runs: trains `config` to the end (fresh, or from `init`), reporting its steps and stopping when
/// `cancel` is set; returns the run, its kept model and the seconds it took.
pub fn run_once(
    config: TrainConfig,
    data: &Arc<Dataset>,
    init: Option<&Checkpoint>,
    device: &Device,
    sink: &mut dyn Sink,
    cancel: &Cancel,
) -> Result<(RunResult, Network, f64), Error> {
    let started = Instant::now();
    let epochs = config.epochs;
    let mut trainer = match init {
        Some(ckpt) => Trainer::from_checkpoint(config, data.clone(), ckpt, device)?,
        None => Trainer::new(config, data.clone(), device)?,
    };
    let result = loop {
        if cancel.is_cancelled() {
            return Err(Error::Cancelled { kept: Vec::new() });
        }
        let mut end = None;
        for ev in block_on(trainer.step())? {
            match ev {
                TrainEvent::Step { epoch, step, steps_per_epoch, loss, .. } => {
                    sink.emit(Event::Step { epoch, epochs, step, steps_per_epoch, loss })
                }
                TrainEvent::Done(r) => end = Some(Ok(*r)),
                TrainEvent::Error(f) => end = Some(Err(Error::Failure(f))),
                _ => {}
            }
        }
        if let Some(end) = end {
            break end?;
        }
    };
    let model = trainer.best_model().map(|(_, m)| m.clone()).ok_or(train::TrainError::NoModel)?;
    Ok((result, model, started.elapsed().as_secs_f64()))
}

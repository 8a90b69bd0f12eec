//! What an operation reports while it runs ([`Event`]), where it reports it ([`Sink`]), and how
//! it is asked to stop ([`Cancel`]).
//!
//! `Event` is the wire type of `--json` (one JSON object per line, tagged by `event`) and the
//! source of the MCP server's progress notifications; `docs/events.schema.json` is its schema,
//! checked against real output by `crates/cli/tests/agents.rs`.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use breastmnist_core::lab::{LabRun, Method};
use serde::Serialize;

use crate::error::{Error, ErrorKind};

/// The version of the events' JSON shape (in `started`); bumped when a field changes meaning.
pub const EVENTS_VERSION: u32 = 1;

/// What a data file is, as the `started` event and `inspect_data` say it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DataInfo {
    /// The file's path.
    pub path: PathBuf,
    /// Lower-case hex MD5 of the file's bytes.
    pub md5: String,
    /// The catalog's flag and size when the MD5 is an official file's, else null.
    pub official: Option<Official>,
    /// binary-class, multi-class, ordinal-regression or multi-label.
    pub task: String,
    /// Classes (labels, for multi-label).
    pub classes: usize,
    /// The label names, in label order (empty for a custom dataset).
    pub labels: Vec<String>,
    pub channels: usize,
    pub side: usize,
    /// Images in train, val and test.
    pub splits: [usize; 3],
}

/// An official file: which dataset and which size.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Official {
    pub flag: String,
    pub size: usize,
}

/// One thing an operation reports.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// The operation began; `data` is the file it reads, when it reads one.
    Started { version: u32, command: String, data: Option<DataInfo>, detail: String },
    /// One optimisation step (not written by the JSON printer: too many; progress uses it).
    Step { epoch: usize, epochs: usize, step: usize, steps_per_epoch: usize, loss: f64 },
    /// An epoch ended: its losses and validation metrics; `kept` when its model is the one
    /// kept so far.
    Epoch {
        epoch: usize,
        epochs: usize,
        train_loss: f64,
        train_acc: f64,
        val_loss: f64,
        val_acc: f64,
        val_auc: f64,
        lr: f64,
        kept: bool,
    },
    /// A split was scored.
    Evaluated { split: String, images: usize, auc: f64, acc: f64 },
    /// A file was written.
    File { path: PathBuf, role: String },
    /// Something the reader should know that does not stop the operation.
    Warning { message: String },
    /// Progress in words for a person (what a long operation is doing now). The JSON printer
    /// writes it to stderr, not as a line: a program reads the typed events.
    Note { message: String },
    /// An epoch of self-supervised pretraining ended (`ssl`, and the lab's pretext methods):
    /// the task (`contrastive` or `masked`), the encoder, and the epoch's mean loss.
    PretextEpoch { task: String, model: String, epoch: usize, epochs: usize, loss: f64 },
    /// One training run of the lab finished (`method` with `model` and `seed`).
    LabRun { model: String, method: String, seed: u64, val_auc: f64, test_auc: f64, test_acc: f64, seconds: f64 },
    /// The operation finished: its result (per command; the schema lists them) and every file
    /// it wrote.
    Done { command: String, result: serde_json::Value, files: Vec<PathBuf> },
    /// The operation failed.
    Error { kind: ErrorKind, exit_code: u8, message: String },
}

impl Event {
    /// One lab run finished, trained or taken from an earlier report (for `ensemble`, `seed`
    /// is its number of members, as the run records).
    pub fn lab_run(model: &str, method: Method, run: &LabRun) -> Event {
        Event::LabRun {
            model: model.into(),
            method: method.name().into(),
            seed: run.seed,
            val_auc: run.val_auc,
            test_auc: run.test_auc,
            test_acc: run.test_acc,
            seconds: run.seconds,
        }
    }

    pub fn error(e: &Error) -> Event {
        let kind = e.kind();
        Event::Error { kind, exit_code: kind.exit_code(), message: e.to_string() }
    }

    /// A `file` event.
    pub fn file(path: impl Into<PathBuf>, role: &str) -> Event {
        Event::File { path: path.into(), role: role.into() }
    }
}

/// Where an operation's events go. Front ends implement it: the text printer, the JSON
/// printer, the MCP server's progress.
pub trait Sink {
    fn emit(&mut self, event: Event);
}

/// A sink that keeps every event (tests, and callers that only want the result).
#[derive(Default, Debug)]
pub struct Collect(pub Vec<Event>);

impl Sink for Collect {
    fn emit(&mut self, event: Event) {
        self.0.push(event);
    }
}

impl<F: FnMut(Event)> Sink for F {
    fn emit(&mut self, event: Event) {
        self(event)
    }
}

/// A request to stop, shared between whoever asks and the operation, which looks between
/// steps.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// The files an operation wrote, in order, each reported as a `file` event as it is written.
#[derive(Debug, Default)]
pub struct Written(pub Vec<PathBuf>);

impl Written {
    /// Writes `bytes` to `path`, reports it and remembers it.
    pub fn write(&mut self, sink: &mut dyn Sink, path: PathBuf, bytes: &[u8], role: &str) -> Result<(), Error> {
        crate::error::write(&path, bytes)?;
        sink.emit(Event::file(path.clone(), role));
        self.0.push(path);
        Ok(())
    }
}

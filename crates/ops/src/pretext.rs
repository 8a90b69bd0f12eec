//! `ssl`: self-supervised pretraining of an encoder on the unlabeled pool (the data's training
//! images and, with `extra`, every image of other MedMNIST files), written as `encoder.ckpt`
//! (for `train --init`, with or without a linear probe) and `pretext.json`. The lab's
//! self-supervised methods pretrain through [`pretrain`] too.
//!
//! Cancelled, it stops between steps and writes nothing: an encoder pretrained part of the way
//! is not the one asked for.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use breastmnist_core::Device;
use breastmnist_core::checkpoint::Checkpoint;
use breastmnist_core::lab::PretextRow;
use breastmnist_core::model::ModelSize;
use breastmnist_core::pretext::{self, Pool, PretextConfig, PretextEvent, PretextReport, PretextTrainer, Task};
use breastmnist_data::{Dataset, DecodeOptions};
use futures_lite::future::block_on;
use serde::Serialize;

use crate::backend::{Backend, device};
use crate::error::{Error, create_dir, file_name};
use crate::event::{Cancel, EVENTS_VERSION, Event, Sink, Written};
use crate::source::{DataSpec, load_data_with};

/// One self-supervised pretraining.
#[derive(Clone, Debug)]
pub struct SslRequest {
    /// The data whose training images join the pool (labels unused); RGB is read in grayscale.
    pub data: DataSpec,
    pub task: Task,
    pub model: ModelSize,
    /// Other MedMNIST files whose every image joins the pool, in grayscale.
    pub extra: Vec<PathBuf>,
    pub epochs: usize,
    pub batch: usize,
    pub lr: f64,
    pub seed: u64,
    /// Where encoder.ckpt and pretext.json go (created if missing).
    pub out: PathBuf,
    pub backend: Backend,
}

/// A finished pretraining.
#[derive(Clone, Debug)]
pub struct Pretrained {
    pub report: PretextReport,
    pub files: Vec<PathBuf>,
    pub out: PathBuf,
    /// The data file the pool's target split came from.
    pub data: PathBuf,
}

#[derive(Serialize)]
struct PretrainedJson<'a> {
    out: &'a Path,
    task: String,
    model: String,
    images: usize,
    first_loss: Option<f64>,
    last_loss: Option<f64>,
    seconds: f64,
}

impl Pretrained {
    /// The `done` event's result: the task, the encoder, the pool's size and the losses.
    pub fn json(&self) -> serde_json::Value {
        let r = &self.report;
        serde_json::to_value(PretrainedJson {
            out: &self.out,
            task: r.config.task.to_string(),
            model: r.config.model.name().into(),
            images: r.images,
            first_loss: r.history.first().map(|e| e.loss),
            last_loss: r.history.last().map(|e| e.loss),
            seconds: r.seconds,
        })
        .unwrap_or_default()
    }
}

/// The pool: `data`'s training split (read from `data_path`) and every image of the `extra`
/// files.
pub fn pool(data_path: &Path, data: &Dataset, extra: &[PathBuf]) -> Result<Pool, Error> {
    let mut pool = Pool::new(data.side);
    pool.add_target(&file_name(data_path), data).map_err(|e| Error::Usage(e.to_string()))?;
    let images_only = DecodeOptions { split_sizes: None, ..DecodeOptions::default() }.unlabeled();
    for path in extra {
        let other = load_data_with(path, &images_only)?;
        pool.add_other(&file_name(path), &other).map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?;
    }
    Ok(pool)
}

/// Pretrains `config` on `pool`, reporting each step and epoch, stopping between steps when
/// `cancel` is set; returns the encoder's checkpoint, the lab's row and the report.
pub fn pretrain(
    config: PretextConfig,
    pool: Arc<Pool>,
    device: &Device,
    sink: &mut dyn Sink,
    cancel: &Cancel,
) -> Result<(Vec<u8>, PretextRow, PretextReport), Error> {
    let started = Instant::now();
    let failed = |e: pretext::PretextError| Error::Usage(format!("pretraining failed: {e}"));
    let mut trainer = PretextTrainer::new(config.clone(), pool.clone(), device).map_err(failed)?;
    let (task, model, epochs) = (config.task.to_string(), config.model.name().to_string(), config.epochs);
    sink.emit(Event::Note {
        message: format!(
            "{task} pretraining of {model} on {} images ({}), {epochs} epochs × {} steps",
            pool.len(),
            pool.sources().iter().map(|s| format!("{} {}", s.name, s.images)).collect::<Vec<_>>().join(", "),
            trainer.steps_per_epoch()
        ),
    });
    while !trainer.is_finished() {
        if cancel.is_cancelled() {
            return Err(Error::Cancelled { kept: Vec::new() });
        }
        for ev in block_on(trainer.step()).map_err(failed)? {
            match ev {
                PretextEvent::Step { epoch, step, steps_per_epoch, loss, .. } => {
                    sink.emit(Event::Step { epoch, epochs, step, steps_per_epoch, loss })
                }
                PretextEvent::Epoch { epoch, loss } => {
                    sink.emit(Event::PretextEpoch { task: task.clone(), model: model.clone(), epoch, epochs, loss })
                }
                _ => {}
            }
        }
    }
    let bytes = block_on(trainer.checkpoint()).map_err(failed)?;
    // What is kept must load back as a checkpoint.
    Checkpoint::from_bytes(&bytes).map_err(|source| Error::Checkpoint { path: PathBuf::from("(pretext encoder)"), source })?;
    let seconds = started.elapsed().as_secs_f64();
    let report = PretextReport::new(&trainer, seconds);
    let row = PretextRow {
        model,
        config,
        sources: pool.sources().iter().map(|s| format!("{} ({} images)", s.name, s.images)).collect(),
        images: pool.len(),
        losses: trainer.history().iter().map(|e| e.loss).collect(),
        seconds,
    };
    Ok((bytes, row, report))
}

/// Pretrains `req` and writes encoder.ckpt and pretext.json into `req.out`.
pub fn ssl(req: &SslRequest, sink: &mut dyn Sink, cancel: &Cancel) -> Result<Pretrained, Error> {
    let config = PretextConfig::new(req.task, req.model)
        .with_epochs(req.epochs)
        .with_batch_size(req.batch)
        .with_lr(req.lr)
        .with_seed(req.seed);
    config.validate().map_err(|e| Error::Usage(e.to_string()))?;
    let opened = req.data.open(Some(&DecodeOptions::default()))?;
    let pool = Arc::new(pool(&opened.path, &opened.data, &req.extra)?);
    let (device, _) = device(req.backend)?;
    sink.emit(Event::Started {
        version: EVENTS_VERSION,
        command: "ssl".into(),
        data: Some(opened.info()),
        detail: format!("{} pretraining of {}, {} epochs", req.task, req.model, req.epochs),
    });
    if opened.data.channels == 3 {
        // The encoder reads one channel: it fine-tunes grayscale data, not this file's colours.
        sink.emit(Event::Warning {
            message: format!(
                "{} is RGB: its training images join the pool in grayscale (ITU-R 601 luma, as MedMNIST's as_rgb=False \
                 readers get them; pretext.json records the file's 3 channels), so the encoder is grayscale and \
                 fine-tunes grayscale data",
                file_name(&opened.path)
            ),
        });
    }
    create_dir(&req.out)?;
    let (bytes, _, report) = pretrain(config, pool, &device, sink, cancel)?;
    let mut written = Written::default();
    written.write(sink, req.out.join("encoder.ckpt"), &bytes, "checkpoint")?;
    written.write(sink, req.out.join("pretext.json"), report.to_json().as_bytes(), "pretext")?;
    Ok(Pretrained { report, files: written.0, out: req.out.clone(), data: opened.path })
}

//! A GAN in the worker: decode the data, take its training images (the core's `gan::Real`: never
//! validation or test), step the core's `GanTrainer` while honouring pause and stop, and after
//! every epoch post the losses, the Fréchet distance in the sent encoder's features (if one was
//! sent) and a grid of generated images per class, always from the same latent vectors.
//!
//! It must not know about JavaScript beyond `io`'s post and yield.

use std::sync::Arc;

use breastmnist_core::batch::ImageView;
use breastmnist_core::checkpoint::Checkpoint;
use breastmnist_core::frechet::{Moments, distance};
use breastmnist_core::gan::{GanConfig, GanError, GanEvent, GanTrainer, Real};
use breastmnist_core::pretext::inspect::features;
use breastmnist_core::{Device, Network};
use breastmnist_data::{Dataset, DecodeOptions, Split, decode_npz};
use breastmnist_protocol::{ErrorKind, FromWorker, GanRequest, GanView, WorkerError};

use crate::backend::{self, Picked};
use crate::control::Control;
use crate::convert::data_error;
use crate::io::{post, yield_now};

/// The grid's latent draw (the same images move as the GAN learns).
const GRID_SEED: u64 = 0x6121D;
/// The Fréchet distance's latent draw.
const FRECHET_SEED: u64 = 0xF1D;

/// The most generated images shown per class.
const MAX_PER_CLASS: usize = 32;

fn gan_error(e: impl std::fmt::Display) -> WorkerError {
    WorkerError::new(ErrorKind::Worker, format!("the GAN: {e}"))
}

fn settings(message: String) -> WorkerError {
    WorkerError::new(ErrorKind::Settings, format!("the GAN: {message}"))
}

/// Trains `req`'s GAN to the end (or until stopped), posting every step and epoch.
pub async fn run(req: GanRequest, bytes: Vec<u8>, encoder: Option<Vec<u8>>, control: &Control) -> Result<(), WorkerError> {
    let data = decode_npz(&bytes, &DecodeOptions::default()).map_err(|e| data_error(&e))?;
    drop(bytes);
    if !(1..=MAX_PER_CLASS).contains(&req.per_class) || req.subset.is_some_and(|n| n < 2) {
        return Err(settings(format!(
            "show 1 to {MAX_PER_CLASS} images per class and learn from 2 or more images (got {} and {:?})",
            req.per_class, req.subset
        )));
    }
    let n = req.subset.unwrap_or(data.train.len()).min(data.train.len());
    let data = Dataset { train: data.train.first(n), ..data };
    let real = Arc::new(Real::training(&data).map_err(|e| match e {
        GanError::Shape { .. } | GanError::Setting(_) => settings(e.to_string()),
        other => gan_error(other),
    })?);
    let counts: Vec<usize> =
        (0..real.classes()).map(|c| (0..real.len()).filter(|&i| usize::from(real.label(i)) == c).count()).collect();
    let Picked { device, kind, adapter, notice, .. } = backend::pick(req.backend).await;
    post(&FromWorker::Backend { kind, adapter, notice }, None);
    let encoder = match encoder {
        Some(b) => {
            let unreadable =
                |e: breastmnist_core::CheckpointError| WorkerError::new(ErrorKind::Checkpoint, format!("the encoder sent: {e}"));
            let ckpt = Checkpoint::from_bytes(&b).map_err(unreadable)?;
            let c = &ckpt.config;
            if (c.input_size, c.in_channels) != (data.side, data.channels) {
                return Err(settings(format!(
                    "the encoder sent is for {} px images with {} channel(s); the data has {} px with {}",
                    c.input_size, c.in_channels, data.side, data.channels
                )));
            }
            Some(ckpt.load(&device).map_err(unreadable)?)
        }
        None => None,
    };
    let reference = match &encoder {
        Some(e) => Some(moments(e, &ImageView::of(&data, Split::Train), &device).await?),
        None => None,
    };
    let config = GanConfig::default().with_epochs(req.epochs).with_seed(req.seed);
    let mut gan = GanTrainer::new(config, real, &device).map_err(gan_error)?;
    let classes = counts.len();
    while !gan.is_finished() {
        if !control.go_on().await {
            return Ok(());
        }
        let events = gan.step().await.map_err(|e| match e {
            GanError::NonFinite { .. } => WorkerError::new(ErrorKind::Diverged, format!("the GAN: {e}")),
            other => gan_error(other),
        })?;
        for event in events {
            match event {
                GanEvent::Step { epoch, step, steps_per_epoch, d_loss, g_loss } => {
                    post(&FromWorker::GanStep { epoch, step, steps_per_epoch, d_loss, g_loss }, None)
                }
                GanEvent::Epoch(e) => {
                    let frechet = match (&encoder, &reference) {
                        (Some(enc), Some(r)) => {
                            let fake = gan.sample(&counts, FRECHET_SEED).await.map_err(gan_error)?;
                            let view = ImageView::single(&fake.images, &fake.labels, data.side, 1);
                            Some(distance(r, &moments(enc, &view, &device).await?).map_err(gan_error)?)
                        }
                        _ => None,
                    };
                    let grid = gan.sample(&vec![req.per_class; classes], GRID_SEED).await.map_err(gan_error)?;
                    let view = GanView {
                        epoch: e.epoch,
                        epochs: req.epochs,
                        d_loss: e.d_loss,
                        g_loss: e.g_loss,
                        frechet,
                        side: data.side,
                        images: n,
                        per_class: req.per_class,
                        samples: grid.images,
                    };
                    post(&FromWorker::GanEpoch(view), None);
                }
                GanEvent::Done => {}
            }
        }
        yield_now(0).await;
    }
    Ok(())
}

async fn moments(encoder: &Network, view: &ImageView<'_>, device: &Device) -> Result<Moments, WorkerError> {
    let rows = features(encoder, view, device).await.map_err(gan_error)?;
    Moments::of(&rows).map_err(gan_error)
}

//! Self-supervised pretraining in the worker: decode the data, pool BreastMNIST's training
//! images, step the core's `PretextTrainer` while honouring pause and stop, and after every
//! epoch post what the encoder learned (the 2-D projection of all 780 images' features, and
//! for the masked task a few reconstructions); at the end post the encoder's checkpoint.
//!
//! It must not know about JavaScript beyond `io`'s post and yield.

use std::sync::Arc;

use breastmnist_core::batch::ImageView;
use breastmnist_core::pretext::inspect::{features, pca_2d};
use breastmnist_core::pretext::{Pool, PretextEvent, PretextTrainer};
use breastmnist_data::{DecodeOptions, Split, decode_npz};
use breastmnist_protocol::{ErrorKind, FromWorker, PretextView, PretrainRequest, WorkerError};

use crate::backend::{self, Picked};
use crate::control::Control;
use crate::convert::{data_error, extra, pretext_config, pretext_error};
use crate::io::{post, yield_now};

/// Training images shown as reconstructions after each masked epoch.
const RECON: [usize; 4] = [0, 1, 2, 3];

/// Pretrains `req` to the end (or until stopped), posting every event.
pub async fn run(req: PretrainRequest, bytes: Vec<u8>, extras: Vec<Vec<u8>>, control: &Control) -> Result<(), WorkerError> {
    let data = Arc::new(decode_npz(&bytes, &DecodeOptions::default()).map_err(|e| data_error(&e))?);
    drop(bytes);
    let mut pool = Pool::new(data.side);
    pool.add_target("breastmnist.npz", &data).map_err(|e| pretext_error(&e.into()))?;
    if extras.len() != req.extra.len() {
        return Err(WorkerError::new(
            ErrorKind::Worker,
            format!("{} extra files were named but {} sent", req.extra.len(), extras.len()),
        ));
    }
    let images_only = DecodeOptions { split_sizes: None, ..DecodeOptions::default() }.unlabeled();
    for (&name, bytes) in req.extra.iter().zip(&extras) {
        let file = extra(name);
        file.verify(bytes).map_err(|e| data_error(&e))?;
        let other = decode_npz(bytes, &images_only).map_err(|e| data_error(&e))?;
        pool.add_other(file.file_name(), &other).map_err(|e| pretext_error(&e.into()))?;
    }
    drop(extras);
    let config = pretext_config(&req);
    let Picked { device, kind, adapter, notice, .. } = backend::pick(req.backend).await;
    post(&FromWorker::Backend { kind, adapter, notice }, None);
    let mut trainer = PretextTrainer::new(config, Arc::new(pool), &device).map_err(|e| pretext_error(&e))?;
    let epochs = req.epochs;
    while !trainer.is_finished() {
        if !control.go_on().await {
            return Ok(());
        }
        for event in trainer.step().await.map_err(|e| pretext_error(&e))? {
            match event {
                PretextEvent::Step { epoch, step, steps_per_epoch, loss, .. } => {
                    post(&FromWorker::PretextStep { epoch, step, steps_per_epoch, loss }, None)
                }
                PretextEvent::Epoch { epoch, loss } => {
                    let view =
                        inspect(&trainer, &data, &device, epoch, epochs, loss).await.map_err(|e| pretext_error(&e.into()))?;
                    post(&FromWorker::PretextEpoch(view), None);
                }
                PretextEvent::Done => {
                    let ckpt = trainer.checkpoint().await.map_err(|e| pretext_error(&e))?;
                    let name = format!("breastmnist-{}-{}-encoder.ckpt", req.model, req.task);
                    post(&FromWorker::Encoder { name }, Some(ckpt));
                }
            }
        }
        yield_now(0).await;
    }
    Ok(())
}

/// The epoch's picture: every image's features projected on two axes, and reconstructions.
async fn inspect(
    trainer: &PretextTrainer,
    data: &breastmnist_data::Dataset,
    device: &breastmnist_core::Device,
    epoch: usize,
    epochs: usize,
    loss: f64,
) -> Result<PretextView, breastmnist_core::read::ReadError> {
    let encoder = trainer.encoder().ok_or_else(|| breastmnist_core::read::ReadError("no encoder".into()))?;
    let mut rows = Vec::with_capacity(data.len());
    let mut labels = Vec::with_capacity(data.len());
    for split in Split::ALL {
        let view = ImageView::of(data, split);
        rows.extend(features(&encoder, &view, device).await?);
        labels.extend_from_slice(view.labels);
        yield_now(0).await;
    }
    let points = pca_2d(&rows);
    let (recon_side, recon) = match trainer.reconstructions(&RECON, 7).await? {
        Some(r) => (r.side, r.masked.into_iter().chain(r.output).flatten().collect()),
        None => (0, Vec::new()),
    };
    Ok(PretextView { epoch, epochs, loss, points, labels, recon_side, recon })
}

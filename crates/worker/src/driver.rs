//! A run in the worker: decode the data, pick the device, build the trainer (fresh, from a
//! checkpoint, or from a snapshot), step it while honouring pause and stop, and report every
//! event; or evaluate an imported checkpoint. The kept model goes to the explainer.
//!
//! It must not know about JavaScript beyond `io`'s post and yield.

use std::sync::Arc;

use breastmnist_core::model::ConvAlgo;
use breastmnist_core::model::conv_check::{Settled, settle, should_race};
use breastmnist_core::train::{InitFile, Snapshot, evaluate_checkpoint_reporting};
use breastmnist_core::{Checkpoint, TrainEvent, Trainer, torch};
use breastmnist_data::{Dataset, DecodeOptions, Flag, decode_npz};
use breastmnist_protocol::{BackendChoice, FromWorker, TrainRequest, WorkerError};

use crate::backend::{self, Picked};
use crate::control::Control;
use crate::convert::{self, config_of, data_error, decode_options, done_view, epoch_view, failure, train_error, weights_error};
use crate::explain::{Explainer, Session};
use crate::io::{fail, now_ms, post, yield_now};
use crate::job::Init;

fn checkpoint_name(req: &TrainRequest) -> String {
    let flag = req.dataset.map_or(Flag::Breast, |d| d.flag);
    format!("{flag}-{}-seed{}.ckpt", req.model, req.seed)
}

/// Our checkpoint from an imported file: our `.ckpt`, or a PyTorch state dict as
/// `.safetensors` (converted for `data`'s images).
fn checkpoint_of(bytes: &[u8], data: &Dataset) -> Result<Checkpoint, WorkerError> {
    torch::checkpoint_from_bytes_for(bytes, data.side, data.channels, torch::Outputs::of(data), None)
        .map_err(|e| weights_error(&e))
}

/// Posts the kept checkpoint and the same weights as PyTorch `.safetensors` (`name`'s stem).
async fn post_checkpoint(name: &str, ckpt: Vec<u8>) {
    let decoded = Checkpoint::from_bytes(&ckpt).ok();
    let model = decoded.as_ref().map(|c| Box::new(convert::model_view(&c.config)));
    let weights = match &decoded {
        Some(c) => torch::to_safetensors(c).await.ok(),
        None => None,
    };
    post(&FromWorker::Checkpoint { name: name.to_string(), model }, Some(ckpt));
    if let Some(w) = weights {
        let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
        post(&FromWorker::Weights { name: format!("{stem}.safetensors") }, Some(w));
    }
}

async fn device(choice: BackendChoice) -> Picked {
    let picked = backend::pick(choice).await;
    let msg = FromWorker::Backend { kind: picked.kind, adapter: picked.adapter.clone(), notice: picked.notice.clone() };
    post(&msg, None);
    picked
}

/// Evaluates an imported checkpoint and keeps it for the explorer.
pub async fn evaluate(
    choice: BackendChoice,
    name: String,
    tta: bool,
    bytes: Vec<u8>,
    ckpt: Vec<u8>,
    explainer: &Explainer,
) -> Result<(), WorkerError> {
    let data = Arc::new(decode_npz(&bytes, &DecodeOptions::default()).map_err(|e| data_error(&e))?);
    drop(bytes);
    let checkpoint = checkpoint_of(&ckpt, &data).map_err(|mut error| {
        error.message = format!("{name} is not a usable checkpoint: {}", error.message);
        error
    })?;
    // A converted PyTorch file is kept (stored, fine-tuned, downloaded) as our checkpoint.
    let (name, ckpt) = if ckpt.starts_with(breastmnist_core::checkpoint::MAGIC) {
        (name, ckpt)
    } else {
        let stem = name.rsplit_once('.').map_or(name.as_str(), |(stem, _)| stem).to_string();
        (format!("{stem}.ckpt"), checkpoint.to_bytes())
    };
    let Picked { device, kind, adapter, .. } = device(choice).await;
    let report = &mut |split, done, total| post(&FromWorker::Eval { split, done, total }, None);
    let (result, model) =
        evaluate_checkpoint_reporting(&checkpoint, &data, &device, tta, report).await.map_err(|e| train_error(&e))?;
    explainer.keep(Session {
        device,
        backend: kind,
        data,
        model,
        config: result.model.clone(),
        tta,
        sources: Default::default(),
    });
    post_checkpoint(&name, ckpt).await;
    post(&FromWorker::Done(done_view(&result, kind, &adapter, Settled::unchecked(ConvAlgo::Direct), None)), None);
    Ok(())
}

/// Trains `req` to the end (or until stopped), posting every event.
pub async fn run(
    req: TrainRequest,
    bytes: Vec<u8>,
    init: Init,
    control: &Control,
    explainer: &Explainer,
) -> Result<(), WorkerError> {
    let data = Arc::new(decode_npz(&bytes, &decode_options(req.dataset)).map_err(|e| data_error(&e))?);
    drop(bytes);
    let mut config = config_of(&req);
    config.validate(data.train.len()).map_err(|e| train_error(&e.into()))?;
    let Picked { device, kind, adapter, software, .. } = device(req.backend).await;
    // Unless the reader pinned one: burn's kernel on a software GPU (measured faster), else the
    // device's preferred algorithm, `gemm` only where it computes what burn's kernel computes
    // on this very device, raced against it over the first steps.
    let pinned = req.conv.map(convert::conv).or(software.then_some(ConvAlgo::Direct));
    let conv = settle(pinned, &device).await.map_err(|e| train_error(&e.into()))?;
    if conv.fell_back {
        let notice = Some(format!(
            "gemm convolutions disagreed with burn's kernel on {adapter} (worst relative difference {:.1e}): using the direct kernel",
            conv.check.map_or(f64::NAN, |c| c.worst())
        ));
        post(&FromWorker::Backend { kind, adapter: adapter.clone(), notice }, None);
    }
    config.conv = Some(conv.algo);
    let mut trainer = match init {
        Init::Fresh => Trainer::new(config, data.clone(), &device),
        Init::FineTune(b) => match checkpoint_of(&b, &data) {
            Ok(mut ckpt) => {
                convert::seen_as_asked(&mut ckpt.config, &req, data.side);
                let name = req.init_name.clone().unwrap_or_else(|| "init.ckpt".into());
                let config = config.with_init(Some(InitFile::of(name, &b)));
                Trainer::from_checkpoint(config, data.clone(), &ckpt, &device)
            }
            Err(e) => return Err(e),
        },
        Init::Continue(b) => Snapshot::from_bytes(&b).and_then(|snap| Trainer::resume(&snap, data.clone(), &device)),
    }
    .map_err(|e| train_error(&e))?;
    if should_race(pinned, &conv) {
        trainer.race_conv(now_ms);
    }
    let keep = |trainer: &Trainer| -> Option<usize> {
        let (epoch, model) = trainer.best_model()?;
        let config = trainer.model_config().clone();
        let tta = trainer.config().tta;
        explainer.keep(Session {
            device: device.clone(),
            backend: kind,
            data: data.clone(),
            model: model.clone(),
            config,
            tta,
            sources: Default::default(),
        });
        Some(epoch)
    };

    while !trainer.is_finished() {
        if !control.go_on().await {
            return Ok(());
        }
        let started = now_ms();
        let events = trainer.step().await.map_err(|e| train_error(&e))?;
        let millis = now_ms() - started;
        let mut epoch_ended = None;
        for event in events {
            match event {
                TrainEvent::Step { epoch, step, steps_per_epoch, loss, .. } => {
                    post(&FromWorker::Step { epoch, step, steps_per_epoch, loss, millis }, None)
                }
                TrainEvent::Eval { split, done, total } => post(&FromWorker::Eval { split, done, total }, None),
                TrainEvent::Epoch(m) => {
                    epoch_ended = Some(m.epoch);
                    post(&FromWorker::Epoch(epoch_view(&m)), None)
                }
                TrainEvent::Done(mut result) => {
                    if let Some(d) = req.dataset {
                        result.task = result.task.map(|t| t.named(d.flag.entry().task));
                    }
                    if let Ok(Some(ckpt)) = trainer.best_checkpoint().await {
                        post_checkpoint(&checkpoint_name(&req), ckpt).await;
                    }
                    keep(&trainer);
                    let mut done = done_view(&result, kind, &adapter, trainer.conv_outcome(conv), req.dataset);
                    if let (Some(view), Some(task)) = (done.task.as_deref_mut(), &result.task) {
                        convert::with_task_interval(view, task, &data);
                    }
                    post(&FromWorker::Done(done), None);
                }
                TrainEvent::Error(f) => {
                    // The run ends; the best model so far stays downloadable and explorable.
                    let mut error = failure(&f);
                    match trainer.best_checkpoint().await {
                        Ok(Some(ckpt)) => {
                            post_checkpoint(&checkpoint_name(&req), ckpt).await;
                            if let Some(epoch) = keep(&trainer) {
                                error.message += &format!(" (the checkpoint of epoch {epoch} can be downloaded below)");
                            }
                        }
                        _ => error.message += "; no epoch had finished, so there is no model to keep",
                    }
                    fail(error);
                }
            }
        }
        // A resumable snapshot after every epoch (the page stores it).
        if let Some(epoch) = epoch_ended.filter(|_| !trainer.is_finished())
            && let Ok(snap) = trainer.snapshot().await
        {
            post(&FromWorker::Snapshot { epoch }, Some(snap.to_bytes()));
        }
        yield_now(0).await;
    }
    Ok(())
}

//! `export`: a weight file (ours, or a PyTorch state dict with the data it is for) written as
//! `.safetensors` with PyTorch's names, or as our checkpoint (`.ckpt`), in half precision when
//! asked (how the page's ImageNet starting point is made: `assets/pretrained/README.md`).

use std::path::PathBuf;

use breastmnist_core::checkpoint::Checkpoint;
use breastmnist_core::model::ModelSize;
use breastmnist_core::torch;
use futures_lite::future::block_on;
use serde::Serialize;

use crate::error::{Error, read, write};
use crate::event::{EVENTS_VERSION, Event, Sink};
use crate::source::load_data;
use crate::weights::{load_weights, weights_from};

/// A checkpoint's weights as .safetensors with PyTorch's names, or as our `.ckpt`.
#[derive(Clone, Debug)]
pub struct ExportRequest {
    pub checkpoint: PathBuf,
    /// `.ckpt`: our checkpoint; any other name: .safetensors.
    pub out: PathBuf,
    /// For a PyTorch file: the data it is for.
    pub data: Option<PathBuf>,
    pub model: Option<ModelSize>,
    /// Store the floats in half precision (f16; `.ckpt` only).
    pub half: bool,
}

/// What `export` wrote.
#[derive(Clone, Debug, Serialize)]
pub struct Exported {
    pub out: PathBuf,
    pub model: String,
    pub bytes: usize,
    /// `safetensors` (PyTorch's names), `checkpoint` or `checkpoint-f16`.
    pub format: &'static str,
}

pub fn export(req: &ExportRequest, sink: &mut dyn Sink) -> Result<Exported, Error> {
    sink.emit(Event::Started {
        version: EVENTS_VERSION,
        command: "export".into(),
        data: None,
        detail: req.checkpoint.display().to_string(),
    });
    let ours = req.out.extension().is_some_and(|e| e == "ckpt");
    if req.half && !ours {
        return Err(Error::Usage(format!(
            "--half stores our checkpoint in half precision: name the output .ckpt (got {})",
            req.out.display()
        )));
    }
    let bytes = read(&req.checkpoint)?;
    let ckpt = match (torch::Format::sniff(&bytes), &req.data) {
        (Some(torch::Format::Ours), _) | (None, None) => {
            Checkpoint::from_bytes(&bytes).map_err(|source| Error::Checkpoint { path: req.checkpoint.clone(), source })?
        }
        // Our checkpoint keeps the file's head (ImageNet's 1,000 classes: fine-tuning replaces
        // it); PyTorch's names need the data's.
        (_, Some(data)) if ours => weights_from(&req.checkpoint, &bytes, &load_data(data)?, req.model, None)?,
        (_, Some(data)) => load_weights(&req.checkpoint, &load_data(data)?, req.model)?,
        (Some(_), None) => {
            return Err(Error::Usage(format!(
                "{} is a PyTorch file: add --data NPZ (the images it is for) to convert it",
                req.checkpoint.display()
            )));
        }
    };
    let checkpoint_error = |source| Error::Checkpoint { path: req.checkpoint.clone(), source };
    let (out_bytes, format) = match (ours, req.half) {
        (true, true) => (ckpt.to_half().map_err(checkpoint_error)?.to_bytes(), "checkpoint-f16"),
        (true, false) => (ckpt.to_bytes(), "checkpoint"),
        (false, _) => (
            block_on(torch::to_safetensors(&ckpt))
                .map_err(|source| Error::Weights { path: req.checkpoint.clone(), source: Box::new(source) })?,
            "safetensors",
        ),
    };
    write(&req.out, &out_bytes)?;
    sink.emit(Event::file(req.out.clone(), "weights"));
    Ok(Exported { out: req.out.clone(), model: ckpt.config.size.to_string(), bytes: out_bytes.len(), format })
}

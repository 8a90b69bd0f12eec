//! A weight file as our checkpoint: our `.ckpt`, or a PyTorch state dict (`.safetensors`,
//! `.pt`/`.pth`) converted for the data's images. The one place `eval`, `predict`, `export`,
//! `ensemble`, `train --init` and the lab's ImageNet start read weights; it knows no command.

use std::path::{Path, PathBuf};

use breastmnist_core::checkpoint::Checkpoint;
use breastmnist_core::model::ModelSize;
use breastmnist_core::{torch, train};

use crate::error::{Error, read};

/// Our checkpoint from a weight file's `bytes` (read from `path`, which a legacy `.pth` is read
/// from again): our .ckpt as it is, or a PyTorch state dict (.safetensors, .pt/.pth) for
/// `data`'s images, its architecture `model` or inferred. A `resize` asked for (the side the
/// run sees the images at) wins over the file's own, as the page's "Seen at" does for a served
/// start; without one our checkpoints keep theirs. The head is
/// whatever the file's is: [`load_weights`] checks it against the data, fine-tuning replaces it.
pub fn weights_from(
    path: &Path,
    bytes: &[u8],
    data: &breastmnist_data::Dataset,
    model: Option<ModelSize>,
    resize: Option<usize>,
) -> Result<Checkpoint, Error> {
    let weights = |source| Error::Weights { path: path.to_path_buf(), source: Box::new(source) };
    let outputs = torch::Outputs::of(data);
    let format = torch::Format::sniff(bytes);
    let mut ckpt = match format {
        Some(torch::Format::Pytorch) => {
            let dict = torch::read_pytorch_file(path).map_err(weights)?;
            torch::to_checkpoint_for(dict, data.side, data.channels, outputs, model).map_err(weights)?
        }
        _ => torch::checkpoint_from_bytes_for(bytes, data.side, data.channels, outputs, model).map_err(weights)?,
    };
    if let Some(r) = resize {
        ckpt.config.resize = Some(r).filter(|&r| r != data.side);
    }
    Ok(ckpt)
}

/// Our checkpoint from any weight file (see [`weights_from`]), for `data` as it is: its images'
/// side and channels and its outputs.
pub fn load_weights(path: &Path, data: &breastmnist_data::Dataset, model: Option<ModelSize>) -> Result<Checkpoint, Error> {
    let ckpt = weights_from(path, &read(path)?, data, model, None)?;
    if ckpt.config.input_size != data.side || ckpt.config.in_channels != data.channels {
        return Err(Error::Usage(format!(
            "{} is for {} px images with {} channel(s) but the data has {} px images with {}",
            path.display(),
            ckpt.config.input_size,
            ckpt.config.in_channels,
            data.side,
            data.channels
        )));
    }
    // The core's own check of a model's outputs against the data.
    train::outputs_fit(&ckpt.config, data).map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?;
    Ok(ckpt)
}

/// Our checkpoint from its bytes; `what` names it in the error.
pub(crate) fn checkpoint_of(bytes: &[u8], what: &str) -> Result<Checkpoint, Error> {
    Checkpoint::from_bytes(bytes).map_err(|source| Error::Checkpoint { path: PathBuf::from(what), source })
}

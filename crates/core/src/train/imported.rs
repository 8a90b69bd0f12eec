//! An imported checkpoint evaluated as a run of zero epochs: the same validation and test
//! report a training run ends with, so the page and the CLI show both alike.
//!
//! It must not know where the checkpoint came from.

use breastmnist_data::{Dataset, Split};
use burn::module::Module;
use burn::tensor::Device;

use super::scored::{self, Scored};
use super::{RunResult, TrainConfig, TrainError};
use crate::batch::ImageView;
use crate::checkpoint::Checkpoint;
use crate::eval::{self, EvalError};
use crate::model::{ModelConfig, Network};

/// The checkpoint's model configuration, if its images have the data's side and channels and
/// its outputs are the data's classes (or labels).
pub(super) fn checkpoint_config_for(checkpoint: &Checkpoint, data: &Dataset) -> Result<ModelConfig, TrainError> {
    let mc = checkpoint_shape_for(checkpoint, data)?;
    outputs_fit(&mc, data)?;
    Ok(mc)
}

/// Whether `mc`'s outputs are `data`'s classes (or labels), read the data's way.
pub fn outputs_fit(mc: &ModelConfig, data: &Dataset) -> Result<(), TrainError> {
    let expected = data.classes().max(2);
    if mc.num_classes != expected {
        return Err(TrainError::Classes { got: mc.num_classes, expected });
    }
    let multi_label = matches!(data.targets, breastmnist_data::Targets::MultiLabel(_));
    if mc.multi_label != multi_label {
        let name = |m: bool| if m { "independent labels (sigmoid)" } else { "classes (softmax)" };
        return Err(TrainError::Head { got: name(mc.multi_label), expected: name(multi_label) });
    }
    Ok(())
}

/// The checkpoint's model configuration, if its images have the data's side and channels
/// (whatever its outputs: fine-tuning may replace the classifier).
pub(super) fn checkpoint_shape_for(checkpoint: &Checkpoint, data: &Dataset) -> Result<ModelConfig, TrainError> {
    let mc = checkpoint.config.clone();
    if mc.input_size != data.side || mc.in_channels != data.channels {
        return Err(TrainError::DataShape {
            ckpt: mc.input_size,
            ckpt_ch: mc.in_channels,
            data: data.side,
            data_ch: data.channels,
        });
    }
    Ok(mc)
}

/// An imported checkpoint evaluated as a run of zero epochs: its model's validation and test
/// metrics (empty history, `best_epoch` 0, the default recipe as `config` with the checkpoint's
/// architecture and `tta`). Returns the loaded model too (plain device, evaluation mode).
pub async fn evaluate_checkpoint(
    checkpoint: &Checkpoint,
    data: &Dataset,
    device: &Device,
    tta: bool,
) -> Result<(RunResult, Network), TrainError> {
    evaluate_checkpoint_reporting(checkpoint, data, device, tta, &mut |_, _, _| {}).await
}

/// [`evaluate_checkpoint`], calling `progress(split, done, total)` after each chunk of images
/// (validation, then test), as a [`Trainer`] reports [`TrainEvent::Eval`].
pub async fn evaluate_checkpoint_reporting(
    checkpoint: &Checkpoint,
    data: &Dataset,
    device: &Device,
    tta: bool,
    progress: &mut dyn FnMut(Split, usize, usize),
) -> Result<(RunResult, Network), TrainError> {
    let mc = checkpoint_config_for(checkpoint, data)?;
    let plain = device.clone().without_autodiff();
    let model = checkpoint.load(&plain)?.valid();
    let (k, multi_label) = (mc.num_classes, mc.multi_label);
    let mut probabilities = async |split: Split| -> Result<Scored, TrainError> {
        let view = ImageView::of(data, split);
        let probs =
            eval::probabilities_reporting(&model, &view, &plain, tta, multi_label, &mut |d, t| progress(split, d, t)).await?;
        scored::score(data, split, probs, k)
    };
    // A validation figure that cannot be computed is an evaluation error, as it always was.
    let val = probabilities(Split::Val).await.map_err(|e| match e {
        TrainError::Metrics(m) => TrainError::Eval(EvalError::Metrics(m)),
        other => other,
    })?;
    let test = probabilities(Split::Test).await?;
    let config = TrainConfig::new().with_architecture(&mc).with_tta(tta);
    let result = scored::assemble(data, config, mc, Vec::new(), 0, val, test)?;
    Ok((result, model))
}

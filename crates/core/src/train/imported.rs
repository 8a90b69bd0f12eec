//! An imported checkpoint evaluated as a run of zero epochs: the same validation and test
//! report a training run ends with, so the page and the CLI show both alike.
//!
//! It must not know where the checkpoint came from.

use breastmnist_data::{Dataset, Split};
use burn::module::Module;
use burn::tensor::Device;

use super::{RunResult, TrainConfig, TrainError, dataset_test_report, predictions};
use crate::batch::ImageView;
use crate::checkpoint::Checkpoint;
use crate::eval::{self, EvalError};
use crate::metrics;
use crate::model::{ModelConfig, Network};

/// The checkpoint's model configuration, if its images have the data's side and channels.
pub(super) fn checkpoint_config_for(checkpoint: &Checkpoint, data: &Dataset) -> Result<ModelConfig, TrainError> {
    let mc = checkpoint.config.clone();
    if mc.num_classes != 2 {
        return Err(TrainError::Classes(mc.num_classes));
    }
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
    let val_view = ImageView::of(data, Split::Val);
    let val_scores = eval::scores_reporting(&model, &val_view, &plain, tta, &mut |d, t| progress(Split::Val, d, t)).await?;
    let val = metrics::evaluate(val_view.labels, &val_scores).map_err(EvalError::from)?;
    let test_view = ImageView::of(data, Split::Test);
    let scores = eval::scores_reporting(&model, &test_view, &plain, tta, &mut |d, t| progress(Split::Test, d, t)).await?;
    let test = dataset_test_report(data, &scores)?;
    let config = TrainConfig::new().with_architecture(&mc).with_tta(tta);
    let val_predictions = predictions(val_view.labels, &val_scores);
    let result = RunResult { config, model: mc, history: Vec::new(), best_epoch: 0, val, test, val_predictions };
    Ok((result, model))
}

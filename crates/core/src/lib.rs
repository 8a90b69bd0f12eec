//! The ML core of BreastMNIST Lab: the model zoo (MedMNIST ResNets and plain CNNs) in burn,
//! batching and augmentation, the step-at-a-time training loop, metrics, Grad-CAM, checkpoints
//! and exports.
//!
//! Code map (one role per module):
//! - [`model`]: architectures, names (`tiny`, `small`, `medium`, `resnet18`, `resnet50`, `c8`,
//!   `c16`, `c32`, `lite0`), seeded init, the stage-wise forward; how convolutions run (`model::conv`: burn's
//!   kernel or im2col + matmul) and the check that lets `gemm` run on a device
//!   (`model::conv_check`).
//! - [`device_check`]: whether a backend trains as flex does (the same steps on one fixed
//!   batch on both, compared).
//! - [`batch`]: `u8` images to normalised tensors; augmentation and mixup.
//! - [`train`]: the recipe ([`TrainConfig`](train::TrainConfig), presets, selection rules),
//!   the [`Trainer`](train::Trainer), events, snapshots.
//! - [`ema`]: the moving average of weights and BatchNorm statistics.
//! - [`eval`]: inference over a split (chunked, async reads, flip TTA, ensemble averaging).
//! - [`pretext`]: self-supervised pretraining (contrastive, masked reconstruction) on a pool
//!   of unlabeled images that never holds BreastMNIST's validation or test images.
//! - [`lab`]: named methods on a base recipe, and the multi-seed report they make.
//! - [`read`]: the one readback helper (async, batched in a transaction) and its error.
//! - [`metrics`]: AUC, ACC, confusion matrix, ROC — plain Rust.
//! - [`evaluator`]: MedMNIST's Evaluator for every task (binary, multi-class, ordinal,
//!   multi-label) on `k` score columns, with per-class AUC and the confusion.
//! - [`gradcam`]: Grad-CAM maps.
//! - [`explain`]: a split's probabilities and both classes' maps as bytes; activation grids.
//! - [`checkpoint`]: model config + burn record as bytes.
//! - [`weights`]: a model's tensors by path, read back or filled in.
//! - [`torch`]: PyTorch state dicts in (`.safetensors`, `.pt`) and out (`.safetensors`).
//! - [`torch_zip`]: `torch.save`'s ZIP checkpoints read from memory (the browser's `.pt`).
//! - [`export`]: the metrics JSON (`SCHEMA.md`) and predictions CSV.
//! - [`result_file`]: MedMNIST's standard result files (what `medmnist.Evaluator` scores).
//! - [`rng`]: the seeded generator behind every random draw.
//!
//! Invariants: the core never touches the browser, URLs or files (callers hand it bytes and
//! write what it returns); every tensor read on the training, evaluation, checkpoint-saving
//! (`save_async`) and Grad-CAM paths goes through [`read`] (asynchronous), so it runs on
//! WebGPU; the same seed gives the same run on the CPU backend.

/// `with_field(value)` builders, one per (possibly nested) field, for a configuration whose
/// serde form burn's `Config` derive cannot write (fields added later need serde defaults).
macro_rules! builders {
    ($config:ty { $($with:ident($($field:ident).+: $ty:ty)),* $(,)? }) => {
        impl $config {
            $(
                #[must_use]
                pub fn $with(mut self, value: $ty) -> Self {
                    self.$($field).+ = value;
                    self
                }
            )*
        }
    };
}

/// Whether `value` is its type's default (for `skip_serializing_if` on fields added later).
pub(crate) fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

pub mod batch;
pub mod checkpoint;
pub mod device_check;
pub mod ema;
pub mod epochs;
pub mod eval;
pub mod evaluator;
pub mod explain;
pub mod export;
pub mod frechet;
pub mod gan;
pub mod gradcam;
pub mod lab;
pub mod metrics;
pub mod model;
pub mod pretext;
pub mod prototypes;
pub mod read;
pub mod result_file;
pub mod rng;
pub mod stats;
pub mod torch;
pub mod torch_zip;
pub mod train;
pub mod weights;

pub use burn;
pub use burn::tensor::Device;
pub use checkpoint::{Checkpoint, CheckpointError};
pub use export::{Environment, MetricsFile};
pub use gradcam::{Heatmap, grad_cam, grad_cam_batch};
pub use model::{ModelConfig, ModelSize, Network, Stage};
pub use result_file::ResultFile;
pub use train::{EpochMetrics, RunResult, TrainConfig, TrainEvent, Trainer};

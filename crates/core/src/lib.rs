//! The ML core of BreastMNIST Lab: the MedMNIST ResNet family in burn, batching and
//! augmentation, the step-at-a-time training loop, metrics, Grad-CAM, checkpoints and exports.
//!
//! Code map (one role per module):
//! - [`model`]: architecture, names (`tiny`, `small`, `medium`, `resnet18`), seeded init.
//! - [`batch`]: `u8` images to normalised tensors; augmentation and mixup.
//! - [`train`]: [`TrainConfig`](train::TrainConfig), the [`Trainer`](train::Trainer), events.
//! - [`eval`]: inference over a split (chunked, async reads).
//! - [`metrics`]: AUC, ACC, confusion matrix, ROC — plain Rust.
//! - [`gradcam`]: Grad-CAM maps.
//! - [`explain`]: a split's probabilities and both classes' maps as bytes; activation grids.
//! - [`checkpoint`]: model config + burn record as bytes.
//! - [`export`]: the metrics JSON (`SCHEMA.md`) and predictions CSV.
//! - [`rng`]: the seeded generator behind every random draw.
//!
//! Invariants: the core never touches the browser, URLs or files (callers hand it bytes and
//! write what it returns); every tensor read on the training, evaluation, checkpoint-saving
//! (`save_async`) and Grad-CAM paths is `into_data_async`, so it runs on WebGPU; the same seed
//! gives the same run on the CPU backend.

pub mod batch;
pub mod checkpoint;
pub mod eval;
pub mod explain;
pub mod export;
pub mod gradcam;
pub mod metrics;
pub mod model;
pub mod rng;
pub mod train;

pub use burn;
pub use burn::tensor::Device;
pub use checkpoint::{Checkpoint, CheckpointError};
pub use export::{Environment, MetricsFile};
pub use gradcam::{Heatmap, grad_cam, grad_cam_batch};
pub use model::{ModelConfig, ModelSize, ResNet, Stage};
pub use train::{EpochMetrics, RunResult, TrainConfig, TrainEvent, Trainer};

//! The wire format between the page and the training worker.
//!
//! The page must stay light (no burn in its bundle), so it cannot hold the core's types; the
//! worker translates the core's `TrainEvent`s into these plain structs. Messages travel as JSON
//! strings; the dataset and checkpoint bytes travel beside them as `Uint8Array`s.

use serde::{Deserialize, Serialize};

/// Which backend the reader asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum BackendChoice {
    /// WebGPU on a hardware adapter, else the CPU.
    #[default]
    Auto,
    WebGpu,
    Cpu,
}

impl BackendChoice {
    pub fn parse(s: &str) -> Option<BackendChoice> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Some(BackendChoice::Auto),
            "webgpu" | "gpu" => Some(BackendChoice::WebGpu),
            "cpu" => Some(BackendChoice::Cpu),
            _ => None,
        }
    }
}

/// The training settings the page sends (validated again by the core in the worker).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainRequest {
    /// `tiny`, `small`, `medium` or `resnet18`.
    pub model: String,
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub seed: u64,
    pub subset: Option<usize>,
    pub augment: bool,
    pub mixup: Option<f64>,
    pub backend: BackendChoice,
    /// Start from the checkpoint sent beside the request (`init` bytes) instead of fresh
    /// weights; its architecture wins over `model`.
    #[serde(default)]
    pub fine_tune: bool,
    /// When fine-tuning: train only layer4 and the head.
    #[serde(default)]
    pub freeze_backbone: bool,
    /// Resize the images to this side inside the model (the resolution experiment: 28 px
    /// seen at 64 px).
    #[serde(default)]
    pub resize: Option<usize>,
}

/// Page → worker. `Start`, `Continue` and `Evaluate` come with the verified dataset file's
/// bytes (`bytes`) and, where they need one, a second buffer (`init`): the checkpoint to
/// fine-tune or evaluate, or the snapshot to continue from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum ToWorker {
    Start(TrainRequest),
    /// Continue an interrupted run from its last snapshot (`init`), on `backend` (which may
    /// differ from the original one, e.g. the CPU after a lost GPU).
    Continue(TrainRequest),
    /// Evaluate an imported checkpoint (`init`) on validation and test, then keep it for the
    /// explorer; `name` is its file name.
    Evaluate { backend: BackendChoice, name: String },
    Pause,
    Resume,
    Stop,
    /// Probabilities and Grad-CAM maps of the trained model for every image of `split`
    /// (`train`, `val` or `test`) at `stage` (`layer3` or `layer4`).
    Explain { split: String, stage: String },
    /// The strongest channel activations of `stage` for one image.
    Activations { split: String, index: usize, stage: String },
}

/// One epoch's metrics (1-based epoch).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochView {
    pub epoch: usize,
    pub train_loss: f64,
    pub train_acc: f64,
    pub val_loss: f64,
    pub val_acc: f64,
    pub val_auc: f64,
    pub lr: f64,
    pub is_best: bool,
}

/// The finished run, as the page shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DoneView {
    pub best_epoch: usize,
    pub val_auc: f64,
    pub test_auc: f64,
    pub test_acc: f64,
    /// `[[tn, fp], [fn, tp]]`, label 1 positive.
    pub confusion: [[usize; 2]; 2],
    /// ROC points `(fpr, tpr)`.
    pub roc: Vec<(f64, f64)>,
    /// The core's metrics JSON (schema version 1), ready to download.
    pub metrics_json: String,
}

/// Worker → page. `Checkpoint` comes with the checkpoint's bytes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "msg", rename_all = "snake_case")]
pub enum FromWorker {
    /// The worker's wasm is loaded and listening.
    Ready,
    /// The backend in use; `notice` says why it is not the one asked for.
    Backend { kind: String, adapter: String, notice: Option<String> },
    /// One optimisation step; `millis`: how long the worker spent on it (reading the loss back
    /// included).
    Step {
        epoch: usize,
        step: usize,
        steps_per_epoch: usize,
        loss: f64,
        #[serde(default)]
        millis: f64,
    },
    Eval { split: String, done: usize, total: usize },
    Epoch(EpochView),
    Done(DoneView),
    Checkpoint { name: String },
    /// A resumable snapshot taken after `epoch` (bytes beside: `Snapshot::to_bytes`).
    Snapshot { epoch: usize },
    Paused,
    Resumed,
    Stopped,
    /// The run could not continue (bad settings, NaN loss, lost device...).
    Failed { message: String },
    /// Progress of an `Explain` request.
    Explaining { split: String, stage: String, done: usize, total: usize },
    /// The answer to `Explain`; the bytes hold the maps (see [`Explained`]).
    Explained(Explained),
    /// The answer to `Activations`; the bytes hold `channels.len()` maps of `side * side`.
    ActivationGrid(ActivationGridView),
    /// An `Explain` or `Activations` request failed; training state is unaffected.
    ExplainFailed { message: String },
}

/// A split explained by the model kept by validation.
///
/// The bytes beside it hold, per image in split order, one `side * side` map per class (class
/// 0 first), 255 marking the map's maximum.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Explained {
    pub split: String,
    pub stage: String,
    pub side: usize,
    /// Softmax probability of label 1 (normal/benign) per image.
    pub scores: Vec<f32>,
    /// Milliseconds the worker spent on it, and the backend.
    pub millis: f64,
    pub backend: String,
}

/// Activation maps of one image at one stage, strongest channels first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivationGridView {
    pub split: String,
    pub index: usize,
    pub stage: String,
    pub side: usize,
    pub total_channels: usize,
    pub channels: Vec<usize>,
    pub means: Vec<f32>,
}

impl ToWorker {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("plain data serialises")
    }
}

impl FromWorker {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("plain data serialises")
    }

    pub fn from_json(s: &str) -> Result<FromWorker, String> {
        serde_json::from_str(s).map_err(|e| e.to_string())
    }
}

impl ToWorker {
    pub fn from_json(s: &str) -> Result<ToWorker, String> {
        serde_json::from_str(s).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        let start = ToWorker::Start(TrainRequest {
            model: "tiny".into(),
            epochs: 2,
            batch_size: 32,
            lr: 1e-3,
            seed: 7,
            subset: Some(64),
            augment: true,
            mixup: None,
            backend: BackendChoice::Cpu,
            fine_tune: false,
            freeze_backbone: false,
            resize: Some(64),
        });
        // Requests written before fine-tuning existed still read.
        let old = r#"{"cmd":"continue","model":"tiny","epochs":2,"batch_size":32,"lr":0.001,"seed":7,"subset":null,"augment":false,"mixup":null,"backend":"cpu"}"#;
        assert!(matches!(ToWorker::from_json(old), Ok(ToWorker::Continue(r)) if !r.fine_tune));
        assert_eq!(ToWorker::from_json(&start.to_json()).unwrap(), start);
        assert!(start.to_json().contains("\"cmd\":\"start\""));
        let step = FromWorker::Step { epoch: 1, step: 3, steps_per_epoch: 5, loss: 0.5, millis: 12.0 };
        assert_eq!(FromWorker::from_json(&step.to_json()).unwrap(), step);
        assert!(FromWorker::from_json("{\"msg\":\"nope\"}").is_err());
        let explain = ToWorker::Explain { split: "test".into(), stage: "layer4".into() };
        assert_eq!(ToWorker::from_json(&explain.to_json()).unwrap(), explain);
        let explained = FromWorker::Explained(Explained {
            split: "test".into(),
            stage: "layer3".into(),
            side: 28,
            scores: vec![0.25, 0.75],
            millis: 12.5,
            backend: "cpu".into(),
        });
        assert_eq!(FromWorker::from_json(&explained.to_json()).unwrap(), explained);
    }

    #[test]
    fn backend_names() {
        assert_eq!(BackendChoice::parse("WebGPU"), Some(BackendChoice::WebGpu));
        assert_eq!(BackendChoice::parse("cpu"), Some(BackendChoice::Cpu));
        assert_eq!(BackendChoice::parse("tpu"), None);
    }
}

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

/// Augmentation of training images (mirrors the core's `Augmentation`; reads the booleans
/// of requests saved before the modes existed: `true` is `full`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Augment {
    #[default]
    None,
    /// Random left-right flips.
    Flip,
    /// Flips, small rotations and shifts.
    Full,
}

impl Augment {
    pub const ALL: [Augment; 3] = [Augment::None, Augment::Flip, Augment::Full];

    pub fn name(self) -> &'static str {
        match self {
            Augment::None => "none",
            Augment::Flip => "flip",
            Augment::Full => "full",
        }
    }

    pub fn parse(s: &str) -> Option<Augment> {
        match s.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "on" | "yes" => Some(Augment::Full),
            "" | "0" | "false" | "off" | "no" => Some(Augment::None),
            s => Augment::ALL.into_iter().find(|a| a.name() == s),
        }
    }
}

impl<'de> Deserialize<'de> for Augment {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Bool(bool),
            Name(String),
        }
        match Repr::deserialize(d)? {
            Repr::Bool(b) => Ok(if b { Augment::Full } else { Augment::None }),
            Repr::Name(n) => Augment::parse(&n).ok_or_else(|| serde::de::Error::custom(format!("unknown augmentation '{n}'"))),
        }
    }
}

/// Which model a run keeps (mirrors the core's `Selection`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Selection {
    /// The epoch with the best validation AUC (MedMNIST's rule).
    #[default]
    BestValAuc,
    /// The last epoch.
    Last,
    /// A moving average of the weights, read at the last epoch.
    EmaLast,
}

impl Selection {
    pub const ALL: [Selection; 3] = [Selection::BestValAuc, Selection::Last, Selection::EmaLast];

    pub fn name(self) -> &'static str {
        match self {
            Selection::BestValAuc => "best-val-auc",
            Selection::Last => "last",
            Selection::EmaLast => "ema-last",
        }
    }

    pub fn parse(s: &str) -> Option<Selection> {
        let s = s.trim().to_ascii_lowercase().replace('_', "-");
        Selection::ALL.into_iter().find(|x| x.name() == s)
    }
}

/// The named recipes (mirrors the core's `Preset`; the worker's tests check that
/// [`Preset::request`] converts to exactly the core's recipe).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// MedMNIST's official recipe (ResNet-18, 100 epochs, batch 128, best validation AUC).
    Paper,
    /// The page's default: c16, 20 epochs, batch 64, flips, last epoch, flip TTA.
    Reader,
    /// c16, 60 epochs, flips, an EMA of the weights at the last epoch, flip TTA.
    Best,
}

impl Preset {
    pub const ALL: [Preset; 3] = [Preset::Paper, Preset::Reader, Preset::Best];

    pub fn name(self) -> &'static str {
        match self {
            Preset::Paper => "paper",
            Preset::Reader => "reader",
            Preset::Best => "best",
        }
    }

    pub fn parse(s: &str) -> Option<Preset> {
        let s = s.trim().to_ascii_lowercase();
        Preset::ALL.into_iter().find(|p| p.name() == s)
    }

    /// The recipe as a request (seed 0, the whole training split, backend `auto`).
    pub fn request(self) -> TrainRequest {
        let paper = TrainRequest {
            model: "resnet18".into(),
            epochs: 100,
            batch_size: 128,
            lr: 1e-3,
            seed: 0,
            subset: None,
            augment: Augment::None,
            mixup: None,
            backend: BackendChoice::Auto,
            fine_tune: false,
            freeze_backbone: false,
            resize: None,
            selection: Selection::BestValAuc,
            ema_decay: None,
            tta: false,
            preset: Some(self),
        };
        match self {
            Preset::Paper => paper,
            Preset::Reader => TrainRequest {
                model: "c16".into(),
                epochs: 20,
                batch_size: 64,
                augment: Augment::Flip,
                selection: Selection::Last,
                tta: true,
                ..paper
            },
            Preset::Best => TrainRequest {
                model: "c16".into(),
                epochs: 60,
                batch_size: 64,
                augment: Augment::Flip,
                selection: Selection::EmaLast,
                ema_decay: Some(0.99),
                tta: true,
                ..paper
            },
        }
    }
}

/// The training settings the page sends (validated again by the core in the worker).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainRequest {
    /// `tiny`, `small`, `medium`, `resnet18`, `c8`, `c16` or `c32`.
    pub model: String,
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub seed: u64,
    pub subset: Option<usize>,
    pub augment: Augment,
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
    /// Which model the run keeps.
    #[serde(default)]
    pub selection: Selection,
    /// The weight average's per-step decay under `ema-last` (`None`: the core's default).
    #[serde(default)]
    pub ema_decay: Option<f64>,
    /// Flip test-time augmentation in every evaluation.
    #[serde(default)]
    pub tta: bool,
    /// The preset the settings started from, if the reader did not change them since.
    #[serde(default)]
    pub preset: Option<Preset>,
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
    Evaluate {
        backend: BackendChoice,
        name: String,
        /// Flip test-time augmentation (the form's setting), as for a run's own metrics.
        #[serde(default)]
        tta: bool,
    },
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
            augment: Augment::Flip,
            mixup: None,
            backend: BackendChoice::Cpu,
            fine_tune: false,
            freeze_backbone: false,
            resize: Some(64),
            selection: Selection::EmaLast,
            ema_decay: Some(0.9),
            tta: true,
            preset: Some(Preset::Reader),
        });
        // Requests written before fine-tuning, augmentation modes, selection rules and presets
        // existed still read (saved runs hold them).
        let old = r#"{"cmd":"continue","model":"tiny","epochs":2,"batch_size":32,"lr":0.001,"seed":7,"subset":null,"augment":false,"mixup":null,"backend":"cpu"}"#;
        assert!(matches!(ToWorker::from_json(old), Ok(ToWorker::Continue(r))
            if !r.fine_tune && r.augment == Augment::None && r.selection == Selection::BestValAuc && !r.tta && r.preset.is_none()));
        let old_aug = old.replace("\"augment\":false", "\"augment\":true");
        assert!(matches!(ToWorker::from_json(&old_aug), Ok(ToWorker::Continue(r)) if r.augment == Augment::Full));
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
    fn names_round_trip_and_presets_name_themselves() {
        for a in Augment::ALL {
            assert_eq!(Augment::parse(a.name()), Some(a));
            assert_eq!(serde_json::to_string(&a).unwrap(), format!("\"{}\"", a.name()));
        }
        for s in Selection::ALL {
            assert_eq!(Selection::parse(s.name()), Some(s));
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{}\"", s.name()));
        }
        for p in Preset::ALL {
            assert_eq!(Preset::parse(p.name()), Some(p));
            assert_eq!(p.request().preset, Some(p));
        }
        assert_eq!(Augment::parse("sideways"), None);
        assert_eq!(Preset::parse("fast"), None);
    }

    #[test]
    fn backend_names() {
        assert_eq!(BackendChoice::parse("WebGPU"), Some(BackendChoice::WebGpu));
        assert_eq!(BackendChoice::parse("cpu"), Some(BackendChoice::Cpu));
        assert_eq!(BackendChoice::parse("tpu"), None);
    }
}

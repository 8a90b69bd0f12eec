//! The wire format between the page and the training worker.
//!
//! The page must stay light (no burn in its bundle), so it cannot hold the core's types; the
//! worker translates the core's events into these plain structs (`crates/worker/src/convert.rs`,
//! the one boundary). Messages travel as JSON strings; the dataset, checkpoint and map bytes
//! travel beside them as `Uint8Array`s. Every closed set of names (model, stage, backend,
//! split, recipe) is an enum ([`names`]), and errors carry a kind ([`error`]): nothing on the
//! wire is a free-form string the other side has to parse, except messages meant for the reader.
//!
//! It must not know about burn, the browser or the page's widgets.

pub mod adapter;
pub mod envelope;
pub mod error;
pub mod names;

use serde::{Deserialize, Serialize};

pub use adapter::AdapterInfo;
pub use breastmnist_data::{Flag, Size, Split, Task};
pub use envelope::Buffers;
pub use error::{ErrorKind, WorkerError};
pub use names::{
    Augment, BackendChoice, BackendKind, Conv, ExtraFile, Method, ModelKind, Preset, PretextTask, Selection, Stage,
    StartingPoint, Stem,
};

/// The first bytes of every checkpoint the core writes (`breastmnist_core::checkpoint::MAGIC`;
/// the worker's tests check they agree). The page looks at them before it replaces anything.
pub const CHECKPOINT_MAGIC: &[u8; 8] = b"BMNCKPT1";

/// A fingerprint of this crate's source (FNV-1a). The page and the worker are compiled
/// separately; a worker from another build (a stale cache, a half-deployed update) that speaks
/// another version of these messages says so in its `Ready`, and the page refuses it.
pub const WIRE_ID: u64 =
    fingerprint(&[include_str!("lib.rs"), include_str!("names.rs"), include_str!("error.rs"), include_str!("envelope.rs")]);

const fn fingerprint(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut p = 0;
    while p < parts.len() {
        let bytes = parts[p].as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            hash ^= bytes[i] as u64;
            hash = hash.wrapping_mul(0x0100_0000_01b3);
            i += 1;
        }
        p += 1;
    }
    hash
}

impl Preset {
    /// The served starting point the recipe fine-tunes (mirrors the core's
    /// `Preset::starts_from`): none; `reader` starts from fresh weights.
    pub fn starts_from(self) -> Option<StartingPoint> {
        match self {
            Preset::Reader | Preset::Paper | Preset::Best => None,
        }
    }

    /// The recipe as a request (seed 0, the whole training split, backend `auto`).
    pub fn request(self) -> TrainRequest {
        let paper = TrainRequest {
            model: ModelKind::Resnet18,
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
            method: None,
            conv: None,
            stem: None,
            init_name: None,
            dataset: None,
            prototypes: None,
        };
        match self {
            Preset::Paper => paper,
            Preset::Reader => TrainRequest {
                model: ModelKind::C16,
                epochs: 20,
                batch_size: 64,
                augment: Augment::Flip,
                selection: Selection::Last,
                tta: true,
                ..paper
            },
            Preset::Best => TrainRequest {
                model: ModelKind::C16,
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
    pub model: ModelKind,
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
    /// seen at 64 px; the form's "Seen at"). When fine-tuning it wins over the checkpoint's
    /// own side; `None` keeps that.
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
    /// A methods-lab method applied to these settings by the core (`lab::Method::config`).
    #[serde(default)]
    pub method: Option<Method>,
    /// How convolutions run; `None`: the faster one for the backend, `gemm` only after it
    /// passed its check on the device (the metrics JSON's `environment.conv` says which ran).
    #[serde(default)]
    pub conv: Option<Conv>,
    /// A ResNet's stem; `torchvision` also upsamples the images to 224 px (nearest) unless
    /// `resize` says otherwise. `None`: MedMNIST's.
    #[serde(default)]
    pub stem: Option<Stem>,
    /// When fine-tuning: the file the `init` bytes came from (a served starting point's name,
    /// or the imported file's), recorded with their MD5 in the metrics JSON's `config.init`.
    #[serde(default)]
    pub init_name: Option<String>,
    /// Which official MedMNIST file the dataset bytes are, when they are not BreastMNIST's (the
    /// worker then decodes them with that file's split sizes, channels and labels, and names
    /// the result files with its flag). `None`: BreastMNIST.
    #[serde(default)]
    pub dataset: Option<DataFile>,
    /// Classify with a prototype head of this many prototypes per class (ProtoPNet; the plain
    /// CNNs), so the explorer can show which training patches an image looks like.
    #[serde(default)]
    pub prototypes: Option<usize>,
}

/// One official MedMNIST 2D file: a dataset at one size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataFile {
    pub flag: Flag,
    pub size: Size,
}

/// Self-supervised pretraining in the tab, on BreastMNIST's training images (the dataset
/// file's `bytes`; labels unused, validation and test images never read).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PretrainRequest {
    pub task: PretextTask,
    pub model: ModelKind,
    pub epochs: usize,
    pub batch_size: usize,
    pub seed: u64,
    pub backend: BackendChoice,
    /// Other MedMNIST files whose every image joins the pool in grayscale, sent beside the
    /// request (`extra` buffers, in this order).
    #[serde(default)]
    pub extra: Vec<ExtraFile>,
}

/// A class-conditional GAN trained in the tab on the dataset's training images only (28 px gray;
/// the dataset file's `bytes`), and, when `init` carries the served SimCLR encoder, the
/// Fréchet distance between the training images and as many generated ones in its features.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GanRequest {
    pub epochs: usize,
    pub seed: u64,
    pub backend: BackendChoice,
    /// Learn from the first N training images only.
    #[serde(default)]
    pub subset: Option<usize>,
    /// Generated images shown per class after every epoch.
    pub per_class: usize,
}

/// A GAN epoch: its mean losses, the Fréchet distance when an encoder was sent, and
/// `per_class` generated images of every class — synthetic, never a patient's scan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GanView {
    pub epoch: usize,
    pub epochs: usize,
    pub d_loss: f64,
    pub g_loss: f64,
    #[serde(default)]
    pub frechet: Option<f64>,
    pub side: usize,
    /// The training images it learned from.
    #[serde(default)]
    pub images: usize,
    pub per_class: usize,
    /// Class-major: `per_class` images of class 0, then of class 1, …, `side²` bytes each.
    pub samples: Vec<u8>,
}

/// What pretraining learned after an epoch: every image of the three splits projected on the
/// first two principal components of the encoder's pooled features (for the picture only: the
/// encoder never trained on validation or test images), and for the masked task a few training
/// images as the encoder saw them and as the decoder rebuilt them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PretextView {
    pub epoch: usize,
    pub epochs: usize,
    /// The epoch's mean pretext loss.
    pub loss: f64,
    /// One `[x, y]` per image: train, then validation, then test, in split order.
    pub points: Vec<[f32; 2]>,
    /// Each point's label (0 malignant, 1 normal/benign).
    pub labels: Vec<u8>,
    /// Side of the reconstruction images; 0 when there are none.
    pub recon_side: usize,
    /// Masked inputs then outputs, `recon_side²` bytes each, grayscale: `2 * n` images.
    pub recon: Vec<u8>,
}

/// Page → worker. `Start`, `Continue` and `Evaluate` come with the verified dataset file's
/// bytes (`bytes`) and, where they need one, a second buffer (`init`): the checkpoint to
/// fine-tune or evaluate, or the snapshot to continue from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum ToWorker {
    Start(TrainRequest),
    /// Pretrain an encoder (self-supervised) on the dataset's training images.
    Pretrain(PretrainRequest),
    /// Train a GAN on the dataset's training images (the served SimCLR encoder as `init`, for
    /// the Fréchet distance).
    Gan(GanRequest),
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
    /// Un-pause (not to be confused with continuing a stored run: [`ToWorker::Continue`]).
    Unpause,
    Stop,
    /// Probabilities and Grad-CAM maps of the trained model for every image of `split` at
    /// `stage` (one of [`Stage::GRADCAM`]).
    Explain {
        split: Split,
        stage: Stage,
    },
    /// Probabilities and Grad-CAM maps of every class for images `indices` of `split` (at most
    /// [`MAX_EXPLAIN_IMAGES`], answered in that order): a few chosen images of a set whose whole
    /// split would be too many maps.
    ExplainImages {
        split: Split,
        stage: Stage,
        indices: Vec<usize>,
    },
    /// The strongest channel activations of `stage` for one image.
    Activations {
        split: Split,
        index: usize,
        stage: Stage,
    },
    /// "This looks like that" for one image: a prototype head's strongest prototypes for the
    /// predicted class, each with the training patch it is.
    LooksLike {
        split: Split,
        index: usize,
    },
}

impl ToWorker {
    /// The backend a command that starts work asks for (`None` for the others): the page picks
    /// the worker's build from it before it starts one.
    pub fn backend(&self) -> Option<BackendChoice> {
        match self {
            ToWorker::Start(r) | ToWorker::Continue(r) => Some(r.backend),
            ToWorker::Pretrain(r) => Some(r.backend),
            ToWorker::Gan(r) => Some(r.backend),
            ToWorker::Evaluate { backend, .. } => Some(*backend),
            _ => None,
        }
    }
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
    /// MedMNIST's standard result files (val, then test) that its `Evaluator` scores.
    #[serde(default)]
    pub result_files: Vec<ResultFileView>,
    /// Bytes of the worker's wasm memory when the run ended (0 where unknown).
    #[serde(default)]
    pub worker_memory: u64,
    /// How the run's convolutions ran (absent from older workers).
    #[serde(default)]
    pub conv: Option<Box<ConvView>>,
    /// The architecture trained, or the one an imported file was read as (absent from older
    /// workers).
    #[serde(default)]
    pub model: Option<Box<ModelView>>,
    /// How sure the test figures are, and the figures on the de-duplicated test subset.
    #[serde(default)]
    pub certainty: Option<Box<CertaintyView>>,
    /// MedMNIST's figures for the dataset's own task, on a run on another MedMNIST dataset
    /// than BreastMNIST (absent for BreastMNIST, whose figures are the binary ones above).
    #[serde(default)]
    pub task: Option<Box<TaskView>>,
}

/// A run on any MedMNIST dataset, as the Evaluator scores it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskView {
    pub flag: Flag,
    pub task: Task,
    /// The label names, by label value (multi-label: by column).
    pub labels: Vec<String>,
    /// MedMNIST's AUC and ACC of the kept model on validation and test.
    pub val_auc: f64,
    pub val_acc: f64,
    pub test_auc: f64,
    pub test_acc: f64,
    /// One-vs-rest test AUC of each class (multi-label: of each label).
    pub per_class_auc: Vec<f64>,
    /// A 95% interval of the test AUC: DeLong's for two classes (`resamples` 0), else a seeded
    /// percentile bootstrap over the test images with `resamples` resamples.
    #[serde(default)]
    pub auc_ci: Option<(f64, f64)>,
    #[serde(default)]
    pub resamples: usize,
    /// The test confusion: rows the true class, columns the predicted one (`k x k`); for
    /// multi-label data one `[[tn, fp], [fn, tp]]` per label.
    pub confusion: TaskConfusion,
}

/// The test confusion of a [`TaskView`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskConfusion {
    Classes(Vec<Vec<u32>>),
    PerLabel(Vec<[[u32; 2]; 2]>),
}

/// The test figures' intervals and the audit's subset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CertaintyView {
    /// DeLong's 95% interval of the test AUC.
    pub auc_ci: (f64, f64),
    /// Malignant as the positive class: sensitivity and specificity.
    pub sensitivity: f64,
    pub specificity: f64,
    /// The test images without a training twin: how many, AUC with its interval, ACC.
    pub dedup_images: usize,
    pub dedup_auc: f64,
    pub dedup_auc_ci: (f64, f64),
    pub dedup_acc: f64,
}

/// A model's architecture as the page describes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelView {
    pub kind: ModelKind,
    pub stem: Stem,
    /// Side of the images in the data file, in pixels.
    pub input_size: usize,
    /// The side the model sees them at, when it resizes them.
    pub resize: Option<usize>,
    /// Resized with nearest neighbours (MedMNIST's 224 px rows) rather than bilinearly.
    pub nearest: bool,
    /// Side of the feature map after each of [`Stage::ALL`] (stem to layer4), as the core's
    /// `ModelConfig::stage_side` says; empty in runs stored by builds before it existed.
    #[serde(default)]
    pub stage_sides: Vec<usize>,
}

impl ModelView {
    /// Side of `stage`'s feature map, where the worker said it.
    pub fn stage_side(&self, stage: Stage) -> Option<usize> {
        Stage::ALL.iter().position(|&s| s == stage).and_then(|i| self.stage_sides.get(i).copied())
    }

    /// Whether Grad-CAM can explain `stage`: its map is at least 2 x 2 (a 1 x 1 map cannot say
    /// where anything is, and the core refuses it); a side not said counts as explainable.
    pub fn explains(&self, stage: Stage) -> bool {
        self.stage_side(stage).is_none_or(|side| side >= 2)
    }

    /// The deepest of [`Stage::GRADCAM`] that Grad-CAM can explain on this model (Lite0's
    /// layer4 is 1 x 1 at 28 px, so layer3 there). The core's `ModelConfig::cam_stage` would
    /// go on down to the stem; the page offers layer4 and layer3 only, and at the smallest side
    /// a model accepts (28 px) layer3 is at least 2 x 2 for every model.
    pub fn cam_stage(&self) -> Stage {
        Stage::GRADCAM.into_iter().find(|&s| self.explains(s)).unwrap_or(Stage::GRADCAM[Stage::GRADCAM.len() - 1])
    }

    /// `asked`, or this model's [`cam_stage`](Self::cam_stage) when Grad-CAM cannot explain it.
    pub fn cam_stage_for(&self, asked: Stage) -> Stage {
        if self.explains(asked) { asked } else { self.cam_stage() }
    }
}

/// How a run's convolutions ran: the algorithm, `gemm`'s check against burn's kernel on the
/// device (the worst relative difference), and the race's step times, when there were any.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConvView {
    pub algo: Conv,
    pub worst_difference: Option<f64>,
    /// `gemm` was asked for but disagreed with burn's kernel, so burn's kernel ran.
    pub fell_back: bool,
    /// The fastest timed step of `direct` and of `gemm`, in ms, when the run raced them.
    pub race_ms: Option<(f64, f64)>,
}

/// One MedMNIST standard result file (`breastmnist_test_[AUC]0.912_[ACC]0.897@run.csv`: no
/// header, `index,score_class0,score_class1` per image), ready to download.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResultFileView {
    pub name: String,
    pub contents: String,
}

impl ResultFileView {
    /// The split the file scores (`val` or `test`), read from its standard name.
    pub fn split(&self) -> Option<Split> {
        [Split::Val, Split::Test, Split::Train].into_iter().find(|s| self.name.contains(&format!("_{}_[AUC]", s.key())))
    }
}

/// Worker → page. `Checkpoint` comes with the checkpoint's bytes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "msg", rename_all = "snake_case")]
pub enum FromWorker {
    /// The worker's wasm is loaded and listening; `wire` is its [`WIRE_ID`] (0 from workers
    /// built before it existed).
    Ready {
        #[serde(default)]
        wire: u64,
    },
    /// The backend in use; `notice` says why it is not the one asked for.
    Backend {
        kind: BackendKind,
        adapter: String,
        notice: Option<String>,
    },
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
    Eval {
        split: Split,
        done: usize,
        total: usize,
    },
    Epoch(EpochView),
    Done(DoneView),
    Checkpoint {
        name: String,
        /// The kept model's architecture (absent from older workers): what the explorer may
        /// ask of it, even when the run fails before `Done`.
        #[serde(default)]
        model: Option<Box<ModelView>>,
    },
    /// The kept model's weights as a PyTorch `.safetensors` state dict (MedMNIST's names;
    /// bytes beside), sent after `Checkpoint`.
    Weights {
        name: String,
    },
    /// A resumable snapshot taken after `epoch` (bytes beside: `Snapshot::to_bytes`).
    Snapshot {
        epoch: usize,
    },
    Paused,
    Unpaused,
    Stopped,
    /// The run could not continue (bad settings, NaN loss, lost device...).
    Failed(WorkerError),
    /// Progress of an `Explain` request.
    Explaining {
        split: Split,
        stage: Stage,
        done: usize,
        total: usize,
    },
    /// The answer to `Explain`; the bytes hold the maps (see [`Explained`]).
    Explained(Explained),
    /// The answer to `Activations`; the bytes hold `channels.len()` maps of `side * side`.
    ActivationGrid(ActivationGridView),
    /// The answer to `LooksLike`.
    LooksLike(LooksLikeView),
    /// An `Explain` or `Activations` request failed; training state is unaffected.
    ExplainFailed(WorkerError),
    /// One pretraining step.
    PretextStep {
        epoch: usize,
        step: usize,
        steps_per_epoch: usize,
        loss: f64,
    },
    /// A pretraining epoch ended (see [`PretextView`]).
    PretextEpoch(PretextView),
    /// One GAN step: the discriminator's and the generator's losses.
    GanStep {
        epoch: usize,
        step: usize,
        steps_per_epoch: usize,
        d_loss: f64,
        g_loss: f64,
    },
    /// A GAN epoch ended (see [`GanView`]); the last one ends the run.
    GanEpoch(GanView),
    /// The pretrained encoder as a checkpoint (bytes beside), after the last epoch.
    Encoder {
        name: String,
    },
}

/// A split (or the images asked for) explained by the kept model.
///
/// The bytes beside it hold, per image in split order (or the order asked), one `side * side`
/// map per class (class 0 first), 255 marking the map's maximum.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Explained {
    pub split: Split,
    pub stage: Stage,
    pub side: usize,
    /// Softmax probability of label 1 (normal/benign) per image.
    pub scores: Vec<f32>,
    /// Milliseconds the worker spent on it, and the backend.
    pub millis: f64,
    pub backend: BackendKind,
    /// Classes per image (maps and probabilities).
    #[serde(default = "two")]
    pub classes: usize,
    /// The images explained, for [`ToWorker::ExplainImages`]; `None`: the whole split.
    #[serde(default)]
    pub indices: Option<Vec<usize>>,
    /// Every class's probability per image, row-major (as the run's metrics computed them).
    #[serde(default)]
    pub probabilities: Vec<f32>,
    /// The model classifies with a prototype head: `LooksLike` can explain its images.
    #[serde(default)]
    pub prototypes: bool,
}

/// Classes per image in the maps of workers that did not say (BreastMNIST is binary).
pub const CLASSES: usize = 2;

/// The most images one [`ToWorker::ExplainImages`] may ask for.
pub const MAX_EXPLAIN_IMAGES: usize = 64;

fn two() -> usize {
    CLASSES
}

impl Explained {
    /// The map of the `index`-th image explained for `class` inside `maps` (the bytes sent
    /// beside this description); `None` when out of range.
    pub fn map<'a>(&self, maps: &'a [u8], index: usize, class: usize) -> Option<&'a [u8]> {
        if class >= self.classes {
            return None;
        }
        let n = self.side * self.side;
        let start = (index * self.classes + class) * n;
        maps.get(start..start + n)
    }

    /// How many bytes of maps belong with this description.
    pub fn maps_len(&self) -> usize {
        self.scores.len() * self.classes * self.side * self.side
    }

    /// The `index`-th image's probabilities, one per class (empty from workers that did not
    /// send them).
    pub fn probabilities_of(&self, index: usize) -> &[f32] {
        self.probabilities.get(index * self.classes..(index + 1) * self.classes).unwrap_or(&[])
    }
}

/// Activation maps of one image at one stage, strongest channels first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivationGridView {
    pub split: Split,
    pub index: usize,
    pub stage: Stage,
    pub side: usize,
    pub total_channels: usize,
    pub channels: Vec<usize>,
    pub means: Vec<f32>,
}

/// "This looks like that" for one image (see `breastmnist_core::prototypes::LooksLike`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LooksLikeView {
    pub split: Split,
    pub index: usize,
    /// The class explained (the predicted one).
    pub class: usize,
    /// Side of the similarity maps.
    pub map_side: usize,
    /// Image pixels per map cell along each side (cell `r` is pixels `r * cell` to
    /// `(r + 1) * cell`; pixels past the last cell are in none).
    pub cell: f64,
    /// The strongest contributions first.
    pub matches: Vec<PrototypeView>,
}

/// One prototype's part in an image's prediction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrototypeView {
    pub prototype: usize,
    /// The class it belongs to.
    pub class: usize,
    pub similarity: f32,
    pub weight: f32,
    pub contribution: f32,
    /// Its similarity to every cell of the image, `map_side * map_side`.
    pub map: Vec<f32>,
    /// The training image (index in the train split) and cell it is.
    pub source: Option<PatchView>,
}

/// A cell of a training image.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PatchView {
    pub index: usize,
    pub row: usize,
    pub col: usize,
    pub distance: f32,
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

    pub fn from_json(s: &str) -> Result<FromWorker, WorkerError> {
        serde_json::from_str(s).map_err(|e| WorkerError::new(ErrorKind::Protocol, format!("unreadable worker message: {e}")))
    }
}

impl ToWorker {
    pub fn from_json(s: &str) -> Result<ToWorker, WorkerError> {
        serde_json::from_str(s).map_err(|e| WorkerError::new(ErrorKind::Protocol, format!("unreadable command: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_threaded_trainers_start_failure_is_a_failed_message() {
        // crates/threads/js/worker.js writes this by hand when the wasm or its pool cannot start.
        let js = include_str!("../../threads/js/worker.js");
        assert!(js.contains("msg: 'failed', kind: 'worker', message:"), "worker.js no longer posts the expected shape");
        let msg =
            FromWorker::from_json(r#"{"msg":"failed","kind":"worker","message":"the threaded trainer failed to start: x"}"#);
        assert!(matches!(msg, Ok(FromWorker::Failed(e)) if e.kind == ErrorKind::Worker && e.message.ends_with(": x")));
    }

    #[test]
    fn grad_cam_falls_back_to_the_deepest_stage_whose_map_can_say_where() {
        let mut lite0 = ModelView {
            kind: ModelKind::Lite0,
            stem: Stem::Medmnist,
            input_size: 28,
            resize: None,
            nearest: false,
            stage_sides: vec![14, 7, 4, 2, 1],
        };
        assert_eq!(lite0.stage_side(Stage::Layer4), Some(1));
        assert!(!lite0.explains(Stage::Layer4) && lite0.explains(Stage::Layer3));
        assert_eq!(lite0.cam_stage(), Stage::Layer3);
        assert_eq!((lite0.cam_stage_for(Stage::Layer4), lite0.cam_stage_for(Stage::Layer3)), (Stage::Layer3, Stage::Layer3));
        // At 64 px layer4 is 2 x 2: the default stands.
        lite0.stage_sides = vec![32, 16, 8, 4, 2];
        assert_eq!(lite0.cam_stage(), Stage::Layer4);
        // A worker that said no sides: every stage is offered, as before.
        lite0.stage_sides.clear();
        assert_eq!((lite0.stage_side(Stage::Layer4), lite0.cam_stage()), (None, Stage::Layer4));
        let old = r#"{"kind":"lite0","stem":"medmnist","input_size":28,"resize":null,"nearest":false}"#;
        assert_eq!(serde_json::from_str::<ModelView>(old).expect("an older worker's view").stage_sides, Vec::<usize>::new());
    }

    #[test]
    fn commands_that_start_work_name_their_backend() {
        let eval = ToWorker::Evaluate { backend: BackendChoice::Cpu, name: "m.ckpt".into(), tta: false };
        assert_eq!(eval.backend(), Some(BackendChoice::Cpu));
        assert_eq!(ToWorker::Stop.backend(), None);
        assert_eq!(ToWorker::Pause.backend(), None);
    }

    #[test]
    fn messages_round_trip() {
        let start = ToWorker::Start(TrainRequest {
            model: ModelKind::Tiny,
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
            method: Some(Method::CurriculumHard),
            conv: Some(Conv::Gemm),
            stem: Some(Stem::Torchvision),
            init_name: Some("c16-contrastive.ckpt".into()),
            dataset: Some(DataFile { flag: Flag::Retina, size: Size::Px28 }),
            prototypes: Some(10),
        });
        // Requests written before fine-tuning, augmentation modes, selection rules and presets
        // existed still read (saved runs hold them).
        let old = r#"{"cmd":"continue","model":"tiny","epochs":2,"batch_size":32,"lr":0.001,"seed":7,"subset":null,"augment":false,"mixup":null,"backend":"cpu"}"#;
        assert!(matches!(ToWorker::from_json(old), Ok(ToWorker::Continue(r))
            if r.model == ModelKind::Tiny && !r.fine_tune && r.augment == Augment::None
                && r.selection == Selection::BestValAuc && !r.tta && r.preset.is_none() && r.method.is_none()
                && r.dataset.is_none()));
        let old_aug = old.replace("\"augment\":false", "\"augment\":true");
        assert!(matches!(ToWorker::from_json(&old_aug), Ok(ToWorker::Continue(r)) if r.augment == Augment::Full));
        let unknown_model = old.replace("\"tiny\"", "\"resnet101\"");
        assert_eq!(ToWorker::from_json(&unknown_model).unwrap_err().kind, ErrorKind::Protocol);
        assert_eq!(ToWorker::from_json(&start.to_json()).unwrap(), start);
        assert!(start.to_json().contains("\"cmd\":\"start\""));
        assert!(start.to_json().contains(r#""dataset":{"flag":"retinamnist","size":"28"}"#), "{}", start.to_json());
        let step = FromWorker::Step { epoch: 1, step: 3, steps_per_epoch: 5, loss: 0.5, millis: 12.0 };
        assert_eq!(FromWorker::from_json(&step.to_json()).unwrap(), step);
        assert_eq!(FromWorker::from_json("{\"msg\":\"nope\"}").unwrap_err().kind, ErrorKind::Protocol);
        let explain = ToWorker::Explain { split: Split::Test, stage: Stage::Layer4 };
        assert_eq!(explain.to_json(), r#"{"cmd":"explain","split":"test","stage":"layer4"}"#);
        assert_eq!(ToWorker::from_json(&explain.to_json()).unwrap(), explain);
        let explained = FromWorker::Explained(Explained {
            split: Split::Test,
            stage: Stage::Layer3,
            side: 28,
            scores: vec![0.25, 0.75],
            millis: 12.5,
            backend: BackendKind::Cpu,
            classes: 2,
            indices: None,
            probabilities: vec![0.75, 0.25, 0.25, 0.75],
            prototypes: true,
        });
        assert_eq!(FromWorker::from_json(&explained.to_json()).unwrap(), explained);
        let ask = ToWorker::LooksLike { split: Split::Test, index: 5 };
        assert_eq!(ask.to_json(), r#"{"cmd":"looks_like","split":"test","index":5}"#);
        assert_eq!(ToWorker::from_json(&ask.to_json()).unwrap(), ask);
        let patch = PatchView { index: 12, row: 1, col: 2, distance: 0.0 };
        let m = PrototypeView {
            prototype: 4,
            class: 1,
            similarity: 9.2,
            weight: 1.0,
            contribution: 9.2,
            map: vec![0.5; 9],
            source: Some(patch),
        };
        let why = FromWorker::LooksLike(LooksLikeView {
            split: Split::Test,
            index: 5,
            class: 1,
            map_side: 3,
            cell: 8.0,
            matches: vec![m],
        });
        assert_eq!(FromWorker::from_json(&why.to_json()).unwrap(), why);
        // Workers from before k classes said nothing of them: two, the whole split.
        let old = r#"{"msg":"explained","split":"test","stage":"layer3","side":28,"scores":[0.5],"millis":1.0,"backend":"cpu"}"#;
        assert!(matches!(FromWorker::from_json(old), Ok(FromWorker::Explained(e)) if e.classes == 2 && e.indices.is_none()));
        let images = ToWorker::ExplainImages { split: Split::Test, stage: Stage::Layer4, indices: vec![3, 1] };
        assert_eq!(ToWorker::from_json(&images.to_json()).unwrap(), images);
        for kind in ErrorKind::ALL {
            let failed = FromWorker::Failed(WorkerError::new(kind, "lost"));
            assert_eq!(FromWorker::from_json(&failed.to_json()).unwrap(), failed);
        }
        let backend = FromWorker::Backend { kind: BackendKind::WebGpu, adapter: "a".into(), notice: None };
        assert!(backend.to_json().contains("\"kind\":\"webgpu\""));
    }

    #[test]
    fn ready_carries_the_wire_id_and_old_workers_read_as_zero() {
        let ready = FromWorker::Ready { wire: WIRE_ID };
        assert_eq!(FromWorker::from_json(&ready.to_json()).unwrap(), ready);
        assert_eq!(FromWorker::from_json(r#"{"msg":"ready"}"#).unwrap(), FromWorker::Ready { wire: 0 });
        assert_ne!(WIRE_ID, 0);
        assert_ne!(fingerprint(&["a"]), fingerprint(&["b"]), "the fingerprint depends on the source");
    }

    #[test]
    fn result_files_name_their_split_and_older_done_views_read() {
        let f = |name: &str| ResultFileView { name: name.into(), contents: String::new() };
        assert_eq!(f("breastmnist_test_[AUC]0.912_[ACC]0.897@c16-seed1.csv").split(), Some(Split::Test));
        assert_eq!(f("breastmnist_64_val_[AUC]0.800_[ACC]0.750@run.csv").split(), Some(Split::Val));
        assert_eq!(f("notes.csv").split(), None);
        let old = r#"{"best_epoch":1,"val_auc":0.8,"test_auc":0.8,"test_acc":0.7,"confusion":[[1,2],[3,4]],"roc":[],"metrics_json":"{}"}"#;
        let done = serde_json::from_str::<DoneView>(old).unwrap();
        assert!(done.result_files.is_empty() && done.task.is_none(), "older done views read as BreastMNIST runs");
    }

    #[test]
    fn presets_name_themselves() {
        for p in Preset::ALL {
            assert_eq!(p.request().preset, Some(p));
        }
        assert_eq!(Preset::Reader.request().model, ModelKind::C16);
        assert_eq!(Preset::Reader.starts_from(), None);
        assert_eq!(Preset::Paper.request().model, ModelKind::Resnet18);
    }

    #[test]
    fn a_map_is_one_class_of_one_image() {
        let e = Explained {
            split: Split::Val,
            stage: Stage::Layer4,
            side: 2,
            scores: vec![0.1, 0.9],
            millis: 0.0,
            backend: BackendKind::Cpu,
            classes: 2,
            indices: None,
            probabilities: vec![0.9, 0.1, 0.1, 0.9],
            prototypes: false,
        };
        let maps: Vec<u8> = (0..e.maps_len() as u8).collect();
        assert_eq!(maps.len(), 16);
        assert_eq!(e.map(&maps, 0, 0), Some(&[0, 1, 2, 3][..]));
        assert_eq!(e.map(&maps, 0, 1), Some(&[4, 5, 6, 7][..]));
        assert_eq!(e.map(&maps, 1, 1), Some(&[12, 13, 14, 15][..]));
        assert_eq!(e.map(&maps, 2, 0), None);
        assert_eq!(e.map(&maps, 0, 2), None);
        assert_eq!(e.map(&maps[..15], 1, 1), None, "short maps are refused, not padded");
        assert_eq!((e.probabilities_of(1), e.probabilities_of(2)), (&[0.1, 0.9][..], &[][..]));
        // Three classes: each image holds three maps.
        let three = Explained { classes: 3, scores: vec![0.0; 2], ..e };
        let maps: Vec<u8> = (0..three.maps_len() as u8).collect();
        assert_eq!((maps.len(), three.map(&maps, 1, 2)), (24, Some(&[20, 21, 22, 23][..])));
        assert_eq!(three.map(&maps, 0, 3), None);
    }
}

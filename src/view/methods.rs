//! The methods lab as plain data: which methods the tab offers and what each is, the request
//! each sends (the `reader` recipe with the method applied by the core in the worker), the
//! pretrained starting points the app serves, the fold of worker reports into one run per
//! method, the bars beside the paper's rows, and the native report (`breastmnist lab`'s JSON)
//! that the article renders.
//!
//! No signals and no DOM, so every rule is tested natively.

use breastmnist_protocol::{
    BackendChoice, EpochView, ExtraFile, FromWorker, Method, ModelKind, Preset, PretextTask, PretextView, PretrainRequest,
    StartingPoint, TrainRequest,
};
use serde::Deserialize;

use crate::view::published::PUBLISHED;

/// The methods a reader can run in the tab, in the order offered (an ensemble is several
/// runs, not one: the native table has it).
pub const TAB_METHODS: [Method; 12] = [
    Method::Base,
    Method::NoTta,
    Method::BestValAuc,
    Method::EmaLast,
    Method::CurriculumEasy,
    Method::CurriculumHard,
    Method::CurriculumRandom,
    Method::Transfer,
    Method::Contrastive,
    Method::ContrastiveProbe,
    Method::Masked,
    Method::MaskedProbe,
];

/// The models the lab trains (the served starting points exist for these).
pub const MODELS: [ModelKind; 2] = [ModelKind::C8, ModelKind::C16];

/// The methods ticked when the reader arrives.
pub const DEFAULT_METHODS: [Method; 3] = [Method::Base, Method::Contrastive, Method::Masked];

/// A method's short name in tables and legends.
pub fn label(m: Method) -> &'static str {
    match m {
        Method::Base => "reader recipe, fresh weights",
        Method::NoTta => "without flip TTA",
        Method::BestValAuc => "best-val epoch (paper's rule)",
        Method::EmaLast => "weight average (EMA)",
        Method::CurriculumEasy => "curriculum: easy first",
        Method::CurriculumHard => "anti-curriculum: hard first",
        Method::CurriculumRandom => "control: random 40 % first",
        Method::Transfer => "transfer from chest X-rays",
        Method::Contrastive => "SimCLR pretraining, fine-tuned (the page's default)",
        Method::ContrastiveProbe => "SimCLR pretraining, linear probe",
        Method::Masked => "masked-image pretraining, fine-tuned",
        Method::MaskedProbe => "masked-image pretraining, linear probe",
        Method::Ensemble => "ensemble of the seeds",
    }
}

/// What a method changes, in one sentence.
pub fn about(m: Method) -> &'static str {
    match m {
        Method::Base => "The reader recipe from fresh weights: flips, the last epoch, each image scored with its mirror.",
        Method::NoTta => "The same, scoring each image alone.",
        Method::BestValAuc => "Keeps the epoch with the best validation AUC, as the paper does.",
        Method::EmaLast => "Keeps a moving average of the weights (decay 0.99 per step).",
        Method::CurriculumEasy => "Trains on the 40 % lowest-loss images first, all of them from half-way.",
        Method::CurriculumHard => "The same pacing, hardest images first.",
        Method::CurriculumRandom => "The same pacing with a random 40 %: the control.",
        Method::Transfer => "Starts from the model trained on 4,708 PneumoniaMNIST chest X-rays.",
        Method::Contrastive => {
            "Starts from an encoder trained to match two random views of 8,002 unlabelled images (no val/test scan)."
        }
        Method::ContrastiveProbe => "The same encoder, frozen; only the classifier trains.",
        Method::Masked => "Starts from an encoder trained to fill in hidden patches of the same 8,002 images.",
        Method::MaskedProbe => "The same encoder, frozen; only the classifier trains.",
        Method::Ensemble => "The mean probability of several seeds' models.",
    }
}

/// A pretrained starting point the app serves from its own origin (`pretrained/FILE`, made by
/// `breastmnist lab --save-pretrained`; `assets/pretrained/README.md` has the command).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServedPoint {
    pub model: ModelKind,
    pub kind: StartingPoint,
    pub file: &'static str,
    pub bytes: u64,
    pub md5: &'static str,
}

/// Every served starting point (the tidy test checks these against the files).
pub const STARTING_POINTS: [ServedPoint; 6] = [
    ServedPoint {
        model: ModelKind::C8,
        kind: StartingPoint::Pneumonia,
        file: "c8-pneumonia.ckpt",
        bytes: 305503,
        md5: "977588024fe0a731253cd2bb2c1761e3",
    },
    ServedPoint {
        model: ModelKind::C8,
        kind: StartingPoint::Contrastive,
        file: "c8-contrastive.ckpt",
        bytes: 305503,
        md5: "213e135f160e05afd50075f1930dc3e5",
    },
    ServedPoint {
        model: ModelKind::C8,
        kind: StartingPoint::Masked,
        file: "c8-masked.ckpt",
        bytes: 305503,
        md5: "bfff52d3c74163da679d48b4b571d5ce",
    },
    ServedPoint {
        model: ModelKind::C16,
        kind: StartingPoint::Pneumonia,
        file: "c16-pneumonia.ckpt",
        bytes: 1186144,
        md5: "d00ed7e5cee681a7ffece3fa7247b221",
    },
    ServedPoint {
        model: ModelKind::C16,
        kind: StartingPoint::Contrastive,
        file: "c16-contrastive.ckpt",
        bytes: 1186144,
        md5: "3346347c8d8ac7ec00bc31ebf695c593",
    },
    ServedPoint {
        model: ModelKind::C16,
        kind: StartingPoint::Masked,
        file: "c16-masked.ckpt",
        bytes: 1186144,
        md5: "3fc3655fbac7c6b015f90c874bdcec3f",
    },
];

impl ServedPoint {
    /// Its URL, relative to the page.
    pub fn url(&self) -> String {
        format!("pretrained/{}", self.file)
    }

    /// The served file of `kind` for `model`, if the app serves one (c8 and c16).
    pub fn find(model: ModelKind, kind: StartingPoint) -> Option<&'static ServedPoint> {
        STARTING_POINTS.iter().find(|p| p.model == model && p.kind == kind)
    }
}

/// How the form names a served starting point: a short label and its tooltip.
pub fn start_label(kind: StartingPoint) -> (&'static str, &'static str) {
    match kind {
        StartingPoint::Contrastive => {
            ("SimCLR", "The contrastive (SimCLR) encoder this page serves, pretrained without labels on 8,002 scans")
        }
        StartingPoint::Masked => {
            ("masked", "The masked-reconstruction encoder this page serves, pretrained without labels on 8,002 scans")
        }
        StartingPoint::Pneumonia => ("chest X-rays", "The model this page serves, trained on PneumoniaMNIST's chest X-rays"),
    }
}

/// The starting point `method` needs for `model`, if it needs one.
pub fn starting_point(method: Method, model: ModelKind) -> Option<&'static ServedPoint> {
    let kind = match (method, pretext_of(method)) {
        (Method::Transfer, _) => StartingPoint::Pneumonia,
        (_, Some(PretextTask::Contrastive)) => StartingPoint::Contrastive,
        (_, Some(PretextTask::Masked)) => StartingPoint::Masked,
        (_, None) => return None,
    };
    ServedPoint::find(model, kind)
}

/// The lab's settings: every method runs with the same model, budget and seed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LabSettings {
    pub model: ModelKind,
    pub epochs: usize,
    pub seed: u64,
    /// Train on the first N images (tests and quick looks).
    pub subset: Option<usize>,
    pub backend: BackendChoice,
}

impl Default for LabSettings {
    /// c16 (the reader recipe's model), 20 epochs, seed 0.
    fn default() -> Self {
        LabSettings { model: ModelKind::C16, epochs: 20, seed: 0, subset: None, backend: BackendChoice::Auto }
    }
}

/// The request for `method`: the `reader` recipe with the lab's model, budget and seed; the
/// worker applies the method (the core's `lab::Method::config`). Methods that start from a
/// pretrained model fine-tune the starting point sent beside it.
pub fn request(method: Method, s: &LabSettings) -> TrainRequest {
    TrainRequest {
        model: s.model,
        epochs: s.epochs,
        seed: s.seed,
        subset: s.subset,
        backend: s.backend,
        fine_tune: method.needs_init(),
        preset: None,
        method: Some(method),
        ..Preset::Reader.request()
    }
}

/// Where one method's run is.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Status {
    #[default]
    Waiting,
    /// Fetching the data, the starting point or the trainer.
    Loading(String),
    Training,
    Done {
        auc: f64,
        acc: f64,
        val_auc: f64,
        seconds: f64,
    },
    Failed(String),
}

/// One method's run: its status and validation curve.
#[derive(Clone, Debug, PartialEq)]
pub struct MethodRun {
    pub method: Method,
    pub epochs: usize,
    pub status: Status,
    pub history: Vec<EpochView>,
}

impl MethodRun {
    pub fn new(method: Method, epochs: usize) -> Self {
        MethodRun { method, epochs, status: Status::Waiting, history: Vec::new() }
    }

    /// Folds a worker report in; `elapsed` is seconds since the run started.
    pub fn apply(&mut self, msg: &FromWorker, elapsed: f64) {
        match msg {
            FromWorker::Backend { .. } => self.status = Status::Training,
            FromWorker::Epoch(e) => {
                self.history.retain(|h| h.epoch < e.epoch);
                self.history.push(e.clone());
                self.status = Status::Training;
            }
            FromWorker::Done(d) => {
                self.status = Status::Done { auc: d.test_auc, acc: d.test_acc, val_auc: d.val_auc, seconds: elapsed }
            }
            FromWorker::Failed(e) => self.status = Status::Failed(e.message.clone()),
            _ => {}
        }
    }

    pub fn is_finished(&self) -> bool {
        matches!(self.status, Status::Done { .. } | Status::Failed(_))
    }

    pub fn is_done(&self) -> bool {
        matches!(self.status, Status::Done { .. })
    }

    /// The row's status text.
    pub fn describe(&self) -> String {
        match &self.status {
            Status::Waiting => "waiting".into(),
            Status::Loading(what) => format!("loading {what}…"),
            Status::Training => format!("epoch {} of {}", self.history.last().map_or(0, |h| h.epoch), self.epochs),
            Status::Done { seconds, .. } => format!("done in {seconds:.0} s"),
            Status::Failed(m) => format!("failed: {m}"),
        }
    }

    /// Validation AUC per epoch, for the overlaid curves.
    pub fn val_curve(&self) -> Vec<(f64, f64)> {
        self.history.iter().map(|h| (h.epoch as f64, h.val_auc)).collect()
    }

    /// Test AUC and ACC, once done.
    pub fn test(&self) -> Option<(f64, f64)> {
        match self.status {
            Status::Done { auc, acc, .. } => Some((auc, acc)),
            _ => None,
        }
    }
}

/// One bar pair of the chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    pub label: String,
    pub auc: f64,
    pub acc: f64,
    /// A published result, not a run of this page.
    pub reference: bool,
}

/// The published rows drawn beside the runs: the paper's ResNet-18 (28) and the best and the
/// weakest of its table.
const REFERENCES: [&str; 3] = ["ResNet-18 (28)", "Google AutoML Vision", "auto-sklearn"];

/// The finished runs' bars, then the published references.
pub fn bars(runs: &[MethodRun]) -> Vec<Bar> {
    let mine =
        runs.iter().filter_map(|r| r.test().map(|(auc, acc)| Bar { label: label(r.method).into(), auc, acc, reference: false }));
    let published = PUBLISHED.iter().filter(|p| REFERENCES.contains(&p.method)).map(|p| Bar {
        label: format!("{} (paper)", p.method),
        auc: p.auc,
        acc: p.acc,
        reference: true,
    });
    mine.chain(published).collect()
}

/// The pretext task a method's encoder comes from, if any.
pub fn pretext_of(m: Method) -> Option<PretextTask> {
    match m {
        Method::Contrastive | Method::ContrastiveProbe => Some(PretextTask::Contrastive),
        Method::Masked | Method::MaskedProbe => Some(PretextTask::Masked),
        Method::Base
        | Method::NoTta
        | Method::BestValAuc
        | Method::EmaLast
        | Method::CurriculumEasy
        | Method::CurriculumHard
        | Method::CurriculumRandom
        | Method::Transfer
        | Method::Ensemble => None,
    }
}

/// The data crate's file for an extra pretraining file's wire name.
pub fn extra_file(e: ExtraFile) -> breastmnist_data::Extra {
    match e {
        ExtraFile::PneumoniaMnist => breastmnist_data::Extra::PneumoniaMnist,
        ExtraFile::RetinaMnist => breastmnist_data::Extra::RetinaMnist,
    }
}

/// How an extra file is offered: its name, image count and download size.
pub fn extra_label(e: ExtraFile) -> String {
    let f = extra_file(e);
    let what = match e {
        ExtraFile::PneumoniaMnist => "PneumoniaMNIST chest X-rays",
        ExtraFile::RetinaMnist => "RetinaMNIST fundus photos, in grayscale",
    };
    format!("+ {} {what} ({:.1} MB)", f.images(), f.size() as f64 / 1e6)
}

/// An encoder pretrained in this tab.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TabEncoder {
    pub model: ModelKind,
    pub task: PretextTask,
}

impl TabEncoder {
    /// Whether `method` on `model` starts from this encoder (instead of the served one).
    pub fn serves(&self, method: Method, model: ModelKind) -> bool {
        self.model == model && pretext_of(method) == Some(self.task)
    }
}

/// The request that pretrains `task` in the tab with the lab's model and seed.
pub fn pretrain_request(task: PretextTask, s: &LabSettings, epochs: usize, extra: Vec<ExtraFile>) -> PretrainRequest {
    PretrainRequest { task, model: s.model, epochs, batch_size: 128, seed: s.seed, backend: s.backend, extra }
}

/// Where pretraining in the tab is.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum PretextStatus {
    #[default]
    Idle,
    Loading(String),
    Training,
    Done {
        seconds: f64,
    },
    Failed(String),
}

/// Pretraining in the tab: its status, loss curve and the latest picture of what it learned.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct PretextRun {
    pub status: PretextStatus,
    pub epochs: usize,
    /// `(epoch fraction, loss)` per step.
    pub steps: Vec<(f64, f64)>,
    /// The latest epoch's picture.
    pub view: Option<PretextView>,
    /// The encoder's file name, once it arrived.
    pub encoder: Option<String>,
}

impl PretextRun {
    pub fn starting(epochs: usize) -> Self {
        PretextRun { status: PretextStatus::Loading("the data".into()), epochs, ..PretextRun::default() }
    }

    /// Folds a worker report in; `elapsed` is seconds since pretraining started.
    pub fn apply(&mut self, msg: &FromWorker, elapsed: f64) {
        match msg {
            FromWorker::Backend { .. } => self.status = PretextStatus::Training,
            FromWorker::PretextStep { epoch, step, steps_per_epoch, loss } => {
                self.status = PretextStatus::Training;
                let x = (*epoch - 1) as f64 + *step as f64 / (*steps_per_epoch).max(1) as f64;
                self.steps.push((x, *loss));
            }
            FromWorker::PretextEpoch(v) => self.view = Some(v.clone()),
            FromWorker::Encoder { name } => {
                self.encoder = Some(name.clone());
                self.status = PretextStatus::Done { seconds: elapsed };
            }
            FromWorker::Failed(e) => self.status = PretextStatus::Failed(e.message.clone()),
            FromWorker::Stopped => self.status = PretextStatus::Failed("stopped".into()),
            _ => {}
        }
    }

    pub fn is_running(&self) -> bool {
        matches!(self.status, PretextStatus::Loading(_) | PretextStatus::Training)
    }

    pub fn describe(&self) -> String {
        match &self.status {
            PretextStatus::Idle => String::new(),
            PretextStatus::Loading(what) => format!("loading {what}…"),
            PretextStatus::Training => {
                let epoch = self.view.as_ref().map_or(0, |v| v.epoch);
                let loss = self.steps.last().map_or(String::new(), |s| format!(", loss {:.4}", s.1));
                format!("pretraining: epoch {epoch} of {} done{loss}", self.epochs)
            }
            PretextStatus::Done { seconds } => format!("done in {seconds:.0} s: the encoder is ready"),
            PretextStatus::Failed(m) => format!("failed: {m}"),
        }
    }

    /// The picture's reconstructions as `(masked, output)` image pairs of `side²` bytes.
    pub fn reconstructions(&self) -> Vec<(&[u8], &[u8])> {
        let Some(v) = &self.view else { return Vec::new() };
        let per = v.recon_side * v.recon_side;
        if per == 0 || v.recon.len() % (2 * per) != 0 {
            return Vec::new();
        }
        let n = v.recon.len() / (2 * per);
        (0..n).map(|i| (&v.recon[i * per..(i + 1) * per], &v.recon[(n + i) * per..(n + i + 1) * per])).collect()
    }
}

/// Mean and sample standard deviation over seeds.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
pub struct Stat {
    pub mean: f64,
    pub sd: f64,
}

impl Stat {
    /// `mean ± sd` over `n` runs; the mean alone for one run (an ensemble's row), whose spread
    /// is not zero but unknown.
    pub fn show(&self, n: usize) -> String {
        if n > 1 { format!("{:.3} ± {:.3}", self.mean, self.sd) } else { format!("{:.3}", self.mean) }
    }
}

/// One seed of a native row.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct NativeRun {
    pub seed: u64,
    pub test_auc: f64,
    pub test_acc: f64,
    pub seconds: f64,
}

/// One method on one model, over the seeds.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct NativeRow {
    pub method: String,
    pub model: String,
    pub runs: Vec<NativeRun>,
    pub test_auc: Stat,
    pub test_acc: Stat,
}

/// The part of a pretraining configuration the article names.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct NativePretextConfig {
    pub task: String,
}

/// One self-supervised pretraining of the native lab.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct NativePretext {
    pub model: String,
    pub config: NativePretextConfig,
    pub images: usize,
    pub losses: Vec<f64>,
    pub seconds: f64,
}

/// The native lab report (`breastmnist lab`'s JSON, the core's `LabReport`): the fields the
/// article shows, read at this one boundary.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct NativeLab {
    pub schema_version: u32,
    pub kind: String,
    pub base: String,
    pub seeds: Vec<u64>,
    pub rows: Vec<NativeRow>,
    #[serde(default)]
    pub pretext: Vec<NativePretext>,
    pub total_seconds: f64,
}

/// The report the app ships (`assets/lab/lab.json`).
pub const NATIVE_LAB_JSON: &str = include_str!("../../assets/lab/lab.json");

impl NativeLab {
    pub fn parse(json: &str) -> Result<NativeLab, String> {
        let lab: NativeLab = serde_json::from_str(json).map_err(|e| format!("the lab report is unreadable: {e}"))?;
        if lab.kind != "lab" || lab.schema_version != 1 {
            return Err(format!("not a version-1 lab report (kind '{}', version {})", lab.kind, lab.schema_version));
        }
        Ok(lab)
    }

    /// The models, in the report's order.
    pub fn models(&self) -> Vec<&str> {
        let mut m: Vec<&str> = Vec::new();
        for r in &self.rows {
            if !m.contains(&r.model.as_str()) {
                m.push(&r.model);
            }
        }
        m
    }

    /// `row`'s mean test AUC minus its model's `base` row's.
    pub fn versus_base(&self, row: &NativeRow) -> Option<f64> {
        let base = self.rows.iter().find(|r| r.model == row.model && r.method == "base")?;
        Some(row.test_auc.mean - base.test_auc.mean)
    }
}

/// How a difference in mean test AUC reads with 156 test images: under 0.01 is noise.
pub fn verdict(delta: f64) -> &'static str {
    if delta.abs() < 0.01 {
        "within noise"
    } else if delta > 0.0 {
        "better"
    } else {
        "worse"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use breastmnist_protocol::{BackendKind, DoneView, ErrorKind, WorkerError};

    #[test]
    fn every_tab_method_sends_the_reader_recipe_with_itself() {
        let s = LabSettings { model: ModelKind::C8, epochs: 3, seed: 2, subset: Some(64), backend: BackendChoice::Cpu };
        for m in TAB_METHODS {
            let r = request(m, &s);
            assert_eq!((r.model, r.epochs, r.seed, r.subset, r.method), (ModelKind::C8, 3, 2, Some(64), Some(m)));
            assert_eq!((r.batch_size, r.augment, r.tta), (64, breastmnist_protocol::Augment::Flip, true));
            assert_eq!(r.fine_tune, m.needs_init());
            assert_eq!(r.fine_tune, starting_point(m, ModelKind::C8).is_some(), "{}", m.name());
            assert!(!label(m).is_empty() && !about(m).is_empty());
        }
        assert!(!TAB_METHODS.contains(&Method::Ensemble));
        for model in MODELS {
            for kind in StartingPoint::ALL {
                assert_eq!(STARTING_POINTS.iter().filter(|p| p.model == model && p.kind == kind).count(), 1);
                assert_eq!(ServedPoint::find(model, kind).unwrap().file, format!("{model}-{kind}.ckpt"));
            }
        }
        assert_eq!(starting_point(Method::MaskedProbe, ModelKind::C16).unwrap().url(), "pretrained/c16-masked.ckpt");
        assert!(starting_point(Method::Transfer, ModelKind::Tiny).is_none());
        assert!(ServedPoint::find(ModelKind::Resnet18, StartingPoint::Contrastive).is_none());
    }

    #[test]
    fn pretraining_reports_fold_into_curve_picture_and_encoder() {
        let s = LabSettings { model: ModelKind::C8, seed: 3, ..LabSettings::default() };
        let req = pretrain_request(PretextTask::Masked, &s, 2, vec![ExtraFile::RetinaMnist]);
        assert_eq!((req.model, req.seed, req.epochs, req.task), (ModelKind::C8, 3, 2, PretextTask::Masked));
        assert_eq!(req.extra, vec![ExtraFile::RetinaMnist]);
        for e in ExtraFile::ALL {
            assert_eq!(extra_file(e).file_name(), format!("{}.npz", e.name()));
        }
        assert_eq!(extra_label(ExtraFile::RetinaMnist), "+ 1600 RetinaMNIST fundus photos, in grayscale (3.3 MB)");
        let mut p = PretextRun::starting(2);
        assert!(p.is_running());
        p.apply(&FromWorker::PretextStep { epoch: 1, step: 2, steps_per_epoch: 4, loss: 0.5 }, 1.0);
        assert_eq!(p.steps, vec![(0.5, 0.5)]);
        let view = PretextView {
            epoch: 1,
            epochs: 2,
            loss: 0.4,
            points: vec![[0.0, 1.0], [1.0, 0.0]],
            labels: vec![0, 1],
            recon_side: 2,
            recon: vec![1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4],
        };
        p.apply(&FromWorker::PretextEpoch(view), 2.0);
        let r = p.reconstructions();
        assert_eq!(r, vec![(&[1u8, 1, 1, 1][..], &[3u8, 3, 3, 3][..]), (&[2u8, 2, 2, 2][..], &[4u8, 4, 4, 4][..])]);
        assert!(p.describe().contains("epoch 1 of 2"));
        p.apply(&FromWorker::Encoder { name: "e.ckpt".into() }, 9.6);
        assert_eq!(p.status, PretextStatus::Done { seconds: 9.6 });
        assert!(!p.is_running());
        let enc = TabEncoder { model: ModelKind::C8, task: PretextTask::Masked };
        assert!(enc.serves(Method::Masked, ModelKind::C8) && enc.serves(Method::MaskedProbe, ModelKind::C8));
        assert!(!enc.serves(Method::Masked, ModelKind::C16) && !enc.serves(Method::Contrastive, ModelKind::C8));
        assert!(!enc.serves(Method::Base, ModelKind::C8));
        for m in TAB_METHODS {
            assert_eq!(
                pretext_of(m).is_some(),
                matches!(starting_point(m, ModelKind::C8), Some(p) if p.kind != StartingPoint::Pneumonia)
            );
        }
    }

    #[test]
    fn reports_fold_into_a_run_with_its_curve() {
        let mut r = MethodRun::new(Method::Base, 2);
        r.apply(&FromWorker::Backend { kind: BackendKind::Cpu, adapter: "x".into(), notice: None }, 0.0);
        assert_eq!(r.describe(), "epoch 0 of 2");
        let e = |epoch, val_auc| EpochView {
            epoch,
            train_loss: 0.5,
            train_acc: 0.7,
            val_loss: 0.5,
            val_acc: 0.7,
            val_auc,
            lr: 1e-3,
            is_best: true,
        };
        r.apply(&FromWorker::Epoch(e(1, 0.8)), 1.0);
        r.apply(&FromWorker::Epoch(e(2, 0.85)), 2.0);
        assert_eq!(r.val_curve(), vec![(1.0, 0.8), (2.0, 0.85)]);
        assert!(bars(&[r.clone()]).iter().all(|b| b.reference), "no bar before the run is done");
        let d = DoneView {
            best_epoch: 2,
            val_auc: 0.85,
            test_auc: 0.9,
            test_acc: 0.87,
            confusion: [[1, 1], [1, 1]],
            roc: vec![],
            metrics_json: String::new(),
            result_files: vec![],
            worker_memory: 0,
            conv: None,
            model: None,
        };
        r.apply(&FromWorker::Done(d), 30.2);
        assert!(r.is_done() && r.is_finished());
        assert_eq!(r.test(), Some((0.9, 0.87)));
        assert_eq!(r.describe(), "done in 30 s");
        let b = bars(&[r]);
        assert_eq!(b[0], Bar { label: "reader recipe, fresh weights".into(), auc: 0.9, acc: 0.87, reference: false });
        assert_eq!(b.iter().filter(|b| b.reference).count(), 3);
        assert!(b.iter().any(|b| b.label == "ResNet-18 (28) (paper)" && b.auc == 0.901));
        let mut f = MethodRun::new(Method::Masked, 2);
        f.apply(&FromWorker::Failed(WorkerError::new(ErrorKind::Worker, "boom")), 0.0);
        assert_eq!(f.describe(), "failed: boom");
        assert!(f.is_finished() && !f.is_done());
    }

    #[test]
    fn the_served_starting_points_are_the_files_the_table_names() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/pretrained");
        for p in STARTING_POINTS {
            let bytes = std::fs::read(dir.join(p.file)).unwrap_or_else(|e| panic!("{}: {e}", p.file));
            assert_eq!(bytes.len() as u64, p.bytes, "{}: size", p.file);
            assert_eq!(breastmnist_data::md5_hex(&bytes), p.md5, "{}: MD5", p.file);
            assert_eq!(&bytes[..8], breastmnist_protocol::CHECKPOINT_MAGIC, "{}: a checkpoint", p.file);
        }
        let files = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "ckpt"))
            .count();
        assert_eq!(files, STARTING_POINTS.len(), "every served file is in the table");
    }

    #[test]
    fn the_shipped_native_report_reads_and_covers_two_models_and_every_method() {
        let lab = NativeLab::parse(NATIVE_LAB_JSON).unwrap();
        assert_eq!(lab.models().len(), 2, "two model sizes");
        assert_eq!(lab.seeds.len(), 3, "three seeds");
        for model in lab.models() {
            for m in Method::ALL {
                assert!(lab.rows.iter().any(|r| r.model == model && r.method == m.name()), "{model}: {} missing", m.name());
            }
        }
        for r in &lab.rows {
            assert!((0.0..=1.0).contains(&r.test_auc.mean), "{r:?}");
            let mean = r.runs.iter().map(|x| x.test_auc).sum::<f64>() / r.runs.len() as f64;
            assert!((mean - r.test_auc.mean).abs() < 1e-9, "the mean is the runs' mean");
        }
        let tasks: Vec<(&str, &str)> = lab.pretext.iter().map(|p| (p.model.as_str(), p.config.task.as_str())).collect();
        assert_eq!(tasks, [("c8", "contrastive"), ("c8", "masked"), ("c16", "contrastive"), ("c16", "masked")]);
        assert!(NativeLab::parse("{}").is_err());
        assert!(NativeLab::parse(&NATIVE_LAB_JSON.replacen("\"lab\"", "\"ensemble\"", 1)).is_err());
        assert_eq!((verdict(0.004), verdict(-0.02), verdict(0.015)), ("within noise", "worse", "better"));
        let s = Stat { mean: 0.9041, sd: 0.0 };
        assert_eq!((s.show(1), Stat { sd: 0.0123, ..s }.show(3)), ("0.904".to_string(), "0.904 ± 0.012".to_string()));
    }
}

//! The one boundary where the protocol's plain mirrors become the core's types and back:
//! a [`TrainRequest`] into a [`TrainConfig`], names into the core's enums, an epoch's metrics
//! into an [`EpochView`], a finished run into a [`DoneView`], the core's errors into a
//! [`WorkerError`] with a kind. Builds natively, so every conversion is unit-tested; the
//! matches are exhaustive both ways, so a model or stage added on either side fails to
//! compile here until it is mapped.
//!
//! It must not know about JavaScript, devices or the message loop.

use breastmnist_core::batch::Augmentation;
use breastmnist_core::evaluator::{self, Confusions};
use breastmnist_core::explain::Explanations;
use breastmnist_core::gradcam::GradCamError;
use breastmnist_core::lab::Method;
use breastmnist_core::model::conv_check::Settled;
use breastmnist_core::model::{ConvAlgo, ModelConfig, Resample, Stem};
use breastmnist_core::pretext::{PretextConfig, PretextError, Task};
use breastmnist_core::prototypes::{LooksLike, PrototypeError};
use breastmnist_core::result_file;
use breastmnist_core::torch::TorchError;
use breastmnist_core::train::{
    EpochMetrics, Preset, RunResult, Selection, TaskRun, TestReport, TrainConfig, TrainError, TrainFailure,
};
use breastmnist_core::{Environment, MetricsFile, ModelSize, Stage};
use breastmnist_data::{DataError, Dataset, DecodeOptions, Flag};
use breastmnist_protocol::{
    self as protocol, BackendKind, CertaintyView, ConvView, DataFile, DoneView, EpochView, ErrorKind, Explained, LooksLikeView,
    ModelKind, ModelView, PatchView, PretrainRequest, PrototypeView, ResultFileView, Split, TaskConfusion, TaskView,
    TrainRequest, WorkerError,
};

pub fn model_size(m: ModelKind) -> ModelSize {
    match m {
        ModelKind::Tiny => ModelSize::Tiny,
        ModelKind::Small => ModelSize::Small,
        ModelKind::Medium => ModelSize::Medium,
        ModelKind::Resnet18 => ModelSize::Resnet18,
        ModelKind::Resnet50 => ModelSize::Resnet50,
        ModelKind::C8 => ModelSize::C8,
        ModelKind::C16 => ModelSize::C16,
        ModelKind::C32 => ModelSize::C32,
        ModelKind::Lite0 => ModelSize::Lite0,
    }
}

/// The reverse of [`model_size`]; its exhaustive `match` is what makes a model added to the
/// core fail to build here until the protocol has it too.
pub fn model_kind(m: ModelSize) -> ModelKind {
    match m {
        ModelSize::Tiny => ModelKind::Tiny,
        ModelSize::Small => ModelKind::Small,
        ModelSize::Medium => ModelKind::Medium,
        ModelSize::Resnet18 => ModelKind::Resnet18,
        ModelSize::Resnet50 => ModelKind::Resnet50,
        ModelSize::C8 => ModelKind::C8,
        ModelSize::C16 => ModelKind::C16,
        ModelSize::C32 => ModelKind::C32,
        ModelSize::Lite0 => ModelKind::Lite0,
    }
}

pub fn stage(s: protocol::Stage) -> Stage {
    match s {
        protocol::Stage::Stem => Stage::Stem,
        protocol::Stage::Layer1 => Stage::Layer1,
        protocol::Stage::Layer2 => Stage::Layer2,
        protocol::Stage::Layer3 => Stage::Layer3,
        protocol::Stage::Layer4 => Stage::Layer4,
    }
}

pub fn stage_view(s: Stage) -> protocol::Stage {
    match s {
        Stage::Stem => protocol::Stage::Stem,
        Stage::Layer1 => protocol::Stage::Layer1,
        Stage::Layer2 => protocol::Stage::Layer2,
        Stage::Layer3 => protocol::Stage::Layer3,
        Stage::Layer4 => protocol::Stage::Layer4,
    }
}

/// The kind of a trainer error, and its message.
pub fn train_error(e: &TrainError) -> WorkerError {
    let kind = match e {
        TrainError::Config(_) | TrainError::Model(_) => ErrorKind::Settings,
        TrainError::Checkpoint(_)
        | TrainError::DataShape { .. }
        | TrainError::Classes { .. }
        | TrainError::Head { .. }
        | TrainError::State(_) => ErrorKind::Checkpoint,
        TrainError::Read(_) | TrainError::Eval(_) | TrainError::Prototype(_) => ErrorKind::Device,
        TrainError::Unlabeled => ErrorKind::Data,
        TrainError::Metrics(_) | TrainError::Evaluator(_) | TrainError::NotAtEpochBoundary | TrainError::NoModel => {
            ErrorKind::Worker
        }
    };
    WorkerError::new(kind, e.to_string())
}

/// A weight file that cannot become a checkpoint (format, names, shapes, classes).
pub fn weights_error(e: &TorchError) -> WorkerError {
    let kind = match e {
        TorchError::Read(_) => ErrorKind::Device,
        _ => ErrorKind::Checkpoint,
    };
    WorkerError::new(kind, e.to_string())
}

/// Why pretraining stopped.
pub fn pretext_error(e: &PretextError) -> WorkerError {
    let kind = match e {
        PretextError::Config(_) | PretextError::Setting(_) | PretextError::Model(_) | PretextError::Pool(_) => {
            ErrorKind::Settings
        }
        PretextError::Read(_) => ErrorKind::Device,
        PretextError::NonFinite { .. } => ErrorKind::Diverged,
        PretextError::Checkpoint(_) | PretextError::NoModel => ErrorKind::Worker,
    };
    WorkerError::new(kind, e.to_string())
}

/// The data crate's file for its wire name.
pub fn extra(e: protocol::ExtraFile) -> breastmnist_data::Extra {
    match e {
        protocol::ExtraFile::PneumoniaMnist => breastmnist_data::Extra::PneumoniaMnist,
        protocol::ExtraFile::RetinaMnist => breastmnist_data::Extra::RetinaMnist,
    }
}

/// The core's pretraining configuration for a request.
pub fn pretext_config(req: &PretrainRequest) -> PretextConfig {
    let task = match req.task {
        protocol::PretextTask::Contrastive => Task::Contrastive,
        protocol::PretextTask::Masked => Task::Masked,
    };
    PretextConfig::new(task, model_size(req.model)).with_epochs(req.epochs).with_batch_size(req.batch_size).with_seed(req.seed)
}

/// A run that ended early (non-finite numbers).
pub fn failure(f: &TrainFailure) -> WorkerError {
    WorkerError::new(ErrorKind::Diverged, f.to_string())
}

pub fn data_error(e: &DataError) -> WorkerError {
    WorkerError::new(ErrorKind::Data, e.to_string())
}

/// An explanation that could not be computed.
pub fn explain_error(e: &GradCamError) -> WorkerError {
    let kind = match e {
        GradCamError::Read(_) | GradCamError::NoGradient(_) | GradCamError::Eval(_) => ErrorKind::Device,
        _ => ErrorKind::Worker,
    };
    WorkerError::new(kind, e.to_string())
}

/// A split's explanations as the page receives them: the description, and the maps beside it.
pub fn explained(
    out: Explanations,
    split: Split,
    indices: Option<Vec<usize>>,
    backend: BackendKind,
    millis: f64,
) -> (Explained, Vec<u8>) {
    let k = out.num_classes.max(1);
    let view = Explained {
        split,
        stage: stage_view(out.stage),
        side: out.side,
        scores: out.probabilities.chunks(k).map(|row| row.get(1).copied().unwrap_or(f32::NAN)).collect(),
        millis,
        backend,
        classes: k,
        indices,
        probabilities: out.probabilities,
        prototypes: false,
    };
    (view, out.maps)
}

/// "This looks like that" for image `index` of `split`, as the page receives it.
pub fn looks_like(why: LooksLike, split: Split, index: usize) -> LooksLikeView {
    let matches = why
        .matches
        .into_iter()
        .map(|m| PrototypeView {
            prototype: m.prototype,
            class: m.class,
            similarity: m.similarity,
            weight: m.weight,
            contribution: m.contribution,
            map: m.map,
            source: m.source.map(|p| PatchView { index: p.index, row: p.row, col: p.col, distance: p.distance }),
        })
        .collect();
    LooksLikeView { split, index, class: why.class, map_side: why.map_side, cell: why.cell, matches }
}

/// Why a prototype explanation failed.
pub fn prototype_error(e: &PrototypeError) -> WorkerError {
    let kind = match e {
        PrototypeError::NoHead | PrototypeError::Class { .. } => ErrorKind::Worker,
        PrototypeError::Eval(_) => ErrorKind::Device,
    };
    WorkerError::new(kind, e.to_string())
}

fn augmentation(a: protocol::Augment) -> Augmentation {
    match a {
        protocol::Augment::None => Augmentation::None,
        protocol::Augment::Flip => Augmentation::Flip,
        protocol::Augment::Full => Augmentation::Full,
    }
}

fn selection(s: protocol::Selection) -> Selection {
    match s {
        protocol::Selection::BestValAuc => Selection::BestValAuc,
        protocol::Selection::Last => Selection::Last,
        protocol::Selection::EmaLast => Selection::EmaLast,
    }
}

/// The core's convolution algorithm for its wire name.
pub fn conv(c: protocol::Conv) -> ConvAlgo {
    match c {
        protocol::Conv::Direct => ConvAlgo::Direct,
        protocol::Conv::Gemm => ConvAlgo::Gemm,
    }
}

fn preset(p: protocol::Preset) -> Preset {
    match p {
        protocol::Preset::Paper => Preset::Paper,
        protocol::Preset::Reader => Preset::Reader,
        protocol::Preset::Best => Preset::Best,
    }
}

/// A fine-tuned checkpoint's architecture wins over the request's, except for the side the
/// images are seen at when the request names one: the served 64 px ImageNet start seen at
/// 128 px. Without one the checkpoint keeps its own (an imported run's resize included).
pub fn seen_as_asked(checkpoint: &mut ModelConfig, req: &TrainRequest, side: usize) {
    if let Some(r) = req.resize {
        checkpoint.resize = Some(r).filter(|&r| r != side);
    }
}

/// The core's configuration for a request (validated later, by the trainer).
pub fn config_of(req: &TrainRequest) -> TrainConfig {
    let mut config = TrainConfig::new()
        .with_model(model_size(req.model))
        .with_epochs(req.epochs)
        .with_batch_size(req.batch_size)
        .with_lr(req.lr)
        .with_seed(req.seed)
        .with_subset(req.subset)
        .with_augment(augmentation(req.augment))
        .with_mixup(req.mixup)
        .with_resize(req.resize)
        .with_selection(selection(req.selection))
        .with_tta(req.tta)
        .with_preset(req.preset.map(preset))
        .with_freeze_backbone(req.fine_tune && req.freeze_backbone)
        .with_conv(req.conv.map(conv))
        .with_prototypes(req.prototypes);
    // torchvision's stem as MedMNIST's 224 px rows use it: on the images upsampled to 224 px
    // with nearest neighbours (unless the request resizes otherwise).
    if req.stem == Some(protocol::Stem::Torchvision) {
        config = config.with_stem(Stem::Torchvision).with_resize(req.resize.or(Some(224))).with_resample(Resample::Nearest);
    }
    if let Some(d) = req.ema_decay {
        config.ema_decay = d;
    }
    match req.method {
        Some(m) => method(m).config(&config),
        None => config,
    }
}

/// The core's method for its wire name.
pub fn method(m: protocol::Method) -> Method {
    match m {
        protocol::Method::Base => Method::Base,
        protocol::Method::NoTta => Method::NoTta,
        protocol::Method::BestValAuc => Method::BestValAuc,
        protocol::Method::EmaLast => Method::EmaLast,
        protocol::Method::CurriculumEasy => Method::CurriculumEasy,
        protocol::Method::CurriculumHard => Method::CurriculumHard,
        protocol::Method::CurriculumRandom => Method::CurriculumRandom,
        protocol::Method::Transfer => Method::Transfer,
        protocol::Method::Contrastive => Method::Contrastive,
        protocol::Method::ContrastiveProbe => Method::ContrastiveProbe,
        protocol::Method::Masked => Method::Masked,
        protocol::Method::MaskedProbe => Method::MaskedProbe,
        protocol::Method::Ensemble => Method::Ensemble,
    }
}

pub fn epoch_view(m: &EpochMetrics) -> EpochView {
    EpochView {
        epoch: m.epoch,
        train_loss: m.train_loss,
        train_acc: m.train_acc,
        val_loss: m.val_loss,
        val_acc: m.val_acc,
        val_auc: m.val_auc,
        lr: m.lr,
        is_best: m.is_best,
    }
}

/// The page's summary of a finished run on `backend`/`adapter` whose convolutions ran as
/// `conv` says (recorded in the metrics JSON's environment).
pub fn done_view(result: &RunResult, backend: BackendKind, adapter: &str, conv: Settled, dataset: Option<DataFile>) -> DoneView {
    // A run on another MedMNIST set than BreastMNIST: its result files carry its flag, its
    // metrics JSON names it, and the page gets its task's figures (not BreastMNIST's malignant
    // sensitivity or twin-free subset).
    let other = dataset.map(|d| d.flag).filter(|&f| f != Flag::Breast);
    let labels: Vec<&str> = other.map_or_else(Vec::new, |f| f.entry().labels.to_vec());
    let environment = Environment::new(backend.name(), adapter).with_conv(conv);
    DoneView {
        best_epoch: result.best_epoch,
        val_auc: result.val.auc,
        test_auc: result.test.auc,
        test_acc: result.test.acc,
        confusion: result.test.confusion.0.map(|row| row.map(|v| v as usize)),
        roc: result.test.roc.iter().map(|p| (p.fpr, p.tpr)).collect(),
        metrics_json: MetricsFile::new(result, environment).with_dataset(result, other, &labels).to_json(),
        result_files: result_file::result_files_for(result, other.unwrap_or(Flag::Breast), &result_file::run_name(result))
            .into_iter()
            .map(|f| ResultFileView { name: f.name, contents: f.contents })
            .collect(),
        worker_memory: wasm_memory(),
        conv: Some(Box::new(conv_view(&conv))),
        model: Some(Box::new(model_view(&result.model))),
        certainty: if other.is_some() { None } else { certainty_view(&result.test).map(Box::new) },
        task: other.map(|flag| Box::new(task_view(result, flag))),
    }
}

/// The Evaluator's figures of a run on `flag`: from the run's k-class report, or for two
/// classes from its binary figures (where both classes' one-vs-rest AUC is the AUC).
pub fn task_view(result: &RunResult, flag: Flag) -> TaskView {
    let entry = flag.entry();
    let labels = entry.labels.iter().map(|l| l.to_string()).collect();
    match &result.task {
        Some(t) => TaskView {
            flag,
            task: entry.task,
            labels,
            val_auc: t.val.auc,
            val_acc: t.val.acc,
            test_auc: t.test.auc,
            test_acc: t.test.acc,
            per_class_auc: t.test.per_class_auc.clone(),
            // The bootstrap needs the labels: `with_task_interval`.
            auc_ci: None,
            resamples: 0,
            confusion: match &t.test.confusion {
                Confusions::Classes(m) => TaskConfusion::Classes(m.clone()),
                Confusions::PerLabel(m) => TaskConfusion::PerLabel(m.clone()),
            },
        },
        None => TaskView {
            flag,
            task: entry.task,
            labels,
            val_auc: result.val.auc,
            val_acc: result.val.acc,
            test_auc: result.test.auc,
            test_acc: result.test.acc,
            per_class_auc: vec![result.test.auc; 2],
            auc_ci: result.test.auc_ci.map(|ci| (ci.lo, ci.hi)),
            resamples: 0,
            confusion: TaskConfusion::Classes(result.test.confusion.0.iter().map(|r| r.to_vec()).collect()),
        },
    }
}

/// Work a bootstrap interval may take in a tab: resamples × images × classes.
const BOOTSTRAP_BUDGET: usize = 10_000_000;

/// Resamples of a bootstrap over `images` images of `classes` classes: min(2,000, budget ÷
/// (images × classes)), at least 100 (the worker computes it before it reports the run done).
pub fn resamples_for(images: usize, classes: usize) -> usize {
    (BOOTSTRAP_BUDGET / (images * classes).max(1)).clamp(100, 2_000)
}

/// Gives a k-class task view its test AUC's bootstrap interval (seeded, resampling the test
/// images of `data` within each class).
pub fn with_task_interval(view: &mut TaskView, run: &TaskRun, data: &Dataset) {
    let labels = &data.test.labels;
    let scores: Vec<f64> = run.test_probabilities.iter().map(|&p| f64::from(p)).collect();
    let resamples = resamples_for(data.test.len(), run.classes);
    let ci = evaluator::bootstrap_auc(run.task, data.targets, labels, &scores, run.classes, resamples, 0);
    view.auc_ci = ci.map(|c| (c.lo, c.hi));
    view.resamples = if ci.is_some() { resamples } else { 0 };
}

/// How the worker decodes the dataset bytes of a request: as the official file it names, or
/// as BreastMNIST.
pub fn decode_options(dataset: Option<DataFile>) -> DecodeOptions {
    dataset.map_or_else(DecodeOptions::default, |d| d.flag.entry().decode_options(d.size))
}

/// The test figures' intervals and de-duplicated subset, when the report has them.
pub fn certainty_view(t: &TestReport) -> Option<CertaintyView> {
    let (ci, rates, dedup) = (t.auc_ci?, t.malignant?, t.deduplicated.as_ref()?);
    Some(CertaintyView {
        auc_ci: (ci.lo, ci.hi),
        sensitivity: rates.sensitivity,
        specificity: rates.specificity,
        dedup_images: dedup.images,
        dedup_auc: dedup.auc,
        dedup_auc_ci: (dedup.auc_ci.lo, dedup.auc_ci.hi),
        dedup_acc: dedup.acc,
    })
}

/// The page's description of a model's architecture.
pub fn model_view(c: &ModelConfig) -> ModelView {
    ModelView {
        kind: model_kind(c.size),
        stem: match c.stem {
            Stem::Medmnist => protocol::Stem::Medmnist,
            Stem::Torchvision => protocol::Stem::Torchvision,
        },
        input_size: c.input_size,
        resize: c.resize,
        nearest: c.resample == Resample::Nearest,
        stage_sides: Stage::ALL.into_iter().map(|s| c.stage_side(s)).collect(),
    }
}

/// The page's summary of how the convolutions ran.
pub fn conv_view(s: &Settled) -> ConvView {
    ConvView {
        algo: match s.algo {
            ConvAlgo::Direct => protocol::Conv::Direct,
            ConvAlgo::Gemm => protocol::Conv::Gemm,
        },
        worst_difference: s.check.map(|c| c.worst()),
        fell_back: s.fell_back,
        race_ms: s.race.map(|r| (r.direct_ms, r.gemm_ms)),
    }
}

/// Bytes of this wasm instance's linear memory (0 natively).
fn wasm_memory() -> u64 {
    #[cfg(target_arch = "wasm32")]
    return core::arch::wasm32::memory_size(0) as u64 * 65536;
    #[cfg(not(target_arch = "wasm32"))]
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use breastmnist_core::evaluator::TaskMetrics;
    use breastmnist_core::metrics::{Confusion, Evaluation, RocPoint};
    use breastmnist_core::model::conv_check::{ConvCheck, RaceTimes};
    use breastmnist_core::train::{Prediction, TaskRun, TestReport};

    #[test]
    fn the_page_presets_are_the_core_presets() {
        for p in protocol::Preset::ALL {
            assert_eq!(config_of(&p.request()), preset(p).config(), "{}", p.name());
            let start = p.starts_from().map(|s| s.name());
            assert_eq!(start, preset(p).starts_from().map(|s| s.name()), "{}", p.name());
        }
        assert_eq!(protocol::StartingPoint::ALL.len(), breastmnist_core::train::StartingPoint::ALL.len());
        for (ours, core) in protocol::StartingPoint::ALL.into_iter().zip(breastmnist_core::train::StartingPoint::ALL) {
            assert_eq!(ours.name(), core.name());
        }
    }

    #[test]
    fn the_page_offers_grad_cam_at_the_stages_the_core_can_explain() {
        // The page's rule (`ModelView::explains`, on the sides sent here) and the core's
        // (`ModelConfig::cam_stage`, which `gradcam` enforces) agree for every model and side.
        for size in ModelSize::ALL {
            for (side, resize) in [(28, None), (28, Some(64)), (64, None), (64, Some(128)), (128, None)] {
                let c = ModelConfig::of(size).with_input_size(side).with_resize(resize);
                let v = model_view(&c);
                assert_eq!(v.stage_sides.len(), Stage::ALL.len());
                for s in protocol::Stage::GRADCAM {
                    let core = stage(s);
                    assert_eq!(v.stage_side(s), Some(c.stage_side(core)), "{size} at {side}/{resize:?}: {s}");
                    assert_eq!(v.explains(s), c.cam_stage(core) == core, "{size} at {side}/{resize:?}: {s}");
                }
                assert_eq!(stage(v.cam_stage()), c.cam_stage(Stage::Layer4), "{size} at {side}/{resize:?}");
            }
        }
        let lite0 = model_view(&ModelConfig::of(ModelSize::Lite0));
        assert_eq!((lite0.stage_side(protocol::Stage::Layer4), lite0.cam_stage()), (Some(1), protocol::Stage::Layer3));
        let c16 = model_view(&ModelConfig::of(ModelSize::C16));
        assert_eq!((c16.stage_side(protocol::Stage::Layer4), c16.cam_stage()), (Some(3), protocol::Stage::Layer4));
    }

    #[test]
    fn a_fine_tuned_checkpoint_is_seen_at_the_side_the_request_names_else_at_its_own() {
        let lite0 = || ModelConfig::of(ModelSize::Lite0).with_input_size(64);
        let mut req = protocol::Preset::Reader.request();
        req.resize = Some(128);
        let mut c = lite0();
        seen_as_asked(&mut c, &req, 64);
        assert_eq!((c.input_size, c.resize), (64, Some(128)), "the 64 px start seen at 128 px");
        req.resize = Some(64);
        seen_as_asked(&mut c, &req, 64);
        assert_eq!(c.resize, None, "its own side is no resize");
        req.resize = None;
        let mut kept = lite0().with_resize(Some(96));
        seen_as_asked(&mut kept, &req, 64);
        assert_eq!(kept.resize, Some(96), "without a side asked, the checkpoint's own");
    }

    #[test]
    fn every_request_field_reaches_the_config() {
        let mut req = protocol::Preset::Best.request();
        req.model = ModelKind::Tiny;
        req.seed = 9;
        req.subset = Some(64);
        req.mixup = Some(0.2);
        req.ema_decay = Some(0.9);
        req.augment = protocol::Augment::Full;
        req.fine_tune = true;
        req.freeze_backbone = true;
        let c = config_of(&req);
        assert_eq!((c.model, c.seed, c.subset, c.mixup, c.ema_decay), (ModelSize::Tiny, 9, Some(64), Some(0.2), 0.9));
        assert_eq!((c.augment, c.selection, c.tta, c.freeze_backbone), (Augmentation::Full, Selection::EmaLast, true, true));
        req.fine_tune = false;
        assert!(!config_of(&req).freeze_backbone, "freezing only applies to fine-tuning");
        assert_eq!((c.stem, c.resize, c.resample), (Stem::Medmnist, None, Resample::Bilinear));
        // torchvision's stem comes with MedMNIST's 224 px upsampling, unless a resize is asked.
        req.stem = Some(protocol::Stem::Torchvision);
        let c = config_of(&req);
        assert_eq!((c.stem, c.resize, c.resample), (Stem::Torchvision, Some(224), Resample::Nearest));
        req.resize = Some(112);
        assert_eq!(config_of(&req).resize, Some(112));
        req.stem = Some(protocol::Stem::Medmnist);
        assert_eq!(config_of(&req).stem, Stem::Medmnist);
        assert_eq!(config_of(&req).prototypes, None);
        req.prototypes = Some(10);
        assert_eq!(config_of(&req).prototypes, Some(10));
        for a in protocol::Augment::ALL {
            assert_eq!(augmentation(a).name(), a.name());
        }
        for s in protocol::Selection::ALL {
            assert_eq!(selection(s).name(), s.name());
        }
    }

    #[test]
    fn a_pretrain_request_becomes_the_core_configuration() {
        let req = PretrainRequest {
            task: protocol::PretextTask::Masked,
            model: ModelKind::C8,
            epochs: 3,
            batch_size: 64,
            seed: 5,
            backend: protocol::BackendChoice::Cpu,
            extra: vec![protocol::ExtraFile::RetinaMnist],
        };
        let c = pretext_config(&req);
        assert_eq!((c.task, c.model, c.epochs, c.batch_size, c.seed), (Task::Masked, ModelSize::C8, 3, 64, 5));
        for t in protocol::PretextTask::ALL {
            assert_eq!(pretext_config(&PretrainRequest { task: t, ..req.clone() }).task.name(), t.name());
        }
        for e in protocol::ExtraFile::ALL {
            assert_eq!(extra(e).file_name(), format!("{}.npz", e.name()));
        }
        let e = pretext_error(&PretextError::NonFinite { epoch: 1, step: 2, value: "NaN".into() });
        assert_eq!(e.kind, ErrorKind::Diverged);
    }

    #[test]
    fn a_method_is_the_core_method_applied_to_the_request() {
        let base = protocol::Preset::Reader.request();
        for m in protocol::Method::ALL {
            assert_eq!(method(m).name(), m.name());
            let req = TrainRequest { method: Some(m), ..base.clone() };
            assert_eq!(config_of(&req), method(m).config(&config_of(&base)), "{}", m.name());
        }
        let hard = config_of(&TrainRequest { method: Some(protocol::Method::CurriculumHard), ..base.clone() });
        assert!(hard.curriculum.is_some());
        let probe = config_of(&TrainRequest { method: Some(protocol::Method::MaskedProbe), ..base });
        assert!(probe.linear_probe);
    }

    /// A finished binary run of one epoch (`m`) whose test figures are AUC 0.91, ACC 0.897.
    fn binary_result(m: EpochMetrics) -> RunResult {
        let confusion = Confusion([[30, 12], [4, 110]]);
        RunResult {
            config: TrainConfig::new(),
            model: ModelConfig::new(),
            history: vec![m],
            val_predictions: Vec::new(),
            task: None,
            best_epoch: 3,
            val: Evaluation { auc: 0.9, acc: 0.8, confusion },
            test: TestReport {
                auc: 0.91,
                acc: 0.897,
                confusion,
                roc: vec![RocPoint { fpr: 0.0, tpr: 0.0, threshold: 1.0 }, RocPoint { fpr: 1.0, tpr: 1.0, threshold: 0.0 }],
                predictions: vec![Prediction { index: 0, label: 1, score: 0.7 }],
                auc_ci: None,
                malignant: None,
                deduplicated: None,
            },
        }
    }

    #[test]
    fn a_run_on_another_dataset_carries_its_task_flag_and_labels() {
        let m = EpochMetrics {
            epoch: 1,
            train_loss: 0.5,
            train_acc: 0.7,
            val_loss: 0.5,
            val_acc: 0.8,
            val_auc: 0.9,
            lr: 1e-3,
            is_best: true,
        };
        // Two classes (PneumoniaMNIST): the binary figures as the task's, both classes' AUC alike.
        let pneumonia = Some(DataFile { flag: Flag::Pneumonia, size: protocol::Size::Px28 });
        let d = done_view(&binary_result(m.clone()), BackendKind::Cpu, "flex", Settled::unchecked(ConvAlgo::Direct), pneumonia);
        let t = d.task.as_deref().expect("a task view");
        assert_eq!(
            (t.flag, t.task, t.labels.clone()),
            (Flag::Pneumonia, protocol::Task::Binary, vec!["normal".to_string(), "pneumonia".into()])
        );
        assert_eq!((t.test_auc, t.test_acc, t.per_class_auc.clone()), (0.91, 0.897, vec![0.91, 0.91]));
        assert_eq!(t.confusion, TaskConfusion::Classes(vec![vec![30, 12], vec![4, 110]]));
        assert!(d.certainty.is_none(), "BreastMNIST's malignant rates and twins are not another set's");
        assert!(d.result_files.iter().all(|f| f.name.starts_with("pneumoniamnist_")), "{:?}", d.result_files);
        // Five grades (RetinaMNIST): the Evaluator's report, named as the dataset's task.
        let metrics = |auc: f64| TaskMetrics {
            task: breastmnist_data::Task::MultiClass,
            auc,
            acc: 0.5,
            per_class_auc: vec![0.9, 0.8, 0.7, 0.6, 0.5],
            confusion: Confusions::Classes(vec![vec![1, 0, 0, 0, 0]; 5]),
        };
        let mut retina = binary_result(m.clone());
        retina.task = Some(TaskRun {
            task: breastmnist_data::Task::MultiClass,
            classes: 5,
            val: metrics(0.75),
            test: metrics(0.7),
            val_probabilities: vec![0.2; 5],
            test_probabilities: vec![0.2; 5],
        });
        let file = Some(DataFile { flag: Flag::Retina, size: protocol::Size::Px28 });
        let d = done_view(&retina, BackendKind::Cpu, "flex", Settled::unchecked(ConvAlgo::Direct), file);
        let t = d.task.as_deref().expect("a task view");
        assert_eq!((t.val_auc, t.test_auc, t.per_class_auc.len(), t.labels.len()), (0.75, 0.7, 5, 5));
        assert!(matches!(&t.confusion, TaskConfusion::Classes(m) if m.len() == 5));
        let json: serde_json::Value = serde_json::from_str(&d.metrics_json).unwrap();
        assert_eq!((json["schema_version"].as_u64(), json["dataset"]["flag"].as_str()), (Some(2), Some("retinamnist")));
        assert!(d.result_files.iter().all(|f| f.name.starts_with("retinamnist_")), "{:?}", d.result_files);
        // The bootstrap interval from the test labels: perfect scores give [1, 1] with 2,000
        // resamples; scores that ignore the image, an interval around 0.5.
        let spec = breastmnist_data::synthetic::Spec {
            task: breastmnist_data::Task::Ordinal,
            classes: 5,
            channels: 3,
            side: 8,
            splits: [10, 10, 20],
            seed: 1,
        };
        let options =
            DecodeOptions { split_sizes: None, side: None, ..Flag::Retina.entry().decode_options(protocol::Size::Px28) };
        let data = breastmnist_data::decode_npz(&breastmnist_data::synthetic::npz(&spec), &options).unwrap();
        let one_hot: Vec<f32> = data.test.labels.iter().flat_map(|&l| (0..5).map(move |c| f32::from(u8::from(c == l)))).collect();
        let mut run = retina.task.clone().unwrap();
        run.test_probabilities = one_hot;
        let mut view = d.task.as_deref().unwrap().clone();
        with_task_interval(&mut view, &run, &data);
        assert_eq!((view.auc_ci, view.resamples), (Some((1.0, 1.0)), 2_000));
        run.test_probabilities = vec![0.2; 100];
        with_task_interval(&mut view, &run, &data);
        let (lo, hi) = view.auc_ci.unwrap();
        assert!(lo <= 0.5 && hi >= 0.5, "{lo}..{hi}");
        assert_eq!(resamples_for(400, 5), 2_000);
        assert_eq!(resamples_for(17_778, 11), 100, "OrganAMNIST's test split: the floor");
        assert_eq!(resamples_for(2_005, 7), 712);
        // BreastMNIST's own runs are unchanged: no task view, their certainty kept.
        let breast = done_view(&binary_result(m.clone()), BackendKind::Cpu, "flex", Settled::unchecked(ConvAlgo::Direct), None);
        assert!(breast.task.is_none());
        assert!(breast.result_files.iter().all(|f| f.name.starts_with("breastmnist_")), "{:?}", breast.result_files);
        assert!(decode_options(None) == DecodeOptions::default() && decode_options(file).split_sizes == Some([1080, 120, 400]));
    }

    #[test]
    fn views_carry_the_core_values() {
        let m = EpochMetrics {
            epoch: 3,
            train_loss: 0.5,
            train_acc: 0.75,
            val_loss: 0.4,
            val_acc: 0.8,
            val_auc: 0.9,
            lr: 1e-4,
            is_best: true,
        };
        let v = epoch_view(&m);
        assert_eq!(
            (v.epoch, v.train_loss, v.train_acc, v.val_loss, v.val_acc, v.val_auc, v.lr, v.is_best),
            (3, 0.5, 0.75, 0.4, 0.8, 0.9, 1e-4, true)
        );
        let result = binary_result(m);
        let check = ConvCheck { forward: 1e-7, input_grad: 2e-7, weight_grad: 3e-7 };
        let d = done_view(
            &result,
            BackendKind::Cpu,
            "flex",
            Settled {
                algo: ConvAlgo::Gemm,
                check: Some(check),
                fell_back: false,
                race: Some(RaceTimes { direct_ms: 9.0, gemm_ms: 3.0 }),
            },
            None,
        );
        assert_eq!((d.best_epoch, d.val_auc, d.test_auc, d.test_acc), (3, 0.9, 0.91, 0.897));
        assert_eq!(d.confusion, [[30, 12], [4, 110]]);
        assert_eq!(d.roc, vec![(0.0, 0.0), (1.0, 1.0)]);
        let model = ModelView {
            kind: ModelKind::Resnet18,
            stem: protocol::Stem::Medmnist,
            input_size: 28,
            resize: None,
            nearest: false,
            stage_sides: vec![28, 28, 14, 7, 4],
        };
        assert_eq!(d.model.as_deref(), Some(&model));
        let wide = ModelConfig::of(ModelSize::Resnet50)
            .with_stem(Stem::Torchvision)
            .with_resize(Some(224))
            .with_resample(Resample::Nearest);
        let v = model_view(&wide);
        assert_eq!((v.kind, v.stem, v.resize, v.nearest), (ModelKind::Resnet50, protocol::Stem::Torchvision, Some(224), true));
        let json: serde_json::Value = serde_json::from_str(&d.metrics_json).unwrap();
        assert_eq!((json["environment"]["backend"].as_str(), json["test"]["auc"].as_f64()), (Some("cpu"), Some(0.91)));
        assert_eq!(json["environment"]["conv"]["algo"], "gemm");
        assert_eq!(json["environment"]["conv"]["check"]["weight_grad"], 3e-7);
        assert_eq!(json["environment"]["conv"]["race"]["gemm_ms"], 3.0);
        let c = d.conv.unwrap();
        assert_eq!(
            (c.algo, c.worst_difference, c.fell_back, c.race_ms),
            (protocol::Conv::Gemm, Some(3e-7), false, Some((9.0, 3.0)))
        );
        // No val predictions in this result: only the test file, named with the run's metrics.
        assert_eq!(d.result_files.len(), 1);
        assert_eq!(d.result_files[0].split(), Some(Split::Test));
        assert!(d.result_files[0].name.contains("[AUC]0.910_[ACC]0.897"), "{}", d.result_files[0].name);
        assert_eq!(d.result_files[0].contents.lines().count(), 1);
    }

    #[test]
    fn names_map_both_ways_onto_the_core() {
        assert_eq!(protocol::Conv::ALL.map(conv), ConvAlgo::ALL, "same members, same order");
        for c in protocol::Conv::ALL {
            assert_eq!(conv(c).name(), c.name());
        }
        for m in ModelKind::ALL {
            assert_eq!(model_kind(model_size(m)), m);
            assert_eq!(model_size(m).name(), m.name(), "the wire name is the core's name");
        }
        assert_eq!(ModelSize::ALL.map(model_kind), ModelKind::ALL, "same members, same order");
        for s in protocol::Stage::ALL {
            assert_eq!(stage_view(stage(s)), s);
            assert_eq!(stage(s).name(), s.name());
        }
        assert_eq!(Stage::ALL.map(stage_view), protocol::Stage::ALL);
        assert_eq!(
            &protocol::CHECKPOINT_MAGIC,
            &breastmnist_core::checkpoint::MAGIC,
            "the page's quick check is the core's magic"
        );
    }

    #[test]
    fn errors_get_the_kind_the_page_acts_on() {
        use breastmnist_core::CheckpointError;
        use breastmnist_core::read::ReadError;
        let kind = |e: TrainError| train_error(&e).kind;
        assert_eq!(kind(TrainError::Read(ReadError("device lost".into()))), ErrorKind::Device);
        assert_eq!(kind(TrainError::Checkpoint(CheckpointError::Magic)), ErrorKind::Checkpoint);
        assert_eq!(kind(TrainError::Classes { got: 3, expected: 2 }), ErrorKind::Checkpoint);
        let bad = TrainConfig::new().with_epochs(0).validate(546).unwrap_err();
        assert_eq!(kind(TrainError::Config(bad.clone())), ErrorKind::Settings);
        assert_eq!(train_error(&TrainError::Config(bad.clone())).message, TrainError::Config(bad).to_string());
        let nan = TrainFailure::NonFiniteOutput { epoch: 2 };
        assert_eq!(failure(&nan).kind, ErrorKind::Diverged);
        assert_eq!(explain_error(&GradCamError::Read(ReadError("x".into()))).kind, ErrorKind::Device);
        assert_eq!(explain_error(&GradCamError::Count { images: 1, classes: 2 }).kind, ErrorKind::Worker);
        let data = breastmnist_data::decode_npz(b"not a zip", &Default::default()).unwrap_err();
        assert_eq!(data_error(&data).kind, ErrorKind::Data);
    }

    #[test]
    fn explanations_keep_the_maps_layout_the_protocol_reads() {
        let out = Explanations {
            side: 2,
            num_classes: 2,
            stage: Stage::Layer3,
            probabilities: vec![0.8, 0.2, 0.3, 0.7],
            maps: (0..16).collect(),
        };
        let core_maps: Vec<Vec<u8>> =
            (0..2).flat_map(|i| (0..2).map(move |c| (i, c))).map(|(i, c)| out.map(i, c).to_vec()).collect();
        let (view, maps) = explained(out, Split::Test, None, BackendKind::Cpu, 5.0);
        assert_eq!(
            (view.split, view.stage, view.side, view.scores.clone()),
            (Split::Test, protocol::Stage::Layer3, 2, vec![0.2, 0.7])
        );
        for i in 0..2 {
            for c in 0..2 {
                assert_eq!(view.map(&maps, i, c).unwrap(), &core_maps[i * 2 + c][..], "image {i} class {c}");
            }
        }
        // Three classes, two images asked by index: each image's three maps and probabilities.
        let three = Explanations {
            side: 1,
            num_classes: 3,
            stage: Stage::Layer4,
            probabilities: vec![0.1, 0.2, 0.7, 0.6, 0.3, 0.1],
            maps: vec![10, 11, 12, 20, 21, 22],
        };
        let (view, maps) = explained(three, Split::Test, Some(vec![9, 4]), BackendKind::Cpu, 1.0);
        assert_eq!((view.classes, view.indices.clone(), view.maps_len()), (3, Some(vec![9, 4]), 6));
        assert_eq!((view.map(&maps, 1, 2), view.probabilities_of(1)), (Some(&[22][..]), &[0.6, 0.3, 0.1][..]));
    }
}

//! The methods lab as plain data: which methods the tab offers and what each is, the request
//! each sends (the `reader` recipe with the method applied by the core in the worker) and the
//! served starting point it needs. Its parts: `runs` (the fold of worker reports into one run
//! per method, and the bars), `pretext` (pretraining in the tab) and `native` (the mirror of
//! `breastmnist lab`'s report, which the article renders).
//!
//! No signals and no DOM, so every rule is tested natively.

pub mod native;
pub mod pretext;
pub mod runs;

use breastmnist_protocol::{BackendChoice, Method, ModelKind, Preset, PretextTask, StartingPoint, TrainRequest};

pub use native::{NATIVE_LAB_JSON, NativeLab, verdict};
pub use pretext::{PretextRun, TabEncoder, extra_file, extra_label, pretrain_request};
pub use runs::{Bar, MethodRun, Status, bars};

use crate::view::served::ServedPoint;

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
        Method::Contrastive => "SimCLR pretraining, fine-tuned",
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::served::STARTING_POINTS;

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
            for kind in StartingPoint::ALL.into_iter().filter(|&k| k != StartingPoint::Imagenet) {
                assert_eq!(STARTING_POINTS.iter().filter(|p| p.model == model && p.kind == kind).count(), 1);
                assert_eq!(ServedPoint::find(model, kind).unwrap().file, format!("{model}-{kind}.ckpt"));
            }
        }
        assert_eq!(starting_point(Method::MaskedProbe, ModelKind::C16).unwrap().url(), "pretrained/c16-masked.ckpt");
        assert!(starting_point(Method::Transfer, ModelKind::Tiny).is_none());
        assert!(ServedPoint::find(ModelKind::Resnet18, StartingPoint::Contrastive).is_none());
        assert_eq!(ServedPoint::find(ModelKind::Lite0, StartingPoint::Imagenet).unwrap().url(), "pretrained/lite0-imagenet.ckpt");
        assert!(ServedPoint::find(ModelKind::C16, StartingPoint::Imagenet).is_none(), "ImageNet's start is Lite0's only");
    }
}

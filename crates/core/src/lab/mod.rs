//! The methods lab: named training methods on top of one base recipe, run for several seeds and
//! summarised as mean ± sample standard deviation, in a document (`lab.json`) that the CLI
//! writes (`breastmnist lab`).
//!
//! It owns what each method changes in the recipe and the report's layout; callers run the
//! trainers (and the pretraining a transfer method needs) and hand the results in. It must not
//! know about files, progress bars or the browser.

use serde::{Deserialize, Serialize};

mod compare;

pub use compare::{Labels, TaskLabels, compare_to_base, interval_rows, resamples_for};

use crate::evaluator::TaskMetrics;
use crate::metrics::Evaluation;
use crate::pretext::{PretextConfig, Task};
use crate::stats::{Difference, Interval};
use crate::train::{Curriculum, Order, Prediction, RunResult, Selection, TestReport, TrainConfig};

breastmnist_data::names! {
    /// A method, applied to a base recipe.
    pub Method ("method") {
        /// The base recipe as it is.
        Base => "base",
        /// Without flip test-time augmentation.
        NoTta => "no-tta",
        /// Keep the epoch with the best validation AUC (the paper's rule).
        BestValAuc => "best-val-auc",
        /// Keep a moving average of the weights, read at the last epoch.
        EmaLast => "ema-last",
        /// Curriculum: easiest 40 % first, all images from half-way.
        CurriculumEasy => "curriculum-easy",
        /// Anti-curriculum: hardest 40 % first.
        CurriculumHard => "curriculum-hard",
        /// The control: a random 40 %, growing as the curriculum does.
        CurriculumRandom => "curriculum-random",
        /// Supervised pretraining on another MedMNIST file, then the base recipe from its weights.
        Transfer => "transfer",
        /// SimCLR pretraining on the unlabeled pool, then the base recipe from its encoder.
        Contrastive => "contrastive",
        /// SimCLR pretraining, then a linear probe: only the classifier trains (lr 1e-2).
        ContrastiveProbe => "contrastive-probe",
        /// Masked-image reconstruction pretraining, then the base recipe from its encoder.
        Masked => "masked",
        /// Masked-image reconstruction pretraining, then a linear probe (lr 1e-2).
        MaskedProbe => "masked-probe",
        /// The mean probability of the base recipe's models over all seeds (no training of its own).
        Ensemble => "ensemble",
        /// EfficientNet-Lite0 (`lite0` only) fine-tuned from its ImageNet weights: the generic
        /// starting point (`base` on `lite0` is the same network from fresh weights).
        Imagenet => "imagenet",
        /// The ImageNet features frozen, a linear probe (lr 1e-2).
        ImagenetProbe => "imagenet-probe",
        /// Interpretable by design: a ProtoPNet prototype head (10 prototypes per class,
        /// projected onto training patches after every epoch) instead of the linear classifier;
        /// the plain CNNs only.
        Prototypes => "prototypes",
        /// GAN-based augmentation: a class-conditional DCGAN trained on the training images
        /// (each seed its own), its samples added to the training split (28 px gray data).
        GanAug => "gan-aug",
        /// Mixup (Zhang et al., 2018) at alpha 0.2: the augmentation `gan-aug` is measured beside.
        Mixup => "mixup",
    }
}

/// Mixup's alpha in the `mixup` method (the value Zhang et al. found good on ImageNet).
pub const MIXUP_ALPHA: f64 = 0.2;

/// Prototypes per class of the `prototypes` method (ProtoPNet's 10).
pub const PROTOTYPES_PER_CLASS: usize = 10;

impl Method {
    /// The self-supervised task whose encoder this method starts from, if any.
    pub fn pretext(self) -> Option<Task> {
        match self {
            Method::Contrastive | Method::ContrastiveProbe => Some(Task::Contrastive),
            Method::Masked | Method::MaskedProbe => Some(Task::Masked),
            _ => None,
        }
    }

    /// Whether this method starts from ImageNet's weights (EfficientNet-Lite0 only).
    pub fn imagenet(self) -> bool {
        matches!(self, Method::Imagenet | Method::ImagenetProbe)
    }

    /// Whether a run of this method can be taken from an earlier report (`lab --reuse`): its
    /// row records its recipe, and it starts from fresh weights or from ImageNet's (whose file
    /// the report names by MD5, which must match). Not so for the methods that
    /// start from something the lab itself trains (the pretrained network of `transfer`, the
    /// self-supervised encoders, `gan-aug`'s GAN), nor for `ensemble`, made of base models.
    pub fn reusable(self) -> bool {
        self != Method::Transfer && self != Method::GanAug && self != Method::Ensemble && self.pretext().is_none()
    }

    /// Whether `model` can run this method (the ImageNet methods need lite0, a prototype head
    /// a plain CNN).
    pub fn runs_on(self, model: crate::model::ModelSize) -> bool {
        use crate::model::{Family, ModelSize};
        match self {
            Method::Imagenet | Method::ImagenetProbe => model == ModelSize::Lite0,
            Method::Prototypes => model.family() == Family::Cnn,
            _ => true,
        }
    }

    /// The recipe this method trains, from `base` (for `transfer`, the self-supervised
    /// methods and `ensemble`: the base recipe, or a linear probe of it; the caller adds the
    /// pretrained weights or combines the base models).
    pub fn config(self, base: &TrainConfig) -> TrainConfig {
        let c = base.clone();
        let paced = |order| Some(Curriculum::new(order, (base.epochs / 2).max(2)));
        match self {
            Method::Base
            | Method::Transfer
            | Method::Contrastive
            | Method::Masked
            | Method::Ensemble
            | Method::Imagenet
            | Method::GanAug => c,
            Method::ContrastiveProbe | Method::MaskedProbe | Method::ImagenetProbe => c.with_linear_probe(true).with_lr(1e-2),
            Method::NoTta => c.with_tta(false),
            Method::BestValAuc => c.with_selection(Selection::BestValAuc),
            Method::EmaLast => c.with_selection(Selection::EmaLast),
            Method::CurriculumEasy => c.with_curriculum(paced(Order::EasyFirst)),
            Method::CurriculumHard => c.with_curriculum(paced(Order::HardFirst)),
            Method::CurriculumRandom => c.with_curriculum(paced(Order::Random)),
            Method::Prototypes => c.with_prototypes(Some(PROTOTYPES_PER_CLASS)),
            Method::Mixup => TrainConfig { mixup: Some(MIXUP_ALPHA), ..c },
        }
    }
}

/// One run of a method.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabRun {
    /// The seed (for `ensemble`: the number of members).
    pub seed: u64,
    pub val_auc: f64,
    #[serde(default)]
    pub val_acc: f64,
    pub test_auc: f64,
    pub test_acc: f64,
    /// The same model on the de-duplicated test subset (the test images without a training
    /// twin, `breastmnist_data::audit`). Absent in reports written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup_test_auc: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup_test_acc: Option<f64>,
    /// Wall-clock seconds of training and evaluation.
    pub seconds: f64,
    /// Every validation and test image's scores, for the paired comparisons: the label-1 score
    /// for two classes, else the `k` probabilities. Written, so that a run can be paired with
    /// one in another report over the same images; absent in reports written before that.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scores: Option<Scores>,
    /// The report this run was taken from (`lab --reuse`); absent for a run this lab trained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

/// A run's scores, in split order: one label-1 score per image for two classes, else `k`
/// probabilities per image.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct Scores {
    pub val: Vec<f64>,
    pub test: Vec<f64>,
}

impl LabRun {
    /// The run of `seed` with `result`, taking `seconds`.
    pub fn of(seed: u64, result: &RunResult, seconds: f64) -> LabRun {
        match &result.task {
            Some(t) => LabRun::from_task(seed, &t.val, &t.test, &t.val_probabilities, &t.test_probabilities, seconds),
            None => LabRun::from_parts(seed, &result.val, &result.val_predictions, &result.test, seconds),
        }
    }

    /// The run of `seed` on data other than two classes: the Evaluator's figures on validation
    /// and test and every image's `k` probabilities.
    pub fn from_task(
        seed: u64,
        val: &TaskMetrics,
        test: &TaskMetrics,
        val_probabilities: &[f32],
        test_probabilities: &[f32],
        seconds: f64,
    ) -> LabRun {
        let wide = |p: &[f32]| p.iter().map(|&x| f64::from(x)).collect();
        LabRun {
            seed,
            val_auc: val.auc,
            val_acc: val.acc,
            test_auc: test.auc,
            test_acc: test.acc,
            dedup_test_auc: None,
            dedup_test_acc: None,
            seconds,
            scores: Some(Scores { val: wide(val_probabilities), test: wide(test_probabilities) }),
            from: None,
        }
    }

    /// The run of `seed` from its validation metrics and predictions and its test report (an
    /// ensemble has no [`RunResult`]).
    pub fn from_parts(seed: u64, val: &Evaluation, val_predictions: &[Prediction], test: &TestReport, seconds: f64) -> LabRun {
        let dedup = test.deduplicated.as_ref();
        LabRun {
            seed,
            val_auc: val.auc,
            val_acc: val.acc,
            test_auc: test.auc,
            test_acc: test.acc,
            dedup_test_auc: dedup.map(|d| d.auc),
            dedup_test_acc: dedup.map(|d| d.acc),
            seconds,
            scores: Some(Scores {
                val: val_predictions.iter().map(|p| p.score).collect(),
                test: test.predictions.iter().map(|p| p.score).collect(),
            }),
            from: None,
        }
    }
}

/// A method's runs on one model and their summary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabRow {
    pub method: Method,
    pub model: String,
    /// The exact recipe (with the seed of the first run), so the row can be reproduced.
    pub config: TrainConfig,
    pub runs: Vec<LabRun>,
    /// The validation figures: what a choice made without test may read.
    #[serde(default = "Summary::unknown")]
    pub val_auc: Summary,
    pub test_auc: Summary,
    pub test_acc: Summary,
    /// Test AUC and ACC on the de-duplicated test subset. Absent in older reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup_test_auc: Option<Summary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup_test_acc: Option<Summary>,
    /// 95% intervals of the row's mean test AUC and mean test ACC over its runs: a seeded
    /// bootstrap resampling the test images ([`resamples_for`]: 2,000 but for large sets; each
    /// resample scores every run).
    /// Absent in older reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_auc_ci: Option<Interval>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_acc_ci: Option<Interval>,
    /// The difference to its model's `base` row, with paired bootstrap intervals over the
    /// images (absent for `base` itself, and in older reports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versus_base: Option<Versus>,
}

/// A row's mean AUC minus its model's `base` row's, on validation, test and the de-duplicated
/// test subset, each with a paired bootstrap 95% interval (resampling the images; both rows'
/// runs scored on every resample).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Versus {
    pub val: Difference,
    pub test: Difference,
    pub dedup_test: Option<Difference>,
}

/// Mean and sample standard deviation (0 for a single value).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub mean: f64,
    pub sd: f64,
}

impl Summary {
    /// Not measured (a report written before the field existed).
    pub fn unknown() -> Summary {
        Summary { mean: f64::NAN, sd: f64::NAN }
    }

    pub fn of(values: &[f64]) -> Summary {
        let n = values.len();
        if n == 0 {
            return Summary { mean: f64::NAN, sd: f64::NAN };
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let sd = if n < 2 { 0.0 } else { (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt() };
        Summary { mean, sd }
    }
}

impl LabRow {
    pub fn new(method: Method, model: &str, config: TrainConfig, runs: Vec<LabRun>) -> LabRow {
        let of = |f: fn(&LabRun) -> f64| Summary::of(&runs.iter().map(f).collect::<Vec<_>>());
        let of_opt = |f: fn(&LabRun) -> Option<f64>| runs.iter().map(f).collect::<Option<Vec<f64>>>().map(|v| Summary::of(&v));
        LabRow {
            method,
            model: model.to_string(),
            config,
            val_auc: of(|r| r.val_auc),
            test_auc: of(|r| r.test_auc),
            test_acc: of(|r| r.test_acc),
            dedup_test_auc: of_opt(|r| r.dedup_test_auc),
            dedup_test_acc: of_opt(|r| r.dedup_test_acc),
            test_auc_ci: None,
            test_acc_ci: None,
            versus_base: None,
            runs,
        }
    }

    fn scores(&self, split: fn(&Scores) -> &Vec<f64>) -> Option<Vec<Vec<f64>>> {
        self.runs.iter().map(|r| r.scores.as_ref().map(|s| split(s).clone())).collect()
    }
}

/// One self-supervised pretraining run of the lab.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PretextRow {
    pub model: String,
    pub config: PretextConfig,
    /// The files read and the pool's size (BreastMNIST's training split, other files whole).
    pub sources: Vec<String>,
    pub images: usize,
    /// The pretext loss after each epoch.
    pub losses: Vec<f64>,
    pub seconds: f64,
}

/// The lab's document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabReport {
    pub schema_version: u32,
    /// Always `"lab"`.
    pub kind: String,
    /// What the base recipe is (a preset's name, or `custom`).
    pub base: String,
    /// The data file every run trained and was scored on: its name and MD5 (never a path).
    /// Absent in reports written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// The ImageNet weights the `imagenet` methods started from, if they ran: the file's name
    /// and MD5. Absent in reports written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imagenet: Option<String>,
    pub seeds: Vec<u64>,
    /// The file `transfer` pretrained on, if it ran: its name and MD5 (never a path).
    pub pretrain: Option<String>,
    /// The self-supervised pretraining runs the methods started from (one per model and task).
    #[serde(default)]
    pub pretext: Vec<PretextRow>,
    /// The GANs `gan-aug` trained (one per model and seed), with their curves.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gan: Vec<crate::gan::GanRun>,
    pub rows: Vec<LabRow>,
    pub total_seconds: f64,
    /// A reminder printed beside the table: how uncertain one test figure is, and when a
    /// difference is called real.
    pub note: String,
}

impl LabReport {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}

/// The page's defaults for one model, as chosen from a lab report's validation figures alone.
#[derive(Clone, Debug, PartialEq)]
pub struct Defaults {
    /// Where the weights start: `base` (the base recipe's), or `transfer`, `contrastive`,
    /// `contrastive-probe`, `masked`, `masked-probe`, `imagenet`, `imagenet-probe`.
    pub start: Method,
    /// How the kept model is chosen: `base` (the base recipe's rule) or `ema-last`.
    pub selection: Method,
    /// Test-time augmentation: `base` (the base recipe's) or `no-tta`.
    pub tta: Method,
    /// The order of the training images: `base` (shuffled) or a `curriculum-*` method.
    pub order: Method,
    /// Why, one line per choice, with the validation figures read.
    pub reasons: Vec<String>,
}

/// The rule that chooses the page's defaults (README, "How the defaults were chosen"). It reads
/// only validation figures, never test: the base recipe stays, part by part, unless a lab
/// method that changes that part has a higher mean validation AUC over the seeds than `base`
/// with a paired bootstrap interval of the difference that excludes zero (of several such, the
/// highest). The parts and their candidates: the starting point (`transfer`, `contrastive`,
/// `contrastive-probe`, `masked`, `masked-probe`, and on `lite0` `imagenet`, `imagenet-probe`), the selection rule (`ema-last`), test-time
/// augmentation (`no-tta`) and the order of the images (the three `curriculum-*`).
/// `best-val-auc` is not a candidate: its validation AUC is the maximum it selected on, so it
/// cannot be compared on the same images; nor is `ensemble`, which is several models.
///
/// Rows without paired comparisons (older reports) are never chosen.
pub fn choose_defaults(report: &LabReport, model: &str) -> Defaults {
    let row = |m: Method| report.rows.iter().find(|r| r.model == model && r.method == m);
    let pick = |candidates: &[Method], what: &str| -> (Method, String) {
        let base_val = row(Method::Base).map_or(f64::NAN, |b| b.val_auc.mean);
        let real: Vec<(&LabRow, Difference)> = candidates
            .iter()
            .filter_map(|&m| row(m))
            .filter_map(|r| Some((r, r.versus_base?.val)))
            .filter(|(_, d)| d.delta > 0.0 && d.ci.excludes_zero())
            .collect();
        let seen: Vec<String> = candidates
            .iter()
            .filter_map(|&m| row(m))
            .map(|r| match r.versus_base {
                Some(v) => format!("{} {:+.3} [{:+.3}, {:+.3}]", r.method, v.val.delta, v.val.ci.lo, v.val.ci.hi),
                None => format!("{} (no paired comparison)", r.method),
            })
            .collect();
        match real.into_iter().max_by(|a, b| a.0.val_auc.mean.total_cmp(&b.0.val_auc.mean)) {
            Some((r, d)) => (
                r.method,
                format!(
                    "{what}: {} (validation AUC {:.3}, {:+.3} over the base recipe's {base_val:.3}, interval [{:+.3}, {:+.3}])",
                    r.method, r.val_auc.mean, d.delta, d.ci.lo, d.ci.hi
                ),
            ),
            None if seen.is_empty() => {
                (Method::Base, format!("{what}: the base recipe's (validation AUC {base_val:.3}); no candidate ran"))
            }
            None => (
                Method::Base,
                format!(
                    "{what}: the base recipe's (validation AUC {base_val:.3}); no candidate's gain on validation excludes zero: {}",
                    seen.join("; ")
                ),
            ),
        }
    };
    use Method::*;
    let (start, why_start) =
        pick(&[Transfer, Contrastive, ContrastiveProbe, Masked, MaskedProbe, Imagenet, ImagenetProbe], "starting point");
    let (selection, why_selection) = pick(&[EmaLast], "selection rule");
    let (tta, why_tta) = pick(&[NoTta], "test-time augmentation");
    let (order, why_order) = pick(&[CurriculumEasy, CurriculumHard, CurriculumRandom], "image order");
    Defaults { start, selection, tta, order, reasons: vec![why_start, why_selection, why_tta, why_order] }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::Preset;

    #[test]
    fn methods_change_only_what_they_name() {
        let base = Preset::Reader.config();
        assert_eq!(Method::Base.config(&base), base);
        assert_eq!(Method::NoTta.config(&base), base.clone().with_tta(false));
        assert_eq!(Method::EmaLast.config(&base).selection, Selection::EmaLast);
        assert_eq!(Method::BestValAuc.config(&base).selection, Selection::BestValAuc);
        let c = Method::CurriculumHard.config(&base).curriculum.unwrap();
        assert_eq!((c.order, c.start, c.full_at), (Order::HardFirst, 0.4, 10));
        for m in Method::ALL {
            assert_eq!(m.name().parse::<Method>(), Ok(m));
            assert_eq!(m.config(&base).validate(546), Ok(()));
        }
        assert!("magic".parse::<Method>().unwrap_err().to_string().contains("curriculum-easy"));
        let probe = Method::MaskedProbe.config(&base);
        assert_eq!((probe.linear_probe, probe.optimizer.lr, probe.epochs), (true, 1e-2, base.epochs));
        assert_eq!(Method::Contrastive.config(&base), base);
        assert_eq!(Method::ContrastiveProbe.pretext(), Some(Task::Contrastive));
        assert_eq!(Method::Transfer.pretext(), None);
    }

    fn row(method: Method, val: f64, versus: Option<(f64, f64, f64)>) -> LabRow {
        let d = |(delta, lo, hi): (f64, f64, f64)| Difference { delta, ci: Interval { lo, hi } };
        let mut r = LabRow::new(method, "c16", Preset::Reader.config(), vec![]);
        r.val_auc = Summary { mean: val, sd: 0.0 };
        r.versus_base = versus.map(|v| Versus { val: d(v), test: d((9.0, 9.0, 9.0)), dedup_test: None });
        r
    }

    fn report(rows: Vec<LabRow>) -> LabReport {
        LabReport {
            schema_version: 1,
            kind: "lab".into(),
            base: "reader".into(),
            data: None,
            imagenet: None,
            seeds: vec![0, 1, 2],
            pretrain: None,
            pretext: vec![],
            gan: vec![],
            rows,
            total_seconds: 0.0,
            note: String::new(),
        }
    }

    #[test]
    fn a_report_keeps_every_runs_scores_and_reads_older_reports_without_them() {
        let run = |scores| LabRun {
            seed: 2,
            val_auc: 0.9,
            val_acc: 0.8,
            test_auc: 0.85,
            test_acc: 0.75,
            dedup_test_auc: None,
            dedup_test_acc: None,
            seconds: 1.0,
            scores,
            from: None,
        };
        let scored = run(Some(Scores { val: vec![0.25, 0.75], test: vec![0.1, 0.6, 0.9] }));
        let written = report(vec![LabRow::new(Method::Base, "c16", Preset::Reader.config(), vec![scored.clone()])]);
        let back: LabReport = serde_json::from_str(&written.to_json()).unwrap();
        assert_eq!(back.rows[0].runs[0].scores, scored.scores, "read back as written, for pairing across reports");
        // A report from before the scores were written still reads, without them.
        let mut old: serde_json::Value = serde_json::from_str(&written.to_json()).unwrap();
        old["rows"][0]["runs"][0].as_object_mut().unwrap().remove("scores");
        let back: LabReport = serde_json::from_value(old).unwrap();
        assert_eq!(back.rows[0].runs[0], run(None));
        assert!(
            !report(vec![LabRow::new(Method::Base, "c16", Preset::Reader.config(), vec![run(None)])])
                .to_json()
                .contains("scores")
        );
    }

    /// The rule reads validation only: the test differences in the fixture (+9) never matter.
    #[test]
    fn the_defaults_change_only_for_a_real_validation_gain() {
        // Masked is highest on validation, but its interval includes zero: fresh weights stay.
        let tie = report(vec![
            row(Method::Base, 0.946, None),
            row(Method::Contrastive, 0.931, Some((-0.015, -0.05, 0.02))),
            row(Method::Masked, 0.960, Some((0.014, -0.01, 0.04))),
            row(Method::EmaLast, 0.950, Some((0.004, -0.02, 0.03))),
        ]);
        let d = choose_defaults(&tie, "c16");
        assert_eq!((d.start, d.selection), (Method::Base, Method::Base));
        assert!(d.reasons[0].contains("masked +0.014 [-0.010, +0.040]"), "{:?}", d.reasons);
        // Two real gains: the higher validation AUC wins; a real loss is never chosen.
        let gains = report(vec![
            row(Method::Base, 0.90, None),
            row(Method::Transfer, 0.93, Some((0.03, 0.01, 0.05))),
            row(Method::Contrastive, 0.95, Some((0.05, 0.02, 0.08))),
            row(Method::Masked, 0.85, Some((-0.05, -0.08, -0.02))),
            row(Method::EmaLast, 0.94, Some((0.04, 0.01, 0.07))),
        ]);
        let d = choose_defaults(&gains, "c16");
        assert_eq!((d.start, d.selection, d.tta, d.order), (Method::Contrastive, Method::EmaLast, Method::Base, Method::Base));
        assert!(d.reasons[0].starts_with("starting point: contrastive (validation AUC 0.950"), "{:?}", d.reasons);
        // Another model's rows, and rows without comparisons, are not read.
        assert_eq!(choose_defaults(&gains, "c8").start, Method::Base);
        let old = report(vec![row(Method::Base, 0.9, None), row(Method::Masked, 0.99, None)]);
        assert_eq!(choose_defaults(&old, "c16").start, Method::Base);
    }

    #[test]
    fn summaries_are_mean_and_sample_sd() {
        let s = Summary::of(&[0.9, 0.92, 0.94]);
        assert!((s.mean - 0.92).abs() < 1e-12 && (s.sd - 0.02).abs() < 1e-12);
        assert_eq!(Summary::of(&[0.5]), Summary { mean: 0.5, sd: 0.0 });
        assert!(Summary::of(&[]).mean.is_nan());
    }
}

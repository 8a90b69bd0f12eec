//! The methods lab: named training methods on top of one base recipe, run for several seeds and
//! summarised as mean ± sample standard deviation, in a document (`lab.json`) that the CLI
//! writes (`breastmnist lab`).
//!
//! It owns what each method changes in the recipe and the report's layout; callers run the
//! trainers (and the pretraining a transfer method needs) and hand the results in. It must not
//! know about files, progress bars or the browser.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::pretext::{PretextConfig, Task};
use crate::train::{Curriculum, Order, Selection, TrainConfig};

/// A method, applied to a base recipe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// The base recipe as it is.
    Base,
    /// Without flip test-time augmentation.
    NoTta,
    /// Keep the epoch with the best validation AUC (the paper's rule).
    BestValAuc,
    /// Keep a moving average of the weights, read at the last epoch.
    EmaLast,
    /// Curriculum: easiest 40 % first, all images from half-way.
    CurriculumEasy,
    /// Anti-curriculum: hardest 40 % first.
    CurriculumHard,
    /// The control: a random 40 %, growing as the curriculum does.
    CurriculumRandom,
    /// Supervised pretraining on another MedMNIST file, then the base recipe from its weights.
    Transfer,
    /// SimCLR pretraining on the unlabeled pool, then the base recipe from its encoder.
    Contrastive,
    /// SimCLR pretraining, then a linear probe: only the classifier trains (lr 1e-2).
    ContrastiveProbe,
    /// Masked-image reconstruction pretraining, then the base recipe from its encoder.
    Masked,
    /// Masked-image reconstruction pretraining, then a linear probe (lr 1e-2).
    MaskedProbe,
    /// The mean probability of the base recipe's models over all seeds (no training of its own).
    Ensemble,
}

impl Method {
    pub const ALL: [Method; 13] = [
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
        Method::Ensemble,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Method::Base => "base",
            Method::NoTta => "no-tta",
            Method::BestValAuc => "best-val-auc",
            Method::EmaLast => "ema-last",
            Method::CurriculumEasy => "curriculum-easy",
            Method::CurriculumHard => "curriculum-hard",
            Method::CurriculumRandom => "curriculum-random",
            Method::Transfer => "transfer",
            Method::Contrastive => "contrastive",
            Method::ContrastiveProbe => "contrastive-probe",
            Method::Masked => "masked",
            Method::MaskedProbe => "masked-probe",
            Method::Ensemble => "ensemble",
        }
    }

    /// The self-supervised task whose encoder this method starts from, if any.
    pub fn pretext(self) -> Option<Task> {
        match self {
            Method::Contrastive | Method::ContrastiveProbe => Some(Task::Contrastive),
            Method::Masked | Method::MaskedProbe => Some(Task::Masked),
            _ => None,
        }
    }

    /// The recipe this method trains, from `base` (for `transfer`, the self-supervised
    /// methods and `ensemble`: the base recipe, or a linear probe of it; the caller adds the
    /// pretrained weights or combines the base models).
    pub fn config(self, base: &TrainConfig) -> TrainConfig {
        let c = base.clone();
        let paced = |order| Some(Curriculum::new(order, (base.epochs / 2).max(2)));
        match self {
            Method::Base | Method::Transfer | Method::Contrastive | Method::Masked | Method::Ensemble => c,
            Method::ContrastiveProbe | Method::MaskedProbe => c.with_linear_probe(true).with_lr(1e-2),
            Method::NoTta => c.with_tta(false),
            Method::BestValAuc => c.with_selection(Selection::BestValAuc),
            Method::EmaLast => c.with_selection(Selection::EmaLast),
            Method::CurriculumEasy => c.with_curriculum(paced(Order::EasyFirst)),
            Method::CurriculumHard => c.with_curriculum(paced(Order::HardFirst)),
            Method::CurriculumRandom => c.with_curriculum(paced(Order::Random)),
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Method {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim().to_ascii_lowercase();
        Method::ALL.into_iter().find(|m| m.name() == s).ok_or_else(|| {
            let names: Vec<&str> = Method::ALL.iter().map(|m| m.name()).collect();
            format!("unknown method '{s}' (expected one of: {})", names.join(", "))
        })
    }
}

/// One run of a method.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabRun {
    /// The seed (for `ensemble`: the number of members).
    pub seed: u64,
    pub val_auc: f64,
    pub test_auc: f64,
    pub test_acc: f64,
    /// Wall-clock seconds of training and evaluation.
    pub seconds: f64,
}

/// A method's runs on one model and their summary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabRow {
    pub method: Method,
    pub model: String,
    /// The exact recipe (with the seed of the first run), so the row can be reproduced.
    pub config: TrainConfig,
    pub runs: Vec<LabRun>,
    pub test_auc: Summary,
    pub test_acc: Summary,
}

/// Mean and sample standard deviation (0 for a single value).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub mean: f64,
    pub sd: f64,
}

impl Summary {
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
        let aucs: Vec<f64> = runs.iter().map(|r| r.test_auc).collect();
        let accs: Vec<f64> = runs.iter().map(|r| r.test_acc).collect();
        LabRow { method, model: model.to_string(), config, runs, test_auc: Summary::of(&aucs), test_acc: Summary::of(&accs) }
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
    pub seeds: Vec<u64>,
    /// Where `transfer` pretrained, if it ran.
    pub pretrain: Option<String>,
    /// The self-supervised pretraining runs the methods started from (one per model and task).
    #[serde(default)]
    pub pretext: Vec<PretextRow>,
    pub rows: Vec<LabRow>,
    pub total_seconds: f64,
    /// A reminder printed beside the table: with 156 test images, ±0.01 AUC is noise.
    pub note: String,
}

impl LabReport {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
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
        assert!("magic".parse::<Method>().unwrap_err().contains("curriculum-easy"));
        let probe = Method::MaskedProbe.config(&base);
        assert_eq!((probe.linear_probe, probe.optimizer.lr, probe.epochs), (true, 1e-2, base.epochs));
        assert_eq!(Method::Contrastive.config(&base), base);
        assert_eq!(Method::ContrastiveProbe.pretext(), Some(Task::Contrastive));
        assert_eq!(Method::Transfer.pretext(), None);
    }

    #[test]
    fn summaries_are_mean_and_sample_sd() {
        let s = Summary::of(&[0.9, 0.92, 0.94]);
        assert!((s.mean - 0.92).abs() < 1e-12 && (s.sd - 0.02).abs() < 1e-12);
        assert_eq!(Summary::of(&[0.5]), Summary { mean: 0.5, sd: 0.0 });
        assert!(Summary::of(&[]).mean.is_nan());
    }
}

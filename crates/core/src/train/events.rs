//! What a run reports and returns: the typed [`TrainEvent`]s the loop emits, the per-epoch
//! metrics, the result with its test report and predictions, the early-stop failures and the
//! errors, and the helpers that build a split's report and predictions from its scores.
//!
//! It must not know how a run trains, nor how its callers display or store what it reports.

use breastmnist_data::{Dataset, Split, audit};
use serde::{Deserialize, Serialize};

use super::{ConfigError, TrainConfig};
use crate::checkpoint::CheckpointError;
use crate::eval::EvalError;
use crate::evaluator::{EvaluatorError, TaskMetrics};
use crate::metrics::{self, Evaluation, MetricsError, RocPoint};
use crate::model::{ModelConfig, ModelError};
use crate::prototypes::PrototypeError;
use crate::read::ReadError;
use crate::stats::{self, Interval};

/// One epoch's summary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// 1-based.
    pub epoch: usize,
    /// Mean training loss over the epoch's batches (on the mixed targets when mixup is on).
    pub train_loss: f64,
    /// Training accuracy of the argmax against the original labels.
    pub train_acc: f64,
    pub val_loss: f64,
    pub val_acc: f64,
    pub val_auc: f64,
    /// The learning rate used during this epoch.
    pub lr: f64,
    /// Whether this epoch's model is the one kept so far: the best by validation AUC (ties
    /// keep the earlier) under `best-val-auc`, always the latest under `last` and `ema-last`.
    pub is_best: bool,
}

/// One image's result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// Position in its official split (test, or validation in [`RunResult::val_predictions`]).
    pub index: usize,
    pub label: u8,
    /// Softmax probability of label 1.
    pub score: f64,
}

/// Test results of the model chosen on validation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestReport {
    pub auc: f64,
    pub acc: f64,
    pub confusion: metrics::Confusion,
    pub roc: Vec<RocPoint>,
    pub predictions: Vec<Prediction>,
    /// DeLong's 95% interval of `auc`. Absent in files written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auc_ci: Option<Interval>,
    /// With malignant (label 0) as the positive class: the share of malignant images predicted
    /// malignant (sensitivity) and of normal/benign ones predicted normal/benign (specificity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub malignant: Option<Rates>,
    /// The same model on the de-duplicated test subset: the test images with no training twin
    /// in the data audit (`breastmnist_data::audit`). Absent in files written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deduplicated: Option<SubsetReport>,
}

/// Sensitivity and specificity for one positive class.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rates {
    pub sensitivity: f64,
    pub specificity: f64,
}

/// Metrics on a subset of the test images.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubsetReport {
    /// How the subset was chosen: the audit's measure and threshold.
    pub rule: String,
    /// Images in the subset.
    pub images: usize,
    /// The test images left out (those with a training twin), in test order.
    pub excluded: Vec<usize>,
    pub auc: f64,
    pub auc_ci: Interval,
    pub acc: f64,
}

impl TestReport {
    /// This report with the metrics of the test images `kept` (the de-duplicated subset), from
    /// its own predictions; unchanged when the subset lacks a class.
    #[must_use]
    pub fn with_deduplicated(mut self, kept: &[usize]) -> TestReport {
        let labels: Vec<u8> = kept.iter().filter_map(|&i| self.predictions.get(i)).map(|p| p.label).collect();
        let scores: Vec<f64> = kept.iter().filter_map(|&i| self.predictions.get(i)).map(|p| p.score).collect();
        if let (Ok(d), Ok(acc)) = (stats::delong(&labels, &scores), metrics::accuracy(&labels, &scores, metrics::THRESHOLD)) {
            let excluded = (0..self.predictions.len()).filter(|i| !kept.contains(i)).collect();
            let rule = format!("{} above {}: excluded", audit::MEASURE.to_lowercase(), audit::TWIN_THRESHOLD);
            self.deduplicated = Some(SubsetReport { rule, images: labels.len(), excluded, auc: d.auc, auc_ci: d.ci, acc });
        }
        self
    }
}

/// Everything a finished run produced (the checkpoint bytes aside).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    pub config: TrainConfig,
    pub model: ModelConfig,
    pub history: Vec<EpochMetrics>,
    /// The epoch whose model was kept (1-based), by the configuration's selection rule.
    pub best_epoch: usize,
    /// Validation metrics of the kept model.
    pub val: Evaluation,
    pub test: TestReport,
    /// The kept model's prediction for every validation image, in split order (what
    /// [`val`](Self::val) was computed from). Empty in results serialised before it existed,
    /// and for data other than two classes (see [`task`](Self::task)).
    #[serde(default)]
    pub val_predictions: Vec<Prediction>,
    /// For data other than two classes (k classes, ordinal grades, multi-label labels): the
    /// MedMNIST Evaluator's report of the kept model on val and test, with every image's `k`
    /// probabilities. [`val`](Self::val) and [`test`](Self::test) then carry the task's AUC and
    /// ACC only (no confusion, ROC, interval or predictions: those are binary figures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskRun>,
}

/// The Evaluator's report of a run on data other than two classes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskRun {
    /// The task the metrics were computed as: multi-class for k single labels, multi-label for
    /// k labels. (Ordinal regression is scored as multi-class; a caller that knows the dataset
    /// says `ordinal-regression` here.)
    pub task: breastmnist_data::Task,
    /// Classes or labels: the probabilities' columns.
    pub classes: usize,
    pub val: TaskMetrics,
    pub test: TaskMetrics,
    /// `classes` probabilities per validation image, in split order.
    pub val_probabilities: Vec<f32>,
    /// `classes` probabilities per test image, in split order.
    pub test_probabilities: Vec<f32>,
}

impl TaskRun {
    /// This report under the dataset's own task name. Ordinal regression is scored exactly as
    /// multi-class (the Evaluator's one branch for both), so a multi-class report of an ordinal
    /// dataset is renamed; any other name is left as computed.
    #[must_use]
    pub fn named(mut self, task: breastmnist_data::Task) -> TaskRun {
        use breastmnist_data::Task;
        if (self.task, task) == (Task::MultiClass, Task::Ordinal) {
            self.task = task;
            self.val.task = task;
            self.test.task = task;
        }
        self
    }
}

impl TestReport {
    /// A report that carries only the task's AUC and ACC (see [`RunResult::task`]).
    pub fn task_only(metrics: &TaskMetrics) -> TestReport {
        TestReport {
            auc: metrics.auc,
            acc: metrics.acc,
            confusion: metrics::Confusion::default(),
            roc: Vec::new(),
            predictions: Vec::new(),
            auc_ci: None,
            malignant: None,
            deduplicated: None,
        }
    }
}

/// Why a run stopped early.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TrainFailure {
    #[error("the loss became {value} at epoch {epoch}, step {step}; the best model so far is kept")]
    NonFiniteLoss { epoch: usize, step: usize, value: String },
    #[error("the model's outputs on the validation images are not finite after epoch {epoch}; the best model so far is kept")]
    NonFiniteOutput { epoch: usize },
}

/// What the loop reports. Serialises as `{"type": "step", ...}`, `{"type": "epoch", ...}`, ...
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TrainEvent {
    /// One optimisation step finished (1-based epoch and step).
    Step {
        epoch: usize,
        step: usize,
        steps_per_epoch: usize,
        loss: f64,
        lr: f64,
    },
    /// Evaluation progress on a split (images done of total).
    Eval {
        split: Split,
        done: usize,
        total: usize,
    },
    Epoch(EpochMetrics),
    Done(Box<RunResult>),
    Error(TrainFailure),
}

/// Errors that stop the trainer (as opposed to [`TrainFailure`], which ends a run cleanly).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Eval(#[from] EvalError),
    #[error(transparent)]
    Metrics(#[from] MetricsError),
    #[error(transparent)]
    Evaluator(#[from] EvaluatorError),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Prototype(#[from] PrototypeError),
    #[error("the checkpoint is for {ckpt} px, {ckpt_ch}-channel images but the data is {data} px, {data_ch}-channel")]
    DataShape { ckpt: usize, ckpt_ch: usize, data: usize, data_ch: usize },
    #[error("the checkpoint's model has {got} outputs, but the data has {expected} classes")]
    Classes { got: usize, expected: usize },
    #[error("the checkpoint's model reads its outputs as {got}, but the data's labels are {expected}")]
    Head { got: &'static str, expected: &'static str },
    #[error("the data has no labels to train on")]
    Unlabeled,
    #[error("a snapshot can only be taken between epochs")]
    NotAtEpochBoundary,
    #[error("the run has no model yet to save")]
    NoModel,
    #[error("the saved state is unreadable: {0}")]
    State(String),
}

/// The test report of label-1 `scores` against `labels`: AUC, ACC, confusion, ROC and one
/// prediction per image.
pub fn test_report(labels: &[u8], scores: &[f32]) -> Result<TestReport, MetricsError> {
    let ev = metrics::evaluate(labels, scores)?;
    let roc = metrics::roc_curve(labels, scores)?;
    let c = ev.confusion;
    let share = |hit: u32, miss: u32| if hit + miss == 0 { f64::NAN } else { hit as f64 / (hit + miss) as f64 };
    // Rows are true labels, columns predicted: malignant is row and column 0.
    let malignant = Rates { sensitivity: share(c.tn(), c.fp()), specificity: share(c.tp(), c.fn_()) };
    Ok(TestReport {
        auc: ev.auc,
        acc: ev.acc,
        confusion: c,
        roc,
        predictions: predictions(labels, scores),
        auc_ci: Some(stats::delong(labels, scores)?.ci),
        malignant: Some(malignant),
        deduplicated: None,
    })
}

/// The test report of label-1 `scores` on `data`'s test split, with the metrics of its
/// de-duplicated subset (the test images without a training twin).
pub fn dataset_test_report(data: &Dataset, scores: &[f32]) -> Result<TestReport, MetricsError> {
    let kept = audit::deduplicated_test(data, audit::TWIN_THRESHOLD);
    Ok(test_report(&data.test.labels, scores)?.with_deduplicated(&kept))
}

/// One [`Prediction`] per image of a split: label-1 `scores` against `labels`, in split order.
pub fn predictions(labels: &[u8], scores: &[f32]) -> Vec<Prediction> {
    labels.iter().zip(scores).enumerate().map(|(index, (&label, &s))| Prediction { index, label, score: s as f64 }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialise_with_a_type_tag() {
        let e = TrainEvent::Step { epoch: 1, step: 2, steps_per_epoch: 5, loss: 0.5, lr: 1e-3 };
        let j = serde_json::to_value(&e).unwrap();
        assert_eq!(j["type"], "step");
        let back: TrainEvent = serde_json::from_value(j).unwrap();
        assert_eq!(back, e);
        let f = TrainEvent::Error(TrainFailure::NonFiniteLoss { epoch: 1, step: 1, value: "NaN".into() });
        let j = serde_json::to_value(&f).unwrap();
        assert_eq!(j["type"], "error");
        assert_eq!(serde_json::from_value::<TrainEvent>(j).unwrap(), f);
    }
}

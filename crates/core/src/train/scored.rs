//! A split's probabilities turned into what a run reports, for any data: two classes keep the
//! binary report (AUC and ACC of the label-1 score, confusion, ROC, DeLong interval,
//! predictions, the de-duplicated subset); k classes, ordinal grades and multi-label labels get
//! the MedMNIST Evaluator's report ([`crate::evaluator`]) in [`RunResult::task`].
//!
//! Shared by the [`Trainer`](super::Trainer) and an imported checkpoint's evaluation, so both
//! report alike. It must not know how the probabilities were computed.

use breastmnist_data::{Dataset, Split, Targets, Task};

use super::{EpochMetrics, RunResult, TaskRun, TestReport, TrainConfig, TrainError, dataset_test_report, predictions};
use crate::evaluator::{self, TaskMetrics};
use crate::metrics::{self, Confusion, Evaluation};
use crate::model::ModelConfig;

/// The task a run on `data` is scored as, when it is not two classes.
pub fn task_of(data: &Dataset) -> Result<Option<Task>, TrainError> {
    match data.targets {
        Targets::Classes(2) => Ok(None),
        Targets::Classes(_) => Ok(Some(Task::MultiClass)),
        Targets::MultiLabel(_) => Ok(Some(Task::MultiLabel)),
        Targets::Unlabeled => Err(TrainError::Unlabeled),
    }
}

/// One split's probabilities (`[n][k]`) and what they score.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Scored {
    /// The AUC and ACC (and for two classes the confusion) the selection rule reads.
    pub eval: Evaluation,
    pub probs: Vec<f32>,
    /// The Evaluator's report, for data other than two classes.
    pub task: Option<TaskMetrics>,
}

/// The label-1 column of two-class probabilities.
pub(crate) fn label_one(probs: &[f32]) -> Vec<f32> {
    probs.chunks(2).map(|r| r[1]).collect()
}

/// Scores `probs` (`k` columns) against `split` of `data`.
pub(crate) fn score(data: &Dataset, split: Split, probs: Vec<f32>, k: usize) -> Result<Scored, TrainError> {
    let labels = &data.split(split).labels;
    match task_of(data)? {
        None if k != 2 => Err(TrainError::Classes { got: k, expected: 2 }),
        None => Ok(Scored { eval: metrics::evaluate(labels, &label_one(&probs))?, probs, task: None }),
        Some(task) => {
            let wide: Vec<f64> = probs.iter().map(|&p| f64::from(p)).collect();
            let m = evaluator::evaluate(task, data.targets, labels, &wide, k)?;
            let eval = Evaluation { auc: m.auc, acc: m.acc, confusion: Confusion::default() };
            Ok(Scored { eval, probs, task: Some(m) })
        }
    }
}

/// The result of a run whose kept model scored `val` and `test`.
pub(crate) fn assemble(
    data: &Dataset,
    config: TrainConfig,
    model: ModelConfig,
    history: Vec<EpochMetrics>,
    best_epoch: usize,
    val: Scored,
    test: Scored,
) -> Result<RunResult, TrainError> {
    let k = model.num_classes;
    let result = |test_report, val_predictions, task| RunResult {
        config,
        model,
        history,
        best_epoch,
        val: val.eval.clone(),
        test: test_report,
        val_predictions,
        task,
    };
    Ok(match (val.task, test.task) {
        (Some(v), Some(t)) => {
            let report = TestReport::task_only(&t);
            let task = task_of(data)?.unwrap_or(Task::MultiClass);
            let run = TaskRun { task, classes: k, val: v, test: t, val_probabilities: val.probs, test_probabilities: test.probs };
            result(report, Vec::new(), Some(run))
        }
        _ => {
            let report = dataset_test_report(data, &label_one(&test.probs))?;
            result(report, predictions(&data.val.labels, &label_one(&val.probs)), None)
        }
    })
}

//! MedMNIST's Evaluator for every 2D task, on `k` score columns: what `medmnist.Evaluator`
//! (3.0.2, `getAUC`/`getACC`) prints, plus the per-class AUC and the confusion it implies.
//!
//! - binary: AUC of the last column (label 1 positive), ACC of `last > 0.5`;
//! - multi-class and ordinal regression: the mean over columns of the one-vs-rest AUC, ACC of
//!   the argmax (ties to the first index, as NumPy's `argmax`);
//! - multi-label: the mean over labels of each label's AUC, and the mean of each label's
//!   accuracy at `> 0.5`.
//!
//! Each AUC is [`metrics::roc_auc`] (scikit-learn's, ties one half). A class or label whose AUC
//! is undefined in the split (absent, or never 0) is a typed error, not NaN. It must not know
//! about tensors, models or files: labels and scores in, numbers out.

use breastmnist_data::{Targets, Task};
use serde::{Deserialize, Serialize};

use crate::metrics::{self, MetricsError, THRESHOLD};
use crate::rng::Rng;
use crate::stats::{Difference, Interval, percentiles};

/// What is wrong with labels and scores handed to the Evaluator.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvaluatorError {
    #[error("no images to score")]
    Empty,
    #[error("the labels do not have the shape a {task} task needs")]
    Targets { task: Task },
    #[error("{images} images of labels but {rows} rows of scores")]
    Rows { images: usize, rows: usize },
    #[error("the scores have {got} columns; this {task} dataset needs {expected}")]
    Columns { task: Task, expected: usize, got: usize },
    #[error("score {score} of image {index} is not a finite number")]
    NotFinite { index: usize, score: f64 },
    #[error("label {value} of image {index} is out of range for {classes} classes")]
    Label { index: usize, value: u8, classes: usize },
    #[error("class {class} has no image in this split, so its AUC (and the mean) is undefined")]
    ClassAbsent { class: usize },
    #[error("label {label} is {value} for every image, so its AUC (and the mean) is undefined")]
    LabelConstant { label: usize, value: u8 },
}

/// Confusion counts: rows are true classes, columns predicted ones (scikit-learn's layout).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confusions {
    /// One `k x k` matrix (binary: 2 x 2 at the threshold; otherwise by argmax).
    Classes(Vec<Vec<u32>>),
    /// One `[[tn, fp], [fn, tp]]` per label (multi-label, at the threshold).
    PerLabel(Vec<[[u32; 2]; 2]>),
}

/// What the Evaluator reports on one split, and what it implies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskMetrics {
    pub task: Task,
    /// MedMNIST's AUC for the task.
    pub auc: f64,
    /// MedMNIST's ACC for the task.
    pub acc: f64,
    /// The AUC of each column, one-vs-rest (multi-label: each label's).
    pub per_class_auc: Vec<f64>,
    pub confusion: Confusions,
}

/// Labels (`targets.width()` per image, as [`breastmnist_data::SplitData`] holds them) and scores
/// (`k` per image, row-major) checked against each other; returns the number of images.
fn check(task: Task, targets: Targets, labels: &[u8], scores: &[f64], k: usize) -> Result<usize, EvaluatorError> {
    let (classes, width) = match targets {
        Targets::Classes(c) => (c, 1),
        Targets::MultiLabel(c) => (c, c),
        Targets::Unlabeled => return Err(EvaluatorError::Empty),
    };
    let images = labels.len() / width;
    if images == 0 {
        return Err(EvaluatorError::Empty);
    }
    // A binary file has one column (a sigmoid's) or two (the Evaluator reads the last); the
    // others need one per class.
    let consistent = match task {
        Task::Binary => matches!(targets, Targets::Classes(2)),
        Task::MultiClass | Task::Ordinal => matches!(targets, Targets::Classes(_)),
        Task::MultiLabel => matches!(targets, Targets::MultiLabel(_)),
    };
    if !consistent {
        return Err(EvaluatorError::Targets { task });
    }
    let expected = classes;
    if k == 0 || (task != Task::Binary && k != expected) || (task == Task::Binary && k > 2) {
        return Err(EvaluatorError::Columns { task, expected, got: k });
    }
    if scores.len() != images * k {
        return Err(EvaluatorError::Rows { images, rows: scores.len() / k });
    }
    if let Some((i, &score)) = scores.iter().enumerate().find(|(_, s)| !s.is_finite()) {
        return Err(EvaluatorError::NotFinite { index: i / k, score });
    }
    let limit = if matches!(targets, Targets::MultiLabel(_)) { 2 } else { classes };
    if let Some((i, &value)) = labels.iter().enumerate().find(|&(_, &v)| v as usize >= limit) {
        return Err(EvaluatorError::Label { index: i / width, value, classes: limit });
    }
    Ok(images)
}

/// One column's AUC with `positive` telling the positives, the error naming the column.
fn column_auc(positive: &[u8], column: &[f64], undefined: impl Fn(usize) -> EvaluatorError) -> Result<f64, EvaluatorError> {
    metrics::roc_auc(positive, column).map_err(|e| match e {
        MetricsError::OneClass { positives, .. } => undefined(positives),
        MetricsError::Empty => EvaluatorError::Empty,
        MetricsError::NotFinite { index, score } => EvaluatorError::NotFinite { index, score },
        MetricsError::Length { labels, scores } => EvaluatorError::Rows { images: labels, rows: scores },
        MetricsError::Label(value) => EvaluatorError::Label { index: 0, value, classes: 2 },
    })
}

/// MedMNIST's AUC and ACC of `scores` (`k` columns per image) against `labels`, for `task`.
pub fn evaluate(task: Task, targets: Targets, labels: &[u8], scores: &[f64], k: usize) -> Result<TaskMetrics, EvaluatorError> {
    let n = check(task, targets, labels, scores, k)?;
    let col = |j: usize| -> Vec<f64> { (0..n).map(|i| scores[i * k + j]).collect() };
    match task {
        Task::MultiLabel => {
            let mut per_class_auc = Vec::with_capacity(k);
            let mut confusions = Vec::with_capacity(k);
            for j in 0..k {
                let truth: Vec<u8> = (0..n).map(|i| labels[i * k + j]).collect();
                let value = |positives: usize| u8::from(positives > 0);
                per_class_auc.push(column_auc(&truth, &col(j), |p| EvaluatorError::LabelConstant { label: j, value: value(p) })?);
                let mut m = [[0u32; 2]; 2];
                for (i, &t) in truth.iter().enumerate() {
                    m[t as usize][usize::from(scores[i * k + j] > THRESHOLD)] += 1;
                }
                confusions.push(m);
            }
            let acc = confusions.iter().map(|m| f64::from(m[0][0] + m[1][1]) / n as f64).sum::<f64>() / k as f64;
            let auc = per_class_auc.iter().sum::<f64>() / k as f64;
            Ok(TaskMetrics { task, auc, acc, per_class_auc, confusion: Confusions::PerLabel(confusions) })
        }
        Task::Binary => {
            let last = col(k - 1);
            let auc = column_auc(labels, &last, |p| EvaluatorError::ClassAbsent { class: usize::from(p == 0) })?;
            let predicted: Vec<usize> = last.iter().map(|&s| usize::from(s > THRESHOLD)).collect();
            let per_class_auc = if k == 2 {
                let negatives: Vec<u8> = labels.iter().map(|&l| u8::from(l == 0)).collect();
                vec![column_auc(&negatives, &col(0), |_| EvaluatorError::ClassAbsent { class: 0 })?, auc]
            } else {
                vec![auc]
            };
            let (acc, matrix) = tally(labels, &predicted, 2);
            Ok(TaskMetrics { task, auc, acc, per_class_auc, confusion: Confusions::Classes(matrix) })
        }
        Task::MultiClass | Task::Ordinal => {
            let mut per_class_auc = Vec::with_capacity(k);
            for j in 0..k {
                let truth: Vec<u8> = labels.iter().map(|&l| u8::from(l as usize == j)).collect();
                per_class_auc.push(column_auc(&truth, &col(j), |_| EvaluatorError::ClassAbsent { class: j })?);
            }
            let predicted: Vec<usize> = (0..n).map(|i| argmax(&scores[i * k..(i + 1) * k])).collect();
            let (acc, matrix) = tally(labels, &predicted, k);
            let auc = per_class_auc.iter().sum::<f64>() / k as f64;
            Ok(TaskMetrics { task, auc, acc, per_class_auc, confusion: Confusions::Classes(matrix) })
        }
    }
}

/// A seeded percentile-bootstrap 95% interval of the task's AUC over resamples of the images:
/// single-label data resampled within each class (every class keeps its count, so every
/// column's AUC stays defined), multi-label data over all images (a resample where a label
/// takes one value only is skipped). `None` when the inputs do not evaluate or no resample does.
pub fn bootstrap_auc(
    task: Task,
    targets: Targets,
    labels: &[u8],
    scores: &[f64],
    k: usize,
    resamples: usize,
    seed: u64,
) -> Option<Interval> {
    let n = check(task, targets, labels, scores, k).ok()?;
    let mut values: Vec<f64> = Resamples::new(targets, labels, n, seed)
        .take(resamples)
        .filter_map(|at| Some(evaluate_at(task, targets, labels, scores, k, &at)?.auc))
        .collect();
    (!values.is_empty()).then(|| percentiles(&mut values))
}

/// Seeded resamples of `n` images, drawn as [`bootstrap_auc`] draws them: single-label data
/// within each class (every class keeps its count), multi-label data over all images.
struct Resamples {
    strata: Vec<Vec<usize>>,
    n: usize,
    rng: Rng,
}

impl Resamples {
    fn new(targets: Targets, labels: &[u8], n: usize, seed: u64) -> Resamples {
        let strata = match targets {
            Targets::Classes(c) => (0..c).map(|class| (0..n).filter(|&i| labels[i] as usize == class).collect()).collect(),
            Targets::MultiLabel(_) | Targets::Unlabeled => vec![(0..n).collect()],
        };
        Resamples { strata, n, rng: Rng::new(seed) }
    }
}

impl Iterator for Resamples {
    type Item = Vec<usize>;

    fn next(&mut self) -> Option<Vec<usize>> {
        let mut at = Vec::with_capacity(self.n);
        for stratum in self.strata.iter().filter(|s| !s.is_empty()) {
            at.extend((0..stratum.len()).map(|_| stratum[self.rng.below(stratum.len())]));
        }
        Some(at)
    }
}

/// [`evaluate`] on the images `at` (with repeats); `None` where it does not evaluate (a label
/// constant in the resample).
fn evaluate_at(task: Task, targets: Targets, labels: &[u8], scores: &[f64], k: usize, at: &[usize]) -> Option<TaskMetrics> {
    let width = targets.width();
    let l: Vec<u8> = at.iter().flat_map(|&i| labels[i * width..(i + 1) * width].iter().copied()).collect();
    let s: Vec<f64> = at.iter().flat_map(|&i| scores[i * k..(i + 1) * k].iter().copied()).collect();
    evaluate(task, targets, &l, &s, k).ok()
}

/// Seeded percentile-bootstrap 95% intervals of the mean task AUC and the mean ACC of a set of
/// runs (each `k` scores per image, in image order), resampling the images as
/// [`bootstrap_auc`] does (both from the same resamples). `None` when there are no runs, a run
/// does not evaluate on the whole split, or no resample does.
pub fn bootstrap_runs(
    task: Task,
    targets: Targets,
    labels: &[u8],
    runs: &[Vec<f64>],
    k: usize,
    resamples: usize,
    seed: u64,
) -> Option<(Interval, Interval)> {
    if runs.is_empty() || runs.iter().any(|s| check(task, targets, labels, s, k).is_err()) {
        return None;
    }
    let n = labels.len() / targets.width().max(1);
    let (mut aucs, mut accs) = (Vec::with_capacity(resamples), Vec::with_capacity(resamples));
    for at in Resamples::new(targets, labels, n, seed).take(resamples) {
        let m: Option<Vec<TaskMetrics>> = runs.iter().map(|s| evaluate_at(task, targets, labels, s, k, &at)).collect();
        if let Some(m) = m {
            aucs.push(m.iter().map(|m| m.auc).sum::<f64>() / m.len() as f64);
            accs.push(m.iter().map(|m| m.acc).sum::<f64>() / m.len() as f64);
        }
    }
    (!aucs.is_empty()).then(|| (percentiles(&mut aucs), percentiles(&mut accs)))
}

/// The mean over runs of each run's task AUC on the images `at`.
fn mean_auc_at(task: Task, targets: Targets, labels: &[u8], runs: &[Vec<f64>], k: usize, at: &[usize]) -> Option<f64> {
    let aucs: Option<Vec<f64>> = runs.iter().map(|s| Some(evaluate_at(task, targets, labels, s, k, at)?.auc)).collect();
    aucs.map(|a| a.iter().sum::<f64>() / a.len() as f64)
}

/// The paired bootstrap of the mean task AUC of runs `a` minus that of runs `b` (each run `k`
/// scores per image, in image order), resampling the images as [`bootstrap_auc`] does and
/// scoring both sets on every resample: the Evaluator's counterpart of
/// [`crate::stats::paired_difference`]. `None` when a set is empty, a run does not evaluate on
/// the whole split, or no resample does.
#[allow(clippy::too_many_arguments)]
pub fn paired_difference(
    task: Task,
    targets: Targets,
    labels: &[u8],
    a: &[Vec<f64>],
    b: &[Vec<f64>],
    k: usize,
    resamples: usize,
    seed: u64,
) -> Option<Difference> {
    let n = labels.len() / targets.width().max(1);
    if a.is_empty() || b.is_empty() || a.iter().chain(b).any(|s| check(task, targets, labels, s, k).is_err()) {
        return None;
    }
    let all: Vec<usize> = (0..n).collect();
    let delta = mean_auc_at(task, targets, labels, a, k, &all)? - mean_auc_at(task, targets, labels, b, k, &all)?;
    let mut values: Vec<f64> = Resamples::new(targets, labels, n, seed)
        .take(resamples)
        .filter_map(|at| Some(mean_auc_at(task, targets, labels, a, k, &at)? - mean_auc_at(task, targets, labels, b, k, &at)?))
        .collect();
    (!values.is_empty()).then(|| Difference { delta, ci: percentiles(&mut values) })
}

/// The first index of the largest value (NumPy's `argmax`).
pub fn argmax(row: &[f64]) -> usize {
    let mut best = 0;
    for (j, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = j;
        }
    }
    best
}

/// Accuracy and the `k x k` confusion of `predicted` against `labels`.
fn tally(labels: &[u8], predicted: &[usize], k: usize) -> (f64, Vec<Vec<u32>>) {
    let mut m = vec![vec![0u32; k]; k];
    for (&l, &p) in labels.iter().zip(predicted) {
        m[l as usize][p] += 1;
    }
    let right: u32 = (0..k).map(|c| m[c][c]).sum();
    (f64::from(right) / labels.len() as f64, m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_reads_the_last_column_like_the_binary_metrics() {
        let labels = [0, 0, 1, 1, 1];
        let p1 = [0.2, 0.6, 0.4, 0.9, 0.51];
        let scores: Vec<f64> = p1.iter().flat_map(|&p| [1.0 - p, p]).collect();
        let m = evaluate(Task::Binary, Targets::Classes(2), &labels, &scores, 2).unwrap();
        assert_eq!(m.auc, metrics::roc_auc(&labels, &p1).unwrap());
        assert_eq!(m.acc, metrics::accuracy(&labels, &p1, THRESHOLD).unwrap());
        assert_eq!(m.confusion, Confusions::Classes(vec![vec![1, 1], vec![1, 2]]));
        assert_eq!(m.per_class_auc[0], m.per_class_auc[1], "softmax columns rank alike");
        // One column (a sigmoid output) is read the same way.
        let one = evaluate(Task::Binary, Targets::Classes(2), &labels, &p1, 1).unwrap();
        assert_eq!((one.auc, one.acc), (m.auc, m.acc));
    }

    #[test]
    fn the_bootstrap_interval_is_seeded_and_holds_the_point() {
        let mut rng = Rng::new(5);
        let n = 120;
        let labels: Vec<u8> = (0..n).map(|i| (i % 3) as u8).collect();
        // Informative but noisy scores: the true class gets a bonus.
        let scores: Vec<f64> = labels
            .iter()
            .flat_map(|&l| {
                let row: Vec<f64> = (0..3).map(|j| rng.unit() + if j == l as usize { 0.5 } else { 0.0 }).collect();
                row
            })
            .collect();
        let m = evaluate(Task::MultiClass, Targets::Classes(3), &labels, &scores, 3).unwrap();
        let ci = bootstrap_auc(Task::MultiClass, Targets::Classes(3), &labels, &scores, 3, 500, 1).unwrap();
        assert!(ci.lo < m.auc && m.auc < ci.hi, "{ci:?} {}", m.auc);
        assert!(ci.hi - ci.lo > 0.02 && ci.hi - ci.lo < 0.3, "{ci:?}");
        assert_eq!(bootstrap_auc(Task::MultiClass, Targets::Classes(3), &labels, &scores, 3, 500, 1), Some(ci));
        assert_eq!(bootstrap_auc(Task::MultiClass, Targets::Classes(3), &labels[..3], &scores, 3, 10, 1), None, "rows disagree");
    }

    /// Scores of `n` images of 3 classes, `bonus` added to the true class's column.
    fn noisy(labels: &[u8], bonus: f64, seed: u64) -> Vec<f64> {
        let mut rng = Rng::new(seed);
        labels
            .iter()
            .flat_map(|&l| (0..3).map(|j| rng.unit() + if j == l as usize { bonus } else { 0.0 }).collect::<Vec<_>>())
            .collect()
    }

    #[test]
    fn the_paired_difference_is_the_mean_auc_gap_with_a_seeded_interval() {
        let labels: Vec<u8> = (0..150).map(|i| (i % 3) as u8).collect();
        let t = (Task::MultiClass, Targets::Classes(3));
        let auc = |s: &[f64]| evaluate(t.0, t.1, &labels, s, 3).unwrap().auc;
        let strong: Vec<Vec<f64>> = (0..3).map(|seed| noisy(&labels, 0.8, seed)).collect();
        let weak: Vec<Vec<f64>> = (10..12).map(|seed| noisy(&labels, 0.2, seed)).collect();
        let d = paired_difference(t.0, t.1, &labels, &strong, &weak, 3, 500, 7).unwrap();
        // The point is the mean AUC of one set minus the other's, computed here run by run.
        let mean = |runs: &[Vec<f64>]| runs.iter().map(|s| auc(s)).sum::<f64>() / runs.len() as f64;
        assert!((d.delta - (mean(&strong) - mean(&weak))).abs() < 1e-12, "{d:?}");
        assert!(d.delta > 0.1 && d.ci.lo > 0.0 && d.ci.contains(d.delta), "{d:?}");
        assert_eq!(d.verdict(), "better");
        assert_eq!(paired_difference(t.0, t.1, &labels, &strong, &weak, 3, 500, 7), Some(d), "seeded");
        // A set against itself: no difference on any resample.
        let same = paired_difference(t.0, t.1, &labels, &weak, &weak, 3, 200, 7).unwrap();
        assert_eq!((same.delta, same.ci.lo, same.ci.hi), (0.0, 0.0, 0.0));
        // Rows that disagree with the labels, or no runs: no comparison.
        assert_eq!(paired_difference(t.0, t.1, &labels, &strong, &[vec![0.5; 3]], 3, 10, 7), None);
        assert_eq!(paired_difference(t.0, t.1, &labels, &[], &weak, 3, 10, 7), None);
    }

    #[test]
    fn argmax_ties_go_to_the_first_index() {
        assert_eq!(argmax(&[0.2, 0.4, 0.4]), 1);
        assert_eq!(argmax(&[0.5, 0.5]), 0);
    }

    #[test]
    fn undefined_aucs_are_typed_errors() {
        let scores = [0.5, 0.3, 0.2, 0.1, 0.8, 0.1, 0.3, 0.3, 0.4];
        assert_eq!(
            evaluate(Task::MultiClass, Targets::Classes(3), &[0, 1, 1], &scores, 3).unwrap_err(),
            EvaluatorError::ClassAbsent { class: 2 }
        );
        assert_eq!(
            evaluate(Task::MultiLabel, Targets::MultiLabel(3), &[0, 1, 1, 1, 0, 1, 0, 1, 1], &scores, 3).unwrap_err(),
            EvaluatorError::LabelConstant { label: 2, value: 1 }
        );
        assert_eq!(
            evaluate(Task::Binary, Targets::Classes(2), &[1, 1, 1], &[0.1, 0.2, 0.3], 1).unwrap_err(),
            EvaluatorError::ClassAbsent { class: 0 }
        );
        assert_eq!(
            evaluate(Task::MultiClass, Targets::Classes(3), &[0, 1, 2], &scores[..6], 2).unwrap_err(),
            EvaluatorError::Columns { task: Task::MultiClass, expected: 3, got: 2 }
        );
        assert!(matches!(
            evaluate(Task::MultiClass, Targets::Classes(3), &[0, 1, 3], &scores, 3),
            Err(EvaluatorError::Label { index: 2, value: 3, .. })
        ));
        let mut nan = scores;
        nan[4] = f64::NAN;
        assert!(matches!(
            evaluate(Task::MultiClass, Targets::Classes(3), &[0, 1, 2], &nan, 3),
            Err(EvaluatorError::NotFinite { index: 1, .. })
        ));
    }
}

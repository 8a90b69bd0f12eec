//! Binary classification metrics, in plain Rust: ROC AUC, accuracy, confusion matrix, ROC curve.
//!
//! Owns the definitions the article reports, matching MedMNIST's evaluator and scikit-learn:
//! the score of a sample is the softmax probability of label 1, label 1 is the positive class,
//! AUC equals `sklearn.metrics.roc_auc_score` (ties count one half), and accuracy thresholds the
//! score with `score > 0.5` (MedMNIST's `getACC`).
//!
//! It must not know about tensors, burn, models or files.

use serde::{Deserialize, Serialize};

/// MedMNIST's decision threshold on the label-1 score (`score > 0.5` predicts label 1).
pub const THRESHOLD: f64 = 0.5;

/// Problems with metric inputs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetricsError {
    #[error("{labels} labels but {scores} scores")]
    Length { labels: usize, scores: usize },
    #[error("no samples")]
    Empty,
    #[error("label {0} is not binary (expected 0 or 1)")]
    Label(u8),
    #[error("score {score} at index {index} is not a finite number")]
    NotFinite { index: usize, score: f64 },
    #[error("AUC is undefined when only one class is present ({positives} positives, {negatives} negatives)")]
    OneClass { positives: usize, negatives: usize },
}

/// A score the metrics accept: `f32` (the model's softmax) or `f64` (a result file read back).
/// Every comparison is made on the value widened to `f64`, which is exact for `f32`, so both
/// give the same ties and the same metrics.
pub trait Score: Copy + Into<f64> {}
impl Score for f32 {}
impl Score for f64 {}

/// Checks the inputs and returns the scores widened to `f64`.
fn check<S: Score>(labels: &[u8], scores: &[S]) -> Result<Vec<f64>, MetricsError> {
    if labels.len() != scores.len() {
        return Err(MetricsError::Length { labels: labels.len(), scores: scores.len() });
    }
    if labels.is_empty() {
        return Err(MetricsError::Empty);
    }
    if let Some(&l) = labels.iter().find(|&&l| l > 1) {
        return Err(MetricsError::Label(l));
    }
    let scores: Vec<f64> = scores.iter().map(|&s| s.into()).collect();
    if let Some((index, &score)) = scores.iter().enumerate().find(|(_, s)| !s.is_finite()) {
        return Err(MetricsError::NotFinite { index, score });
    }
    Ok(scores)
}

/// Checks the inputs and counts (positives, negatives); ROC needs both classes.
fn both_classes<S: Score>(labels: &[u8], scores: &[S]) -> Result<(Vec<f64>, usize, usize), MetricsError> {
    let scores = check(labels, scores)?;
    let positives = labels.iter().filter(|&&l| l == 1).count();
    let negatives = labels.len() - positives;
    if positives == 0 || negatives == 0 {
        return Err(MetricsError::OneClass { positives, negatives });
    }
    Ok((scores, positives, negatives))
}

/// Area under the ROC curve with label 1 positive: `P(s_pos > s_neg) + 0.5 P(s_pos = s_neg)`,
/// computed from average ranks (Mann–Whitney U), which equals scikit-learn's `roc_auc_score`.
pub fn roc_auc<S: Score>(labels: &[u8], scores: &[S]) -> Result<f64, MetricsError> {
    let (scores, positives, negatives) = both_classes(labels, scores)?;
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Sum of the (1-based, tie-averaged) ranks of the positives.
    let mut rank_sum_pos = 0.0f64;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        let pos_in_group = order[i..=j].iter().filter(|&&k| labels[k] == 1).count();
        rank_sum_pos += avg_rank * pos_in_group as f64;
        i = j + 1;
    }
    let p = positives as f64;
    let u = rank_sum_pos - p * (p + 1.0) / 2.0;
    Ok(u / (p * negatives as f64))
}

/// The 2x2 confusion matrix with label 1 as the positive class, laid out like scikit-learn's
/// `confusion_matrix(y, pred)`: rows are true labels, columns predicted labels, so
/// `[[tn, fp], [fn, tp]]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confusion(pub [[u32; 2]; 2]);

impl Confusion {
    pub fn tn(&self) -> u32 {
        self.0[0][0]
    }
    pub fn fp(&self) -> u32 {
        self.0[0][1]
    }
    pub fn fn_(&self) -> u32 {
        self.0[1][0]
    }
    pub fn tp(&self) -> u32 {
        self.0[1][1]
    }
    pub fn total(&self) -> u32 {
        self.0.iter().flatten().sum()
    }
    /// Fraction of correct predictions.
    pub fn accuracy(&self) -> f64 {
        let t = self.total();
        if t == 0 { 0.0 } else { (self.tn() + self.tp()) as f64 / t as f64 }
    }
}

/// The confusion matrix of predicting label 1 when `score > threshold`.
pub fn confusion<S: Score>(labels: &[u8], scores: &[S], threshold: f64) -> Result<Confusion, MetricsError> {
    let scores = check(labels, scores)?;
    let mut m = [[0u32; 2]; 2];
    for (&l, &s) in labels.iter().zip(&scores) {
        let pred = usize::from(s > threshold);
        m[l as usize][pred] += 1;
    }
    Ok(Confusion(m))
}

/// Accuracy of predicting label 1 when `score > threshold` (MedMNIST uses 0.5).
pub fn accuracy<S: Score>(labels: &[u8], scores: &[S], threshold: f64) -> Result<f64, MetricsError> {
    Ok(confusion(labels, scores, threshold)?.accuracy())
}

/// One point of the ROC curve: predicting label 1 when `score >= threshold` gives these rates.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RocPoint {
    pub fpr: f64,
    pub tpr: f64,
    pub threshold: f64,
}

/// The ROC curve at every distinct score (tied scores form one point), from (0, 0) to (1, 1).
/// Thresholds decrease; the first point's threshold is `max score + 1` (scikit-learn < 1.3's
/// convention, kept because JSON has no infinity).
pub fn roc_curve<S: Score>(labels: &[u8], scores: &[S]) -> Result<Vec<RocPoint>, MetricsError> {
    let (scores, positives, negatives) = both_classes(labels, scores)?;
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let max = scores[order[0]];
    let mut points = vec![RocPoint { fpr: 0.0, tpr: 0.0, threshold: max + 1.0 }];
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut i = 0;
    while i < order.len() {
        let s = scores[order[i]];
        while i < order.len() && scores[order[i]] == s {
            if labels[order[i]] == 1 {
                tp += 1;
            } else {
                fp += 1;
            }
            i += 1;
        }
        points.push(RocPoint { fpr: fp as f64 / negatives as f64, tpr: tp as f64 / positives as f64, threshold: s });
    }
    Ok(points)
}

/// Area under a piecewise-linear curve given by `(fpr, tpr)` points in order (trapezoid rule).
pub fn trapezoid_auc(points: &[RocPoint]) -> f64 {
    points.windows(2).map(|w| (w[1].fpr - w[0].fpr) * (w[1].tpr + w[0].tpr) / 2.0).sum()
}

/// AUC, accuracy and confusion matrix of one evaluation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub auc: f64,
    pub acc: f64,
    pub confusion: Confusion,
}

/// Computes [`Evaluation`] for label-1 scores.
pub fn evaluate<S: Score>(labels: &[u8], scores: &[S]) -> Result<Evaluation, MetricsError> {
    let confusion = confusion(labels, scores, THRESHOLD)?;
    Ok(Evaluation { auc: roc_auc(labels, scores)?, acc: confusion.accuracy(), confusion })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    /// The pairwise definition, independent of the rank implementation.
    fn pairwise(labels: &[u8], scores: &[f32]) -> f64 {
        let (mut num, mut den) = (0.0, 0.0);
        for (i, &li) in labels.iter().enumerate() {
            for (j, &lj) in labels.iter().enumerate() {
                if li == 1 && lj == 0 {
                    den += 1.0;
                    if scores[i] > scores[j] {
                        num += 1.0;
                    } else if scores[i] == scores[j] {
                        num += 0.5;
                    }
                }
            }
        }
        num / den
    }

    #[test]
    fn auc_hand_checked() {
        // sklearn's doc example: pairs (0.35 vs 0.1) win, (0.35 vs 0.4) lose, 0.8 wins twice.
        assert!(close(roc_auc(&[0, 0, 1, 1], &[0.1, 0.4, 0.35, 0.8]).unwrap(), 0.75));
        // All tied: every pair counts one half.
        assert!(close(roc_auc(&[0, 1, 0, 1], &[0.5, 0.5, 0.5, 0.5]).unwrap(), 0.5));
        // Positives 0.6, 0.9, 0.1 vs negatives 0.2, 0.6:
        // 0.6: beats 0.2 (1), ties 0.6 (0.5); 0.9: 2; 0.1: 0  => 3.5 / 6.
        let v = roc_auc(&[0, 0, 1, 1, 1], &[0.2, 0.6, 0.6, 0.9, 0.1]).unwrap();
        assert!(close(v, 3.5 / 6.0), "{v}");
        // Perfect and inverted rankings.
        assert!(close(roc_auc(&[0, 0, 1], &[0.1, 0.2, 0.9]).unwrap(), 1.0));
        assert!(close(roc_auc(&[1, 1, 0], &[0.1, 0.2, 0.9]).unwrap(), 0.0));
    }

    #[test]
    fn auc_matches_pairwise_and_trapezoid_on_random_ties() {
        let mut rng = crate::rng::Rng::new(3);
        for _ in 0..50 {
            let n = 2 + rng.below(40);
            let mut labels: Vec<u8> = (0..n).map(|_| rng.below(2) as u8).collect();
            labels[0] = 0;
            labels[1] = 1;
            // Few distinct values: many ties.
            let scores: Vec<f32> = (0..n).map(|_| rng.below(5) as f32 / 4.0).collect();
            let a = roc_auc(&labels, &scores).unwrap();
            assert!((a - pairwise(&labels, &scores)).abs() < 1e-9);
            let roc = roc_curve(&labels, &scores).unwrap();
            assert!((a - trapezoid_auc(&roc)).abs() < 1e-9);
            // The same scores widened to f64 (as read back from a result file) give the same.
            let wide: Vec<f64> = scores.iter().map(|&s| s as f64).collect();
            assert_eq!(roc_auc(&labels, &wide).unwrap(), a);
            assert_eq!(evaluate(&labels, &wide).unwrap(), evaluate(&labels, &scores).unwrap());
            assert_eq!(roc_curve(&labels, &wide).unwrap(), roc);
            assert_eq!(roc.first().map(|p| (p.fpr, p.tpr)), Some((0.0, 0.0)));
            assert_eq!(roc.last().map(|p| (p.fpr, p.tpr)), Some((1.0, 1.0)));
        }
    }

    #[test]
    fn roc_points_hand_checked() {
        let roc = roc_curve(&[0, 0, 1, 1], &[0.1, 0.4, 0.35, 0.8]).unwrap();
        let pts: Vec<(f64, f64, f64)> = roc.iter().map(|p| (p.fpr, p.tpr, p.threshold)).collect();
        let exp = [(0.0, 0.0, 1.8), (0.0, 0.5, 0.8), (0.5, 0.5, 0.4), (0.5, 1.0, 0.35), (1.0, 1.0, 0.1)];
        assert_eq!(pts.len(), exp.len());
        for (p, e) in pts.iter().zip(exp) {
            assert!((p.0 - e.0).abs() < 1e-9 && (p.1 - e.1).abs() < 1e-9 && (p.2 - e.2).abs() < 1e-6, "{p:?} vs {e:?}");
        }
    }

    #[test]
    fn confusion_and_accuracy_hand_checked() {
        // y:      0    0    1    1    1    0
        // score: .2   .7   .9   .5   .6   .5   (> 0.5 predicts 1; exactly 0.5 predicts 0)
        let y = [0, 0, 1, 1, 1, 0];
        let s = [0.2, 0.7, 0.9, 0.5, 0.6, 0.5];
        let c = confusion(&y, &s, THRESHOLD).unwrap();
        // tn: idx 0, 5 -> 2; fp: idx 1 -> 1; fn: idx 3 -> 1; tp: idx 2, 4 -> 2.
        assert_eq!(c, Confusion([[2, 1], [1, 2]]));
        assert_eq!((c.tn(), c.fp(), c.fn_(), c.tp()), (2, 1, 1, 2));
        assert!(close(accuracy(&y, &s, THRESHOLD).unwrap(), 4.0 / 6.0));
        let e = evaluate(&y, &s).unwrap();
        assert!(close(e.acc, 4.0 / 6.0));
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert_eq!(roc_auc(&[0, 1], &[0.1]), Err(MetricsError::Length { labels: 2, scores: 1 }));
        assert_eq!(roc_auc::<f32>(&[], &[]), Err(MetricsError::Empty));
        assert_eq!(roc_auc(&[1, 1], &[0.1, 0.2]), Err(MetricsError::OneClass { positives: 2, negatives: 0 }));
        assert!(matches!(roc_auc(&[0, 1], &[f32::NAN, 0.2]), Err(MetricsError::NotFinite { index: 0, .. })));
        assert_eq!(accuracy(&[0, 2], &[0.1, 0.2], 0.5), Err(MetricsError::Label(2)));
    }
}

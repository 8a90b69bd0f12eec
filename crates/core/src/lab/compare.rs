//! The lab's comparisons: each row against its model's `base` row (paired bootstrap intervals
//! over the images) and each row's own intervals, on the label-1 AUC for two classes and on the
//! Evaluator's task figures otherwise. Seeded per row, so a report is reproducible.

use super::{LabRow, Method, Versus};
use crate::evaluator;
use crate::stats;

/// What the paired comparisons need of the data: the labels of validation and test, the test
/// images of the de-duplicated subset, and for data other than two classes how the Evaluator
/// scores it.
pub struct Labels<'a> {
    pub val: &'a [u8],
    pub test: &'a [u8],
    pub dedup_test: &'a [usize],
    pub task: Option<TaskLabels>,
    /// Bootstrap resamples of every interval ([`resamples_for`]).
    pub resamples: usize,
}

/// The bootstrap resamples for `images` test images of `k` columns: [`stats::RESAMPLES`]
/// (2,000) up to 50,000 image-columns, fewer beyond (at least 200), so a large set's comparisons
/// stay within minutes (ChestMNIST: 22,433 images × 14 labels, 318 resamples).
pub fn resamples_for(images: usize, k: usize) -> usize {
    const BUDGET: usize = 50_000;
    let size = images.max(1) * k.max(1);
    if size <= BUDGET { stats::RESAMPLES } else { (stats::RESAMPLES * BUDGET / size).max(200) }
}

/// How the Evaluator scores data other than two classes: the task, the labels' shape and the
/// score columns.
#[derive(Clone, Copy, Debug)]
pub struct TaskLabels {
    pub task: breastmnist_data::Task,
    pub targets: breastmnist_data::Targets,
    pub k: usize,
}

/// Fills every row's intervals of its mean test AUC and ACC (bootstrap seeded per row, so a
/// report is reproducible): the Evaluator's figures for data other than two classes.
pub fn interval_rows(rows: &mut [LabRow], labels: &Labels) {
    for (i, row) in rows.iter_mut().enumerate() {
        let Some(runs) = row.scores(|s| &s.test) else { continue };
        let seed = 2_000 + i as u64;
        let cis = match labels.task {
            Some(t) => evaluator::bootstrap_runs(t.task, t.targets, labels.test, &runs, t.k, labels.resamples, seed),
            None => stats::bootstrap_runs(labels.test, &runs, labels.resamples, seed),
        };
        (row.test_auc_ci, row.test_acc_ci) = (cis.map(|c| c.0), cis.map(|c| c.1));
    }
}

/// Fills every row's [`Versus`] against its model's `base` row (bootstrap seeded per row, so a
/// report is reproducible).
pub fn compare_to_base(rows: &mut [LabRow], labels: &Labels) {
    let bases: Vec<LabRow> = rows.iter().filter(|r| r.method == Method::Base).cloned().collect();
    let (labels_task, resamples) = (labels.task, labels.resamples);
    for (i, row) in rows.iter_mut().enumerate() {
        let Some(base) = bases.iter().find(|b| b.model == row.model).filter(|_| row.method != Method::Base) else { continue };
        let seed = 1_000 + i as u64;
        let diff = |labels: &[u8], a: Option<Vec<Vec<f64>>>, b: Option<Vec<Vec<f64>>>| match labels_task {
            Some(t) => evaluator::paired_difference(t.task, t.targets, labels, &a?, &b?, t.k, resamples, seed),
            None => stats::paired_difference(labels, &a?, &b?, resamples, seed),
        };
        let (Some(val), Some(test)) = (
            diff(labels.val, row.scores(|s| &s.val), base.scores(|s| &s.val)),
            diff(labels.test, row.scores(|s| &s.test), base.scores(|s| &s.test)),
        ) else {
            continue;
        };
        let keep = |runs: Option<Vec<Vec<f64>>>| {
            runs.map(|r| r.iter().map(|s| labels.dedup_test.iter().map(|&i| s[i]).collect()).collect())
        };
        let dedup_labels: Vec<u8> = labels.dedup_test.iter().map(|&i| labels.test[i]).collect();
        let dedup_test = match labels_task {
            // The audit's twins are of two-class data.
            Some(_) => None,
            None => diff(&dedup_labels, keep(row.scores(|s| &s.test)), keep(base.scores(|s| &s.test))),
        };
        row.versus_base = Some(Versus { val, test, dedup_test });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::{LabRun, Scores};
    use crate::train::Preset;

    /// A run whose validation and test scores are `scores`, with its figures as `metrics` gives.
    fn scored(seed: u64, scores: Vec<f64>, (auc, acc): (f64, f64)) -> LabRun {
        LabRun {
            seed,
            val_auc: auc,
            val_acc: acc,
            test_auc: auc,
            test_acc: acc,
            dedup_test_auc: None,
            dedup_test_acc: None,
            seconds: 1.0,
            scores: Some(Scores { val: scores.clone(), test: scores }),
            from: None,
        }
    }

    #[test]
    fn large_sets_take_fewer_resamples() {
        assert_eq!(resamples_for(156, 1), 2_000);
        assert_eq!(resamples_for(400, 5), 2_000);
        assert_eq!(resamples_for(22_433, 14), 318);
        assert_eq!(resamples_for(10_000_000, 14), 200);
    }

    #[test]
    fn row_intervals_are_seeded_and_hold_the_rows_figures() {
        use breastmnist_data::{Targets, Task as DataTask};
        let mut rng = crate::rng::Rng::new(3);
        // Two classes: label-1 scores, AUC and ACC at 0.5.
        let labels: Vec<u8> = (0..90).map(|i| u8::from(i % 3 != 0)).collect();
        let all: Vec<usize> = (0..labels.len()).collect();
        let runs: Vec<LabRun> = (0..3)
            .map(|seed| {
                let s: Vec<f64> = labels.iter().map(|&l| 0.35 * f64::from(l) + 0.65 * rng.unit()).collect();
                let figures = (stats::auc_at(&labels, &s, &all).unwrap(), stats::acc_at(&labels, &s, &all).unwrap());
                scored(seed, s, figures)
            })
            .collect();
        let binary = Labels { val: &labels, test: &labels, dedup_test: &[], task: None, resamples: 2_000 };
        let mut rows = vec![LabRow::new(Method::Base, "c8", Preset::Reader.config(), runs)];
        interval_rows(&mut rows, &binary);
        let (auc, acc) = (rows[0].test_auc_ci.unwrap(), rows[0].test_acc_ci.unwrap());
        assert!(auc.contains(rows[0].test_auc.mean) && auc.hi - auc.lo > 0.02, "{auc:?} {:?}", rows[0].test_auc);
        assert!(acc.contains(rows[0].test_acc.mean) && acc.hi - acc.lo > 0.02, "{acc:?} {:?}", rows[0].test_acc);
        let again = rows.clone();
        interval_rows(&mut rows, &binary);
        assert_eq!(rows, again, "seeded");

        // Three classes: the Evaluator's mean one-vs-rest AUC and argmax ACC over k columns.
        let labels: Vec<u8> = (0..90).map(|i| (i % 3) as u8).collect();
        let t = TaskLabels { task: DataTask::MultiClass, targets: Targets::Classes(3), k: 3 };
        let runs: Vec<LabRun> = (0..3)
            .map(|seed| {
                let s: Vec<f64> = labels
                    .iter()
                    .flat_map(|&l| (0..3).map(|j| rng.unit() + if j == l as usize { 0.4 } else { 0.0 }).collect::<Vec<_>>())
                    .collect();
                let m = evaluator::evaluate(t.task, t.targets, &labels, &s, 3).unwrap();
                scored(seed, s, (m.auc, m.acc))
            })
            .collect();
        let task = Labels { val: &labels, test: &labels, dedup_test: &[], task: Some(t), resamples: 2_000 };
        let mut rows = vec![LabRow::new(Method::Base, "c8", Preset::Reader.config(), runs.clone())];
        rows.push(LabRow::new(Method::NoTta, "c8", Preset::Reader.config(), runs[..2].to_vec()));
        compare_to_base(&mut rows, &task);
        interval_rows(&mut rows, &task);
        for row in &rows {
            let (auc, acc) = (row.test_auc_ci.unwrap(), row.test_acc_ci.unwrap());
            assert!(auc.contains(row.test_auc.mean) && acc.contains(row.test_acc.mean), "{auc:?} {acc:?}");
        }
        // The second row (two of the base row's three runs) against base: the gap of the means.
        let versus = rows[1].versus_base.unwrap();
        assert!((versus.test.delta - (rows[1].test_auc.mean - rows[0].test_auc.mean)).abs() < 1e-12, "{versus:?}");
        assert_eq!(versus.dedup_test, None, "no de-duplicated subset for other tasks");
    }
}

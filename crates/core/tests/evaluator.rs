//! The Evaluator of every task against (1) numbers the `medmnist` 3.0.2 package's own
//! `getAUC`/`getACC` printed for committed inputs (fixtures/evaluator_cases.json) and (2) an
//! independent pairwise implementation written here, on random inputs with ties.

use breastmnist_core::evaluator::{Confusions, evaluate};
use breastmnist_core::rng::Rng;
use breastmnist_data::{Targets, Task, catalog};

#[derive(serde::Deserialize)]
struct Case {
    name: String,
    task: String,
    k: usize,
    labels: Vec<u8>,
    scores: Vec<f64>,
    auc: f64,
    acc: f64,
}

#[derive(serde::Deserialize)]
struct Cases {
    cases: Vec<Case>,
}

#[test]
fn every_task_prints_what_the_medmnist_evaluator_prints() {
    let cases: Cases = serde_json::from_str(include_str!("fixtures/evaluator_cases.json")).unwrap();
    assert_eq!(cases.cases.len(), 4);
    for c in &cases.cases {
        let task = Task::parse(&c.task).expect("an INFO task name");
        let classes = if task == Task::Binary { 2 } else { c.k };
        let m = evaluate(task, catalog::targets(task, classes), &c.labels, &c.scores, c.k).expect(&c.name);
        assert!((m.auc - c.auc).abs() < 1e-12, "{}: AUC {} vs the package's {}", c.name, m.auc, c.auc);
        assert!((m.acc - c.acc).abs() < 1e-12, "{}: ACC {} vs the package's {}", c.name, m.acc, c.acc);
    }
}

/// P(score of a positive > score of a negative) + half the ties, over every pair.
fn pairwise_auc(truth: &[bool], score: &[f64]) -> f64 {
    let (mut wins, mut pairs) = (0.0, 0.0);
    for (i, &ti) in truth.iter().enumerate() {
        for (j, &tj) in truth.iter().enumerate() {
            if ti && !tj {
                pairs += 1.0;
                wins += if score[i] > score[j] {
                    1.0
                } else if score[i] == score[j] {
                    0.5
                } else {
                    0.0
                };
            }
        }
    }
    wins / pairs
}

#[test]
fn random_inputs_agree_with_a_pairwise_count() {
    let mut rng = Rng::new(11);
    for round in 0..30 {
        let k = 2 + rng.below(5);
        let n = 3 * k + rng.below(40);
        // Scores on a coarse grid, so ties (and exact 0.5) are common.
        let scores: Vec<f64> = (0..n * k).map(|_| rng.below(11) as f64 / 10.0).collect();
        for task in [Task::MultiClass, Task::Ordinal, Task::MultiLabel] {
            let labels: Vec<u8> = match task {
                Task::MultiLabel => (0..n * k)
                    .map(|i| {
                        if i < k {
                            0
                        } else if i < 2 * k {
                            1
                        } else {
                            rng.below(2) as u8
                        }
                    })
                    .collect(),
                _ => (0..n).map(|i| if i < k { i as u8 } else { rng.below(k) as u8 }).collect(),
            };
            let m = evaluate(task, catalog::targets(task, k), &labels, &scores, k).unwrap();
            let col = |j: usize| -> Vec<f64> { (0..n).map(|i| scores[i * k + j]).collect() };
            let per: Vec<f64> = (0..k)
                .map(|j| {
                    let truth: Vec<bool> = match task {
                        Task::MultiLabel => (0..n).map(|i| labels[i * k + j] == 1).collect(),
                        _ => labels.iter().map(|&l| l as usize == j).collect(),
                    };
                    pairwise_auc(&truth, &col(j))
                })
                .collect();
            for (a, b) in m.per_class_auc.iter().zip(&per) {
                assert!((a - b).abs() < 1e-12, "round {round} {task}: {a} vs {b}");
            }
            assert!((m.auc - per.iter().sum::<f64>() / k as f64).abs() < 1e-12);
            let acc = match task {
                Task::MultiLabel => {
                    let hits = (0..n * k).filter(|&i| (scores[i] > 0.5) == (labels[i] == 1)).count();
                    hits as f64 / (n * k) as f64
                }
                _ => {
                    // First index of the row's maximum, written out by hand.
                    let first_max = |i: usize| {
                        let row = &scores[i * k..(i + 1) * k];
                        let max = row.iter().cloned().fold(f64::MIN, f64::max);
                        row.iter().position(|&v| v == max).unwrap()
                    };
                    (0..n).filter(|&i| first_max(i) == labels[i] as usize).count() as f64 / n as f64
                }
            };
            assert!((m.acc - acc).abs() < 1e-12, "round {round} {task}: ACC {} vs {acc}", m.acc);
            match (&m.confusion, task) {
                (Confusions::Classes(c), Task::MultiClass | Task::Ordinal) => {
                    assert_eq!(c.len(), k);
                    assert_eq!(c.iter().flatten().sum::<u32>() as usize, n);
                    let diagonal: u32 = (0..k).map(|i| c[i][i]).sum();
                    assert!((diagonal as f64 / n as f64 - m.acc).abs() < 1e-12);
                }
                (Confusions::PerLabel(c), Task::MultiLabel) => {
                    assert_eq!(c.len(), k);
                    assert!(c.iter().all(|m| m.iter().flatten().sum::<u32>() as usize == n));
                }
                (other, task) => panic!("{task}: {other:?}"),
            }
        }
        // Binary: the pairwise count on the last column.
        let labels: Vec<u8> = (0..n).map(|i| if i < 2 { i as u8 } else { rng.below(2) as u8 }).collect();
        let p1: Vec<f64> = (0..n).map(|i| scores[i * k]).collect();
        let two: Vec<f64> = p1.iter().flat_map(|&p| [1.0 - p, p]).collect();
        let m = evaluate(Task::Binary, Targets::Classes(2), &labels, &two, 2).unwrap();
        let truth: Vec<bool> = labels.iter().map(|&l| l == 1).collect();
        assert!((m.auc - pairwise_auc(&truth, &p1)).abs() < 1e-12);
        let acc = (0..n).filter(|&i| (p1[i] > 0.5) == truth[i]).count() as f64 / n as f64;
        assert!((m.acc - acc).abs() < 1e-12);
    }
}

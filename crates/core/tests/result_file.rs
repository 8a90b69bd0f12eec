//! MedMNIST's standard result files of a real short run: their names and shape, and the AUC and
//! ACC recomputed from each file alone (with the evaluator's definitions) against the run's JSON.

mod common;

use std::sync::Arc;

use breastmnist_core::Device;
use breastmnist_core::checkpoint::Checkpoint;
use breastmnist_core::export::{Environment, MetricsFile};
use breastmnist_core::model::ModelSize;
use breastmnist_core::result_file::{self, ResultFile};
use breastmnist_core::train::{Selection, TrainConfig, Trainer, evaluate_checkpoint, run_to_end};
use breastmnist_data::{Dataset, Split};

fn data() -> Arc<Dataset> {
    Arc::new(common::real_dataset("breastmnist.npz").unwrap_or_else(|| common::synthetic_dataset(28, [546, 78, 156], 1).0))
}

/// Checks one file against the split's labels and the JSON's metrics for that split.
fn check(file: &ResultFile, split: Split, labels: &[u8], auc: f64, acc: f64, run: &str) {
    let name = result_file::parse_name(&file.name).unwrap();
    assert_eq!((name.side, name.split, name.run.as_str()), (28, split, run));
    assert_eq!(file.name, format!("breastmnist_{split}_[AUC]{auc:.3}_[ACC]{acc:.3}@{run}.csv"));
    assert!((name.auc - auc).abs() <= 5e-4 && (name.acc - acc).abs() <= 5e-4, "the name rounds the metrics");
    // Shape: one line per image, three columns, indices 0..n-1 in order, scores summing to 1.
    let lines: Vec<&str> = file.contents.lines().collect();
    assert_eq!(lines.len(), labels.len());
    for (i, line) in lines.iter().enumerate() {
        let cols: Vec<&str> = line.split(',').collect();
        assert_eq!(cols.len(), 3, "{line}");
        assert_eq!(cols[0], i.to_string());
        let (s0, s1): (f64, f64) = (cols[1].parse().unwrap(), cols[2].parse().unwrap());
        assert!((s0 + s1 - 1.0).abs() < 1e-6 && (0.0..=1.0).contains(&s1), "{line}");
    }
    // The metrics from the file alone equal the JSON's (the scores read back exactly).
    let rows = result_file::parse(&file.contents).unwrap();
    let ev = result_file::evaluate(labels, &rows).unwrap();
    assert!((ev.auc - auc).abs() < 1e-12, "{split}: AUC {} from the file, {auc} in the JSON", ev.auc);
    assert!((ev.acc - acc).abs() < 1e-12, "{split}: ACC {} from the file, {acc} in the JSON", ev.acc);
}

#[test]
fn a_runs_result_files_are_standard_and_reproduce_its_metrics() {
    let d = data();
    let config = TrainConfig::new()
        .with_model(ModelSize::C8)
        .with_epochs(2)
        .with_batch_size(32)
        .with_subset(Some(64))
        .with_seed(4)
        .with_selection(Selection::BestValAuc);
    let mut trainer = Trainer::new(config, d.clone(), &Device::flex()).unwrap();
    let result = common::run(run_to_end(&mut trainer, |_| {})).unwrap().unwrap();
    let json = MetricsFile::from_json(&MetricsFile::new(&result, Environment::new("flex", "cpu")).to_json()).unwrap();
    assert_eq!(json.val.predictions.len(), d.val.len());
    let kept = result.history.iter().find(|m| m.epoch == result.best_epoch).unwrap();
    assert_eq!(kept.val_auc, json.val.auc, "the val predictions are the kept epoch's");

    let run = result_file::run_name(&result);
    assert_eq!(run, "c8-seed4");
    let files = result_file::result_files(&result, &run);
    assert_eq!(files.len(), 2);
    check(&files[0], Split::Val, &d.val.labels, json.val.auc, json.val.acc, &run);
    check(&files[1], Split::Test, &d.test.labels, json.test.auc, json.test.acc, &run);

    // The kept model's checkpoint, evaluated afresh, writes the same scores.
    let ckpt = Checkpoint::from_bytes(&common::run(trainer.best_checkpoint()).unwrap().unwrap()).unwrap();
    let (evaluated, _) = common::run(evaluate_checkpoint(&ckpt, &d, &Device::flex(), false)).unwrap();
    assert_eq!(result_file::run_name(&evaluated), "c8");
    let again = result_file::result_files(&evaluated, &run);
    assert_eq!(again, files);
}

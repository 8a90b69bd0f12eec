//! Exports of a finished run: the metrics JSON (schema version 1, see `SCHEMA.md`) and the
//! test predictions as CSV.
//!
//! Owns the layout of those documents and nothing else: it turns a [`RunResult`] plus an
//! [`Environment`] into text and back. It must not know about files, tensors or the browser.

use serde::{Deserialize, Serialize};

use crate::evaluator::TaskMetrics;
use crate::metrics::{Confusion, RocPoint};
use crate::model::ModelConfig;
use crate::model::conv_check::Settled;
use crate::train::{EpochMetrics, Prediction, RunResult, TestReport, TrainConfig};

/// The version of the metrics JSON layout this crate writes for two-class data (BreastMNIST).
pub const SCHEMA_VERSION: u32 = 1;

/// The version it writes for other data (k classes, ordinal grades, multi-label): version 1
/// plus the `dataset` key. Both versions are read.
pub const SCHEMA_VERSION_TASK: u32 = 2;

/// The exact top-level keys of the metrics JSON (version 1), in order; version 2 adds `dataset`.
pub const TOP_LEVEL_KEYS: [&str; 6] = ["schema_version", "config", "environment", "history", "val", "test"];

/// The burn version the core is built with.
pub const BURN_VERSION: &str = "0.22.1";

/// Errors reading or writing exports.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExportError {
    #[error("the metrics JSON is invalid: {0}")]
    Json(String),
    #[error("the metrics JSON has schema_version {0}; this build reads versions {SCHEMA_VERSION} and {SCHEMA_VERSION_TASK}")]
    Version(u64),
}

/// Where a run was computed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    /// `flex` (CPU), `wgpu`/`webgpu`, or the CLI's `vulkan`/`cuda`.
    pub backend: String,
    /// The GPU adapter's name, or `cpu`.
    pub adapter: String,
    pub burn_version: String,
    /// The version of this crate.
    pub core_version: String,
    /// How the convolutions ran (`direct` or `gemm`) and, for `gemm`, its check against burn's
    /// kernel on this device. Absent in files written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conv: Option<Settled>,
}

impl Environment {
    pub fn new(backend: impl Into<String>, adapter: impl Into<String>) -> Self {
        Environment {
            backend: backend.into(),
            adapter: adapter.into(),
            burn_version: BURN_VERSION.to_string(),
            core_version: env!("CARGO_PKG_VERSION").to_string(),
            conv: None,
        }
    }

    /// This environment, recording how the run's convolutions ran.
    #[must_use]
    pub fn with_conv(self, conv: Settled) -> Self {
        Environment { conv: Some(conv), ..self }
    }
}

/// `config`: the training configuration (flattened) plus the model's configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    #[serde(flatten)]
    pub train: TrainConfig,
    pub model_config: ModelConfig,
}

/// `val`: the kept model's validation metrics and its epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ValSummary {
    pub auc: f64,
    pub acc: f64,
    /// The 1-based epoch chosen by validation AUC.
    pub epoch: usize,
    /// `[[tn, fp], [fn, tp]]`, label 1 positive.
    pub confusion: Confusion,
    /// One prediction per validation image, in split order. Optional: absent in files written
    /// before it existed (read as empty), and not written when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub predictions: Vec<Prediction>,
}

/// `dataset` (schema version 2): which data a run other than BreastMNIST's two classes was on,
/// and the MedMNIST Evaluator's report of its kept model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DatasetSection {
    /// The catalog flag (`retinamnist`), or `null` for a custom file.
    pub flag: Option<breastmnist_data::Flag>,
    pub task: breastmnist_data::Task,
    /// One name per class (or label), in output order.
    pub labels: Vec<String>,
    pub val: TaskMetrics,
    pub test: TaskMetrics,
}

/// The Evaluator's binary report of one split's predictions (`None` without predictions, or
/// where it is undefined: one class only).
fn binary_metrics(predictions: &[Prediction]) -> Option<TaskMetrics> {
    let labels: Vec<u8> = predictions.iter().map(|p| p.label).collect();
    let scores: Vec<f64> = predictions.iter().flat_map(|p| [1.0 - p.score, p.score]).collect();
    let task = breastmnist_data::Task::Binary;
    crate::evaluator::evaluate(task, breastmnist_data::Targets::Classes(2), &labels, &scores, 2).ok()
}

/// The metrics JSON document (schema version 1; version 2 adds `dataset`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricsFile {
    pub schema_version: u32,
    pub config: RunConfig,
    pub environment: Environment,
    pub history: Vec<EpochMetrics>,
    pub val: ValSummary,
    pub test: TestReport,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<DatasetSection>,
}

impl MetricsFile {
    /// The document of `result` computed in `environment`.
    pub fn new(result: &RunResult, environment: Environment) -> Self {
        MetricsFile {
            schema_version: SCHEMA_VERSION,
            config: RunConfig { train: result.config.clone(), model_config: result.model.clone() },
            environment,
            history: result.history.clone(),
            val: ValSummary {
                auc: result.val.auc,
                acc: result.val.acc,
                epoch: result.best_epoch,
                confusion: result.val.confusion,
                predictions: result.val_predictions.clone(),
            },
            test: result.test.clone(),
            dataset: None,
        }
        .with_dataset(result, None, &[])
    }

    /// The document, naming the dataset `flag` and its `labels` (from the catalog) when the run
    /// has a k-class report ([`RunResult::task`]); unchanged (version 1) otherwise. Labels not
    /// given are named by their index.
    #[must_use]
    pub fn with_dataset(mut self, result: &RunResult, flag: Option<breastmnist_data::Flag>, labels: &[&str]) -> Self {
        let named = |k: usize| (0..k).map(|i| labels.get(i).map_or_else(|| i.to_string(), |l| l.to_string())).collect();
        if let Some(task) = &result.task {
            let task_name = flag.map_or(task.task, |f| f.entry().task);
            self.schema_version = SCHEMA_VERSION_TASK;
            self.dataset = Some(DatasetSection {
                flag,
                task: task_name,
                labels: named(task.classes),
                val: task.val.clone(),
                test: task.test.clone(),
            });
        } else if let Some(flag) = flag.filter(|&f| f != breastmnist_data::Flag::Breast)
            && let (Some(val), Some(test)) = (binary_metrics(&result.val_predictions), binary_metrics(&result.test.predictions))
        {
            // Two classes of another set than BreastMNIST: the Evaluator's binary report names
            // the set, and BreastMNIST's malignant rates (class 0 as positive) are not its.
            self.schema_version = SCHEMA_VERSION_TASK;
            self.test.malignant = None;
            self.dataset =
                Some(DatasetSection { flag: Some(flag), task: breastmnist_data::Task::Binary, labels: named(2), val, test });
        }
        self
    }

    /// Pretty-printed JSON.
    pub fn to_json(&self) -> String {
        // Serialising these plain structs cannot fail (no maps with non-string keys); non-finite
        // floats become `null`.
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// Parses a metrics JSON, checking its schema version first.
    pub fn from_json(text: &str) -> Result<Self, ExportError> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| ExportError::Json(e.to_string()))?;
        let version = value.get("schema_version").and_then(|v| v.as_u64()).unwrap_or(0);
        if version != u64::from(SCHEMA_VERSION) && version != u64::from(SCHEMA_VERSION_TASK) {
            return Err(ExportError::Version(version));
        }
        let has_dataset = value.get("dataset").is_some_and(|d| !d.is_null());
        if has_dataset != (version == u64::from(SCHEMA_VERSION_TASK)) {
            return Err(ExportError::Json(format!(
                "schema_version {version} {} a `dataset` key",
                if has_dataset { "has" } else { "lacks" }
            )));
        }
        serde_json::from_value(value).map_err(|e| ExportError::Json(e.to_string()))
    }

    /// Test AUC as a convenience.
    pub fn test_auc(&self) -> f64 {
        self.test.auc
    }

    /// Test ROC curve as a convenience.
    pub fn roc(&self) -> &[RocPoint] {
        &self.test.roc
    }
}

/// An ensemble's document (`breastmnist ensemble`): its members, the rule that combines them
/// (the mean of the members' softmax probabilities, each with flip TTA when `tta`), and the
/// combined model's validation and test metrics in the layout of [`MetricsFile`]'s.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnsembleFile {
    pub schema_version: u32,
    /// Always `"mean-probability"`.
    pub kind: String,
    pub members: Vec<EnsembleMember>,
    pub tta: bool,
    pub environment: Environment,
    pub val: ValSummary,
    pub test: TestReport,
}

/// One member of an ensemble: its weights' file (by name and MD5, never a machine's path) and its
/// architecture.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnsembleMember {
    /// The file's name.
    pub source: String,
    /// The file's MD5 (hex). Absent in files written before it existed.
    #[serde(default)]
    pub md5: String,
    pub model_config: ModelConfig,
}

impl EnsembleFile {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}

/// The test predictions as CSV: header `id,label,score`, one row per test image in the order
/// of the official test split; `id` is the index in that split, `label` the true label (0
/// malignant, 1 normal/benign), `score` the softmax probability of label 1.
pub fn predictions_csv(predictions: &[Prediction]) -> String {
    let mut out = String::from("id,label,score\n");
    for p in predictions {
        out.push_str(&format!("{},{},{:.8}\n", p.index, p.label, p.score));
    }
    out
}

/// The test predictions of a k-class run as CSV: header `id,label,p_0,...,p_k-1` (multi-label:
/// `id,label_0,...,label_k-1,p_0,...`), one row per test image in split order, probabilities
/// with 8 decimals.
pub fn task_predictions_csv(labels: &[u8], width: usize, probs: &[f32], k: usize) -> String {
    let columns = |prefix: &str, n: usize| (0..n).map(|j| format!(",{prefix}_{j}")).collect::<String>();
    let label_header = if width > 1 { columns("label", width).trim_start_matches(',').to_string() } else { "label".into() };
    let mut out = format!("id,{label_header}{}\n", columns("p", k));
    for (i, (ls, ps)) in labels.chunks(width.max(1)).zip(probs.chunks(k.max(1))).enumerate() {
        out.push_str(&i.to_string());
        ls.iter().for_each(|l| out.push_str(&format!(",{l}")));
        ps.iter().for_each(|p| out.push_str(&format!(",{p:.8}")));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{self, Evaluation};
    use crate::model::ModelSize;
    use crate::train::TestReport;

    fn sample() -> RunResult {
        let labels = [0u8, 1, 1, 0, 1];
        let scores = [0.2f32, 0.9, 0.4, 0.6, 0.7];
        let ev = metrics::evaluate(&labels, &scores).unwrap();
        RunResult {
            config: TrainConfig::new().with_model(ModelSize::Tiny).with_epochs(2),
            model: ModelConfig::of(ModelSize::Tiny),
            history: vec![EpochMetrics {
                epoch: 1,
                train_loss: 0.7,
                train_acc: 0.5,
                val_loss: 0.69,
                val_acc: 0.6,
                val_auc: 0.75,
                lr: 1e-3,
                is_best: true,
            }],
            best_epoch: 1,
            val: Evaluation { auc: 0.75, acc: 0.6, confusion: metrics::Confusion([[1, 1], [0, 2]]) },
            test: TestReport {
                auc: ev.auc,
                acc: ev.acc,
                confusion: ev.confusion,
                roc: metrics::roc_curve(&labels, &scores).unwrap(),
                predictions: labels
                    .iter()
                    .zip(scores)
                    .enumerate()
                    .map(|(index, (&label, s))| Prediction { index, label, score: s as f64 })
                    .collect(),
                auc_ci: None,
                malignant: None,
                deduplicated: None,
            },
            val_predictions: crate::train::predictions(&[0, 1, 1, 0, 1], &[0.3, 0.8, 0.6, 0.7, 0.4]),
            task: None,
        }
    }

    #[test]
    fn json_round_trips_with_exactly_the_schema_keys() {
        let file = MetricsFile::new(&sample(), Environment::new("flex", "cpu"));
        let text = file.to_json();
        let back = MetricsFile::from_json(&text).unwrap();
        assert_eq!(back, file);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut expected = TOP_LEVEL_KEYS.to_vec();
        expected.sort();
        let mut got = keys.clone();
        got.sort();
        assert_eq!(got, expected);
        assert_eq!(v["schema_version"], 1);
        for k in ["backend", "adapter", "burn_version"] {
            assert!(v["environment"][k].is_string(), "environment.{k}");
        }
        for k in ["epoch", "train_loss", "val_loss", "val_acc", "val_auc", "train_acc", "lr"] {
            assert!(v["history"][0][k].is_number(), "history.{k}");
        }
        for k in ["auc", "acc", "epoch"] {
            assert!(v["val"][k].is_number(), "val.{k}");
        }
        assert_eq!(v["test"]["confusion"], serde_json::json!([[1, 1], [1, 2]]));
        assert!(v["test"]["roc"][0]["fpr"].is_number() && v["test"]["roc"][0]["threshold"].is_number());
        assert_eq!(v["test"]["predictions"][1], serde_json::json!({"index": 1, "label": 1, "score": 0.8999999761581421}));
        assert_eq!(v["config"]["model"], "tiny");
        assert_eq!(v["config"]["model_config"]["size"], "tiny");
    }

    #[test]
    fn val_predictions_are_optional() {
        let file = MetricsFile::new(&sample(), Environment::new("flex", "cpu"));
        let mut v: serde_json::Value = serde_json::from_str(&file.to_json()).unwrap();
        assert_eq!(v["val"]["predictions"].as_array().map(Vec::len), Some(5));
        assert_eq!(v["val"]["predictions"][1], serde_json::json!({"index": 1, "label": 1, "score": 0.800000011920929}));
        // A file written before `val.predictions` existed still reads, as no predictions...
        v["val"].as_object_mut().unwrap().remove("predictions");
        let old = MetricsFile::from_json(&v.to_string()).unwrap();
        assert!(old.val.predictions.is_empty());
        // ...and a document without them writes none.
        let text = old.to_json();
        assert!(!text.contains("\"predictions\": []"), "{text}");
        assert_eq!(MetricsFile::from_json(&text).unwrap(), old);
        // A `RunResult` serialised before `val_predictions` existed reads too.
        let mut r = serde_json::to_value(sample()).unwrap();
        r.as_object_mut().unwrap().remove("val_predictions");
        let back: RunResult = serde_json::from_value(r).unwrap();
        assert!(back.val_predictions.is_empty());
    }

    #[test]
    fn wrong_version_and_garbage_are_errors() {
        let file = MetricsFile::new(&sample(), Environment::new("flex", "cpu"));
        let mut v: serde_json::Value = serde_json::from_str(&file.to_json()).unwrap();
        v["schema_version"] = serde_json::json!(3);
        assert_eq!(MetricsFile::from_json(&v.to_string()), Err(ExportError::Version(3)));
        assert!(matches!(MetricsFile::from_json("not json"), Err(ExportError::Json(_))));
    }

    #[test]
    fn a_k_class_run_writes_version_2_with_its_dataset_and_version_1_still_reads() {
        use crate::evaluator::{self, TaskMetrics};
        use breastmnist_data::{Flag, Targets, Task};
        let labels = [0u8, 1, 2, 0, 1, 2];
        let probs = [0.7f32, 0.2, 0.1, 0.1, 0.8, 0.1, 0.2, 0.2, 0.6, 0.3, 0.4, 0.3, 0.1, 0.5, 0.4, 0.3, 0.3, 0.4];
        let wide: Vec<f64> = probs.iter().map(|&p| f64::from(p)).collect();
        let m: TaskMetrics = evaluator::evaluate(Task::MultiClass, Targets::Classes(3), &labels, &wide, 3).unwrap();
        let mut result = sample();
        result.task = Some(crate::train::TaskRun {
            task: Task::MultiClass,
            classes: 3,
            val: m.clone(),
            test: m.clone(),
            val_probabilities: probs.to_vec(),
            test_probabilities: probs.to_vec(),
        });
        let file =
            MetricsFile::new(&result, Environment::new("flex", "cpu")).with_dataset(&result, Some(Flag::Retina), &["a", "b"]);
        let v: serde_json::Value = serde_json::from_str(&file.to_json()).unwrap();
        assert_eq!(v["schema_version"], 2);
        assert_eq!(v["dataset"]["flag"], "retinamnist");
        assert_eq!(v["dataset"]["task"], "ordinal-regression", "the catalog's task, scored as multi-class");
        assert_eq!(v["dataset"]["labels"], serde_json::json!(["a", "b", "2"]));
        assert_eq!(v["dataset"]["test"]["per_class_auc"].as_array().unwrap().len(), 3);
        assert_eq!(MetricsFile::from_json(&file.to_json()).unwrap(), file);
        // The version says whether `dataset` is there.
        let mut wrong = v.clone();
        wrong["schema_version"] = serde_json::json!(1);
        assert!(matches!(MetricsFile::from_json(&wrong.to_string()), Err(ExportError::Json(e)) if e.contains("has a `dataset`")));
        wrong["schema_version"] = serde_json::json!(2);
        wrong.as_object_mut().unwrap().remove("dataset");
        assert!(matches!(MetricsFile::from_json(&wrong.to_string()), Err(ExportError::Json(e)) if e.contains("lacks")));
        // A two-class BreastMNIST run stays version 1, with exactly its keys.
        let plain = MetricsFile::new(&sample(), Environment::new("flex", "cpu")).with_dataset(&sample(), Some(Flag::Breast), &[]);
        assert_eq!((plain.schema_version, plain.dataset.is_none()), (1, true));
    }

    #[test]
    fn a_two_class_run_on_another_set_names_it_without_breastmnist_s_malignant_rates() {
        use breastmnist_data::{Flag, Task};
        let mut result = sample();
        result.val_predictions = result.test.predictions.clone();
        result.test.malignant = Some(crate::train::Rates { sensitivity: 0.5, specificity: 1.0 });
        let file = MetricsFile::new(&result, Environment::new("flex", "cpu")).with_dataset(
            &result,
            Some(Flag::Pneumonia),
            &["normal", "pneumonia"],
        );
        let d = file.dataset.as_ref().expect("a dataset section");
        assert_eq!((file.schema_version, d.flag, d.task), (2, Some(Flag::Pneumonia), Task::Binary));
        assert_eq!(d.labels, ["normal", "pneumonia"]);
        // The Evaluator's binary AUC and ACC are the run's own, and each class has its AUC.
        assert_eq!((d.test.auc, d.test.acc, d.test.per_class_auc.len()), (result.test.auc, result.test.acc, 2));
        assert_eq!(file.test.malignant, None);
        assert_eq!(MetricsFile::from_json(&file.to_json()).unwrap(), file);
        // Without validation predictions (files from before them) it stays as it was.
        let mut before = sample();
        before.val_predictions.clear();
        let old = MetricsFile::new(&before, Environment::new("flex", "cpu")).with_dataset(&before, Some(Flag::Pneumonia), &[]);
        assert_eq!((old.schema_version, old.dataset.is_none()), (1, true));
    }

    #[test]
    fn k_class_csv_has_one_probability_column_per_class() {
        let csv = task_predictions_csv(&[2, 0], 1, &[0.1, 0.2, 0.7, 0.5, 0.25, 0.25], 3);
        assert_eq!(csv, "id,label,p_0,p_1,p_2\n0,2,0.10000000,0.20000000,0.69999999\n1,0,0.50000000,0.25000000,0.25000000\n");
        let ml = task_predictions_csv(&[1, 0], 2, &[0.9, 0.2], 2);
        assert_eq!(ml, "id,label_0,label_1,p_0,p_1\n0,1,0,0.89999998,0.20000000\n");
    }

    #[test]
    fn csv_has_header_and_one_row_per_prediction() {
        let csv = predictions_csv(&sample().test.predictions);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "id,label,score");
        assert_eq!(lines.len(), 6);
        assert_eq!(lines[2], "1,1,0.89999998");
    }
}

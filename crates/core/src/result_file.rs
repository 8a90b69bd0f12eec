//! MedMNIST's standard result file: the one the `medmnist` package's
//! `Evaluator.parse_and_evaluate(path)` reads and scores.
//!
//! The name is `{flag}_{split}_[AUC]{auc:.3f}_[ACC]{acc:.3f}@{run}.csv`, where `flag` is
//! `breastmnist` for the 28 px file and `breastmnist_{side}` for the others (the package's
//! `size_flag`). The text has no header and one line per image of the split, sorted by index:
//! `index,score_class0,score_class1`, the softmax probabilities of both classes (the evaluator
//! scores the last column: AUC with label 1 positive, ACC of `score_class1 > 0.5`). This module
//! owns that name and layout, the parser that reads them back, and the evaluator's definitions
//! on a parsed file ([`evaluate`]), so a test can recompute the metrics from the file alone.
//!
//! It must not know about files on disk, tensors or the browser: it turns predictions into a
//! name and a text, and a text back into rows.

use breastmnist_data::Split;

use crate::metrics::{self, Evaluation, MetricsError};
use crate::train::{Prediction, RunResult};

/// The dataset's flag in MedMNIST's names.
pub const FLAG: &str = "breastmnist";

/// The run name MedMNIST's scripts use when none is given (`--run model1`).
pub const DEFAULT_RUN: &str = "model1";

/// Errors reading a result file or its name.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ResultFileError {
    #[error("line {line}: {reason}")]
    Row { line: usize, reason: String },
    #[error("the result file has no rows")]
    Empty,
    #[error("the result file's indices are not 0 to {last} once each: {reason}")]
    Indices { last: usize, reason: String },
    #[error("'{0}' is not a standard result file name ({FLAG}[_SIDE]_SPLIT_[AUC]x.xxx_[ACC]x.xxx@RUN.csv)")]
    Name(String),
}

/// One result file: its standard name and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResultFile {
    pub name: String,
    pub contents: String,
}

impl ResultFile {
    /// The result file of one split: `predictions` in split order (label-1 scores), the
    /// split's `auc` and `acc` for the name, `side` the data file's image side (28, 64, ...).
    /// `run` is cleaned by [`run_id`].
    pub fn new(side: usize, split: Split, auc: f64, acc: f64, predictions: &[Prediction], run: &str) -> Self {
        ResultFile { name: file_name(side, split, auc, acc, run), contents: to_csv(predictions) }
    }
}

/// The result files of a run, validation then test, named with the run's own metrics and
/// `run` (e.g. [`run_name`]). A result without validation predictions (serialised before
/// [`RunResult::val_predictions`] existed) gives the test file alone.
pub fn result_files(result: &RunResult, run: &str) -> Vec<ResultFile> {
    let side = result.model.input_size;
    let mut files = Vec::with_capacity(2);
    if !result.val_predictions.is_empty() {
        files.push(ResultFile::new(side, Split::Val, result.val.auc, result.val.acc, &result.val_predictions, run));
    }
    files.push(ResultFile::new(side, Split::Test, result.test.auc, result.test.acc, &result.test.predictions, run));
    files
}

/// The default run name of a result: `{model}-seed{seed}` for a trained run, `{model}` for an
/// evaluated checkpoint (no epochs).
pub fn run_name(result: &RunResult) -> String {
    if result.history.is_empty() {
        result.config.model.name().to_string()
    } else {
        format!("{}-seed{}", result.config.model.name(), result.config.seed)
    }
}

/// `breastmnist` for 28 px images, `breastmnist_{side}` otherwise (MedMNIST's `size_flag`).
pub fn flag(side: usize) -> String {
    if side == 28 { FLAG.to_string() } else { format!("{FLAG}_{side}") }
}

/// `run` made safe for the name: every character other than ASCII letters, digits, `-` and
/// `_` becomes `-` (the evaluator reads the run back as the text between the last `@` and the
/// next `.`, and a `/` would make a folder); an empty run becomes [`DEFAULT_RUN`].
pub fn run_id(run: &str) -> String {
    if run.is_empty() {
        return DEFAULT_RUN.to_string();
    }
    run.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' }).collect()
}

/// The standard name: `{flag}_{split}_[AUC]{auc:.3f}_[ACC]{acc:.3f}@{run}.csv`.
pub fn file_name(side: usize, split: Split, auc: f64, acc: f64, run: &str) -> String {
    format!("{}_{}_[AUC]{auc:.3}_[ACC]{acc:.3}@{}.csv", flag(side), split.key(), run_id(run))
}

/// The text: one line `index,score_class0,score_class1` per prediction, no header. The label-1
/// score is written as stored, in Rust's shortest form that reads back to the same number (so
/// metrics recomputed from the file equal those computed before writing it); the class-0 score
/// is its complement `1 - score`, the other softmax probability of a two-class model.
pub fn to_csv(predictions: &[Prediction]) -> String {
    let mut out = String::with_capacity(predictions.len() * 44);
    for p in predictions {
        out.push_str(&format!("{},{},{}\n", p.index, 1.0 - p.score, p.score));
    }
    out
}

/// One line of a result file.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ResultRow {
    /// The image's position in its split.
    pub index: usize,
    /// The scores of class 0 (malignant) and class 1 (normal/benign).
    pub scores: [f64; 2],
}

/// Reads a result file's text into rows sorted by index (as the evaluator's
/// `read_csv(index_col=0, header=None).sort_index()`), checking that each line has an integer
/// index and two finite scores and that the indices are `0..n` once each. Blank lines are
/// skipped; a UTF-8 byte-order mark and `\r\n` line ends are accepted.
pub fn parse(text: &str) -> Result<Vec<ResultRow>, ResultFileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let row = |reason: String| ResultFileError::Row { line: i + 1, reason };
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let [index, s0, s1] = fields[..] else {
            return Err(row(format!("expected 3 fields (index,score_class0,score_class1), found {}", fields.len())));
        };
        let index = index.parse::<usize>().map_err(|_| row(format!("the index '{index}' is not a whole number")))?;
        let mut scores = [0.0; 2];
        for (slot, field) in scores.iter_mut().zip([s0, s1]) {
            *slot = match field.parse::<f64>() {
                Ok(v) if v.is_finite() => v,
                _ => return Err(row(format!("the score '{field}' is not a finite number"))),
            };
        }
        rows.push(ResultRow { index, scores });
    }
    if rows.is_empty() {
        return Err(ResultFileError::Empty);
    }
    rows.sort_by_key(|r| r.index);
    let last = rows.len() - 1;
    for (expected, r) in rows.iter().enumerate() {
        if r.index != expected {
            let reason = if r.index < expected {
                format!("index {} appears twice", r.index)
            } else {
                format!("index {expected} is missing")
            };
            return Err(ResultFileError::Indices { last, reason });
        }
    }
    Ok(rows)
}

/// What a standard name says.
#[derive(Clone, Debug, PartialEq)]
pub struct FileName {
    /// The data file's image side (28 when the flag has no size).
    pub side: usize,
    pub split: Split,
    /// The AUC and ACC in the name, rounded to 3 decimals.
    pub auc: f64,
    pub acc: f64,
    pub run: String,
}

/// Reads a standard name (as written by [`file_name`]).
pub fn parse_name(name: &str) -> Result<FileName, ResultFileError> {
    let bad = || ResultFileError::Name(name.to_string());
    let rest = name.strip_suffix(".csv").and_then(|n| n.strip_prefix(FLAG)).ok_or_else(bad)?;
    let rest = rest.strip_prefix('_').ok_or_else(bad)?;
    let (side, rest) = match rest.split_once('_') {
        Some((size, tail)) if !size.is_empty() && size.bytes().all(|b| b.is_ascii_digit()) => {
            (size.parse::<usize>().map_err(|_| bad())?, tail)
        }
        _ => (28, rest),
    };
    let (split, rest) = rest.split_once("_[AUC]").ok_or_else(bad)?;
    let split = Split::parse(split).ok_or_else(bad)?;
    let (auc, rest) = rest.split_once("_[ACC]").ok_or_else(bad)?;
    let (acc, run) = rest.split_once('@').ok_or_else(bad)?;
    let auc = auc.parse::<f64>().map_err(|_| bad())?;
    let acc = acc.parse::<f64>().map_err(|_| bad())?;
    Ok(FileName { side, split, auc, acc, run: run.to_string() })
}

/// The evaluator's metrics of parsed rows against the split's labels (in split order): AUC of
/// the last column (`score_class1`) with label 1 positive, and ACC of `score_class1 > 0.5`
/// (`medmnist.evaluator.getAUC`/`getACC` for a binary task), with the confusion matrix.
pub fn evaluate(labels: &[u8], rows: &[ResultRow]) -> Result<Evaluation, MetricsError> {
    let scores: Vec<f64> = rows.iter().map(|r| r.scores[1]).collect();
    metrics::evaluate(labels, &scores)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::predictions;

    fn sample() -> (Vec<u8>, Vec<f32>) {
        (vec![0, 1, 1, 0, 1, 0], vec![0.2, 0.9, 0.4, 0.6, 0.7, 0.5])
    }

    #[test]
    fn names_follow_medmnist() {
        assert_eq!(
            file_name(28, Split::Test, 0.91234, 0.8975, "c16-seed0"),
            "breastmnist_test_[AUC]0.912_[ACC]0.897@c16-seed0.csv"
        );
        assert_eq!(file_name(64, Split::Val, 1.0, 0.5, ""), "breastmnist_64_val_[AUC]1.000_[ACC]0.500@model1.csv");
        assert_eq!(run_id("my run/2.0@x"), "my-run-2-0-x");
        // Python's f"{x:.3f}" rounds the exact binary value, half to even; so does Rust's.
        assert_eq!(file_name(28, Split::Test, 0.5625, 0.0625, "a"), "breastmnist_test_[AUC]0.562_[ACC]0.062@a.csv");
    }

    #[test]
    fn names_read_back() {
        let n = parse_name("breastmnist_64_val_[AUC]0.875_[ACC]0.800@c8-seed3.csv").unwrap();
        assert_eq!(n, FileName { side: 64, split: Split::Val, auc: 0.875, acc: 0.8, run: "c8-seed3".into() });
        let n = parse_name(&file_name(28, Split::Test, 0.5, 0.25, "x_y")).unwrap();
        assert_eq!((n.side, n.split, n.auc, n.acc, n.run.as_str()), (28, Split::Test, 0.5, 0.25, "x_y"));
        for bad in
            ["pneumoniamnist_test_[AUC]0.5_[ACC]0.5@a.csv", "breastmnist_test.csv", "breastmnist_dev_[AUC]0.5_[ACC]0.5@a.csv"]
        {
            assert!(matches!(parse_name(bad), Err(ResultFileError::Name(_))), "{bad}");
        }
    }

    #[test]
    fn text_round_trips_and_scores_sum_to_one() {
        let (labels, scores) = sample();
        let text = to_csv(&predictions(&labels, &scores));
        assert_eq!(text.lines().next(), Some("0,0.7999999970197678,0.20000000298023224"));
        assert!(!text.contains("score"), "no header");
        let rows = parse(&text).unwrap();
        assert_eq!(rows.len(), 6);
        for (i, r) in rows.iter().enumerate() {
            assert_eq!(r.index, i);
            assert_eq!(r.scores[1], scores[i] as f64, "the label-1 score reads back exactly");
            assert!((r.scores[0] + r.scores[1] - 1.0).abs() < 1e-12);
        }
        let from_file = evaluate(&labels, &rows).unwrap();
        assert_eq!(from_file, metrics::evaluate(&labels, &scores).unwrap());
    }

    #[test]
    fn rows_are_sorted_by_index_like_the_evaluator() {
        let rows = parse("\u{feff}2,0.1,0.9\r\n0,0.6,0.4\r\n\r\n1,0.5,0.5\r\n").unwrap();
        assert_eq!(rows.iter().map(|r| r.index).collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!(rows[2].scores, [0.1, 0.9]);
        // ACC thresholds the last column with `> 0.5`: 0.5 predicts label 0.
        let ev = evaluate(&[0, 0, 1], &rows).unwrap();
        assert_eq!((ev.auc, ev.acc), (1.0, 1.0));
        let py = parse("0,0.6,0.4\n1,5e-01,5E-1\n2,1e-09,0.999999999\n").unwrap();
        assert_eq!(py[1].scores, [0.5, 0.5], "Python's exponent forms read too");
    }

    #[test]
    fn malformed_files_are_errors() {
        assert_eq!(parse(""), Err(ResultFileError::Empty));
        assert!(matches!(parse("0,0.5\n"), Err(ResultFileError::Row { line: 1, .. })));
        assert!(matches!(parse("id,score_0,score_1\n"), Err(ResultFileError::Row { line: 1, .. })));
        assert!(matches!(parse("0,0.5,0.5\n1,0.5,nan\n"), Err(ResultFileError::Row { line: 2, .. })));
        let e = parse("0,0.5,0.5\n0,0.5,0.5\n").unwrap_err();
        assert!(e.to_string().contains("index 0 appears twice"), "{e}");
        let e = parse("0,0.5,0.5\n2,0.5,0.5\n").unwrap_err();
        assert!(e.to_string().contains("index 1 is missing"), "{e}");
        let rows = parse("0,0.5,0.5\n").unwrap();
        assert_eq!(evaluate(&[0, 1], &rows), Err(MetricsError::Length { labels: 2, scores: 1 }));
    }
}

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

use breastmnist_data::{Flag, Size, Split};

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

/// The result files of a BreastMNIST run, validation then test, named with the run's own
/// metrics and `run` (e.g. [`run_name`]). A result without validation predictions (serialised
/// before [`RunResult::val_predictions`] existed) gives the test file alone.
pub fn result_files(result: &RunResult, run: &str) -> Vec<ResultFile> {
    result_files_for(result, Flag::Breast, run)
}

/// The result files of a run on the dataset `flag`: two score columns for two classes, one per
/// class (or label) otherwise, from [`RunResult::task`]'s probabilities.
pub fn result_files_for(result: &RunResult, flag: Flag, run: &str) -> Vec<ResultFile> {
    let side = result.model.input_size;
    let named = |split, auc, acc| name_for(flag, side, split, auc, acc, run);
    let mut files = Vec::with_capacity(2);
    if let Some(task) = &result.task {
        for (split, m, probs) in
            [(Split::Val, &task.val, &task.val_probabilities), (Split::Test, &task.test, &task.test_probabilities)]
        {
            files.push(ResultFile { name: named(split, m.auc, m.acc), contents: table_csv(probs, task.classes) });
        }
        return files;
    }
    if !result.val_predictions.is_empty() {
        files.push(ResultFile {
            name: named(Split::Val, result.val.auc, result.val.acc),
            contents: to_csv(&result.val_predictions),
        });
    }
    files.push(ResultFile {
        name: named(Split::Test, result.test.auc, result.test.acc),
        contents: to_csv(&result.test.predictions),
    });
    files
}

/// `{flag}{size_flag}_{split}_[AUC]{auc:.3f}_[ACC]{acc:.3f}@{run}.csv` for any dataset.
pub fn name_for(flag: Flag, side: usize, split: Split, auc: f64, acc: f64, run: &str) -> String {
    let size = if side == 28 { String::new() } else { format!("_{side}") };
    format!("{flag}{size}_{}_[AUC]{auc:.3}_[ACC]{acc:.3}@{}.csv", split.key(), run_id(run))
}

/// The text of `k` probabilities per image: `index,p_0,...,p_k-1`, each written in Rust's
/// shortest form that reads back to the same number.
pub fn table_csv(probs: &[f32], k: usize) -> String {
    let mut out = String::with_capacity(probs.len() * 22);
    for (i, row) in probs.chunks(k.max(1)).enumerate() {
        out.push_str(&i.to_string());
        for &p in row {
            out.push(',');
            out.push_str(&f64::from(p).to_string());
        }
        out.push('\n');
    }
    out
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

/// The standard name of a BreastMNIST file: `{flag}_{split}_[AUC]{auc:.3f}_[ACC]{acc:.3f}@{run}.csv`.
pub fn file_name(side: usize, split: Split, auc: f64, acc: f64, run: &str) -> String {
    name_for(Flag::Breast, side, split, auc, acc, run)
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

/// A result file's scores, whatever the dataset: `k` columns per image, in index order.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoreTable {
    /// Score columns per line (2 for BreastMNIST; `k` classes or labels otherwise).
    pub k: usize,
    /// `k` scores per image, row-major, rows sorted by index.
    pub scores: Vec<f64>,
}

impl ScoreTable {
    /// Images (lines).
    pub fn len(&self) -> usize {
        self.scores.len() / self.k.max(1)
    }

    pub fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }
}

/// Reads a result file's text into rows sorted by index (as the evaluator's
/// `read_csv(index_col=0, header=None).sort_index()`), checking that each line has an integer
/// index and the same number of finite scores and that the indices are `0..n` once each.
/// Blank lines are skipped; a UTF-8 byte-order mark and `\r\n` line ends are accepted.
pub fn parse_table(text: &str) -> Result<ScoreTable, ResultFileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rows: Vec<(usize, Vec<f64>)> = Vec::new();
    let mut k = None;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let row = |reason: String| ResultFileError::Row { line: i + 1, reason };
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let (index, columns) = fields.split_first().expect("split gives one field at least");
        if columns.is_empty() {
            return Err(row("expected an index and at least one score, found the index alone".into()));
        }
        let expected = *k.get_or_insert(columns.len());
        if columns.len() != expected {
            return Err(row(format!(
                "expected an index and {expected} scores, as on the first line; found {} fields",
                fields.len()
            )));
        }
        let index = index.parse::<usize>().map_err(|_| row(format!("the index '{index}' is not a whole number")))?;
        let mut scores = Vec::with_capacity(columns.len());
        for field in columns {
            scores.push(match field.parse::<f64>() {
                Ok(v) if v.is_finite() => v,
                _ => return Err(row(format!("the score '{field}' is not a finite number"))),
            });
        }
        rows.push((index, scores));
    }
    let Some(k) = k else { return Err(ResultFileError::Empty) };
    rows.sort_by_key(|r| r.0);
    let last = rows.len() - 1;
    for (expected, (index, _)) in rows.iter().enumerate() {
        if *index != expected {
            let reason =
                if *index < expected { format!("index {index} appears twice") } else { format!("index {expected} is missing") };
            return Err(ResultFileError::Indices { last, reason });
        }
    }
    Ok(ScoreTable { k, scores: rows.into_iter().flat_map(|(_, s)| s).collect() })
}

/// [`parse_table`] for a two-class file (`index,score_class0,score_class1`), as rows.
pub fn parse(text: &str) -> Result<Vec<ResultRow>, ResultFileError> {
    let table = parse_table(text)?;
    if table.k != 2 {
        let line = text.trim_start_matches('\u{feff}').lines().position(|l| !l.trim().is_empty()).unwrap_or(0) + 1;
        let reason = format!("expected 3 fields (index,score_class0,score_class1), found {}", table.k + 1);
        return Err(ResultFileError::Row { line, reason });
    }
    Ok(table.scores.chunks(2).enumerate().map(|(index, s)| ResultRow { index, scores: [s[0], s[1]] }).collect())
}

/// What a standard name says of any MedMNIST 2D dataset, read the way
/// `Evaluator.parse_and_evaluate` reads it: `{flag}{size_flag}_{split}...csv`, where the
/// metrics (`_[AUC]x_[ACC]y`) and the run (`@run`) are optional.
#[derive(Clone, Debug, PartialEq)]
pub struct StandardName {
    pub flag: Flag,
    pub size: Size,
    pub split: Split,
    /// The AUC and ACC in the name, when it has them.
    pub metrics: Option<(f64, f64)>,
    pub run: Option<String>,
}

/// Reads a standard name of any catalog dataset.
pub fn parse_standard_name(name: &str) -> Result<StandardName, ResultFileError> {
    let bad = || ResultFileError::Name(name.to_string());
    let stem = name.strip_suffix(".csv").ok_or_else(bad)?;
    let (stem, run) = match stem.rsplit_once('@') {
        Some((s, r)) => (s, Some(r.to_string())),
        None => (stem, None),
    };
    let mut parts = stem.splitn(3, '_');
    let first = parts.next().ok_or_else(bad)?;
    let flag = Flag::ALL.into_iter().find(|f| f.name() == first).ok_or_else(bad)?;
    let second = parts.next().ok_or_else(bad)?;
    let split_of = |text: &str| Split::ALL.into_iter().find(|s| text.starts_with(s.key()));
    let (size, split, rest) = match split_of(second) {
        Some(split) => (Size::Px28, split, stem.splitn(3, '_').nth(2).unwrap_or("")),
        None => {
            let size = Size::parse(second).filter(|s| *s != Size::Px28).ok_or_else(bad)?;
            let tail = parts.next().ok_or_else(bad)?;
            let (third, rest) = tail.split_once('_').unwrap_or((tail, ""));
            (size, split_of(third).filter(|s| s.key() == third).ok_or_else(bad)?, rest)
        }
    };
    let metrics = rest
        .strip_prefix("[AUC]")
        .and_then(|r| r.split_once("_[ACC]"))
        .and_then(|(auc, acc)| Some((auc.parse::<f64>().ok()?, acc.parse::<f64>().ok()?)));
    Ok(StandardName { flag, size, split, metrics, run })
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
    fn any_datasets_names_read_as_the_evaluator_reads_them() {
        let n = parse_standard_name("retinamnist_test_[AUC]0.717_[ACC]0.524@c16-seed0.csv").unwrap();
        let expected = StandardName {
            flag: Flag::Retina,
            size: Size::Px28,
            split: Split::Test,
            metrics: Some((0.717, 0.524)),
            run: Some("c16-seed0".into()),
        };
        assert_eq!(n, expected);
        let n = parse_standard_name("octmnist_224_val_anything.csv").unwrap();
        assert_eq!((n.flag, n.size, n.split, n.metrics, n.run), (Flag::Oct, Size::Px224, Split::Val, None, None));
        let n = parse_standard_name(&file_name(64, Split::Val, 0.5, 0.25, "r")).unwrap();
        assert_eq!((n.flag, n.size, n.metrics), (Flag::Breast, Size::Px64, Some((0.5, 0.25))));
        for bad in
            ["cifar_test.csv", "retinamnist_dev.csv", "retinamnist_32_test.csv", "retinamnist_64_dev.csv", "retinamnist_test.txt"]
        {
            assert!(matches!(parse_standard_name(bad), Err(ResultFileError::Name(_))), "{bad}");
        }
    }

    #[test]
    fn tables_hold_any_number_of_columns() {
        let t = parse_table("1,0.1,0.2,0.7\n0,0.5,0.25,0.25\n").unwrap();
        assert_eq!((t.k, t.len()), (3, 2));
        assert_eq!(t.scores, [0.5, 0.25, 0.25, 0.1, 0.2, 0.7]);
        let e = parse_table("0,0.1,0.9\n1,0.5\n").unwrap_err();
        assert!(matches!(e, ResultFileError::Row { line: 2, .. }), "{e}");
        assert_eq!(parse_table("0,0.4\n1,0.6\n").unwrap().k, 1, "a one-column binary file, as a sigmoid writes it");
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

//! `list_runs`: the training runs under a folder, finished (metrics.json) or cancelled
//! (progress.json), with their figures and files.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::Error;

/// How deep below the folder runs are looked for.
pub const MAX_DEPTH: usize = 4;

/// One run folder.
#[derive(Clone, Debug, Serialize)]
pub struct Run {
    pub path: PathBuf,
    /// `finished` (metrics.json), `cancelled` (progress.json) or `checkpoint-only`.
    pub status: &'static str,
    pub dataset: Option<String>,
    pub model: Option<String>,
    pub preset: Option<String>,
    pub seed: Option<u64>,
    pub epochs_done: Option<usize>,
    pub best_epoch: Option<u64>,
    pub val_auc: Option<f64>,
    pub test_auc: Option<f64>,
    pub test_acc: Option<f64>,
    pub files: Vec<String>,
}

/// The runs below `dir` (itself included), sorted by path.
pub fn list_runs(dir: &Path) -> Result<Vec<Run>, Error> {
    let mut runs = Vec::new();
    walk(dir, 0, &mut runs)?;
    runs.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(runs)
}

fn walk(dir: &Path, depth: usize, runs: &mut Vec<Run>) -> Result<(), Error> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Read { path: dir.to_path_buf(), source })?;
    let mut files = Vec::new();
    let mut subdirs = Vec::new();
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else { continue };
        // Links are not followed: a run folder is a real folder of real files.
        if kind.is_dir() {
            subdirs.push(entry.path());
        } else if kind.is_file() {
            files.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    files.sort();
    if let Some(run) = read_run(dir, &files) {
        runs.push(run);
    }
    if depth < MAX_DEPTH {
        for sub in subdirs {
            walk(&sub, depth + 1, runs)?;
        }
    }
    Ok(())
}

fn json(path: &Path) -> Option<serde_json::Value> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

fn read_run(dir: &Path, files: &[String]) -> Option<Run> {
    let has = |name: &str| files.iter().any(|f| f == name);
    let mut run = Run {
        path: dir.to_path_buf(),
        status: "checkpoint-only",
        dataset: None,
        model: None,
        preset: None,
        seed: None,
        epochs_done: None,
        best_epoch: None,
        val_auc: None,
        test_auc: None,
        test_acc: None,
        files: files.to_vec(),
    };
    if has("metrics.json") {
        let m = json(&dir.join("metrics.json"))?;
        run.status = "finished";
        run.dataset = m.pointer("/dataset/flag").and_then(|v| v.as_str()).map(str::to_string);
        run.model = m.pointer("/config/model").and_then(|v| v.as_str()).map(str::to_string);
        run.preset = m.pointer("/config/preset").and_then(|v| v.as_str()).map(str::to_string);
        run.seed = m.pointer("/config/seed").and_then(|v| v.as_u64());
        run.epochs_done = m.pointer("/history").and_then(|v| v.as_array()).map(Vec::len);
        run.best_epoch = m.pointer("/val/epoch").and_then(|v| v.as_u64());
        run.val_auc = m.pointer("/val/auc").and_then(|v| v.as_f64());
        run.test_auc = m.pointer("/test/auc").and_then(|v| v.as_f64());
        run.test_acc = m.pointer("/test/acc").and_then(|v| v.as_f64());
        return Some(run);
    }
    if has("progress.json") {
        let p = json(&dir.join("progress.json"))?;
        run.status = "cancelled";
        run.epochs_done = p.get("epochs_done").and_then(|v| v.as_u64()).map(|v| v as usize);
        run.val_auc = p
            .get("history")
            .and_then(|h| h.as_array())
            .and_then(|h| h.iter().filter_map(|e| e.get("val_auc")?.as_f64()).reduce(f64::max));
        return Some(run);
    }
    has("best.ckpt").then_some(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finished_cancelled_and_bare_runs_are_told_apart() {
        let root = std::env::temp_dir().join(format!("breastmnist-ops-runs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for (dir, file, text) in [
            (
                "a",
                "metrics.json",
                r#"{"config":{"model":"c16","seed":2},"val":{"auc":0.9,"epoch":3},"test":{"auc":0.8,"acc":0.7},"history":[{},{},{}],"dataset":{"flag":"breastmnist"}}"#,
            ),
            ("b/c", "progress.json", r#"{"status":"cancelled","epochs_done":1,"history":[{"val_auc":0.6}]}"#),
            ("d", "best.ckpt", "x"),
            ("e", "notes.txt", "x"),
        ] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
            std::fs::write(root.join(dir).join(file), text).unwrap();
        }
        let runs = list_runs(&root).unwrap();
        let got: Vec<(&str, &str)> =
            runs.iter().map(|r| (r.path.strip_prefix(&root).unwrap().to_str().unwrap(), r.status)).collect();
        assert_eq!(got, [("a", "finished"), ("b/c", "cancelled"), ("d", "checkpoint-only")]);
        assert_eq!((runs[0].model.as_deref(), runs[0].seed, runs[0].epochs_done), (Some("c16"), Some(2), Some(3)));
        assert_eq!((runs[0].test_auc, runs[0].dataset.as_deref()), (Some(0.8), Some("breastmnist")));
        assert_eq!((runs[1].epochs_done, runs[1].val_auc), (Some(1), Some(0.6)));
        let _ = std::fs::remove_dir_all(&root);
    }
}

//! `lab --reuse`: runs taken from earlier lab reports instead of being trained again, so that a
//! method trained in one session is compared with a base row trained in another, paired over
//! the same images as if one lab had run both.
//!
//! A run is taken only when nothing it depends on can differ: its report names the same data
//! file (by MD5), its row has the same model, method and recipe (the seed aside), the method
//! starts from nothing the lab itself trains ([`Method::reusable`]) and, for the ImageNet
//! methods, from the same weights file (by MD5), and the run kept its scores (reports written
//! before they were cannot be paired, so they are refused). The code, backend and machine are
//! not recorded: a run is what retraining gives on the same build and backend (a seed
//! reproduces its run), which is how the two labs should be run. A report names each file it
//! read as `name (MD5 …)` ([`named`]), and this module reads that back.

use std::path::{Path, PathBuf};

use breastmnist_core::lab::{LabReport, LabRun, Method};
use breastmnist_core::train::TrainConfig;

use crate::error::{Error, read};

/// An earlier lab report whose runs may be taken.
#[derive(Clone, Debug)]
pub struct Earlier {
    /// The file's name, as the runs taken from it record.
    name: String,
    report: LabReport,
}

/// Reads the reports at `paths`, each checked to be of the data file whose MD5 is `md5`.
pub fn earlier(paths: &[PathBuf], md5: &str) -> Result<Vec<Earlier>, Error> {
    paths.iter().map(|p| one(p, md5)).collect()
}

fn one(path: &Path, md5: &str) -> Result<Earlier, Error> {
    let shown = path.display();
    let report: LabReport =
        serde_json::from_slice(&read(path)?).map_err(|e| Error::Usage(format!("--reuse {shown} is not a lab report: {e}")))?;
    let Some(data) = report.data.as_deref() else {
        return Err(Error::Usage(format!(
            "--reuse {shown} does not name its data file (it was written before lab reports did), so its runs cannot be paired with this lab's"
        )));
    };
    if md5_of(data) != Some(md5) {
        return Err(Error::Usage(format!("--reuse {shown} is of another data file, {data}; this lab's has MD5 {md5}")));
    }
    let name = path.file_name().map_or_else(|| shown.to_string(), |n| n.to_string_lossy().into_owned());
    Ok(Earlier { name, report })
}

/// What this lab's runs start from beyond their recipe.
#[derive(Clone, Copy, Debug, Default)]
pub struct Start<'a> {
    /// The ImageNet weights file as a report names it (`name (MD5 …)`), when the lab has one.
    pub imagenet: Option<&'a str>,
}

/// A file as a report names it, `name (MD5 hex)`: never a path of the machine that wrote it.
/// [`md5_of`] reads it back.
pub fn named(path: &Path, md5: &str) -> String {
    format!("{} (MD5 {md5})", path.file_name().unwrap_or_default().to_string_lossy())
}

/// The MD5 of a file as a report names it ([`named`]).
fn md5_of(named: &str) -> Option<&str> {
    named.rsplit_once(" (MD5 ").and_then(|(_, m)| m.strip_suffix(')'))
}

fn same_md5(a: &str, b: &str) -> bool {
    md5_of(a).is_some() && md5_of(a) == md5_of(b)
}

/// The run of `method` on `model` with `config` (whose seed is the run's) in the first of
/// `earlier` that has one with its scores, marked with the report it came from. The ImageNet
/// methods' runs are taken only from a report that names the same weights file as `start`.
pub fn find(earlier: &[Earlier], model: &str, method: Method, config: &TrainConfig, start: Start) -> Option<LabRun> {
    if !method.reusable() {
        return None;
    }
    let recipe = config.clone().with_seed(0);
    earlier.iter().find_map(|e| {
        if method.imagenet() {
            let (ours, theirs) = (start.imagenet?, e.report.imagenet.as_deref()?);
            if !same_md5(ours, theirs) {
                return None;
            }
        }
        let row =
            e.report.rows.iter().find(|r| r.model == model && r.method == method && r.config.clone().with_seed(0) == recipe)?;
        let run = row.runs.iter().find(|r| r.seed == config.seed && r.scores.is_some())?;
        Some(LabRun { from: Some(e.name.clone()), ..run.clone() })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use breastmnist_core::lab::{LabRow, Scores};
    use breastmnist_core::train::Preset;

    fn run(seed: u64, scores: bool) -> LabRun {
        LabRun {
            seed,
            val_auc: 0.9,
            val_acc: 0.8,
            test_auc: 0.85 + seed as f64 / 100.0,
            test_acc: 0.75,
            dedup_test_auc: None,
            dedup_test_acc: None,
            seconds: 10.0,
            scores: scores.then(|| Scores { val: vec![0.5; 78], test: vec![0.5; 156] }),
            from: None,
        }
    }

    fn report(data: Option<&str>, rows: Vec<LabRow>) -> LabReport {
        LabReport {
            schema_version: 1,
            kind: "lab".into(),
            base: "reader".into(),
            data: data.map(str::to_string),
            imagenet: None,
            seeds: vec![0, 1],
            pretrain: None,
            pretext: vec![],
            gan: vec![],
            rows,
            total_seconds: 20.0,
            note: String::new(),
        }
    }

    fn written(name: &str, r: &LabReport) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("breastmnist-reuse-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, r.to_json()).unwrap();
        path
    }

    #[test]
    fn a_run_is_taken_only_with_the_same_data_model_method_recipe_and_seed_and_its_scores() {
        let base = Preset::Reader.config();
        let rows = vec![
            LabRow::new(Method::Base, "lite0", base.clone().with_seed(0), vec![run(0, true), run(1, false)]),
            LabRow::new(Method::Contrastive, "lite0", base.clone().with_seed(0), vec![run(0, true)]),
        ];
        let path = written("a.json", &report(Some("breastmnist_64.npz (MD5 abc)"), rows));
        let e = earlier(std::slice::from_ref(&path), "abc").unwrap();
        let taken = find(&e, "lite0", Method::Base, &base.clone().with_seed(0), Start::default())
            .expect("seed 0 is there with its scores");
        assert_eq!((taken.seed, taken.test_auc, taken.from.as_deref()), (0, 0.85, Some("a.json")));
        assert_eq!(taken.scores.map(|s| s.test.len()), Some(156));
        // Seed 1 kept no scores, seed 2 never ran: both are trained again.
        assert_eq!(find(&e, "lite0", Method::Base, &base.clone().with_seed(1), Start::default()), None);
        assert_eq!(find(&e, "lite0", Method::Base, &base.clone().with_seed(2), Start::default()), None);
        // Another model, method or recipe is not the same run.
        assert_eq!(find(&e, "c16", Method::Base, &base.clone().with_seed(0), Start::default()), None);
        assert_eq!(find(&e, "lite0", Method::NoTta, &base.clone().with_seed(0), Start::default()), None);
        assert_eq!(find(&e, "lite0", Method::Base, &base.clone().with_seed(0).with_resize(Some(128)), Start::default()), None);
        // A method whose start the lab itself pretrains is never taken.
        assert_eq!(find(&e, "lite0", Method::Contrastive, &base.clone().with_seed(0), Start::default()), None);
        // An ImageNet run only from a report naming the same weights file (by MD5).
        let probe = Method::ImagenetProbe.config(&base).with_seed(0);
        let rows = vec![LabRow::new(Method::ImagenetProbe, "lite0", probe.clone(), vec![run(0, true)])];
        let unnamed = written("unnamed.json", &report(Some("b.npz (MD5 abc)"), rows.clone()));
        let named = written(
            "named.json",
            &LabReport { imagenet: Some("w.pth (MD5 aaa)".into()), ..report(Some("b.npz (MD5 abc)"), rows) },
        );
        let e = earlier(&[unnamed, named], "abc").unwrap();
        let same = Start { imagenet: Some("efficientnet-lite0.pth (MD5 aaa)") };
        assert_eq!(find(&e, "lite0", Method::ImagenetProbe, &probe, same).and_then(|r| r.from), Some("named.json".into()));
        let other = Start { imagenet: Some("w.pth (MD5 bbb)") };
        assert_eq!(find(&e, "lite0", Method::ImagenetProbe, &probe, other), None);
        assert_eq!(find(&e, "lite0", Method::ImagenetProbe, &probe, Start::default()), None);

        // Another data file, or a report that does not name one, is refused by name.
        let err = earlier(std::slice::from_ref(&path), "def").unwrap_err().to_string();
        assert!(err.contains("a.json is of another data file, breastmnist_64.npz (MD5 abc); this lab's has MD5 def"), "{err}");
        let old = written("old.json", &report(None, vec![]));
        let err = earlier(&[old], "abc").unwrap_err().to_string();
        assert!(err.contains("old.json does not name its data file"), "{err}");
        let junk = path.with_file_name("junk.json");
        std::fs::write(&junk, "{}").unwrap();
        assert!(earlier(&[junk], "abc").unwrap_err().to_string().contains("junk.json is not a lab report"));
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }
}

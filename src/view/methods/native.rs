//! The mirror of the native lab report (`breastmnist lab`'s JSON, the core's `LabReport`) that
//! the article renders from `assets/lab/lab.json`: the fields it shows, read at this one
//! boundary.

use serde::Deserialize;

/// Mean and sample standard deviation over seeds.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
pub struct Stat {
    pub mean: f64,
    pub sd: f64,
}

impl NativeInterval {
    /// "[0.871, 0.962]".
    pub fn show(&self) -> String {
        format!("[{:.3}, {:.3}]", self.lo, self.hi)
    }
}

impl Stat {
    /// `mean ± sd` over `n` runs; the mean alone for one run (an ensemble's row), whose spread
    /// is not zero but unknown.
    pub fn show(&self, n: usize) -> String {
        if n > 1 { format!("{:.3} ± {:.3}", self.mean, self.sd) } else { format!("{:.3}", self.mean) }
    }
}

/// One seed of a native row.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct NativeRun {
    pub seed: u64,
    pub test_auc: f64,
    pub test_acc: f64,
    pub seconds: f64,
}

/// One method on one model, over the seeds.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct NativeRow {
    pub method: String,
    pub model: String,
    pub runs: Vec<NativeRun>,
    /// Absent in reports written before validation figures were summarised.
    #[serde(default)]
    pub val_auc: Option<Stat>,
    pub test_auc: Stat,
    pub test_acc: Stat,
    /// 95% bootstrap intervals of the mean test AUC and ACC over the test images (absent in
    /// reports written before rows carried them).
    #[serde(default)]
    pub test_auc_ci: Option<NativeInterval>,
    #[serde(default)]
    pub test_acc_ci: Option<NativeInterval>,
    /// On the de-duplicated test subset (the test images without a training twin).
    #[serde(default)]
    pub dedup_test_auc: Option<Stat>,
    /// The paired comparisons with the model's base row.
    #[serde(default)]
    pub versus_base: Option<NativeVersus>,
}

/// A difference to the base row with its paired bootstrap 95% interval.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
pub struct NativeDifference {
    pub delta: f64,
    pub ci: NativeInterval,
}

#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
pub struct NativeInterval {
    pub lo: f64,
    pub hi: f64,
}

/// A row against its model's base row: on validation, test and the de-duplicated test subset.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
pub struct NativeVersus {
    pub val: NativeDifference,
    pub test: NativeDifference,
    #[serde(default)]
    pub dedup_test: Option<NativeDifference>,
}

impl NativeDifference {
    /// "+0.011 [−0.010, +0.032], within noise": the difference, its interval, and a verdict
    /// that says better or worse only when the interval excludes zero.
    pub fn show(&self) -> String {
        format!("{:+.3} [{:+.3}, {:+.3}], {}", self.delta, self.ci.lo, self.ci.hi, verdict(self))
    }
}

/// The part of a pretraining configuration the article names.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct NativePretextConfig {
    pub task: String,
}

/// One self-supervised pretraining of the native lab.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct NativePretext {
    pub model: String,
    pub config: NativePretextConfig,
    pub images: usize,
    pub losses: Vec<f64>,
    pub seconds: f64,
}

/// The native lab report (`breastmnist lab`'s JSON, the core's `LabReport`): the fields the
/// article shows, read at this one boundary.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct NativeLab {
    pub schema_version: u32,
    pub kind: String,
    pub base: String,
    pub seeds: Vec<u64>,
    pub rows: Vec<NativeRow>,
    #[serde(default)]
    pub pretext: Vec<NativePretext>,
    pub total_seconds: f64,
}

/// The report the app ships (`assets/lab/lab.json`).
pub const NATIVE_LAB_JSON: &str = include_str!("../../../assets/lab/lab.json");

impl NativeLab {
    pub fn parse(json: &str) -> Result<NativeLab, String> {
        let lab: NativeLab = serde_json::from_str(json).map_err(|e| format!("the lab report is unreadable: {e}"))?;
        if lab.kind != "lab" || lab.schema_version != 1 {
            return Err(format!("not a version-1 lab report (kind '{}', version {})", lab.kind, lab.schema_version));
        }
        Ok(lab)
    }

    /// The models, in the report's order.
    pub fn models(&self) -> Vec<&str> {
        let mut m: Vec<&str> = Vec::new();
        for r in &self.rows {
            if !m.contains(&r.model.as_str()) {
                m.push(&r.model);
            }
        }
        m
    }

    /// The row of `method` on `model`.
    pub fn row(&self, model: &str, method: &str) -> Option<&NativeRow> {
        self.rows.iter().find(|r| r.model == model && r.method == method)
    }

    /// How the article quotes a row's test AUC: "0.911 ± 0.014, 95% interval 0.849–0.958" (mean
    /// ± sd over the seeds, and the bootstrap interval of the mean over the test images where the
    /// report has it), or "–" when the report lacks the row.
    pub fn test_auc(&self, model: &str, method: &str) -> String {
        self.row(model, method).map_or_else(
            || "–".to_string(),
            |r| {
                let ci = r.test_auc_ci.map_or(String::new(), |c| format!(", 95% interval {:.3}–{:.3}", c.lo, c.hi));
                format!("{}{ci}", r.test_auc.show(r.runs.len()))
            },
        )
    }

    /// How the article quotes a row against its base row on test: "+0.009 [-0.020, +0.041],
    /// within noise".
    pub fn versus_test(&self, model: &str, method: &str) -> String {
        self.row(model, method).and_then(|r| r.versus_base).map_or_else(|| "–".to_string(), |v| v.test.show())
    }
}

/// How a difference reads: better or worse only when its paired interval excludes zero.
pub fn verdict(d: &NativeDifference) -> &'static str {
    match (d.ci.lo > 0.0, d.ci.hi < 0.0) {
        (true, _) => "better",
        (_, true) => "worse",
        _ => "within noise",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use breastmnist_protocol::Method;

    #[test]
    fn the_shipped_native_report_reads_and_covers_two_models_and_every_method() {
        // The page compiles this file into its first wasm: a lab report's per-image scores
        // (about 0.6 MB for this one) stay out of the page's copy (docs/cli.md).
        assert!(!NATIVE_LAB_JSON.contains("\"scores\""), "strip the runs' scores: jq 'del(.rows[].runs[].scores)'");
        assert!(NATIVE_LAB_JSON.len() < 120_000, "{} bytes", NATIVE_LAB_JSON.len());
        let lab = NativeLab::parse(NATIVE_LAB_JSON).unwrap();
        assert_eq!(lab.models().len(), 2, "two model sizes");
        assert_eq!(lab.seeds.len(), 3, "three seeds");
        for model in lab.models() {
            for m in Method::ALL {
                assert!(lab.rows.iter().any(|r| r.model == model && r.method == m.name()), "{model}: {} missing", m.name());
            }
        }
        for r in &lab.rows {
            assert!((0.0..=1.0).contains(&r.test_auc.mean), "{r:?}");
            let mean = r.runs.iter().map(|x| x.test_auc).sum::<f64>() / r.runs.len() as f64;
            assert!((mean - r.test_auc.mean).abs() < 1e-9, "the mean is the runs' mean");
        }
        let tasks: Vec<(&str, &str)> = lab.pretext.iter().map(|p| (p.model.as_str(), p.config.task.as_str())).collect();
        assert_eq!(tasks, [("c8", "contrastive"), ("c8", "masked"), ("c16", "contrastive"), ("c16", "masked")]);
        assert!(NativeLab::parse("{}").is_err());
        assert!(NativeLab::parse(&NATIVE_LAB_JSON.replacen("\"lab\"", "\"ensemble\"", 1)).is_err());
        let d = |delta, lo, hi| NativeDifference { delta, ci: NativeInterval { lo, hi } };
        assert_eq!(verdict(&d(0.011, -0.01, 0.032)), "within noise", "a gain whose interval holds zero is noise");
        assert_eq!((verdict(&d(-0.1, -0.15, -0.05)), verdict(&d(0.04, 0.001, 0.08))), ("worse", "better"));
        assert_eq!(d(0.011, -0.01, 0.032).show(), "+0.011 [-0.010, +0.032], within noise");
        for r in &lab.rows {
            let (auc, acc) =
                (r.test_auc_ci.expect("every row has its AUC interval"), r.test_acc_ci.expect("and its ACC interval"));
            // A model that calls every image one class has the same ACC on every resample (they are
            // drawn within each class): c8's masked probe, [0.731, 0.731].
            assert!(auc.lo < auc.hi && acc.lo <= acc.hi && auc.show().starts_with('['), "{r:?}");
        }
        for r in lab.rows.iter().filter(|r| r.method != "base") {
            let v = r.versus_base.expect("every row but base has its paired comparisons");
            assert!(v.test.ci.lo <= v.test.delta && v.test.delta <= v.test.ci.hi, "{r:?}");
            assert!(r.val_auc.is_some() && r.dedup_test_auc.is_some(), "{r:?}");
        }
        assert_eq!(lab.test_auc("c16", "base"), "0.911 ± 0.014, 95% interval 0.849–0.958");
        assert_eq!(lab.test_auc("c16", "nothing"), "–");
        let s = Stat { mean: 0.9041, sd: 0.0 };
        assert_eq!((s.show(1), Stat { sd: 0.0123, ..s }.show(3)), ("0.904".to_string(), "0.904 ± 0.012".to_string()));
    }
}

/// The article's prose (`app.rs`: the training section and "Newer training ideas") quotes the
/// shipped report's figures through [`NativeLab::test_auc`] and [`NativeLab::versus_test`] and
/// interprets them; these are the interpretations it makes. A new report that changes one fails
/// here, so the sentence that reads it is revisited with it.
#[cfg(test)]
mod claims {
    use super::*;

    fn lab() -> NativeLab {
        NativeLab::parse(NATIVE_LAB_JSON).unwrap()
    }

    fn test_verdict(model: &str, method: &str) -> &'static str {
        let l = lab();
        verdict(&l.row(model, method).and_then(|r| r.versus_base).unwrap_or_else(|| panic!("{model} {method}")).test)
    }

    #[test]
    fn the_prose_reads_the_report_as_the_report_reads() {
        // "Scoring each image together with its mirror is the one choice of the recipe whose removal
        // the lab calls worse on both models ... Only the linear probes are also worse on both; no
        // method is better on both."
        let l = lab();
        let on_both = |v: &str| -> Vec<String> {
            l.rows
                .iter()
                .filter(|r| r.model == "c8" && r.versus_base.is_some())
                .filter(|r| test_verdict("c8", &r.method) == v && test_verdict("c16", &r.method) == v)
                .map(|r| r.method.clone())
                .collect()
        };
        assert_eq!(on_both("worse"), ["no-tta", "contrastive-probe", "masked-probe"]);
        assert!(on_both("better").is_empty());
        // "On c8, masked pretraining is ... and SimCLR ...; on c16 neither shows a gain."
        assert_eq!(test_verdict("c16", "contrastive"), "within noise");
        assert_eq!(test_verdict("c16", "masked"), "within noise");
        // "A linear probe on the frozen features is far behind."
        assert_eq!(test_verdict("c16", "contrastive-probe"), "worse");
        // "Order made no measurable difference here."
        for m in ["curriculum-easy", "curriculum-hard", "curriculum-random"] {
            assert_eq!(test_verdict("c16", m), "within noise", "{m}");
        }
        // "the SimCLR encoder scored a little higher on test" than fresh weights, within noise.
        let simclr = l.row("c16", "contrastive").and_then(|r| r.versus_base).unwrap().test;
        assert!(simclr.delta > 0.0, "{simclr:?}");
        // The default's figure is "level with the paper's ResNet-18 (0.901) within the noise":
        // 0.901 lies inside the base row's mean ± 0.065 (one AUC's interval on 156 images).
        let base = l.row("c16", "base").unwrap().test_auc.mean;
        assert!((base - 0.901).abs() < 0.065, "{base}");
        // Every row has its figures on the de-duplicated subset and its validation summary.
        assert!(l.rows.iter().all(|r| r.dedup_test_auc.is_some() && r.val_auc.is_some()));
    }
}

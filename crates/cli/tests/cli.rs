//! End-to-end tests of the `breastmnist` binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use breastmnist_data::local::Missing;
use breastmnist_data::real_file;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_breastmnist"))
}

/// Runs `breastmnist ARGS --data DATA --out OUT`.
fn run_with(args: &[&str], data: &Path, out: &Path) -> Output {
    bin().args(args).arg("--data").arg(data).arg("--out").arg(out).output().unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("breastmnist-cli-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// ROC AUC by its pairwise definition (label 1 positive, ties one half): scikit-learn's
/// `roc_auc_score`, which `medmnist.Evaluator` applies to the last score column.
fn pairwise_auc(labels: &[u8], scores: &[f64]) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for (i, &li) in labels.iter().enumerate() {
        for (j, &lj) in labels.iter().enumerate() {
            if li == 1 && lj == 0 {
                den += 1.0;
                num += if scores[i] > scores[j] {
                    1.0
                } else if scores[i] == scores[j] {
                    0.5
                } else {
                    0.0
                };
            }
        }
    }
    num / den
}

/// Checks the standard result files of `run` in `dir` against `data`'s labels and the JSON
/// document's `val` and `test` metrics, recomputing AUC and ACC from each file alone with the
/// evaluator's definitions (last column; ACC of `score > 0.5`). Returns the two file names.
fn check_result_files(dir: &std::path::Path, data: &std::path::Path, json: &serde_json::Value, run: &str) -> [String; 2] {
    let dataset =
        breastmnist_data::decode_npz(&std::fs::read(data).unwrap(), &breastmnist_data::DecodeOptions::default()).unwrap();
    let names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("breastmnist_") && n.ends_with(".csv"))
        .collect();
    assert_eq!(names.len(), 2, "one result file per split: {names:?}");
    let mut found = Vec::new();
    for (split, labels) in [("val", &dataset.val.labels), ("test", &dataset.test.labels)] {
        let (auc, acc) = (json[split]["auc"].as_f64().unwrap(), json[split]["acc"].as_f64().unwrap());
        let name = format!("breastmnist_{split}_[AUC]{auc:.3}_[ACC]{acc:.3}@{run}.csv");
        assert!(names.contains(&name), "{name} not in {names:?}");
        let text = std::fs::read_to_string(dir.join(&name)).unwrap();
        let mut scores = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let cols: Vec<f64> = line.split(',').map(|c| c.parse().unwrap()).collect();
            assert_eq!(cols.len(), 3, "{split} line {i}: {line}");
            assert_eq!(cols[0], i as f64, "rows in split order, no header");
            assert!((cols[1] + cols[2] - 1.0).abs() < 1e-6, "{split} line {i}: {line}");
            assert!((0.0..=1.0).contains(&cols[2]));
            scores.push(cols[2]);
        }
        assert_eq!(scores.len(), labels.len(), "{split}: one row per image");
        let file_auc = pairwise_auc(labels, &scores);
        let correct = labels.iter().zip(&scores).filter(|&(&l, &s)| (s > 0.5) == (l == 1)).count();
        let file_acc = correct as f64 / labels.len() as f64;
        assert!((file_auc - auc).abs() < 1e-9, "{split}: AUC {file_auc} from the file, {auc} in the JSON");
        assert!((file_acc - acc).abs() < 1e-12, "{split}: ACC {file_acc} from the file, {acc} in the JSON");
        found.push(name);
    }
    [found[0].clone(), found[1].clone()]
}

#[test]
fn train_tiny_one_epoch_writes_parsable_outputs_and_eval_reads_the_checkpoint() {
    let Some(data) = real_file("breastmnist.npz") else { return };
    let out = scratch("train");
    let o =
        run_with(&["train", "--model", "tiny", "--epochs", "1", "--batch", "32", "--subset", "64", "--seed", "3"], &data, &out);
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(out.join("metrics.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["config", "environment", "history", "schema_version", "test", "val"]);
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["config"]["model"], "tiny");
    // The CPU's preferred convolution is burn's kernel, which needs no check.
    assert_eq!(v["environment"]["conv"], serde_json::json!({"algo": "direct", "check": null, "fell_back": false}));
    assert_eq!(v["history"].as_array().unwrap().len(), 1);
    assert_eq!(v["test"]["predictions"].as_array().unwrap().len(), 156);
    let auc = v["test"]["auc"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&auc));
    let csv = std::fs::read_to_string(out.join("predictions.csv")).unwrap();
    assert_eq!(csv.lines().next(), Some("id,label,score"));
    assert_eq!(csv.lines().count(), 157);
    // MedMNIST's standard result files, named with the default run, printed by name.
    let names = check_result_files(&out, &data, &v, "tiny-seed3");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(names.iter().all(|n| stdout.contains(n.as_str())), "{stdout}");

    // eval on the test split reproduces the test AUC written by train.
    let o = bin()
        .args(["eval", "--split", "test"])
        .arg("--data")
        .arg(&data)
        .arg("--checkpoint")
        .arg(out.join("best.ckpt"))
        .output()
        .unwrap();
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains(&format!("AUC {auc:.4}")), "eval printed {stdout}, train wrote AUC {auc}");

    // eval --out writes metrics.json and the same two result files for the checkpoint.
    let o = bin()
        .args(["eval", "--run", "again"])
        .arg("--data")
        .arg(&data)
        .arg("--checkpoint")
        .arg(out.join("best.ckpt"))
        .arg("--out")
        .arg(out.join("eval"))
        .output()
        .unwrap();
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    let e: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("eval/metrics.json")).unwrap()).unwrap();
    assert_eq!((e["val"]["auc"].as_f64(), e["test"]["auc"].as_f64()), (v["val"]["auc"].as_f64(), Some(auc)));
    let evaluated = check_result_files(&out.join("eval"), &data, &e, "again");
    for (a, b) in names.iter().zip(&evaluated) {
        assert_eq!(a.replace("@tiny-seed3", "@again"), *b);
        assert_eq!(std::fs::read(out.join(a)).unwrap(), std::fs::read(out.join("eval").join(b)).unwrap(), "same scores");
    }

    // Weights out as .safetensors (PyTorch names), then in again as .safetensors and as a
    // PyTorch .pt (torch.save's layout, written by the core's fixture script): same AUC.
    let st = out.join("model.safetensors");
    let o = bin().arg("export").arg("--checkpoint").arg(out.join("best.ckpt")).arg("--out").arg(&st).output().unwrap();
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    let pt = out.join("model.pt");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../core/tests/fixtures/safetensors_to_pt.py");
    let py = Command::new("python3").arg(script).arg(&st).arg(&pt).args(["--nest", "net"]).output().expect("python3 runs");
    assert!(py.status.success(), "{}", String::from_utf8_lossy(&py.stderr));
    // A PyTorch file converts too, given the data it is for (its image size and channels).
    let again = out.join("again.safetensors");
    let export = |extra: &[&str]| bin().arg("export").arg("--checkpoint").arg(&pt).args(extra).arg("--out").arg(&again).output();
    let o = export(&[]).unwrap();
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("add --data NPZ"), "{o:?}");
    let o = export(&["--data", data.to_str().unwrap()]).unwrap();
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    for (file, model) in [(&st, None), (&pt, Some("tiny")), (&again, None)] {
        let mut cmd = bin();
        cmd.args(["eval", "--split", "test"]).arg("--data").arg(&data).arg("--checkpoint").arg(file);
        if let Some(m) = model {
            cmd.args(["--model", m]);
        }
        let o = cmd.output().unwrap();
        assert!(o.status.success(), "{}: {}", file.display(), String::from_utf8_lossy(&o.stderr));
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(stdout.contains(&format!("AUC {auc:.4}")), "{}: eval printed {stdout}, train wrote AUC {auc}", file.display());
    }
    // A PyTorch file of another architecture: one line naming the tensor.
    let o = bin().args(["eval", "--model", "small"]).arg("--data").arg(&data).arg("--checkpoint").arg(&pt).output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && stderr.contains("'conv1.weight' has shape [8, 1, 3, 3]"), "{stderr}");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn a_preset_sets_the_recipe_and_later_flags_override_it() {
    let Some(data) = real_file("breastmnist.npz") else { return };
    let out = scratch("preset");
    // The reader preset runs from any folder (here a temporary one, outside the repository): it
    // needs no file beside the binary (it starts from fresh weights, what the rule that reads
    // validation only chose; crates/core/tests/recipes.rs).
    let served = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/pretrained");
    let reader = ["train", "--preset", "reader", "--epochs", "1", "--subset", "64", "--seed", "2"];
    let elsewhere = scratch("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let o = bin().args(reader).arg("--data").arg(&data).arg("--out").arg(&out).current_dir(&elsewhere).output().unwrap();
    assert!(o.status.success(), "the default recipe runs outside the repository: {}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(v["config"].get("init"), None, "fresh weights: no starting point recorded");
    let _ = std::fs::remove_dir_all(&elsewhere);
    // A served starting point is one flag away, and the run records it (name and MD5).
    let simclr = served.join("c16-contrastive.ckpt");
    let o = bin().args(reader).arg("--init").arg(&simclr).arg("--data").arg(&data).arg("--out").arg(&out).output().unwrap();
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    let md5 = breastmnist_data::md5_hex(&std::fs::read(&simclr).unwrap());
    assert_eq!(v["config"]["init"], serde_json::json!({"name": "c16-contrastive.ckpt", "md5": md5}));
    // --resize wins over our checkpoint's own side, as the page's "Seen at" does.
    let o = run_with(&[&reader[..], &["--resize", "56", "--init", simclr.to_str().unwrap()]].concat(), &data, &out);
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    assert_eq!((v["config"]["resize"].as_u64(), v["config"]["model_config"]["resize"].as_u64()), (Some(56), Some(56)));
    // The same recipe from fresh weights again, for the checks below.
    let o = run_with(&reader, &data, &out);
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    let c = &v["config"];
    assert_eq!((c["preset"].as_str(), c["model"].as_str(), c["batch_size"].as_u64()), (Some("reader"), Some("c16"), Some(64)));
    assert_eq!((c["augment"].as_str(), c["selection"].as_str(), c["tta"].as_bool()), (Some("flip"), Some("last"), Some(true)));
    assert_eq!((c["epochs"].as_u64(), c["subset"].as_u64(), c["seed"].as_u64()), (Some(1), Some(64), Some(2)));
    assert_eq!(v["val"]["epoch"], 1);
    // eval with --tta reproduces the test AUC of a TTA run.
    let auc = v["test"]["auc"].as_f64().unwrap();
    let o =
        bin().args(["eval", "--tta"]).arg("--data").arg(&data).arg("--checkpoint").arg(out.join("best.ckpt")).output().unwrap();
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains(&format!("AUC {auc:.4}")));
    // `--init none`: the same recipe from fresh weights, and nothing recorded as its start.
    let o = run_with(&[&reader[..], &["--init", "none"]].concat(), &data, &out);
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    assert_eq!((v["config"]["preset"].as_str(), v["config"].get("init")), (Some("reader"), None));
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn bad_inputs_fail_with_one_clear_line() {
    let out = scratch("bad");
    let missing = out.join("missing.npz");
    let o = bin().args(["train", "--model", "tiny"]).arg("--data").arg(&missing).arg("--out").arg(&out).output().unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.starts_with("error: cannot read") && err.contains("missing.npz"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");

    std::fs::create_dir_all(&out).unwrap();
    let garbage = out.join("garbage.npz");
    std::fs::write(&garbage, b"this is not a zip archive").unwrap();
    let o = bin().args(["train", "--model", "tiny"]).arg("--data").arg(&garbage).arg("--out").arg(&out).output().unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("not a usable dataset file") && err.contains("npz"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");

    let o = bin().args(["train", "--model", "resnet101"]).arg("--data").arg(&garbage).arg("--out").arg(&out).output().unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown model 'resnet101'"));

    let o = bin().args(["train", "--preset", "fast"]).arg("--data").arg(&garbage).arg("--out").arg(&out).output().unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown preset 'fast'"));
    let o = bin().args(["train", "--selection", "median"]).arg("--data").arg(&garbage).arg("--out").arg(&out).output().unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown selection rule 'median'"));

    let o = bin().args(["eval"]).arg("--data").arg(&garbage).arg("--checkpoint").arg(&garbage).output().unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("is not a usable dataset file"));
    let o =
        bin().args(["export"]).arg("--checkpoint").arg(&garbage).arg("--out").arg(out.join("x.safetensors")).output().unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a BreastMNIST Lab checkpoint"));
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn train_with_gemm_convolutions_checks_them_first_and_records_it() {
    let Some(data) = real_file("breastmnist.npz") else { return };
    let out = scratch("gemm");
    let o =
        run_with(&["train", "--model", "c8", "--epochs", "1", "--batch", "32", "--subset", "64", "--conv", "gemm"], &data, &out);
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("(gemm convolutions)"));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    let conv = &v["environment"]["conv"];
    assert_eq!((conv["algo"].as_str(), conv["fell_back"].as_bool()), (Some("gemm"), Some(false)), "{conv}");
    for key in ["forward", "input_grad", "weight_grad"] {
        assert!(conv["check"][key].as_f64().is_some_and(|d| (0.0..=1e-4).contains(&d)), "{key}: {conv}");
    }
    assert_eq!(v["config"]["conv"], "gemm");
    let o = bin().args(["train", "--conv", "fft"]).arg("--data").arg(&data).arg("--out").arg(&out).output().unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown convolution algorithm 'fft'"));
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn bench_prints_a_table_for_the_requested_models() {
    let o = bin().args(["bench", "--models", "tiny", "--steps", "1", "--batches", "8", "--reference-ms", "10"]).output().unwrap();
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    // gemm is checked against burn's kernel on each backend before it is timed.
    let check = stdout.lines().find(|l| l.starts_with("flex: gemm vs direct")).unwrap_or_else(|| panic!("{stdout}"));
    assert!(check.ends_with("(pass)"), "{check}");
    let rows: Vec<Vec<&str>> = stdout.lines().filter(|l| l.starts_with("tiny")).map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(rows.len(), 2, "one row per convolution algorithm: {stdout}");
    for (row, conv) in rows.iter().zip(["direct", "gemm"]) {
        assert_eq!((row[1], row[2], row[4]), ("flex", conv, "8"), "{row:?}");
        let ms = row[5].parse::<f64>().unwrap();
        assert!(ms > 0.0);
        // The last column is the ratio to --reference-ms.
        let vs_ref = row[8].parse::<f64>().unwrap();
        assert!((vs_ref - ms / 10.0).abs() < 0.01 + 0.001 * vs_ref, "{row:?}");
    }
    assert_eq!(rows[0][7], "1.00x");
    assert!(rows[1][7].ends_with('x') && rows[1][7].trim_end_matches('x').parse::<f64>().unwrap() > 0.0, "{:?}", rows[1]);
    let o = bin().args(["bench", "--models", "huge"]).output().unwrap();
    assert!(!o.status.success());
    // --backends narrows the table; a GPU backend asked for must start.
    let o = bin()
        .args(["bench", "--backends", "flex", "--models", "tiny", "--steps", "1", "--batches", "4", "--conv", "direct"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(stdout.lines().filter(|l| l.starts_with("tiny      flex    direct")).count(), 1, "{stdout}");
    if !cfg!(feature = "wgpu") {
        let o = bin().args(["bench", "--backends", "wgpu", "--models", "tiny"]).output().unwrap();
        assert!(!o.status.success());
        assert!(String::from_utf8_lossy(&o.stderr).contains("the wgpu backend is not available"));
    }
    let o = bin().args(["bench", "--models", "tiny", "--conv", "winograd"]).output().unwrap();
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("expected one of: direct, gemm"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = bin().args(["bench", "--models", "tiny", "--reference-ms", "0"]).output().unwrap();
    assert!(String::from_utf8_lossy(&o.stderr).contains("--reference-ms must be a positive number"));
}

#[test]
fn check_compares_a_backend_with_flex_and_a_missing_backend_says_how_to_build_it() {
    // flex against itself: the same code path a GPU backend takes, with an exact answer.
    let o = bin().args(["check", "--backend", "flex", "--models", "tiny", "--steps", "4", "--conv", "direct"]).output().unwrap();
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let line =
        stdout.lines().find(|l| l.starts_with("flex vs flex, tiny (direct), 4 Adam steps")).unwrap_or_else(|| panic!("{stdout}"));
    assert!(line.contains("loss 0.0e0, first logits 0.0e0") && line.ends_with("(pass)"), "{line}");
    // Each GPU backend this build lacks (CI builds none) is refused with the feature that adds
    // it; `train`, `eval` and `ssl` start their devices through the same function.
    for backend in ["wgpu", "vulkan", "cuda"] {
        let compiled = match backend {
            "wgpu" => cfg!(feature = "wgpu"),
            "vulkan" => cfg!(feature = "vulkan"),
            _ => cfg!(feature = "cuda"),
        };
        if compiled {
            continue;
        }
        let o = bin().args(["check", "--backend", backend]).output().unwrap();
        assert!(!o.status.success());
        assert_eq!(
            String::from_utf8_lossy(&o.stderr).trim(),
            format!(
                "error: the {backend} backend is not available: this binary was built without it (cargo build --release -p breastmnist-cli --features {backend})"
            )
        );
    }
    let o = bin().args(["check", "--backend", "flex", "--steps", "0"]).output().unwrap();
    assert!(String::from_utf8_lossy(&o.stderr).contains("--steps must be at least 1"));
}

fn scores_of(csv: &std::path::Path) -> Vec<f64> {
    std::fs::read_to_string(csv).unwrap().lines().skip(1).map(|l| l.rsplit(',').next().unwrap().parse().unwrap()).collect()
}

#[test]
fn an_ensemble_scores_the_mean_of_its_members() {
    let Some(data) = real_file("breastmnist.npz") else { return };
    let out = scratch("ensemble");
    let mut members = Vec::new();
    for seed in ["1", "2"] {
        let dir = out.join(format!("seed{seed}"));
        let o = run_with(
            &["train", "--model", "tiny", "--epochs", "1", "--batch", "32", "--subset", "64", "--seed", seed],
            &data,
            &dir,
        );
        assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
        members.push(dir);
    }
    let list = members.iter().map(|d| d.join("best.ckpt").display().to_string()).collect::<Vec<_>>().join(",");
    let o = run_with(&["ensemble", "--checkpoints", &list], &data, &out.join("ens"));
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    let (a, b) = (scores_of(&members[0].join("predictions.csv")), scores_of(&members[1].join("predictions.csv")));
    let ens = scores_of(&out.join("ens/predictions.csv"));
    assert_eq!(ens.len(), 156);
    for i in 0..156 {
        assert!((ens[i] - (a[i] + b[i]) / 2.0).abs() < 1e-6, "image {i}: {} vs mean of {} and {}", ens[i], a[i], b[i]);
    }
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("ens/ensemble.json")).unwrap()).unwrap();
    assert_eq!((v["kind"].as_str(), v["members"].as_array().map(Vec::len)), (Some("mean-probability"), Some(2)));
    assert_eq!(v["test"]["predictions"].as_array().unwrap().len(), 156);
    // Members are named by file name and MD5, not by this machine's path.
    for (m, dir) in v["members"].as_array().unwrap().iter().zip(&members) {
        assert_eq!(m["source"], "best.ckpt", "{m}");
        let md5 = breastmnist_data::md5_hex(&std::fs::read(dir.join("best.ckpt")).unwrap());
        assert_eq!(m["md5"].as_str(), Some(md5.as_str()), "{m}");
    }
    check_result_files(&out.join("ens"), &data, &v, "ensemble-2");
    let o = run_with(&["ensemble", "--checkpoints", list.split(',').next().unwrap()], &data, &out.join("one"));
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("at least two"));
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn pretraining_on_pneumoniamnist_then_fine_tuning_on_breastmnist() {
    // PneumoniaMNIST is not a served file (`cargo xtask data` does not prepare it), so it stays
    // optional even under BREASTMNIST_REQUIRE_DATA=1.
    let pneumonia = Missing::Skip.apply(breastmnist_data::local::find("pneumoniamnist.npz"));
    let (Some(pneumonia), Some(breast)) = (pneumonia, real_file("breastmnist.npz")) else { return };
    let out = scratch("pretrain");
    // `pretrain` trains on another file (writing no result files) for `train --init`.
    let o = run_with(
        &["pretrain", "--model", "tiny", "--epochs", "1", "--batch", "32", "--subset", "64", "--seed", "1"],
        &pneumonia,
        &out.join("pre"),
    );
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("pre/metrics.json")).unwrap()).unwrap();
    assert_eq!(v["test"]["predictions"].as_array().unwrap().len(), 624, "PneumoniaMNIST's test split");
    let o = bin()
        .args(["train", "--epochs", "1", "--batch", "32", "--subset", "64", "--freeze-backbone"])
        .arg("--init")
        .arg(out.join("pre/best.ckpt"))
        .arg("--data")
        .arg(&breast)
        .arg("--out")
        .arg(out.join("ft"))
        .output()
        .unwrap();
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("ft/metrics.json")).unwrap()).unwrap();
    assert_eq!((v["config"]["model"].as_str(), v["config"]["freeze_backbone"].as_bool()), (Some("tiny"), Some(true)));
    assert_eq!(v["test"]["predictions"].as_array().unwrap().len(), 156);
    let _ = std::fs::remove_dir_all(&out);
}

/// `base`, `no-tta` and `ensemble` on c8, seeds 0 and 1, one epoch of 64 images: the report
/// written to `scratch(name)/lab.json`, and that path.
fn short_lab(data: &Path, name: &str) -> (serde_json::Value, PathBuf) {
    let out = scratch(name).join("lab.json");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let o = run_with(
        &["lab", "--models", "c8", "--seeds", "0,1", "--epochs", "1", "--subset", "64", "--methods", "base,no-tta,ensemble"],
        data,
        &out,
    );
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    (serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap(), out)
}

#[test]
fn the_lab_runs_methods_side_by_side_and_summarises_them() {
    let Some(data) = real_file("breastmnist.npz") else { return };
    let (v, out) = short_lab(&data, "lab");
    assert_eq!((v["kind"].as_str(), v["base"].as_str()), (Some("lab"), Some("reader")));
    let rows = v["rows"].as_array().unwrap();
    let methods: Vec<&str> = rows.iter().map(|r| r["method"].as_str().unwrap()).collect();
    assert_eq!(methods, ["base", "no-tta", "ensemble"]);
    for row in &rows[..2] {
        let aucs: Vec<f64> = row["runs"].as_array().unwrap().iter().map(|r| r["test_auc"].as_f64().unwrap()).collect();
        assert_eq!(aucs.len(), 2);
        assert!((row["test_auc"]["mean"].as_f64().unwrap() - (aucs[0] + aucs[1]) / 2.0).abs() < 1e-12);
        assert_eq!(row["model"], "c8");
    }
    assert_eq!((rows[0]["config"]["tta"].as_bool(), rows[1]["config"]["tta"].as_bool()), (Some(true), Some(false)));
    assert_eq!(rows[2]["runs"][0]["seed"], 2, "the ensemble combines the two base models");
    // The report names its data by MD5 and keeps every run's scores, which give its figures
    // again (so a run can be paired with one in another report on the same file).
    let bytes = std::fs::read(&data).unwrap();
    assert_eq!(v["data"], format!("breastmnist.npz (MD5 {})", breastmnist_data::md5_hex(&bytes)));
    let dataset = breastmnist_data::decode_npz(&bytes, &breastmnist_data::DecodeOptions::default()).unwrap();
    for run in rows.iter().flat_map(|r| r["runs"].as_array().unwrap()) {
        let scores =
            |split: &str| -> Vec<f64> { run["scores"][split].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect() };
        let (val, test) = (scores("val"), scores("test"));
        assert_eq!((val.len(), test.len()), (78, 156));
        assert!((pairwise_auc(&dataset.test.labels, &test) - run["test_auc"].as_f64().unwrap()).abs() < 1e-9);
        assert!((pairwise_auc(&dataset.val.labels, &val) - run["val_auc"].as_f64().unwrap()).abs() < 1e-9);
    }
    // A later lab takes the base runs from this report (same data, recipe and seeds) and
    // trains only the new method, compared with them over the same images: exactly what it
    // gives when it trains everything (a seed reproduces its run).
    let later = ["lab", "--models", "c8", "--seeds", "0,1", "--epochs", "1", "--subset", "64", "--methods", "base,ema-last"];
    let fresh_out = out.with_file_name("fresh.json");
    let fresh = run_with(&later, &data, &fresh_out);
    assert!(fresh.status.success(), "stderr: {}", String::from_utf8_lossy(&fresh.stderr));
    let reused_out = out.with_file_name("reused.json");
    let reuse = ["--reuse", out.to_str().unwrap()];
    let reused = run_with(&[&later[..], &reuse[..]].concat(), &data, &reused_out);
    assert!(reused.status.success(), "stderr: {}", String::from_utf8_lossy(&reused.stderr));
    let said = String::from_utf8_lossy(&reused.stderr).into_owned() + &String::from_utf8_lossy(&reused.stdout);
    assert!(
        said.contains("c8 base seed 0: taken from lab.json") && said.contains("c8 base seed 1: taken from lab.json"),
        "{said}"
    );
    let read = |p: &Path| -> serde_json::Value { serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap() };
    let (f, r) = (read(&fresh_out), read(&reused_out));
    assert_eq!((r["rows"][0]["runs"].as_array().unwrap().len(), rows[0]["runs"].as_array().unwrap().len()), (2, 2));
    // A taken run is still announced like a trained one (the `lab-run` event).
    assert!(said.contains("c8 base seed 0: test AUC") && said.contains("c8 base seed 1: test AUC"), "{said}");
    for (t, orig) in r["rows"][0]["runs"].as_array().unwrap().iter().zip(rows[0]["runs"].as_array().unwrap()) {
        assert_eq!((&t["test_auc"], &t["scores"], t["from"].as_str()), (&orig["test_auc"], &orig["scores"], Some("lab.json")));
    }
    assert_eq!(r["rows"][1]["runs"][0].get("from"), None, "ema-last is trained");
    for key in ["test_auc", "versus_base"] {
        assert_eq!(r["rows"][1][key], f["rows"][1][key], "{key}: taken or trained, the same comparison");
    }
    assert!(r["rows"][1]["versus_base"]["test"]["ci"]["lo"].is_number());
    assert_eq!(f["rows"][0]["runs"][0].get("from"), None);
    // Another data file's report is refused before anything trains (the 64 px file has the
    // same splits, so only its MD5 tells).
    if let Some(other) = real_file("breastmnist_64.npz") {
        let o = run_with(&[&later[..], &reuse[..]].concat(), &other, &reused_out);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains("is of another data file, breastmnist.npz (MD5"), "{err}");
    }
    let o = bin().args(["lab", "--methods", "transfer"]).arg("--data").arg(&data).arg("--out").arg(&out).output().unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--pretrain-data"));
    let o = bin().args(["lab", "--methods", "magic"]).arg("--data").arg(&data).arg("--out").arg(&out).output().unwrap();
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown method 'magic'"));
    let _ = std::fs::remove_dir_all(out.parent().unwrap());
}

#[test]
fn the_lab_starts_lite0_from_imagenet_beside_the_same_network_from_scratch() {
    let (Some(data), Some(weights)) = (real_file("breastmnist_64.npz"), breastmnist_data::local::real_imagenet_weights()) else {
        return;
    };
    let out = scratch("lab-imagenet").join("lab.json");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let args = [
        "lab",
        "--models",
        "c8,lite0",
        "--seeds",
        "0",
        "--epochs",
        "1",
        "--subset",
        "32",
        "--methods",
        "base,imagenet,imagenet-probe",
    ];
    let o = bin().args(args).arg("--imagenet").arg(&weights).arg("--data").arg(&data).arg("--out").arg(&out).output().unwrap();
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("c8: the imagenet methods run on lite0 only"));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let rows: Vec<(String, String)> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["model"].as_str().unwrap().to_string(), r["method"].as_str().unwrap().to_string()))
        .collect();
    let want = [("c8", "base"), ("lite0", "base"), ("lite0", "imagenet"), ("lite0", "imagenet-probe")];
    assert_eq!(rows, want.map(|(a, b)| (a.to_string(), b.to_string())));
    let row = |i: usize| &v["rows"][i];
    assert_eq!(row(3)["config"]["linear_probe"], true);
    assert_eq!(row(2)["config"]["model"], "lite0");
    for i in 1..4 {
        assert!(row(i)["test_auc_ci"]["lo"].as_f64().unwrap() <= row(i)["test_auc_ci"]["hi"].as_f64().unwrap());
    }
    assert!(row(2)["versus_base"]["test"]["delta"].is_f64(), "imagenet is paired with lite0 from scratch");
    // Named without the weights or without lite0: refused before anything trains.
    let o = bin().args(["lab", "--methods", "imagenet"]).arg("--data").arg(&data).arg("--out").arg(&out).output().unwrap();
    assert!(String::from_utf8_lossy(&o.stderr).contains("--imagenet FILE"), "{}", String::from_utf8_lossy(&o.stderr));
    let mut c16 = bin();
    c16.args(["lab", "--methods", "imagenet", "--models", "c16", "--imagenet"]).arg(&weights).arg("--data").arg(&data);
    let o = c16.arg("--out").arg(&out).output().unwrap();
    assert!(String::from_utf8_lossy(&o.stderr).contains("add lite0 to --models"), "{}", String::from_utf8_lossy(&o.stderr));
    // --resize cannot reach an encoder pretrained at the file's side.
    let o = bin()
        .args(["lab", "--methods", "base,contrastive", "--resize", "128"])
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stderr).contains("--resize cannot apply"), "{}", String::from_utf8_lossy(&o.stderr));
    let _ = std::fs::remove_dir_all(out.parent().unwrap());
}

/// GAN-based augmentation in the lab: each seed's GAN learns from the run's training images
/// (here the first 64), the Fréchet distance is reported per epoch, the run trains on them and
/// the samples, and the row pairs with base; refused, before any training, where it cannot run.
#[test]
fn gan_augmentation_runs_in_the_lab_with_its_frechet_distance_and_is_refused_where_it_cannot() {
    let Some(data) = real_file("breastmnist.npz") else { return };
    let dir = scratch("gan");
    let out = dir.join("lab.json");
    std::fs::create_dir_all(&dir).unwrap();
    let encoder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/pretrained/c8-contrastive.ckpt");
    let encoder = encoder.to_str().unwrap();
    let args = [
        "lab",
        "--models",
        "c8",
        "--seeds",
        "0,1",
        "--epochs",
        "1",
        "--subset",
        "64",
        "--methods",
        "base,gan-aug",
        "--gan-epochs",
        "2",
        "--gan-ratio",
        "0.5",
        "--fid-encoder",
        encoder,
    ];
    let o = run_with(&args, &data, &out);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "stderr: {stderr}");
    assert!(stderr.contains("c8 gan-aug seed 1: GAN epoch 2/2") && stderr.contains("Fréchet distance"), "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let rows: Vec<String> = v["rows"].as_array().unwrap().iter().map(|r| format!("{} {}", r["model"], r["method"])).collect();
    assert_eq!(rows, [r#""c8" "base""#, r#""c8" "gan-aug""#]);
    assert!(v["rows"][1]["versus_base"]["test"]["delta"].is_f64(), "paired with c8's base");
    let gans = v["gan"].as_array().unwrap();
    assert_eq!(gans.len(), 2, "one GAN per seed");
    for (g, seed) in gans.iter().zip([0, 1]) {
        assert_eq!((g["seed"].as_u64(), g["model"].as_str()), (Some(seed), Some("c8")));
        // Half as many again as the 64 real images, class by class (rounded).
        let synthetic = g["synthetic"].as_u64().unwrap();
        assert!((31..=33).contains(&synthetic), "{g}");
        let history = g["history"].as_array().unwrap();
        assert_eq!(history.len(), 2);
        assert!(history.iter().all(|e| e["frechet"].as_f64().is_some_and(|f| f > 0.0 && f.is_finite())), "{g}");
    }
    // Refused before anything trains: a 64 px file, a ratio out of range.
    if let Some(wide) = real_file("breastmnist_64.npz") {
        let o = run_with(&["lab", "--models", "c8", "--methods", "gan-aug"], &wide, &out);
        assert_eq!(o.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&o.stderr).contains("28 px gray images"), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let o = run_with(&["lab", "--models", "c8", "--methods", "gan-aug", "--gan-ratio", "9"], &data, &out);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--gan-ratio in (0, 4]"), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn a_prototype_head_trains_in_the_lab_and_explains_an_image_by_its_training_patches() {
    let Some(data) = real_file("breastmnist.npz") else { return };
    let dir = scratch("prototypes");
    let out = dir.join("lab.json");
    std::fs::create_dir_all(&dir).unwrap();
    let args = ["lab", "--models", "c8,tiny", "--seeds", "0", "--epochs", "1", "--subset", "64", "--methods", "base,prototypes"];
    let o = run_with(&args, &data, &out);
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("tiny: the prototypes method runs on c8, c16 and c32 only"));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let rows: Vec<String> = v["rows"].as_array().unwrap().iter().map(|r| format!("{} {}", r["model"], r["method"])).collect();
    assert_eq!(rows, [r#""c8" "base""#, r#""c8" "prototypes""#, r#""tiny" "base""#]);
    assert_eq!(v["rows"][1]["config"]["prototypes"], 10);
    assert!(v["rows"][1]["versus_base"]["test"]["delta"].is_f64(), "paired with c8's base");
    // Named for a model without a plain CNN, it is refused before anything trains.
    let o = run_with(&["lab", "--models", "tiny", "--methods", "prototypes"], &data, &out);
    assert!(String::from_utf8_lossy(&o.stderr).contains("add c8, c16 or c32"), "{}", String::from_utf8_lossy(&o.stderr));

    // A reader trains one and asks why an image got its class.
    let run = dir.join("run");
    let train = ["train", "--model", "c8", "--prototypes", "2", "--epochs", "1", "--subset", "64", "--batch", "32"];
    let o = run_with(&train, &data, &run);
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    let png = dir.join("why.png");
    let o = bin()
        .args(["--json", "explain", "--index", "7", "--checkpoint"])
        .arg(run.join("best.ckpt"))
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(&png)
        .output()
        .unwrap();
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let done: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(done["result"]["stage"], "layer4", "c8's layer4 is 3 x 3 at 28 px");
    let why = &done["result"]["prototypes"];
    assert_eq!(why["map_side"], 3);
    let matches = why["matches"].as_array().unwrap();
    assert_eq!(matches.len(), 3, "{why}");
    for m in matches {
        let source = &m["source"];
        // Trained on the first 64 images, projected there: each prototype is one of their cells.
        assert!(source["index"].as_u64().unwrap() < 64 && source["distance"].as_f64().unwrap() < 1e-5, "{m}");
        assert_eq!(m["map"].as_array().unwrap().len(), 9);
    }
    let bytes = std::fs::read(&png).unwrap();
    // Grad-CAM's row and a row per prototype, 28 px panels scaled 8x with 8 px gaps (the PNG
    // header's height, big-endian at bytes 20-23).
    assert_eq!(&bytes[1..4], b"PNG");
    assert_eq!(u32::from_be_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]), 4 * (28 * 8 + 8) - 8);
    let mut text = bin();
    text.args(["explain", "--index", "7", "--checkpoint"]).arg(run.join("best.ckpt")).arg("--data").arg(&data);
    let o = text.arg("--out").arg(&png).output().unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).contains("this looks like that"), "{}", String::from_utf8_lossy(&o.stdout));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn grad_cam_of_lite0_at_28_px_takes_layer3_and_names_it() {
    let Some(data) = real_file("breastmnist.npz") else { return };
    let dir = scratch("lite0-explain");
    let train = ["train", "--model", "lite0", "--epochs", "1", "--subset", "32", "--batch", "16"];
    let o = run_with(&train, &data, &dir);
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    let png = dir.join("why.png");
    let ckpt = dir.join("best.ckpt");
    let o = run_with(&["--json", "explain", "--index", "3", "--checkpoint", ckpt.to_str().unwrap()], &data, &png);
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let done: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    // Lite0's layer4 is 1 x 1 at 28 px: the map comes from layer3 (2 x 2), upsampled to the image.
    assert_eq!((done["result"]["stage"].as_str(), done["result"]["side"].as_u64()), (Some("layer3"), Some(28)));
    assert_eq!(done["result"]["map"].as_array().unwrap().len(), 28 * 28);
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_lab_compares_methods_on_a_five_grade_set_by_the_evaluators_auc() {
    let Some(data) = real_file("retinamnist.npz") else { return };
    let (v, out) = short_lab(&data, "lab-retina");
    assert_eq!(v["note"].as_str().unwrap().split(';').next(), Some("400 test images (per class: 174, 46, 92, 68, 20)"));
    let rows = v["rows"].as_array().unwrap();
    let mean = |row: &serde_json::Value| row["test_auc"]["mean"].as_f64().unwrap();
    // Each row against base: the difference of the mean test AUCs (the Evaluator's, a mean of
    // five one-vs-rest AUCs), inside its paired interval; no de-duplicated subset (BreastMNIST's).
    for row in &rows[1..] {
        let versus = &row["versus_base"];
        let delta = versus["test"]["delta"].as_f64().unwrap();
        assert!((delta - (mean(row) - mean(&rows[0]))).abs() < 1e-12, "{versus}");
        let (lo, hi) = (versus["test"]["ci"]["lo"].as_f64().unwrap(), versus["test"]["ci"]["hi"].as_f64().unwrap());
        // (A percentile interval need not hold the point; the core tests check it on fixtures.)
        assert!(lo.is_finite() && hi.is_finite() && lo < hi, "{versus}");
        assert!(versus["val"]["delta"].is_f64() && versus.get("dedup_test").is_none_or(|d| d.is_null()), "{versus}");
        assert!(row["runs"][0].get("dedup_test_auc").is_none());
    }
    assert_eq!(rows[2]["runs"][0]["seed"], 2, "the ensemble averages the two base models' five probabilities");
    // Every row has 95% intervals of its mean test AUC and ACC. (A model that predicts one class
    // for every image has an ACC interval of zero width: the resamples keep each class's count.)
    for row in rows {
        let (auc, acc) = (&row["test_auc_ci"], &row["test_acc_ci"]);
        assert!(auc["lo"].as_f64().unwrap() < auc["hi"].as_f64().unwrap(), "{row}");
        assert!(acc["lo"].as_f64().unwrap() <= acc["hi"].as_f64().unwrap(), "{row}");
    }
    // The grayscale self-supervised encoders do not take an RGB set; left out of the default list.
    let o =
        bin().args(["lab", "--methods", "base,contrastive"]).arg("--data").arg(&data).arg("--out").arg(&out).output().unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("3 channels") && err.contains("contrastive"), "{err}");
    let _ = std::fs::remove_dir_all(out.parent().unwrap());
}

#[test]
fn self_supervised_pretraining_reads_an_rgb_set_named_by_its_flag_in_grayscale_and_says_so() {
    let Some(_) = real_file("retinamnist.npz") else { return };
    let out = scratch("ssl-retina");
    let o = bin()
        .args(["ssl", "--dataset", "retinamnist", "--model", "c8", "--epochs", "1", "--batch", "128", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "stderr: {stderr}");
    assert!(stderr.contains("retinamnist.npz is RGB: its training images join the pool in grayscale"), "{stderr}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("the encoder is grayscale"));
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("pretext.json")).unwrap()).unwrap();
    // The training split only (1,080 fundus photographs), recorded as the 3-channel file it was.
    assert_eq!(report["images"], 1080);
    assert_eq!(
        (report["sources"][0]["splits"].clone(), report["sources"][0]["channels"].as_u64()),
        (serde_json::json!(["train"]), Some(3))
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn self_supervised_pretraining_then_a_linear_probe_and_the_lab_methods() {
    let Some(data) = real_file("breastmnist.npz") else { return };
    let out = scratch("ssl");
    let o = run_with(&["ssl", "--task", "masked", "--model", "c8", "--epochs", "1", "--batch", "128"], &data, &out.join("pre"));
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("pre/pretext.json")).unwrap()).unwrap();
    assert_eq!(
        (report["kind"].as_str(), report["config"]["task"].as_str(), report["images"].as_u64()),
        (Some("pretext"), Some("masked"), Some(546))
    );
    assert_eq!(report["sources"][0]["splits"], serde_json::json!(["train"]), "BreastMNIST's training split only");
    assert!(report["history"][0]["loss"].as_f64().unwrap().is_finite());
    let o = bin()
        .args(["train", "--preset", "reader", "--epochs", "1", "--subset", "64", "--linear-probe"])
        .arg("--init")
        .arg(out.join("pre/encoder.ckpt"))
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(out.join("probe"))
        .output()
        .unwrap();
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("probe/metrics.json")).unwrap()).unwrap();
    assert_eq!((v["config"]["model"].as_str(), v["config"]["linear_probe"].as_bool()), (Some("c8"), Some(true)));
    // Clear refusals: a probe needs an encoder; BreastMNIST's val/test images never join the pool.
    let o = run_with(&["train", "--linear-probe", "--epochs", "1"], &data, &out.join("x"));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--linear-probe needs --init"), "{}", String::from_utf8_lossy(&o.stderr));
    let o = bin()
        .args(["ssl", "--model", "c8"])
        .arg("--data")
        .arg(&data)
        .arg("--extra")
        .arg(&data)
        .arg("--out")
        .arg(out.join("x"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("never used for pretraining"), "{}", String::from_utf8_lossy(&o.stderr));
    let o = bin().args(["ssl", "--task", "jigsaw"]).arg("--data").arg(&data).arg("--out").arg(out.join("x")).output().unwrap();
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown pretext task 'jigsaw'"));

    // The lab pretrains once per model and task and starts both methods from it.
    let lab = out.join("lab.json");
    let o = bin()
        .args(["lab", "--models", "c8", "--seeds", "0", "--epochs", "1", "--subset", "64", "--ssl-epochs", "1"])
        .args(["--methods", "contrastive,masked-probe"])
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(&lab)
        .output()
        .unwrap();
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&lab).unwrap()).unwrap();
    let methods: Vec<&str> = v["rows"].as_array().unwrap().iter().map(|r| r["method"].as_str().unwrap()).collect();
    assert_eq!(methods, ["contrastive", "masked-probe"]);
    let tasks: Vec<&str> = v["pretext"].as_array().unwrap().iter().map(|r| r["config"]["task"].as_str().unwrap()).collect();
    assert_eq!(tasks, ["contrastive", "masked"]);
    assert_eq!(v["rows"][1]["config"]["linear_probe"].as_bool(), Some(true));
    let _ = std::fs::remove_dir_all(&out);
}

/// `cargo xtask gpu-pack`'s script (`xtask/gpu/run.sh`), run on a pack of this binary: every
/// stage runs the CLI with flags it has, a missing GPU backend is logged and the run goes on,
/// PyTorch's figure (a stand-in here) becomes bench's reference, the recipe's metrics come
/// back per seed, and the time budget or a failed seed stops the seeds after it.
#[test]
fn the_gpu_packs_script_runs_each_stage_on_this_binary() {
    let Some(data) = real_file("breastmnist.npz") else { return };
    let pack = scratch("gpu-pack");
    std::fs::create_dir_all(pack.join("bin")).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::copy(root.join("xtask/gpu/run.sh"), pack.join("run.sh")).unwrap();
    std::fs::copy(&data, pack.join("breastmnist.npz")).unwrap();
    // As gpu-pack ships a build: compressed with xz, which the script unpacks.
    let packed = std::fs::File::create(pack.join("bin/breastmnist-here.xz")).unwrap();
    let xz = Command::new("xz").args(["-0", "-T0", "-c", env!("CARGO_BIN_EXE_breastmnist")]).stdout(packed).status().unwrap();
    assert!(xz.success());
    // An autotune build is used only after an autotune-checks build passed `check`.
    std::fs::copy(pack.join("bin/breastmnist-here.xz"), pack.join("bin/breastmnist-x-autotune.xz")).unwrap();
    // PyTorch is not needed to test the script: a stand-in prints torch_bench.py's line format.
    std::fs::write(pack.join("torch_bench.py"), "print('torch 2.x on CPU')\nprint('torch tiny b8 77338 20.00')\n").unwrap();
    // BACKEND="" leaves each stage its own GPUs (none in this binary); "flex" stands in for them.
    // `extra`: more of the script's variables.
    let run_with = |stage: &str, backend: &str, budget: &str, paper: &str, out: &Path, extra: &[(&str, &str)]| {
        let o = Command::new("bash")
            .arg(pack.join("run.sh"))
            .arg(stage)
            .envs([("BUDGET_S", budget), ("MODELS", "tiny"), ("BATCHES", "8"), ("BACKEND", backend)])
            .envs([("CHECK_MODELS", "tiny"), ("CHECK_STEPS", "3")])
            .envs(extra.iter().copied())
            .env("PAPER", paper)
            .env("OUT", out)
            .env("TMPDIR", &pack)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
        std::fs::read_to_string(out.join("run.log")).unwrap()
    };
    let run =
        |stage: &str, backend: &str, budget: &str, paper: &str, out: &Path| run_with(stage, backend, budget, paper, out, &[]);
    let tiny = "--model tiny --epochs 1 --subset 32";

    // check on the builds' own GPUs: this build has neither, which the log says in the CLI's own
    // line, and the script goes on. A build named vulkan is checked on vulkan, after the wgpu one.
    let vulkan = pack.join("bin/breastmnist-x-vulkan.xz");
    std::fs::copy(pack.join("bin/breastmnist-here.xz"), &vulkan).unwrap();
    let log = run("check", "", "600", tiny, &pack.join("out-check"));
    assert!(log.contains("binaries: breastmnist-here breastmnist-x-vulkan breastmnist-x-autotune;"), "{log}");
    assert!(log.contains("breastmnist-here: check --backend wgpu"), "{log}");
    assert!(log.contains("the wgpu backend is not available: this binary was built without it"), "{log}");
    assert!(log.contains("breastmnist-x-vulkan: check --backend vulkan"), "{log}");
    assert!(log.contains("the vulkan backend is not available: this binary was built without it"), "{log}");
    std::fs::remove_file(vulkan).unwrap();

    let out = pack.join("out");
    let log = run("all", "flex", "600", tiny, &out);
    assert!(log.contains("breastmnist-here: check --backend flex"), "{log}");
    assert!(log.contains("breastmnist-x-autotune: skipped, no autotune-checks build passed check and bench"), "{log}");
    assert!(!log.contains("breastmnist-x-autotune: bench") && !log.contains("breastmnist-x-autotune: official"), "{log}");
    // bench: a row per algorithm, the last column the ratio to the stand-in's 20 ms.
    let rows: Vec<Vec<&str>> = log.lines().filter(|l| l.starts_with("tiny ")).map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(rows.len(), 2, "{log}");
    for row in &rows {
        let (ms, ratio) = (row[5].parse::<f64>().unwrap(), row[8].parse::<f64>().unwrap());
        assert!((ratio - ms / 20.0).abs() < 0.01 + 0.001 * ratio, "{row:?}");
    }
    // paper: three seeds within the budget, each one's metrics beside the log.
    for seed in 0..3 {
        assert!(log.contains(&format!("official recipe, seed {seed}")), "{log}");
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join(format!("paper-{seed}.json"))).unwrap()).unwrap();
        assert_eq!((v["config"]["model"].as_str(), v["config"]["seed"].as_u64()), (Some("tiny"), Some(seed)));
        assert!(v["test"]["auc"].as_f64().is_some_and(|a| (0.0..=1.0).contains(&a)), "{v}");
    }
    assert!(log.matches("exit status 0; wall time").count() == 3, "{log}");

    // With an autotune-checks build that passes check, the autotune build is trusted: checked
    // after it, and benched after the recipe's seed 0, each row after the checks build's own
    // (tuning with every candidate compared), before seeds 1 and 2 (one call holds all).
    let checks = pack.join("bin/breastmnist-x-autotune-checks.xz");
    std::fs::copy(pack.join("bin/breastmnist-here.xz"), &checks).unwrap();
    let log = run("all", "flex", "600", tiny, &pack.join("out-tuned"));
    assert!(log.contains("binaries: breastmnist-here breastmnist-x-autotune-checks breastmnist-x-autotune;"), "{log}");
    let at = |s: &str| log.find(s).unwrap_or_else(|| panic!("no '{s}' in {log}"));
    assert!(at("breastmnist-x-autotune-checks: check") < at("breastmnist-x-autotune: check"), "{log}");
    assert!(at("breastmnist-here: bench") < at("seed 0 (train"), "{log}");
    assert!(at("seed 0 (train") < at("breastmnist-x-autotune-checks: bench"), "{log}");
    assert!(at("breastmnist-x-autotune-checks: bench") < at("breastmnist-x-autotune: bench"), "{log}");
    assert!(at("breastmnist-x-autotune: bench") < at("seed 1 (train"), "{log}");
    assert!(!log.contains("skipped"), "{log}");
    // The recipe stays on the plain build.
    assert_eq!(log.matches("breastmnist-here: official recipe").count(), 3, "{log}");
    // The plain builds' bench stops where one more row and the recipe's seed 0 would not fit.
    let log = run_with("all", "flex", "100", tiny, &pack.join("out-reserve"), &[("SEED_S", "50")]);
    assert!(log.contains("plain bench stops (a row takes up to 60 s, the recipe's seed 0 about 50 s)"), "{log}");
    assert!(log.contains("official recipe, seed 0") && !log.contains("breastmnist-here: bench"), "{log}");
    // An autotune-checks build whose bench fails (a candidate mismatch panics) leaves the
    // autotune build unbenched; a stand-in that passes check and fails bench.
    std::fs::remove_file(&checks).unwrap();
    let wrapper = pack.join("bin/breastmnist-x-autotune-checks");
    let real = env!("CARGO_BIN_EXE_breastmnist");
    std::fs::write(&wrapper, format!("#!/bin/sh\n[ \"$1\" = bench ] && exit 101\nexec '{real}' \"$@\"\n")).unwrap();
    let mode = std::os::unix::fs::PermissionsExt::from_mode(0o755);
    std::fs::set_permissions(&wrapper, mode).unwrap();
    let log = run("all", "flex", "600", tiny, &pack.join("out-mismatch"));
    assert!(log.contains("breastmnist-x-autotune-checks failed on tiny at batch 8: the autotune build is not trusted"), "{log}");
    assert!(log.contains("breastmnist-x-autotune-checks: bench") && !log.contains("breastmnist-x-autotune: bench"), "{log}");
    std::fs::remove_file(&wrapper).unwrap();

    // No budget left: no seed starts, and the log says why.
    let out = pack.join("out-spent");
    let log = run("paper", "flex", "0", tiny, &out);
    assert!(log.contains("seed 0 not started") && !out.join("paper-0.json").exists(), "{log}");
    // A seed that fails stops the recipe: the next seeds would fail alike.
    let out = pack.join("out-failed");
    let log = run("paper", "flex", "600", "--model huge", &out);
    assert!(log.contains("seed 0 failed: the recipe stops") && !log.contains("seed 1"), "{log}");
    // With no check in the run, the recipe takes the first trusted build, not the autotune one.
    assert!(log.contains("breastmnist-here: official recipe, seed 0"), "{log}");
    let o = Command::new("bash").arg(pack.join("run.sh")).arg("everything").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stdout).contains("usage: run.sh"));
    std::fs::remove_dir_all(&pack).unwrap();
}

#[test]
fn audit_prints_the_twins_of_the_official_file_as_json() {
    let Some(data) = real_file("breastmnist.npz") else { return };
    let o = bin().arg("audit").arg("--data").arg(&data).output().unwrap();
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
    assert_eq!(doc["md5"].as_str(), Some(breastmnist_data::md5_hex(&std::fs::read(&data).unwrap()).as_str()));
    let audit = &doc["audit"];
    assert_eq!(audit["threshold"].as_f64(), Some(0.95));
    let tt = &audit["splits"][0];
    assert_eq!((tt["first"].as_str(), tt["second"].as_str(), tt["images"].as_u64()), (Some("test"), Some("train"), Some(59)));
    let twin = audit["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["a"]["split"] == "test" && p["a"]["index"] == 76 && p["b"]["index"] == 115)
        .expect("test 76 ~ train 115");
    assert_eq!(
        (twin["identical"].as_bool(), twin["a"]["label"].as_u64(), twin["b"]["label"].as_u64()),
        (Some(true), Some(1), Some(0))
    );
    assert_eq!(audit["deduplicated_test"].as_array().unwrap().len(), 97);
    // The summary goes to stderr; bad input is one clear line.
    assert!(String::from_utf8_lossy(&o.stderr).contains("de-duplicated test subset: 97 of 156"));
    let o = bin().arg("audit").arg("--data").arg(&data).args(["--threshold", "1.5"]).output().unwrap();
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("--threshold must be between 0 and 1"));
}

/// `Metrics(AUC=.., ACC=..)` from `score`'s output.
fn printed_metrics(out: &Output) -> (f64, f64) {
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.starts_with("Metrics(AUC=")).unwrap_or_else(|| panic!("{text}"));
    let (auc, acc) = line.trim_start_matches("Metrics(AUC=").trim_end_matches(')').split_once(", ACC=").unwrap();
    (auc.parse().unwrap(), acc.parse().unwrap())
}

#[test]
fn datasets_lists_the_catalog_and_score_reads_any_task() {
    use breastmnist_data::synthetic::{Spec, npz};
    use breastmnist_data::{Split, Task};
    let dir = scratch("catalog");
    std::fs::create_dir_all(&dir).unwrap();
    // A file under an official name without the official bytes is reported, not trusted.
    std::fs::write(dir.join("octmnist.npz"), b"not the official file").unwrap();
    let out = bin().args(["datasets", "--json", "--dir"]).arg(&dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let last = String::from_utf8_lossy(&out.stdout).lines().last().unwrap().to_string();
    let doc: serde_json::Value = serde_json::from_str(&last).unwrap();
    let rows = doc["result"]["datasets"].as_array().unwrap();
    assert_eq!(rows.len(), 12);
    let status = |flag: &str, size: usize| {
        let row = rows.iter().find(|r| r["flag"] == flag).unwrap();
        row["files"][size]["status"].as_str().unwrap().to_string()
    };
    assert_eq!(status("octmnist", 0), "wrong-md5");
    assert_eq!(status("pathmnist", 3), "absent");
    if real_file("breastmnist.npz").is_some() {
        assert_eq!(status("breastmnist", 0), "verified");
    }
    let text = bin().args(["datasets", "--dir"]).arg(&dir).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("retinamnist     ordinal-regression") && text.contains("does not have the official MD5"), "{text}");

    // A custom 4-class RGB file: scored only once its task and classes are named.
    let spec = Spec { task: Task::MultiClass, classes: 4, channels: 3, side: 12, splits: [20, 8, 12], seed: 5 };
    let data = dir.join("custom.npz");
    std::fs::write(&data, npz(&spec)).unwrap();
    let mut rng = breastmnist_core::rng::Rng::new(3);
    let scores: Vec<f64> = (0..12 * 4).map(|_| rng.below(10) as f64 / 10.0).collect();
    let csv: String = scores.chunks(4).enumerate().map(|(i, r)| format!("{i},{},{},{},{}\n", r[0], r[1], r[2], r[3])).collect();
    let result = dir.join("dermamnist_test_[AUC]0.500_[ACC]0.250@x.csv");
    std::fs::write(&result, &csv).unwrap();
    let out = bin().arg("score").arg("--data").arg(&data).arg(&result).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--task multi-class --classes 4"));
    let out =
        bin().args(["score", "--task", "multi-class", "--classes", "4", "--data"]).arg(&data).arg(&result).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Single-label test images cycle through the classes (synthetic.rs): 0, 1, 2, 3, 0, ...
    let labels: Vec<u8> = (0..12).map(|i| (i % 4) as u8).collect();
    let ds = breastmnist_data::decode_npz(
        &std::fs::read(&data).unwrap(),
        &breastmnist_data::DecodeOptions {
            split_sizes: None,
            targets: breastmnist_data::Targets::Classes(4),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(ds.split(Split::Test).labels, labels);
    let mean_auc = (0..4)
        .map(|c| {
            let truth: Vec<u8> = labels.iter().map(|&l| u8::from(l as usize == c)).collect();
            let column: Vec<f64> = scores.chunks(4).map(|r| r[c]).collect();
            pairwise_auc(&truth, &column)
        })
        .sum::<f64>()
        / 4.0;
    let first_max = |r: &[f64]| r.iter().position(|&v| v == r.iter().cloned().fold(f64::MIN, f64::max)).unwrap();
    let acc = scores.chunks(4).zip(&labels).filter(|(r, l)| first_max(r) == **l as usize).count() as f64 / 12.0;
    let (got_auc, got_acc) = printed_metrics(&out);
    assert!((got_auc - mean_auc).abs() < 1e-12 && (got_acc - acc).abs() < 1e-12, "{got_auc} {got_acc} vs {mean_auc} {acc}");

    // Too few rows for the split, and a result file of another dataset, are refused.
    std::fs::write(&result, csv.lines().take(5).map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    let out =
        bin().args(["score", "--task", "multi-class", "--classes", "4", "--data"]).arg(&data).arg(&result).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("has 5 rows, but the test split has 12 images"));
    if let Some(retina) = real_file("retinamnist.npz") {
        let out = bin().arg("score").arg("--data").arg(&retina).arg(&result).output().unwrap();
        assert!(String::from_utf8_lossy(&out.stderr).contains("is a result file for DermaMNIST at 28 px, but"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn pneumoniamnist_and_retinamnist_train_through_the_cli_and_their_result_files_rescore() {
    for (flag, classes, json_key) in [("retinamnist", 5, "dataset"), ("pneumoniamnist", 2, "test")] {
        let Some(_) = real_file(&format!("{flag}.npz")) else { continue };
        let out = scratch(flag);
        let run = bin()
            .args(["train", "--dataset", flag, "--model", "c8", "--epochs", "1", "--subset", "512", "--out"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(run.status.success(), "{flag}: {}", String::from_utf8_lossy(&run.stderr));
        let json: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("metrics.json")).unwrap()).unwrap();
        // Both name their set and task (schema 2) with each class's AUC; PneumoniaMNIST's binary
        // figures also stay where BreastMNIST's are, without BreastMNIST's malignant rates.
        assert_eq!(json["schema_version"], 2);
        let task = if classes == 2 { "binary-class" } else { "ordinal-regression" };
        assert_eq!((json["dataset"]["flag"].as_str(), json["dataset"]["task"].as_str()), (Some(flag), Some(task)));
        assert_eq!(json["dataset"]["test"]["per_class_auc"].as_array().unwrap().len(), classes);
        let (auc, acc) = (json["dataset"]["test"]["auc"].as_f64().unwrap(), json["dataset"]["test"]["acc"].as_f64().unwrap());
        if json_key == "test" {
            assert_eq!((json["test"]["auc"].as_f64(), json["test"]["acc"].as_f64()), (Some(auc), Some(acc)));
            assert!(json["test"].get("malignant").is_none(), "class 0 of PneumoniaMNIST is not malignant");
        }
        let result = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(&format!("{flag}_test_[AUC]")))
            .expect("a test result file under the dataset's flag");
        let text = std::fs::read_to_string(&result).unwrap();
        assert!(text.lines().all(|l| l.split(',').count() == classes + 1), "{classes} score columns");
        let scored = bin().args(["score", "--bootstrap", "200", "--dataset", flag]).arg(&result).output().unwrap();
        assert!(scored.status.success(), "{}", String::from_utf8_lossy(&scored.stderr));
        assert_eq!(printed_metrics(&scored), (auc, acc), "{flag}: the file re-scores to the JSON's figures");
        let text = String::from_utf8_lossy(&scored.stdout);
        assert!(text.contains("agree with the file's scores"));
        let ci =
            text.lines().find_map(|l| l.strip_prefix("AUC 95% interval (bootstrap over the images, 200 resamples): ")).unwrap();
        let (lo, hi) = ci.split_once('-').unwrap();
        assert!(lo.parse::<f64>().unwrap() <= auc && auc <= hi.parse::<f64>().unwrap(), "{ci} holds {auc}");
        let _ = std::fs::remove_dir_all(&out);
    }
    // The audit reads any catalog file; RetinaMNIST's fundus photographs all look alike, so
    // BreastMNIST's 0.95 threshold is no measure there: at 0.99, 378 of 400 test images have no twin.
    if real_file("retinamnist.npz").is_some() {
        let o = bin().args(["audit", "--dataset", "retinamnist", "--threshold", "0.99"]).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(doc["audit"]["deduplicated_test"].as_array().unwrap().len(), 378);
    }
}

#[test]
fn a_custom_multi_label_file_trains_once_its_task_is_named() {
    use breastmnist_data::Task;
    use breastmnist_data::synthetic::{Spec, npz};
    let dir = scratch("custom-ml");
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("labels.npz");
    std::fs::write(
        &data,
        npz(&Spec { task: Task::MultiLabel, classes: 3, channels: 1, side: 28, splits: [96, 32, 32], seed: 9 }),
    )
    .unwrap();
    let out = dir.join("run");
    // Without its task the file is read as BreastMNIST, whose layout it does not have.
    let plain = run_with(&["train", "--model", "c8", "--epochs", "1"], &data, &out);
    assert!(!plain.status.success());
    assert!(String::from_utf8_lossy(&plain.stderr).contains("expected (N, 1)"), "{}", String::from_utf8_lossy(&plain.stderr));
    let named = run_with(&["train", "--model", "c8", "--epochs", "3", "--task", "multi-label", "--classes", "3"], &data, &out);
    let stdout = String::from_utf8_lossy(&named.stdout);
    assert!(named.status.success(), "{}", String::from_utf8_lossy(&named.stderr));
    assert!(stdout.contains("per label [[tn, fp], [fn, tp]]") && stdout.contains("no standard result files"), "{stdout}");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("metrics.json")).unwrap()).unwrap();
    assert_eq!((json["dataset"]["flag"].is_null(), json["dataset"]["task"].as_str()), (true, Some("multi-label, binary-class")));
    assert_eq!(json["config"]["model_config"]["multi_label"], true);
    let header = std::fs::read_to_string(out.join("predictions.csv")).unwrap();
    assert!(header.starts_with("id,label_0,label_1,label_2,p_0,p_1,p_2\n"), "{header}");
    // --size belongs to --dataset: with a file it would be ignored, so it is refused.
    let sized = run_with(&["train", "--size", "64"], &data, &out);
    assert!(String::from_utf8_lossy(&sized.stderr).contains("cannot be used with"), "{}", String::from_utf8_lossy(&sized.stderr));
    // A binary file has two classes; an official file needs no task named, and says so.
    let three = run_with(&["train", "--task", "binary-class", "--classes", "3"], &data, &out);
    assert!(String::from_utf8_lossy(&three.stderr).contains("a binary-class dataset has 2 classes"));
    if let Some(retina) = real_file("retinamnist.npz") {
        let named = run_with(&["train", "--task", "multi-class", "--classes", "5"], &retina, &out);
        assert!(
            String::from_utf8_lossy(&named.stderr)
                .contains("is the official RetinaMNIST at 28 px (ordinal-regression, 5 classes)")
        );
        // A file under an official name without the official bytes is refused by --dataset.
        let fake = dir.join("fake");
        std::fs::create_dir_all(&fake).unwrap();
        std::fs::copy(&data, fake.join("retinamnist.npz")).unwrap();
        let o = bin()
            .env("BREASTMNIST_DATA_DIR", &fake)
            .args(["train", "--dataset", "retinamnist", "--out"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("is not the official RetinaMNIST at 28 px"),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    // An official dataset that is not on this machine says how to get it.
    let missing = bin().args(["train", "--dataset", "tissuemnist", "--size", "224", "--out"]).arg(&out).output().unwrap();
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cargo xtask data --dataset tissuemnist --size 224"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn k_class_and_multi_label_rgb_runs_export_to_pytorch_and_ensemble() {
    use breastmnist_data::Task;
    use breastmnist_data::synthetic::{Spec, npz};
    let dir = scratch("k-class-torch");
    std::fs::create_dir_all(&dir).unwrap();
    for (task, name, classes) in [(Task::MultiClass, "multi-class", 5), (Task::MultiLabel, "multi-label", 3)] {
        let data = dir.join(format!("{name}.npz"));
        let spec = Spec { task, classes, channels: 3, side: 28, splits: [96, 40, 40], seed: 7 };
        std::fs::write(&data, npz(&spec)).unwrap();
        let custom = ["--task", name, "--classes", &classes.to_string()];
        let run = dir.join(name);
        let o = bin()
            .args(["train", "--model", "tiny", "--epochs", "1", "--batch", "32", "--preset", "paper"])
            .args(custom)
            .arg("--data")
            .arg(&data)
            .arg("--out")
            .arg(&run)
            .output()
            .unwrap();
        assert!(o.status.success(), "{name}: {}", String::from_utf8_lossy(&o.stderr));
        let weights = run.join("model.safetensors");
        let o = bin().args(["export", "--checkpoint"]).arg(run.join("best.ckpt")).arg("--out").arg(&weights).output().unwrap();
        assert!(o.status.success(), "{name}: {}", String::from_utf8_lossy(&o.stderr));
        // The same figures from our checkpoint and from the PyTorch file.
        let eval = |file: &Path| {
            let o = bin()
                .args(["--json", "eval"])
                .args(custom)
                .arg("--data")
                .arg(&data)
                .arg("--checkpoint")
                .arg(file)
                .output()
                .unwrap();
            assert!(o.status.success(), "{name}: {}", String::from_utf8_lossy(&o.stderr));
            let last: serde_json::Value =
                serde_json::from_str(String::from_utf8_lossy(&o.stdout).lines().last().unwrap()).unwrap();
            (last["result"]["auc"].as_f64().unwrap(), last["result"]["acc"].as_f64().unwrap())
        };
        let (ours, torch) = (eval(&run.join("best.ckpt")), eval(&weights));
        assert!((ours.0 - torch.0).abs() < 1e-6 && (ours.1 - torch.1).abs() < 1e-6, "{name}: {ours:?} vs {torch:?}");

        // An ensemble of this run and another seed: every probability is the members' mean.
        let second = dir.join(format!("{name}-seed2"));
        let o = bin()
            .args(["train", "--model", "tiny", "--epochs", "1", "--batch", "32", "--preset", "paper", "--seed", "2"])
            .args(custom)
            .arg("--data")
            .arg(&data)
            .arg("--out")
            .arg(&second)
            .output()
            .unwrap();
        assert!(o.status.success(), "{name}: {}", String::from_utf8_lossy(&o.stderr));
        let members = format!("{},{}", run.join("best.ckpt").display(), second.join("best.ckpt").display());
        let ens = dir.join(format!("{name}-ens"));
        let o = bin()
            .args(["--json", "ensemble", "--checkpoints", &members])
            .args(custom)
            .arg("--data")
            .arg(&data)
            .arg("--out")
            .arg(&ens)
            .output()
            .unwrap();
        assert!(o.status.success(), "{name}: {}", String::from_utf8_lossy(&o.stderr));
        let probabilities = |csv: &Path| -> Vec<Vec<f64>> {
            let text = std::fs::read_to_string(csv).unwrap();
            let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
            let first_p = header.iter().position(|h| h.starts_with("p_")).unwrap();
            text.lines().skip(1).map(|l| l.split(',').skip(first_p).map(|v| v.parse().unwrap()).collect()).collect()
        };
        let (a, b, mean) = (
            probabilities(&run.join("predictions.csv")),
            probabilities(&second.join("predictions.csv")),
            probabilities(&ens.join("predictions.csv")),
        );
        assert_eq!((mean.len(), mean[0].len()), (40, classes), "{name}");
        for (i, row) in mean.iter().enumerate() {
            for j in 0..classes {
                assert!((row[j] - (a[i][j] + b[i][j]) / 2.0).abs() < 1e-5, "{name} image {i} class {j}");
            }
        }
        let last: serde_json::Value = serde_json::from_str(String::from_utf8_lossy(&o.stdout).lines().last().unwrap()).unwrap();
        assert_eq!(last["result"]["task_test"]["per_class_auc"].as_array().unwrap().len(), classes, "{name}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

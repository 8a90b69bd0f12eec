//! What an agent relies on: `--json` output validated against docs/events.schema.json, exit
//! codes per error kind, and the MCP server driven by rmcp's client over a child process.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use breastmnist_data::real_file;
use serde_json::{Value, json};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_breastmnist"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("breastmnist-agents-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A synthetic file in BreastMNIST's layout (546/78/156, gray, 28 px) that the catalog does not
/// know.
fn lookalike_npz(seed: u64) -> Vec<u8> {
    use breastmnist_data::synthetic::{Spec, npz};
    npz(&Spec { task: breastmnist_data::Task::Binary, classes: 2, channels: 1, side: 28, splits: [546, 78, 156], seed })
}

fn schema() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/events.schema.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The JSON Schema keywords the committed schema uses (draft 2020-12: type, const, enum,
/// required, properties, additionalProperties, items, minItems, maxItems, minimum, maximum,
/// pattern of hex, oneOf, $ref into $defs), checked strictly: a keyword this does not know
/// fails the test rather than passing silently.
fn validate(schema: &Value, root: &Value, v: &Value, at: &str) -> Result<(), String> {
    let Some(obj) = schema.as_object() else { return Err(format!("{at}: schema is not an object")) };
    for (key, rule) in obj {
        match key.as_str() {
            "$schema" | "$id" | "title" | "description" | "$defs" => {}
            "$ref" => {
                let name = rule.as_str().unwrap().trim_start_matches("#/$defs/");
                validate(&root["$defs"][name], root, v, at)?;
            }
            "type" => {
                let ok = match rule.as_str().unwrap() {
                    "object" => v.is_object(),
                    "array" => v.is_array(),
                    "string" => v.is_string(),
                    "integer" => v.is_u64() || v.is_i64(),
                    "number" => v.is_number(),
                    "boolean" => v.is_boolean(),
                    "null" => v.is_null(),
                    t => return Err(format!("{at}: unknown type {t}")),
                };
                if !ok {
                    return Err(format!("{at}: {v} is not {rule}"));
                }
            }
            "const" if v != rule => return Err(format!("{at}: {v} is not {rule}")),
            "const" => {}
            "enum" if !rule.as_array().unwrap().contains(v) => return Err(format!("{at}: {v} not in {rule}")),
            "enum" => {}
            "required" => {
                for k in rule.as_array().unwrap() {
                    if v.get(k.as_str().unwrap()).is_none() {
                        return Err(format!("{at}: missing {k}"));
                    }
                }
            }
            "properties" => {
                for (k, sub) in rule.as_object().unwrap() {
                    if let Some(x) = v.get(k) {
                        validate(sub, root, x, &format!("{at}.{k}"))?;
                    }
                }
            }
            "additionalProperties" => {
                let known = obj["properties"].as_object().unwrap();
                if let Some(extra) = v.as_object().and_then(|o| o.keys().find(|k| !known.contains_key(*k))) {
                    return Err(format!("{at}: unexpected key {extra}"));
                }
            }
            "items" => {
                for (i, x) in v.as_array().into_iter().flatten().enumerate() {
                    validate(rule, root, x, &format!("{at}[{i}]"))?;
                }
            }
            "minItems" | "maxItems" => {
                let n = v.as_array().map_or(0, Vec::len) as u64;
                let bound = rule.as_u64().unwrap();
                if (key == "minItems" && n < bound) || (key == "maxItems" && n > bound) {
                    return Err(format!("{at}: {n} items breaks {key} {bound}"));
                }
            }
            "minimum" | "maximum" => {
                let (x, bound) = (v.as_f64().unwrap_or(f64::NAN), rule.as_f64().unwrap());
                if !((key == "minimum" && x >= bound) || (key == "maximum" && x <= bound)) {
                    return Err(format!("{at}: {v} breaks {key} {bound}"));
                }
            }
            "pattern" => {
                assert_eq!(rule, "^[0-9a-f]{32}$", "the only pattern the schema uses");
                let s = v.as_str().unwrap_or("");
                if !(s.len() == 32 && s.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())) {
                    return Err(format!("{at}: {v} is not an MD5"));
                }
            }
            "oneOf" => {
                let passing = rule.as_array().unwrap().iter().filter(|s| validate(s, root, v, at).is_ok()).count();
                if passing != 1 {
                    let why: Vec<String> =
                        rule.as_array().unwrap().iter().filter_map(|s| validate(s, root, v, at).err()).collect();
                    return Err(format!("{at}: {passing} of oneOf match {v}: {why:?}"));
                }
            }
            other => return Err(format!("{at}: the test's validator does not know '{other}'")),
        }
    }
    Ok(())
}

/// Runs `breastmnist --json ARGS`, validates every stdout line, and returns the lines and the
/// exit code. The last line is `done` on success and `error` (with the exit code) on failure.
fn json_run(args: &[&str]) -> (Vec<Value>, i32) {
    let out = bin().arg("--json").args(args).output().unwrap();
    let schema = schema();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
    for line in &lines {
        validate(&schema, &schema, line, "$").unwrap_or_else(|e| panic!("{args:?}: {e}"));
    }
    let code = out.status.code().unwrap();
    let last = lines.last().unwrap_or_else(|| panic!("{args:?}: no output; stderr {}", String::from_utf8_lossy(&out.stderr)));
    if code == 0 {
        assert_eq!(last["event"], "done", "{args:?}");
    } else {
        assert_eq!((last["event"].as_str(), last["exit_code"].as_i64()), (Some("error"), Some(i64::from(code))), "{args:?}");
    }
    (lines, code)
}

#[test]
fn the_validator_rejects_what_the_schema_forbids() {
    let s = schema();
    for bad in [
        json!({ "event": "epoch", "epoch": 1 }),
        json!({ "event": "file", "path": "a", "role": "secret" }),
        json!({ "event": "error", "kind": "bad-input", "exit_code": 2, "message": "m", "extra": 1 }),
        json!({ "event": "nonsense" }),
    ] {
        assert!(validate(&s, &s, &bad, "$").is_err(), "{bad}");
    }
    let ok = json!({ "event": "warning", "message": "m" });
    validate(&s, &s, &ok, "$").unwrap();
    // JSON has no NaN: an undefined AUC (one class in a split) or a diverged loss is written as
    // null, which the schema allows; an AUC outside [0, 1] it does not.
    let undefined = json!({ "event": "evaluated", "split": "val", "images": 3, "auc": null, "acc": 0.5 });
    validate(&s, &s, &undefined, "$").unwrap();
    let nan_loss = json!({ "event": "epoch", "epoch": 1, "epochs": 2, "train_loss": null, "train_acc": 0.5, "val_loss": null,
        "val_acc": 0.5, "val_auc": null, "lr": 0.001, "kept": true });
    validate(&s, &s, &nan_loss, "$").unwrap();
    let wrong = json!({ "event": "evaluated", "split": "val", "images": 3, "auc": 1.5, "acc": 0.5 });
    assert!(validate(&s, &s, &wrong, "$").is_err());
}

#[test]
fn every_json_command_matches_the_schema_and_exit_codes_say_the_kind() {
    let dir = scratch("json");
    // Failures of each kind, before any data is needed.
    let missing = dir.join("absent.npz");
    let (_, code) = json_run(&["inspect", "--data", missing.to_str().unwrap()]);
    assert_eq!(code, 3, "not found");
    let (_, code) = json_run(&["train", "--preset", "nonsense", "--data", missing.to_str().unwrap(), "--out", "x"]);
    assert_eq!(code, 2, "bad input");
    let (lines, code) = json_run(&["train", "--no-such-flag"]);
    assert_eq!(code, 2, "a usage error is bad input");
    assert!(lines[0]["message"].as_str().unwrap().contains("--no-such-flag"), "{lines:?}");
    let (lines, code) = json_run(&["lab", "--methods", "magic", "--data", "x.npz", "--out", "y"]);
    assert_eq!(code, 2, "bad input");
    assert!(lines[0]["message"].as_str().unwrap().contains("unknown method 'magic'"), "{lines:?}");
    // bench and check need no data.
    let (lines, code) =
        json_run(&["bench", "--backends", "flex", "--models", "tiny", "--steps", "1", "--batches", "4", "--conv", "direct"]);
    assert_eq!(code, 0);
    let rows = lines.last().unwrap()["result"]["rows"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!((rows[0]["model"].as_str(), rows[0]["batch"].as_u64()), (Some("tiny"), Some(4)));
    assert!(rows[0]["ms_per_step"].as_f64().unwrap() > 0.0);
    let (lines, code) = json_run(&["check", "--backend", "flex", "--models", "tiny", "--steps", "2", "--conv", "direct"]);
    assert_eq!(code, 0);
    let result = &lines.last().unwrap()["result"];
    assert_eq!((result["checks"][0]["loss"].as_f64(), result["failed"].clone()), (Some(0.0), json!([])), "flex against itself");
    let fake = scratch("json-fake");
    std::fs::write(fake.join("octmnist.npz"), b"not the official file").unwrap();
    let out = bin()
        .args(["--json", "inspect", "--dataset", "octmnist"])
        .env(breastmnist_data::local::DATA_DIR_VAR, &fake)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "unverified: {}", String::from_utf8_lossy(&out.stdout));

    // A file the catalog does not know, in BreastMNIST's layout: trained, with a warning after
    // `started` (whose data is not official).
    let lookalike = dir.join("lookalike.npz");
    std::fs::write(&lookalike, lookalike_npz(3)).unwrap();
    let (lines, code) = json_run(&[
        "train",
        "--model",
        "tiny",
        "--epochs",
        "1",
        "--batch",
        "32",
        "--subset",
        "64",
        "--data",
        lookalike.to_str().unwrap(),
        "--out",
        dir.join("lookalike-run").to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    assert_eq!((lines[0]["event"].as_str(), lines[0]["data"]["official"].is_null()), (Some("started"), true));
    assert!(
        lines
            .iter()
            .any(|l| l["event"] == "warning" && l["message"].as_str().unwrap().contains("is not an official MedMNIST file")),
        "{lines:?}"
    );

    let (lines, code) = json_run(&["datasets"]);
    assert_eq!(code, 0);
    assert_eq!(lines[0]["event"], "started");
    assert_eq!(lines.last().unwrap()["result"]["datasets"].as_array().unwrap().len(), 12);

    let Some(data) = real_file("breastmnist.npz") else { return };
    let data = data.to_str().unwrap();
    let run = dir.join("run");
    let (lines, code) = json_run(&[
        "train",
        "--model",
        "tiny",
        "--epochs",
        "2",
        "--batch",
        "32",
        "--subset",
        "64",
        "--data",
        data,
        "--out",
        run.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    let kinds: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "epoch").count(), 2, "{kinds:?}");
    let done = lines.last().unwrap();
    let files: Vec<&str> = done["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    let reported: Vec<&str> = lines.iter().filter(|l| l["event"] == "file").map(|l| l["path"].as_str().unwrap()).collect();
    assert_eq!(files, reported, "done lists every file a file event reported");
    assert_eq!(files.len(), 5, "best.ckpt, metrics.json, predictions.csv, two result files: {files:?}");
    for f in &files {
        assert!(Path::new(f).is_file(), "{f}");
    }
    let metrics: Value = serde_json::from_str(&std::fs::read_to_string(run.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(done["result"]["metrics"], metrics, "done carries metrics.json");
    assert_eq!(done["result"]["test"]["auc"], metrics["test"]["auc"]);

    let ckpt = run.join("best.ckpt");
    let ckpt = ckpt.to_str().unwrap();
    let (lines, _) = json_run(&["eval", "--checkpoint", ckpt, "--data", data]);
    let evaluated = lines.iter().find(|l| l["event"] == "evaluated").unwrap();
    assert_eq!(evaluated["auc"], metrics["test"]["auc"], "eval of best.ckpt gives the run's test AUC");
    let png = dir.join("cam.png");
    let (lines, code) =
        json_run(&["explain", "--checkpoint", ckpt, "--data", data, "--index", "3", "--out", png.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(lines.last().unwrap()["result"]["map"].as_array().unwrap().len(), 28 * 28);
    assert_eq!(&std::fs::read(&png).unwrap()[1..4], b"PNG");
    let (lines, _) = json_run(&["predict", "--checkpoint", ckpt, "--data", data, "--split", "val", "--limit", "5"]);
    assert_eq!(lines.last().unwrap()["result"]["rows"].as_array().unwrap().len(), 5);
    assert_eq!(lines.last().unwrap()["result"]["complete"], false);
    let csv = dir.join("p.csv");
    let (lines, _) = json_run(&["predict", "--checkpoint", ckpt, "--data", data, "--out", csv.to_str().unwrap()]);
    assert_eq!(lines.last().unwrap()["result"]["rows"].as_array().unwrap().len(), 0);
    assert_eq!(std::fs::read_to_string(&csv).unwrap().lines().count(), 157, "a header and 156 rows");
    let result_file = std::fs::read_dir(&run)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("breastmnist_test_"))
        .unwrap();
    let (lines, _) = json_run(&["score", "--data", data, result_file.to_str().unwrap()]);
    assert_eq!(lines.last().unwrap()["result"]["name_agrees"], true);
    let (lines, _) = json_run(&["export", "--checkpoint", ckpt, "--out", dir.join("w.safetensors").to_str().unwrap()]);
    assert_eq!(lines.last().unwrap()["files"].as_array().unwrap().len(), 1);
    let (lines, _) = json_run(&["runs", dir.to_str().unwrap()]);
    assert_eq!(lines.last().unwrap()["result"]["runs"][0]["status"], "finished");
    let (lines, _) = json_run(&["inspect", "--data", data]);
    assert_eq!(lines.last().unwrap()["result"]["counts"]["test"], json!([42, 114]));
    let (_, code) = json_run(&["audit", "--data", data]);
    assert_eq!(code, 0);
    // The same model twice is that model: the ensemble's test AUC is eval's.
    let pair = format!("{ckpt},{ckpt}");
    let (lines, code) =
        json_run(&["ensemble", "--checkpoints", &pair, "--data", data, "--out", dir.join("ens").to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(lines.last().unwrap()["result"]["test"]["auc"], metrics["test"]["auc"]);
    assert_eq!(lines.last().unwrap()["files"].as_array().unwrap().len(), 4, "ensemble.json, predictions.csv, two result files");
    let (lines, code) = json_run(&[
        "ssl",
        "--task",
        "masked",
        "--model",
        "tiny",
        "--epochs",
        "1",
        "--data",
        data,
        "--out",
        dir.join("ssl").to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    assert_eq!(lines.iter().filter(|l| l["event"] == "pretext-epoch").count(), 1);
    assert_eq!(lines.last().unwrap()["result"]["images"], 546);
    assert!(dir.join("ssl/encoder.ckpt").is_file());
    let lab = dir.join("lab.json");
    let (lines, code) = json_run(&[
        "lab",
        "--models",
        "tiny",
        "--seeds",
        "0,1",
        "--epochs",
        "1",
        "--subset",
        "64",
        "--methods",
        "base",
        "--data",
        data,
        "--out",
        lab.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    let runs: Vec<&Value> = lines.iter().filter(|l| l["event"] == "lab-run").collect();
    assert_eq!(runs.len(), 2, "one lab-run per seed");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&lab).unwrap()).unwrap();
    let done = &lines.last().unwrap()["result"];
    assert_eq!(done["rows"][0]["test_auc"], report["rows"][0]["test_auc"]);
    assert_eq!(runs[1]["test_auc"], report["rows"][0]["runs"][1]["test_auc"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ctrl_c_stops_training_between_steps_and_keeps_its_files() {
    use std::io::BufRead;
    let Some(data) = real_file("breastmnist.npz") else { return };
    let dir = scratch("ctrl-c");
    let mut child = bin()
        .args(["--json", "train", "--model", "tiny", "--epochs", "200", "--batch", "32", "--subset", "64", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    // After the first epoch there is a model to keep.
    for line in lines.by_ref() {
        if serde_json::from_str::<Value>(&line.unwrap()).unwrap()["event"] == "epoch" {
            break;
        }
    }
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let rest: Vec<Value> = lines.map(|l| serde_json::from_str(&l.unwrap()).unwrap()).collect();
    let code = child.wait().unwrap().code();
    assert_eq!(code, Some(6), "cancelled: {rest:?}");
    let last = rest.last().unwrap();
    assert_eq!((last["event"].as_str(), last["kind"].as_str()), (Some("error"), Some("cancelled")));
    let progress: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("progress.json")).unwrap()).unwrap();
    assert_eq!(progress["status"], "cancelled");
    assert!(progress["epochs_done"].as_u64().unwrap() >= 1 && progress["epochs_done"].as_u64().unwrap() < 200);
    assert!(dir.join("best.ckpt").is_file());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The reference client, Python's `mcp` (crates/mcp/tests/python_client.py), against the
/// server: it lists the tools, trains with progress, checks `evaluate` against metrics.json and
/// `explain`'s PNG, and sees a path escape refused. `cargo xtask test` installs the package and
/// names its Python in BREASTMNIST_MCP_PYTHON; without it this test says so and passes.
#[test]
fn the_reference_python_client_drives_the_server() {
    let Some(python) = std::env::var_os("BREASTMNIST_MCP_PYTHON") else {
        eprintln!("skipped: BREASTMNIST_MCP_PYTHON names no Python with the mcp package (cargo xtask test sets it)");
        return;
    };
    let Some(data) = real_file("breastmnist.npz") else { return };
    let root = scratch("python-client");
    std::fs::copy(&data, root.join("breast.npz")).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../mcp/tests/python_client.py");
    let out = Command::new(python).arg(script).arg(env!("CARGO_BIN_EXE_breastmnist")).arg(&root).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let seen: Value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap()).unwrap();
    assert_eq!(seen["tools"].as_array().unwrap().len(), 9, "{seen}");
    assert!(seen["progress_notifications"].as_u64().unwrap() >= 1, "{seen}");
    assert_eq!(seen["train_files"], 5, "{seen}");
    let _ = std::fs::remove_dir_all(&root);
}

mod mcp {
    use super::*;
    use rmcp::model::{CallToolRequestParams, ClientRequest, ProgressNotificationParam, Request};
    use rmcp::service::{NotificationContext, PeerRequestOptions, RunningService};
    use rmcp::transport::TokioChildProcess;
    use rmcp::{ClientHandler, RoleClient, ServiceExt};

    #[derive(Clone, Default)]
    struct Client {
        progress: Arc<Mutex<Vec<ProgressNotificationParam>>>,
    }

    impl ClientHandler for Client {
        async fn on_progress(&self, params: ProgressNotificationParam, _context: NotificationContext<RoleClient>) {
            self.progress.lock().unwrap().push(params);
        }
    }

    fn call(name: &'static str, args: Value) -> CallToolRequestParams {
        CallToolRequestParams::new(name).with_arguments(args.as_object().unwrap().clone())
    }

    async fn tool(client: &RunningService<RoleClient, Client>, name: &'static str, args: Value) -> rmcp::model::CallToolResult {
        client.call_tool(call(name, args)).await.unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    fn ok(r: &rmcp::model::CallToolResult) -> &Value {
        assert_ne!(r.is_error, Some(true), "{:?}", r.content);
        r.structured_content.as_ref().unwrap()
    }

    fn refused(r: &rmcp::model::CallToolResult) -> String {
        assert_eq!(r.is_error, Some(true), "{:?}", r.structured_content);
        r.structured_content.as_ref().unwrap()["message"].as_str().unwrap().to_string()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_agent_lists_trains_cancels_evaluates_and_explains() {
        let Some(data) = real_file("breastmnist.npz") else { return };
        let root = scratch("mcp");
        std::fs::copy(&data, root.join("breast.npz")).unwrap();
        let outside = scratch("mcp-outside");
        std::os::unix::fs::symlink(&outside, root.join("escape")).unwrap();
        // The server starts in an unrelated folder, as an agent would start it.
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_breastmnist"));
        cmd.arg("mcp").arg("--root").arg(&root).current_dir(std::env::temp_dir());
        let handler = Client::default();
        let progress = handler.progress.clone();
        let client = handler.serve(TokioChildProcess::new(cmd).unwrap()).await.unwrap();

        let tools = client.list_all_tools().await.unwrap();
        let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
        names.sort();
        assert_eq!(
            names,
            [
                "datasets",
                "evaluate",
                "explain",
                "export_weights",
                "inspect_data",
                "list_runs",
                "predict",
                "score_result_file",
                "train"
            ]
        );
        let info = ok(&tool(&client, "inspect_data", json!({ "data": "breast.npz" })).await).clone();
        assert_eq!((info["official"]["flag"].as_str(), info["splits"].clone()), (Some("breastmnist"), json!([546, 78, 156])));

        // Paths outside the root, and malformed arguments.
        for bad in ["../breast.npz", "/etc/passwd", "escape/x.npz"] {
            let msg = refused(&tool(&client, "inspect_data", json!({ "data": bad })).await);
            assert!(msg.contains("refused") || msg.contains("cannot read"), "{bad}: {msg}");
        }
        let msg = refused(&tool(&client, "train", json!({ "data": "breast.npz", "out": "escape/run" })).await);
        assert!(msg.contains("refused"), "{msg}");
        assert!(client.call_tool(call("inspect_data", json!({ "data": 5 }))).await.is_err(), "wrong type: protocol error");
        assert!(client.call_tool(call("train", json!({ "data": "breast.npz" }))).await.is_err(), "missing out");
        assert!(client.call_tool(call("datasets", json!({ "surprise": 1 }))).await.is_err(), "unknown field");
        let msg = refused(&tool(&client, "train", json!({ "data": "breast.npz", "out": "r", "epochs": 100000 })).await);
        assert!(msg.contains("epochs must be 1 to 200"), "{msg}");

        // A long run: progress arrives, a second run is busy, cancelling keeps the files.
        let long =
            json!({ "data": "breastmnist", "model": "tiny", "epochs": 200, "batch_size": 32, "subset": 64, "out": "long" });
        let request = ClientRequest::CallToolRequest(Request::new(call("train", long)));
        let handle = client.send_cancellable_request(request, PeerRequestOptions::no_options()).await.unwrap();
        let mut waited = 0;
        while progress.lock().unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(100)).await;
            waited += 1;
            assert!(waited < 600, "no progress notification in 60 s");
        }
        let p = progress.lock().unwrap()[0].clone();
        assert!(p.message.as_deref().unwrap().starts_with("epoch "), "{p:?}");
        assert!(p.total.unwrap() >= p.progress);
        let busy = tool(&client, "train", json!({ "data": "breast.npz", "model": "tiny", "epochs": 1, "out": "second" })).await;
        assert_eq!(busy.structured_content.as_ref().unwrap()["kind"], "busy");
        handle.cancel(Some("enough".into())).await.unwrap();
        let mut runs = Value::Null;
        for _ in 0..600 {
            runs = ok(&tool(&client, "list_runs", json!({})).await).clone();
            if runs["runs"].as_array().unwrap().iter().any(|r| r["status"] == "cancelled") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let cancelled = runs["runs"].as_array().unwrap().iter().find(|r| r["status"] == "cancelled").expect("a cancelled run");
        assert!(cancelled["files"].as_array().unwrap().contains(&json!("progress.json")), "{cancelled}");
        assert!(cancelled["epochs_done"].as_u64().unwrap() < 200);

        // A short run to the end (the busy flag is free again once the cancelled run stopped).
        let mut done = None;
        for _ in 0..100 {
            let r = tool(&client, "train", json!({ "data": "breast.npz", "model": "tiny", "epochs": 2, "batch_size": 32, "subset": 64, "seed": 1, "out": "short", "preset": "reader" })).await;
            if r.structured_content.as_ref().unwrap().get("kind") == Some(&json!("busy")) {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            done = Some(r);
            break;
        }
        let done = done.expect("the server is free again after the cancel");
        // A file the catalog does not know: trained, and the run's warning is in the result.
        std::fs::write(root.join("lookalike.npz"), lookalike_npz(5)).unwrap();
        let r = tool(
            &client,
            "train",
            json!({ "data": "lookalike.npz", "model": "tiny", "epochs": 1, "batch_size": 32, "subset": 64, "out": "look" }),
        )
        .await;
        let warnings = ok(&r)["warnings"].as_array().unwrap().clone();
        assert!(warnings.iter().any(|w| w.as_str().unwrap().contains("is not an official MedMNIST file")), "{warnings:?}");
        let trained = ok(&done).clone();
        let links = done.content.iter().filter(|c| matches!(c, rmcp::model::ContentBlock::ResourceLink(_))).count();
        assert_eq!(links, trained["files"].as_array().unwrap().len(), "a resource link per file written");
        let metrics: Value = serde_json::from_str(&std::fs::read_to_string(root.join("short/metrics.json")).unwrap()).unwrap();
        assert_eq!(trained["metrics"], metrics);
        // The reader recipe scores with flip TTA; evaluate follows the run's recipe unless told.
        assert_eq!(metrics["config"]["tta"], true);
        let eval = ok(&tool(&client, "evaluate", json!({ "checkpoint": "short/best.ckpt", "data": "breast.npz" })).await).clone();
        assert_eq!(eval["auc"], metrics["test"]["auc"], "evaluate gives metrics.json's test AUC");
        assert_eq!(eval["acc"], metrics["test"]["acc"]);
        assert_eq!(eval["tta"], json!({ "on": true, "from": "run" }));
        let plain =
            ok(&tool(&client, "evaluate", json!({ "checkpoint": "short/best.ckpt", "data": "breast.npz", "tta": false })).await)
                .clone();
        assert_eq!(plain["tta"], json!({ "on": false, "from": "asked" }));

        // explain: the same map the CLI gives, and a PNG.
        let x = tool(
            &client,
            "explain",
            json!({ "checkpoint": "short/best.ckpt", "data": "breast.npz", "split": "test", "index": 7 }),
        )
        .await;
        let mcp_map = ok(&x)["map"].clone();
        assert!(x.content.iter().any(|c| matches!(c, rmcp::model::ContentBlock::Image(i) if i.mime_type == "image/png")));
        let png = root.join("cam.png");
        let cli = bin()
            .args(["--json", "explain", "--checkpoint"])
            .arg(root.join("short/best.ckpt"))
            .arg("--data")
            .arg(root.join("breast.npz"))
            .args(["--index", "7", "--out"])
            .arg(&png)
            .output()
            .unwrap();
        let last: Value = serde_json::from_str(String::from_utf8_lossy(&cli.stdout).lines().last().unwrap()).unwrap();
        assert_eq!(last["result"]["map"], mcp_map, "MCP and CLI Grad-CAM agree");
        let predicted =
            ok(&tool(&client, "predict", json!({ "checkpoint": "short/best.ckpt", "data": "breast.npz", "limit": 3 })).await)
                .clone();
        assert_eq!(predicted["complete"], false);
        let big = tool(&client, "predict", json!({ "checkpoint": "short/best.ckpt", "data": "breast.npz", "limit": 5000 })).await;
        assert_eq!(big.structured_content.as_ref().unwrap()["kind"], "too-large");
        let all =
            tool(&client, "predict", json!({ "checkpoint": "short/best.ckpt", "data": "breast.npz", "split": "train" })).await;
        assert!(refused(&all).contains("546 images, over the 200"), "an unbounded request names the limit");
        let exported =
            tool(&client, "export_weights", json!({ "checkpoint": "short/best.ckpt", "out": "short/w.safetensors" })).await;
        assert!(ok(&exported)["bytes"].as_u64().unwrap() > 0);
        client.cancel().await.unwrap();
        let _ = std::fs::remove_dir_all(&root);
        let _ = std::fs::remove_dir_all(&outside);
    }
}

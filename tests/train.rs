//! Training in the tab: URL parameters fill the form, Start runs the worker on WebGPU
//! (SwiftShader here) or the CPU, progress reaches the end, the charts hold one point per
//! epoch, test metrics and the reader's benchmark row appear, and the exported metrics JSON has
//! the documented schema.

use std::time::{Duration, Instant};

use breastmnist_e2e::{Browser, Options, StaticServer, dist};

const READY: Duration = Duration::from_secs(90);
const TRAINED: Duration = Duration::from_secs(900);

async fn train(backend: &str, epochs: usize) {
    let server = StaticServer::start(dist());
    let b = Browser::start(Options { webgpu: true, ..Options::default() }).await;
    let query = format!("?model=tiny&epochs={epochs}&batch=32&subset=64&seed=3&backend={backend}");
    b.client.goto(&format!("{}{query}", server.base)).await.unwrap();
    b.wait_text("dataset-status", READY, |t| t.contains("546")).await;
    let filled = b
        .js("return ['model','epochs','batch','subset','backend'].map(k => document.querySelector('[data-testid=train-' + k + ']').value)", vec![])
        .await;
    assert_eq!(filled, serde_json::json!(["tiny", epochs.to_string(), "32", "64", backend]), "the URL fills the form");
    assert_eq!(b.count("train-progress").await, 0, "nothing starts before the reader presses Start");

    let started = Instant::now();
    b.click("train-start").await;
    let badge = b.wait_text("backend-badge", READY, |t| !t.is_empty()).await;
    let kind = b.js("return document.querySelector('[data-testid=backend-badge]').dataset.kind", vec![]).await;
    assert_eq!(kind, backend, "badge: {badge}");
    if backend == "webgpu" {
        assert!(badge.starts_with("WebGPU"), "{badge}");
    } else {
        assert!(badge.starts_with("CPU"), "{badge}");
    }
    let metrics = b.wait_text("test-metrics", TRAINED, |t| t.contains("Test AUC")).await;
    let secs = started.elapsed().as_secs_f64();
    eprintln!("FIGURE {backend}: tiny, {epochs} epoch(s) on 64 images + evaluation: {secs:.1} s ({metrics})");
    assert!(metrics.contains("ACC"), "{metrics}");

    let fraction = b.js("return document.querySelector('[data-testid=train-progress]').dataset.fraction", vec![]).await;
    assert_eq!(fraction, "1.0000");
    let points = b
        .js("const l = document.querySelector('[data-testid=loss-chart]').dataset, m = document.querySelector('[data-testid=metric-chart]').dataset; return [l.epochs, l.steps, m.epochs]", vec![])
        .await;
    assert_eq!(points, serde_json::json!([epochs.to_string(), (epochs * 2).to_string(), epochs.to_string()]), "one point per epoch, one per step (64 / 32)");
    assert_eq!(b.count("results-row").await, 1);
    assert_eq!(b.count("export-checkpoint").await, 1);

    let json = b
        .client
        .execute_async(
            "const done = arguments[0]; fetch(document.querySelector('[data-testid=export-metrics]').href).then(r => r.text()).then(done)",
            vec![],
        )
        .await
        .unwrap();
    let doc: serde_json::Value = serde_json::from_str(json.as_str().unwrap()).expect("the export is JSON");
    let mut keys: Vec<&str> = doc.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["config", "environment", "history", "schema_version", "test", "val"]);
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["environment"]["backend"], backend);
    assert_eq!(doc["history"].as_array().unwrap().len(), epochs);
    for key in ["train_loss", "val_loss", "val_acc", "val_auc"] {
        assert!(doc["history"][0][key].is_number(), "history lacks {key}");
    }
    let preds = doc["test"]["predictions"].as_array().unwrap();
    assert_eq!(preds.len(), 156);
    assert_eq!(preds[155]["index"], 155);
    let auc = doc["test"]["auc"].as_f64().unwrap();
    assert!(metrics.contains(&format!("{auc:.3}")), "the page shows the exported AUC: {metrics} vs {auc}");
    b.screenshot(&format!("train-{backend}")).await;
    let errors = b.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn trains_on_webgpu_swiftshader() {
    train("webgpu", 1).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn trains_on_the_cpu() {
    train("cpu", 2).await;
}

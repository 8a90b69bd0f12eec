//! The threaded CPU trainer (crates/threads): on a cross-origin-isolated page a CPU run trains
//! on a pool of wasm threads, to the same history as the single-threaded trainer for the same
//! seed; a threaded trainer that cannot start gives way to the single one, with a notice; and
//! on a host that sends no header the service worker's COOP + COEP make the page isolated from
//! the second load on. (That isolation breaks no widget is `tests/article.rs`, served isolated.)

use std::time::{Duration, Instant};

use breastmnist_e2e::{Browser, Options, Override, StaticServer, dist};

const READY: Duration = Duration::from_secs(90);
const TRAINED: Duration = Duration::from_secs(600);

/// Whether the page may share memory between threads.
async fn isolated(b: &Browser) -> serde_json::Value {
    b.js("return [self.crossOriginIsolated === true, typeof SharedArrayBuffer === 'function']", vec![]).await
}

/// One run of `tiny` on the CPU with `?threads=N` in a fresh browser: the badge, the exported
/// metrics JSON and the wall time from Start to the test metrics.
async fn cpu_run(server: &StaticServer, threads: usize) -> (String, serde_json::Value, f64) {
    let b = Browser::start(Options::default()).await;
    b.record_violations().await;
    let query = format!("?model=tiny&epochs=3&batch=32&subset=128&seed=5&backend=cpu&threads={threads}");
    b.client.goto(&format!("{}{query}", server.base)).await.unwrap();
    b.wait_text("dataset-status", READY, |t| t.contains("546")).await;
    assert_eq!(isolated(&b).await, serde_json::json!([true, true]), "COOP + COEP make the page cross-origin isolated");
    let started = Instant::now();
    b.click("train-start").await;
    let badge = b.wait_text("backend-badge", READY, |t| !t.is_empty()).await;
    b.wait_text("test-metrics", TRAINED, |t| t.contains("Test AUC")).await;
    let secs = started.elapsed().as_secs_f64();
    let doc = b.exported_metrics().await;
    let (blocked, errors) = b.violations().await;
    assert!(blocked.is_empty(), "policy violations with {threads} thread(s): {blocked:#?}");
    assert!(errors.is_empty(), "console errors with {threads} thread(s): {errors:#?}");
    if threads > 1 {
        b.screenshot("threads-run").await;
    }
    b.close().await;
    (badge, doc, secs)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_threaded_cpu_trainer_follows_the_single_threaded_history() {
    let server = StaticServer::isolated(dist());
    let (one_badge, one, one_s) = cpu_run(&server, 1).await;
    let (two_badge, two, two_s) = cpu_run(&server, 2).await;
    eprintln!("FIGURE threads: tiny, 3 epochs on 128 images + evaluation: 1 thread {one_s:.1} s, 2 threads {two_s:.1} s");
    assert_eq!(one_badge, "CPU · burn flex (wasm SIMD)", "?threads=1 keeps the single-threaded trainer");
    assert_eq!(two_badge, "CPU · burn flex (wasm SIMD, 2 threads)", "?threads=2 starts the threaded trainer");
    assert_eq!(two["environment"]["adapter"], "burn flex (wasm SIMD, 2 threads)", "the metrics JSON says so");

    // The same seed trains the same model. Parallel sums could reorder floating-point additions,
    // so a small tolerance is allowed; measured here, the histories were bit-identical.
    let (h1, h2) = (one["history"].as_array().unwrap(), two["history"].as_array().unwrap());
    assert_eq!(h1.len(), 3);
    assert_eq!(h1.len(), h2.len());
    let mut worst: f64 = 0.0;
    for (a, b) in h1.iter().zip(h2) {
        for key in ["train_loss", "val_loss", "val_auc", "train_acc", "val_acc"] {
            let (x, y) = (a[key].as_f64().unwrap(), b[key].as_f64().unwrap());
            let rel = (x - y).abs() / x.abs().max(1e-3);
            worst = worst.max(rel);
            assert!(rel <= 1e-3, "epoch {}: {key} {x} (1 thread) vs {y} (2 threads)", a["epoch"]);
        }
    }
    let (auc1, auc2) = (one["test"]["auc"].as_f64().unwrap(), two["test"]["auc"].as_f64().unwrap());
    eprintln!("FIGURE threads: worst relative difference of the history {worst:.1e}; test AUC {auc1:.4} vs {auc2:.4}");
    assert!((auc1 - auc2).abs() <= 2e-3, "test AUC {auc1} vs {auc2}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_service_worker_isolates_the_page_on_a_host_that_sends_no_header() {
    // A plain static server: no COOP, no COEP. The first load is not isolated (one thread); once
    // the service worker controls the page it adds both headers, and the reload is isolated.
    let server = StaticServer::start(dist());
    let b = Browser::start(Options::default()).await;
    b.client.goto(&server.base).await.unwrap();
    b.wait_text("dataset-status", READY, |t| t.contains("546")).await;
    assert_eq!(isolated(&b).await, serde_json::json!([false, false]), "the host sends no header");
    b.wait_js("return !!(navigator.serviceWorker && navigator.serviceWorker.controller)", READY).await;
    b.client.refresh().await.unwrap();
    b.wait_text("dataset-status", READY, |t| t.contains("546")).await;
    assert_eq!(isolated(&b).await, serde_json::json!([true, true]), "the service worker's headers isolate the page");
    // The threaded trainer starts there: a CPU run's badge says how many threads.
    b.client.goto(&format!("{}?model=tiny&epochs=1&batch=32&subset=32&seed=1&backend=cpu&threads=2", server.base)).await.unwrap();
    b.wait_text("dataset-status", READY, |t| t.contains("546")).await;
    b.click("train-start").await;
    let badge = b.wait_text("backend-badge", READY, |t| !t.is_empty()).await;
    assert_eq!(badge, "CPU · burn flex (wasm SIMD, 2 threads)");
    b.wait_text("test-metrics", TRAINED, |t| t.contains("Test AUC")).await;
    let errors = b.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_threaded_trainer_that_cannot_start_gives_way_to_one_thread() {
    let server = StaticServer::isolated(dist());
    server.set("threads/trainer_threads_bg.wasm", Override::Status(404));
    let b = Browser::start(Options::default()).await;
    b.client.goto(&format!("{}?model=tiny&epochs=1&batch=32&subset=32&seed=1&backend=cpu&threads=2", server.base)).await.unwrap();
    b.wait_text("dataset-status", READY, |t| t.contains("546")).await;
    b.click("train-start").await;
    let badge = b.wait_text("backend-badge", READY, |t| !t.is_empty()).await;
    assert_eq!(badge, "CPU · burn flex (wasm SIMD)", "the single-threaded trainer took over");
    let notices = b.js("return [...document.querySelectorAll('.notice')].map(e => e.textContent).join(' | ')", vec![]).await;
    let notices = notices.as_str().unwrap_or_default();
    assert!(
        notices.contains("The threaded CPU trainer did not start (") && notices.contains("training on one thread"),
        "{notices}"
    );
    b.wait_text("test-metrics", TRAINED, |t| t.contains("Test AUC")).await;
    b.close().await;
}

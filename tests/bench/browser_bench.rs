//! `cargo xtask bench` (browser part): milliseconds per training step in headless Chromium for
//! each model size on WebGPU (here: SwiftShader) and on the CPU (burn flex, wasm SIMD), as the
//! worker measures them, and the page's main-thread long tasks meanwhile.
//!
//! Each measurement opens the page with `?model=M&epochs=1&batch=B&subset=3B&backend=X`, presses
//! Start, waits for three steps (the first includes shader compilation and warm-up), then stops
//! the run. With `--conv direct,gemm` each measurement is made once per convolution algorithm
//! (`&conv=X`) side by side in the same browser session, and the ratio printed. With
//! `--threads 1,2` each CPU measurement is made once per thread count (`&threads=N`: 1 is the
//! single-threaded trainer, N > 1 the threaded one), and the ratio to the first printed. The
//! server sends COOP and COEP, so the page is cross-origin isolated and may use threads.
//! Usage: `browser-bench [--models tiny,small] [--backends cpu,webgpu] [--batch 32] [--conv direct,gemm] [--threads 1,2]`.
//!
//! `--peer tfjs` instead races TensorFlow.js (installed by `cargo xtask bench --peer tfjs` into
//! `target/peer`) in the same headless Chromium: see [`peer`]. There `--threads N` is one count
//! and `--peer-backends cpu,wasm,webgl,webgpu` picks the peer's backends.

use std::time::{Duration, Instant};

use breastmnist_e2e::{Browser, Options, StaticServer, dist};

mod peer;

fn arg(args: &[String], name: &str, default: &str) -> String {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned().unwrap_or_else(|| default.to_string())
}

/// Opens the page set to train `model` on `backend` for one epoch of `steps` batches (plus the
/// `extra` query) and waits for the dataset.
pub(crate) async fn open_run(
    server: &StaticServer,
    model: &str,
    backend: &str,
    batch: usize,
    steps: usize,
    extra: &str,
) -> Browser {
    let b = Browser::start(Options { webgpu: backend == "webgpu", ..Options::default() }).await;
    let url =
        format!("{}?model={model}&epochs=1&batch={batch}&subset={}&backend={backend}&seed=0{extra}", server.base, steps * batch);
    b.client.goto(&url).await.unwrap();
    b.wait_text("dataset-status", Duration::from_secs(90), |t| t.contains("546")).await;
    b
}

/// Presses Start and collects the worker's step times until there are `steps` or `limit` has
/// passed; the page's error text, if it showed one.
pub(crate) async fn step_times(b: &Browser, steps: usize, limit: Duration) -> (Vec<f64>, Option<String>) {
    b.click("train-start").await;
    let started = Instant::now();
    let mut ms: Vec<f64> = Vec::new();
    while ms.len() < steps && started.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let v = b
            .js(
                "const p = document.querySelector('[data-testid=train-progress]'); return p ? (p.dataset.stepMs || '') : ''",
                vec![],
            )
            .await;
        ms = v.as_str().unwrap_or_default().split(',').filter_map(|x| x.parse().ok()).collect();
        if b.js("return !!document.querySelector('[data-testid=error]')", vec![]).await == serde_json::json!(true) {
            return (ms, Some(b.wait_text("error", Duration::from_secs(1), |_| true).await));
        }
    }
    (ms, None)
}

/// The backend badge the page shows for the run: the device and adapter the worker picked.
pub(crate) async fn adapter(b: &Browser) -> String {
    let badge =
        b.js("const e = document.querySelector('[data-testid=backend-badge]'); return e ? e.textContent : ''", vec![]).await;
    badge.as_str().unwrap_or_default().to_string()
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let models = arg(&args, "--models", "tiny,small,medium,resnet18");
    let backends = arg(&args, "--backends", "cpu,webgpu");
    let batch: usize = arg(&args, "--batch", "32").parse().expect("--batch N");
    let convs = arg(&args, "--conv", "");
    let limit = Duration::from_secs(arg(&args, "--limit-s", "900").parse().expect("--limit-s N"));
    if arg(&args, "--peer", "") == "tfjs" {
        let steps = arg(&args, "--steps", "12").parse().expect("--steps N");
        let threads = arg(&args, "--threads", "");
        let threads = (!threads.is_empty()).then(|| threads.parse().expect("--threads N (one count with --peer)"));
        let peer = arg(&args, "--peer-backends", &peer::PEER_BACKENDS.join(","));
        return peer::race(peer::Race { models: &models, ours: &backends, threads, peer: &peer, batch, steps, limit }).await;
    }
    let threads = arg(&args, "--threads", "");
    let server = StaticServer::isolated(dist());
    println!(
        "| model | backend | conv | adapter | batch | step 1 (warm-up) ms | steps 2-3 ms (mean) | speed vs the first row | main-thread long tasks |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let convs: Vec<&str> = if convs.is_empty() { vec![""] } else { convs.split(',').collect() };
    let threads: Vec<&str> = if threads.is_empty() { vec![""] } else { threads.split(',').collect() };
    for backend in backends.split(',') {
        let threads = if backend == "cpu" { threads.clone() } else { vec![""] };
        let variants: Vec<(&str, &str)> = convs.iter().flat_map(|c| threads.iter().map(move |t| (*c, *t))).collect();
        for model in models.split(',') {
            let mut first_ms = None;
            for (conv, count) in &variants {
                let mut pin = if conv.is_empty() { String::new() } else { format!("&conv={conv}") };
                if !count.is_empty() {
                    pin.push_str(&format!("&threads={count}"));
                }
                let b = open_run(&server, model, backend, batch, 3, &pin).await;
                b.js(
                    "window.__longtasks = []; new PerformanceObserver(l => window.__longtasks.push(...l.getEntries().map(e => e.duration))).observe({type: 'longtask'});",
                    vec![],
                )
                .await;
                let (ms, failed) = step_times(&b, 3, limit).await;
                if let Some(e) = failed {
                    println!("| {model} | {backend} | {conv} | – | {batch} | failed: {e} | | | |");
                }
                let badge = adapter(&b).await;
                let long = b.js("return window.__longtasks", vec![]).await;
                let long: Vec<f64> = long.as_array().map(|a| a.iter().filter_map(|v| v.as_f64()).collect()).unwrap_or_default();
                let worst = long.iter().copied().fold(0.0, f64::max);
                if !ms.is_empty() {
                    let rest = &ms[1..];
                    let mean = if rest.is_empty() { f64::NAN } else { rest.iter().sum::<f64>() / rest.len() as f64 };
                    if first_ms.is_none() {
                        first_ms = Some(mean);
                    }
                    let ratio = first_ms
                        .filter(|d| d.is_finite() && mean.is_finite())
                        .map_or("–".to_string(), |d| format!("{:.2}x", d / mean));
                    println!(
                        "| {model} | {backend} | {} | {} | {batch} | {:.0} | {} | {ratio} | {} (longest {worst:.0} ms) |",
                        if conv.is_empty() { "default" } else { conv },
                        badge,
                        ms[0],
                        if mean.is_nan() { format!("(stopped after {} s)", limit.as_secs()) } else { format!("{mean:.0}") },
                        long.len()
                    );
                }
                b.close().await;
            }
        }
    }
}

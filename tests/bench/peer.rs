//! The same-browser race against TensorFlow.js 4 (issue 11): for each model, our trainer (the
//! page's worker, as a reader runs it) and TensorFlow.js (`peer/worker.js`, also in a Web
//! Worker) train the same MedMNIST ResNet at the same batch with Adam 1e-3 in f32 and one loss
//! readback a step, in one headless Chromium build; 2 warm-up steps, then the median of the rest
//! (`--steps`, 12 by default: a median of 10). Ours trains on the first images of BreastMNIST's
//! training split, the peer on a fixed synthetic batch of the same shape (a convolution's cost
//! does not depend on the values). The trainable parameter counts must match ours, or the row
//! says so. `--peer-backends webgl,webgpu` races only those of the peer's backends (a software
//! GPU takes minutes a step for `resnet18`); `--threads N` runs our CPU trainer with N threads on
//! a cross-origin-isolated page, as a reader's browser gets it from a host that sends COOP/COEP.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use breastmnist_e2e::{Browser, Options, StaticServer, dist, root};

use crate::{adapter, open_run, step_times};

/// Our trainable parameter counts (`breastmnist bench`, `model::trainable_params`).
const OURS: [(&str, usize); 4] = [("tiny", 77_338), ("small", 307_506), ("medium", 2_794_978), ("resnet18", 11_168_706)];

/// The peer's backends, TensorFlow.js's names.
pub const PEER_BACKENDS: [&str; 4] = ["cpu", "wasm", "webgl", "webgpu"];

/// What one race compares: the models, our backends (with our CPU trainer's thread count, if
/// any) and the peer's, the batch, the steps and each measurement's time limit.
pub struct Race<'a> {
    pub models: &'a str,
    pub ours: &'a str,
    pub threads: Option<usize>,
    pub peer: &'a str,
    pub batch: usize,
    pub steps: usize,
    pub limit: Duration,
}

/// The TensorFlow.js files the peer page loads, from `target/peer/node_modules`.
const TFJS_FILES: [(&str, &str); 6] = [
    ("tfjs/dist/tf.min.js", "tf.min.js"),
    ("tfjs-backend-wasm/dist/tf-backend-wasm.min.js", "tf-backend-wasm.min.js"),
    ("tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm", "tfjs-backend-wasm.wasm"),
    ("tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm", "tfjs-backend-wasm-simd.wasm"),
    ("tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm", "tfjs-backend-wasm-threaded-simd.wasm"),
    ("tfjs-backend-webgpu/dist/tf-backend-webgpu.min.js", "tf-backend-webgpu.min.js"),
];

/// The peer's site: the harness and the TensorFlow.js bundles, in `target/peer/site`.
fn site() -> Result<PathBuf, String> {
    let peer = std::env::var_os("PEER_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target/peer"));
    let site = peer.join("site");
    let tfjs = site.join("tfjs");
    std::fs::create_dir_all(&tfjs).map_err(|e| format!("{}: {e}", tfjs.display()))?;
    let harness = root().join("tests/bench/peer");
    for f in ["index.html", "worker.js"] {
        copy(&harness.join(f), &site.join(f))?;
    }
    for (from, to) in TFJS_FILES {
        copy(&peer.join("node_modules/@tensorflow").join(from), &tfjs.join(to))
            .map_err(|e| format!("{e} (install TensorFlow.js with `cargo xtask bench --peer tfjs`)"))?;
    }
    Ok(site)
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::copy(from, to).map(|_| ()).map_err(|e| format!("{}: {e}", from.display()))
}

/// The median of the steps after the two warm-ups.
fn median(ms: &[f64]) -> Option<f64> {
    let mut timed: Vec<f64> = ms.iter().skip(2).copied().filter(|v| v.is_finite()).collect();
    if timed.is_empty() {
        return None;
    }
    timed.sort_by(f64::total_cmp);
    let n = timed.len();
    Some(if n % 2 == 1 { timed[n / 2] } else { (timed[n / 2 - 1] + timed[n / 2]) / 2.0 })
}

/// Our step times and the adapter the page names: the page trains `model` for one epoch of
/// `steps` full batches on `backend` (plus the `extra` query, e.g. `&threads=2`).
async fn ours(
    server: &StaticServer,
    model: &str,
    backend: &str,
    extra: &str,
    batch: usize,
    steps: usize,
    limit: Duration,
) -> Result<(Vec<f64>, String), String> {
    let b = open_run(server, model, backend, batch, steps, extra).await;
    let (ms, failed) = step_times(&b, steps, limit).await;
    let name = adapter(&b).await;
    b.close().await;
    match failed {
        Some(e) => Err(e),
        None if ms.len() < steps => Err(format!("{} of {steps} steps in {} s", ms.len(), limit.as_secs())),
        None => Ok((ms, name)),
    }
}

/// The peer's report for one backend: trainable parameters, step times and the adapter.
async fn peer(
    server: &StaticServer,
    model: &str,
    backend: &str,
    batch: usize,
    steps: usize,
    limit: Duration,
) -> Result<(usize, Vec<f64>, String), String> {
    let b = Browser::start(Options { webgpu: true, ..Options::default() }).await;
    b.client.goto(&format!("{}index.html", server.base)).await.map_err(|e| e.to_string())?;
    b.js(
        "window.__peer = null; window.run(arguments[0], arguments[1], arguments[2], arguments[3]).then(r => { window.__peer = r; }); return true",
        vec![backend.into(), model.into(), batch.into(), steps.into()],
    )
    .await;
    let started = Instant::now();
    let mut report = serde_json::Value::Null;
    while report.is_null() && started.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(500)).await;
        report = b.js("return window.__peer", vec![]).await;
    }
    b.close().await;
    if report.is_null() {
        return Err(format!("no report in {} s", limit.as_secs()));
    }
    if report["ok"] != serde_json::json!(true) {
        return Err(report["error"].as_str().unwrap_or("no report").to_string());
    }
    let params = report["params"].as_u64().unwrap_or(0) as usize;
    let ms = report["ms"].as_array().map(|a| a.iter().filter_map(|v| v.as_f64()).collect()).unwrap_or_default();
    Ok((params, ms, report["adapter"].as_str().unwrap_or(backend).to_string()))
}

fn cell(r: &Result<f64, String>) -> String {
    match r {
        Ok(ms) => format!("{ms:.0}"),
        Err(e) => format!("failed: {}", e.chars().take(60).collect::<String>()),
    }
}

/// Prints one row per model: our backends, the peer's, and our best over the peer's best.
pub async fn race(race: Race<'_>) {
    let Race { models, ours: backends, threads, peer: peer_backends, batch, steps, limit } = race;
    assert!(steps >= 3, "--steps must leave at least one step after the two warm-ups");
    let peer_backends: Vec<&str> = peer_backends.split(',').collect();
    if let Some(b) = peer_backends.iter().find(|b| !PEER_BACKENDS.contains(b)) {
        eprintln!("peer: TensorFlow.js has no backend {b:?} here (one of {})", PEER_BACKENDS.join(", "));
        std::process::exit(2);
    }
    let site = match site() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("peer: {e}");
            std::process::exit(1);
        }
    };
    // Threads need a cross-origin-isolated page; without `--threads` the page is served plainly,
    // so our CPU trainer is the single-threaded one whatever the machine.
    let ours_server = if threads.is_some() { StaticServer::isolated(dist()) } else { StaticServer::start(dist()) };
    let extra = threads.map(|n| format!("&threads={n}")).unwrap_or_default();
    let peer_server = StaticServer::start(site);
    let ours_backends: Vec<&str> = backends.split(',').collect();
    println!("ms per training step, batch {batch}, median of steps 3-{steps} (2 warm-ups), headless Chromium");
    let label = |b: &str| match threads {
        Some(n) if b == "cpu" => format!("ours cpu ({n} threads)"),
        _ => format!("ours {b}"),
    };
    let header: Vec<String> =
        ours_backends.iter().map(|b| label(b)).chain(peer_backends.iter().map(|b| format!("tfjs {b}"))).collect();
    println!("| model | params ours / tfjs | {} | ours best / tfjs best |", header.join(" | "));
    println!("|---|---|{}---|", "---|".repeat(header.len()));
    // Who ran each column, as each side names its device (printed under the table).
    let mut adapters: Vec<String> = Vec::new();
    let mut note = |column: String, name: &str| {
        let line = format!("{column}: {name}");
        if !adapters.contains(&line) {
            adapters.push(line);
        }
    };
    for model in models.split(',') {
        let expected = OURS.iter().find(|(m, _)| *m == model).map(|(_, p)| *p);
        let mut cells = Vec::new();
        let mut best_ours = f64::INFINITY;
        for backend in &ours_backends {
            let extra = if *backend == "cpu" { extra.as_str() } else { "" };
            let r = ours(&ours_server, model, backend, extra, batch, steps, limit).await.and_then(|(ms, name)| {
                note(label(backend), &name);
                median(&ms).ok_or_else(|| "no timed step".to_string())
            });
            if let Ok(m) = r {
                best_ours = best_ours.min(m);
            }
            cells.push(cell(&r));
        }
        let mut best_peer = (f64::INFINITY, "");
        let mut peer_params = None;
        for &backend in &peer_backends {
            let r = peer(&peer_server, model, backend, batch, steps, limit).await.and_then(|(params, ms, adapter)| {
                peer_params = Some(params);
                note(format!("tfjs {backend}"), &adapter);
                eprintln!("tfjs {backend} ({adapter}): {ms:.0?}");
                median(&ms).ok_or_else(|| "no timed step".to_string())
            });
            if let Ok(m) = r
                && m < best_peer.0
            {
                best_peer = (m, backend);
            }
            cells.push(cell(&r));
        }
        let params = match (expected, peer_params) {
            (Some(o), Some(p)) if o == p => format!("{o} = {p}"),
            (o, p) => {
                format!("{} ≠ {} (MISMATCH)", o.map_or("?".into(), |v| v.to_string()), p.map_or("?".into(), |v| v.to_string()))
            }
        };
        let ratio = if best_ours.is_finite() && best_peer.0.is_finite() {
            format!("{:.2}x (tfjs {})", best_ours / best_peer.0, best_peer.1)
        } else {
            "–".into()
        };
        println!("| {model} | {params} | {} | {ratio} |", cells.join(" | "));
    }
    println!("\nAdapters: {}", adapters.join("; "));
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn the_median_skips_two_warm_ups() {
        assert_eq!(median(&[100.0, 50.0, 3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[100.0, 50.0, 4.0, 2.0]), Some(3.0));
        assert_eq!(median(&[100.0, 50.0]), None);
    }
}

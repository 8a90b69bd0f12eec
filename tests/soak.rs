//! A soak in one tab: three trainings and two explorer passes, printing the page's JavaScript
//! heap, the worker's wasm memory and the browser's renderer memory (Linux `/proc`: the tab and
//! its workers) after each, and checking that the page does not keep what it replaced: a
//! replaced run's download URLs are released (fetching one fails), and the page's heap and the
//! renderer memory after the third run stay near their sizes after the first. The same soak runs on
//! the single-threaded trainer and, on a cross-origin-isolated page, on the threaded one (each
//! run a new trainer with its own pool of threads).
//!
//! `performance.measureUserAgentSpecificMemory` is not used: in headless Chromium here it
//! answered only after a garbage collection (none within 25 s for two runs of three), and its
//! figure (8 MiB) left out the workers' wasm memory, so it could not show a kept pool.

use std::time::Duration;

use breastmnist_e2e::{Browser, Options, StaticServer, dist};

const READY: Duration = Duration::from_secs(90);
const TRAINED: Duration = Duration::from_secs(600);

/// The page's used JS heap in bytes (Chrome's `performance.memory`).
async fn page_heap(b: &Browser) -> u64 {
    b.js("return performance.memory ? performance.memory.usedJSHeapSize : 0", vec![]).await.as_u64().unwrap_or(0)
}

/// The worker's and the page's wasm memory in bytes, as the results report them.
async fn wasm_memory(b: &Browser) -> (u64, u64) {
    let worker = b.attr("test-metrics", "data-worker-memory").await.parse().unwrap_or(0);
    let page = b.attr("test-metrics", "data-page-memory").await.parse().unwrap_or(0);
    (worker, page)
}

/// Whether fetching `url` (a `blob:` URL) still works.
async fn fetchable(b: &Browser, url: &str) -> bool {
    let v = b
        .client
        .execute_async(
            "const done = arguments[1]; fetch(arguments[0]).then(r => done(r.ok)).catch(() => done(false))",
            vec![serde_json::json!(url)],
        )
        .await
        .unwrap();
    v.as_bool().unwrap_or(false)
}

async fn explore(b: &Browser) {
    b.js("document.getElementById('explore').scrollIntoView({behavior: 'instant'})", vec![]).await;
    b.wait_attr("sample-view", "data-ready", "true", TRAINED).await;
    // Scrub through a few samples (each shows its image and Grad-CAM).
    for i in 1..=5 {
        b.js(
            "const e = document.querySelector('[data-testid=scrubber]'); e.value = arguments[0]; \
             e.dispatchEvent(new Event('input', {bubbles: true}));",
            vec![serde_json::json!(i.to_string())],
        )
        .await;
    }
    b.wait_attr("sample-view", "data-ready", "true", TRAINED).await;
}

/// One row per run: (run, page JS heap, page wasm memory, worker wasm memory, the tab's
/// renderer resident memory).
type Row = (usize, u64, u64, u64, u64);

/// Three runs and two explorer passes of `tiny` on the CPU in one tab at `query`'s settings,
/// each run's badge checked against `badge`; prints a row per run and asserts what the module
/// says.
async fn soak(server: &StaticServer, query: &str, badge: &str) {
    let b = Browser::start(Options::default()).await;
    b.client.goto(&format!("{}?model=tiny&epochs=1&batch=32&subset=64&seed=1&backend=cpu{query}", server.base)).await.unwrap();
    b.wait_text("dataset-status", READY, |t| t.contains("546")).await;
    let mut rows: Vec<Row> = Vec::new();
    let mut first_exports = String::new();
    for run in 1..=3 {
        b.click("train-start").await;
        b.wait_text("train-progress", TRAINED, |t| t.starts_with("Done")).await;
        b.wait_text("test-metrics", READY, |t| t.contains("Test AUC")).await;
        assert_eq!(b.wait_text("backend-badge", READY, |t| !t.is_empty()).await, badge, "run {run}");
        let exports = b.attr("export-metrics", "href").await;
        assert!(exports.starts_with("blob:"), "{exports}");
        if run == 1 {
            first_exports = exports;
        } else {
            assert!(!fetchable(&b, &first_exports).await, "run {run}: the first run's metrics URL was released");
            assert!(fetchable(&b, &exports).await, "run {run}: its own metrics URL works");
        }
        if run <= 2 {
            explore(&b).await;
        }
        let (worker, page_wasm) = wasm_memory(&b).await;
        let rss = b.renderer_rss().unwrap_or(0);
        rows.push((run, page_heap(&b).await, page_wasm, worker, rss));
        b.js("window.scrollTo(0, 0)", vec![]).await;
    }
    let mib = |b: u64| b as f64 / 1048576.0;
    println!("soak ({badge}): run, page JS heap, page wasm memory, worker wasm memory, the tab's renderer RSS (MiB)");
    for (run, heap, page, worker, rss) in &rows {
        println!("soak: {run}, {:.1}, {:.1}, {:.1}, {:.1}", mib(*heap), mib(*page), mib(*worker), mib(*rss));
    }
    assert!(rows.iter().all(|r| r.2 > 0 && r.3 > 0), "the page and the worker report their memory: {rows:?}");
    let (first, last) = (rows[0].1, rows[2].1);
    if first > 0 {
        assert!(last < first * 2 + (32 << 20), "the page's JS heap grew from {first} to {last} bytes over three runs");
    }
    let (first, last) = (rows[0].2, rows[2].2);
    assert!(last <= first + (16 << 20), "the page's wasm memory grew from {first} to {last} bytes over three runs");
    // The whole tab, workers included (each run's trainer is a new worker with its own wasm
    // memory: one kept alive would add its 25+ MiB and more every run).
    let (first, last) = (rows[0].4, rows[2].4);
    if first > 0 {
        assert!(last <= first + (192 << 20), "the tab's renderer memory grew from {first} to {last} bytes over three runs");
    }
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn three_trainings_and_two_explorer_passes_in_one_tab() {
    let server = StaticServer::start(dist());
    soak(&server, "", "CPU · burn flex (wasm SIMD)").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_threaded_trainer_soaks_as_the_single_one() {
    let server = StaticServer::isolated(dist());
    soak(&server, "&threads=2", "CPU · burn flex (wasm SIMD, 2 threads)").await;
}

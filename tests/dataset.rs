//! The dataset arrives, verifies and fills the gallery; filters work; a reload takes the file
//! from Cache Storage; corrupted, missing and local files behave. Screenshots land in target/e2e/.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use breastmnist_data::Split;
use breastmnist_e2e::{Browser, Options, Override, StaticServer, dist, root};
use fantoccini::Locator;

const READY: Duration = Duration::from_secs(90);

fn has_split_sizes(t: &str) -> bool {
    t.contains("546") && t.contains("78") && t.contains("156")
}

#[tokio::test(flavor = "multi_thread")]
async fn dataset_loads_gallery_filters_and_reload_uses_the_cache() {
    let server = StaticServer::start(dist());
    let b = Browser::start(Options::default()).await;
    let started = Instant::now();
    b.client.goto(&server.base).await.unwrap();
    let status = b.wait_text("dataset-status", READY, has_split_sizes).await;
    eprintln!("FIGURE navigation to dataset-ready: {:.0} ms", started.elapsed().as_secs_f64() * 1e3);
    assert!(status.contains("breastmnist.npz") && status.contains("downloaded"), "{status}");
    assert_eq!(b.count("error").await, 0);

    // The gallery shows all 780 images, then each filter its subset.
    b.wait_text("gallery-count", READY, |t| t.starts_with("780")).await;
    b.wait_count("gallery-item", 780, READY).await;
    b.click("filter-class-malignant").await;
    b.wait_text("gallery-count", READY, |t| t.starts_with("210")).await;
    b.wait_count("gallery-item", 147 + 21 + 42, READY).await;
    b.click("filter-split-test").await;
    b.wait_text("gallery-count", READY, |t| t.starts_with("42 ")).await;
    b.wait_count("gallery-item", 42, READY).await;
    let labels = b
        .js("return [...document.querySelectorAll('[data-testid=gallery-item]')].map(e => e.dataset.split + ':' + e.dataset.label)", vec![])
        .await;
    let labels: Vec<String> = serde_json::from_value(labels).unwrap();
    assert_eq!(labels.len(), 42);
    assert!(labels.iter().all(|l| l == "test:0"), "{labels:?}");
    b.click("filter-class-benign").await;
    b.wait_text("gallery-count", READY, |t| t.starts_with("114")).await;
    b.wait_count("gallery-item", 114, READY).await;

    // Thumbnails are painted (not blank) and pixel-crisp.
    let painted = b
        .js(
            "const c = document.querySelector('[data-testid=gallery-item] canvas');
             const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
             let lo = 255, hi = 0; for (let i = 0; i < d.length; i += 4) { lo = Math.min(lo, d[i]); hi = Math.max(hi, d[i]); }
             return [c.width, hi - lo, getComputedStyle(c).imageRendering];",
            vec![],
        )
        .await;
    assert_eq!(painted[0], 28, "{painted}");
    assert!(painted[1].as_u64().unwrap() > 20, "thumbnail looks blank: {painted}");
    assert_eq!(painted[2], "pixelated");

    // The class-balance chart has been drawn.
    let inked = b
        .js(
            "const c = document.querySelector('[data-testid=class-balance-chart]');
             const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
             let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] !== d[0] || d[i+1] !== d[1] || d[i+2] !== d[2]) n++;
             return n;",
            vec![],
        )
        .await;
    assert!(inked.as_u64().unwrap() > 2000, "class-balance chart looks empty: {inked}");
    b.click("filter-split-all").await;
    b.click("filter-class-all").await;
    b.wait_text("gallery-count", READY, |t| t.starts_with("780")).await;
    b.screenshot("dataset-loaded").await;

    // The audit ("Check for leaks") reports what the same audit finds natively in the same file:
    // its counts, the twin pairs with the label conflicts first, and the gallery's twins filter.
    let bytes = std::fs::read(root().join("assets/data/breastmnist.npz")).expect("prepared data");
    let data = breastmnist_data::decode_npz(&bytes, &Default::default()).unwrap();
    let audit = breastmnist_data::audit::audit(&data, breastmnist_data::audit::TWIN_THRESHOLD).unwrap();
    let leaked = audit.split_pair(Split::Test, Split::Train).unwrap();
    b.wait_count("audit-row", audit.splits.len(), READY).await;
    let summary = b.wait_text("audit-summary", READY, |t| !t.is_empty()).await;
    assert!(summary.contains(&format!("{} of the 156", leaked.images)), "{summary}");
    let conflicts =
        b.js("return [...document.querySelectorAll('[data-testid=audit-pair]')].map(e => e.dataset.conflict)", vec![]).await;
    let conflicts: Vec<String> = serde_json::from_value(conflicts).unwrap();
    let across = audit.pairs.iter().filter(|p| p.a.split != p.b.split).collect::<Vec<_>>();
    let conflicted = across.iter().filter(|p| p.conflict()).count();
    assert!(conflicted > 0 && conflicts.len() > conflicted, "{conflicts:?}");
    assert!(conflicts[..conflicted].iter().all(|c| c == "true"), "label conflicts come first: {conflicts:?}");
    assert!(conflicts[conflicted..].iter().all(|c| c == "false"), "{conflicts:?}");
    b.click("audit-show-all").await;
    b.wait_count("audit-pair", across.len(), READY).await;
    for chart in ["audit-histogram", "audit-all-pairs"] {
        let inked = b
            .js(
                "const c = document.querySelector(`[data-testid=${arguments[0]}]`);
                 const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                 let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] !== d[0] || d[i+1] !== d[1] || d[i+2] !== d[2]) n++;
                 return n;",
                vec![chart.into()],
            )
            .await;
        assert!(inked.as_u64().unwrap() > 2000, "{chart} looks empty: {inked}");
    }
    let twins: HashSet<(Split, usize)> =
        audit.pairs.iter().flat_map(|p| [(p.a.split, p.a.index), (p.b.split, p.b.index)]).collect();
    let test_twins = twins.iter().filter(|(s, _)| *s == Split::Test).count();
    assert!(test_twins >= leaked.images && test_twins < 156, "{test_twins}");
    b.click("filter-twins").await;
    b.wait_text("gallery-count", READY, |t| t.starts_with(&format!("{} ", twins.len()))).await;
    b.wait_count("gallery-item", twins.len(), READY).await;
    b.click("filter-split-test").await;
    b.wait_text("gallery-count", READY, |t| t.starts_with(&format!("{test_twins} "))).await;
    b.click("filter-twins").await;
    b.click("filter-split-all").await;
    b.wait_text("gallery-count", READY, |t| t.starts_with("780")).await;

    // Reload: the verified file now comes from Cache Storage, not the network.
    b.client.refresh().await.unwrap();
    let status = b.wait_text("dataset-status", READY, has_split_sizes).await;
    assert!(status.contains("browser cache"), "{status}");

    b.wait_count("gallery-item", 780, READY).await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn corrupted_and_missing_files_show_an_error_with_retry() {
    let server = StaticServer::start(dist());
    let mut bytes = std::fs::read(root().join("assets/data/breastmnist.npz")).expect("prepared data");
    bytes[4242] ^= 0x5a;
    server.set("data/breastmnist.npz", Override::Bytes(bytes));
    let b = Browser::start(Options::default()).await;
    b.client.goto(&server.base).await.unwrap();
    let err = b.wait_text("error", READY, |t| !t.is_empty()).await;
    assert!(err.contains("checksum mismatch") && err.contains("750601b1f35ba3300ea97c75c52ff8f6"), "{err}");
    assert_eq!(b.count("gallery-item").await, 0, "nothing unverified reaches the gallery");
    b.screenshot("dataset-corrupted").await;

    // A 404 says so too.
    server.set("data/breastmnist.npz", Override::Status(404));
    b.click("retry").await;
    b.wait_text("error", READY, |t| t.contains("404")).await;

    // Retry once the server is fixed.
    server.clear("data/breastmnist.npz");
    b.click("retry").await;
    b.wait_text("dataset-status", READY, has_split_sizes).await;
    assert_eq!(b.count("error").await, 0);
    b.wait_count("gallery-item", 780, READY).await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_local_file_can_be_picked_and_a_foreign_one_is_refused() {
    let server = StaticServer::start(dist());
    server.set("data/breastmnist.npz", Override::Status(404));
    let b = Browser::start(Options::default()).await;
    b.client.goto(&server.base).await.unwrap();
    b.wait_text("error", READY, |t| t.contains("404")).await;

    let input = b.client.find(Locator::Css("[data-testid=dataset-file]")).await.unwrap();
    let foreign = root().join("Cargo.toml");
    input.send_keys(&foreign.display().to_string()).await.unwrap();
    b.wait_text("error", READY, |t| t.contains("not an official BreastMNIST file")).await;

    // Records the workers the page starts: the file must be hashed off the main thread.
    b.js(
        "window.__workers = []; const W = window.Worker; \
         window.Worker = function (url, options) { window.__workers.push(String(url)); return new W(url, options); };",
        vec![],
    )
    .await;
    let input = b.client.find(Locator::Css("[data-testid=dataset-file]")).await.unwrap();
    let local = root().join("assets/data/breastmnist_64.npz");
    input.send_keys(&local.display().to_string()).await.unwrap();
    let status = b.wait_text("dataset-status", READY, has_split_sizes).await;
    assert!(status.contains("64×64") && status.contains("breastmnist_64.npz"), "{status}");
    let side = b.js("return document.querySelector('[data-testid=gallery-item] canvas').width", vec![]).await;
    assert_eq!(side, 64);
    let workers = b.js("return window.__workers", vec![]).await;
    assert!(workers.to_string().contains("verifier_loader.js"), "the verifier worker hashed the file: {workers}");

    // A file larger than any official one is refused at once, before a byte of it is read.
    let huge = root().join("target/e2e/huge-600MB.npz");
    std::fs::create_dir_all(huge.parent().unwrap()).unwrap();
    std::fs::File::create(&huge).unwrap().set_len(600_000_000).unwrap(); // sparse: no disk used
    let input = b.client.find(Locator::Css("[data-testid=dataset-file]")).await.unwrap();
    let started = Instant::now();
    input.send_keys(&huge.display().to_string()).await.unwrap();
    let err = b.wait_text("error", READY, |t| t.contains("huge-600MB.npz")).await;
    assert!(err.contains("600 MB, larger than any official BreastMNIST file"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5), "refused in {:?}", started.elapsed());
    assert_eq!(b.count("gallery-item").await, 780, "the verified 64 px data stays");
    let _ = std::fs::remove_file(&huge);
    b.close().await;
}

/// A download that stalls (no byte for the watchdog's 15 s) or breaks off ends in an error
/// with Retry, never an endless "Downloading"; a newer load replaces an older one.
#[tokio::test(flavor = "multi_thread")]
async fn a_stalled_or_truncated_download_fails_with_retry() {
    let server = StaticServer::start(dist());
    server.set("data/breastmnist.npz", Override::Stall(4096));
    let b = Browser::start(Options::default()).await;
    b.client.goto(&server.base).await.unwrap();
    b.wait_text("dataset-progress", READY, |t| t.contains("Downloading")).await;
    assert_eq!(b.count("download-restart").await, 1, "a download in progress can be restarted");
    let started = Instant::now();
    let err = b.wait_text("error", Duration::from_secs(45), |t| !t.is_empty()).await;
    assert!(err.contains("the download stalled: no data for 15 s"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(30), "the stall was noticed after {:?}", started.elapsed());
    b.screenshot("dataset-stalled").await;

    // Broken off after 100 kB: the browser reports it (or the size check does).
    server.set("data/breastmnist.npz", Override::Truncate(100_000));
    b.click("retry").await;
    let err = b.wait_text("error", READY, |t| !t.is_empty()).await;
    assert!(err.starts_with("Download failed") || err.contains("Verification failed"), "{err}");
    assert_eq!(b.count("gallery-item").await, 0, "{err}");

    // A stalled download restarted once the server is fixed: the newer load wins.
    let asked = |server: &StaticServer| server.requests().iter().filter(|r| r.path.ends_with("data/breastmnist.npz")).count();
    server.set("data/breastmnist.npz", Override::Stall(0));
    let before = asked(&server);
    b.click("retry").await;
    b.wait_text("dataset-progress", READY, |t| t.contains("Downloading")).await;
    // The page says "Downloading" before its request reaches the server. Fixed any earlier, the
    // server would answer that request in full, and the download would be over before the test
    // could restart it; so the server is fixed once it holds the stalled request.
    let held = Instant::now();
    while asked(&server) == before {
        assert!(held.elapsed() < READY, "the retried download never reached the server");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.clear("data/breastmnist.npz");
    // The button is re-rendered as progress arrives: wait until it is there to click.
    b.wait_js("return !!document.querySelector('[data-testid=download-restart]')", READY).await;
    b.click("download-restart").await;
    b.wait_text("dataset-status", READY, has_split_sizes).await;
    assert_eq!(b.count("error").await, 0);
    b.wait_count("gallery-item", 780, READY).await;
    b.close().await;
}

/// Offline: after one visit, a reload with the server gone still shows the article (the service
/// worker's app shell) and the verified dataset (Cache Storage).
#[tokio::test(flavor = "multi_thread")]
async fn a_reload_without_the_server_still_works() {
    let server = StaticServer::start(dist());
    let base = server.base.clone();
    let b = Browser::start(Options::default()).await;
    b.client.goto(&base).await.unwrap();
    b.wait_text("dataset-status", READY, has_split_sizes).await;
    // The service worker controls the page and holds the shell (page, script, wasm, styles).
    b.wait_js("return !!(navigator.serviceWorker && navigator.serviceWorker.controller)", READY).await;
    let shell = b
        .client
        .execute_async(
            "const done = arguments[0]; caches.open('breastmnist-lab-shell-v1').then(c => c.keys()).then(k => done(k.map(r => new URL(r.url).pathname)))",
            vec![],
        )
        .await
        .unwrap();
    let shell: Vec<String> = serde_json::from_value(shell).unwrap();
    assert!(shell.iter().any(|p| p.ends_with(".wasm")) && shell.iter().any(|p| p == "/"), "shell cache: {shell:?}");

    server.stop();
    let started = Instant::now();
    b.client.goto(&format!("{base}?split=test&i=3")).await.unwrap();
    let status = b.wait_text("dataset-status", READY, has_split_sizes).await;
    eprintln!("FIGURE offline reload to dataset-ready: {:.0} ms", started.elapsed().as_secs_f64() * 1e3);
    assert!(status.contains("browser cache"), "{status}");
    assert_eq!(b.count("article").await, 1);
    b.wait_text("gallery-count", READY, |t| t.starts_with("780")).await;
    b.screenshot("offline-reload").await;
    b.close().await;
}

//! The bundle as deployed: `dist/` from a plain static server under a sub-path (`/lab/v2/`),
//! sending no header but the type. The dataset loads and fills the gallery, a one-epoch CPU run
//! trains, the explorer explains; the service worker registers for the sub-path, adds the
//! policy headers the server did not send, keeps the app shell under the sub-path and reloads
//! the page with the server gone. Every request stays under the prefix and finds its file, and
//! nothing violates the policy or logs an error.

use std::time::Duration;

use breastmnist_e2e::{Browser, Options, StaticServer, dist, policy};
use serde_json::json;

const READY: Duration = Duration::from_secs(90);
const TRAINED: Duration = Duration::from_secs(900);
/// Where the app is mounted: two folders deep, as on a host serving several versions.
const PREFIX: &str = "/lab/v2/";
/// The service worker's shell cache (assets/sw.js).
const SHELL_CACHE: &str = "breastmnist-lab-shell-v1";

#[tokio::test(flavor = "multi_thread")]
async fn the_bundle_works_under_a_sub_path_of_a_plain_static_server() {
    let server = StaticServer::mount(dist(), PREFIX);
    let base = server.base.clone();
    let b = Browser::start(Options::default()).await;
    b.record_violations().await;
    b.client.goto(&format!("{base}?model=tiny&epochs=1&batch=32&subset=64&seed=1&backend=cpu")).await.unwrap();

    // The dataset: fetched from the prefix's data/, verified, the gallery filled.
    let status = b.wait_text("dataset-status", READY, |t| t.contains("546") && t.contains("78") && t.contains("156")).await;
    assert!(status.contains("downloaded"), "{status}");
    b.wait_text("gallery-count", READY, |t| t.starts_with("780")).await;
    b.wait_count("gallery-item", 780, READY).await;

    // The service worker: registered for the prefix, it controls the page and gives the app's
    // own responses the headers this server does not send.
    b.wait_js("return !!(navigator.serviceWorker && navigator.serviceWorker.controller)", READY).await;
    let scope =
        b.js_async("const done = arguments[0]; navigator.serviceWorker.getRegistration().then(r => done(r && r.scope))").await;
    assert_eq!(scope, json!(base), "the worker's scope is the app's folder");
    let headers = b
        .js_async(
            "const done = arguments[0];
             Promise.all(['./', 'boot.js', 'trainer_loader.js'].map(u => fetch(u).then(r =>
               [u, r.headers.get('content-security-policy'), r.headers.get('cross-origin-opener-policy')])))
               .then(done, e => done('' + e))",
        )
        .await;
    let policy = policy();
    for file in headers.as_array().unwrap_or_else(|| panic!("fetches through the worker: {headers}")) {
        assert_eq!(file[1], json!(policy), "the worker adds the policy: {file}");
        assert_eq!(file[2], json!("same-origin"), "the worker adds the opener policy: {file}");
    }

    // A one-epoch run of the tiny model on the CPU, then the explorer on the test split.
    b.click("train-start").await;
    let metrics = b.wait_text("test-metrics", TRAINED, |t| t.contains("Test AUC")).await;
    assert_eq!(b.attr("backend-badge", "data-kind").await, "cpu", "{metrics}");
    b.js("document.getElementById('explore').scrollIntoView({behavior: 'instant'})", vec![]).await;
    b.wait_attr("sample-view", "data-ready", "true", TRAINED).await;
    b.wait_text("explain-timing", READY, |t| t.contains("156")).await;
    assert!(!b.attr("sample-prediction", "data-score").await.is_empty(), "the explorer shows a prediction");
    b.screenshot("deploy-sub-path").await;

    let (csp, errors) = b.violations().await;
    assert!(csp.is_empty(), "policy violations: {csp:#?}");
    assert!(errors.is_empty(), "console errors: {errors:#?}");

    // The shell is kept under the prefix (the page under the folder's own address), so the page
    // reloads with the server gone.
    b.wait_js(
        &format!(
            "caches.open('{SHELL_CACHE}').then(c => c.keys()).then(k => {{ window.__shell = k.map(r => r.url); }});
             const kept = window.__shell || [];
             return kept.includes('{base}') && kept.some(u => u.endsWith('.wasm')) && kept.includes('{base}verifier_bg.wasm')"
        ),
        READY,
    )
    .await;
    let kept: Vec<String> = serde_json::from_value(b.js("return window.__shell", vec![]).await).expect("a list of URLs");
    assert!(kept.iter().all(|u| u.starts_with(&base)), "shell entries outside {base}: {kept:#?}");

    let requests = server.requests();
    let wrong: Vec<_> = requests.iter().filter(|r| !r.path.starts_with(PREFIX) || r.status != 200).collect();
    assert!(wrong.is_empty(), "requests outside {PREFIX} or unanswered: {wrong:#?}");
    assert!(requests.iter().any(|r| r.path == format!("{PREFIX}data/breastmnist.npz")), "{requests:#?}");
    assert!(requests.iter().any(|r| r.path.ends_with("trainer_bg.wasm")), "{requests:#?}");

    server.stop();
    b.client.goto(&base).await.unwrap();
    let status = b.wait_text("dataset-status", READY, |t| t.contains("546")).await;
    assert!(status.contains("browser cache"), "{status}");
    let (csp, _offline_errors) = b.violations().await;
    assert!(csp.is_empty(), "policy violations offline: {csp:#?}");
    b.close().await;
}

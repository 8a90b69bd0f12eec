//! The service worker and the Content-Security-Policy, as a static host serves the app.
//!
//! A small front (`Front`) stands before the static server the way a host does: it sends the
//! policy of Trunk.toml as a header on every response (so the page, its service worker and the
//! trainer worker each obey it), can hold one path back, and can go offline. The worker keeps only
//! the app's own page under the page's key (opening another file in the tab never replaces it),
//! waits for a slow network when nothing is cached, and never loses a response to a failed cache
//! write; the page loads, trains (CPU and WebGPU) and explores with no policy violation.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use breastmnist_e2e::{Browser, Options, Override, StaticServer, between, dist, policy, root};
use serde_json::json;

const READY: Duration = Duration::from_secs(90);
const TRAINED: Duration = Duration::from_secs(900);
/// The service worker's shell cache (assets/sw.js).
const SHELL_CACHE: &str = "breastmnist-lab-shell-v1";
/// Longer than the service worker's 4 s network timeout.
const SLOW: Duration = Duration::from_secs(6);

/// The policy of a page's `<meta http-equiv>`.
fn meta_policy(html: &str) -> Option<String> {
    between(html, "<meta http-equiv=\"Content-Security-Policy\" content=\"", "\"").map(str::to_string)
}

/// One static host: in front of the test server, it adds the policy header to every response,
/// holds back the paths in `delays` and, once `offline`, closes each connection unanswered.
struct Front {
    base: String,
    delays: Arc<Mutex<HashMap<String, Duration>>>,
    offline: Arc<AtomicBool>,
}

impl Front {
    fn start(server: &StaticServer, policy: Option<String>) -> Front {
        let upstream = server.base.trim_start_matches("http://").trim_end_matches('/').to_string();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().unwrap().port();
        let delays: Arc<Mutex<HashMap<String, Duration>>> = Arc::default();
        let offline = Arc::new(AtomicBool::new(false));
        let (d, o) = (delays.clone(), offline.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (upstream, policy, d, o) = (upstream.clone(), policy.clone(), d.clone(), o.clone());
                std::thread::spawn(move || {
                    let _ = forward(client, &upstream, policy.as_deref(), &d, &o);
                });
            }
        });
        Front { base: format!("http://127.0.0.1:{port}/"), delays, offline }
    }

    /// Answers `path` (e.g. `/`) only after `by`.
    fn delay(&self, path: &str, by: Duration) {
        self.delays.lock().unwrap().insert(path.to_string(), by);
    }

    /// From now on every connection closes unanswered, as with a server that is gone.
    fn go_offline(&self) {
        self.offline.store(true, Ordering::SeqCst);
    }
}

/// One request (a GET, no body) to the test server and its answer back, the policy header added.
fn forward(
    mut client: TcpStream,
    upstream: &str,
    policy: Option<&str>,
    delays: &Mutex<HashMap<String, Duration>>,
    offline: &AtomicBool,
) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = client.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    // Checked once the request arrives: a connection the browser opened early must fail too.
    if offline.load(Ordering::SeqCst) {
        return Ok(());
    }
    let line = String::from_utf8_lossy(&head).lines().next().unwrap_or_default().to_string();
    let path = line.split(' ').nth(1).unwrap_or("/").split('?').next().unwrap_or("/").to_string();
    let delay = delays.lock().unwrap().get(&path).copied();
    if let Some(by) = delay {
        std::thread::sleep(by);
    }
    // One request per connection both ways, so the answer ends where the connection does.
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut request: Vec<&str> =
        text.trim_end().split("\r\n").filter(|l| !l.to_ascii_lowercase().starts_with("connection:")).collect();
    request.push("Connection: close");
    let mut up = TcpStream::connect(upstream)?;
    up.write_all(format!("{}\r\n\r\n", request.join("\r\n")).as_bytes())?;
    let mut response = Vec::new();
    // The test server closes every connection after its answer.
    up.read_to_end(&mut response)?;
    if let Some(policy) = policy
        && let Some(eol) = response.windows(2).position(|w| w == b"\r\n")
    {
        let header = format!("\r\nContent-Security-Policy: {policy}");
        response.splice(eol..eol, header.into_bytes());
    }
    client.write_all(&response)?;
    client.flush()
}

/// Waits until the page is controlled by the service worker.
async fn wait_controlled(b: &Browser) {
    b.wait_js("return !!(navigator.serviceWorker && navigator.serviceWorker.controller)", READY).await;
}

/// The shell cache's entries, as paths.
async fn shell_paths(b: &Browser) -> Vec<String> {
    let script = format!(
        "const done = arguments[0]; caches.open('{SHELL_CACHE}').then(c => c.keys()).then(k => done(k.map(r => new URL(r.url).pathname)), e => done(['error: ' + e]))"
    );
    serde_json::from_value(b.js_async(&script).await).expect("a list of paths")
}

/// Waits until the article and its verified dataset are on the page.
async fn wait_article(b: &Browser) -> String {
    b.wait_js("return !!document.querySelector('[data-testid=article]')", READY).await;
    b.wait_text("dataset-status", READY, |t| t.contains("546")).await
}

/// The line after `start` in `text` (a `_headers` field, a JavaScript constant).
fn line_after<'a>(text: &'a str, start: &str) -> Option<&'a str> {
    between(text, start, "\n")
}

/// One policy everywhere: Trunk.toml's header, index.html's `<meta>` (source and built),
/// `_headers` for hosts (source and built) and the service worker's fallback; no inline script;
/// and every URL of the built page relative to it, so `dist/` works under any prefix.
#[test]
fn one_policy_and_no_inline_script() {
    let policy = policy();
    let source = std::fs::read_to_string(root().join("index.html")).unwrap();
    assert_eq!(meta_policy(&source).as_deref(), Some(policy.as_str()), "index.html's <meta> and Trunk.toml's header agree");
    let built = std::fs::read_to_string(dist().join("index.html")).unwrap();
    assert_eq!(meta_policy(&built).as_deref(), Some(policy.as_str()), "the built page carries the policy");
    for headers in [root().join("assets/_headers"), dist().join("_headers")] {
        let text = std::fs::read_to_string(&headers).unwrap_or_else(|e| panic!("{}: {e}", headers.display()));
        assert_eq!(line_after(&text, "\n/*\n  Content-Security-Policy: "), Some(policy.as_str()), "{}", headers.display());
        assert_eq!(line_after(&text, "\n  X-Content-Type-Options: "), Some("nosniff"), "{}", headers.display());
        assert_eq!(line_after(&text, "\n  Cross-Origin-Opener-Policy: "), Some("same-origin"), "{}", headers.display());
        assert_eq!(line_after(&text, "\n  Cross-Origin-Embedder-Policy: "), Some("require-corp"), "{}", headers.display());
    }
    for sw in [root().join("assets/sw.js"), dist().join("sw.js")] {
        let text = std::fs::read_to_string(&sw).unwrap_or_else(|e| panic!("{}: {e}", sw.display()));
        assert_eq!(line_after(&text, "\nconst POLICY = \""), Some(format!("{policy}\";").as_str()), "{}", sw.display());
        for header in ["['Cross-Origin-Opener-Policy', 'same-origin'],", "['Cross-Origin-Embedder-Policy', 'require-corp'],"] {
            assert!(text.contains(header), "{} adds {header}", sw.display());
        }
    }
    let meta = built.find("http-equiv=\"Content-Security-Policy\"").unwrap();
    assert!(built.find("<script").is_some_and(|s| s > meta), "the policy comes before every script");
    // Every script is a file from the page's own folder (script-src 'self'), none inline.
    for tag in built.split("<script").skip(1) {
        let open = &tag[..tag.find('>').expect("a closed tag")];
        assert!(open.contains(" src=\"./"), "an inline or foreign script, or one outside the page's folder: <script{open}>");
    }
    // Nothing the page names leaves its folder: no absolute path, no other origin.
    for attr in ["src", "href", "data-js", "data-wasm"] {
        for quote in ['"', '\''] {
            for tail in built.split(&format!(" {attr}={quote}")).skip(1) {
                let url = &tail[..tail.find(quote).expect("a closed attribute")];
                assert!(url.starts_with("./"), "{attr}={url:?} is not relative to the page (Trunk.toml public_url)");
            }
        }
    }
    for forbidden in ["'unsafe-inline' 'self'", "'unsafe-eval'", "script-src 'unsafe-inline'", "*"] {
        assert!(!policy.contains(forbidden), "{forbidden} in {policy}");
    }
    let script_src = between(&policy, "script-src ", ";").unwrap();
    assert_eq!(script_src, "'self' 'wasm-unsafe-eval'");
    // One other origin, narrowed to the official record's files (what "Beyond BreastMNIST"
    // downloads from when the reader asks).
    let connect_src = between(&policy, "connect-src ", ";").unwrap();
    assert_eq!(connect_src, "'self' blob: https://zenodo.org/api/records/10519652/files/");
}

/// Opening the icon or the worker's own script in the tab (the worker answers those navigations
/// too) leaves the cached page alone: the next offline reload still shows the article.
#[tokio::test(flavor = "multi_thread")]
async fn opening_another_file_in_the_tab_keeps_the_cached_page() {
    let server = StaticServer::start(dist());
    let front = Front::start(&server, Some(policy()));
    let b = Browser::start(Options::default()).await;
    b.record_violations().await;
    b.client.goto(&front.base).await.unwrap();
    wait_article(&b).await;
    wait_controlled(&b).await;

    let icon = std::fs::read_dir(dist())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .find(|n| n.starts_with("favicon") && n.ends_with(".svg"))
        .expect("the built icon");
    for path in [icon.as_str(), "favicon.svg", "sw.js"] {
        b.client.goto(&format!("{}{path}", front.base)).await.unwrap();
    }
    // The worker writes its copies after answering: wait for the last one (sw.js under its own
    // URL), or for the page's entry to be gone or replaced, then look at the page's entry.
    b.wait_js(
        &format!(
            "caches.open('{SHELL_CACHE}').then(c => Promise.all([c.match('/sw.js'), c.match(location.origin + '/')]))
               .then(([sw, page]) => {{ window.__settled = !!sw || !(page && (page.headers.get('content-type') || '').startsWith('text/html')); }});
             return window.__settled === true"
        ),
        READY,
    )
    .await;
    let page = b.js_async(
        &format!(
            "const done = arguments[0]; caches.open('{SHELL_CACHE}').then(c => c.match(location.origin + '/'))
               .then(r => r ? r.text().then(t => done([r.headers.get('content-type'), t.includes('data-testid') || t.includes('data-wasm')])) : done(null))"
        ),
    )
    .await;
    assert_eq!(page[0].as_str().map(|t| t.starts_with("text/html")), Some(true), "the page's entry: {page}");
    assert_eq!(page[1], json!(true), "the page's entry is the app's page: {page}");
    let shell = shell_paths(&b).await;
    assert!(shell.iter().any(|p| p.ends_with(".wasm")) && shell.iter().any(|p| p == "/boot.js"), "shell cache: {shell:?}");
    // The verifier, which the page starts itself, is kept with the shell: the offline reload
    // hashes the cached dataset with it.
    assert!(shell.iter().any(|p| p == "/verifier_bg.wasm"), "shell cache: {shell:?}");

    front.go_offline();
    let started = Instant::now();
    b.client.goto(&front.base).await.unwrap();
    let status = wait_article(&b).await;
    eprintln!("FIGURE offline reload (connection closed) to dataset-ready: {:.0} ms", started.elapsed().as_secs_f64() * 1e3);
    assert!(status.contains("browser cache"), "{status}");
    assert_eq!(b.js("return document.contentType", vec![]).await, json!("text/html"));
    let (csp, _offline_errors) = b.violations().await;
    assert!(csp.is_empty(), "policy violations: {csp:#?}");
    b.screenshot("offline-after-icon").await;
    b.close().await;
    drop(server);
}

/// With no cached copy to fall back to, a page slower than the worker's 4 s timeout is waited
/// for, not turned into a failure.
#[tokio::test(flavor = "multi_thread")]
async fn a_slow_page_with_nothing_cached_is_waited_for() {
    let server = StaticServer::start(dist());
    let front = Front::start(&server, Some(policy()));
    let b = Browser::start(Options::default()).await;
    b.client.goto(&front.base).await.unwrap();
    wait_article(&b).await;
    wait_controlled(&b).await;
    let deleted = b.js_async(
        &format!("const done = arguments[0]; caches.open('{SHELL_CACHE}').then(c => c.delete(location.origin + '/')).then(done, e => done('' + e))"),
    )
    .await;
    assert_eq!(deleted, json!(true), "the cached page was there to forget");

    front.delay("/", SLOW);
    let started = Instant::now();
    b.client.goto(&format!("{}?split=test", front.base)).await.unwrap();
    wait_article(&b).await;
    let waited = started.elapsed();
    eprintln!("FIGURE page held back {SLOW:?}, nothing cached: article after {:.1} s", waited.as_secs_f64());
    assert!(waited >= SLOW, "the page really was slow ({waited:?})");
    // Its copy is kept once it arrives.
    b.wait_js(
        &format!("caches.open('{SHELL_CACHE}').then(c => c.match(location.origin + '/')).then(r => {{ window.__kept = !!r; }}); return window.__kept === true"),
        READY,
    )
    .await;
    b.close().await;
}

/// A worker whose every cache write fails (quota, storage errors) still installs and answers
/// every request from the network.
#[tokio::test(flavor = "multi_thread")]
async fn a_failing_cache_write_never_costs_a_response() {
    let server = StaticServer::start(dist());
    let original = std::fs::read_to_string(dist().join("sw.js")).expect("dist/sw.js");
    let failing = "const refuse = () => Promise.reject(new DOMException('test: no space', 'QuotaExceededError'));\n\
                   Cache.prototype.put = refuse; Cache.prototype.add = refuse; Cache.prototype.addAll = refuse;\n";
    server.set("sw.js", Override::Bytes(format!("{failing}{original}").into_bytes()));
    let front = Front::start(&server, Some(policy()));
    let b = Browser::start(Options::default()).await;
    b.client.goto(&front.base).await.unwrap();
    wait_article(&b).await;
    wait_controlled(&b).await;

    // Every request of this load goes through the worker, and every write it tries fails.
    b.client.goto(&format!("{}?split=val&i=2", front.base)).await.unwrap();
    wait_controlled(&b).await;
    let status = wait_article(&b).await;
    assert!(status.contains("546"), "{status}");
    let shell = shell_paths(&b).await;
    assert!(shell.is_empty(), "no write succeeded, yet the shell cache holds {shell:?}");
    let errors = b.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    b.close().await;
}

/// Load, dataset, a one-epoch run on `backend` and the explorer, under the policy as both the
/// header and the meta tag: no `securitypolicyviolation` and no CSP message in the console.
async fn no_violation_while(backend: &str) {
    let server = StaticServer::start(dist());
    let front = Front::start(&server, Some(policy()));
    let b = Browser::start(Options { webgpu: backend == "webgpu", ..Options::default() }).await;
    b.record_violations().await;
    b.client.goto(&format!("{}?model=tiny&epochs=1&batch=32&subset=64&backend={backend}", front.base)).await.unwrap();
    wait_article(&b).await;
    wait_controlled(&b).await;
    let (loaded, mut errors) = b.violations().await;
    assert!(loaded.is_empty(), "violations while loading: {loaded:#?}");

    b.click("train-start").await;
    let metrics = b.wait_text("test-metrics", TRAINED, |t| t.contains("Test AUC")).await;
    let kind = b.attr("backend-badge", "data-kind").await;
    assert_eq!(kind, backend, "the run used the backend asked for ({metrics})");
    b.js("document.getElementById('explore').scrollIntoView({behavior: 'instant'})", vec![]).await;
    b.wait_attr("sample-view", "data-ready", "true", TRAINED).await;

    let (csp, later) = b.violations().await;
    assert!(csp.is_empty(), "violations on {backend}: {csp:#?}");
    errors.extend(later);
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    b.screenshot(&format!("csp-{backend}")).await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn no_policy_violation_loading_training_and_exploring_on_the_cpu() {
    no_violation_while("cpu").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn no_policy_violation_loading_training_and_exploring_on_webgpu() {
    no_violation_while("webgpu").await;
}

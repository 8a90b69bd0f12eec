//! Support for the browser end-to-end tests: a static server for the built app (with
//! per-path overrides, to serve a corrupted or missing file, mounted at the root or under a
//! prefix, recording what it was asked), chromedriver + headless Chromium through fantoccini,
//! waiting on `data-testid` hooks, policy violations and screenshots under target/e2e/.

use std::collections::HashMap;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

mod zenodo;
pub use zenodo::FakeZenodo;

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// The built app (`E2E_DIST`, else dist/), which must exist.
pub fn dist() -> PathBuf {
    let dir = std::env::var_os("E2E_DIST").map(PathBuf::from).unwrap_or_else(|| root().join("dist"));
    assert!(
        dir.join("index.html").is_file(),
        "{} has no index.html: build the app first (`cargo xtask test` does)",
        dir.display()
    );
    dir
}

/// Where screenshots and figures go.
pub fn artifacts() -> PathBuf {
    let dir = root().join("target/e2e");
    std::fs::create_dir_all(&dir).expect("target/e2e is writable");
    dir
}

/// The value between `start` and the next `end` in `text`.
pub fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let len = text[from..].find(end)?;
    Some(&text[from..from + len])
}

/// The app's Content-Security-Policy: the one `cargo xtask serve` sends (Trunk.toml
/// `[serve.headers]`), which every other copy must equal (tests/offline.rs).
pub fn policy() -> String {
    let toml = std::fs::read_to_string(root().join("Trunk.toml")).expect("Trunk.toml");
    between(&toml, "\n\"Content-Security-Policy\" = \"", "\"\n")
        .expect("Trunk.toml [serve.headers] sends a Content-Security-Policy")
        .to_string()
}

/// The headers that make a page cross-origin isolated (`StaticServer::isolated`).
pub const ISOLATION: &[(&str, &str)] =
    &[("Cross-Origin-Opener-Policy", "same-origin"), ("Cross-Origin-Embedder-Policy", "require-corp")];

/// What the server answers for an overridden path.
#[derive(Clone)]
pub enum Override {
    Bytes(Vec<u8>),
    Status(u16),
    /// The file's headers (with its full length), its first `n` bytes, then silence with the
    /// connection left open: a download that stalls (`Stall(0)` never sends a byte).
    Stall(usize),
    /// The file's headers (with its full length) and its first `n` bytes, then the connection
    /// closes: a truncated download.
    Truncate(usize),
}

/// Reads `data`, then either ends (truncated) or blocks for ten minutes (stalled).
struct Partial {
    data: std::io::Cursor<Vec<u8>>,
    stall: bool,
}

impl std::io::Read for Partial {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.data.read(buf)?;
        if n == 0 && self.stall {
            std::thread::sleep(Duration::from_secs(600));
        }
        Ok(n)
    }
}

/// A static file server on 127.0.0.1 for the built app, on its own thread: as a plain static
/// server does, it answers a folder's path with its `index.html` and sends no policy (only the
/// type, `Cache-Control: no-store` and `Connection: close`).
pub struct StaticServer {
    /// The app's address: the origin and the prefix it is mounted under (`http://127.0.0.1:N/lab/`).
    pub base: String,
    overrides: Arc<Mutex<HashMap<String, Override>>>,
    requests: Arc<Mutex<Vec<Served>>>,
    server: Arc<tiny_http::Server>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript",
        "wasm" => "application/wasm",
        "css" => "text/css",
        "svg" => "image/svg+xml",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}

/// One request the server answered: its path (no query) and the status it got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Served {
    pub path: String,
    pub status: u16,
}

impl StaticServer {
    /// Serves `dir` at the origin's root.
    pub fn start(dir: PathBuf) -> StaticServer {
        StaticServer::mount(dir, "/")
    }

    /// Serves `dir` at the origin's root with the two headers that make the page cross-origin
    /// isolated (COOP `same-origin`, COEP `require-corp`) on every response, as README's
    /// "Hosting" asks of a host and `cargo xtask serve` sends.
    pub fn isolated(dir: PathBuf) -> StaticServer {
        StaticServer::mount_with(dir, "/", ISOLATION)
    }

    /// Serves `dir` under `prefix` (`/lab/v2/`: `/lab/v2/boot.js` is `dir/boot.js`), as a host
    /// serves an app from a subfolder; every path outside the prefix is a 404.
    pub fn mount(dir: PathBuf, prefix: &str) -> StaticServer {
        StaticServer::mount_with(dir, prefix, &[])
    }

    fn mount_with(dir: PathBuf, prefix: &str, sent: &'static [(&'static str, &'static str)]) -> StaticServer {
        assert!(prefix.starts_with('/') && prefix.ends_with('/'), "a prefix starts and ends with '/': {prefix}");
        let prefix = prefix.to_string();
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind 127.0.0.1"));
        let port = server.server_addr().to_ip().expect("an IP address").port();
        let base = format!("http://127.0.0.1:{port}{prefix}");
        let overrides: Arc<Mutex<HashMap<String, Override>>> = Arc::default();
        let requests: Arc<Mutex<Vec<Served>>> = Arc::default();
        let (srv, ovr, log) = (server.clone(), overrides.clone(), requests.clone());
        let thread = std::thread::spawn(move || {
            for req in srv.incoming_requests() {
                let path = req.url().split('?').next().unwrap_or("/").to_string();
                // A folder's path is its index.html; a path outside the prefix is no file.
                let rel = match path.strip_prefix(&prefix) {
                    Some(rel) if rel.is_empty() || rel.ends_with('/') => Some(format!("{rel}index.html")),
                    Some(rel) => Some(rel.to_string()),
                    None => None,
                };
                let ov = rel.as_ref().and_then(|rel| ovr.lock().unwrap().get(rel).cloned());
                let status = match (&ov, &rel) {
                    (Some(Override::Status(code)), _) => *code,
                    (Some(_), _) => 200,
                    (None, Some(rel)) if !rel.contains("..") && dir.join(rel).is_file() => 200,
                    (None, _) => 404,
                };
                log.lock().unwrap().push(Served { path: path.clone(), status });
                let rel = rel.unwrap_or_default();
                let file = dir.join(&rel);
                let header = |v: &str| tiny_http::Header::from_bytes("Content-Type", v).unwrap();
                let no_store = tiny_http::Header::from_bytes("Cache-Control", "no-store").unwrap();
                // No keep-alive: once stopped, the server must refuse connections at once.
                let close = tiny_http::Header::from_bytes("Connection", "close").unwrap();
                let sent = || sent.iter().map(|(k, v)| tiny_http::Header::from_bytes(*k, *v).unwrap());
                let partial = match ov {
                    Some(Override::Stall(n)) => Some((n, true)),
                    Some(Override::Truncate(n)) => Some((n, false)),
                    _ => None,
                };
                if let Some((n, stall)) = partial {
                    // On its own thread: the server keeps answering other requests meanwhile.
                    let mut bytes = std::fs::read(&file).unwrap_or_default();
                    let full = bytes.len();
                    bytes.truncate(n);
                    let mut headers = vec![header(content_type(&file)), no_store, close];
                    headers.extend(sent());
                    let body = Partial { data: std::io::Cursor::new(bytes), stall };
                    std::thread::spawn(move || {
                        let _ = req.respond(tiny_http::Response::new(200.into(), headers, body, Some(full), None));
                    });
                    continue;
                }
                let with_sent = |mut response: tiny_http::Response<std::io::Cursor<Vec<u8>>>| {
                    for h in sent() {
                        response.add_header(h);
                    }
                    response
                };
                let _ = match ov {
                    Some(Override::Status(code)) => req
                        .respond(with_sent(tiny_http::Response::from_data(Vec::new()).with_status_code(code).with_header(close))),
                    Some(Override::Bytes(b)) => req.respond(with_sent(
                        tiny_http::Response::from_data(b)
                            .with_header(header(content_type(&file)))
                            .with_header(no_store)
                            .with_header(close),
                    )),
                    None if status == 200 => {
                        let bytes = std::fs::read(&file).unwrap_or_default();
                        req.respond(with_sent(
                            tiny_http::Response::from_data(bytes)
                                .with_header(header(content_type(&file)))
                                .with_header(no_store)
                                .with_header(close),
                        ))
                    }
                    _ => req
                        .respond(with_sent(tiny_http::Response::from_data(Vec::new()).with_status_code(404).with_header(close))),
                };
            }
        });
        StaticServer { base, overrides, requests, server, thread: Some(thread) }
    }

    /// Every request answered so far, in order.
    pub fn requests(&self) -> Vec<Served> {
        self.requests.lock().unwrap().clone()
    }

    /// Serves `over` instead of the file at `rel` (e.g. `data/breastmnist.npz`, relative to the
    /// prefix).
    pub fn set(&self, rel: &str, over: Override) {
        self.overrides.lock().unwrap().insert(rel.to_string(), over);
    }

    pub fn clear(&self, rel: &str) {
        self.overrides.lock().unwrap().remove(rel);
    }

    /// Stops answering (for the offline test).
    pub fn stop(mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// chromedriver, killed on drop.
pub struct Driver {
    child: Child,
    pub port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    pub fn start() -> Driver {
        let bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let port = free_port();
        let child = Command::new(&bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e} (apt-get install chromium-driver)"));
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen on {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        Driver { child, port }
    }
}

/// Browser options.
#[derive(Clone, Debug)]
pub struct Options {
    pub width: u32,
    pub height: u32,
    /// Expose WebGPU through SwiftShader.
    pub webgpu: bool,
    /// Emulate `prefers-color-scheme: dark`.
    pub dark: bool,
    /// Chromium's `--host-resolver-rules` (with `--ignore-certificate-errors`): e.g.
    /// [`FakeZenodo::host_rule`].
    pub host_rules: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options { width: 1280, height: 900, webgpu: false, dark: false, host_rules: None }
    }
}

/// A headless Chromium session with a fresh profile.
pub struct Browser {
    pub client: Client,
    _driver: Driver,
    profile: TempDir,
}

/// chromedriver's (non-W3C) browser-log endpoint.
#[derive(Debug)]
struct BrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.to_string()))
    }
}

/// chromedriver's Chrome DevTools Protocol passthrough.
#[derive(Debug)]
struct Cdp(serde_json::Value);

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/goog/cdp/execute", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.0.to_string()))
    }
}

/// A browser's profile folder. Dropping it first ends the browser's processes that are still
/// running (a test that panicked before `close` leaves Chromium behind once chromedriver is
/// gone), then removes the folder.
struct TempDir(PathBuf);

impl TempDir {
    /// `--user-data-dir=…`, the argument every process of this browser carries.
    fn arg(&self) -> String {
        format!("--user-data-dir={}", self.0.display())
    }

    /// This browser's processes (Linux `/proc`): pid and arguments. Chromium rewrites its
    /// command line as one space-separated string, so arguments are split on NUL and space.
    fn processes(&self) -> Vec<(u32, Vec<String>)> {
        let arg = self.arg();
        let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
        dir.flatten()
            .filter_map(|e| {
                let pid: u32 = e.file_name().to_str()?.parse().ok()?;
                let raw = std::fs::read(e.path().join("cmdline")).ok()?;
                let args: Vec<String> = String::from_utf8_lossy(&raw).split(['\0', ' ']).map(str::to_string).collect();
                args.contains(&arg).then_some((pid, args))
            })
            .collect()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        for (pid, _) in self.processes() {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Browser {
    pub async fn start(opts: Options) -> Browser {
        let driver = Driver::start();
        let profile = std::env::temp_dir().join(format!("bmn-e2e-{}-{}", std::process::id(), driver.port));
        std::fs::create_dir_all(&profile).unwrap();
        let mut args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            format!("--window-size={},{}", opts.width, opts.height),
            format!("--user-data-dir={}", profile.display()),
        ];
        if opts.webgpu {
            args.extend([
                "--enable-unsafe-webgpu".into(),
                "--enable-features=Vulkan".into(),
                "--use-webgpu-adapter=swiftshader".into(),
            ]);
        }
        if let Some(rules) = &opts.host_rules {
            args.push(format!("--host-resolver-rules={rules}"));
            args.push("--ignore-certificate-errors".into());
        }
        if opts.dark {
            args.push("--force-dark-mode".into());
            args.push("--blink-settings=preferredColorScheme=0".into());
        }
        let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": binary, "args": args },
            "goog:loggingPrefs": { "browser": "ALL" },
        });
        // Plain HTTP to the local chromedriver: no TLS stack needed.
        let mut builder = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
        builder.capabilities(caps.as_object().unwrap().clone());
        let client = builder.connect(&format!("http://127.0.0.1:{}", driver.port)).await.expect("a chromedriver session");
        Browser { client, _driver: driver, profile: TempDir(profile) }
    }

    /// Resident memory in bytes of this browser's renderer processes, read from Linux's
    /// `/proc` (`VmRSS`): the tab with its dedicated workers, their wasm memories included.
    /// `None` where no such process is found.
    pub fn renderer_rss(&self) -> Option<u64> {
        let mut total = None;
        for (pid, args) in self.profile.processes() {
            if !args.iter().any(|a| a == "--type=renderer") {
                continue;
            }
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            let kib =
                status.lines().find_map(|l| l.strip_prefix("VmRSS:")?.trim().strip_suffix("kB")?.trim().parse::<u64>().ok());
            if let Some(kib) = kib {
                total = Some(total.unwrap_or(0) + kib * 1024);
            }
        }
        total
    }

    /// The `data-testid` locator string.
    pub fn tid(id: &str) -> String {
        format!("[data-testid=\"{id}\"]")
    }

    /// Waits until the element `data-testid=id` exists and its text satisfies `ok`; returns the text.
    pub async fn wait_text(&self, id: &str, timeout: Duration, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        let css = Self::tid(id);
        let mut last = String::from("<absent>");
        loop {
            if let Ok(el) = self.client.find(Locator::Css(&css)).await
                && let Ok(text) = el.text().await
            {
                if ok(&text) {
                    return text;
                }
                last = text;
            }
            if Instant::now() > deadline {
                let _ = self.screenshot(&format!("timeout-{id}")).await;
                panic!("timed out after {timeout:?} waiting on [data-testid={id}]; last text: {last:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until `script` returns `true` (errors while the page navigates count as not yet).
    pub async fn wait_js(&self, script: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(serde_json::Value::Bool(true)) = self.client.execute(script, vec![]).await {
                return;
            }
            if Instant::now() > deadline {
                let _ = self.screenshot("timeout-js").await;
                panic!("timed out after {timeout:?} waiting for `{script}`");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The attribute `name` (e.g. `data-index`) of the element `data-testid=id`; empty when the
    /// element or the attribute is absent.
    pub async fn attr(&self, id: &str, name: &str) -> String {
        let v = self
            .js(
                "const e = document.querySelector(`[data-testid=${arguments[0]}]`); return e ? e.getAttribute(arguments[1]) : null",
                vec![json!(id), json!(name)],
            )
            .await;
        v.as_str().unwrap_or_default().to_string()
    }

    /// Waits until the attribute `name` of the element `data-testid=id` equals `want`.
    pub async fn wait_attr(&self, id: &str, name: &str, want: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let now = self.attr(id, name).await;
            if now == want {
                return;
            }
            if Instant::now() > deadline {
                let _ = self.screenshot(&format!("timeout-{id}")).await;
                panic!("timed out after {timeout:?}: [data-testid={id}] {name} never became {want:?} (is {now:?})");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Number of elements with `data-testid=id`.
    pub async fn count(&self, id: &str) -> usize {
        self.client.find_all(Locator::Css(&Self::tid(id))).await.map(|v| v.len()).unwrap_or(0)
    }

    /// Waits until exactly `n` elements `data-testid=id` exist (a list built over several
    /// frames, as the gallery is); fails with the last count after `timeout`.
    pub async fn wait_count(&self, id: &str, n: usize, timeout: Duration) {
        let started = std::time::Instant::now();
        loop {
            let now = self.count(id).await;
            if now == n {
                return;
            }
            assert!(started.elapsed() < timeout, "{n} {id} expected, {now} after {timeout:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Scrolls the element `data-testid=id` to the middle of the viewport and clicks it.
    pub async fn click(&self, id: &str) {
        self.click_css(&Self::tid(id)).await
    }

    /// Scrolls the element matching `css` to the middle of the viewport (instantly: the page's
    /// smooth scrolling would move it under the pointer) and clicks it. An element that the page
    /// re-rendered between finding and clicking ("stale element"), or that something covered
    /// at that moment ("click intercepted"), is found and clicked again, a few times.
    pub async fn click_css(&self, css: &str) {
        let mut tries = 0;
        loop {
            tries += 1;
            let el = self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("no {css}: {e}"));
            let scrolled = self
                .client
                .execute(
                    "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})",
                    vec![serde_json::to_value(&el).unwrap()],
                )
                .await;
            let clicked = match scrolled {
                Ok(_) => el.click().await.map(|_| ()),
                Err(e) => Err(e),
            };
            match clicked {
                Ok(()) => return,
                // Re-rendered, or covered for a moment (the page still laying out as the
                // gallery's thumbnails arrive): find, scroll and click again.
                Err(e) if tries < 5 && ["stale element", "click intercepted"].iter().any(|m| e.to_string().contains(m)) => {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(e) => panic!("click {css}: {e}"),
            }
        }
    }

    /// Runs `script` (a function body; `arguments` are `args`) and returns its value.
    pub async fn js(&self, script: &str, args: Vec<serde_json::Value>) -> serde_json::Value {
        self.client.execute(script, args).await.unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Runs `script` (a function body; its last argument is the callback) and returns what it
    /// passes on.
    pub async fn js_async(&self, script: &str) -> serde_json::Value {
        self.client.execute_async(script, vec![]).await.unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Saves a full-page PNG under target/e2e/ (the window grows to the document's height).
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let height = self
            .client
            .execute("return document.documentElement.scrollHeight", vec![])
            .await
            .ok()
            .and_then(|v| v.as_u64())
            .unwrap_or(900)
            .clamp(400, 16000) as u32;
        let width =
            self.client.execute("return window.outerWidth", vec![]).await.ok().and_then(|v| v.as_u64()).unwrap_or(1280) as u32;
        let _ = self.client.set_window_size(width, height).await;
        let _ = self.client.execute("window.scrollTo(0, 0)", vec![]).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let png = self.client.screenshot().await.expect("a screenshot");
        let path = artifacts().join(format!("{name}.png"));
        std::fs::write(&path, png).expect("screenshot written");
        eprintln!("screenshot: {}", path.display());
        path
    }

    /// The finished run's metrics JSON, read from the page's `export-metrics` download.
    pub async fn exported_metrics(&self) -> serde_json::Value {
        let script = "const done = arguments[0]; \
                      fetch(document.querySelector('[data-testid=export-metrics]').href).then(r => r.text()).then(done)";
        let json = self.client.execute_async(script, vec![]).await.expect("the export link can be fetched");
        serde_json::from_str(json.as_str().unwrap_or_default()).expect("the export is JSON")
    }

    /// The browser console entries at `SEVERE` level since the last call (chromedriver's log).
    pub async fn console_errors(&self) -> Vec<String> {
        let entries = self.client.issue_cmd(BrowserLog).await.unwrap_or_default();
        entries
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|e| e["level"] == "SEVERE")
                    .map(|e| e["message"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// From now on, before any script of every document, a listener records each
    /// `securitypolicyviolation` into `window.__csp` (read back by `violations`).
    pub async fn record_violations(&self) {
        let source = "window.__csp = []; document.addEventListener('securitypolicyviolation', (e) => \
                      window.__csp.push(`${e.effectiveDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile}:${e.lineNumber}`), true);";
        let cmd = Cdp(json!({ "cmd": "Page.addScriptToEvaluateOnNewDocument", "params": { "source": source } }));
        self.client.issue_cmd(cmd).await.expect("chromedriver runs CDP commands");
    }

    /// From now on, before any script of every document, an observer records each main-thread
    /// task over 50 ms (the browser's long tasks) into `window.__long` as `[start, duration]`.
    pub async fn record_long_tasks(&self) {
        let source = "window.__long = []; try { new PerformanceObserver((l) => l.getEntries().forEach((e) => \
                      window.__long.push([Math.round(e.startTime), Math.round(e.duration)]))).observe({ type: 'longtask' }); } \
                      catch (e) { window.__long = null; }";
        let cmd = Cdp(json!({ "cmd": "Page.addScriptToEvaluateOnNewDocument", "params": { "source": source } }));
        self.client.issue_cmd(cmd).await.expect("chromedriver runs CDP commands");
    }

    /// The long tasks recorded in this document (`record_long_tasks`): `[start ms, duration ms]`.
    pub async fn long_tasks(&self) -> Vec<(u64, u64)> {
        let recorded = self.js("return window.__long", vec![]).await;
        assert!(recorded.is_array(), "the long-task observer is missing or unsupported: {recorded}");
        serde_json::from_value(recorded).expect("a list of [start, duration]")
    }

    /// The policy violations recorded in this document (`record_violations`) with the console's
    /// CSP messages, and the console's other errors, since the last call.
    pub async fn violations(&self) -> (Vec<String>, Vec<String>) {
        let recorded = self.js("return window.__csp || ['the violation recorder is missing']", vec![]).await;
        let mut csp: Vec<String> = serde_json::from_value(recorded).expect("a list of strings");
        let (policy, other): (Vec<String>, Vec<String>) = self
            .console_errors()
            .await
            .into_iter()
            .partition(|m| m.contains("Content Security Policy") || m.contains("Refused to"));
        csp.extend(policy);
        (csp, other)
    }

    /// Injects axe-core (from npm, installed by xtask) and returns the violations of impact
    /// `serious` or `critical` as `id: help (n nodes)` lines.
    pub async fn axe_serious_violations(&self) -> Vec<String> {
        let path = root().join("target/tools/npm/node_modules/axe-core/axe.min.js");
        let source = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (cargo xtask test installs axe-core)", path.display()));
        self.client.execute(&source, vec![]).await.expect("axe-core injected");
        let result = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document)
                   .then(r => done({ passes: r.passes.length, violations: r.violations
                     .filter(v => v.impact === 'serious' || v.impact === 'critical')
                     .map(v => v.id + ': ' + v.help + ' (' + v.nodes.length + ' nodes, e.g. ' + v.nodes[0].target.join(' ') + ')') }))
                   .catch(e => done({ passes: 0, violations: ['axe failed: ' + e] }));",
                vec![],
            )
            .await
            .expect("axe-core ran");
        let passes = result["passes"].as_u64().unwrap_or(0);
        assert!(passes > 10, "axe-core checked almost nothing ({passes} rules passed): {result}");
        eprintln!("axe-core: {passes} rules passed");
        serde_json::from_value(result["violations"].clone()).expect("a list of violations")
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}

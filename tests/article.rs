//! The article: every section, the benchmark table, a TOC that scrolls to its sections, no
//! console errors, no serious or critical axe-core violations; screenshots in light and dark
//! mode and at phone width. Served cross-origin isolated (COOP + COEP), as `cargo xtask serve`
//! serves it: isolation must break no widget.

use std::time::Duration;

use breastmnist_e2e::{Browser, Options, Override, StaticServer, dist};

const READY: Duration = Duration::from_secs(90);
const SECTIONS: [&str; 15] = [
    "why",
    "benchmark",
    "data",
    "gallery",
    "leaks",
    "train",
    "explore",
    "resolution",
    "ideas",
    "methods",
    "other-datasets",
    "agents",
    "conclusion",
    "references",
    "appendix",
];

/// The article as a host that sends COOP and COEP serves it: cross-origin isolated (for the
/// threaded CPU trainer), which must break no widget (tests/threads.rs trains there).
async fn open(opts: Options) -> (StaticServer, Browser) {
    let server = StaticServer::isolated(dist());
    let b = Browser::start(opts).await;
    b.client.goto(&server.base).await.unwrap();
    b.wait_text("dataset-status", READY, |t| t.contains("546")).await;
    let isolated = b.js("return self.crossOriginIsolated === true", vec![]).await;
    assert_eq!(isolated, serde_json::json!(true), "COOP + COEP isolate the page");
    (server, b)
}

#[tokio::test(flavor = "multi_thread")]
async fn article_sections_table_toc_console_and_accessibility() {
    let (_server, b) = open(Options::default()).await;
    assert_eq!(b.count("article").await, 1);
    for id in SECTIONS {
        let h2 = b.js(&format!("const s = document.getElementById('{id}'); return s && s.querySelector('h2') ? s.querySelector('h2').textContent : null"), vec![]).await;
        assert!(h2.as_str().is_some_and(|t| !t.is_empty()), "section #{id} is missing or has no heading");
    }
    assert_eq!(b.count("resolution-experiment").await, 1);
    // The agents section: four steps, each a tool call and a command, and a client
    // configuration that is JSON naming the server (crates/cli checks that they parse).
    assert_eq!(b.js("return document.querySelectorAll('[data-testid=agent-session] .agent-steps li').length", vec![]).await, 4);
    let config = b.js("return document.querySelector('[data-testid=mcp-config]').textContent", vec![]).await;
    let config: serde_json::Value = serde_json::from_str(config.as_str().unwrap()).unwrap();
    assert_eq!(config["mcpServers"]["breastmnist"]["args"][0], "mcp");

    // Widgets below the fold mount when scrolled near, not before.
    assert_eq!(b.count("explorer").await, 0, "the explorer is not built at first paint");
    b.js("document.getElementById('explore').scrollIntoView({behavior: 'instant'})", vec![]).await;
    b.wait_js("return !!document.querySelector('[data-testid=explorer]')", READY).await;
    b.js("document.getElementById('resolution').scrollIntoView({behavior: 'instant'})", vec![]).await;
    b.wait_js("return !!document.querySelector('[data-testid=resolution-run]')", READY).await;
    // Every other widget mounts on the isolated page too (COEP blocks nothing it loads: the
    // gallery draws its images, the lab reads its native table), and the service worker, which
    // the offline reload needs, controls it.
    for (section, widget) in [
        ("data", "class-balance-chart"),
        ("gallery", "gallery-item"),
        ("train", "train-start"),
        ("methods", "methods-lab"),
        ("methods", "methods-native-row"),
        ("methods", "pretext"),
        ("other-datasets", "other-pick"),
    ] {
        b.js(&format!("document.getElementById('{section}').scrollIntoView({{behavior: 'instant'}})"), vec![]).await;
        b.wait_js(&format!("return !!document.querySelector('[data-testid={widget}]')"), READY).await;
    }
    b.wait_js("return !!(navigator.serviceWorker && navigator.serviceWorker.controller)", READY).await;
    b.js("window.scrollTo({top: 0, behavior: 'instant'})", vec![]).await;

    // The benchmark table: the 7 published rows, sortable by AUC.
    assert_eq!(b.count("benchmark-row").await, 7);
    let table = b.wait_text("benchmark-table", READY, |t| t.contains("0.901")).await;
    for v in [
        "0.901", "0.863", "0.891", "0.833", "0.857", "0.812", "0.866", "0.842", "0.919", "0.861", "0.871", "0.831", "0.836",
        "0.803",
    ] {
        assert!(table.contains(v), "benchmark table lacks {v}");
    }
    b.click_css("[data-testid=benchmark-table] th:nth-child(2) button").await;
    let first = b.js("return document.querySelector('[data-testid=benchmark-row] th').textContent", vec![]).await;
    assert_eq!(first, "Google AutoML Vision", "sorted by AUC, AutoML Vision (0.919) comes first");

    // The TOC (visible at this width) scrolls to each section and marks it current.
    assert_eq!(b.count("toc").await, 1);
    for id in ["references", "benchmark", "gallery"] {
        b.click_css(&format!("[data-testid=toc] a[data-target={id}]")).await;
        // Wait for the smooth scroll to settle.
        let mut last = -1.0;
        for _ in 0..40 {
            tokio::time::sleep(Duration::from_millis(150)).await;
            let y = b.js("return window.scrollY", vec![]).await.as_f64().unwrap();
            if y == last {
                break;
            }
            last = y;
        }
        let at = b
            .js(&format!("return [document.getElementById('{id}').getBoundingClientRect().top, window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 2]"), vec![])
            .await;
        let (top, at_bottom) = (at[0].as_f64().unwrap(), at[1].as_bool().unwrap());
        // At the end of the page a section can only come as high as the page lets it.
        assert!((-5.0..200.0).contains(&top) || (at_bottom && top > 0.0), "after clicking the TOC link, #{id} is at {top}px");
        // The mark follows an IntersectionObserver, which can lag a loaded machine: waited for.
        let mut current = serde_json::Value::Null;
        for _ in 0..50 {
            current = b
                .js(
                    "const a = document.querySelector('[data-testid=toc] a[aria-current=location]'); return a && a.dataset.target",
                    vec![],
                )
                .await;
            if current == id {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(current, id, "the TOC marks the section in view");
    }

    let errors = b.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    let violations = b.axe_serious_violations().await;
    assert!(violations.is_empty(), "axe-core serious/critical violations:\n{}", violations.join("\n"));
    b.screenshot("article-light").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn dark_mode_and_phone_width() {
    let (_server, b) = open(Options { dark: true, ..Options::default() }).await;
    let bg = b.js("return getComputedStyle(document.body).backgroundColor", vec![]).await;
    assert_eq!(bg, "rgb(24, 26, 27)", "the page follows the system's dark scheme");
    let violations = b.axe_serious_violations().await;
    assert!(violations.is_empty(), "axe-core (dark):\n{}", violations.join("\n"));
    b.screenshot("article-dark").await;
    b.close().await;

    let (_server, b) = open(Options { width: 390, height: 844, ..Options::default() }).await;
    let overflow = b.js("return document.documentElement.scrollWidth - window.innerWidth", vec![]).await;
    assert!(overflow.as_i64().unwrap() <= 0, "horizontal overflow at phone width: {overflow}px");
    assert_eq!(b.js("return getComputedStyle(document.querySelector('[data-testid=toc]')).display", vec![]).await, "none");
    b.screenshot("article-phone").await;
    b.close().await;
}

/// The resolution question, runnable: three arms (28, 64, 28 upsampled to 64) each end with test
/// metrics in their row.
#[tokio::test(flavor = "multi_thread")]
async fn the_resolution_experiment_runs_all_three_arms() {
    let server = StaticServer::start(dist());
    let b = Browser::start(Options::default()).await;
    b.client.goto(&format!("{}?res_model=tiny&res_epochs=1&backend=cpu", server.base)).await.unwrap();
    b.wait_text("dataset-status", READY, |t| t.contains("546")).await;
    let started = std::time::Instant::now();
    b.click("resolution-run").await;
    b.wait_js(
        "const r = [...document.querySelectorAll('[data-testid=resolution-row]')]; return r.length === 3 && r.every(x => x.dataset.done === 'true')",
        Duration::from_secs(900),
    )
    .await;
    let rows = b
        .js("return [...document.querySelectorAll('[data-testid=resolution-row]')].map(r => [r.dataset.arm, ...[...r.querySelectorAll('td')].map(td => td.textContent)])", vec![])
        .await;
    eprintln!("FIGURE resolution experiment (tiny, 1 epoch per arm, CPU): {:.0} s; rows {rows}", started.elapsed().as_secs_f64());
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.iter().map(|r| r[0].as_str().unwrap()).collect::<Vec<_>>(), ["28", "64", "28to64"]);
    for r in rows {
        for cell in 1..=3 {
            let v: f64 = r[cell].as_str().unwrap().parse().unwrap_or_else(|_| panic!("row {r}: cell {cell} is not a number"));
            assert!((0.0..=1.0).contains(&v), "row {r}");
        }
    }
    b.screenshot("resolution-experiment").await;
    let errors = b.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    b.close().await;
}

/// Stop while an arm's file is still loading stops the whole experiment: that arm never starts
/// a trainer and no later arm runs (the series runner's generation check, `state::series`).
/// The 64 px file stalls after its first bytes, so the second arm waits on it when Stop comes;
/// before, its load ended later (the 15 s stall watchdog) and the third arm trained anyway.
#[tokio::test]
async fn stop_during_an_arms_file_load_stops_the_experiment() {
    let server = StaticServer::start(dist());
    server.set("data/breastmnist_64.npz", Override::Stall(1_000));
    let b = Browser::start(Options::default()).await;
    b.client.goto(&format!("{}?res_model=tiny&res_epochs=1&backend=cpu", server.base)).await.unwrap();
    b.wait_text("dataset-status", READY, |t| t.contains("546")).await;
    b.click("resolution-run").await;
    let rows = "[...document.querySelectorAll('[data-testid=resolution-row]')]";
    b.wait_js(
        &format!("const r = {rows}; return r[0].dataset.done === 'true' && r[1].textContent.includes('loading')"),
        Duration::from_secs(600),
    )
    .await;
    let trainers = |s: &StaticServer| s.requests().iter().filter(|r| r.path.contains("trainer")).count();
    let before = trainers(&server);
    b.click("resolution-stop").await;
    // Longer than the page's 15 s stall watchdog, after which the old runner went on.
    tokio::time::sleep(Duration::from_secs(20)).await;
    let status =
        b.js(&format!("return {rows}.map(r => [r.dataset.done, r.querySelector('.status-cell').textContent])"), vec![]).await;
    assert_eq!(
        status,
        serde_json::json!([["true", status[0][1]], ["false", "failed: stopped"], ["false", "failed: stopped"]]),
        "the loading arm and the next one stay stopped"
    );
    assert_eq!(trainers(&server), before, "no trainer was fetched after Stop");
    let run_enabled = b.js("return !document.querySelector('[data-testid=resolution-run]').disabled", vec![]).await;
    assert_eq!(run_enabled, serde_json::json!(true), "the experiment can be run again");
    b.close().await;
}

//! The explorer: a deep link opens a sample before any training; after a short run (URL
//! parameters, then Start) the worker explains the test split; keys and the slider scrub, the
//! image, label, prediction and Grad-CAM change with the sample; filters change the count (and
//! agree with the gallery's mistake marks); the address carries the view and restores it.

use std::time::{Duration, Instant};

use breastmnist_e2e::{Browser, Options, StaticServer, dist};
use fantoccini::Locator;
use serde_json::{Value, json};

const READY: Duration = Duration::from_secs(90);
const TRAINED: Duration = Duration::from_secs(900);

/// The sample shown: [split, index, label text, score, image data URL, Grad-CAM data URL,
/// Grad-CAM value range].
const SNAPSHOT: &str = r#"
    const q = id => document.querySelector(`[data-testid=${id}]`);
    const v = q('sample-view').dataset, heat = q('gradcam-canvas');
    let range = 0;
    if (heat.width > 0) {
        const px = heat.getContext('2d').getImageData(0, 0, heat.width, heat.height).data;
        let lo = 255, hi = 0;
        for (let i = 0; i < px.length; i += 4) { const l = px[i] + px[i + 1] + px[i + 2]; lo = Math.min(lo, l); hi = Math.max(hi, l); }
        range = hi - lo;
    }
    return [v.split, v.index, q('sample-label').textContent, q('sample-prediction').dataset.score,
            q('sample-image').toDataURL(), heat.width > 0 ? heat.toDataURL() : '', range];
"#;

async fn snapshot(b: &Browser) -> Vec<Value> {
    b.js(SNAPSHOT, vec![]).await.as_array().unwrap().clone()
}

/// Sets a form control's value and fires the event Leptos listens to.
async fn set(b: &Browser, id: &str, value: &str, event: &str) {
    b.js(
        "const e = document.querySelector(`[data-testid=${arguments[0]}]`); e.value = arguments[1]; e.dispatchEvent(new Event(arguments[2], {bubbles: true}));",
        vec![json!(id), json!(value), json!(event)],
    )
    .await;
}

async fn count_text(b: &Browser, id: &str) -> usize {
    let t = b.js("return document.querySelector(`[data-testid=${arguments[0]}]`).textContent", vec![json!(id)]).await;
    t.as_str().unwrap().split_whitespace().next().unwrap().parse().unwrap()
}

async fn train_and_wait(b: &Browser, query: &str, server: &StaticServer) -> f64 {
    b.client.goto(&format!("{}{query}", server.base)).await.unwrap();
    b.wait_text("dataset-status", READY, |t| t.contains("546")).await;
    b.click("train-start").await;
    b.wait_text("test-metrics", TRAINED, |t| t.contains("Test AUC")).await;
    let started = Instant::now();
    // The explorer mounts when scrolled near (it is lazy).
    b.js("document.getElementById('explore').scrollIntoView({behavior: 'instant'})", vec![]).await;
    b.wait_attr("sample-view", "data-ready", "true", TRAINED).await;
    started.elapsed().as_secs_f64()
}

#[tokio::test(flavor = "multi_thread")]
async fn scrubs_filters_and_deep_links_after_cpu_training() {
    let server = StaticServer::start(dist());
    let b = Browser::start(Options { webgpu: false, ..Options::default() }).await;

    // A deep link opens its sample before any model exists.
    b.client.goto(&format!("{}?split=val&i=7", server.base)).await.unwrap();
    b.wait_text("dataset-status", READY, |t| t.contains("546")).await;
    b.wait_attr("sample-view", "data-index", "7", READY).await;
    assert_eq!(b.attr("sample-view", "data-split").await, "val");
    let before = snapshot(&b).await;
    assert!(before[2].as_str().unwrap().starts_with("True label"), "{:?}", before[2]);
    assert_eq!(before[5], "", "no Grad-CAM without a model");
    let disabled = b.js("return document.querySelector('[data-testid=filter-correct]').disabled", vec![]).await;
    assert_eq!(disabled, json!(true), "correctness filters need predictions");

    // Train briefly; the explorer then explains the test split (the sample of the link stays).
    let query = "?model=tiny&epochs=3&batch=32&subset=256&seed=1&backend=cpu&split=test&i=5";
    let wait = train_and_wait(&b, query, &server).await;
    let timing = b.wait_text("explain-timing", READY, |t| t.contains("156")).await;
    eprintln!("FIGURE explain cpu: {timing} (page waited {wait:.1} s after the metrics)");
    let first = snapshot(&b).await;
    assert_eq!((first[0].as_str().unwrap(), first[1].as_str().unwrap()), ("test", "5"));
    assert!(!first[3].as_str().unwrap().is_empty(), "a prediction is shown");
    assert!(first[6].as_i64().unwrap() > 30, "the Grad-CAM canvas is not blank: {:?}", first[6]);
    assert_eq!(count_text(&b, "explorer-count").await, 156);

    // Keys: ArrowRight on the explorer moves to the next sample.
    b.js("document.querySelector('[data-testid=explorer]').focus()", vec![]).await;
    let explorer = b.client.find(Locator::Css("[data-testid=explorer]")).await.unwrap();
    explorer.send_keys("\u{E014}").await.unwrap();
    b.wait_attr("sample-view", "data-index", "6", READY).await;
    let next = snapshot(&b).await;
    assert_ne!(next[4], first[4], "the image changes");
    assert_ne!(next[3], first[3], "the prediction changes");
    assert_ne!(next[5], first[5], "the Grad-CAM differs between samples");
    explorer.send_keys("\u{E012}").await.unwrap(); // ArrowLeft
    b.wait_attr("sample-view", "data-index", "5", READY).await;

    // The slider: move until the true label differs.
    let mut label_changed = false;
    for p in (10..156).step_by(7) {
        set(&b, "scrubber", &p.to_string(), "input").await;
        b.wait_attr("sample-view", "data-index", &p.to_string(), READY).await;
        let s = snapshot(&b).await;
        assert!(s[6].as_i64().unwrap() > 0 || s[5] == "", "Grad-CAM painted");
        if s[2] != first[2] {
            label_changed = true;
            assert_ne!(s[4], first[4]);
            break;
        }
    }
    assert!(label_changed, "the slider reaches a sample of the other class");

    // Filters change the count; the gallery marks the same mistakes.
    set(&b, "filter-correct", "incorrect", "change").await;
    b.wait_js("return document.querySelector('[data-testid=explorer-count]').textContent !== '156 samples'", READY).await;
    let mistakes = count_text(&b, "explorer-count").await;
    assert!(mistakes < 156, "{mistakes}");
    let marked = b.js("return document.querySelectorAll('[data-testid=gallery-item][data-correct=false]').length", vec![]).await;
    assert_eq!(marked.as_u64().unwrap() as usize, mistakes, "gallery marks = explorer mistakes");
    if mistakes > 0 {
        let verdict =
            b.js("return document.querySelector('[data-testid=sample-prediction] .verdict').dataset.correct", vec![]).await;
        assert_eq!(verdict, "false");
    }
    set(&b, "filter-class", "malignant", "change").await;
    b.wait_js("return location.search.includes('class=malignant')", READY).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let malignant_mistakes = count_text(&b, "explorer-count").await;
    assert!(malignant_mistakes <= mistakes && malignant_mistakes <= 42);
    b.click("filter-hardest").await;
    b.wait_text("explorer-count", READY, |t| t.starts_with(&format!("{mistakes} "))).await;
    b.click("filter-reset").await;
    b.wait_text("explorer-count", READY, |t| t == "156 samples").await;

    // A gallery image opens in the explorer.
    let picked = b
        .js("const g = document.querySelector('[data-testid=gallery-item][data-split=test][data-index=\"33\"]'); g.click(); return g.dataset.label", vec![])
        .await;
    b.wait_attr("sample-view", "data-index", "33", READY).await;
    assert_eq!(b.attr("sample-view", "data-split").await, "test");
    let label = b.js("return document.querySelector('[data-testid=sample-label]').textContent", vec![]).await;
    assert!(label.as_str().unwrap().contains(&format!("({})", picked.as_str().unwrap())), "{label} vs label {picked}");

    // Grad-CAM settings: opacity, stage (layer3 is computed on request), side by side.
    set(&b, "gradcam-opacity", "0.2", "input").await;
    b.wait_js("return document.querySelector('[data-testid=gradcam-canvas]').style.opacity === '0.2'", READY).await;
    set(&b, "gradcam-stage", "layer3", "change").await;
    b.wait_attr("sample-view", "data-ready", "true", TRAINED).await;
    let l3 = snapshot(&b).await;
    assert!(l3[6].as_i64().unwrap() > 0);
    b.wait_attr("activation-grid", "data-channels", "16", TRAINED).await;
    b.screenshot("explore-overlay").await;
    b.js("document.querySelector('[data-testid=gradcam-side-by-side]').click()", vec![]).await;
    b.screenshot("explore-side-by-side").await;

    // Frame time while scrubbing: 60 key presses, one per animation frame (and 60 idle frames
    // for comparison).
    let idle = b
        .client
        .execute_async(
            r#"const done = arguments[0], times = []; let n = 0, last = performance.now();
               function tick(t) { times.push(t - last); last = t; if (++n < 60) requestAnimationFrame(tick); else done(times.slice(1)); }
               requestAnimationFrame(tick);"#,
            vec![],
        )
        .await
        .unwrap();
    let idle: Vec<f64> = idle.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    eprintln!("FIGURE idle frames: mean {:.1} ms", idle.iter().sum::<f64>() / idle.len() as f64);
    const SCRUB: &str = r#"const done = arguments[0], el = document.querySelector('[data-testid=explorer]'), times = [];
               let n = 0, last = performance.now();
               function tick(t) { times.push(t - last); last = t; el.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowRight', bubbles: true}));
                 if (++n < 60) requestAnimationFrame(tick); else done(times.slice(1)); }
               requestAnimationFrame(tick);"#;
    for (name, setup) in [
        ("with motion", ""),
        (
            "without transitions or animations",
            // A constructed sheet (CSSOM): the page's CSP refuses inline <style> elements.
            "const s = new CSSStyleSheet(); s.replaceSync('* { transition: none !important; animation: none !important; }'); window.__still = s; document.adoptedStyleSheets = [...document.adoptedStyleSheets, s];",
        ),
    ] {
        b.js(setup, vec![]).await;
        let frames = b.client.execute_async(SCRUB, vec![]).await.unwrap();
        let frames: Vec<f64> = frames.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        let mean = frames.iter().sum::<f64>() / frames.len() as f64;
        let max = frames.iter().copied().fold(0.0, f64::max);
        eprintln!(
            "FIGURE scrubbing {name}: {} frames, mean {mean:.1} ms, max {max:.1} ms per frame (one sample per frame)",
            frames.len()
        );
    }
    b.js("document.adoptedStyleSheets = document.adoptedStyleSheets.filter(s => s !== window.__still);", vec![]).await;

    // The address carries the view; opening it restores it.
    set(&b, "filter-correct", "incorrect", "change").await;
    b.wait_js("return location.search.includes('correct=incorrect')", READY).await;
    let index = b.attr("sample-view", "data-index").await;
    let search = b.js("return location.search", vec![]).await.as_str().unwrap().to_string();
    assert!(search.contains(&format!("i={index}")) && search.contains("stage=layer3"), "{search}");
    b.client.goto(&format!("{}{search}", server.base)).await.unwrap();
    b.wait_text("dataset-status", READY, |t| t.contains("546")).await;
    b.wait_attr("sample-view", "data-index", &index, READY).await;
    assert_eq!(b.attr("sample-view", "data-split").await, "test");
    let restored = b.js("return [document.querySelector('[data-testid=filter-correct]').value, document.querySelector('[data-testid=gradcam-stage]').value]", vec![]).await;
    assert_eq!(restored, json!(["incorrect", "layer3"]));

    let errors = b.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn explains_on_webgpu_swiftshader() {
    let server = StaticServer::start(dist());
    let b = Browser::start(Options { webgpu: true, ..Options::default() }).await;
    let wait = train_and_wait(&b, "?model=tiny&epochs=1&batch=32&subset=64&seed=2&backend=webgpu", &server).await;
    let timing = b.wait_text("explain-timing", READY, |t| t.contains("156")).await;
    assert!(timing.contains("WebGPU"), "{timing}");
    eprintln!("FIGURE explain webgpu: {timing} (page waited {wait:.1} s after the metrics)");
    let s = snapshot(&b).await;
    assert!(s[6].as_i64().unwrap() > 30, "the Grad-CAM canvas is not blank on WebGPU");
    b.js("document.querySelector('[data-testid=explorer]').focus()", vec![]).await;
    let explorer = b.client.find(Locator::Css("[data-testid=explorer]")).await.unwrap();
    explorer.send_keys("\u{E014}").await.unwrap();
    b.wait_attr("sample-view", "data-index", "1", READY).await;
    let t = snapshot(&b).await;
    assert_ne!(t[5], s[5], "maps differ between samples on WebGPU");
    b.screenshot("explore-webgpu").await;
    let errors = b.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_prototype_head_shows_which_training_patches_a_sample_looks_like() {
    let server = StaticServer::start(dist());
    let b = Browser::start(Options { webgpu: false, ..Options::default() }).await;
    // The link ticks the form's prototype box (3 per class here, to keep the run short).
    let query = "?model=c8&prototypes=3&epochs=1&batch=32&subset=64&seed=0&backend=cpu&split=test&i=4";
    b.client.goto(&format!("{}{query}", server.base)).await.unwrap();
    b.wait_text("dataset-status", READY, |t| t.contains("546")).await;
    let ticked = b.js("return document.querySelector('[data-testid=train-prototypes]').checked", vec![]).await;
    assert_eq!(ticked, json!(true));
    let wait = train_and_wait(&b, query, &server).await;
    b.wait_attr("looks-like", "data-matches", "3", READY).await;
    eprintln!("FIGURE looks-like: shown {wait:.1} s after the metrics");
    // Each match: the sample with its similarity over it, and the training image it came from
    // with the cell marked in yellow.
    let painted = b
        .js(
            "return [0, 1, 2].map(k => ['image', 'source'].map(p => {
                const c = document.querySelector(`[data-testid=looks-like-${k}-${p}]`);
                const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                let yellow = 0;
                for (let i = 0; i < px.length; i += 4) if (px[i] === 255 && px[i + 1] === 214 && px[i + 2] === 0) yellow++;
                return [c.width, yellow];
            }))",
            vec![],
        )
        .await;
    for (k, m) in painted.as_array().unwrap().iter().enumerate() {
        assert_eq!(m[0][0], json!(28), "match {k}: the sample at 28 px");
        assert_eq!(m[1][0], json!(28), "match {k}: its training image");
        assert!(m[1][1].as_i64().unwrap() > 10, "match {k}: the patch is outlined: {m}");
    }
    let caption = b.wait_text("looks-like-0", READY, |t| t.contains("training image")).await;
    assert!(caption.contains("Prototype") && caption.contains("similarity"), "{caption}");
    b.js("document.querySelector('[data-testid=looks-like]').scrollIntoView({behavior: 'instant'})", vec![]).await;
    b.screenshot("explore-looks-like").await;
    let errors = b.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn lite0_at_28_px_is_explained_at_layer3_and_the_explorer_says_why() {
    let server = StaticServer::start(dist());
    let b = Browser::start(Options { webgpu: false, ..Options::default() }).await;
    // The default (and this link) asks for layer4, which is 1 x 1 for Lite0 at 28 px.
    let query = "?model=lite0&epochs=1&batch=16&subset=32&seed=1&backend=cpu&split=test&i=3&stage=layer4";
    train_and_wait(&b, query, &server).await;
    let timing = b.wait_text("explain-timing", READY, |t| t.contains("156")).await;
    assert!(timing.contains("the CPU"), "{timing}");
    let stage = b.js("return document.querySelector('[data-testid=gradcam-stage]').value", vec![]).await;
    assert_eq!(stage, json!("layer3"), "the explorer shows the deepest stage Lite0 can explain at 28 px");
    let options = b
        .js("return [...document.querySelectorAll('[data-testid=gradcam-stage] option')].map(o => [o.value, o.textContent, o.disabled])", vec![])
        .await;
    assert_eq!(options, json!([["layer4", "layer4 · 1 × 1, too coarse", true], ["layer3", "layer3 · 2 × 2", false]]));
    let note = b.wait_text("gradcam-stage-note", READY, |t| !t.is_empty()).await;
    assert!(note.contains("layer4 map is 1 × 1 for 28 px images") && note.contains("shows layer3 (2 × 2)"), "{note}");
    let s = snapshot(&b).await;
    assert!(s[6].as_i64().unwrap() > 0, "the layer3 map is drawn (not blank)");
    let error = b.js("return document.querySelector('.explorer .error')?.textContent ?? ''", vec![]).await;
    assert_eq!(error, json!(""), "no Grad-CAM error");
    b.screenshot("explore-lite0-28").await;
    let errors = b.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    b.close().await;
}

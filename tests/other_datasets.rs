//! "Beyond BreastMNIST": another MedMNIST 2D set picked, verified and carded, the reader recipe
//! trained on it in the tab with MedMNIST's figures (RetinaMNIST: five grades, so a 5 x 5
//! confusion and five per-class AUCs; PneumoniaMNIST: a 2 x 2 one), its downloads and Grad-CAM;
//! a local file identified by its MD5; the sets a tab cannot hold refused with the reason; and a
//! set this server lacks downloaded from Zenodo in the tab (a stand-in over HTTPS).

use std::time::Duration;

use breastmnist_e2e::{Browser, FakeZenodo, Options, Override, StaticServer, dist, root};
use fantoccini::Locator;

const READY: Duration = Duration::from_secs(90);

/// Sets the epochs (after checking the set's default) to one, trains, and returns the metrics
/// line, printing the time it took.
async fn train_one_epoch(b: &Browser, set: &str, default_epochs: &str) -> String {
    assert_eq!(b.js("return document.querySelector('[data-testid=other-epochs]').value", vec![]).await, default_epochs);
    b.js(
        "const e = document.querySelector('[data-testid=other-epochs]'); e.value = '1'; e.dispatchEvent(new Event('change'))",
        vec![],
    )
    .await;
    let started = std::time::Instant::now();
    b.click("other-start").await;
    let metrics = b.wait_text("other-metrics", Duration::from_secs(600), |t| t.contains("Test AUC")).await;
    eprintln!("FIGURE {set} in the tab (c8, reader recipe, 1 epoch, CPU): {:.0} s; {metrics}", started.elapsed().as_secs_f64());
    metrics
}

/// The test confusion's rows (true class), as the page shows them.
async fn confusion(b: &Browser) -> Vec<Vec<u64>> {
    let rows = b
        .js("return [...document.querySelectorAll('[data-testid=other-confusion-row]')].map(r => [...r.querySelectorAll('td')].map(td => Number(td.textContent)))", vec![])
        .await;
    serde_json::from_value(rows).unwrap()
}

/// The run's metrics JSON, read from its download link.
async fn metrics_json(b: &Browser) -> serde_json::Value {
    let script = "const done = arguments[0]; fetch([...document.querySelectorAll('[data-testid=other-download]')].find(a => a.download.endsWith('metrics.json')).href).then(r => r.text()).then(done)";
    let json = b.client.execute_async(script, vec![]).await.unwrap();
    serde_json::from_str(json.as_str().unwrap()).unwrap()
}

/// Picks `flag` in the section's dataset picker.
async fn pick(b: &Browser, flag: &str) {
    let script = format!(
        "const s = document.querySelector('[data-testid=other-pick]'); s.value = '{flag}'; s.dispatchEvent(new Event('change'))"
    );
    b.js(&script, vec![]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn retinamnist_and_pneumoniamnist_train_in_the_tab_with_their_own_metrics_and_other_sets_say_why_not() {
    let server = StaticServer::start(dist());
    // DermaMNIST is not served by this app (any more than on a fresh host): the page says where
    // the official file is.
    server.set("data/dermamnist.npz", Override::Status(404));
    let b = Browser::start(Options::default()).await;
    b.client.goto(&format!("{}?other=retinamnist&backend=cpu", server.base)).await.unwrap();
    b.wait_text("dataset-status", READY, |t| t.contains("546")).await;
    b.js("document.getElementById('other-datasets').scrollIntoView({behavior: 'instant'})", vec![]).await;
    b.wait_attr("other-card", "data-flag", "retinamnist", READY).await;
    let status = b.wait_text("other-status", READY, |t| t.contains("MD5 verified")).await;
    assert!(status.contains("1080 training / 120 validation / 400 test"), "{status}");
    // The card: five grades with their counts per split, two training images of each.
    assert_eq!(b.count("other-class").await, 5);
    assert_eq!(b.count("other-sample").await, 10);
    let drawn =
        b.js("return [...document.querySelectorAll('[data-testid=other-sample]')].every(c => c.width === 28)", vec![]).await;
    assert_eq!(drawn, true, "every sample is painted at 28 px");
    // The default epochs give about the reader recipe's images (10 on RetinaMNIST); one here.
    let metrics = train_one_epoch(&b, "RetinaMNIST", "10").await;
    assert!(metrics.contains("ordinal-regression"), "{metrics}");
    assert_eq!(b.count("other-class-auc").await, 5);
    let rows = confusion(&b).await;
    assert_eq!(rows.len(), 5);
    assert!(rows.iter().all(|r| r.len() == 5), "{rows:?}");
    // Rows are the true classes: each sums to the class's test images on the card.
    let card_test = b
        .js("return [...document.querySelectorAll('[data-testid=other-class]')].map(r => Number(r.querySelectorAll('td')[2].textContent))", vec![])
        .await;
    let card_test: Vec<u64> = serde_json::from_value(card_test).unwrap();
    assert_eq!(rows.iter().map(|r| r.iter().sum::<u64>()).collect::<Vec<_>>(), card_test);
    assert_eq!(card_test.iter().sum::<u64>(), 400, "every test image counted once");
    let interval = b.wait_text("other-interval", READY, |t| !t.is_empty()).await;
    assert!(interval.contains("95% interval of the test AUC") && interval.contains("2000 resamples"), "{interval}");
    // The downloads: checkpoint, PyTorch weights, metrics JSON and the two result files, named
    // with the set's flag; the metrics JSON names the set and its task.
    let names = b.js("return [...document.querySelectorAll('[data-testid=other-download]')].map(a => a.download)", vec![]).await;
    let names: Vec<String> = serde_json::from_value(names).unwrap();
    assert!(names.iter().any(|n| n.starts_with("retinamnist_test_[AUC]")), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("retinamnist_val_[AUC]")), "{names:?}");
    for name in ["retinamnist-c8-seed0.ckpt", "retinamnist-c8-seed0.safetensors", "retinamnist-c8-seed0-metrics.json"] {
        assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
    }
    let doc = metrics_json(&b).await;
    assert_eq!((doc["schema_version"].as_u64(), doc["dataset"]["flag"].as_str()), (Some(2), Some("retinamnist")));
    assert_eq!(doc["dataset"]["task"], "ordinal-regression");
    // Grad-CAM of the first two test images of each grade, each map drawn over its image; the
    // map of another class can be chosen.
    b.wait_count("other-gradcam", 10, READY).await;
    let painted = "return [...document.querySelectorAll('[data-testid=other-gradcam-map]')].map(c => c.width)";
    let widths: Vec<u64> = serde_json::from_value(b.js(painted, vec![]).await).unwrap();
    assert!(widths.iter().all(|&w| w == 28), "{widths:?}");
    let truths = b
        .js("return [...document.querySelectorAll('[data-testid=other-gradcam] figcaption')].map(f => f.textContent)", vec![])
        .await;
    let truths: Vec<String> = serde_json::from_value(truths).unwrap();
    for (i, caption) in truths.iter().enumerate() {
        assert!(caption.starts_with('#') && caption.contains(&format!(" true {} · predicted", i / 2)), "{caption}");
    }
    let pixels = "return [...document.querySelectorAll('[data-testid=other-gradcam-map]')].map(c => c.toDataURL())";
    let predicted = b.js(pixels, vec![]).await;
    b.js("const s = document.querySelector('[data-testid=other-gradcam-class]'); s.value = '4'; s.dispatchEvent(new Event('change'))", vec![]).await;
    let widths: Vec<u64> = serde_json::from_value(b.js(painted, vec![]).await).unwrap();
    assert!(widths.iter().all(|&w| w == 28), "class 4's maps: {widths:?}");
    let grade4: Vec<String> = serde_json::from_value(b.js(pixels, vec![]).await).unwrap();
    let predicted: Vec<String> = serde_json::from_value(predicted).unwrap();
    assert!(grade4.iter().zip(&predicted).any(|(a, b)| a != b), "class 4's maps are drawn, not the predicted classes'");
    // The reader chooses the images: the 400 test images page by page (24 a page), or one grade's;
    // the explained ones start chosen. Clear, show grade 3, choose its first three and explain.
    let chosen = "return [...document.querySelectorAll('[data-testid=other-choose][aria-pressed=true]')].map(b => Number(b.dataset.index))";
    let figures = "return [...document.querySelectorAll('[data-testid=other-gradcam]')].map(f => Number(f.dataset.index))";
    let mut explained: Vec<u64> = serde_json::from_value(b.js(figures, vec![]).await).unwrap();
    explained.retain(|&i| i < 24);
    explained.sort();
    let first: Vec<u64> = serde_json::from_value(b.js(chosen, vec![]).await).unwrap();
    assert_eq!(first, explained, "the first page shows the explained images on it chosen");
    assert_eq!(b.wait_text("other-choose-page", READY, |t| !t.is_empty()).await, "page 1 of 17");
    b.click("other-choose-next").await;
    b.wait_text("other-choose-page", READY, |t| t == "page 2 of 17").await;
    b.click("other-choose-clear").await;
    b.js("const s = document.querySelector('[data-testid=other-choose-class]'); s.value = '3'; s.dispatchEvent(new Event('change'))", vec![]).await;
    b.wait_text("other-choose-page", READY, |t| t == "page 1 of 3").await;
    let shown = "return [...document.querySelectorAll('[data-testid=other-choose]')].map(b => Number(b.dataset.index))";
    let grade3: Vec<u64> = serde_json::from_value(b.js(shown, vec![]).await).unwrap();
    assert_eq!(grade3.len(), 24, "{grade3:?}");
    for i in &grade3[..3] {
        b.click_css(&format!("[data-testid=other-choose][data-index='{i}']")).await;
    }
    let picked: Vec<u64> = serde_json::from_value(b.js(chosen, vec![]).await).unwrap();
    assert_eq!(picked, grade3[..3]);
    b.click("other-explain").await;
    b.wait_count("other-gradcam", 3, READY).await;
    let explained: Vec<u64> = serde_json::from_value(b.js(figures, vec![]).await).unwrap();
    assert_eq!(explained, grade3[..3]);
    let captions: Vec<String> = serde_json::from_value(
        b.js("return [...document.querySelectorAll('[data-testid=other-gradcam] figcaption')].map(f => f.textContent)", vec![])
            .await,
    )
    .unwrap();
    assert!(captions.iter().all(|c| c.contains(" true 3 · predicted")), "{captions:?}");
    let widths: Vec<u64> = serde_json::from_value(b.js(painted, vec![]).await).unwrap();
    assert_eq!(widths, [28, 28, 28], "the chosen images' maps are drawn");
    // The section alone (the article is longer than a screenshot can be).
    let others = "document.querySelectorAll('main section:not(#other-datasets), main header')";
    b.js(&format!("{others}.forEach(s => s.style.display = 'none')"), vec![]).await;
    b.screenshot("other-datasets-retina").await;
    b.js(&format!("{others}.forEach(s => s.style.display = '')"), vec![]).await;

    // A set too large for a tab is refused with the reason and the command that trains it.
    pick(&b, "pathmnist").await;
    let why = b.wait_text("other-refused", READY, |t| !t.is_empty()).await;
    assert!(why.contains("252 MB") && why.contains("breastmnist train --dataset pathmnist"), "{why}");
    assert_eq!(b.count("other-card").await, 0);
    // A set this server lacks: where to get the official file.
    pick(&b, "dermamnist").await;
    let err = b.wait_text("other-error", READY, |t| t.contains("404")).await;
    assert!(err.contains("zenodo.org/records/10519652/files/dermamnist.npz"), "{err}");
    // A local file larger than any set this section holds is refused unread (sparse: no disk
    // used), also right after a refused set.
    let huge = root().join("target/e2e/huge-120MB.npz");
    std::fs::create_dir_all(huge.parent().unwrap()).unwrap();
    std::fs::File::create(&huge).unwrap().set_len(120_000_000).unwrap();
    pick(&b, "tissuemnist").await;
    b.wait_text("other-refused", READY, |t| t.contains("TissueMNIST")).await;
    let input = b.client.find(Locator::Css("[data-testid=other-file]")).await.unwrap();
    input.send_keys(&huge.display().to_string()).await.unwrap();
    let err = b.wait_text("other-error", READY, |t| t.contains("huge-120MB.npz")).await;
    assert!(err.contains("120 MB is more than") && err.contains("PathMNIST, ChestMNIST, OCTMNIST, TissueMNIST"), "{err}");
    assert_eq!(b.count("other-refused").await, 0, "the file's error replaces the refused set's");
    let _ = std::fs::remove_file(&huge);
    // A local file is identified by its MD5: PneumoniaMNIST's file becomes the picked set;
    // BreastMNIST's is sent back to the article above.
    let input = b.client.find(Locator::Css("[data-testid=other-file]")).await.unwrap();
    input.send_keys(&root().join("assets/data/breastmnist.npz").display().to_string()).await.unwrap();
    b.wait_text("other-error", READY, |t| t.contains("BreastMNIST is the article above")).await;
    let input = b.client.find(Locator::Css("[data-testid=other-file]")).await.unwrap();
    input.send_keys(&root().join("assets/data/pneumoniamnist.npz").display().to_string()).await.unwrap();
    b.wait_attr("other-card", "data-flag", "pneumoniamnist", READY).await;
    let status = b.wait_text("other-status", READY, |t| t.contains("MD5 verified")).await;
    assert!(status.contains("your file pneumoniamnist.npz") && status.contains("4708 training"), "{status}");
    assert_eq!(b.count("other-class").await, 2);
    assert_eq!(b.js("return document.querySelector('[data-testid=other-pick]').value", vec![]).await, "pneumoniamnist");
    // Two classes: the reader recipe for one epoch gives a 2 x 2 confusion over the 624 test
    // images, DeLong's interval and Grad-CAM of two images of each class.
    let metrics = train_one_epoch(&b, "PneumoniaMNIST", "2").await;
    assert!(metrics.contains("binary-class"), "{metrics}");
    let rows = confusion(&b).await;
    assert_eq!(rows.iter().map(|r| r.iter().sum::<u64>()).collect::<Vec<_>>(), [234, 390], "normal, pneumonia");
    assert!(b.wait_text("other-interval", READY, |t| !t.is_empty()).await.contains("(DeLong)"));
    b.wait_count("other-gradcam", 4, READY).await;
    // The class chosen for RetinaMNIST does not carry over: each image's predicted class again.
    assert_eq!(b.js("return document.querySelector('[data-testid=other-gradcam-class]').value", vec![]).await, "predicted");
    let widths: Vec<u64> = serde_json::from_value(b.js(painted, vec![]).await).unwrap();
    assert!(widths.iter().all(|&w| w == 28), "PneumoniaMNIST's maps: {widths:?}");
    // Its metrics JSON names the set (schema 2) and has no malignant rates: its class 0 is normal.
    let doc = metrics_json(&b).await;
    assert_eq!((doc["schema_version"].as_u64(), doc["dataset"]["task"].as_str()), (Some(2), Some("binary-class")));
    assert!(doc["test"].get("malignant").is_none() && doc["test"]["auc_ci"].is_object(), "{}", doc["test"]);

    let errors = b.console_errors().await;
    assert!(errors.iter().all(|e| e.contains("404")), "console errors: {errors:#?}");
    b.close().await;
}

/// Zenodo's API address for an official 28 px file (what the page fetches).
fn zenodo_path(flag: &str) -> String {
    format!("/api/records/10519652/files/{flag}.npz/content")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_set_this_server_lacks_is_downloaded_from_zenodo_in_the_tab_verified_and_kept() {
    // Cross-origin isolated, as a host serves the app: the CORS answer must also pass COEP, and
    // the page's policy (its <meta>) must let the tab reach zenodo.org.
    let server = StaticServer::isolated(dist());
    let zenodo = FakeZenodo::start();
    let file = |name: &str| std::fs::read(root().join("assets/data").join(name)).unwrap();
    for flag in ["retinamnist", "pneumoniamnist"] {
        server.set(&format!("data/{flag}.npz"), Override::Status(404));
    }
    // A host that answers a missing file with its page (as single-page-app hosts do).
    server.set("data/dermamnist.npz", Override::Bytes(b"<!doctype html><title>app</title>".to_vec()));
    zenodo.serve(&zenodo_path("retinamnist"), file("retinamnist.npz"), true);
    // Without Zenodo's CORS header the tab may not read the answer.
    zenodo.serve(&zenodo_path("pneumoniamnist"), file("pneumoniamnist.npz"), false);
    // Not the official file: the MD5 check refuses it.
    zenodo.serve(&zenodo_path("dermamnist"), file("retinamnist.npz"), true);
    let b = Browser::start(Options { host_rules: Some(zenodo.host_rule()), ..Options::default() }).await;
    b.record_violations().await;
    b.client.goto(&format!("{}?other=retinamnist&backend=cpu", server.base)).await.unwrap();
    b.wait_text("other-error", READY, |t| t.contains("404")).await;
    assert!(zenodo.requests().is_empty(), "nothing goes to Zenodo unless the reader asks: {:?}", zenodo.requests());
    b.js(
        "document.querySelectorAll('main section:not(#other-datasets), main header').forEach(s => s.style.display = 'none')",
        vec![],
    )
    .await;
    b.screenshot("other-datasets-zenodo-offer").await;
    b.click("other-zenodo").await;
    b.wait_attr("other-card", "data-flag", "retinamnist", READY).await;
    let status = b.wait_text("other-status", READY, |t| t.contains("MD5 verified")).await;
    assert!(status.contains("downloaded from Zenodo") && status.contains("1080 training"), "{status}");
    assert_eq!(zenodo.requests(), [format!("GET {}", zenodo_path("retinamnist"))]);

    // After a reload this server still lacks it: the verified copy the browser kept is used,
    // and Zenodo is not asked again.
    b.client.refresh().await.unwrap();
    let status = b.wait_text("other-status", READY, |t| t.contains("MD5 verified")).await;
    assert!(status.contains("from the browser's cache"), "{status}");
    assert_eq!(zenodo.requests().len(), 1, "{:?}", zenodo.requests());

    // Zenodo's answer without CORS headers: the page says so and links the official file.
    pick(&b, "pneumoniamnist").await;
    b.wait_text("other-error", READY, |t| t.contains("404")).await;
    b.click("other-zenodo").await;
    let err = b.wait_text("other-error", READY, |t| t.contains("Zenodo did not send")).await;
    assert!(err.contains("zenodo.org/records/10519652/files/pneumoniamnist.npz"), "{err}");
    assert_eq!(b.count("other-card").await, 0);
    // This server sends something else than the file: Zenodo is offered too; there a file that
    // is not the official one is refused by its MD5 and not kept.
    pick(&b, "dermamnist").await;
    let err = b.wait_text("other-error", READY, |t| t.contains("Verification failed")).await;
    assert!(err.contains("not what the catalog promises of DermaMNIST"), "{err}");
    b.click("other-zenodo").await;
    let err = b.wait_text("other-error", READY, |t| t.contains("Verification failed") && t.contains("Retry")).await;
    assert!(err.contains("MD5"), "{err}");
    assert_eq!(zenodo.requests().last(), Some(&format!("GET {}", zenodo_path("dermamnist"))));
    assert_eq!(b.count("other-card").await, 0);

    let (csp, _) = b.violations().await;
    assert!(csp.is_empty(), "policy violations: {csp:#?}");
    b.close().await;
}

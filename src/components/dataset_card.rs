//! The dataset card: fetch with a progress bar, verify, show counts and the class balance;
//! or accept a local file (picked or dropped). Every failure is shown with a retry.

use breastmnist_data::{Split, Variant};
use leptos::html::Canvas;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DragEvent, HtmlInputElement};

use crate::charts;
use crate::draw::format_bytes;
use crate::runtime::dataset::{Loaded, Source};
use crate::state::data::{DataCtx, LoadPhase};

/// The card. Starts loading the 28 px file as soon as it mounts.
#[component]
pub fn DatasetCard() -> impl IntoView {
    let ctx = expect_context::<DataCtx>();
    Effect::new(move |prev: Option<()>| {
        if prev.is_none() {
            ctx.load();
        }
    });

    let on_variant = move |ev: web_sys::Event| {
        let side = event_target_value(&ev).parse::<usize>().ok();
        if let Some(v) = side.and_then(Variant::from_side) {
            ctx.variant.set(v);
            ctx.load();
        }
    };
    let on_pick = move |ev: web_sys::Event| {
        let input: HtmlInputElement = event_target(&ev);
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            ctx.load_file(file);
        }
        input.set_value("");
    };
    let dragging = RwSignal::new(false);
    let on_drop = move |ev: DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        if let Some(file) = ev.data_transfer().and_then(|dt| dt.files()).and_then(|f| f.get(0)) {
            ctx.load_file(file);
        }
    };

    view! {
        <div class="card dataset-card" class:dragging=move || dragging.get()
            on:dragover=move |ev: DragEvent| { ev.prevent_default(); dragging.set(true); }
            on:dragleave=move |_| dragging.set(false)
            on:drop=on_drop
        >
            <div class="card-row">
                <label>"Resolution "
                    <select on:change=on_variant prop:value=move || ctx.variant.get().side().to_string()
                        aria-label="Dataset resolution">
                        <option value="28">"28 × 28 px (560 kB)"</option>
                        <option value="64">"64 × 64 px (2.8 MB)"</option>
                    </select>
                </label>
                <label class="file-pick">"Or use a local .npz "
                    <input type="file" accept=".npz" on:change=on_pick data-testid="dataset-file" />
                </label>
            </div>
            <Progress ctx=ctx />
            <Status ctx=ctx />
            <Show when=move || ctx.loaded.with(Option::is_some)>
                <Counts ctx=ctx />
            </Show>
        </div>
    }
}

#[component]
fn Progress(ctx: DataCtx) -> impl IntoView {
    let phase = ctx.phase;
    let downloading = move || matches!(phase.get(), LoadPhase::Downloading { .. });
    let shown = move || matches!(phase.get(), LoadPhase::Downloading { .. } | LoadPhase::Verifying);
    let value = move || match phase.get() {
        LoadPhase::Downloading { received, .. } => received as f64,
        _ => 1.0,
    };
    let max = move || match phase.get() {
        LoadPhase::Downloading { total: Some(t), .. } => t.max(1) as f64,
        _ => 1.0,
    };
    let label = move || match phase.get() {
        LoadPhase::Downloading { received, total: Some(t) } => {
            format!("Downloading: {} of {}", format_bytes(received), format_bytes(t))
        }
        LoadPhase::Downloading { received, total: None } => format!("Downloading: {}", format_bytes(received)),
        LoadPhase::Verifying => "Verifying MD5 and decoding…".to_string(),
        _ => String::new(),
    };
    view! {
        <Show when=shown>
            <div class="progress" data-testid="dataset-progress">
                <progress prop:value=value prop:max=max aria-label="Download progress"></progress>
                <span>{label}</span>
                <Show when=downloading>
                    " "<button type="button" class="link" data-testid="download-restart" on:click=move |_| ctx.load()>
                        "Restart the download"
                    </button>
                </Show>
            </div>
        </Show>
    }
}

#[component]
fn Status(ctx: DataCtx) -> impl IntoView {
    move || match ctx.phase.get() {
        LoadPhase::Failed(err) => view! {
            <div class="error" role="alert" data-testid="error">
                <p><strong>{err.to_string()}</strong></p>
                <p>{err.hint()}</p>
                <button on:click=move |_| ctx.load() data-testid="retry">"Retry"</button>
            </div>
        }
        .into_any(),
        LoadPhase::Ready => {
            let text = ctx.loaded.with(|l| l.as_ref().map(|l| status_text(l))).unwrap_or_default();
            view! { <p class="status ok" data-testid="dataset-status" aria-live="polite">{text}</p> }.into_any()
        }
        _ => view! { <p class="status" data-testid="dataset-status" aria-live="polite">"Loading the dataset…"</p> }.into_any(),
    }
}

fn status_text(l: &Loaded) -> String {
    let ds = &l.dataset;
    let source = match &l.source {
        Source::Network => "downloaded".to_string(),
        Source::Zenodo => "downloaded from Zenodo".to_string(),
        Source::BrowserCache => "from the browser cache".to_string(),
        Source::LocalFile(name) => format!("from your file {name}"),
    };
    format!(
        "✓ {} verified ({}, MD5 {}…, {}): {} images of {}×{} px — train {} · val {} · test {}",
        l.variant.file_name(),
        format_bytes(l.bytes() as u64),
        &l.md5[..8],
        source,
        ds.len(),
        ds.side,
        ds.side,
        ds.train.len(),
        ds.val.len(),
        ds.test.len()
    )
}

#[component]
fn Counts(ctx: DataCtx) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    Effect::new(move |_| {
        let Some(el) = canvas.get() else { return };
        ctx.loaded.with(|l| {
            if let Some(l) = l
                && let Err(e) = charts::class_balance::draw(el.unchecked_into(), &l.dataset)
            {
                leptos::logging::warn!("class-balance chart: {e}");
            }
        });
    });
    let rows = move || {
        ctx.loaded.with(|l| {
            let Some(l) = l else { return Vec::new() };
            Split::ALL
                .into_iter()
                .map(|s| {
                    let [m, b] = l.dataset.split(s).class_counts();
                    view! { <tr><th scope="row">{s.key()}</th><td>{m}</td><td>{b}</td><td>{m + b}</td></tr> }
                })
                .collect::<Vec<_>>()
        })
    };
    view! {
        <div class="counts">
            <table class="split-table">
                <caption>"Images per split and class"</caption>
                <thead><tr><th scope="col">"split"</th><th scope="col">"malignant (0)"</th>
                    <th scope="col">"normal/benign (1)"</th><th scope="col">"total"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
            <figure>
                <canvas node_ref=canvas width="480" height="260" data-testid="class-balance-chart"
                    role="img" aria-label="Bar chart: images per split, malignant versus normal or benign"></canvas>
                <figcaption>
                    <span class="swatch malignant"></span>" malignant "
                    <span class="swatch benign"></span>" normal/benign — about 27% of every split is malignant."
                </figcaption>
            </figure>
        </div>
    }
}

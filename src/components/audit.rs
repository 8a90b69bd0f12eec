//! "Check for leaks": the data audit of the loaded file — counts of near-duplicate images per
//! pair of splits, the histogram the threshold is read from, and the twin pairs side by side
//! with label conflicts marked.

use std::sync::Arc;

use breastmnist_data::Split;
use breastmnist_data::audit::{Audit, Pair};
use leptos::html::Canvas;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::charts;
use crate::draw::paint_image;
use crate::state::data::DataCtx;
use crate::view::audit::{AuditPhase, caption, count_rows, shown_pairs, summary};

/// Pairs shown at first; the rest behind "show all".
const FIRST_PAIRS: usize = 12;

#[component]
pub fn Audit() -> impl IntoView {
    let ctx = expect_context::<DataCtx>();
    let body = move || match ctx.audit.get() {
        AuditPhase::Waiting => view! { <p class="placeholder">"The audit runs once the dataset is verified."</p> }.into_any(),
        AuditPhase::Running => {
            view! { <p class="placeholder" data-testid="audit-running">"Comparing every pair of images…"</p> }.into_any()
        }
        AuditPhase::Failed(why) => {
            view! { <p class="error" data-testid="error">{format!("The audit failed: {why}")}</p> }.into_any()
        }
        AuditPhase::Done(audit) => view! { <Report ctx audit /> }.into_any(),
    };
    view! { <div class="card audit-card" data-testid="audit">{body}</div> }
}

#[component]
fn Report(ctx: DataCtx, audit: Arc<Audit>) -> impl IntoView {
    let len = move |s: Split| ctx.loaded.with_untracked(|l| l.as_ref().map_or(0, |l| l.dataset.split(s).len()));
    let rows = count_rows(&audit, len)
        .into_iter()
        .map(|r| {
            let warn = r.conflicts > 0;
            view! {
                <tr data-testid="audit-row">
                    <th scope="row">{r.label}</th>
                    <td>{format!("{} of {}", r.images, r.of)}</td>
                    <td>{r.pairs}</td>
                    <td class:warn=warn>{r.conflicts}</td>
                    <td>{r.identical}</td>
                </tr>
            }
        })
        .collect::<Vec<_>>();
    let (canvas, all_pairs) = (NodeRef::<Canvas>::new(), NodeRef::<Canvas>::new());
    let for_chart = audit.clone();
    Effect::new(move |_| {
        if let Some(el) = canvas.get()
            && let Err(e) = charts::audit::draw(el.unchecked_into(), &for_chart)
        {
            leptos::logging::warn!("audit chart: {e}");
        }
        if let Some(el) = all_pairs.get()
            && let Err(e) = charts::audit::draw_all_pairs(el.unchecked_into(), &for_chart)
        {
            leptos::logging::warn!("audit chart: {e}");
        }
    });
    let all = RwSignal::new(false);
    let for_pairs = audit.clone();
    let pairs = move || {
        let n = if all.get() { usize::MAX } else { FIRST_PAIRS };
        shown_pairs(&for_pairs, n).into_iter().cloned().map(|p| view! { <PairView ctx pair=p /> }).collect::<Vec<_>>()
    };
    let total = audit.pairs.iter().filter(|p| p.a.split != p.b.split).count();
    let more = move || !all.get() && total > FIRST_PAIRS;
    let test_len = len(Split::Test);
    view! {
        <p data-testid="audit-summary">{summary(&audit, test_len)}</p>
        <table class="split-table audit-table">
            <caption>{format!("Images with a near-copy (correlation above {}) in another split, or in their own", audit.threshold)}</caption>
            <thead><tr><th scope="col">"splits"</th><th scope="col">"images with a twin"</th><th scope="col">"pairs"</th>
                <th scope="col">"opposite labels"</th><th scope="col">"identical pixels"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
        <figure>
            <canvas node_ref=canvas width="640" height="240" data-testid="audit-histogram" role="img"
                aria-label="Histogram: each test image's correlation with its nearest training image; the threshold is a vertical line"></canvas>
            <figcaption>{format!(
                "Each test image's correlation with its nearest training image. Most are below 0.9; a second cluster sits near 1, \
                 and the threshold ({}) is set in the trough between them (bars right of the line are twins).",
                audit.threshold
            )}</figcaption>
        </figure>
        <figure>
            <canvas node_ref=all_pairs width="640" height="240" data-testid="audit-all-pairs" role="img"
                aria-label="Histogram on a log scale: the correlation of every test image with every training image"></canvas>
            <figcaption>{format!(
                "Every test–train pair ({} of them), on a log scale: pairs of different scans centre near 0.5 and thin \
                 out towards 0.9 ({:.1} % of all pairs lie below it); the few dozen pairs past the line ({}) are the twins.",
                audit.all_pairs_histogram.total(),
                100.0 * audit.all_pairs_histogram.share_below(0.9),
                audit.threshold
            )}</figcaption>
        </figure>
        <div class="audit-pairs" data-testid="audit-pairs">{pairs}</div>
        <Show when=more>
            <button type="button" data-testid="audit-show-all" on:click=move |_| all.set(true)>
                {format!("Show all {total} pairs across splits")}
            </button>
        </Show>
    }
}

/// Two twins side by side.
#[component]
fn PairView(ctx: DataCtx, pair: Pair) -> impl IntoView {
    let (left, right) = (NodeRef::<Canvas>::new(), NodeRef::<Canvas>::new());
    let (a, b) = (pair.a, pair.b);
    Effect::new(move |_| {
        ctx.loaded.with(|l| {
            let Some(l) = l else { return };
            let d = &l.dataset;
            for (node, img) in [(left, a), (right, b)] {
                if let Some(el) = node.get() {
                    paint_image(&el, d.side, d.channels, d.image(img.split, img.index));
                }
            }
        })
    });
    let conflict = pair.conflict();
    view! {
        <figure class="audit-pair" class:conflict=conflict data-testid="audit-pair" data-conflict=conflict.to_string()>
            <div class="pair-images">
                <canvas node_ref=left class="pixelated" aria-hidden="true"></canvas>
                <canvas node_ref=right class="pixelated" aria-hidden="true"></canvas>
            </div>
            <figcaption>{caption(&pair)}</figcaption>
        </figure>
    }
}

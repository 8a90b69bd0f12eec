//! A run's results: test AUC and ACC, the confusion matrix, the ROC curve, and the downloads.

use leptos::html::Canvas;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::charts::roc as roc_chart;
use crate::state::train::{Exports, TrainCtx};
use crate::view::model_note::{model_note, start_note};
use crate::view::run::{certainty_lines, conv_note};

#[component]
pub fn Results() -> impl IntoView {
    let ctx = expect_context::<TrainCtx>();
    let roc = NodeRef::<Canvas>::new();
    Effect::new(move |_| {
        ctx.run.with(|s| {
            if let (Some(done), Some(c)) = (&s.done, roc.get()) {
                let _ = roc_chart::draw_roc(c.unchecked_into(), &done.roc, done.test_auc);
            }
        });
    });
    let body = move || {
        let done = ctx.run.with(|s| s.done.clone())?;
        let evaluated = ctx.run.with(|s| s.evaluated.clone());
        let started = ctx.run.with(|s| s.request.as_ref().and_then(start_note)).filter(|_| evaluated.is_none());
        let [[tn, fp], [fneg, tp]] = done.confusion;
        let origin = match &evaluated {
            Some(name) => format!(" (imported checkpoint {name}, validation AUC {:.3})", done.val_auc),
            None => format!(" (model of epoch {}, validation AUC {:.3})", done.best_epoch, done.val_auc),
        };
        Some(view! {
            <p class="test-metrics" data-testid="test-metrics" data-worker-memory=done.worker_memory
                data-page-memory=crate::runtime::wasm_memory_bytes()>
                {format!("Test AUC {:.3} · ACC {:.3}", done.test_auc, done.test_acc)}
                <span class="muted">{origin}</span>
            </p>
            {done.certainty.as_ref().map(|c| {
                let (interval, subset) = certainty_lines(c);
                view! {
                    <p class="muted certainty" data-testid="test-certainty">{interval}</p>
                    <p class="certainty" data-testid="dedup-metrics">{subset}</p>
                }
            })}
            {done.model.as_ref().map(|m| view! {
                <p class="muted model-note" data-testid="model-note" data-stem=m.stem.name()>{model_note(m)}</p>
            })}
            {started.map(|note| view! { <p class="muted start-note" data-testid="start-note">{note}</p> })}
            {done.conv.as_ref().map(|c| view! {
                <p class="muted conv-note" data-testid="conv-note" data-algo=c.algo.name()>{conv_note(c)}</p>
            })}
            <table class="confusion">
                <caption>"Confusion matrix on the 156 test images (threshold 0.5)"</caption>
                <thead><tr><th></th><th scope="col">"predicted malignant"</th><th scope="col">"predicted benign"</th></tr></thead>
                <tbody>
                    <tr><th scope="row">"malignant"</th><td>{tn}</td><td>{fp}</td></tr>
                    <tr><th scope="row">"normal/benign"</th><td>{fneg}</td><td>{tp}</td></tr>
                </tbody>
            </table>
        })
    };
    let exports = move || {
        ctx.exports.get().map(|Exports { metrics, checkpoint, weights, results }| view! {
            <p class="exports">
                {(!metrics.is_empty()).then(|| view! {
                    <a class="button" href=metrics download="metrics.json" data-testid="export-metrics">"Download metrics JSON"</a>
                })}
                {checkpoint.map(|(name, href)| view! {
                    <a class="button" href=href download=name data-testid="export-checkpoint">"Download checkpoint"</a>
                })}
                {weights.map(|(name, href)| view! {
                    <a class="button" href=href download=name data-testid="export-weights"
                        title="The same weights as a PyTorch state_dict (the names of MedMNIST's module, or torchvision's for its stem): load_state_dict in PyTorch">
                        "PyTorch weights (.safetensors)"
                    </a>
                })}
                {results.into_iter().map(|(split, name, href)| view! {
                    <a class="button" href=href download=name.clone() data-testid="export-result" data-split=split.key()
                        title=format!("{name}: MedMNIST's standard result file, scored by its Evaluator")>
                        {format!("{} scores (MedMNIST CSV)", split.key())}
                    </a>
                }).collect::<Vec<_>>()}
            </p>
        })
    };
    view! {
        <div class="results">
            {body}
            <figure class="roc" class:hidden=move || ctx.run.with(|s| s.done.is_none())>
                <canvas node_ref=roc width="360" height="300" data-testid="roc-chart"
                    data-points=move || ctx.run.with(|s| s.done.as_ref().map_or(0, |d| d.roc.len())).to_string()
                    role="img" aria-label="ROC curve of the kept model on the test split"></canvas>
                <figcaption>"ROC on the test split: every threshold at once; the area under it is the AUC."</figcaption>
            </figure>
            {exports}
        </div>
    }
}

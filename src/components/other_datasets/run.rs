//! The run on the picked set: the reader recipe with `c8` or `c16`, live validation curves,
//! then MedMNIST's AUC and ACC, each class's AUC, the confusion and the downloads.

use breastmnist_protocol::{ModelKind, TaskConfusion, TaskView};
use leptos::html::Canvas;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::charts::methods::draw_curves;
use crate::state::beyond::BeyondCtx;
use crate::view::beyond::{MODELS, class_name, confusion_rows};

fn results(t: &TaskView) -> impl IntoView + use<> {
    let auc_rows = t
        .per_class_auc
        .iter()
        .enumerate()
        .map(|(i, auc)| {
            let name = t.labels.get(i).cloned().unwrap_or_default();
            view! { <tr data-testid="other-class-auc"><th scope="row">{class_name(i, &name)}</th><td>{format!("{auc:.3}")}</td></tr> }
        })
        .collect::<Vec<_>>();
    let confusion = match confusion_rows(t) {
        Some(rows) => {
            let head = (0..rows.len()).map(|j| view! { <th scope="col">{j.to_string()}</th> }).collect::<Vec<_>>();
            let body = rows
                .into_iter()
                .enumerate()
                .map(|(i, row)| {
                    let cells = row
                        .into_iter()
                        .map(|c| {
                            let shade = format!("background: rgba(0, 114, 178, {:.2})", 0.08 + 0.6 * c.share);
                            view! { <td style=shade title=format!("{:.0}% of class {i}", 100.0 * c.share)>{c.count}</td> }
                        })
                        .collect::<Vec<_>>();
                    view! { <tr data-testid="other-confusion-row"><th scope="row">{i.to_string()}</th>{cells}</tr> }
                })
                .collect::<Vec<_>>();
            view! {
                <table class="confusion" data-testid="other-confusion">
                    <caption>"Test confusion: rows are the true class, columns the predicted one (argmax, ties to the first)."</caption>
                    <thead><tr><th></th>{head}</tr></thead>
                    <tbody>{body}</tbody>
                </table>
            }
            .into_any()
        }
        None => {
            let TaskConfusion::PerLabel(m) = &t.confusion else { unreachable!("confusion_rows is None only per label") };
            let rows = m
                .iter()
                .enumerate()
                .map(|(i, [[tn, fp], [fneg, tp]])| {
                    view! { <tr data-testid="other-confusion-row"><th scope="row">{t.labels.get(i).cloned().unwrap_or_default()}</th><td>{*tn}</td><td>{*fp}</td><td>{*fneg}</td><td>{*tp}</td></tr> }
                })
                .collect::<Vec<_>>();
            view! {
                <table class="confusion" data-testid="other-confusion">
                    <caption>"Test confusion per label at 0.5: true negatives, false positives, false negatives, true positives."</caption>
                    <thead><tr><th></th><th scope="col">"TN"</th><th scope="col">"FP"</th><th scope="col">"FN"</th><th scope="col">"TP"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            }
            .into_any()
        }
    };
    view! {
        <p class="metrics" data-testid="other-metrics">
            {format!("Test AUC {:.3}, ACC {:.3} (validation AUC {:.3}, ACC {:.3}): MedMNIST's Evaluator's figures for the task, {}.",
                t.test_auc, t.test_acc, t.val_auc, t.val_acc, t.task)}
        </p>
        <p class="muted certainty" data-testid="other-interval">
            {match t.auc_ci {
                Some((lo, hi)) if t.resamples == 0 => format!("95% interval of the test AUC: {lo:.3}–{hi:.3} (DeLong). One run is one seed: compare runs by their intervals, not their third decimal."),
                Some((lo, hi)) => format!("95% interval of the test AUC: {lo:.3}–{hi:.3} (bootstrap over the test images, {} resamples{}). One run is one seed: compare runs by their intervals, not their third decimal.",
                    t.resamples, if t.task == breastmnist_protocol::Task::MultiLabel { "" } else { ", within each class" }),
                None => "No interval could be computed on this test split.".to_string(),
            }}
        </p>
        <div class="other-results">
            <table class="benchmark" data-testid="other-per-class">
                <caption>"One-vs-rest test AUC of each class; MedMNIST's AUC is their mean (for two classes, the last column's)."</caption>
                <thead><tr><th scope="col">"Class"</th><th scope="col">"Test AUC"</th></tr></thead>
                <tbody>{auc_rows}</tbody>
            </table>
            <div class="table-scroll">{confusion}</div>
        </div>
    }
}

#[component]
pub fn Run() -> impl IntoView {
    let ctx = expect_context::<BeyondCtx>();
    let busy = move || ctx.run.with(|r| r.is_running());
    let ready = move || ctx.loaded.with(Option::is_some);
    let curves = NodeRef::<Canvas>::new();
    Effect::new(move |_| {
        ctx.run.with(|run| {
            if let Some(c) = curves.get()
                && !run.history.is_empty()
            {
                let _ = draw_curves(c.unchecked_into(), &run.curves(), run.epochs);
            }
        });
    });
    let downloads = move || {
        ctx.downloads
            .get()
            .into_iter()
            .map(|d| view! { <a class="button" href=d.url download=d.name.clone() data-testid="other-download" title=d.name>{d.what}</a> })
            .collect::<Vec<_>>()
    };
    view! {
        <Show when=ready>
            <div class="train-form">
                <label class="field">"Model"
                    <select data-testid="other-model" disabled=busy prop:value=move || ctx.model.get().name()
                        on:change=move |ev| { if let Some(m) = ModelKind::parse(&event_target_value(&ev)) { ctx.model.set(m); } }>
                        {MODELS.into_iter().map(|m| view! { <option value=m.name()>{m.name()}</option> }).collect::<Vec<_>>()}
                    </select>
                </label>
                <label class="field">"Epochs"
                    <input type="number" min="1" max="20" data-testid="other-epochs" disabled=busy
                        prop:value=move || ctx.epochs.get().to_string()
                        on:change=move |ev| { if let Ok(e) = event_target_value(&ev).parse::<usize>() { ctx.epochs.set(e.clamp(1, 20)); } } />
                </label>
                <div class="buttons">
                    <button type="button" class="primary" data-testid="other-start" disabled=busy on:click=move |_| ctx.start()>"Train"</button>
                    <button type="button" data-testid="other-stop" disabled=move || !busy() on:click=move |_| ctx.stop()>"Stop"</button>
                </div>
            </div>
            <p class="muted" data-testid="other-run-status" role="status">{move || ctx.run.with(|r| r.describe())}</p>
            <figure class:hidden=move || ctx.run.with(|r| r.history.is_empty())>
                <canvas node_ref=curves width="560" height="280" data-testid="other-curves"
                    data-points=move || ctx.run.with(|r| r.history.len()).to_string()
                    role="img" aria-label="Validation AUC and accuracy per epoch"></canvas>
                <figcaption>"Validation AUC and ACC per epoch (the recipe keeps the last epoch: no selection by these curves)."</figcaption>
            </figure>
            {move || ctx.run.with(|r| r.task().map(results))}
            <p class="exports">{downloads}</p>
        </Show>
    }
}

//! The live training curves: loss per step and per epoch, validation AUC and accuracy per
//! epoch; series toggles and a readout of the epoch under the pointer.

use leptos::html::Canvas;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::charts::curves;
use crate::state::train::TrainCtx;
use crate::view::chart::{Series, epoch_at, nearest_epoch};
use crate::view::run::RunPhase;

/// Where the pointer is over a chart, in canvas pixels, and the canvas's width in pixels.
fn canvas_x(ev: &web_sys::MouseEvent) -> Option<(f64, f64)> {
    let el: web_sys::HtmlCanvasElement = ev.target()?.dyn_into().ok()?;
    let rect = el.get_bounding_client_rect();
    let width = el.width() as f64;
    (rect.width() > 0.0).then(|| ((ev.client_x() as f64 - rect.left()) / rect.width() * width, width))
}

#[component]
pub fn Curves() -> impl IntoView {
    let state = expect_context::<TrainCtx>().run;
    let loss = NodeRef::<Canvas>::new();
    let metric = NodeRef::<Canvas>::new();
    let loss_series = RwSignal::new(Series::default());
    let metric_series = RwSignal::new(Series::default());
    // The epoch under the pointer (either chart), else none: the readouts show the latest.
    let hover = RwSignal::new(None::<usize>);
    Effect::new(move |_| {
        let (ls, ms, h) = (loss_series.get(), metric_series.get(), hover.get());
        state.with(|s| {
            let epochs = s.epochs_total();
            if let Some(c) = loss.get() {
                let _ = curves::draw_loss(c.unchecked_into(), &s.step_losses, &s.history, epochs, ls, h);
            }
            if let Some(c) = metric.get() {
                let _ = curves::draw_metrics(c.unchecked_into(), &s.history, epochs, ms, h);
            }
        });
    });
    let on_move = move |ev: web_sys::MouseEvent| {
        let Some((x, width)) = canvas_x(&ev) else { return };
        let epoch = state.with_untracked(|s| nearest_epoch(&s.history, epoch_at(x, s.epochs_total(), width)).map(|e| e.epoch));
        if hover.get_untracked() != epoch {
            hover.set(epoch);
        }
    };
    let shown = move || {
        state.with(|s| {
            let e = match hover.get() {
                Some(n) => s.history.iter().find(|h| h.epoch == n),
                None => s.history.last(),
            };
            e.cloned()
        })
    };
    let loss_readout = move || {
        shown()
            .map(|e| format!("epoch {}: train loss {:.4} · val loss {:.4} · lr {:.0e}", e.epoch, e.train_loss, e.val_loss, e.lr))
    };
    let metric_readout = move || {
        shown().map(|e| {
            format!(
                "epoch {}: val AUC {:.4} · val ACC {:.4}{}",
                e.epoch,
                e.val_auc,
                e.val_acc,
                if e.is_best { " · kept so far" } else { "" }
            )
        })
    };
    let toggle = move |sig: RwSignal<Series>,
                       label: &'static str,
                       id: &'static str,
                       get: fn(&Series) -> bool,
                       set: fn(&mut Series, bool)| {
        view! {
            <label class="field check series-toggle">
                <input type="checkbox" data-testid=id prop:checked=move || sig.with(get)
                    on:change=move |ev| { let on = event_target_checked(&ev); sig.update(|s| set(s, on)); } />
                {label}
            </label>
        }
    };
    view! {
        <Show when=move || state.with(|s| s.phase != RunPhase::Idle && s.evaluated.is_none())>
            <div class="curves">
                <figure>
                    <canvas node_ref=loss width="560" height="260" data-testid="loss-chart"
                        data-epochs=move || state.with(|s| s.history.len()).to_string()
                        data-steps=move || state.with(|s| s.step_losses.len()).to_string()
                        on:mousemove=on_move on:mouseleave=move |_| hover.set(None)
                        role="img" aria-label="Loss per step and per epoch, training and validation"></canvas>
                    <p class="chart-readout" data-testid="loss-readout" aria-live="polite">{loss_readout}</p>
                    <figcaption>
                        "Loss: every step (grey), and per epoch for training and validation. Point at the chart for exact values. "
                        {toggle(loss_series, " steps", "series-steps", |s| s.steps, |s, v| s.steps = v)}
                        {toggle(loss_series, " train", "series-train", |s| s.train, |s, v| s.train = v)}
                        {toggle(loss_series, " val", "series-val", |s| s.val, |s, v| s.val = v)}
                    </figcaption>
                </figure>
                <figure>
                    <canvas node_ref=metric width="560" height="260" data-testid="metric-chart"
                        data-epochs=move || state.with(|s| s.history.len()).to_string()
                        on:mousemove=on_move on:mouseleave=move |_| hover.set(None)
                        role="img" aria-label="Validation AUC and accuracy per epoch"></canvas>
                    <p class="chart-readout" data-testid="metric-readout" aria-live="polite">{metric_readout}</p>
                    <figcaption>
                        "Validation AUC and accuracy per epoch; the ring marks the epoch that is kept. "
                        {toggle(metric_series, " AUC", "series-auc", |s| s.train, |s, v| s.train = v)}
                        {toggle(metric_series, " ACC", "series-acc", |s| s.val, |s, v| s.val = v)}
                    </figcaption>
                </figure>
            </div>
        </Show>
    }
}

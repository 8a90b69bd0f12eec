//! The run's status: the backend badge (with why it is not the one asked for), progress with
//! ETA, errors with a hint for their kind, and a notice when progress cannot be stored.

use leptos::prelude::*;

use crate::state::train::TrainCtx;
use crate::view::run::{RunPhase, hint};

fn now_ms() -> f64 {
    js_sys::Date::now()
}

#[component]
pub fn Status() -> impl IntoView {
    let ctx = expect_context::<TrainCtx>();
    let state = ctx.run;
    let badge = move || {
        state.with(|s| {
            s.backend.as_ref().map(|b| {
                let label = b.kind.label();
                let notice = b.notice.clone();
                view! {
                    <p class="badge-row">
                        <span class="badge" data-testid="backend-badge" data-kind=b.kind.name()>
                            {format!("{label} · {}", b.adapter)}
                        </span>
                    </p>
                    {notice.map(|n| view! { <p class="notice" role="status">{n}</p> })}
                }
            })
        })
    };
    let progress_text = move || {
        state.with(|s| {
            let eta = s.eta_seconds(now_ms()).map(|e| format!(" · about {} left", format_duration(e))).unwrap_or_default();
            match &s.phase {
                RunPhase::Idle => String::new(),
                RunPhase::Starting => {
                    s.evaluation_progress().unwrap_or_else(|| "Loading the trainer and choosing a backend…".into())
                }
                RunPhase::Done => match &s.evaluated {
                    Some(name) => format!("Evaluated {name}"),
                    None => format!("Done: {} epoch{}", s.epochs_total(), if s.epochs_total() == 1 { "" } else { "s" }),
                },
                RunPhase::Interrupted => format!("Interrupted after epoch {} of {}", s.epoch, s.epochs_total()),
                RunPhase::Stopped => format!("Stopped at epoch {} of {}", s.epoch, s.epochs_total()),
                RunPhase::Failed(_) => format!("Stopped at epoch {}, step {}", s.epoch, s.step),
                RunPhase::Training | RunPhase::Paused => {
                    let paused = if s.phase == RunPhase::Paused { " (paused)" } else { "" };
                    let evaluating = s.eval_note();
                    format!(
                        "Epoch {} of {} · step {} of {}{evaluating}{eta}{paused}",
                        s.epoch,
                        s.epochs_total(),
                        s.step,
                        s.steps_per_epoch
                    )
                }
            }
        })
    };
    view! {
        {badge}
        <Show when=move || state.with(|s| s.phase != RunPhase::Idle)>
            <div class="progress" data-testid="train-progress" data-fraction=move || format!("{:.4}", state.with(|s| s.fraction()))
                data-step-ms=move || state.with(|s| s.step_millis.iter().map(|m| format!("{m:.0}")).collect::<Vec<_>>().join(","))>
                <progress max="1" prop:value=move || state.with(|s| s.fraction()) aria-label="Training progress"></progress>
                <span>{progress_text}</span>
            </div>
        </Show>
        {move || state.with(|s| match &s.phase {
            RunPhase::Failed(e) => {
                let tip = hint(e.kind, s.backend.as_ref().map(|b| b.kind));
                Some(view! {
                    <p class="error" role="alert" data-testid="error" data-kind=e.kind.name()>
                        {format!("Training stopped: {}", e.message)}
                    </p>
                    <p class="hint" data-testid="error-hint">{tip}</p>
                })
            }
            _ => None,
        })}
        {move || ctx.storage_error.get().map(|why| view! {
            <p class="notice" role="status" data-testid="storage-notice">
                {format!("Progress not saved in this browser: {why}. The run goes on; export its checkpoint when it ends.")}
            </p>
        })}
    }
}

fn format_duration(seconds: f64) -> String {
    let s = seconds.round() as u64;
    if s >= 60 { format!("{} min {:02} s", s / 60, s % 60) } else { format!("{s} s") }
}

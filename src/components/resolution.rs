//! The resolution experiment: native 28 px, native 64 px and 28 px upsampled to 64, trained one
//! after another with the same model, recipe and seed, each in a fresh trainer worker; a row
//! per arm with its test AUC and ACC.

use breastmnist_protocol::ModelKind;
use leptos::prelude::*;

use crate::state::resolution::ResolutionCtx;
use crate::view::resolution::{ARMS, ArmState};

#[component]
pub fn ResolutionExperiment() -> impl IntoView {
    let ctx = expect_context::<ResolutionCtx>();
    let start = move |_| ctx.start();
    let stop = move |_| ctx.stop();
    let row = move |i: usize| {
        let arm = ARMS[i];
        let state = move || ctx.arms.with(|a| a[i].clone());
        let cell =
            move |f: fn(&ArmState) -> Option<f64>| move || f(&state()).map(|v| format!("{v:.3}")).unwrap_or_else(|| "–".into());
        view! {
            <tr data-testid="resolution-row" data-arm=arm.key data-done=move || matches!(state(), ArmState::Done { .. }).to_string()>
                <th scope="row">{arm.label}</th>
                <td>{cell(|s| match s { ArmState::Done { auc, .. } => Some(*auc), _ => None })}</td>
                <td>{cell(|s| match s { ArmState::Done { acc, .. } => Some(*acc), _ => None })}</td>
                <td>{cell(|s| match s { ArmState::Done { val_auc, .. } => Some(*val_auc), _ => None })}</td>
                <td class="muted">{move || match state() {
                    ArmState::Done { auc_ci: Some((lo, hi)), .. } => format!("{lo:.3}–{hi:.3}"),
                    _ => "–".to_string(),
                }}</td>
                <td class="status-cell">{move || state().describe()}</td>
            </tr>
        }
    };
    view! {
        <div class="card resolution-card">
            <div class="train-form">
                <label class="field">"Model"
                    <select data-testid="resolution-model" prop:value=move || ctx.model.get().name() disabled=move || ctx.running.get()
                        on:change=move |ev| { if let Some(m) = ModelKind::parse(&event_target_value(&ev)) { ctx.model.set(m); } }>
                        {ModelKind::ALL.into_iter().map(|m| view! { <option value=m.name()>{m.name()}</option> }).collect::<Vec<_>>()}
                    </select>
                </label>
                <label class="field">"Epochs per arm"
                    <input type="number" min="1" max="100" data-testid="resolution-epochs" disabled=move || ctx.running.get()
                        prop:value=move || ctx.epochs.get().to_string()
                        on:change=move |ev| { if let Ok(e) = event_target_value(&ev).parse::<usize>() { ctx.epochs.set(e.clamp(1, 100)); } } />
                </label>
                <div class="buttons">
                    <button type="button" class="primary" data-testid="resolution-run" disabled=move || ctx.running.get() on:click=start>
                        "Run the comparison"
                    </button>
                    <button type="button" data-testid="resolution-stop" disabled=move || !ctx.running.get() on:click=stop>"Stop"</button>
                </div>
            </div>
            <table class="benchmark resolution-table">
                <caption>"Same model, recipe (Adam 0.001, batch 32) and seed; test metrics of the epoch with the best validation AUC."</caption>
                <thead><tr><th scope="col">"Input"</th><th scope="col">"Test AUC"</th><th scope="col">"Test ACC"</th><th scope="col">"Val AUC"</th><th scope="col">"Test AUC, 95% interval"</th><th scope="col">"Status"</th></tr></thead>
                <tbody>{(0..3).map(row).collect::<Vec<_>>()}</tbody>
            </table>
        </div>
    }
}

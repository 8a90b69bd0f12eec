//! The methods lab: pick methods, run them one after another on the same model, budget and
//! seed in this tab, and compare them — overlaid validation curves, a results table, bars of
//! test AUC and ACC beside the paper's rows — and the native 3-seed table of every method.
//!
//! Everything it shows comes from [`MethodsCtx`]; it only draws and calls its methods.

mod native;
mod pretext;
mod results;

use native::NativeTable;
use pretext::Pretext;
use results::Results;

use breastmnist_protocol::ModelKind;
use leptos::prelude::*;

use crate::state::methods::MethodsCtx;
use crate::view::methods::{MODELS, TAB_METHODS, about, label};

#[component]
pub fn MethodsLab() -> impl IntoView {
    let ctx = expect_context::<MethodsCtx>();
    let running = move || ctx.running.get();
    let pick = move |m: breastmnist_protocol::Method| {
        view! {
            <label class="field check method-pick" title=about(m)>
                <input type="checkbox" data-testid=format!("methods-pick-{}", m.name()) disabled=running
                    prop:checked=move || ctx.picked.with(|p| p.contains(&m))
                    on:change=move |ev| ctx.toggle(m, event_target_checked(&ev)) />
                " " {label(m)}
            </label>
        }
    };
    view! {
        <div class="card methods-card" data-testid="methods-lab">
            <fieldset class="method-picks">
                <legend>"Methods to compare"</legend>
                {TAB_METHODS.into_iter().map(pick).collect::<Vec<_>>()}
            </fieldset>
            <div class="train-form">
                <label class="field">"Model"
                    <select data-testid="methods-model" disabled=running
                        prop:value=move || ctx.settings.with(|s| s.model.name())
                        on:change=move |ev| {
                            if let Some(m) = ModelKind::parse(&event_target_value(&ev)) { ctx.settings.update(|s| s.model = m); }
                        }>
                        {MODELS.into_iter().map(|m| view! { <option value=m.name()>{m.name()}</option> }).collect::<Vec<_>>()}
                    </select>
                </label>
                <label class="field">"Epochs each"
                    <input type="number" min="1" max="100" data-testid="methods-epochs" disabled=running
                        prop:value=move || ctx.settings.with(|s| s.epochs.to_string())
                        on:change=move |ev| {
                            if let Ok(e) = event_target_value(&ev).parse::<usize>() { ctx.settings.update(|s| s.epochs = e.clamp(1, 100)); }
                        } />
                </label>
                <label class="field">"Seed"
                    <input type="number" min="0" data-testid="methods-seed" disabled=running
                        prop:value=move || ctx.settings.with(|s| s.seed.to_string())
                        on:change=move |ev| {
                            if let Ok(v) = event_target_value(&ev).parse::<u64>() { ctx.settings.update(|s| s.seed = v); }
                        } />
                </label>
                <div class="buttons">
                    <button type="button" class="primary" data-testid="methods-run"
                        disabled=move || running() || ctx.picked.with(Vec::is_empty) on:click=move |_| ctx.start()>
                        "Run side by side"
                    </button>
                    <button type="button" data-testid="methods-stop" disabled=move || !running() on:click=move |_| ctx.stop()>"Stop"</button>
                </div>
            </div>
            <p class="hint">
                "Each method trains in turn, in a fresh background worker, on the same model, number of epochs and "
                "seed; the pretrained starting points (0.3 MB for c8, 1.2 MB for c16) come from this site and are checked by MD5 first."
            </p>
            <Pretext />
            <Results />
            <NativeTable />
        </div>
    }
}

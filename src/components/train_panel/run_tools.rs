//! Run tools: import a checkpoint (evaluate it, explore it, fine-tune it), continue an
//! interrupted run from its snapshot, or discard a stored one.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::state::train::TrainCtx;

/// Import a checkpoint (evaluate it, explore it, fine-tune it); continue or discard a stored run.
#[component]
pub fn RunTools() -> impl IntoView {
    let ctx = expect_context::<TrainCtx>();
    let draft = ctx.draft;
    let state = ctx.run;
    let active = Memo::new(move |_| state.with(|s| s.phase.is_active()));
    let on_file = move |ev: web_sys::Event| {
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
        let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
        input.set_value("");
        ctx.import_file(file);
    };
    let banner = move || {
        let s = state.get();
        let restored = ctx.restored.get();
        let total = s.epochs_total();
        let model = s.request.as_ref().map_or("", |r| r.model.name());
        if s.phase.is_active() {
            return None;
        }
        if restored && ctx.stored_elsewhere.get() {
            let epoch = s.snapshot_epoch.unwrap_or(0);
            return Some(
                view! {
                    <p class="notice restored" data-testid="run-restored" role="status">
                        {format!("Another tab of this page is training this run now: {model}, {epoch} of {total} epochs stored so far.")}
                    </p>
                }
                .into_any(),
            );
        }
        if s.can_continue() {
            let epoch = s.snapshot_epoch.unwrap_or(0);
            let text = if restored {
                format!("Restored from your last visit: {model}, {epoch} of {total} epochs done.")
            } else {
                format!("The run can continue from its snapshot after epoch {epoch} of {total}, on the backend chosen above.")
            };
            return Some(
                view! {
                    <p class="notice restored" data-testid="run-restored" role="status">{text}" "
                        <button type="button" class="primary" data-testid="train-resume" on:click=move |_| ctx.continue_run()>
                            {format!("Continue from epoch {}", epoch + 1)}
                        </button>" "
                        <button type="button" data-testid="train-discard" on:click=move |_| ctx.discard()>"Discard"</button>
                    </p>
                }
                .into_any(),
            );
        }
        (restored && s.done.is_some()).then(|| {
            view! {
                <p class="notice restored" data-testid="run-restored" role="status">
                    {format!("Restored from your last visit: the results of a {model} run.")}" "
                    <button type="button" data-testid="explore-restored" on:click=move |_| ctx.explore_restored()>
                        "Open its model in the explorer"
                    </button>" "
                    <button type="button" data-testid="train-discard" on:click=move |_| ctx.discard()>"Discard"</button>
                </p>
            }
            .into_any()
        })
    };
    let tabs = move || {
        if ctx.other_tab.get() {
            return Some(
                view! {
                    <p class="notice" data-testid="other-tab" role="alert">
                        "A run of this page is in progress in another tab; starting here would stop it there. "
                        <button type="button" class="primary" data-testid="take-over" on:click=move |_| ctx.take_over()>
                            "Take over here"
                        </button>" "
                        <button type="button" data-testid="take-over-cancel" on:click=move |_| ctx.stay_out()>"Leave it"</button>
                    </p>
                }
                .into_any(),
            );
        }
        if let Some(why) = ctx.unreadable_snapshot.get() {
            return Some(
                view! {
                    <p class="notice" data-testid="snapshot-unreadable" role="alert">
                        {format!("The stored snapshot cannot be continued: {why}. ")}
                        <button type="button" data-testid="train-discard" on:click=move |_| ctx.discard()>"Discard it"</button>
                    </p>
                }
                .into_any(),
            );
        }
        ctx.taken_over.get().then(|| {
            view! {
                <p class="notice" data-testid="taken-over" role="status">
                    "Another tab took the run over: training here stopped, and this tab no longer stores progress. "
                    "Its results so far stay on this page until you start again."
                </p>
            }
            .into_any()
        })
    };
    view! {
        {tabs}
        {banner}
        <div class="import-row">
            <label class="button file-button" title="Our .ckpt, or a PyTorch state_dict of a MedMNIST ResNet as .safetensors or .pt">"Import a model (.ckpt, .safetensors, .pt)…"
                <input type="file" accept=".ckpt,.safetensors,.pt,.pth,application/octet-stream" data-testid="import-checkpoint"
                    disabled=move || active.get() on:change=on_file />
            </label>
            {move || ctx.imported.get().map(|name| view! {
                <span class="muted" data-testid="imported-name">{format!("{name} · ")}</span>
                <label class="field check">
                    <input type="checkbox" data-testid="train-finetune" prop:checked=move || draft.with(|d| d.fine_tune)
                        disabled=move || active.get()
                        on:change=move |ev| { let on = event_target_checked(&ev); draft.update(|d| d.fine_tune = on); } />
                    " Start fine-tunes it"
                </label>
                <label class="field check">
                    <input type="checkbox" data-testid="train-freeze" prop:checked=move || draft.with(|d| d.freeze_backbone)
                        disabled=move || active.get() || !draft.with(|d| d.fine_tune)
                        on:change=move |ev| { let on = event_target_checked(&ev); draft.update(|d| d.freeze_backbone = on); } />
                    " only layer4 and the head"
                </label>
            })}
        </div>
    }
}

//! The train panel: the form (settings from a preset, the URL or the reader), Start, Pause and
//! Stop; beside it the run tools (import, continue, discard), the status line, the live curves
//! and the results with their exports, one file each.
//!
//! Everything it shows comes from [`TrainCtx`]; it only draws and calls its methods.

mod curves;
mod results;
mod run_tools;
mod status;

use breastmnist_protocol::{Augment, BackendChoice, ModelKind, Preset, Selection, StartingPoint, Stem};
use leptos::prelude::*;

use crate::state::data::DataCtx;
use crate::state::train::TrainCtx;
use crate::view::draft::{Draft, PROTOTYPES};
use crate::view::run::RunPhase;
use crate::view::served::start_label;
use curves::Curves;
use results::Results;
use run_tools::RunTools;
use status::Status;

#[component]
pub fn TrainPanel() -> impl IntoView {
    let data = expect_context::<DataCtx>();
    let ctx = expect_context::<TrainCtx>();
    let draft = ctx.draft;
    let run = ctx.run;
    let active = Memo::new(move |_| run.with(|s| s.phase.is_active()));

    let text_field = move |label: &'static str, id: &'static str, get: fn(&Draft) -> String, set: fn(&mut Draft, String)| {
        view! {
            <label class="field">{label}
                <input type="text" inputmode="decimal" name=id data-testid=format!("train-{id}")
                    prop:value=move || draft.with(get) disabled=move || active.get()
                    on:change=move |ev| { let v = event_target_value(&ev); draft.update(|d| set(d, v)); } />
            </label>
        }
    };

    view! {
        <div class="card train-card" aria-labelledby="train-h">
            <form class="train-form" on:submit=move |ev| { ev.prevent_default(); ctx.start(); }>
                <label class="field">"Recipe"
                    <select data-testid="train-preset" disabled=move || active.get()
                        prop:value=move || draft.with(|d| d.preset().map_or("custom", Preset::name))
                        on:change=move |ev| {
                            if let Some(p) = Preset::parse(&event_target_value(&ev)) { draft.update(|d| d.apply_preset(p)); }
                        }>
                        <option value="reader" title="c16 from fresh weights, 20 epochs, flips, last epoch, flip TTA: about 1.5 min on a CPU">"reader"</option>
                        <option value="best" title="c16, 60 epochs, flips, weight average, flip TTA">"best"</option>
                        <option value="paper" title="ResNet-18, 100 epochs, best validation AUC: MedMNIST's recipe">"paper"</option>
                        <option value="custom" disabled=true>"custom"</option>
                    </select>
                </label>
                <label class="field">"Model"
                    <select data-testid="train-model" prop:value=move || draft.with(|d| d.model.clone()) disabled=move || active.get()
                        on:change=move |ev| { let v = event_target_value(&ev); draft.update(|d| d.set_model(v)); }>
                        {ModelKind::ALL.into_iter().map(|m| view! { <option value=m.name()>{m.name()}</option> }).collect::<Vec<_>>()}
                    </select>
                </label>
                <label class="field" title="Weights to fine-tune, served by this page (pretrained/), or fresh ones; an imported checkpoint that Start fine-tunes wins">"Start from"
                    <select data-testid="train-start-from" disabled=move || active.get() || draft.with(|d| d.fine_tune)
                        prop:value=move || draft.with(|d| d.start.map_or("none", StartingPoint::name))
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            draft.update(|d| d.start = StartingPoint::parse(&v));
                        }>
                        <option value="none">"fresh weights"</option>
                        {StartingPoint::ALL.into_iter().map(|k| {
                            let unserved = move || draft.with(|d| d.point(k).is_none());
                            let (label, title) = start_label(k);
                            view! { <option value=k.name() title=title disabled=unserved>{label}</option> }
                        }).collect::<Vec<_>>()}
                    </select>
                </label>
                <label class="field">"Stem"
                    <select data-testid="train-stem" disabled=move || active.get()
                        prop:value=move || draft.with(|d| d.stem.unwrap_or(Stem::Medmnist).name())
                        on:change=move |ev| {
                            if let Some(s) = Stem::parse(&event_target_value(&ev)) {
                                draft.update(|d| d.stem = (s == Stem::Torchvision).then_some(s));
                            }
                        }>
                        <option value="medmnist" title="A 3x3 convolution at stride 1: MedMNIST's 28 px ResNets">"3x3, MedMNIST 28 px"</option>
                        <option value="torchvision"
                            title="torchvision's 7x7 convolution at stride 2 and max-pool, on the images upsampled to 224 px with nearest neighbours: MedMNIST's 224 px rows (ResNets only; slow on a CPU)">
                            "7x7 + max-pool at 224 px"
                        </option>
                    </select>
                </label>
                <label class="field">"Resolution"
                    <select data-testid="train-res" disabled=move || active.get()
                        prop:value=move || data.variant.get().side().to_string()
                        on:change=move |ev| {
                            if let Some(v) = event_target_value(&ev).parse().ok().and_then(breastmnist_data::Variant::from_side) {
                                data.variant.set(v);
                                data.load();
                            }
                        }>
                        <option value="28">"28 px"</option>
                        <option value="64">"64 px"</option>
                    </select>
                </label>
                <label class="field" title="Upsample the images before the network sees them (bilinear; nearest with torchvision's stem): on this page's CPU trainer Lite0 took 2.7 times as long per image at 128 px as at 64">"Seen at"
                    <select data-testid="train-resize" disabled=move || active.get()
                        prop:value=move || draft.with(|d| d.resize.clone())
                        on:change=move |ev| { let v = event_target_value(&ev); draft.update(|d| d.resize = v); }>
                        <option value="">"as loaded"</option>
                        <option value="64">"64 px"</option>
                        <option value="128">"128 px"</option>
                        // A side from a link that the list lacks (`?resize=96`); Start names a bad one.
                        {move || draft.with(|d| (!["", "64", "128"].contains(&d.resize.as_str())).then(|| d.resize.clone()))
                            .map(|r| view! { <option value=r.clone()>{format!("from the link: {r}")}</option> })}
                    </select>
                </label>
                {text_field("Epochs", "epochs", |d| d.epochs.clone(), |d, v| d.epochs = v)}
                {text_field("Batch", "batch", |d| d.batch.clone(), |d, v| d.batch = v)}
                {text_field("Learning rate", "lr", |d| d.lr.clone(), |d, v| d.lr = v)}
                {text_field("Seed", "seed", |d| d.seed.clone(), |d, v| d.seed = v)}
                {text_field("Subset (first N)", "subset", |d| d.subset.clone(), |d, v| d.subset = v)}
                {text_field("Mixup α", "mixup", |d| d.mixup.clone(), |d, v| d.mixup = v)}
                <label class="field">"Augment"
                    <select data-testid="train-augment" disabled=move || active.get()
                        prop:value=move || draft.with(|d| d.augment.name())
                        on:change=move |ev| { if let Some(a) = Augment::parse(&event_target_value(&ev)) { draft.update(|d| d.augment = a); } }>
                        <option value="none">"none"</option>
                        <option value="flip">"flips"</option>
                        <option value="full">"flips, turns, shifts"</option>
                    </select>
                </label>
                <label class="field">"Keep"
                    <select data-testid="train-selection" disabled=move || active.get()
                        prop:value=move || draft.with(|d| d.selection.name())
                        on:change=move |ev| { if let Some(v) = Selection::parse(&event_target_value(&ev)) { draft.update(|d| d.selection = v); } }>
                        <option value="best-val-auc">"best validation AUC"</option>
                        <option value="last">"last epoch"</option>
                        <option value="ema-last">"weight average, last epoch"</option>
                    </select>
                </label>
                <label class="field check">
                    <input type="checkbox" data-testid="train-tta" prop:checked=move || draft.with(|d| d.tta)
                        disabled=move || active.get()
                        on:change=move |ev| { let on = event_target_checked(&ev); draft.update(|d| d.tta = on); } />
                    " Flip test-time augmentation"
                </label>
                <label class="field check" title="ProtoPNet: classify by similarity to learned parts of training images (c8, c16, c32)">
                    <input type="checkbox" data-testid="train-prototypes" prop:checked=move || draft.with(|d| d.prototypes.is_some())
                        disabled=move || active.get()
                        on:change=move |ev| { let on = event_target_checked(&ev); draft.update(|d| d.prototypes = on.then_some(PROTOTYPES)); } />
                    " Prototype head (\"this looks like that\")"
                </label>
                <label class="field">"Backend"
                    <select data-testid="train-backend" disabled=move || active.get()
                        prop:value=move || draft.with(|d| d.backend.name())
                        on:change=move |ev| { if let Some(b) = BackendChoice::parse(&event_target_value(&ev)) { draft.update(|d| d.backend = b); } }>
                        <option value="auto">"auto (WebGPU if fast)"</option>
                        <option value="webgpu">"WebGPU"</option>
                        <option value="cpu">"CPU"</option>
                    </select>
                </label>
                {move || {
                    let images = data.loaded.with(|l| l.as_ref().map_or(546, |l| l.dataset.train.len()));
                    draft.with(|d| d.start_cost(images)).map(|said| view! { <p class="muted start-cost" data-testid="train-start-cost">{said}</p> })
                }}
                <div class="buttons">
                    <button type="submit" class="primary" data-testid="train-start" disabled=move || active.get()>"Start"</button>
                    <button type="button" data-testid="train-pause"
                        disabled=move || !run.with(|s| matches!(s.phase, RunPhase::Training | RunPhase::Paused))
                        on:click=move |_| ctx.toggle_pause()>
                        {move || if run.with(|s| s.phase == RunPhase::Paused) { "Resume" } else { "Pause" }}
                    </button>
                    <button type="button" data-testid="train-stop" disabled=move || !active.get()
                        on:click=move |_| ctx.stop()>"Stop"</button>
                </div>
            </form>
            <RunTools />
            {move || ctx.form_error.get().map(|e| view! { <p class="error" role="alert" data-testid="error">{e}</p> })}
            <Status />
            <Curves />
            <Results />
        </div>
    }
}

//! The current sample: its image with the Grad-CAM overlay (or side by side), its true label,
//! the predicted probabilities and verdict, and the overlay's settings.

use breastmnist_protocol::{BackendKind, Stage};
use leptos::html::Canvas;
use leptos::prelude::*;

use super::Nav;
use crate::draw::{paint_image, paint_rgba};
use crate::state::data::DataCtx;
use crate::state::explore::ExploreCtx;
use crate::view::explore::{confidence, heat_rgba, predicted, stage_note, stage_options};

/// Which class the heatmap explains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Explain {
    Predicted,
    Class(u8),
}

#[component]
pub fn SampleView(nav: Nav) -> impl IntoView {
    let data = expect_context::<DataCtx>();
    let ctx = expect_context::<ExploreCtx>();
    let view = ctx.view;
    let Nav { split, stage, labels, flip, .. } = nav;
    let opacity = RwSignal::new(0.55f64);
    let overlay = RwSignal::new(true);
    let explain_class = RwSignal::new(Explain::Predicted);
    let explained = Memo::new(move |_| ctx.explained.with(|m| m.get(&(split.get(), stage.get())).cloned()));
    let scores = Memo::new(move |_| {
        ctx.explained.track();
        ctx.scores(split.get())
    });
    let current_label = Memo::new(move |_| {
        let i = view.with(|v| v.index);
        labels.with(|l| l.get(i).copied())
    });
    let current_score = Memo::new(move |_| {
        let i = view.with(|v| v.index);
        scores.with(|s| s.as_ref().and_then(|e| e.info.scores.get(i).copied()))
    });

    // The sample and its heatmap, painted when they change.
    let image = NodeRef::<Canvas>::new();
    let heat = NodeRef::<Canvas>::new();
    Effect::new(move |_| {
        let Some(el) = image.get() else { return };
        let (sp, i) = view.with(|v| (v.split, v.index));
        data.loaded.with(|l| {
            if let Some(l) = l.as_ref().filter(|l| i < l.dataset.split(sp).len()) {
                paint_image(&el, l.dataset.side, l.dataset.channels, l.dataset.image(sp, i));
            }
        });
    });
    let heat_class = Memo::new(move |_| {
        let i = view.with(|v| v.index);
        let s = explained.with(|e| e.as_ref().and_then(|e| e.info.scores.get(i).copied()));
        match (explain_class.get(), s) {
            (Explain::Class(c), _) => Some(c),
            (Explain::Predicted, Some(s)) => Some(predicted(s)),
            (Explain::Predicted, None) => None,
        }
    });
    Effect::new(move |_| {
        let Some(el) = heat.get() else { return };
        let i = view.with(|v| v.index);
        let class = heat_class.get();
        explained.with(|e| match (e, class) {
            (Some(e), Some(c)) => match e.map(i, c as usize) {
                Some(map) => paint_rgba(&el, e.info.side, &heat_rgba(map)),
                None => el.set_width(0),
            },
            _ => el.set_width(0),
        });
    });

    view! {
            <div class="sample" data-testid="sample-view" data-split=move || split.get().key()
                data-index=move || view.with(|v| v.index).to_string()
                data-ready=move || explained.with(Option::is_some).to_string()
                class:flip-a=move || flip.get() class:flip-b=move || !flip.get()>
                <div class="sample-images" class:side-by-side=move || !overlay.get()>
                    <figure class="pane">
                        <canvas node_ref=image class="pixelated" data-testid="sample-image" role="img"
                            aria-label=move || format!("{} image {}", split.get().key(), view.with(|v| v.index))></canvas>
                        <canvas node_ref=heat class="heat" data-testid="gradcam-canvas"
                            style:opacity=move || if overlay.get() { opacity.get().to_string() } else { "1".into() }
                            role="img" aria-label="Grad-CAM heatmap"></canvas>
                    </figure>
                </div>
                <div class="sample-info">
                    <p class="sample-title">{move || format!("{} #{}", split.get().key(), view.with(|v| v.index))}</p>
                    <p data-testid="sample-label" class="sample-label">
                        {move || match current_label.get() {
                            Some(0) => "True label: malignant (0)".to_string(),
                            Some(_) => "True label: normal/benign (1)".to_string(),
                            None => "—".to_string(),
                        }}
                    </p>
                    <div data-testid="sample-prediction" class="prediction"
                        data-score=move || current_score.get().map(|s| format!("{s:.4}")).unwrap_or_default()>
                        {move || match (current_score.get(), current_label.get()) {
                            (Some(s), Some(label)) => {
                                let ok = predicted(s) == label;
                                view! {
                                    <Bar name="malignant" p=1.0 - s />
                                    <Bar name="normal/benign" p=s />
                                    <p class=if ok { "verdict ok" } else { "verdict wrong" } data-correct=ok.to_string()>
                                        {if ok { "✓ correct" } else { "✗ mistake" }}
                                        {format!(" · confidence {:.0} %", confidence(s) * 100.0)}
                                    </p>
                                }.into_any()
                            }
                            _ => view! {
                                <p class="muted">{move || if ctx.ready.get() { "Computing predictions…" } else { "Train a model above to see its predictions and Grad-CAM here." }}</p>
                            }.into_any(),
                        }}
                    </div>
                    <div class="sample-settings">
                        <label class="field inline">"Grad-CAM stage"
                            <select data-testid="gradcam-stage" prop:value=move || stage.get().name()
                                on:change=move |ev| { if let Some(st) = Stage::parse(&event_target_value(&ev)) { view.update(|v| v.stage = st); } }>
                                {move || ctx.model.with(|m| stage_options(m.as_ref())).into_iter().map(|o| view! {
                                    <option value=o.stage.name() disabled=!o.enabled>{o.label}</option>
                                }).collect::<Vec<_>>()}
                            </select>
                        </label>
                        <label class="field inline">"Explain"
                            <select data-testid="gradcam-class"
                                on:change=move |ev| explain_class.set(match event_target_value(&ev).as_str() { "0" => Explain::Class(0), "1" => Explain::Class(1), _ => Explain::Predicted })>
                                <option value="pred">"the predicted class"</option>
                                <option value="0">"malignant"</option>
                                <option value="1">"normal/benign"</option>
                            </select>
                        </label>
                        <label class="field inline">"Opacity"
                            <input type="range" min="0" max="1" step="0.05" data-testid="gradcam-opacity"
                                prop:value=move || opacity.get().to_string()
                                on:input=move |ev| { if let Ok(x) = event_target_value(&ev).parse() { opacity.set(x); } } />
                        </label>
                        <label class="field check">
                            <input type="checkbox" data-testid="gradcam-side-by-side" prop:checked=move || !overlay.get()
                                on:change=move |ev| overlay.set(!event_target_checked(&ev)) />
                            " Side by side"
                        </label>
                    </div>
                    {move || ctx.model.with(|m| stage_note(view.with(|v| v.stage), m.as_ref())).map(|note| view! {
                        <p class="muted small" data-testid="gradcam-stage-note">{note}</p>
                    })}
                    {move || ctx.progress.get().map(|(sp, st, d, t)| view! {
                        <p class="muted" role="status">{format!("Explaining {} at {st}: {d} of {t} images…", sp.key())}</p>
                    })}
                    {move || explained.get().map(|e| view! {
                        <p class="muted small" data-testid="explain-timing">{format!(
                            "Predictions and Grad-CAM (both classes) for the {} {} images: {:.1} s on {}.",
                            e.info.scores.len(), e.info.split.key(), e.info.millis / 1000.0, match e.info.backend { BackendKind::WebGpu => "WebGPU", BackendKind::Cpu => "the CPU" })}</p>
                    })}
                    {move || ctx.error.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
                </div>
            </div>
    }
}

#[component]
fn Bar(name: &'static str, p: f32) -> impl IntoView {
    view! {
        <div class="bar-row">
            <span class="bar-name">{name}</span>
            <span class="bar"><span class="bar-fill" style:transform=format!("scaleX({:.4})", p.clamp(0.0, 1.0))></span></span>
            <span class="bar-value">{format!("{:.1} %", p * 100.0)}</span>
        </div>
    }
}

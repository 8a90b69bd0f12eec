//! Grad-CAM of the run's kept model on a few test images (the first two of each class, or those
//! the reader chose): each image with the map of the class chosen (the predicted one by
//! default) over it, its number, its true and predicted class and that class's probability.

use breastmnist_protocol::Split;
use leptos::html::Canvas;
use leptos::prelude::*;

use crate::draw::paint_rgba;
use crate::state::beyond::{BeyondCtx, Explaining, Explanation};
use crate::view::beyond::{class_name, predicted_class};
use crate::view::explore::heat_rgba;

/// One explained image: position `pos` in the explanation.
fn figure(ctx: BeyondCtx, e: std::sync::Arc<Explanation>, pos: usize, shown: RwSignal<Option<usize>>) -> impl IntoView {
    let index = e.info.indices.as_ref().and_then(|i| i.get(pos).copied()).unwrap_or(pos);
    let probabilities = e.info.probabilities_of(pos).to_vec();
    let predicted = predicted_class(&probabilities);
    let (truth, labels) = ctx.loaded.with_untracked(|l| match l {
        Some(l) => (
            l.dataset.test.labels_of(index).first().map(|&v| v as usize),
            l.flag.entry().labels.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        ),
        None => (None, Vec::new()),
    });
    let name = move |c: usize| class_name(c, labels.get(c).map_or("?", String::as_str));
    let image = super::set_image(ctx, Split::Test, index);
    let heat = NodeRef::<Canvas>::new();
    let maps = e.clone();
    Effect::new(move |_| {
        let Some(canvas) = heat.get() else { return };
        match shown.get().or(predicted).and_then(|c| maps.info.map(&maps.maps, pos, c)) {
            Some(map) => paint_rgba(&canvas, maps.info.side, &heat_rgba(map)),
            None => canvas.set_width(0),
        }
    });
    let correct = truth.is_some() && truth == predicted;
    let caption = format!(
        "#{index} true {} · predicted {} ({:.2}) {}",
        truth.map_or("?".into(), &name),
        predicted.map_or("?".into(), &name),
        predicted.and_then(|c| probabilities.get(c).copied()).unwrap_or(f32::NAN),
        if correct { "✓" } else { "✗" }
    );
    view! {
        <figure class="other-cam" data-testid="other-gradcam" data-index=index.to_string() data-correct=correct.to_string()>
            <div class="pane">
                <canvas node_ref=image class="pixelated" role="img" aria-label=format!("test image {index}")></canvas>
                <canvas node_ref=heat class="heat" data-testid="other-gradcam-map" role="img" aria-label="Grad-CAM heatmap"></canvas>
            </div>
            <figcaption>{caption}</figcaption>
        </figure>
    }
}

#[component]
pub fn GradCam() -> impl IntoView {
    let ctx = expect_context::<BeyondCtx>();
    let shown = ctx.cam_class;
    move || {
        match ctx.explaining.get() {
        Explaining::Waiting => ().into_any(),
        Explaining::Asked => view! { <p class="muted" data-testid="other-gradcam-status" role="status">"Computing Grad-CAM of the chosen test images…"</p> }.into_any(),
        Explaining::Failed(why) => view! { <p class="error" data-testid="other-gradcam-status" role="alert">{format!("Grad-CAM failed: {why}")}</p> }.into_any(),
        Explaining::Done(e) => {
            let n = e.info.indices.as_ref().map_or(0, Vec::len);
            let labels: Vec<String> = ctx.loaded.with_untracked(|l| {
                l.as_ref().map(|l| l.flag.entry().labels.iter().map(|s| s.to_string()).collect()).unwrap_or_default()
            });
            let options = labels
                .iter()
                .enumerate()
                .map(|(c, l)| view! { <option value=c.to_string()>{format!("class {}", class_name(c, l))}</option> })
                .collect::<Vec<_>>();
            let figures = (0..n).map(|pos| figure(ctx, e.clone(), pos, shown)).collect::<Vec<_>>();
            view! {
                <div class="other-gradcam" data-testid="other-gradcam-set">
                    <label class="field">{format!("Grad-CAM ({}) of", e.info.stage)}
                        <select data-testid="other-gradcam-class"
                            prop:value=move || shown.get().map_or("predicted".to_string(), |c| c.to_string())
                            on:change=move |ev| shown.set(event_target_value(&ev).parse::<usize>().ok())>
                            <option value="predicted">"each image's predicted class"</option>
                            {options}
                        </select>
                    </label>
                    <div class="other-cams">{figures}</div>
                    <p class="muted">"Test images: at first the first two of each class; choose others below. Warm colours mark where the evidence for the chosen class lies; a map explains the model, not the disease."</p>
                </div>
            }
            .into_any()
        }
    }
    }
}

//! Pretraining in the tab: the pretext loss per step, the 780 images in the encoder's feature
//! space (two principal components, coloured by class, redrawn after every epoch) and, for the
//! masked task, a few training images as hidden and as rebuilt.

use breastmnist_protocol::{ExtraFile, PretextTask};
use leptos::html::{Canvas, Div};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::charts::methods::{draw_embedding, draw_pretext_loss};
use crate::state::methods::MethodsCtx;
use crate::view::methods::extra_label;

#[component]
pub fn Pretext() -> impl IntoView {
    let ctx = expect_context::<MethodsCtx>();
    let loss = NodeRef::<Canvas>::new();
    let embedding = NodeRef::<Canvas>::new();
    let recon = NodeRef::<Div>::new();
    Effect::new(move |_| {
        ctx.pretext.with(|p| {
            if let Some(c) = loss.get() {
                let _ = draw_pretext_loss(c.unchecked_into(), &p.steps, p.epochs);
            }
            if let (Some(c), Some(v)) = (embedding.get(), &p.view) {
                let _ = draw_embedding(c.unchecked_into(), &v.points, &v.labels);
            }
            if let (Some(div), Some(v)) = (recon.get(), &p.view) {
                div.set_inner_html("");
                let document = web_sys::window().and_then(|w| w.document());
                for (masked, output) in p.reconstructions() {
                    for pixels in [masked, output] {
                        let Some(canvas) = document
                            .as_ref()
                            .and_then(|d| d.create_element("canvas").ok())
                            .and_then(|e| e.dyn_into::<web_sys::HtmlCanvasElement>().ok())
                        else {
                            continue;
                        };
                        canvas.set_width(v.recon_side as u32);
                        canvas.set_height(v.recon_side as u32);
                        crate::draw::paint_image(&canvas, v.recon_side, 1, pixels);
                        let _ = div.append_child(&canvas);
                    }
                }
            }
        });
    });
    let running = move || ctx.pretext.with(|p| p.is_running());
    let started = move || ctx.pretext.with(|p| p.status != crate::view::side_job::JobStatus::Idle);
    view! {
        <details class="pretext" data-testid="pretext" open=started>
            <summary>"Pretrain an encoder in this tab"</summary>
            <p class="hint">
                "Self-supervised, on BreastMNIST's 546 training scans (labels unused; the validation and test scans "
                "are never shown to it) and, if ticked, every image of other MedMNIST files from this site (verified "
                "by MD5), with the model and seed chosen above. When it finishes, the self-supervised "
                "methods of that task start from this encoder instead of the served one (trained on 8,002 images)."
            </p>
            <div class="train-form">
                <label class="field">"Task"
                    <select data-testid="pretext-task" disabled=running
                        prop:value=move || ctx.pretext_task.get().name()
                        on:change=move |ev| {
                            if let Some(t) = PretextTask::parse(&event_target_value(&ev)) { ctx.pretext_task.set(t); }
                        }>
                        <option value="contrastive">"contrastive (SimCLR)"</option>
                        <option value="masked">"masked patches"</option>
                    </select>
                </label>
                <label class="field">"Epochs"
                    <input type="number" min="1" max="100" data-testid="pretext-epochs" disabled=running
                        prop:value=move || ctx.pretext_epochs.get().to_string()
                        on:change=move |ev| {
                            if let Ok(e) = event_target_value(&ev).parse::<usize>() { ctx.pretext_epochs.set(e.clamp(1, 100)); }
                        } />
                </label>
                {ExtraFile::ALL
                    .into_iter()
                    .map(|e| view! {
                        <label class="field check">
                            <input type="checkbox" data-testid=format!("pretext-extra-{}", e.name()) disabled=running
                                prop:checked=move || ctx.pretext_extra.with(|x| x.contains(&e))
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    ctx.pretext_extra.update(|x| { x.retain(|&y| y != e); if on { x.push(e); } });
                                } />
                            " " {extra_label(e)}
                        </label>
                    })
                    .collect::<Vec<_>>()}
                <div class="buttons">
                    <button type="button" data-testid="pretext-run" disabled=running on:click=move |_| ctx.pretrain()>"Pretrain"</button>
                    <button type="button" data-testid="pretext-stop" disabled=move || !running() on:click=move |_| ctx.stop_pretrain()>"Stop"</button>
                </div>
                <label class="field check">
                    <input type="checkbox" data-testid="methods-use-tab-encoder" prop:checked=move || ctx.use_tab_encoder.get()
                        disabled=move || ctx.tab_encoder.get().is_none()
                        on:change=move |ev| ctx.use_tab_encoder.set(event_target_checked(&ev)) />
                    " use this tab's encoder"
                </label>
            </div>
            <p class="status" data-testid="pretext-status" aria-live="polite"
                data-done=move || ctx.tab_encoder.get().is_some().to_string()>
                {move || ctx.pretext.with(|p| p.describe())}
            </p>
            <Show when=started>
                <div class="curves">
                    <figure>
                        <canvas node_ref=loss width="560" height="240" data-testid="pretext-loss"
                            data-points=move || ctx.pretext.with(|p| p.steps.len()).to_string()
                            role="img" aria-label="Pretext loss per step"></canvas>
                        <figcaption>"The pretext loss, every step."</figcaption>
                    </figure>
                    <figure>
                        <canvas node_ref=embedding width="560" height="240" data-testid="pretext-embedding"
                            data-points=move || ctx.pretext.with(|p| p.view.as_ref().map_or(0, |v| v.points.len())).to_string()
                            data-epoch=move || ctx.pretext.with(|p| p.view.as_ref().map_or(0, |v| v.epoch)).to_string()
                            role="img" aria-label="All 780 images in the encoder's feature space, coloured by class"></canvas>
                        <figcaption>
                            "All 780 images on the first two principal components of the encoder's features, redrawn after "
                            "every epoch: malignant in orange, normal/benign in blue. Labels are only used for the colours."
                        </figcaption>
                    </figure>
                </div>
                <figure class="recon">
                    <div node_ref=recon class="recon-grid" data-testid="pretext-recon"
                        data-images=move || ctx.pretext.with(|p| p.reconstructions().len() * 2).to_string()></div>
                    <figcaption>"Masked task: each training scan as the encoder saw it (hidden patches grey), then as the decoder rebuilt it."</figcaption>
                </figure>
            </Show>
        </details>
    }
}

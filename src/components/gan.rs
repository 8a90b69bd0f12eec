//! The GAN in the tab: epochs and seed, Start and Stop, its status line, both losses per step,
//! and after every epoch a grid of generated images per class, each row captioned as synthetic.
//!
//! Everything it shows comes from [`GanCtx`]; it only draws and calls its methods.

use leptos::html::{Canvas, Div};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::charts::gan::draw_gan_loss;
use crate::state::gan::GanCtx;
use crate::view::gan::{EPOCH_NOTE, MAX_EPOCHS, grid_caption, synthetic_caption};
use crate::view::side_job::JobStatus;

/// BreastMNIST's classes, in label order.
const CLASSES: [&str; 2] = ["malignant", "normal/benign"];

#[component]
pub fn GanLab() -> impl IntoView {
    let ctx = expect_context::<GanCtx>();
    let loss = NodeRef::<Canvas>::new();
    let grid = NodeRef::<Div>::new();
    Effect::new(move |_| {
        ctx.run.with(|r| {
            if let Some(c) = loss.get() {
                let _ = draw_gan_loss(c.unchecked_into(), &r.steps, r.epochs);
            }
            let (Some(div), Some(v)) = (grid.get(), &r.view) else { return };
            div.set_inner_html("");
            let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
            for (class, name) in CLASSES.iter().enumerate() {
                let Ok(row) = document.create_element("div") else { continue };
                row.set_class_name("gan-row");
                let _ = row.set_attribute("data-testid", &format!("gan-row-{class}"));
                let caption = synthetic_caption(name, v.epoch);
                let _ = row.set_attribute("title", &caption);
                if let Ok(label) = document.create_element("span") {
                    label.set_class_name("gan-label");
                    label.set_text_content(Some(&format!("synthetic · {name}")));
                    let _ = row.append_child(&label);
                }
                for pixels in r.samples(class) {
                    let Some(canvas) =
                        document.create_element("canvas").ok().and_then(|e| e.dyn_into::<web_sys::HtmlCanvasElement>().ok())
                    else {
                        continue;
                    };
                    canvas.set_width(v.side as u32);
                    canvas.set_height(v.side as u32);
                    let _ = canvas.set_attribute("aria-label", &caption);
                    crate::draw::paint_image(&canvas, v.side, 1, pixels);
                    let _ = row.append_child(&canvas);
                }
                let _ = div.append_child(&row);
            }
        });
    });
    let running = move || ctx.run.with(|r| r.is_running());
    let started = move || ctx.run.with(|r| r.status != JobStatus::Idle);
    view! {
        <div class="gan" data-testid="gan">
            <p class="hint">
                "A class-conditional DCGAN trained here on the training scans only (all 546 unless the link sets "
                "gan_subset; validation and test are never read): " {EPOCH_NOTE} ". After every epoch it shows eight of its images per class, and the Fréchet "
                "distance between the training scans and as many of its images in the features of the SimCLR encoder "
                "this site serves (fetched once, 1.2 MB): lower is closer."
            </p>
            <div class="train-form">
                <label class="field">"Epochs"
                    <input type="number" min="1" max=MAX_EPOCHS.to_string() data-testid="gan-epochs" disabled=running
                        prop:value=move || ctx.settings.with(|s| s.epochs.to_string())
                        on:change=move |ev| {
                            if let Ok(e) = event_target_value(&ev).parse::<usize>() { ctx.settings.update(|s| s.epochs = e.clamp(1, MAX_EPOCHS)); }
                        } />
                </label>
                <label class="field">"Seed"
                    <input type="number" min="0" data-testid="gan-seed" disabled=running
                        prop:value=move || ctx.settings.with(|s| s.seed.to_string())
                        on:change=move |ev| {
                            if let Ok(s) = event_target_value(&ev).parse::<u64>() { ctx.settings.update(|x| x.seed = s); }
                        } />
                </label>
                <div class="buttons">
                    <button type="button" data-testid="gan-run" disabled=running on:click=move |_| ctx.start()>"Train the GAN"</button>
                    <button type="button" data-testid="gan-stop" disabled=move || !running() on:click=move |_| ctx.stop()>"Stop"</button>
                </div>
            </div>
            <p class="status" data-testid="gan-status" aria-live="polite"
                data-done=move || ctx.run.with(|r| matches!(r.status, JobStatus::Done { .. })).to_string()>
                {move || ctx.run.with(|r| r.describe())}
            </p>
            <Show when=started>
                <div class="curves">
                    <figure>
                        <canvas node_ref=loss width="560" height="240" data-testid="gan-loss"
                            data-points=move || ctx.run.with(|r| r.steps.len()).to_string()
                            role="img" aria-label="The discriminator's and the generator's losses per step"></canvas>
                        <figcaption>"Both losses, every step: the discriminator's (blue) and the generator's (green)."</figcaption>
                    </figure>
                    <figure class="gan-samples">
                        <div node_ref=grid class="gan-grid" data-testid="gan-grid"
                            data-epoch=move || ctx.run.with(|r| r.view.as_ref().map_or(0, |v| v.epoch)).to_string()></div>
                        <figcaption data-testid="gan-caption">{move || ctx.run.with(|r| grid_caption(r.view.as_ref()))}</figcaption>
                    </figure>
                </div>
            </Show>
        </div>
    }
}

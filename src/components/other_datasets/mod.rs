//! "Beyond BreastMNIST": pick another MedMNIST 2D set (served by this app, downloaded from
//! Zenodo, or a local file identified by MD5), see its card, train the reader recipe on it, read
//! MedMNIST's figures and Grad-CAM of chosen test images.
//!
//! Everything it shows comes from [`BeyondCtx`]; it only draws and calls its methods.

mod card;
mod chooser;
mod gradcam;
mod run;
mod status;

use breastmnist_data::Split;
use leptos::html::Canvas;

use card::Card;
use chooser::Chooser;
use gradcam::GradCam;
use run::Run;
use status::LoadStatus;

use breastmnist_data::Flag;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::state::beyond::BeyondCtx;
use crate::view::beyond::{flags, summary, too_large};

/// A canvas ref that, once mounted, shows image `index` of `split` of the loaded set (the card's
/// samples, the chooser's thumbnails, the image under a Grad-CAM map).
fn set_image(ctx: BeyondCtx, split: Split, index: usize) -> NodeRef<Canvas> {
    let node = NodeRef::<Canvas>::new();
    Effect::new(move |_| {
        if let Some(canvas) = node.get() {
            ctx.loaded.with_untracked(|l| {
                if let Some(l) = l {
                    let d = &l.dataset;
                    crate::draw::paint_image(&canvas, d.side, d.channels, d.image(split, index));
                }
            });
        }
    });
    node
}

#[component]
pub fn OtherDatasets() -> impl IntoView {
    let ctx = expect_context::<BeyondCtx>();
    let busy = move || ctx.run.with(|r| r.is_running());
    let on_pick = move |ev: leptos::ev::Event| {
        if let Some(flag) = Flag::parse(&event_target_value(&ev)) {
            ctx.pick(flag);
        }
    };
    let on_file = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = ev.target().expect("an input").unchecked_into();
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            ctx.pick_file(file);
        }
        input.set_value("");
    };
    let option = |flag: Flag| {
        let refused = too_large(flag).is_some();
        let text = if refused { format!("{} (too large for a tab)", summary(flag)) } else { summary(flag) };
        view! { <option value=flag.name()>{text}</option> }
    };
    view! {
        <div class="card other-datasets">
            <div class="train-form">
                <label class="field">"Dataset (28 px)"
                    <select data-testid="other-pick" disabled=busy on:change=on_pick
                        prop:value=move || ctx.flag.get().map_or(String::new(), |f| f.name().to_string())>
                        <option value="" disabled=true>"Choose a MedMNIST 2D dataset…"</option>
                        {flags().map(option).collect::<Vec<_>>()}
                    </select>
                </label>
                <label class="field">"…or your copy of an official file"
                    <input type="file" accept=".npz" data-testid="other-file" disabled=busy on:change=on_file />
                </label>
            </div>
            <LoadStatus />
            <Card />
            <Run />
            <GradCam />
            <Chooser />
        </div>
    }
}

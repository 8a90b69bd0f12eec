//! "This looks like that": for a model with a prototype head, the current sample's three
//! strongest prototypes, each as the sample with its similarity over it beside the training
//! image and cell the prototype is, with what it adds to the predicted class.

use leptos::html::Canvas;
use leptos::prelude::*;

use breastmnist_data::Split;

use crate::draw::paint_rgba;
use crate::state::data::DataCtx;
use crate::state::explore::ExploreCtx;
use crate::view::prototypes::{caption, patch_rgba, similarity_rgba, source_caption};

fn class_name(c: usize) -> String {
    match c {
        0 => "malignant".into(),
        1 => "normal/benign".into(),
        c => format!("class {c}"),
    }
}

#[component]
pub fn LooksLike() -> impl IntoView {
    let data = expect_context::<DataCtx>();
    let ctx = expect_context::<ExploreCtx>();
    let why = Memo::new(move |_| {
        let key = ctx.view.with(|v| (v.split, v.index));
        ctx.looks_like.with(|m| m.get(&key).cloned())
    });
    let shown = move || ctx.has_prototypes();
    view! {
        <Show when=shown>
            <div class="looks-like" data-testid="looks-like"
                data-matches=move || why.with(|w| w.as_ref().map_or(0, |w| w.matches.len())).to_string()>
                <h3>"This looks like that"</h3>
                <p class="muted small">"This model classifies with prototypes: parts of training images it learned to \
                    compare with. These three add most to its prediction; each is a cell of a real training image, \
                    marked on the right. Beside Grad-CAM, which says where the model looked, this says what it \
                    compared that region with."</p>
                {move || match (why.get(), data.loaded.get()) {
                    (Some(w), Some(loaded)) => {
                        let d = &loaded.dataset;
                        let (side, channels) = (d.side, d.channels);
                        let image = d.image(w.split, w.index).to_vec();
                        w.matches.iter().enumerate().map(|(k, m)| {
                            let (near, far) = (NodeRef::<Canvas>::new(), NodeRef::<Canvas>::new());
                            let sim = similarity_rgba(&image, channels, side, &m.map, w.map_side, w.cell);
                            near.on_load(move |el| paint_rgba(&el, side, &sim));
                            let patch = m.source.filter(|s| s.index < d.split(Split::Train).len()).map(|s| {
                                patch_rgba(d.image(Split::Train, s.index), channels, side, s.row, s.col, w.cell)
                            });
                            let has_patch = patch.is_some();
                            if let Some(rgba) = patch {
                                far.on_load(move |el| paint_rgba(&el, side, &rgba));
                            }
                            view! {
                                <figure class="looks-like-match" data-testid=format!("looks-like-{k}")>
                                    <div class="pair">
                                        <canvas node_ref=near class="pixelated" data-testid=format!("looks-like-{k}-image")></canvas>
                                        <span aria-hidden="true">"looks like"</span>
                                        <canvas node_ref=far class="pixelated" data-testid=format!("looks-like-{k}-source")
                                            hidden=!has_patch></canvas>
                                    </div>
                                    <figcaption>{caption(m, class_name)}" "{source_caption(m, w.map_side)}</figcaption>
                                </figure>
                            }
                        }).collect::<Vec<_>>().into_any()
                    }
                    _ => view! { <p class="muted">{move || if ctx.looks_busy() {
                        "Finding the prototypes this sample looks like…"
                    } else {
                        "The sample's prototypes appear here once it has been shown for a moment."
                    }}</p> }.into_any(),
                }}
            </div>
        </Show>
    }
}

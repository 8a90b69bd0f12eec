//! The strongest channels of a chosen stage for the current sample, as small maps.

use breastmnist_protocol::Stage;
use leptos::html::Canvas;
use leptos::prelude::*;

use crate::draw::paint_rgba;
use crate::state::explore::ExploreCtx;
use crate::view::explore::activation_rgba;

#[component]
pub fn ActivationGrid(grid_stage: RwSignal<Stage>) -> impl IntoView {
    let ctx = expect_context::<ExploreCtx>();
    let grid = Memo::new(move |_| {
        let (sp, i) = ctx.view.with(|v| (v.split, v.index));
        ctx.grids.with(|g| g.get(&(sp, i, grid_stage.get())).cloned())
    });
    view! {
        <div class="activations" data-testid="activation-grid"
            data-channels=move || grid.with(|g| g.as_ref().map_or(0, |g| g.info.channels.len())).to_string()>
            <div class="activations-head">
                <h3>"Feature activations"</h3>
                <label class="field inline">"Stage"
                    <select data-testid="activation-stage" prop:value=move || grid_stage.get().name()
                        on:change=move |ev| { if let Some(st) = Stage::parse(&event_target_value(&ev)) { grid_stage.set(st); } }>
                        {Stage::ALL.into_iter().map(|s| view! { <option value=s.name()>{s.name()}</option> }).collect::<Vec<_>>()}
                    </select>
                </label>
            </div>
            {move || match grid.get() {
                None => view! { <p class="muted">"The strongest channels of the chosen stage appear here for the current sample once a model is trained."</p> }.into_any(),
                Some(g) => {
                    let side = g.info.side;
                    let n = side * side;
                    view! {
                        <p class="muted small">{format!("The {} most active of {} channels at {} ({} × {} each), brightest = strongest.",
                            g.info.channels.len(), g.info.total_channels, g.info.stage, side, side)}</p>
                        <div class="activation-tiles">
                            {g.info.channels.iter().enumerate().map(|(k, ch)| {
                                let canvas = NodeRef::<Canvas>::new();
                                let rgba = activation_rgba(&g.values[k * n..(k + 1) * n]);
                                canvas.on_load(move |el| paint_rgba(&el, side, &rgba));
                                view! { <figure><canvas node_ref=canvas class="pixelated"></canvas><figcaption>{format!("#{ch}")}</figcaption></figure> }
                            }).collect::<Vec<_>>()}
                        </div>
                    }.into_any()
                }
            }}
        </div>
    }
}

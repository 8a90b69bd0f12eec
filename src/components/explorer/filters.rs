//! The explorer's filters: split, class, right or wrong, confidence range, sort order, and the
//! hardest cases first.

use breastmnist_data::{Class, Split};
use leptos::prelude::*;

use super::Nav;
use crate::state::explore::ExploreCtx;
use crate::view::explore::{Correctness, ExploreFilter, SortOrder};

#[component]
pub fn Filters(nav: Nav) -> impl IntoView {
    let view = expect_context::<ExploreCtx>().view;
    let Nav { split, list, has_predictions, .. } = nav;
    let chip = move |sp: Split| {
        view! {
            <button type="button" class="chip" aria-pressed=move || (split.get() == sp).to_string()
                data-testid=format!("explore-split-{}", sp.key())
                on:click=move |_| view.update(|v| { v.split = sp; v.index = 0; })>{sp.key()}</button>
        }
    };
    view! {
            <div class="explorer-controls" role="group" aria-label="Explorer filters">
                <span class="group-label">"Split"</span>
                {chip(Split::Train)}{chip(Split::Val)}{chip(Split::Test)}
                <label class="field inline">"Class"
                    <select data-testid="filter-class"
                        prop:value=move || match view.with(|v| v.filter.class) { None => "all", Some(Class::Malignant) => "malignant", Some(Class::Benign) => "benign" }
                        on:change=move |ev| {
                            let c = match event_target_value(&ev).as_str() { "malignant" => Some(Class::Malignant), "benign" => Some(Class::Benign), _ => None };
                            view.update(|v| v.filter.class = c);
                        }>
                        <option value="all">"all"</option>
                        <option value="malignant">"malignant"</option>
                        <option value="benign">"normal/benign"</option>
                    </select>
                </label>
                <label class="field inline">"Prediction"
                    <select data-testid="filter-correct" disabled=move || !has_predictions.get()
                        prop:value=move || view.with(|v| v.filter.correctness.key())
                        on:change=move |ev| {
                            if let Some(c) = Correctness::parse(&event_target_value(&ev)) { view.update(|v| v.filter.correctness = c); }
                        }>
                        <option value="all">"all"</option>
                        <option value="correct">"correct"</option>
                        <option value="incorrect">"mistakes"</option>
                    </select>
                </label>
                <span class="conf-range" role="group" aria-label="Confidence range">
                <label class="field inline">"Confidence ≥"
                    <input type="number" min="0.5" max="1" step="0.05" data-testid="filter-conf-min"
                        disabled=move || !has_predictions.get()
                        prop:value=move || format!("{:.2}", view.with(|v| v.filter.conf_min))
                        on:change=move |ev| {
                            if let Ok(x) = event_target_value(&ev).parse::<f32>() {
                                view.update(|v| { v.filter.conf_min = x.clamp(0.5, 1.0); v.filter.conf_max = v.filter.conf_max.max(v.filter.conf_min); });
                            }
                        } />
                </label>
                <label class="field inline">"≤"
                    <input type="number" min="0.5" max="1" step="0.05" data-testid="filter-conf-max"
                        disabled=move || !has_predictions.get()
                        prop:value=move || format!("{:.2}", view.with(|v| v.filter.conf_max))
                        on:change=move |ev| {
                            if let Ok(x) = event_target_value(&ev).parse::<f32>() {
                                view.update(|v| { v.filter.conf_max = x.clamp(0.5, 1.0); v.filter.conf_min = v.filter.conf_min.min(v.filter.conf_max); });
                            }
                        } />
                </label>
                </span>
                <label class="field inline">"Order"
                    <select data-testid="filter-sort" disabled=move || !has_predictions.get()
                        prop:value=move || view.with(|v| v.filter.sort.key())
                        on:change=move |ev| {
                            if let Some(o) = SortOrder::parse(&event_target_value(&ev)) { view.update(|v| v.filter.sort = o); }
                        }>
                        <option value="index">"index"</option>
                        <option value="confidence">"confidence"</option>
                        <option value="loss">"loss"</option>
                    </select>
                </label>
                <button type="button" class="chip" data-testid="filter-hardest" disabled=move || !has_predictions.get()
                    on:click=move |_| view.update(|v| v.filter = ExploreFilter::hardest())>"Hardest cases"</button>
                <button type="button" class="chip" data-testid="filter-reset"
                    on:click=move |_| view.update(|v| v.filter = ExploreFilter::default())>"Reset"</button>
                <span class="gallery-count" data-testid="explorer-count" aria-live="polite">
                    {move || format!("{} samples", list.with(Vec::len))}
                </span>
            </div>
    }
}

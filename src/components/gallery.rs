//! The animated, scrollable, filterable gallery of every image in the dataset.

use breastmnist_data::{Class, Split};
use leptos::html::Canvas;
use leptos::prelude::*;

use crate::draw::paint_image;
use crate::state::data::DataCtx;
use crate::state::explore::ExploreCtx;
use crate::view::audit::{AuditPhase, twins as twin_set};
use crate::view::explore::{Correctness, predicted};
use crate::view::gallery::{ClassFilter, GalleryFilter, SampleRef, SplitFilter, SplitScores};

/// Images built per painted frame.
const BATCH: usize = 130;

#[component]
pub fn Gallery() -> impl IntoView {
    let ctx = expect_context::<DataCtx>();
    let explore = expect_context::<ExploreCtx>();
    let filter = RwSignal::new(GalleryFilter::default());
    // The trained model's label-1 scores per split, where computed.
    let scores = Memo::new(move |_| {
        explore.explained.track();
        [Split::Train, Split::Val, Split::Test].map(|sp| explore.scores(sp).map(|e| e.info.scores.clone()))
    });
    // The images the data audit found a twin for, once it is done.
    let twins = Memo::new(move |_| match ctx.audit.get() {
        AuditPhase::Done(a) => Some(twin_set(&a)),
        _ => None,
    });
    let samples = Memo::new(move |_| {
        let f = filter.get();
        scores.with(|sc| {
            let sc: SplitScores<'_> = [sc[0].as_deref(), sc[1].as_deref(), sc[2].as_deref()];
            twins.with(|t| ctx.loaded.with(|l| l.as_ref().map(|l| f.select(&l.dataset, &sc, t.as_ref())).unwrap_or_default()))
        })
    });
    let has_predictions = Memo::new(move |_| scores.with(|s| s.iter().any(Option::is_some)));
    // The images are built a batch per painted frame, not 780 in one task (no long task when
    // the dataset arrives); a new selection starts over, and an older growth stops.
    let shown = RwSignal::new(BATCH);
    let growth = StoredValue::new(0u64);
    Effect::new(move |_| {
        samples.track();
        shown.set(BATCH);
        growth.update_value(|g| *g += 1);
        let generation = growth.get_value();
        crate::runtime::frame::each_frame(move || {
            let total = samples.try_with_untracked(Vec::len).unwrap_or(0);
            if growth.try_get_value() != Some(generation) || shown.get_untracked() >= total {
                return false;
            }
            shown.update(|n| *n += BATCH);
            true
        });
    });
    let correct_button = move |label: &'static str, value: Correctness| {
        let pressed = move || filter.get().correctness == value;
        view! {
            <button class="chip" aria-pressed=move || pressed().to_string()
                data-testid=format!("gallery-correct-{}", value.key())
                on:click=move |_| filter.update(|f| f.correctness = value)>{label}</button>
        }
    };

    let split_button = move |label: &'static str, value: SplitFilter| {
        let pressed = move || filter.get().split == value;
        view! {
            <button class="chip" aria-pressed=move || pressed().to_string()
                data-testid=format!("filter-split-{}", label)
                on:click=move |_| filter.update(|f| f.split = value)>{label}</button>
        }
    };
    let class_button = move |label: &'static str, id: &'static str, value: ClassFilter| {
        let pressed = move || filter.get().class == value;
        view! {
            <button class="chip" aria-pressed=move || pressed().to_string()
                data-testid=format!("filter-class-{}", id)
                on:click=move |_| filter.update(|f| f.class = value)>{label}</button>
        }
    };

    view! {
        <div class="gallery-controls" role="group" aria-label="Gallery filters">
            <span class="group-label">"Split"</span>
            {split_button("all", SplitFilter::All)}
            {split_button("train", SplitFilter::Only(Split::Train))}
            {split_button("val", SplitFilter::Only(Split::Val))}
            {split_button("test", SplitFilter::Only(Split::Test))}
            <span class="group-label">"Class"</span>
            {class_button("all", "all", ClassFilter::All)}
            {class_button("malignant", "malignant", ClassFilter::Only(Class::Malignant))}
            {class_button("normal/benign", "benign", ClassFilter::Only(Class::Benign))}
            <button class="chip" aria-pressed=move || filter.get().twins_only.to_string() data-testid="filter-twins"
                disabled=move || twins.with(Option::is_none)
                title="Only the images that have a near-copy (see Check for leaks)"
                on:click=move |_| filter.update(|f| f.twins_only = !f.twins_only)>"twins only"</button>
            <Show when=move || has_predictions.get()>
                <span class="group-label">"Model"</span>
                {correct_button("all", Correctness::All)}
                {correct_button("correct", Correctness::Correct)}
                {correct_button("mistakes", Correctness::Incorrect)}
            </Show>
            <span class="gallery-count" data-testid="gallery-count" aria-live="polite">
                {move || format!("{} images", samples.with(Vec::len))}
            </span>
        </div>
        <div class="gallery" data-testid="gallery" tabindex="0" aria-label="Sample images">
            <Show when=move || ctx.loaded.with(Option::is_some)
                fallback=|| view! { <p class="placeholder">"The images appear here once the dataset is verified."</p> }>
                <For each=move || samples.with(|s| s.iter().take(shown.get()).copied().collect::<Vec<_>>()) key=|s| s.key() let(sample)>
                    <Thumb sample=sample ctx=ctx explore=explore />
                </For>
            </Show>
        </div>
    }
}

/// One image, painted once at native resolution and scaled pixel-crisp by CSS.
#[component]
fn Thumb(sample: SampleRef, ctx: DataCtx, explore: ExploreCtx) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    Effect::new(move |_| {
        let Some(el) = canvas.get() else { return };
        ctx.loaded.with(|l| {
            if let Some(l) = l {
                let ds = &l.dataset;
                paint_image(&el, ds.side, ds.channels, ds.image(sample.split, sample.index));
            }
        });
    });
    let class = match sample.class {
        Class::Malignant => "thumb malignant",
        Class::Benign => "thumb benign",
    };
    // Right or wrong under the trained model, once its split is explained.
    let correct = Memo::new(move |_| {
        explore.explained.track();
        explore.scores(sample.split).and_then(|e| e.info.scores.get(sample.index).map(|&s| predicted(s) == sample.class.label()))
    });
    let title = format!("{} #{} — {}", sample.split, sample.index, sample.class.name());
    view! {
        <figure class=class class:mistake=move || correct.get() == Some(false) data-testid="gallery-item"
            data-split=sample.split.key() data-index=sample.index.to_string() data-label=sample.class.label().to_string()
            data-correct=move || correct.get().map(|c| c.to_string())
            title=format!("{title} · open in the explorer")
            on:click=move |_| explore.open(sample.split, sample.index)>
            <canvas node_ref=canvas role="img" aria-label=title.clone()></canvas>
            <figcaption>{sample.split.key()}" "{sample.index}</figcaption>
        </figure>
    }
}

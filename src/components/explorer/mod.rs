//! The explorer: scrub through a split's samples with the kept model's predictions, Grad-CAM
//! overlays and a stage's activation maps; filters, sort orders and deep links.
//!
//! The maths runs in the trainer worker (a whole split per model and stage, asked through
//! [`ExploreCtx`]); this widget only paints what came back. The rules (which samples a filter
//! keeps, deep links, colour maps) are plain functions in `view::explore`. Its parts, one file
//! each: the filters, the scrubber, the sample view, the activation grid and, for a prototype
//! head, "this looks like that"; they share the [`Nav`] made here.

mod activations;
mod filters;
mod prototypes;
mod sample;
mod scrubber;

use breastmnist_data::Split;
use breastmnist_protocol::Stage;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::state::data::DataCtx;
use crate::state::explore::ExploreCtx;
use crate::view::explore::{ExploreView, shown_stage};
use activations::ActivationGrid;
use filters::Filters;
use prototypes::LooksLike;
use sample::SampleView;
use scrubber::Scrubber;

/// Where the reader is in the filtered list, shared by the explorer's parts.
#[derive(Clone, Copy)]
pub struct Nav {
    pub split: Memo<Split>,
    pub stage: Memo<Stage>,
    /// True labels of the split.
    pub labels: Memo<Vec<u8>>,
    /// The samples the filters keep, in order.
    pub list: Memo<Vec<usize>>,
    /// The current sample's place in `list`.
    pub pos: Memo<Option<usize>>,
    /// Flips on every move (the sample view's animation).
    pub flip: RwSignal<bool>,
    pub has_predictions: Memo<bool>,
}

impl Nav {
    /// Moves `delta` places along the list (clamped).
    pub fn go(self, view: RwSignal<ExploreView>, delta: isize) {
        let n = self.list.with_untracked(Vec::len);
        if n == 0 {
            return;
        }
        let p = self.pos.get_untracked().unwrap_or(0) as isize;
        let next = (p + delta).clamp(0, n as isize - 1) as usize;
        self.show(view, next);
    }

    /// Shows the sample at place `p` of the list.
    pub fn show(self, view: RwSignal<ExploreView>, p: usize) {
        let Some(index) = self.list.with_untracked(|l| l.get(p).copied()) else { return };
        if Some(p) != self.pos.get_untracked() {
            self.flip.update(|f| *f = !*f);
        }
        view.update(|v| v.index = index);
    }
}

#[component]
pub fn Explorer() -> impl IntoView {
    let data = expect_context::<DataCtx>();
    let ctx = expect_context::<ExploreCtx>();
    let view = ctx.view;
    let grid_stage = RwSignal::new(Stage::Layer2);

    let split = Memo::new(move |_| view.with(|v| v.split));
    // The stage asked for, or the deepest the kept model can explain (`view::explore`).
    let stage = Memo::new(move |_| ctx.model.with(|m| shown_stage(view.with(|v| v.stage), m.as_ref())));
    let labels = Memo::new(move |_| {
        data.loaded.with(|l| l.as_ref().map(|l| l.dataset.split(split.get()).labels.clone()).unwrap_or_default())
    });
    let scores = Memo::new(move |_| {
        ctx.explained.track();
        ctx.scores(split.get())
    });
    let list = Memo::new(move |_| {
        let f = view.with(|v| v.filter);
        let s = scores.get();
        labels.with(|l| f.select(l, s.as_ref().map(|e| e.info.scores.as_slice())))
    });
    let pos = Memo::new(move |_| {
        let i = view.with(|v| v.index);
        list.with(|l| l.iter().position(|&x| x == i))
    });
    let has_predictions = Memo::new(move |_| scores.with(Option::is_some));
    let nav = Nav { split, stage, labels, list, pos, flip: RwSignal::new(false), has_predictions };

    // Keep the current sample inside the list.
    Effect::new(move |_| {
        let first = list.with(|l| l.first().copied());
        if let (None, Some(first)) = (pos.get(), first) {
            view.update(|v| v.index = first);
        }
    });
    // Deep link: the address describes the view.
    Effect::new(move |prev: Option<()>| {
        let changed = view.with(|v| v != &ExploreView::default());
        if prev.is_some() || changed {
            ctx.follow_in_address_bar();
        }
    });
    // Ask for what the view needs, once per model, split and stage.
    Effect::new(move |_| {
        ctx.explained.track();
        if ctx.ready.get() && !ctx.explaining() {
            ctx.request_explanation(split.get(), stage.get());
        }
    });
    // Activations of the current sample once it has been shown for 200 ms (samples passed over
    // while scrubbing are skipped, so the worker does not compete with the page).
    Effect::new(move |_| {
        let explained = ctx.explained.with(|m| m.contains_key(&(split.get(), stage.get())));
        if !ctx.ready.get() || !explained || ctx.grid_busy() {
            return;
        }
        let key = (split.get(), view.with(|v| v.index), grid_stage.get());
        if key.1 >= labels.with(Vec::len) {
            return;
        }
        let now = move || (split.get_untracked(), view.with_untracked(|v| v.index), grid_stage.get_untracked());
        ctx.request_grid_when_settled(key, now);
    });

    // A prototype head's "this looks like that" for the current sample, the same way.
    Effect::new(move |_| {
        if !ctx.ready.get() || !ctx.has_prototypes() || ctx.looks_busy() {
            return;
        }
        let key = (split.get(), view.with(|v| v.index));
        if key.1 >= labels.with(Vec::len) {
            return;
        }
        ctx.looks_like.track();
        let now = move || (split.get_untracked(), view.with_untracked(|v| v.index));
        ctx.request_looks_like_when_settled(key, now);
    });

    let on_key = move |ev: web_sys::KeyboardEvent| {
        let from_input = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|e| matches!(e.tag_name().as_str(), "INPUT" | "SELECT" | "BUTTON"));
        if from_input {
            return;
        }
        let delta = match ev.key().as_str() {
            "ArrowRight" | "ArrowDown" => 1,
            "ArrowLeft" | "ArrowUp" => -1,
            "PageDown" => 10,
            "PageUp" => -10,
            "Home" => isize::MIN / 2,
            "End" => isize::MAX / 2,
            _ => return,
        };
        ev.prevent_default();
        nav.go(view, delta);
    };

    view! {
        <div class="card explorer" data-testid="explorer" tabindex="0" on:keydown=on_key
            aria-label="Sample explorer: arrow keys move between samples">
            <Filters nav=nav />
            <Scrubber nav=nav />
            {move || (!data.loaded.with(Option::is_some)).then(|| view! {
                <p class="placeholder">"The samples appear here once the dataset is verified."</p>
            })}
            <SampleView nav=nav />
            <LooksLike />
            <ActivationGrid grid_stage=grid_stage />
        </div>
    }
}

//! The explorer: scrub through a split's samples with the trained model's predictions,
//! Grad-CAM overlays and a stage's activation maps; filters, sort orders and deep links.
//!
//! The maths runs in the training worker (`ToWorker::Explain` computes a whole split in batches,
//! once per model and stage); this component keeps what came back in [`ExploreCtx`] and only
//! paints, so scrubbing never waits on the GPU for a sample already computed. The rules (which
//! samples a filter keeps, deep links, colour maps) are plain functions in `explore_model`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use breastmnist_data::{Class, Split};
use breastmnist_protocol::{ActivationGridView, Explained, ToWorker};
use leptos::html::Canvas;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::dataset_card::DataCtx;
use super::train_panel::TrainCtx;
use crate::draw::{paint_image, paint_rgba};
use crate::explore_model::{
    Correctness, ExploreFilter, ExploreView, GRADCAM_STAGES, GRID_STAGES, QUERY_KEYS, SortOrder, activation_rgba,
    confidence, heat_rgba, predicted,
};
use crate::runtime::url;

/// One split explained at one stage (see `breastmnist_protocol::Explained`).
pub struct ExplainedData {
    pub info: Explained,
    /// Per image, one `side * side` map per class (class 0 first).
    pub maps: Vec<u8>,
}

/// Two answers are the same when their descriptions are (the maps follow from them); this
/// keeps memos from comparing megabytes.
impl PartialEq for ExplainedData {
    fn eq(&self, other: &Self) -> bool {
        self.info == other.info && self.maps.len() == other.maps.len()
    }
}

impl PartialEq for GridData {
    fn eq(&self, other: &Self) -> bool {
        self.info == other.info && self.values == other.values
    }
}

impl ExplainedData {
    pub fn map(&self, index: usize, class: usize) -> Option<&[u8]> {
        let n = self.info.side * self.info.side;
        let start = (index * 2 + class) * n;
        self.maps.get(start..start + n)
    }
}

/// One activation grid (see `breastmnist_protocol::ActivationGridView`).
pub struct GridData {
    pub info: ActivationGridView,
    pub values: Vec<u8>,
}

/// Which class the heatmap explains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Explain {
    Predicted,
    Class(u8),
}

type GridKey = (Split, usize, &'static str);

/// The explorer's state, shared with the gallery (marks, open-in-explorer) and the train panel
/// (which hands over the worker's answers).
#[derive(Clone, Copy)]
pub struct ExploreCtx {
    pub view: RwSignal<ExploreView>,
    pub explained: RwSignal<HashMap<(Split, &'static str), Arc<ExplainedData>>>,
    pub grids: RwSignal<HashMap<GridKey, Arc<GridData>>>,
    /// A trained model is waiting in the worker.
    pub ready: RwSignal<bool>,
    /// `(split, stage, done, total)` of the explanation being computed.
    pub progress: RwSignal<Option<(String, String, usize, usize)>>,
    pub error: RwSignal<Option<String>>,
    pending: RwSignal<HashSet<(Split, &'static str)>>,
    grid_pending: RwSignal<bool>,
}

fn stage_name(s: &str) -> Option<&'static str> {
    GRID_STAGES.into_iter().find(|g| *g == s)
}

impl ExploreCtx {
    pub fn new() -> Self {
        Self {
            view: RwSignal::new(ExploreView::from_query(url::param)),
            explained: RwSignal::new(HashMap::new()),
            grids: RwSignal::new(HashMap::new()),
            ready: RwSignal::new(false),
            progress: RwSignal::new(None),
            error: RwSignal::new(None),
            pending: RwSignal::new(HashSet::new()),
            grid_pending: RwSignal::new(false),
        }
    }

    /// A new model is coming: everything computed for the old one is dropped.
    pub fn reset(self) {
        self.ready.set(false);
        self.explained.set(HashMap::new());
        self.grids.set(HashMap::new());
        self.pending.set(HashSet::new());
        self.grid_pending.set(false);
        self.progress.set(None);
        self.error.set(None);
    }

    pub fn on_explained(self, info: Explained, maps: Vec<u8>) {
        let (Some(split), Some(stage)) = (Split::parse(&info.split), stage_name(&info.stage)) else { return };
        self.pending.update(|p| {
            p.remove(&(split, stage));
        });
        self.progress.set(None);
        self.explained.update(|m| {
            m.insert((split, stage), Arc::new(ExplainedData { info, maps }));
        });
    }

    pub fn on_grid(self, info: ActivationGridView, values: Vec<u8>) {
        self.grid_pending.set(false);
        let (Some(split), Some(stage)) = (Split::parse(&info.split), stage_name(&info.stage)) else { return };
        let key = (split, info.index, stage);
        self.grids.update(|g| {
            g.insert(key, Arc::new(GridData { info, values }));
        });
    }

    pub fn on_failed(self, message: String) {
        self.pending.set(HashSet::new());
        self.grid_pending.set(false);
        self.progress.set(None);
        self.error.set(Some(message));
    }

    /// Label-1 scores of `split`, from whichever stage was explained first.
    pub fn scores(self, split: Split) -> Option<Arc<ExplainedData>> {
        self.explained.with(|m| GRADCAM_STAGES.iter().find_map(|st| m.get(&(split, *st)).cloned()))
    }

    /// Shows one sample in the explorer (from the gallery), clearing filters that would hide it.
    pub fn open(self, split: Split, index: usize) {
        self.view.update(|v| {
            v.split = split;
            v.index = index;
            v.filter = ExploreFilter::default();
        });
        if let Some(el) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id("explore")) {
            el.scroll_into_view();
        }
    }
}

fn prefers_reduced_motion() -> bool {
    web_sys::window()
        .and_then(|w| w.match_media("(prefers-reduced-motion: reduce)").ok().flatten())
        .is_some_and(|m| m.matches())
}

/// Writes the view into the address bar (replacing, not pushing, history entries).
fn write_url(view: &ExploreView) {
    let Some(window) = web_sys::window() else { return };
    let Ok(search) = window.location().search() else { return };
    let Ok(params) = web_sys::UrlSearchParams::new_with_str(&search) else { return };
    for k in QUERY_KEYS {
        params.delete(k);
    }
    for (k, v) in view.to_query() {
        params.append(k, &v);
    }
    let hash = window.location().hash().unwrap_or_default();
    let url = format!("?{}{}", String::from(params.to_string()), hash);
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}

#[component]
pub fn Explorer() -> impl IntoView {
    let data = use_context::<DataCtx>().expect("DataCtx");
    let train = use_context::<TrainCtx>().expect("TrainCtx");
    let ctx = use_context::<ExploreCtx>().expect("ExploreCtx");
    let view = ctx.view;
    let opacity = RwSignal::new(0.55f64);
    let overlay = RwSignal::new(true);
    let explain_class = RwSignal::new(Explain::Predicted);
    let grid_stage = RwSignal::new("layer2");
    let playing = RwSignal::new(false);
    let flip = RwSignal::new(false);

    let split = Memo::new(move |_| view.with(|v| v.split));
    let stage = Memo::new(move |_| view.with(|v| v.stage));
    let labels = Memo::new(move |_| {
        data.loaded.with(|l| l.as_ref().map(|l| l.dataset.split(split.get()).labels.clone()).unwrap_or_default())
    });
    let explained = Memo::new(move |_| ctx.explained.with(|m| m.get(&(split.get(), stage.get())).cloned()));
    let scores = Memo::new(move |_| {
        ctx.explained.track();
        ctx.scores(split.get())
    });
    let filter = Memo::new(move |_| view.with(|v| v.filter));
    let list = Memo::new(move |_| {
        let f = filter.get();
        let s = scores.get();
        labels.with(|l| f.select(l, s.as_ref().map(|e| e.info.scores.as_slice())))
    });
    let pos = Memo::new(move |_| {
        let i = view.with(|v| v.index);
        list.with(|l| l.iter().position(|&x| x == i))
    });

    // Keep the current sample inside the list.
    Effect::new(move |_| {
        let first = list.with(|l| l.first().copied());
        if let (None, Some(first)) = (pos.get(), first) {
            view.update(|v| v.index = first);
        }
    });
    // Deep link: the address describes the view, written at most every 300 ms (browsers
    // throttle history updates, and scrubbing changes the view every frame).
    let url_pending = StoredValue::new(false);
    Effect::new(move |prev: Option<()>| {
        let changed = view.with(|v| v != &ExploreView::default());
        if (prev.is_some() || changed) && !url_pending.get_value() {
            url_pending.set_value(true);
            set_timeout(
                move || {
                    url_pending.set_value(false);
                    view.with_untracked(write_url);
                },
                std::time::Duration::from_millis(300),
            );
        }
    });
    // Ask the worker for what the view needs, once per model, split and stage.
    Effect::new(move |_| {
        if !ctx.ready.get() {
            return;
        }
        let key = (split.get(), stage.get());
        let have = ctx.explained.with(|m| m.contains_key(&key));
        let asked = ctx.pending.with(|p| p.contains(&key));
        if !have && !asked && ctx.pending.with(HashSet::is_empty) {
            ctx.pending.update(|p| {
                p.insert(key);
            });
            train.send(ToWorker::Explain { split: key.0.key().into(), stage: key.1.into() });
        }
    });
    // Activations of the current sample once it has been shown for 200 ms (samples passed over
    // while scrubbing are skipped, so the worker does not compete with the page), one request in
    // flight at a time.
    Effect::new(move |_| {
        if !ctx.ready.get() || explained.with(Option::is_none) || ctx.grid_pending.get() {
            return;
        }
        let key = (split.get(), view.with(|v| v.index), grid_stage.get());
        if key.1 >= labels.with(Vec::len) || ctx.grids.with(|g| g.contains_key(&key)) {
            return;
        }
        set_timeout(
            move || {
                let now = (split.get_untracked(), view.with_untracked(|v| v.index), grid_stage.get_untracked());
                if now != key || ctx.grid_pending.get_untracked() || ctx.grids.with_untracked(|g| g.contains_key(&key)) {
                    return;
                }
                ctx.grid_pending.set(true);
                train.send(ToWorker::Activations { split: key.0.key().into(), index: key.1, stage: key.2.into() });
            },
            std::time::Duration::from_millis(200),
        );
    });

    let go = move |delta: isize| {
        let n = list.with(Vec::len);
        if n == 0 {
            return;
        }
        let p = pos.get_untracked().unwrap_or(0) as isize;
        let next = (p + delta).clamp(0, n as isize - 1) as usize;
        let index = list.with_untracked(|l| l[next]);
        if Some(next) != pos.get_untracked() {
            flip.update(|f| *f = !*f);
        }
        view.update(|v| v.index = index);
    };
    let interval = StoredValue::new_local(None::<leptos::leptos_dom::helpers::IntervalHandle>);
    let stop_play = move || {
        playing.set(false);
        interval.update_value(|h| {
            if let Some(h) = h.take() {
                h.clear();
            }
        });
    };
    let toggle_play = move |_| {
        if playing.get_untracked() {
            stop_play();
            return;
        }
        playing.set(true);
        let handle = set_interval_with_handle(
            move || {
                let n = list.with_untracked(Vec::len);
                let p = pos.get_untracked().unwrap_or(0);
                if n == 0 {
                    return;
                }
                let next = (p + 1) % n;
                flip.update(|f| *f = !*f);
                view.update(|v| v.index = list.with_untracked(|l| l[next]));
            },
            std::time::Duration::from_millis(if prefers_reduced_motion() { 1200 } else { 700 }),
        )
        .ok();
        interval.set_value(handle);
    };
    on_cleanup(move || {
        interval.update_value(|h| {
            if let Some(h) = h.take() {
                h.clear();
            }
        })
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
        go(delta);
    };

    // The sample, its heatmap and its activation grid, painted when they change.
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

    let split_chip = move |sp: Split| {
        view! {
            <button type="button" class="chip" aria-pressed=move || (split.get() == sp).to_string()
                data-testid=format!("explore-split-{}", sp.key())
                on:click=move |_| view.update(|v| { v.split = sp; v.index = 0; })>{sp.key()}</button>
        }
    };
    let has_predictions = Memo::new(move |_| scores.with(Option::is_some));
    let current_label = Memo::new(move |_| {
        let i = view.with(|v| v.index);
        labels.with(|l| l.get(i).copied())
    });
    let current_score = Memo::new(move |_| {
        let i = view.with(|v| v.index);
        scores.with(|s| s.as_ref().and_then(|e| e.info.scores.get(i).copied()))
    });

    view! {
        <div class="card explorer" data-testid="explorer" tabindex="0" on:keydown=on_key
            aria-label="Sample explorer: arrow keys move between samples">
            <div class="explorer-controls" role="group" aria-label="Explorer filters">
                <span class="group-label">"Split"</span>
                {split_chip(Split::Train)}{split_chip(Split::Val)}{split_chip(Split::Test)}
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

            <div class="scrub-row">
                <button type="button" aria-label="Previous sample" on:click=move |_| go(-1)>"◀"</button>
                <button type="button" data-testid="scrub-play" aria-pressed=move || playing.get().to_string()
                    on:click=toggle_play>{move || if playing.get() { "Pause" } else { "Play" }}</button>
                <button type="button" aria-label="Next sample" on:click=move |_| go(1)>"▶"</button>
                <input type="range" data-testid="scrubber" aria-label="Sample"
                    min="0" max=move || list.with(|l| l.len().saturating_sub(1)).to_string()
                    prop:value=move || pos.get().unwrap_or(0).to_string()
                    disabled=move || list.with(Vec::is_empty)
                    on:input=move |ev| {
                        if let Ok(p) = event_target_value(&ev).parse::<usize>() {
                            if let Some(index) = list.with_untracked(|l| l.get(p).copied()) {
                                flip.update(|f| *f = !*f);
                                view.update(|v| v.index = index);
                            }
                        }
                    } />
                <span class="scrub-pos" data-testid="scrub-position">
                    {move || match pos.get() { Some(p) => format!("{} of {}", p + 1, list.with(Vec::len)), None => "no sample matches".into() }}
                </span>
            </div>

            {move || (!data.loaded.with(Option::is_some)).then(|| view! {
                <p class="placeholder">"The samples appear here once the dataset is verified."</p>
            })}
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
                            <select data-testid="gradcam-stage" prop:value=move || stage.get()
                                on:change=move |ev| { let s = event_target_value(&ev); if let Some(st) = GRADCAM_STAGES.into_iter().find(|g| *g == s) { view.update(|v| v.stage = st); } }>
                                {GRADCAM_STAGES.into_iter().map(|s| view! { <option value=s>{s}</option> }).collect::<Vec<_>>()}
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
                    {move || ctx.progress.get().map(|(sp, st, d, t)| view! {
                        <p class="muted" role="status">{format!("Explaining {sp} at {st}: {d} of {t} images…")}</p>
                    })}
                    {move || explained.get().map(|e| view! {
                        <p class="muted small" data-testid="explain-timing">{format!(
                            "Predictions and Grad-CAM (both classes) for the {} {} images: {:.1} s on {}.",
                            e.info.scores.len(), e.info.split, e.info.millis / 1000.0, if e.info.backend == "webgpu" { "WebGPU" } else { "the CPU" })}</p>
                    })}
                    {move || ctx.error.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
                </div>
            </div>
            <ActivationGrid grid_stage=grid_stage />
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

#[component]
fn ActivationGrid(grid_stage: RwSignal<&'static str>) -> impl IntoView {
    let ctx = use_context::<ExploreCtx>().expect("ExploreCtx");
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
                    <select data-testid="activation-stage" prop:value=move || grid_stage.get()
                        on:change=move |ev| { let s = event_target_value(&ev); if let Some(st) = GRID_STAGES.into_iter().find(|g| *g == s) { grid_stage.set(st); } }>
                        {GRID_STAGES.into_iter().map(|s| view! { <option value=s>{s}</option> }).collect::<Vec<_>>()}
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

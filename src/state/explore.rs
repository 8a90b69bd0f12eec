//! What the explorer knows about the kept model: the view (split, sample, filters, stage; the
//! address bar follows it), every split explained so far, activation grids, progress and errors.
//! Questions go to the trainer worker through the [`TrainerLink`]; its replies come back to
//! [`ExploreCtx::receive`], so scrubbing never waits on the worker for a sample already computed.
//! The gallery reads the scores and opens samples here.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use breastmnist_data::Split;
use breastmnist_protocol::{ActivationGridView, Explained, LooksLikeView, ModelView, Stage, ToWorker};
use std::time::Duration;

use leptos::leptos_dom::helpers::IntervalHandle;
use leptos::prelude::*;

use crate::runtime::url;
use crate::runtime::worker::{ExplainReply, TrainerLink};
use crate::view::explore::{ExploreFilter, ExploreView, QUERY_KEYS};

/// One split explained at one stage, with its maps.
pub struct ExplainedData {
    pub info: Explained,
    pub maps: Vec<u8>,
}

impl ExplainedData {
    /// Image `index`'s map for `class`.
    pub fn map(&self, index: usize, class: usize) -> Option<&[u8]> {
        self.info.map(&self.maps, index, class)
    }
}

/// Two answers are the same when their descriptions are (the maps follow from them); this
/// keeps memos from comparing megabytes.
impl PartialEq for ExplainedData {
    fn eq(&self, other: &Self) -> bool {
        self.info == other.info && self.maps.len() == other.maps.len()
    }
}

/// One activation grid: `info.channels.len()` maps of `side * side`.
#[derive(PartialEq)]
pub struct GridData {
    pub info: ActivationGridView,
    pub values: Vec<u8>,
}

/// An activation grid's image and stage.
pub type GridKey = (Split, usize, Stage);

/// `(split, stage, done, total)` of the explanation being computed.
pub type Progress = (Split, Stage, usize, usize);

/// The explorer's state. Provided in context by the app.
#[derive(Clone, Copy)]
pub struct ExploreCtx {
    pub view: RwSignal<ExploreView>,
    pub explained: RwSignal<HashMap<(Split, Stage), Arc<ExplainedData>>>,
    pub grids: RwSignal<HashMap<GridKey, Arc<GridData>>>,
    /// A prototype head's "this looks like that", per image.
    pub looks_like: RwSignal<HashMap<(Split, usize), Arc<LooksLikeView>>>,
    /// A trained model is waiting in the worker.
    pub ready: RwSignal<bool>,
    /// Its architecture, where the worker described it (which Grad-CAM stages it can explain).
    pub model: RwSignal<Option<ModelView>>,
    pub progress: RwSignal<Option<Progress>>,
    pub error: RwSignal<Option<String>>,
    link: TrainerLink,
    pending: RwSignal<HashSet<(Split, Stage)>>,
    grid_pending: RwSignal<bool>,
    /// The image whose "this looks like that" is being computed, if any.
    looks_pending: RwSignal<Option<(Split, usize)>>,
    /// Images whose "this looks like that" failed: not asked again for this model.
    looks_failed: RwSignal<HashSet<(Split, usize)>>,
    /// The address bar is due to be rewritten (at most every 300 ms).
    url_pending: StoredValue<bool>,
    /// Autoplay through the filtered samples.
    pub playing: RwSignal<bool>,
    player: StoredValue<Option<IntervalHandle>, LocalStorage>,
}

impl ExploreCtx {
    /// The explorer's state, listening to `link` for the worker's answers.
    pub fn new(link: TrainerLink) -> Self {
        let ctx = Self {
            view: RwSignal::new(ExploreView::from_query(url::param)),
            explained: RwSignal::new(HashMap::new()),
            grids: RwSignal::new(HashMap::new()),
            looks_like: RwSignal::new(HashMap::new()),
            ready: link.has_model,
            model: link.kept_model,
            progress: RwSignal::new(None),
            error: RwSignal::new(None),
            link,
            pending: RwSignal::new(HashSet::new()),
            grid_pending: RwSignal::new(false),
            looks_pending: RwSignal::new(None),
            looks_failed: RwSignal::new(HashSet::new()),
            url_pending: StoredValue::new(false),
            playing: RwSignal::new(false),
            player: StoredValue::new_local(None),
        };
        link.on_explain(move |reply| ctx.receive(reply));
        ctx
    }

    /// Folds one of the worker's replies in.
    fn receive(self, reply: ExplainReply) {
        match reply {
            ExplainReply::Reset => self.reset(),
            ExplainReply::Progress { split, stage, done, total } => self.progress.set(Some((split, stage, done, total))),
            // Answers about a few chosen images are not a whole split's (the explorer asks for
            // whole splits only).
            ExplainReply::Explained(info, _) if info.indices.is_some() => {}
            ExplainReply::Explained(info, maps) => {
                let key = (info.split, info.stage);
                self.pending.update(|p| {
                    p.remove(&key);
                });
                self.progress.set(None);
                self.explained.update(|m| {
                    m.insert(key, Arc::new(ExplainedData { info, maps }));
                });
            }
            ExplainReply::Grid(info, values) => {
                self.grid_pending.set(false);
                let key = (info.split, info.index, info.stage);
                self.grids.update(|g| {
                    g.insert(key, Arc::new(GridData { info, values }));
                });
            }
            ExplainReply::LooksLike(why) => {
                self.looks_pending.set(None);
                self.looks_like.update(|m| {
                    m.insert((why.split, why.index), Arc::new(why));
                });
            }
            ExplainReply::Failed(e) => {
                self.pending.set(HashSet::new());
                self.grid_pending.set(false);
                // Failures are not tagged with their request: the image asked about is not
                // asked again (a retry could fail forever).
                if let Some(key) = self.looks_pending.get_untracked() {
                    self.looks_failed.update(|f| {
                        f.insert(key);
                    });
                }
                self.looks_pending.set(None);
                self.progress.set(None);
                self.error.set(Some(e.message));
            }
        }
    }

    /// A new model is coming: everything computed for the old one is dropped.
    fn reset(self) {
        self.explained.set(HashMap::new());
        self.grids.set(HashMap::new());
        self.looks_like.set(HashMap::new());
        self.pending.set(HashSet::new());
        self.grid_pending.set(false);
        self.looks_pending.set(None);
        self.looks_failed.set(HashSet::new());
        self.progress.set(None);
        self.error.set(None);
    }

    /// Asks for `split` explained at `stage`, unless it is known, asked for, or another
    /// explanation is in flight (one at a time keeps the worker's queue short).
    pub fn request_explanation(self, split: Split, stage: Stage) {
        let key = (split, stage);
        let known = self.explained.with_untracked(|m| m.contains_key(&key));
        let busy = self.pending.with_untracked(|p| !p.is_empty());
        if known || busy || !self.ready.get_untracked() {
            return;
        }
        self.pending.update(|p| {
            p.insert(key);
        });
        self.ask(ToWorker::Explain { split, stage });
    }

    /// Whether an explanation is being computed.
    pub fn explaining(self) -> bool {
        self.pending.with(|p| !p.is_empty())
    }

    /// Whether an activation grid is being computed.
    pub fn grid_busy(self) -> bool {
        self.grid_pending.get()
    }

    /// Asks for one image's activation grid (one request in flight at a time).
    pub fn request_grid(self, split: Split, index: usize, stage: Stage) {
        if self.grid_pending.get_untracked() || self.grids.with_untracked(|g| g.contains_key(&(split, index, stage))) {
            return;
        }
        self.grid_pending.set(true);
        self.ask(ToWorker::Activations { split, index, stage });
    }

    /// Whether the kept model classifies with a prototype head (its explanations say so).
    pub fn has_prototypes(self) -> bool {
        self.explained.with(|m| m.values().any(|e| e.info.prototypes))
    }

    /// Asks for one image's "this looks like that" once the reader has stayed on it for 200 ms
    /// (`now` says where the reader is then), one request in flight at a time.
    pub fn request_looks_like_when_settled(self, key: (Split, usize), now: impl Fn() -> (Split, usize) + 'static) {
        set_timeout(
            move || {
                let known = self.looks_like.with_untracked(|m| m.contains_key(&key))
                    || self.looks_failed.with_untracked(|f| f.contains(&key));
                if now() == key && !known && self.looks_pending.get_untracked().is_none() {
                    self.looks_pending.set(Some(key));
                    self.ask(ToWorker::LooksLike { split: key.0, index: key.1 });
                }
            },
            Duration::from_millis(200),
        );
    }

    /// Whether a "this looks like that" is being computed.
    pub fn looks_busy(self) -> bool {
        self.looks_pending.with(Option::is_some)
    }

    fn ask(self, cmd: ToWorker) {
        if let Err(e) = self.link.send(cmd) {
            self.receive(ExplainReply::Failed(e));
        }
    }

    /// Label-1 scores of `split`, from whichever stage was explained first.
    pub fn scores(self, split: Split) -> Option<Arc<ExplainedData>> {
        self.explained.with(|m| Stage::GRADCAM.iter().find_map(|st| m.get(&(split, *st)).cloned()))
    }

    /// Rewrites the address to describe the view, at most every 300 ms (browsers throttle
    /// history updates, and scrubbing changes the view every frame).
    pub fn follow_in_address_bar(self) {
        if self.url_pending.get_value() {
            return;
        }
        self.url_pending.set_value(true);
        set_timeout(
            move || {
                self.url_pending.set_value(false);
                self.view.with_untracked(|v| url::replace_params(&QUERY_KEYS, &v.to_query()));
            },
            Duration::from_millis(300),
        );
    }

    /// Asks for `key`'s activation grid once the reader has stayed on it for 200 ms (`now`
    /// says where the reader is then): samples passed over while scrubbing are skipped, so the
    /// worker does not compete with the page.
    pub fn request_grid_when_settled(self, key: GridKey, now: impl Fn() -> GridKey + 'static) {
        set_timeout(
            move || {
                if now() == key {
                    self.request_grid(key.0, key.1, key.2);
                }
            },
            Duration::from_millis(200),
        );
    }

    /// Plays through the samples: `next` every `pace` until [`ExploreCtx::pause`].
    pub fn play(self, pace: Duration, next: impl Fn() + 'static) {
        self.pause();
        self.player.set_value(set_interval_with_handle(next, pace).ok());
        self.playing.set(true);
    }

    /// Stops playing.
    pub fn pause(self) {
        self.player.update_value(|h| {
            if let Some(h) = h.take() {
                h.clear();
            }
        });
        self.playing.set(false);
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

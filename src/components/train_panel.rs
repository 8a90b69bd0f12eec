//! The train panel: settings (from the URL or the form), Start/Pause/Stop, progress with ETA,
//! the backend badge, live curves, and the results with their exports.
//!
//! The trainer runs in a Web Worker loaded on demand (`runtime::trainer`); this component only
//! folds its reports into a [`TrainState`] and draws.

use breastmnist_protocol::{Augment, BackendChoice, FromWorker, Preset, Selection, ToWorker, TrainRequest};
use leptos::html::Canvas;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use super::dataset_card::DataCtx;
use super::explorer::ExploreCtx;
use crate::charts::curves;
use crate::charts::roc as roc_chart;
use crate::runtime::runs;
use crate::runtime::trainer::{Report, TrainerWorker, object_url};
use crate::runtime::url;
use crate::train_model::{CHART_WIDTH, Draft, MODELS, Phase, Series, TrainState, epoch_at, nearest_epoch};

/// The run, shared with the benchmark table (which shows the reader's row).
#[derive(Clone, Copy)]
pub struct TrainCtx {
    pub draft: RwSignal<Draft>,
    pub state: RwSignal<TrainState>,
    /// Problems with the form, shown next to Start.
    pub form_error: RwSignal<Option<String>>,
    /// Download URLs of the finished run: (metrics JSON, (checkpoint name, URL)).
    pub exports: RwSignal<Option<(String, Option<(String, String)>)>>,
    /// The name of the imported checkpoint (its bytes are kept beside), for fine-tuning.
    pub imported: RwSignal<Option<String>>,
    /// Whether the last run was restored from browser storage after a reload.
    pub restored: RwSignal<bool>,
    /// Where the worker's explanations go.
    explore: ExploreCtx,
    worker: StoredValue<Option<TrainerWorker>, LocalStorage>,
    checkpoint: StoredValue<Option<(String, Vec<u8>)>, LocalStorage>,
    imported_bytes: StoredValue<Option<Vec<u8>>, LocalStorage>,
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// What a worker is started for.
enum Launch {
    Start(TrainRequest, Option<Vec<u8>>),
    Continue(TrainRequest, Vec<u8>),
    /// Backend, file name, flip TTA, checkpoint bytes.
    Evaluate(BackendChoice, String, bool, Vec<u8>),
}

impl TrainCtx {
    pub fn new(explore: ExploreCtx) -> Self {
        let ctx = Self {
            explore,
            draft: RwSignal::new(Draft::from_query(url::param)),
            state: RwSignal::new(TrainState::default()),
            form_error: RwSignal::new(None),
            exports: RwSignal::new(None),
            imported: RwSignal::new(None),
            restored: RwSignal::new(false),
            worker: StoredValue::new_local(None),
            checkpoint: StoredValue::new_local(None),
            imported_bytes: StoredValue::new_local(None),
        };
        ctx.restore();
        ctx
    }

    /// Shows the run stored by an earlier visit, if any.
    fn restore(self) {
        spawn_local(async move {
            let Some(saved) = runs::load().await else { return };
            if self.state.with_untracked(|s| s.phase != Phase::Idle) {
                return;
            }
            let ckpt = match (&saved.done, &saved.checkpoint_name) {
                (Some(_), Some(name)) => runs::checkpoint().await.map(|b| (name.clone(), b)),
                _ => None,
            };
            let state = TrainState::restored(saved);
            self.checkpoint.set_value(ckpt);
            self.publish_exports(&state);
            self.state.set(state);
            self.restored.set(true);
        });
    }

    fn publish_exports(self, state: &TrainState) {
        let Some(done) = &state.done else { return };
        let metrics = object_url("application/json", done.metrics_json.as_bytes()).unwrap_or_default();
        self.exports.set(Some((metrics, self.checkpoint_url())));
    }

    fn dataset(self, data: DataCtx) -> Option<(std::sync::Arc<Vec<u8>>, usize, usize)> {
        let found = data.loaded.with_untracked(|l| l.as_ref().map(|l| (l.file.clone(), l.dataset.train.len(), l.dataset.side)));
        if found.is_none() {
            self.form_error.set(Some("Wait until the dataset above is loaded and verified.".into()));
        }
        found
    }

    /// Validates the form and starts a fresh worker for the run.
    pub fn start(self, data: DataCtx) {
        let Some((_, train_len, _)) = self.dataset(data) else { return };
        let request = match self.draft.get_untracked().validate(train_len) {
            Ok(r) => r,
            Err(e) => {
                self.form_error.set(Some(e));
                return;
            }
        };
        let init = if request.fine_tune {
            match self.imported_bytes.get_value() {
                Some(b) => Some(b),
                None => {
                    self.form_error.set(Some("Fine-tuning starts from a checkpoint: import one first.".into()));
                    return;
                }
            }
        } else {
            None
        };
        self.launch(data, TrainState::starting(request.clone()), Launch::Start(request, init));
    }

    /// Continues the interrupted run from its stored snapshot, on the backend now chosen.
    pub fn resume(self, data: DataCtx) {
        let Some((_, _, side)) = self.dataset(data) else { return };
        let state = self.state.get_untracked();
        let backend = self.draft.with_untracked(|d| d.backend);
        spawn_local(async move {
            let Some(snapshot) = runs::snapshot().await else {
                self.form_error.set(Some("The run's snapshot is no longer in this browser's storage.".into()));
                return;
            };
            if let Some(saved_side) = runs::load().await.map(|r| r.side).filter(|&s| s != side) {
                self.form_error.set(Some(format!(
                    "This run trained on {saved_side} px images: choose {saved_side} px above before continuing."
                )));
                return;
            }
            let next = state.continuing(backend);
            let Some(request) = next.request.clone() else { return };
            self.launch(data, next, Launch::Continue(request, snapshot));
        });
    }

    /// Evaluates a checkpoint file and keeps it for the explorer and for fine-tuning.
    pub fn import(self, data: DataCtx, name: String, bytes: Vec<u8>) {
        if self.dataset(data).is_none() {
            return;
        }
        // A quick look before anything is replaced: the core's checkpoints start with this.
        if !bytes.starts_with(b"BMNCKPT1") {
            self.form_error.set(Some(format!(
                "{name} is not a BreastMNIST Lab checkpoint (it does not start with BMNCKPT1); nothing was changed."
            )));
            return;
        }
        let request = match self.draft.get_untracked().validate(546) {
            Ok(r) => r,
            Err(e) => {
                self.form_error.set(Some(e));
                return;
            }
        };
        self.imported_bytes.set_value(Some(bytes.clone()));
        self.imported.set(Some(name.clone()));
        let (backend, tta) = (request.backend, request.tta);
        self.launch(data, TrainState::evaluating(&name, request), Launch::Evaluate(backend, name, tta, bytes));
    }

    /// Forgets the stored run.
    pub fn discard(self) {
        self.worker.set_value(None);
        self.explore.reset();
        self.state.set(TrainState::default());
        self.exports.set(None);
        self.restored.set(false);
        spawn_local(runs::clear());
    }

    /// Loads the restored run's checkpoint into a worker so the explorer can use it.
    pub fn explore_restored(self, data: DataCtx) {
        let Some((name, bytes)) = self.checkpoint.get_value() else { return };
        self.import(data, name, bytes);
    }

    fn launch(self, data: DataCtx, initial: TrainState, launch: Launch) {
        let Some((file, _, side)) = self.dataset(data) else { return };
        self.form_error.set(None);
        self.exports.set(None);
        self.restored.set(false);
        self.checkpoint.set_value(None);
        self.state.set(initial);
        self.worker.set_value(None);
        self.explore.reset();
        let (cmd, init) = match launch {
            Launch::Start(r, init) => (ToWorker::Start(r), init),
            Launch::Continue(r, snap) => (ToWorker::Continue(r), Some(snap)),
            Launch::Evaluate(backend, name, tta, bytes) => (ToWorker::Evaluate { backend, name, tta }, Some(bytes)),
        };
        let spawned = TrainerWorker::spawn(move |report: Report| {
            let explore = self.explore;
            let Report { msg, bytes } = report;
            if matches!(msg, FromWorker::Ready) {
                let sent = self.worker.with_value(|w| w.as_ref().map(|w| w.send(&cmd, Some(&file), init.as_deref())));
                if let Some(Err(e)) = sent {
                    self.state.update(|s| s.apply(&FromWorker::Failed { message: e }, now_ms()));
                }
                return;
            }
            let bytes = match (msg.clone(), bytes) {
                (FromWorker::Explained(e), Some(maps)) => return explore.on_explained(e, maps),
                (FromWorker::ActivationGrid(g), Some(values)) => return explore.on_grid(g, values),
                (FromWorker::Explaining { split, stage, done, total }, _) => {
                    return explore.progress.set(Some((split, stage, done, total)));
                }
                (FromWorker::ExplainFailed { message }, _) => return explore.on_failed(message),
                (_, bytes) => bytes,
            };
            self.state.update(|s| s.apply(&msg, now_ms()));
            match (&msg, bytes) {
                (FromWorker::Checkpoint { name }, Some(b)) => self.checkpoint.set_value(Some((name.clone(), b))),
                (FromWorker::Snapshot { .. }, Some(b)) => {
                    // Nothing lost: the state and the snapshot go to storage after every epoch.
                    if let Some(saved) = self.state.with_untracked(|s| s.saved(side)) {
                        spawn_local(async move {
                            runs::save(&saved, Some(&b), None).await;
                        });
                    }
                }
                _ => {}
            }
            match &msg {
                FromWorker::Done(_) => {
                    self.state.with_untracked(|s| self.publish_exports(s));
                    // The worker keeps the chosen model to answer the explorer.
                    explore.ready.set(true);
                    if let Some(saved) = self.state.with_untracked(|s| s.saved(side)) {
                        let ckpt = self.checkpoint.with_value(|c| c.as_ref().map(|(_, b)| b.clone()));
                        spawn_local(async move {
                            runs::save(&saved, None, ckpt.as_deref()).await;
                        });
                    }
                }
                FromWorker::Failed { .. } => {
                    // A failed run may still have a kept model (NaN loss after some epochs).
                    if self.checkpoint.with_value(Option::is_some) {
                        explore.ready.set(true);
                        self.publish_checkpoint_only();
                    }
                    if let Some(saved) = self.state.with_untracked(|s| s.saved(side)) {
                        spawn_local(async move {
                            runs::save(&saved, None, None).await;
                        });
                    }
                }
                FromWorker::Stopped => {
                    // A fresh worker per run: a WebGPU device can be initialised once per worker.
                    self.worker.set_value(None);
                }
                _ => {}
            }
        });
        match spawned {
            Ok(w) => self.worker.set_value(Some(w)),
            Err(e) => self.state.update(|s| s.apply(&FromWorker::Failed { message: e }, now_ms())),
        }
    }

    /// The kept checkpoint's name and a download URL for it.
    fn checkpoint_url(self) -> Option<(String, String)> {
        self.checkpoint.with_value(|c| {
            c.as_ref().and_then(|(name, b)| object_url("application/octet-stream", b).ok().map(|u| (name.clone(), u)))
        })
    }

    /// After a failure: the kept checkpoint stays downloadable.
    fn publish_checkpoint_only(self) {
        let ckpt = self.checkpoint_url();
        if ckpt.is_some() {
            self.exports.set(Some((String::new(), ckpt)));
        }
    }

    /// Sends a command to the run's worker, if there is one.
    pub fn send(self, cmd: ToWorker) {
        self.worker.with_value(|w| {
            if let Some(w) = w {
                let _ = w.send(&cmd, None, None);
            }
        });
    }
}

#[component]
pub fn TrainPanel() -> impl IntoView {
    let data = use_context::<DataCtx>().expect("DataCtx");
    let ctx = use_context::<TrainCtx>().expect("TrainCtx");
    let draft = ctx.draft;
    let state = ctx.state;
    let active = Memo::new(move |_| state.with(|s| s.phase.is_active()));

    let text_field = move |label: &'static str, id: &'static str, get: fn(&Draft) -> String, set: fn(&mut Draft, String)| {
        view! {
            <label class="field">{label}
                <input type="text" inputmode="decimal" name=id data-testid=format!("train-{id}")
                    prop:value=move || draft.with(get) disabled=move || active.get()
                    on:change=move |ev| { let v = event_target_value(&ev); draft.update(|d| set(d, v)); } />
            </label>
        }
    };

    view! {
        <div class="card train-card" aria-labelledby="train-h">
            <form class="train-form" on:submit=move |ev| { ev.prevent_default(); ctx.start(data); }>
                <label class="field">"Recipe"
                    <select data-testid="train-preset" disabled=move || active.get()
                        prop:value=move || draft.with(|d| d.preset().map_or("custom", Preset::name))
                        on:change=move |ev| {
                            if let Some(p) = Preset::parse(&event_target_value(&ev)) { draft.update(|d| d.apply_preset(p)); }
                        }>
                        <option value="reader" title="c16, 20 epochs, flips, last epoch, flip TTA: about 1.5 min on a CPU">"reader"</option>
                        <option value="best" title="c16, 60 epochs, flips, weight average, flip TTA">"best"</option>
                        <option value="paper" title="ResNet-18, 100 epochs, best validation AUC: MedMNIST's recipe">"paper"</option>
                        <option value="custom" disabled=true>"custom"</option>
                    </select>
                </label>
                <label class="field">"Model"
                    <select data-testid="train-model" prop:value=move || draft.with(|d| d.model.clone()) disabled=move || active.get()
                        on:change=move |ev| { let v = event_target_value(&ev); draft.update(|d| d.model = v); }>
                        {MODELS.into_iter().map(|m| view! { <option value=m>{m}</option> }).collect::<Vec<_>>()}
                    </select>
                </label>
                <label class="field">"Resolution"
                    <select data-testid="train-res" disabled=move || active.get()
                        prop:value=move || data.variant.get().side().to_string()
                        on:change=move |ev| {
                            if let Some(v) = event_target_value(&ev).parse().ok().and_then(breastmnist_data::Variant::from_side) {
                                data.variant.set(v);
                                data.load();
                            }
                        }>
                        <option value="28">"28 px"</option>
                        <option value="64">"64 px"</option>
                    </select>
                </label>
                {text_field("Epochs", "epochs", |d| d.epochs.clone(), |d, v| d.epochs = v)}
                {text_field("Batch", "batch", |d| d.batch.clone(), |d, v| d.batch = v)}
                {text_field("Learning rate", "lr", |d| d.lr.clone(), |d, v| d.lr = v)}
                {text_field("Seed", "seed", |d| d.seed.clone(), |d, v| d.seed = v)}
                {text_field("Subset (first N)", "subset", |d| d.subset.clone(), |d, v| d.subset = v)}
                {text_field("Mixup α", "mixup", |d| d.mixup.clone(), |d, v| d.mixup = v)}
                <label class="field">"Augment"
                    <select data-testid="train-augment" disabled=move || active.get()
                        prop:value=move || draft.with(|d| d.augment.name())
                        on:change=move |ev| { if let Some(a) = Augment::parse(&event_target_value(&ev)) { draft.update(|d| d.augment = a); } }>
                        <option value="none">"none"</option>
                        <option value="flip">"flips"</option>
                        <option value="full">"flips, turns, shifts"</option>
                    </select>
                </label>
                <label class="field">"Keep"
                    <select data-testid="train-selection" disabled=move || active.get()
                        prop:value=move || draft.with(|d| d.selection.name())
                        on:change=move |ev| { if let Some(v) = Selection::parse(&event_target_value(&ev)) { draft.update(|d| d.selection = v); } }>
                        <option value="best-val-auc">"best validation AUC"</option>
                        <option value="last">"last epoch"</option>
                        <option value="ema-last">"weight average, last epoch"</option>
                    </select>
                </label>
                <label class="field check">
                    <input type="checkbox" data-testid="train-tta" prop:checked=move || draft.with(|d| d.tta)
                        disabled=move || active.get()
                        on:change=move |ev| { let on = event_target_checked(&ev); draft.update(|d| d.tta = on); } />
                    " Flip test-time augmentation"
                </label>
                <label class="field">"Backend"
                    <select data-testid="train-backend" disabled=move || active.get()
                        prop:value=move || match draft.with(|d| d.backend) { BackendChoice::Auto => "auto", BackendChoice::WebGpu => "webgpu", BackendChoice::Cpu => "cpu" }
                        on:change=move |ev| { if let Some(b) = BackendChoice::parse(&event_target_value(&ev)) { draft.update(|d| d.backend = b); } }>
                        <option value="auto">"auto (WebGPU if fast)"</option>
                        <option value="webgpu">"WebGPU"</option>
                        <option value="cpu">"CPU"</option>
                    </select>
                </label>
                <div class="buttons">
                    <button type="submit" class="primary" data-testid="train-start" disabled=move || active.get()>"Start"</button>
                    <button type="button" data-testid="train-pause"
                        disabled=move || !matches!(state.with(|s| s.phase.clone()), Phase::Training | Phase::Paused)
                        on:click=move |_| {
                            let cmd = if state.with_untracked(|s| s.phase == Phase::Paused) { ToWorker::Resume } else { ToWorker::Pause };
                            ctx.send(cmd);
                        }>
                        {move || if state.with(|s| s.phase == Phase::Paused) { "Resume" } else { "Pause" }}
                    </button>
                    <button type="button" data-testid="train-stop" disabled=move || !active.get()
                        on:click=move |_| ctx.send(ToWorker::Stop)>"Stop"</button>
                </div>
            </form>
            <RunTools />
            {move || ctx.form_error.get().map(|e| view! { <p class="error" role="alert" data-testid="error">{e}</p> })}
            <Status />
            <Curves />
            <Results />
        </div>
    }
}

#[component]
fn Status() -> impl IntoView {
    let state = use_context::<TrainCtx>().expect("TrainCtx").state;
    let badge = move || {
        state.with(|s| {
            s.backend.as_ref().map(|b| {
                let label = if b.kind == "webgpu" { "WebGPU" } else { "CPU" };
                let notice = b.notice.clone();
                view! {
                    <p class="badge-row">
                        <span class="badge" data-testid="backend-badge" data-kind=b.kind.clone()>
                            {format!("{label} · {}", b.adapter)}
                        </span>
                    </p>
                    {notice.map(|n| view! { <p class="notice" role="status">{n}</p> })}
                }
            })
        })
    };
    let progress_text = move || {
        state.with(|s| {
            let eta = s.eta_seconds(now_ms()).map(|e| format!(" · about {} left", format_duration(e))).unwrap_or_default();
            match &s.phase {
                Phase::Idle => String::new(),
                Phase::Starting => "Loading the trainer and choosing a backend…".into(),
                Phase::Done => match &s.evaluated {
                    Some(name) => format!("Evaluated {name}"),
                    None => format!("Done: {} epoch{}", s.epochs_total(), if s.epochs_total() == 1 { "" } else { "s" }),
                },
                Phase::Interrupted => format!("Interrupted after epoch {} of {}", s.epoch, s.epochs_total()),
                Phase::Stopped => format!("Stopped at epoch {} of {}", s.epoch, s.epochs_total()),
                Phase::Failed(_) => format!("Stopped at epoch {}, step {}", s.epoch, s.step),
                Phase::Training | Phase::Paused => {
                    let paused = if s.phase == Phase::Paused { " (paused)" } else { "" };
                    let evaluating = s.eval.as_ref().map(|(split, d, t)| format!(" · evaluating {split} {d}/{t}")).unwrap_or_default();
                    format!("Epoch {} of {} · step {} of {}{evaluating}{eta}{paused}", s.epoch, s.epochs_total(), s.step, s.steps_per_epoch)
                }
            }
        })
    };
    view! {
        {badge}
        <Show when=move || state.with(|s| s.phase != Phase::Idle)>
            <div class="progress" data-testid="train-progress" data-fraction=move || format!("{:.4}", state.with(|s| s.fraction()))
                data-step-ms=move || state.with(|s| s.step_millis.iter().map(|m| format!("{m:.0}")).collect::<Vec<_>>().join(","))>
                <progress max="1" prop:value=move || state.with(|s| s.fraction()) aria-label="Training progress"></progress>
                <span>{progress_text}</span>
            </div>
        </Show>
        {move || state.with(|s| match &s.phase {
            Phase::Failed(m) => Some(view! { <p class="error" role="alert" data-testid="error">{format!("Training stopped: {m}")}</p> }),
            _ => None,
        })}
    }
}

fn format_duration(seconds: f64) -> String {
    let s = seconds.round() as u64;
    if s >= 60 { format!("{} min {:02} s", s / 60, s % 60) } else { format!("{s} s") }
}

/// Where the pointer is over a chart, as canvas pixels (`CHART_WIDTH` wide).
fn canvas_x(ev: &web_sys::MouseEvent) -> Option<f64> {
    let el: web_sys::Element = ev.target()?.dyn_into().ok()?;
    let rect = el.get_bounding_client_rect();
    (rect.width() > 0.0).then(|| (ev.client_x() as f64 - rect.left()) / rect.width() * CHART_WIDTH)
}

#[component]
fn Curves() -> impl IntoView {
    let state = use_context::<TrainCtx>().expect("TrainCtx").state;
    let loss = NodeRef::<Canvas>::new();
    let metric = NodeRef::<Canvas>::new();
    let loss_series = RwSignal::new(Series::default());
    let metric_series = RwSignal::new(Series::default());
    // The epoch under the pointer (either chart), else none: the readouts show the latest.
    let hover = RwSignal::new(None::<usize>);
    Effect::new(move |_| {
        let (ls, ms, h) = (loss_series.get(), metric_series.get(), hover.get());
        state.with(|s| {
            let epochs = s.epochs_total();
            if let Some(c) = loss.get() {
                let _ = curves::draw_loss(c.unchecked_into(), &s.step_losses, &s.history, epochs, ls, h);
            }
            if let Some(c) = metric.get() {
                let _ = curves::draw_metrics(c.unchecked_into(), &s.history, epochs, ms, h);
            }
        });
    });
    let on_move = move |ev: web_sys::MouseEvent| {
        let Some(x) = canvas_x(&ev) else { return };
        let epoch = state.with_untracked(|s| nearest_epoch(&s.history, epoch_at(x, s.epochs_total())).map(|e| e.epoch));
        if hover.get_untracked() != epoch {
            hover.set(epoch);
        }
    };
    let shown = move || {
        state.with(|s| {
            let e = match hover.get() {
                Some(n) => s.history.iter().find(|h| h.epoch == n),
                None => s.history.last(),
            };
            e.cloned()
        })
    };
    let loss_readout = move || {
        shown().map(|e| format!("epoch {}: train loss {:.4} · val loss {:.4} · lr {:.0e}", e.epoch, e.train_loss, e.val_loss, e.lr))
    };
    let metric_readout = move || {
        shown().map(|e| {
            format!("epoch {}: val AUC {:.4} · val ACC {:.4}{}", e.epoch, e.val_auc, e.val_acc, if e.is_best { " · kept so far" } else { "" })
        })
    };
    let toggle = move |sig: RwSignal<Series>, label: &'static str, id: &'static str, get: fn(&Series) -> bool, set: fn(&mut Series, bool)| {
        view! {
            <label class="field check series-toggle">
                <input type="checkbox" data-testid=id prop:checked=move || sig.with(get)
                    on:change=move |ev| { let on = event_target_checked(&ev); sig.update(|s| set(s, on)); } />
                {label}
            </label>
        }
    };
    view! {
        <Show when=move || state.with(|s| s.phase != Phase::Idle && s.evaluated.is_none())>
            <div class="curves">
                <figure>
                    <canvas node_ref=loss width="560" height="260" data-testid="loss-chart"
                        data-epochs=move || state.with(|s| s.history.len()).to_string()
                        data-steps=move || state.with(|s| s.step_losses.len()).to_string()
                        on:mousemove=on_move on:mouseleave=move |_| hover.set(None)
                        role="img" aria-label="Loss per step and per epoch, training and validation"></canvas>
                    <p class="chart-readout" data-testid="loss-readout" aria-live="polite">{loss_readout}</p>
                    <figcaption>
                        "Loss: every step (grey), and per epoch for training and validation. Point at the chart for exact values. "
                        {toggle(loss_series, " steps", "series-steps", |s| s.steps, |s, v| s.steps = v)}
                        {toggle(loss_series, " train", "series-train", |s| s.train, |s, v| s.train = v)}
                        {toggle(loss_series, " val", "series-val", |s| s.val, |s, v| s.val = v)}
                    </figcaption>
                </figure>
                <figure>
                    <canvas node_ref=metric width="560" height="260" data-testid="metric-chart"
                        data-epochs=move || state.with(|s| s.history.len()).to_string()
                        on:mousemove=on_move on:mouseleave=move |_| hover.set(None)
                        role="img" aria-label="Validation AUC and accuracy per epoch"></canvas>
                    <p class="chart-readout" data-testid="metric-readout" aria-live="polite">{metric_readout}</p>
                    <figcaption>
                        "Validation AUC and accuracy per epoch; the ring marks the epoch that is kept. "
                        {toggle(metric_series, " AUC", "series-auc", |s| s.train, |s, v| s.train = v)}
                        {toggle(metric_series, " ACC", "series-acc", |s| s.val, |s, v| s.val = v)}
                    </figcaption>
                </figure>
            </div>
        </Show>
    }
}

#[component]
fn Results() -> impl IntoView {
    let ctx = use_context::<TrainCtx>().expect("TrainCtx");
    let roc = NodeRef::<Canvas>::new();
    Effect::new(move |_| {
        ctx.state.with(|s| {
            if let (Some(done), Some(c)) = (&s.done, roc.get()) {
                let _ = roc_chart::draw_roc(c.unchecked_into(), &done.roc, done.test_auc);
            }
        });
    });
    let body = move || {
        let done = ctx.state.with(|s| s.done.clone())?;
        let evaluated = ctx.state.with(|s| s.evaluated.clone());
        let [[tn, fp], [fneg, tp]] = done.confusion;
        let origin = match &evaluated {
            Some(name) => format!(" (imported checkpoint {name}, validation AUC {:.3})", done.val_auc),
            None => format!(" (model of epoch {}, validation AUC {:.3})", done.best_epoch, done.val_auc),
        };
        Some(view! {
            <p class="test-metrics" data-testid="test-metrics">
                {format!("Test AUC {:.3} · ACC {:.3}", done.test_auc, done.test_acc)}
                <span class="muted">{origin}</span>
            </p>
            <table class="confusion">
                <caption>"Confusion matrix on the 156 test images (threshold 0.5)"</caption>
                <thead><tr><th></th><th scope="col">"predicted malignant"</th><th scope="col">"predicted benign"</th></tr></thead>
                <tbody>
                    <tr><th scope="row">"malignant"</th><td>{tn}</td><td>{fp}</td></tr>
                    <tr><th scope="row">"normal/benign"</th><td>{fneg}</td><td>{tp}</td></tr>
                </tbody>
            </table>
        })
    };
    let exports = move || {
        ctx.exports.get().map(|(metrics, ckpt)| view! {
            <p class="exports">
                {(!metrics.is_empty()).then(|| view! {
                    <a class="button" href=metrics download="metrics.json" data-testid="export-metrics">"Download metrics JSON"</a>
                })}
                {ckpt.map(|(name, href)| view! {
                    <a class="button" href=href download=name data-testid="export-checkpoint">"Download checkpoint"</a>
                })}
            </p>
        })
    };
    view! {
        <div class="results">
            {body}
            <figure class="roc" class:hidden=move || ctx.state.with(|s| s.done.is_none())>
                <canvas node_ref=roc width="360" height="300" data-testid="roc-chart"
                    data-points=move || ctx.state.with(|s| s.done.as_ref().map_or(0, |d| d.roc.len())).to_string()
                    role="img" aria-label="ROC curve of the kept model on the test split"></canvas>
                <figcaption>"ROC on the test split: every threshold at once; the area under it is the AUC."</figcaption>
            </figure>
            {exports}
        </div>
    }
}

/// Import a checkpoint (evaluate it, explore it, fine-tune it); continue or discard a stored run.
#[component]
fn RunTools() -> impl IntoView {
    let data = use_context::<DataCtx>().expect("DataCtx");
    let ctx = use_context::<TrainCtx>().expect("TrainCtx");
    let draft = ctx.draft;
    let state = ctx.state;
    let active = Memo::new(move |_| state.with(|s| s.phase.is_active()));
    let on_file = move |ev: web_sys::Event| {
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
        let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
        input.set_value("");
        let name = file.name();
        if file.size() > 300e6 {
            ctx.form_error.set(Some(format!("{name} is {:.0} MB: too large to be a checkpoint of these models.", file.size() / 1e6)));
            return;
        }
        spawn_local(async move {
            match wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await {
                Ok(buf) => ctx.import(data, name, js_sys::Uint8Array::new(&buf).to_vec()),
                Err(e) => ctx.form_error.set(Some(format!("could not read {name}: {e:?}"))),
            }
        });
    };
    let banner = move || {
        let s = state.get();
        let restored = ctx.restored.get();
        let total = s.epochs_total();
        let model = s.request.as_ref().map(|r| r.model.clone()).unwrap_or_default();
        if s.phase.is_active() {
            return None;
        }
        if s.can_continue() {
            let epoch = s.snapshot_epoch.unwrap_or(0);
            let text = if restored {
                format!("Restored from your last visit: {model}, {epoch} of {total} epochs done.")
            } else {
                let gpu = s.backend.as_ref().is_some_and(|b| b.kind == "webgpu");
                let hint = if gpu && matches!(s.phase, Phase::Failed(_)) {
                    " If the GPU was lost or reset, choose the CPU backend above first."
                } else {
                    ""
                };
                format!("The run can continue from its snapshot after epoch {epoch} of {total}, on the backend chosen above.{hint}")
            };
            return Some(view! {
                <p class="notice restored" data-testid="run-restored" role="status">{text}" "
                    <button type="button" class="primary" data-testid="train-resume" on:click=move |_| ctx.resume(data)>
                        {format!("Continue from epoch {}", epoch + 1)}
                    </button>" "
                    <button type="button" data-testid="train-discard" on:click=move |_| ctx.discard()>"Discard"</button>
                </p>
            }.into_any());
        }
        (restored && s.done.is_some()).then(|| view! {
            <p class="notice restored" data-testid="run-restored" role="status">
                {format!("Restored from your last visit: the results of a {model} run.")}" "
                <button type="button" data-testid="explore-restored" on:click=move |_| ctx.explore_restored(data)>
                    "Open its model in the explorer"
                </button>" "
                <button type="button" data-testid="train-discard" on:click=move |_| ctx.discard()>"Discard"</button>
            </p>
        }.into_any())
    };
    view! {
        {banner}
        <div class="import-row">
            <label class="button file-button">"Import a checkpoint…"
                <input type="file" accept=".ckpt,application/octet-stream" data-testid="import-checkpoint"
                    disabled=move || active.get() on:change=on_file />
            </label>
            {move || ctx.imported.get().map(|name| view! {
                <span class="muted" data-testid="imported-name">{format!("{name} · ")}</span>
                <label class="field check">
                    <input type="checkbox" data-testid="train-finetune" prop:checked=move || draft.with(|d| d.fine_tune)
                        disabled=move || active.get()
                        on:change=move |ev| { let on = event_target_checked(&ev); draft.update(|d| d.fine_tune = on); } />
                    " Start fine-tunes it"
                </label>
                <label class="field check">
                    <input type="checkbox" data-testid="train-freeze" prop:checked=move || draft.with(|d| d.freeze_backbone)
                        disabled=move || active.get() || !draft.with(|d| d.fine_tune)
                        on:change=move |ev| { let on = event_target_checked(&ev); draft.update(|d| d.freeze_backbone = on); } />
                    " only layer4 and the head"
                </label>
            })}
        </div>
    }
}

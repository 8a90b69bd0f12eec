//! The train panel: settings (from the URL or the form), Start/Pause/Stop, progress with ETA,
//! the backend badge, live curves, and the results with their exports.
//!
//! The trainer runs in a Web Worker loaded on demand (`runtime::trainer`); this component only
//! folds its reports into a [`TrainState`] and draws.

use breastmnist_protocol::{BackendChoice, FromWorker, ToWorker};
use leptos::html::Canvas;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::dataset_card::DataCtx;
use crate::charts::curves;
use crate::runtime::trainer::{Report, TrainerWorker, object_url};
use crate::runtime::url;
use crate::train_model::{Draft, MODELS, Phase, TrainState};

/// The run, shared with the benchmark table (which shows the reader's row).
#[derive(Clone, Copy)]
pub struct TrainCtx {
    pub draft: RwSignal<Draft>,
    pub state: RwSignal<TrainState>,
    /// Problems with the form, shown next to Start.
    pub form_error: RwSignal<Option<String>>,
    /// Download URLs of the finished run: (metrics JSON, (checkpoint name, URL)).
    pub exports: RwSignal<Option<(String, Option<(String, String)>)>>,
    worker: StoredValue<Option<TrainerWorker>, LocalStorage>,
    checkpoint: StoredValue<Option<(String, Vec<u8>)>, LocalStorage>,
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

impl TrainCtx {
    pub fn new() -> Self {
        Self {
            draft: RwSignal::new(Draft::from_query(url::param)),
            state: RwSignal::new(TrainState::default()),
            form_error: RwSignal::new(None),
            exports: RwSignal::new(None),
            worker: StoredValue::new_local(None),
            checkpoint: StoredValue::new_local(None),
        }
    }

    /// Validates the form and starts a fresh worker for the run.
    pub fn start(self, data: DataCtx) {
        let Some(file) = data.loaded.with_untracked(|l| l.as_ref().map(|l| (l.file.clone(), l.dataset.train.len()))) else {
            self.form_error.set(Some("Wait until the dataset above is loaded and verified.".into()));
            return;
        };
        let request = match self.draft.get_untracked().validate(file.1) {
            Ok(r) => r,
            Err(e) => {
                self.form_error.set(Some(e));
                return;
            }
        };
        self.form_error.set(None);
        self.exports.set(None);
        self.checkpoint.set_value(None);
        self.state.set(TrainState::starting(request.clone()));
        self.worker.set_value(None);
        let bytes = file.0;
        let spawned = TrainerWorker::spawn(move |report: Report| {
            if matches!(report.msg, FromWorker::Ready) {
                let sent = self.worker.with_value(|w| w.as_ref().map(|w| w.send(&ToWorker::Start(request.clone()), Some(&bytes))));
                if let Some(Err(e)) = sent {
                    self.state.update(|s| s.apply(&FromWorker::Failed { message: e }, now_ms()));
                }
                return;
            }
            if let (FromWorker::Checkpoint { name }, Some(b)) = (&report.msg, report.bytes) {
                self.checkpoint.set_value(Some((name.clone(), b)));
            }
            if let FromWorker::Done(done) = &report.msg {
                let metrics = object_url("application/json", done.metrics_json.as_bytes()).unwrap_or_default();
                let ckpt = self.checkpoint.with_value(|c| {
                    c.as_ref().and_then(|(name, b)| object_url("application/octet-stream", b).ok().map(|u| (name.clone(), u)))
                });
                self.exports.set(Some((metrics, ckpt)));
            }
            let ends = matches!(report.msg, FromWorker::Done(_) | FromWorker::Stopped | FromWorker::Failed { .. });
            self.state.update(|s| s.apply(&report.msg, now_ms()));
            if ends {
                // A fresh worker per run: a WebGPU device can be initialised once per worker.
                self.worker.set_value(None);
            }
        });
        match spawned {
            Ok(w) => self.worker.set_value(Some(w)),
            Err(e) => self.state.update(|s| s.apply(&FromWorker::Failed { message: e }, now_ms())),
        }
    }

    fn send(self, cmd: ToWorker) {
        self.worker.with_value(|w| {
            if let Some(w) = w {
                let _ = w.send(&cmd, None);
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
                <label class="field check">
                    <input type="checkbox" data-testid="train-augment" prop:checked=move || draft.with(|d| d.augment)
                        disabled=move || active.get()
                        on:change=move |ev| { let on = event_target_checked(&ev); draft.update(|d| d.augment = on); } />
                    " Augment (flips, small shifts)"
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
                Phase::Done => format!("Done: {} epoch{}", s.epochs_total(), if s.epochs_total() == 1 { "" } else { "s" }),
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
            <div class="progress" data-testid="train-progress" data-fraction=move || format!("{:.4}", state.with(|s| s.fraction()))>
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

#[component]
fn Curves() -> impl IntoView {
    let state = use_context::<TrainCtx>().expect("TrainCtx").state;
    let loss = NodeRef::<Canvas>::new();
    let metric = NodeRef::<Canvas>::new();
    Effect::new(move |_| {
        state.with(|s| {
            let epochs = s.epochs_total();
            if let Some(c) = loss.get() {
                let _ = curves::draw_loss(c.unchecked_into(), &s.step_losses, &s.history, epochs);
            }
            if let Some(c) = metric.get() {
                let _ = curves::draw_metrics(c.unchecked_into(), &s.history, epochs);
            }
        });
    });
    view! {
        <Show when=move || state.with(|s| s.phase != Phase::Idle)>
            <div class="curves">
                <figure>
                    <canvas node_ref=loss width="560" height="260" data-testid="loss-chart"
                        data-epochs=move || state.with(|s| s.history.len()).to_string()
                        data-steps=move || state.with(|s| s.step_losses.len()).to_string()
                        role="img" aria-label="Loss per step and per epoch, training and validation"></canvas>
                    <figcaption>"Loss: every step (grey), and per epoch for training and validation."</figcaption>
                </figure>
                <figure>
                    <canvas node_ref=metric width="560" height="260" data-testid="metric-chart"
                        data-epochs=move || state.with(|s| s.history.len()).to_string()
                        role="img" aria-label="Validation AUC and accuracy per epoch"></canvas>
                    <figcaption>"Validation AUC and accuracy per epoch; the ring marks the epoch that is kept."</figcaption>
                </figure>
            </div>
        </Show>
    }
}

#[component]
fn Results() -> impl IntoView {
    let ctx = use_context::<TrainCtx>().expect("TrainCtx");
    move || {
        let done = ctx.state.with(|s| s.done.clone())?;
        let [[tn, fp], [fneg, tp]] = done.confusion;
        let exports = ctx.exports.get();
        Some(view! {
            <div class="results">
                <p class="test-metrics" data-testid="test-metrics">
                    {format!("Test AUC {:.3} · ACC {:.3}", done.test_auc, done.test_acc)}
                    <span class="muted">{format!(" (model of epoch {}, validation AUC {:.3})", done.best_epoch, done.val_auc)}</span>
                </p>
                <table class="confusion">
                    <caption>"Confusion matrix on the 156 test images (threshold 0.5)"</caption>
                    <thead><tr><th></th><th scope="col">"predicted malignant"</th><th scope="col">"predicted benign"</th></tr></thead>
                    <tbody>
                        <tr><th scope="row">"malignant"</th><td>{tn}</td><td>{fp}</td></tr>
                        <tr><th scope="row">"normal/benign"</th><td>{fneg}</td><td>{tp}</td></tr>
                    </tbody>
                </table>
                {exports.map(|(metrics, ckpt)| view! {
                    <p class="exports">
                        <a class="button" href=metrics download="metrics.json" data-testid="export-metrics">"Download metrics JSON"</a>
                        {ckpt.map(|(name, href)| view! {
                            <a class="button" href=href download=name data-testid="export-checkpoint">"Download checkpoint"</a>
                        })}
                    </p>
                })}
            </div>
        })
    }
}

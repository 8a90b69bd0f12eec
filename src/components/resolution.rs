//! The resolution experiment: native 28 px, native 64 px and 28 px upsampled to 64, trained one
//! after another with the same model, recipe and seed, each in a fresh trainer worker; a row
//! per arm with its test AUC and ACC.

use std::sync::Arc;

use breastmnist_data::Variant;
use breastmnist_protocol::{BackendChoice, ModelKind, ToWorker};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::runtime::dataset::load_official;
use crate::runtime::fetch::Cancel;
use crate::runtime::worker::{Outgoing, Report, WorkerHandle};
use crate::state::data::DataCtx;
use crate::view::resolution::{ARMS, ArmState};

#[derive(Clone, Copy)]
struct ResCtx {
    data: DataCtx,
    arms: RwSignal<[ArmState; 3]>,
    running: RwSignal<bool>,
    model: RwSignal<ModelKind>,
    epochs: RwSignal<usize>,
    backend: RwSignal<BackendChoice>,
    worker: StoredValue<Option<WorkerHandle>, LocalStorage>,
}

impl ResCtx {
    fn set(self, i: usize, state: ArmState) {
        self.arms.update(|a| a[i] = state);
    }

    /// The verified file of `side` px: the one already loaded when it matches, else the
    /// official one (from Cache Storage or the network).
    async fn file(self, side: usize) -> Result<Arc<Vec<u8>>, String> {
        if let Some(f) =
            self.data.loaded.with_untracked(|l| l.as_ref().filter(|l| l.dataset.side == side).map(|l| l.file.clone()))
        {
            return Ok(f);
        }
        let variant = Variant::from_side(side).ok_or("no such variant")?;
        load_official(variant, || {}, |_, _| {}, &Cancel::new()).await.map(|l| l.file).map_err(|e| e.to_string())
    }

    /// Runs arm `i`, then the next one.
    fn run_arm(self, i: usize) {
        let Some(arm) = ARMS.get(i).copied() else {
            self.running.set(false);
            self.worker.set_value(None);
            return;
        };
        self.set(i, ArmState::Loading);
        spawn_local(async move {
            let file = match self.file(arm.file_side).await {
                Ok(f) => f,
                Err(e) => {
                    self.set(i, ArmState::Failed(e));
                    return self.run_arm(i + 1);
                }
            };
            let epochs = self.epochs.get_untracked();
            let request = arm.request(self.model.get_untracked(), epochs, 0, self.backend.get_untracked());
            let started = js_sys::Date::now();
            let first = Outgoing { cmd: ToWorker::Start(request), bytes: Some(file), init: None, extra: Vec::new() };
            let spawned = WorkerHandle::spawn(first, move |report: Report| {
                let elapsed = (js_sys::Date::now() - started) / 1000.0;
                let was_finished = self.arms.with_untracked(|a| a[i].is_finished());
                self.arms.update(|a| a[i].apply(&report.msg, epochs, elapsed));
                if !was_finished && self.arms.with_untracked(|a| a[i].is_finished()) {
                    self.run_arm(i + 1);
                }
            });
            match spawned {
                Ok(w) => self.worker.set_value(Some(w)),
                Err(e) => {
                    self.set(i, ArmState::Failed(e.message));
                    self.run_arm(i + 1);
                }
            }
        });
    }
}

#[component]
pub fn ResolutionExperiment() -> impl IntoView {
    let data = expect_context::<DataCtx>();
    let params = crate::runtime::url::param;
    let ctx = ResCtx {
        data,
        arms: RwSignal::new(Default::default()),
        running: RwSignal::new(false),
        model: RwSignal::new(params("res_model").and_then(|m| ModelKind::parse(&m)).unwrap_or(ModelKind::Tiny)),
        epochs: RwSignal::new(
            params("res_epochs").and_then(|e| e.parse().ok()).filter(|&e| (1..=100).contains(&e)).unwrap_or(10),
        ),
        backend: RwSignal::new(params("backend").as_deref().and_then(BackendChoice::parse_loose).unwrap_or_default()),
        worker: StoredValue::new_local(None),
    };
    let start = move |_| {
        if ctx.running.get_untracked() {
            return;
        }
        ctx.running.set(true);
        ctx.arms.set(Default::default());
        ctx.run_arm(0);
    };
    let stop = move |_| {
        ctx.worker.set_value(None);
        ctx.running.set(false);
        ctx.arms.update(|a| {
            for s in a.iter_mut().filter(|s| !s.is_finished()) {
                *s = ArmState::Failed("stopped".into());
            }
        });
    };
    let row = move |i: usize| {
        let arm = ARMS[i];
        let state = move || ctx.arms.with(|a| a[i].clone());
        let cell =
            move |f: fn(&ArmState) -> Option<f64>| move || f(&state()).map(|v| format!("{v:.3}")).unwrap_or_else(|| "–".into());
        view! {
            <tr data-testid="resolution-row" data-arm=arm.key data-done=move || matches!(state(), ArmState::Done { .. }).to_string()>
                <th scope="row">{arm.label}</th>
                <td>{cell(|s| match s { ArmState::Done { auc, .. } => Some(*auc), _ => None })}</td>
                <td>{cell(|s| match s { ArmState::Done { acc, .. } => Some(*acc), _ => None })}</td>
                <td>{cell(|s| match s { ArmState::Done { val_auc, .. } => Some(*val_auc), _ => None })}</td>
                <td class="status-cell">{move || state().describe()}</td>
            </tr>
        }
    };
    view! {
        <div class="card resolution-card">
            <div class="train-form">
                <label class="field">"Model"
                    <select data-testid="resolution-model" prop:value=move || ctx.model.get().name() disabled=move || ctx.running.get()
                        on:change=move |ev| { if let Some(m) = ModelKind::parse(&event_target_value(&ev)) { ctx.model.set(m); } }>
                        {ModelKind::ALL.into_iter().map(|m| view! { <option value=m.name()>{m.name()}</option> }).collect::<Vec<_>>()}
                    </select>
                </label>
                <label class="field">"Epochs per arm"
                    <input type="number" min="1" max="100" data-testid="resolution-epochs" disabled=move || ctx.running.get()
                        prop:value=move || ctx.epochs.get().to_string()
                        on:change=move |ev| { if let Ok(e) = event_target_value(&ev).parse::<usize>() { ctx.epochs.set(e.clamp(1, 100)); } } />
                </label>
                <div class="buttons">
                    <button type="button" class="primary" data-testid="resolution-run" disabled=move || ctx.running.get() on:click=start>
                        "Run the comparison"
                    </button>
                    <button type="button" data-testid="resolution-stop" disabled=move || !ctx.running.get() on:click=stop>"Stop"</button>
                </div>
            </div>
            <table class="benchmark resolution-table">
                <caption>"Same model, recipe (Adam 0.001, batch 32) and seed; test metrics of the epoch with the best validation AUC."</caption>
                <thead><tr><th scope="col">"Input"</th><th scope="col">"Test AUC"</th><th scope="col">"Test ACC"</th><th scope="col">"Val AUC"</th><th scope="col">"Status"</th></tr></thead>
                <tbody>{(0..3).map(row).collect::<Vec<_>>()}</tbody>
            </table>
        </div>
    }
}

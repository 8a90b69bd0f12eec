//! The resolution experiment's state: its settings (from the form or the address:
//! `?res_model=c8&res_epochs=5`), one row per arm, and the series that trains the arms one
//! after another (`state::series`), each arm's file found by `DataCtx::file_of`.

use breastmnist_protocol::{BackendChoice, ModelKind, ToWorker};
use leptos::prelude::*;

use crate::runtime::fetch::Cancel;
use crate::runtime::url::param;
use crate::runtime::worker::{Outgoing, Report};
use crate::state::data::DataCtx;
use crate::state::series::{Jobs, Series};
use crate::view::resolution::{ARMS, ArmState};

/// The resolution experiment, provided in context; `Copy`.
#[derive(Clone, Copy)]
pub struct ResolutionCtx {
    data: DataCtx,
    pub arms: RwSignal<[ArmState; 3]>,
    pub running: RwSignal<bool>,
    pub model: RwSignal<ModelKind>,
    pub epochs: RwSignal<usize>,
    backend: BackendChoice,
    series: Series,
    /// When each arm's worker was asked to start (ms), for its duration.
    started: StoredValue<[f64; 3]>,
}

impl ResolutionCtx {
    pub fn new(data: DataCtx) -> Self {
        ResolutionCtx {
            data,
            arms: RwSignal::new(Default::default()),
            running: RwSignal::new(false),
            model: RwSignal::new(param("res_model").and_then(|m| ModelKind::parse(&m)).unwrap_or(ModelKind::Tiny)),
            epochs: RwSignal::new(
                param("res_epochs").and_then(|e| e.parse().ok()).filter(|e| (1..=100).contains(e)).unwrap_or(10),
            ),
            backend: param("backend").as_deref().and_then(BackendChoice::parse_loose).unwrap_or_default(),
            series: Series::new(),
            started: StoredValue::new([0.0; 3]),
        }
    }

    /// Runs the three arms, one after another.
    pub fn start(self) {
        if self.running.get_untracked() {
            return;
        }
        self.running.set(true);
        self.arms.set(Default::default());
        self.series.start(self);
    }

    /// Stops the experiment: the running arm ends (also while its file loads) and the waiting
    /// ones are marked stopped.
    pub fn stop(self) {
        self.series.stop();
        self.running.set(false);
        self.arms.update(|a| {
            for s in a.iter_mut().filter(|s| !s.is_finished()) {
                *s = ArmState::Failed("stopped".into());
            }
        });
    }

    fn set(self, i: usize, state: ArmState) {
        self.arms.update(|a| a[i] = state);
    }
}

impl Jobs for ResolutionCtx {
    fn count(self) -> usize {
        ARMS.len()
    }

    async fn prepare(self, i: usize, cancel: Cancel) -> Result<Outgoing, String> {
        let arm = ARMS[i];
        self.set(i, ArmState::Loading);
        let file = self.data.file_of(arm.file_side, &cancel).await?;
        // A stopped experiment writes nothing more.
        if cancel.is_cancelled() {
            return Err("stopped".into());
        }
        let request = arm.request(self.model.get_untracked(), self.epochs.get_untracked(), 0, self.backend);
        self.started.update_value(|s| s[i] = js_sys::Date::now());
        Ok(Outgoing { cmd: ToWorker::Start(request), bytes: Some(file), init: None, extra: Vec::new() })
    }

    fn failed(self, i: usize, why: String) {
        self.set(i, ArmState::Failed(why));
    }

    fn report(self, i: usize, report: Report) -> bool {
        let elapsed = (js_sys::Date::now() - self.started.get_value()[i]) / 1000.0;
        let epochs = self.epochs.get_untracked();
        let was_finished = self.arms.with_untracked(|a| a[i].is_finished());
        self.arms.update(|a| a[i].apply(&report.msg, epochs, elapsed));
        !was_finished && self.arms.with_untracked(|a| a[i].is_finished())
    }

    fn finished(self) {
        self.running.set(false);
    }
}

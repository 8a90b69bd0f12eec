//! The GAN in the tab: trained in a worker of its own on the verified 28 px file's training
//! images (the worker's `gan` room reads nothing else), with the served SimCLR encoder
//! (`c16-contrastive.ckpt`, fetched and verified) for the Fréchet distance. Stop drops the
//! worker; a finished GAN's last grid and curves stay.

use breastmnist_protocol::{ModelKind, StartingPoint, ToWorker};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::runtime::fetch::Cancel;
use crate::runtime::pretrained;
use crate::runtime::url::param;
use crate::runtime::worker::{Outgoing, Report, WorkerHandle};
use crate::state::data::DataCtx;
use crate::view::gan::{GanRun, GanSettings, GanStatus};
use crate::view::served::ServedPoint;

/// The tab's GAN, provided in context; `Copy`.
#[derive(Clone, Copy)]
pub struct GanCtx {
    data: DataCtx,
    pub settings: RwSignal<GanSettings>,
    pub run: RwSignal<GanRun>,
    worker: StoredValue<Option<WorkerHandle>, LocalStorage>,
    /// Counts starts and stops: a load that finishes after Stop (or after a newer Start) starts
    /// nothing and reports nothing.
    generation: StoredValue<u64>,
    cancel: StoredValue<Option<Cancel>, LocalStorage>,
}

impl GanCtx {
    pub fn new(data: DataCtx) -> Self {
        GanCtx {
            data,
            settings: RwSignal::new(GanSettings::from_query(param)),
            run: RwSignal::new(GanRun::default()),
            worker: StoredValue::new_local(None),
            generation: StoredValue::new(0),
            cancel: StoredValue::new_local(None),
        }
    }

    /// Trains a GAN with the form's settings, in a worker of its own.
    pub fn start(self) {
        if self.run.with_untracked(GanRun::is_running) {
            return;
        }
        let settings = self.settings.get_untracked();
        self.run.set(GanRun::starting(settings.epochs));
        self.generation.update_value(|g| *g += 1);
        let generation = self.generation.get_value();
        let cancel = Cancel::new();
        self.cancel.set_value(Some(cancel.clone()));
        let current = move || self.generation.get_value() == generation;
        let fail = move |why: String| {
            if current() {
                self.run.update(|r| r.status = GanStatus::Failed(why));
            }
        };
        spawn_local(async move {
            let file = match self.data.file_of(28, &cancel).await {
                Ok(f) => f,
                Err(e) => return fail(e),
            };
            if !current() {
                return;
            }
            self.run.update(|r| r.status = GanStatus::Loading("the SimCLR encoder (for the Fréchet distance)".into()));
            let Some(point) = ServedPoint::find(ModelKind::C16, StartingPoint::Contrastive) else {
                return fail("this page serves no SimCLR encoder".into());
            };
            let encoder = match pretrained::load(point, &cancel).await {
                Ok(bytes) => bytes,
                Err(e) => return fail(format!("the encoder {} could not be loaded ({e}); nothing was started", point.url())),
            };
            if !current() {
                return;
            }
            self.run.update(|r| r.status = GanStatus::Loading("the trainer".into()));
            let started = js_sys::Date::now();
            let first =
                Outgoing { cmd: ToWorker::Gan(settings.request()), bytes: Some(file), init: Some(encoder), extra: Vec::new() };
            let spawned = WorkerHandle::spawn(first, move |report: Report| {
                if !current() {
                    return;
                }
                let elapsed = (js_sys::Date::now() - started) / 1000.0;
                self.run.update(|r| r.apply(&report.msg, elapsed));
                if !self.run.with_untracked(GanRun::is_running) {
                    self.worker.set_value(None);
                }
            });
            match spawned {
                Ok(w) => self.worker.set_value(Some(w)),
                Err(e) => fail(e.message),
            }
        });
    }

    /// Stops the GAN, also while its files load; its last grid and curves stay.
    pub fn stop(self) {
        self.generation.update_value(|g| *g += 1);
        if let Some(c) = self.cancel.get_value() {
            c.cancel();
        }
        self.cancel.set_value(None);
        self.worker.set_value(None);
        self.run.update(|r| {
            if r.is_running() {
                r.status = GanStatus::Failed("stopped".into());
            }
        });
    }
}

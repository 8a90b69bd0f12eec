//! The GAN in the tab: trained in a worker of its own on the verified 28 px file's training
//! images (the worker's `gan` room reads nothing else), with the served SimCLR encoder
//! (`c16-contrastive.ckpt`, fetched and verified) for the Fréchet distance. It is a series of
//! one job ([`Series`]): Stop cancels its downloads and drops its worker, also while its files
//! load; a finished GAN's last grid and curves stay.

use breastmnist_protocol::{ModelKind, StartingPoint, ToWorker};
use leptos::prelude::*;

use crate::runtime::fetch::Cancel;
use crate::runtime::pretrained;
use crate::runtime::url::param;
use crate::runtime::worker::{Outgoing, Report};
use crate::state::data::DataCtx;
use crate::state::series::{Jobs, Series};
use crate::view::gan::{GanRun, GanSettings};
use crate::view::served::ServedPoint;
use crate::view::side_job::JobStatus;

/// The tab's GAN, provided in context; `Copy`.
#[derive(Clone, Copy)]
pub struct GanCtx {
    data: DataCtx,
    pub settings: RwSignal<GanSettings>,
    pub run: RwSignal<GanRun>,
    series: Series,
    /// When its worker was asked to start (`Date.now()`), for the seconds it took.
    started: StoredValue<f64>,
}

impl GanCtx {
    pub fn new(data: DataCtx) -> Self {
        GanCtx {
            data,
            settings: RwSignal::new(GanSettings::from_query(param)),
            run: RwSignal::new(GanRun::default()),
            series: Series::new(),
            started: StoredValue::new(0.0),
        }
    }

    /// Trains a GAN with the form's settings, in a worker of its own.
    pub fn start(self) {
        if self.run.with_untracked(GanRun::is_running) {
            return;
        }
        self.run.set(GanRun::starting(self.settings.get_untracked().epochs));
        self.series.start(self);
    }

    /// Stops the GAN, also while its files load; its last grid and curves stay.
    pub fn stop(self) {
        self.series.stop();
        self.run.update(|r| {
            if r.is_running() {
                r.status = JobStatus::Failed("stopped".into());
            }
        });
    }
}

impl Jobs for GanCtx {
    fn count(self) -> usize {
        1
    }

    /// The 28 px file and the SimCLR encoder (fetched and verified), then the request.
    async fn prepare(self, _: usize, cancel: Cancel) -> Result<Outgoing, String> {
        // After each wait: a stopped GAN writes nothing more.
        let stopped = || cancel.is_cancelled().then(|| "stopped".to_string());
        let settings = self.settings.get_untracked();
        let file = self.data.file_of(28, &cancel).await?;
        if let Some(why) = stopped() {
            return Err(why);
        }
        self.run.update(|r| r.status = JobStatus::Loading("the SimCLR encoder (for the Fréchet distance)".into()));
        let point = ServedPoint::find(ModelKind::C16, StartingPoint::Contrastive).ok_or("this page serves no SimCLR encoder")?;
        let encoder = pretrained::load(point, &cancel)
            .await
            .map_err(|e| format!("the encoder {} could not be loaded ({e}); nothing was started", point.url()))?;
        if let Some(why) = stopped() {
            return Err(why);
        }
        self.run.update(|r| r.status = JobStatus::Loading("the trainer".into()));
        self.started.set_value(js_sys::Date::now());
        Ok(Outgoing { cmd: ToWorker::Gan(settings.request()), bytes: Some(file), init: Some(encoder), extra: Vec::new() })
    }

    fn failed(self, _: usize, why: String) {
        self.run.update(|r| r.status = JobStatus::Failed(why));
    }

    fn report(self, _: usize, report: Report) -> bool {
        let elapsed = (js_sys::Date::now() - self.started.get_value()) / 1000.0;
        self.run.update(|r| r.apply(&report.msg, elapsed));
        !self.run.with_untracked(GanRun::is_running)
    }

    fn finished(self) {}
}

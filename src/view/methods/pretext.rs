//! Self-supervised pretraining in the tab: the request, the extra files offered for the pool,
//! the fold of reports into a loss curve and a picture of what the encoder learned, and which
//! methods the tab's encoder serves.

use breastmnist_protocol::{ExtraFile, FromWorker, Method, ModelKind, PretextTask, PretextView, PretrainRequest};

use super::{LabSettings, pretext_of};
use crate::view::side_job::JobStatus;

/// The data crate's file for an extra pretraining file's wire name.
pub fn extra_file(e: ExtraFile) -> breastmnist_data::Extra {
    match e {
        ExtraFile::PneumoniaMnist => breastmnist_data::Extra::PneumoniaMnist,
        ExtraFile::RetinaMnist => breastmnist_data::Extra::RetinaMnist,
    }
}

/// How an extra file is offered: its name, image count and download size.
pub fn extra_label(e: ExtraFile) -> String {
    let f = extra_file(e);
    let what = match e {
        ExtraFile::PneumoniaMnist => "PneumoniaMNIST chest X-rays",
        ExtraFile::RetinaMnist => "RetinaMNIST fundus photos, in grayscale",
    };
    format!("+ {} {what} ({:.1} MB)", f.images(), f.size() as f64 / 1e6)
}

/// An encoder pretrained in this tab.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TabEncoder {
    pub model: ModelKind,
    pub task: PretextTask,
}

impl TabEncoder {
    /// Whether `method` on `model` starts from this encoder (instead of the served one).
    pub fn serves(&self, method: Method, model: ModelKind) -> bool {
        self.model == model && pretext_of(method) == Some(self.task)
    }
}

/// The request that pretrains `task` in the tab with the lab's model and seed.
pub fn pretrain_request(task: PretextTask, s: &LabSettings, epochs: usize, extra: Vec<ExtraFile>) -> PretrainRequest {
    PretrainRequest { task, model: s.model, epochs, batch_size: 128, seed: s.seed, backend: s.backend, extra }
}

/// Pretraining in the tab: its status, loss curve and the latest picture of what it learned.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct PretextRun {
    pub status: JobStatus,
    pub epochs: usize,
    /// `(epoch fraction, loss)` per step.
    pub steps: Vec<(f64, f64)>,
    /// The latest epoch's picture.
    pub view: Option<PretextView>,
    /// The encoder's file name, once it arrived.
    pub encoder: Option<String>,
}

impl PretextRun {
    pub fn starting(epochs: usize) -> Self {
        PretextRun { status: JobStatus::Loading("the data".into()), epochs, ..PretextRun::default() }
    }

    /// Folds a worker report in; `elapsed` is seconds since pretraining started.
    pub fn apply(&mut self, msg: &FromWorker, elapsed: f64) {
        if self.status.apply(msg) {
            return;
        }
        match msg {
            FromWorker::PretextStep { epoch, step, steps_per_epoch, loss } => {
                self.status = JobStatus::Training;
                let x = (*epoch - 1) as f64 + *step as f64 / (*steps_per_epoch).max(1) as f64;
                self.steps.push((x, *loss));
            }
            FromWorker::PretextEpoch(v) => self.view = Some(v.clone()),
            FromWorker::Encoder { name } => {
                self.encoder = Some(name.clone());
                self.status = JobStatus::Done { seconds: elapsed };
            }
            _ => {}
        }
    }

    pub fn is_running(&self) -> bool {
        self.status.is_running()
    }

    pub fn describe(&self) -> String {
        if let Some(said) = self.status.describe() {
            return said;
        }
        match &self.status {
            JobStatus::Training => {
                let epoch = self.view.as_ref().map_or(0, |v| v.epoch);
                let loss = self.steps.last().map_or(String::new(), |s| format!(", loss {:.4}", s.1));
                format!("pretraining: epoch {epoch} of {} done{loss}", self.epochs)
            }
            JobStatus::Done { seconds } => format!("done in {seconds:.0} s: the encoder is ready"),
            JobStatus::Idle | JobStatus::Loading(_) | JobStatus::Failed(_) => String::new(),
        }
    }

    /// The picture's reconstructions as `(masked, output)` image pairs of `side²` bytes.
    pub fn reconstructions(&self) -> Vec<(&[u8], &[u8])> {
        let Some(v) = &self.view else { return Vec::new() };
        let per = v.recon_side * v.recon_side;
        if per == 0 || v.recon.len() % (2 * per) != 0 {
            return Vec::new();
        }
        let n = v.recon.len() / (2 * per);
        (0..n).map(|i| (&v.recon[i * per..(i + 1) * per], &v.recon[(n + i) * per..(n + i + 1) * per])).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::methods::{TAB_METHODS, starting_point};
    use breastmnist_protocol::StartingPoint;

    #[test]
    fn pretraining_reports_fold_into_curve_picture_and_encoder() {
        let s = LabSettings { model: ModelKind::C8, seed: 3, ..LabSettings::default() };
        let req = pretrain_request(PretextTask::Masked, &s, 2, vec![ExtraFile::RetinaMnist]);
        assert_eq!((req.model, req.seed, req.epochs, req.task), (ModelKind::C8, 3, 2, PretextTask::Masked));
        assert_eq!(req.extra, vec![ExtraFile::RetinaMnist]);
        for e in ExtraFile::ALL {
            assert_eq!(extra_file(e).file_name(), format!("{}.npz", e.name()));
        }
        assert_eq!(extra_label(ExtraFile::RetinaMnist), "+ 1600 RetinaMNIST fundus photos, in grayscale (3.3 MB)");
        let mut p = PretextRun::starting(2);
        assert!(p.is_running());
        p.apply(&FromWorker::PretextStep { epoch: 1, step: 2, steps_per_epoch: 4, loss: 0.5 }, 1.0);
        assert_eq!(p.steps, vec![(0.5, 0.5)]);
        let view = PretextView {
            epoch: 1,
            epochs: 2,
            loss: 0.4,
            points: vec![[0.0, 1.0], [1.0, 0.0]],
            labels: vec![0, 1],
            recon_side: 2,
            recon: vec![1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4],
        };
        p.apply(&FromWorker::PretextEpoch(view), 2.0);
        let r = p.reconstructions();
        assert_eq!(r, vec![(&[1u8, 1, 1, 1][..], &[3u8, 3, 3, 3][..]), (&[2u8, 2, 2, 2][..], &[4u8, 4, 4, 4][..])]);
        assert!(p.describe().contains("epoch 1 of 2"));
        p.apply(&FromWorker::Encoder { name: "e.ckpt".into() }, 9.6);
        assert_eq!(p.status, JobStatus::Done { seconds: 9.6 });
        assert!(!p.is_running());
        let enc = TabEncoder { model: ModelKind::C8, task: PretextTask::Masked };
        assert!(enc.serves(Method::Masked, ModelKind::C8) && enc.serves(Method::MaskedProbe, ModelKind::C8));
        assert!(!enc.serves(Method::Masked, ModelKind::C16) && !enc.serves(Method::Contrastive, ModelKind::C8));
        assert!(!enc.serves(Method::Base, ModelKind::C8));
        for m in TAB_METHODS {
            assert_eq!(
                pretext_of(m).is_some(),
                matches!(starting_point(m, ModelKind::C8), Some(p) if p.kind != StartingPoint::Pneumonia)
            );
        }
    }
}

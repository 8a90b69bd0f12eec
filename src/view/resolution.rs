//! The resolution experiment as plain data: its three arms (native 28 px, native 64 px, and 28 px
//! upsampled to 64 inside the model), the request each arm sends, and the fold of worker
//! reports into one row per arm.
//!
//! No signals and no DOM, so the rules are tested natively.

use breastmnist_protocol::{Augment, BackendChoice, FromWorker, ModelKind, Selection, TrainRequest};

/// One configuration of the comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arm {
    pub key: &'static str,
    /// Side of the file's images.
    pub file_side: usize,
    /// Side the model sees (resized inside the model when it differs).
    pub model_side: usize,
    pub label: &'static str,
}

pub const ARMS: [Arm; 3] = [
    Arm { key: "28", file_side: 28, model_side: 28, label: "28 px file, seen at 28 px" },
    Arm { key: "64", file_side: 64, model_side: 64, label: "64 px file, seen at 64 px" },
    Arm { key: "28to64", file_side: 28, model_side: 64, label: "28 px file, upsampled to 64 px" },
];

impl Arm {
    /// The training request of this arm: same model, recipe and seed for every arm.
    pub fn request(&self, model: ModelKind, epochs: usize, seed: u64, backend: BackendChoice) -> TrainRequest {
        TrainRequest {
            model,
            epochs,
            batch_size: 32,
            lr: 1e-3,
            seed,
            subset: None,
            augment: Augment::None,
            mixup: None,
            backend,
            fine_tune: false,
            freeze_backbone: false,
            resize: (self.model_side != self.file_side).then_some(self.model_side),
            selection: Selection::BestValAuc,
            ema_decay: None,
            tta: false,
            preset: None,
            method: None,
            conv: None,
            stem: None,
            init_name: None,
            dataset: None,
            prototypes: None,
        }
    }
}

/// Where one arm is.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum ArmState {
    #[default]
    Waiting,
    Loading,
    Training {
        epoch: usize,
        epochs: usize,
    },
    Done {
        auc: f64,
        /// DeLong's 95% interval of `auc`, where the worker sent it.
        auc_ci: Option<(f64, f64)>,
        acc: f64,
        val_auc: f64,
        seconds: f64,
    },
    Failed(String),
}

impl ArmState {
    /// Folds a worker report in; `elapsed` is seconds since the arm started.
    pub fn apply(&mut self, msg: &FromWorker, epochs: usize, elapsed: f64) {
        match msg {
            FromWorker::Backend { .. } => *self = ArmState::Training { epoch: 0, epochs },
            FromWorker::Epoch(e) => *self = ArmState::Training { epoch: e.epoch, epochs },
            FromWorker::Done(d) => {
                let auc_ci = d.certainty.as_ref().map(|c| c.auc_ci);
                *self = ArmState::Done { auc: d.test_auc, auc_ci, acc: d.test_acc, val_auc: d.val_auc, seconds: elapsed }
            }
            FromWorker::Failed(e) => *self = ArmState::Failed(e.message.clone()),
            _ => {}
        }
    }

    pub fn is_finished(&self) -> bool {
        matches!(self, ArmState::Done { .. } | ArmState::Failed(_))
    }

    /// The row's status text.
    pub fn describe(&self) -> String {
        match self {
            ArmState::Waiting => "waiting".into(),
            ArmState::Loading => "loading the data and the trainer…".into(),
            ArmState::Training { epoch, epochs } => format!("training: epoch {epoch} of {epochs}"),
            ArmState::Done { seconds, .. } => format!("done in {seconds:.0} s"),
            ArmState::Failed(m) => format!("failed: {m}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use breastmnist_protocol::{BackendKind, DoneView, EpochView, ErrorKind, WorkerError};

    #[test]
    fn arms_differ_only_in_resolution() {
        let r: Vec<_> = ARMS.iter().map(|a| a.request(ModelKind::Tiny, 5, 3, BackendChoice::Cpu)).collect();
        assert_eq!(r.iter().map(|r| r.resize).collect::<Vec<_>>(), [None, None, Some(64)]);
        assert!(r.iter().all(|x| x.model == ModelKind::Tiny && x.epochs == 5 && x.seed == 3 && x.batch_size == 32));
        assert_eq!(ARMS.map(|a| a.file_side), [28, 64, 28]);
    }

    #[test]
    fn reports_fold_into_a_row() {
        let mut s = ArmState::Loading;
        s.apply(&FromWorker::Backend { kind: BackendKind::Cpu, adapter: "x".into(), notice: None }, 2, 0.0);
        assert_eq!(s, ArmState::Training { epoch: 0, epochs: 2 });
        let e = EpochView {
            epoch: 1,
            train_loss: 0.6,
            train_acc: 0.7,
            val_loss: 0.6,
            val_acc: 0.7,
            val_auc: 0.8,
            lr: 1e-3,
            is_best: true,
        };
        s.apply(&FromWorker::Epoch(e), 2, 1.0);
        assert_eq!(s.describe(), "training: epoch 1 of 2");
        let d = DoneView {
            best_epoch: 1,
            val_auc: 0.8,
            test_auc: 0.85,
            test_acc: 0.8,
            confusion: [[1, 1], [1, 1]],
            roc: vec![],
            metrics_json: String::new(),
            result_files: vec![],
            worker_memory: 0,
            conv: None,
            model: None,
            certainty: None,
            task: None,
        };
        s.apply(&FromWorker::Done(d), 2, 12.4);
        assert!(s.is_finished());
        assert_eq!(s.describe(), "done in 12 s");
        let mut f = ArmState::Loading;
        f.apply(&FromWorker::Failed(WorkerError::new(ErrorKind::Worker, "boom")), 2, 0.0);
        assert_eq!(f.describe(), "failed: boom");
    }
}

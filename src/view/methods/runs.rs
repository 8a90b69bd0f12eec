//! One run per method of the lab's comparison: the fold of worker reports into its status and
//! validation curve, and the bars drawn beside the paper's rows.

use breastmnist_protocol::{EpochView, FromWorker, Method};

use super::label;
use crate::view::published::PUBLISHED;

/// Where one method's run is.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Status {
    #[default]
    Waiting,
    /// Fetching the data, the starting point or the trainer.
    Loading(String),
    Training,
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

/// One method's run: its status and validation curve.
#[derive(Clone, Debug, PartialEq)]
pub struct MethodRun {
    pub method: Method,
    pub epochs: usize,
    pub status: Status,
    pub history: Vec<EpochView>,
}

impl MethodRun {
    pub fn new(method: Method, epochs: usize) -> Self {
        MethodRun { method, epochs, status: Status::Waiting, history: Vec::new() }
    }

    /// Folds a worker report in; `elapsed` is seconds since the run started.
    pub fn apply(&mut self, msg: &FromWorker, elapsed: f64) {
        match msg {
            FromWorker::Backend { .. } => self.status = Status::Training,
            FromWorker::Epoch(e) => {
                self.history.retain(|h| h.epoch < e.epoch);
                self.history.push(e.clone());
                self.status = Status::Training;
            }
            FromWorker::Done(d) => {
                let auc_ci = d.certainty.as_ref().map(|c| c.auc_ci);
                self.status = Status::Done { auc: d.test_auc, auc_ci, acc: d.test_acc, val_auc: d.val_auc, seconds: elapsed }
            }
            FromWorker::Failed(e) => self.status = Status::Failed(e.message.clone()),
            _ => {}
        }
    }

    pub fn is_finished(&self) -> bool {
        matches!(self.status, Status::Done { .. } | Status::Failed(_))
    }

    pub fn is_done(&self) -> bool {
        matches!(self.status, Status::Done { .. })
    }

    /// The row's status text.
    pub fn describe(&self) -> String {
        match &self.status {
            Status::Waiting => "waiting".into(),
            Status::Loading(what) => format!("loading {what}…"),
            Status::Training => format!("epoch {} of {}", self.history.last().map_or(0, |h| h.epoch), self.epochs),
            Status::Done { seconds, .. } => format!("done in {seconds:.0} s"),
            Status::Failed(m) => format!("failed: {m}"),
        }
    }

    /// Validation AUC per epoch, for the overlaid curves.
    pub fn val_curve(&self) -> Vec<(f64, f64)> {
        self.history.iter().map(|h| (h.epoch as f64, h.val_auc)).collect()
    }

    /// The test AUC's 95% interval as a cell shows it ("0.850–0.950"), once done.
    pub fn interval(&self) -> Option<String> {
        match self.status {
            Status::Done { auc_ci: Some((lo, hi)), .. } => Some(format!("{lo:.3}–{hi:.3}")),
            _ => None,
        }
    }

    /// Test AUC and ACC, once done.
    pub fn test(&self) -> Option<(f64, f64)> {
        match self.status {
            Status::Done { auc, acc, .. } => Some((auc, acc)),
            _ => None,
        }
    }
}

/// One bar pair of the chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    pub label: String,
    pub auc: f64,
    pub acc: f64,
    /// The AUC's 95% interval (DeLong's, from the run), drawn as a whisker; the published rows
    /// give none.
    pub auc_ci: Option<(f64, f64)>,
    /// A published result, not a run of this page.
    pub reference: bool,
}

/// The published rows drawn beside the runs: the paper's ResNet-18 (28) and the best and the
/// weakest of its table.
const REFERENCES: [&str; 3] = ["ResNet-18 (28)", "Google AutoML Vision", "auto-sklearn"];

/// The finished runs' bars, then the published references.
pub fn bars(runs: &[MethodRun]) -> Vec<Bar> {
    let mine = runs.iter().filter_map(|r| match r.status {
        Status::Done { auc, auc_ci, acc, .. } => Some(Bar { label: label(r.method).into(), auc, acc, auc_ci, reference: false }),
        _ => None,
    });
    let published = PUBLISHED.iter().filter(|p| REFERENCES.contains(&p.method)).map(|p| Bar {
        label: format!("{} (paper)", p.method),
        auc: p.auc,
        acc: p.acc,
        auc_ci: None,
        reference: true,
    });
    mine.chain(published).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use breastmnist_protocol::{BackendKind, CertaintyView, DoneView, ErrorKind, WorkerError};

    #[test]
    fn reports_fold_into_a_run_with_its_curve() {
        let mut r = MethodRun::new(Method::Base, 2);
        r.apply(&FromWorker::Backend { kind: BackendKind::Cpu, adapter: "x".into(), notice: None }, 0.0);
        assert_eq!(r.describe(), "epoch 0 of 2");
        let e = |epoch, val_auc| EpochView {
            epoch,
            train_loss: 0.5,
            train_acc: 0.7,
            val_loss: 0.5,
            val_acc: 0.7,
            val_auc,
            lr: 1e-3,
            is_best: true,
        };
        r.apply(&FromWorker::Epoch(e(1, 0.8)), 1.0);
        r.apply(&FromWorker::Epoch(e(2, 0.85)), 2.0);
        assert_eq!(r.val_curve(), vec![(1.0, 0.8), (2.0, 0.85)]);
        assert!(bars(&[r.clone()]).iter().all(|b| b.reference), "no bar before the run is done");
        let d = DoneView {
            best_epoch: 2,
            val_auc: 0.85,
            test_auc: 0.9,
            test_acc: 0.87,
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
        let done = d.clone();
        r.apply(&FromWorker::Done(d), 30.2);
        assert!(r.is_done() && r.is_finished());
        assert_eq!(r.test(), Some((0.9, 0.87)));
        assert_eq!(r.describe(), "done in 30 s");
        let b = bars(&[r]);
        assert_eq!(
            b[0],
            Bar { label: "reader recipe, fresh weights".into(), auc: 0.9, acc: 0.87, auc_ci: None, reference: false }
        );
        assert!(b.iter().filter(|b| b.reference).all(|b| b.auc_ci.is_none()), "the paper gives no interval");
        // A run whose worker sent DeLong's interval gets its whisker.
        let mut sure = MethodRun::new(Method::NoTta, 2);
        let certainty = CertaintyView {
            auc_ci: (0.84, 0.95),
            sensitivity: 0.8,
            specificity: 0.9,
            dedup_images: 109,
            dedup_auc: 0.9,
            dedup_auc_ci: (0.8, 0.97),
            dedup_acc: 0.85,
        };
        sure.apply(&FromWorker::Done(DoneView { certainty: Some(Box::new(certainty)), ..done.clone() }), 12.0);
        assert_eq!(bars(&[sure.clone()])[0].auc_ci, Some((0.84, 0.95)));
        assert_eq!(sure.interval().as_deref(), Some("0.840–0.950"));
        assert_eq!(b.iter().filter(|b| b.reference).count(), 3);
        assert!(b.iter().any(|b| b.label == "ResNet-18 (28) (paper)" && b.auc == 0.901));
        let mut f = MethodRun::new(Method::Masked, 2);
        f.apply(&FromWorker::Failed(WorkerError::new(ErrorKind::Worker, "boom")), 0.0);
        assert_eq!(f.describe(), "failed: boom");
        assert!(f.is_finished() && !f.is_done());
    }
}

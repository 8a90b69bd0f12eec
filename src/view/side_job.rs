//! A side job in a worker of its own (pretraining, the GAN): where it is, and the reports every
//! such job folds alike (the worker's backend, a failure, a stop).
//!
//! No signals and no DOM.

use breastmnist_protocol::FromWorker;

/// Where a side job is.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum JobStatus {
    #[default]
    Idle,
    /// Fetching or decoding what it needs (named).
    Loading(String),
    Training,
    Done {
        seconds: f64,
    },
    Failed(String),
}

impl JobStatus {
    pub fn is_running(&self) -> bool {
        matches!(self, JobStatus::Loading(_) | JobStatus::Training)
    }

    /// Folds the reports every side job reads alike; `false` for one the job folds itself.
    pub fn apply(&mut self, msg: &FromWorker) -> bool {
        match msg {
            FromWorker::Backend { .. } => *self = JobStatus::Training,
            FromWorker::Failed(e) => *self = JobStatus::Failed(e.message.clone()),
            FromWorker::Stopped => *self = JobStatus::Failed("stopped".into()),
            _ => return false,
        }
        true
    }

    /// The words for the states every job says alike; `None` while training or once done,
    /// which each job words itself.
    pub fn describe(&self) -> Option<String> {
        match self {
            JobStatus::Idle => Some(String::new()),
            JobStatus::Loading(what) => Some(format!("loading {what}…")),
            JobStatus::Failed(m) => Some(format!("failed: {m}")),
            JobStatus::Training | JobStatus::Done { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use breastmnist_protocol::{BackendKind, ErrorKind, WorkerError};

    #[test]
    fn the_shared_reports_move_a_side_job_and_the_rest_are_left_to_it() {
        let mut s = JobStatus::Loading("the data".into());
        assert!(s.is_running());
        assert_eq!(s.describe().as_deref(), Some("loading the data…"));
        assert!(s.apply(&FromWorker::Backend { kind: BackendKind::Cpu, adapter: "cpu".into(), notice: None }));
        assert_eq!((s.clone(), s.describe()), (JobStatus::Training, None));
        assert!(!s.apply(&FromWorker::Paused), "a job's own report is its own to fold");
        assert_eq!(s, JobStatus::Training);
        let e = WorkerError { kind: ErrorKind::Settings, message: "bad subset".into() };
        assert!(s.apply(&FromWorker::Failed(e)));
        assert_eq!((s.is_running(), s.describe().as_deref()), (false, Some("failed: bad subset")));
        let mut stopped = JobStatus::Training;
        assert!(stopped.apply(&FromWorker::Stopped));
        assert_eq!(stopped, JobStatus::Failed("stopped".into()));
        assert_eq!(JobStatus::Idle.describe().as_deref(), Some(""));
        assert_eq!(JobStatus::Done { seconds: 3.0 }.describe(), None);
    }
}

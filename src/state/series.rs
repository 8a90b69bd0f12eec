//! A series of training jobs run one after another, each in a fresh trainer worker of its own
//! (a WebGPU device initialises once per worker, and the article's run keeps its worker): the
//! methods lab's comparison and the resolution experiment are series, and the tab's GAN is a
//! series of one job.
//!
//! A series is numbered: Stop (or a new series) bumps the number, cancels the loading job's
//! downloads and drops its worker, and from then on nothing of the old series runs, starts a
//! worker or reports — also a job that was still loading its files when Stop came.

use std::future::Future;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::runtime::fetch::Cancel;
use breastmnist_protocol::ToWorker;

use crate::runtime::worker::{Outgoing, Report, WorkerHandle};

/// What a series runs: its jobs, how each is prepared, and where their reports go.
pub trait Jobs: Copy + 'static {
    /// How many jobs the series has.
    fn count(self) -> usize;
    /// Loads what job `i` needs (its files, its starting point) and returns its first command.
    fn prepare(self, i: usize, cancel: Cancel) -> impl Future<Output = Result<Outgoing, String>>;
    /// Job `i` could not start or failed to load.
    fn failed(self, i: usize, why: String);
    /// Folds a report of job `i` in; `true` when this report finished the job (done or
    /// failed), which starts the next one.
    fn report(self, i: usize, report: Report) -> bool;
    /// Every job has finished.
    fn finished(self);
}

/// The runner of one series at a time. `Copy`.
#[derive(Clone, Copy)]
pub struct Series {
    worker: StoredValue<Option<WorkerHandle>, LocalStorage>,
    cancel: StoredValue<Option<Cancel>, LocalStorage>,
    /// Counts series; work of an older one is ignored.
    generation: StoredValue<u64>,
}

impl Series {
    pub fn new() -> Self {
        Series { worker: StoredValue::new_local(None), cancel: StoredValue::new_local(None), generation: StoredValue::new(0) }
    }

    /// Starts `jobs` from the first one; a series still running is stopped first.
    pub fn start(self, jobs: impl Jobs) {
        self.stop();
        self.run(jobs, 0, self.generation.get_value());
    }

    /// Stops the series: the running job's downloads are cancelled and its worker dropped, and
    /// no later job starts.
    pub fn stop(self) {
        self.generation.update_value(|g| *g += 1);
        if let Some(c) = self.cancel.get_value() {
            c.cancel();
        }
        self.cancel.set_value(None);
        self.worker.set_value(None);
    }

    /// Sends `cmd` to the running job's worker (a question for the model it kept, say).
    pub fn send(self, cmd: ToWorker) -> Result<(), String> {
        self.worker.with_value(|w| match w {
            Some(worker) => worker.send(cmd).map_err(|e| e.message),
            None => Err("the trainer is not running".into()),
        })
    }

    fn current(self, generation: u64) -> bool {
        self.generation.get_value() == generation
    }

    /// Runs job `i` of series `generation`, then the next one.
    fn run(self, jobs: impl Jobs, i: usize, generation: u64) {
        if !self.current(generation) {
            return;
        }
        if i >= jobs.count() {
            self.worker.set_value(None);
            return jobs.finished();
        }
        let cancel = Cancel::new();
        self.cancel.set_value(Some(cancel.clone()));
        spawn_local(async move {
            let prepared = jobs.prepare(i, cancel).await;
            if !self.current(generation) {
                return;
            }
            let first = match prepared {
                Ok(first) => first,
                Err(why) => {
                    jobs.failed(i, why);
                    return self.run(jobs, i + 1, generation);
                }
            };
            let spawned = WorkerHandle::spawn(first, move |report: Report| {
                if self.current(generation) && jobs.report(i, report) {
                    self.run(jobs, i + 1, generation);
                }
            });
            match spawned {
                Ok(worker) => self.worker.set_value(Some(worker)),
                Err(e) => {
                    jobs.failed(i, e.message);
                    self.run(jobs, i + 1, generation);
                }
            }
        });
    }
}

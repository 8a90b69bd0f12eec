//! The run controller as a pure fold: which tab owns the stored run, what this tab's launch is,
//! and for each worker report what the page must do so that nothing is lost. `state::train`
//! carries the effects out (signals, storage, the worker); every rule is decided, and tested,
//! here.
//!
//! The rules ("nothing is lost", ARCHITECTURE.md):
//! - nothing is cleared or stored until a launch reports something of its own (a snapshot, a
//!   checkpoint, results): before that, the page's previous run is kept aside, and a failed
//!   import puts it back with storage untouched;
//! - a finished or failed run that produced something replaces the previous run for good and is
//!   stored with its kept checkpoint; a snapshot is stored after every epoch;
//! - only the tab that owns the stored run writes it; a launch in a tab that does not own it
//!   waits for the reader to take over, and a tab that loses it stops its run;
//! - a snapshot that cannot be continued is reported once, and not offered again.
//!
//! Generic over what the page keeps aside (`P`) and a waiting launch (`L`), so the rules are
//! tested with plain values. No signals and no DOM.

use breastmnist_protocol::{ErrorKind, FromWorker};

/// What a launch does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LaunchKind {
    /// A fresh run (from fresh weights, an imported checkpoint or a served starting point).
    Start,
    /// An interrupted run, from its stored snapshot.
    Continue,
    /// An imported checkpoint's evaluation; adopted for fine-tuning once it succeeds.
    Import,
}

/// Whether this tab owns the stored run (a Web Lock, `runtime::locks`).
#[derive(Clone, Debug, PartialEq)]
pub enum Tab<L> {
    /// Not asked for yet: no launch so far.
    Unclaimed,
    /// Asked for, with this launch; no answer yet.
    Asking(L),
    /// Another tab owns it; this launch waits for the reader to take over (or stay out).
    Waiting(L),
    Owner,
    /// Another tab took it over: this tab trains and stores nothing more.
    Lost,
}

/// This tab's launch.
#[derive(Clone, Debug, PartialEq)]
pub enum Launch<P> {
    /// None in flight: the page shows a restored, finished or no run.
    Idle,
    /// A served starting point is being fetched for a Start (a second press waits for it).
    Fetching,
    /// Running in a worker. `previous` is what the page showed before, kept aside until the
    /// launch reports something of its own (`produced`).
    Running { kind: LaunchKind, produced: bool, previous: Option<P> },
}

/// What the page must do after a report, in this order.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect<P> {
    /// Fold the report into the run the page shows.
    Show,
    /// The import failed before it had anything: put back what the page showed (storage is
    /// untouched) and say why.
    PutBack { previous: Option<P>, error: String },
    /// The previous run is replaced for good: release its downloads.
    Forget(P),
    /// The import's evaluation succeeded: keep the file for fine-tuning.
    AdoptImport,
    /// Offer the run's downloads and let the explorer ask its kept model.
    Publish,
    /// Store the run's state with the snapshot that came with the report.
    StoreSnapshot,
    /// Store the run's state with its kept checkpoint.
    StoreWithCheckpoint,
    /// The stored snapshot cannot be continued: say so once, offer it no more.
    SnapshotUnreadable(String),
    /// The worker's work is over (stopped): drop it, so the next run gets a fresh one.
    CloseWorker,
}

/// The controller. Starts unclaimed and idle.
#[derive(Clone, Debug, PartialEq)]
pub struct RunControl<P, L> {
    pub tab: Tab<L>,
    pub launch: Launch<P>,
}

impl<P, L> Default for RunControl<P, L> {
    fn default() -> Self {
        RunControl { tab: Tab::Unclaimed, launch: Launch::Idle }
    }
}

/// What to do with a launch the reader asked for.
#[derive(Debug, PartialEq)]
pub enum Go<L> {
    /// This tab owns the run: launch now.
    Now(L),
    /// Ask for the run first (`claimed` or `busy` answers).
    Claim,
}

impl<P: Clone, L> RunControl<P, L> {
    /// Whether this tab may write the stored run.
    pub fn may_store(&self) -> bool {
        matches!(self.tab, Tab::Owner)
    }

    /// Whether a launch waits for the reader to take the run over from another tab.
    pub fn waiting(&self) -> bool {
        matches!(self.tab, Tab::Waiting(_))
    }

    /// Whether another tab took the run over from this one.
    pub fn taken_over(&self) -> bool {
        matches!(self.tab, Tab::Lost)
    }

    /// Whether the stored run shown after a reload may be replaced by it (nothing was launched
    /// here meanwhile).
    pub fn may_restore(&self) -> bool {
        matches!(self.launch, Launch::Idle)
    }

    /// A Start that first fetches its served starting point: `false` when one is already
    /// being fetched (the press is ignored).
    pub fn fetch_start(&mut self) -> bool {
        if matches!(self.launch, Launch::Fetching) {
            return false;
        }
        self.launch = Launch::Fetching;
        true
    }

    /// The starting point's fetch ended (the launch follows, or an error is shown).
    pub fn fetched(&mut self) {
        if matches!(self.launch, Launch::Fetching) {
            self.launch = Launch::Idle;
        }
    }

    /// The reader asked for `launch`.
    pub fn request(&mut self, launch: L) -> Go<L> {
        match self.tab {
            Tab::Owner => Go::Now(launch),
            Tab::Unclaimed | Tab::Asking(_) | Tab::Waiting(_) | Tab::Lost => {
                self.tab = Tab::Asking(launch);
                Go::Claim
            }
        }
    }

    /// Another tab holds the run: the launch asked for waits for the reader.
    pub fn busy(&mut self) {
        self.tab = match std::mem::replace(&mut self.tab, Tab::Unclaimed) {
            Tab::Asking(l) | Tab::Waiting(l) => Tab::Waiting(l),
            other @ (Tab::Unclaimed | Tab::Owner | Tab::Lost) => other,
        };
    }

    /// The run is this tab's now (the lock was granted, or locks are unsupported): the launch
    /// asked for, if any, goes.
    pub fn claimed(&mut self) -> Option<L> {
        match std::mem::replace(&mut self.tab, Tab::Owner) {
            Tab::Asking(l) | Tab::Waiting(l) => Some(l),
            Tab::Unclaimed | Tab::Owner | Tab::Lost => None,
        }
    }

    /// The reader forgets the waiting launch.
    pub fn stay_out(&mut self) {
        if matches!(self.tab, Tab::Asking(_) | Tab::Waiting(_)) {
            self.tab = Tab::Unclaimed;
        }
    }

    /// Another tab took the run over: nothing more is stored here (an active run stops).
    pub fn lost(&mut self) {
        self.tab = Tab::Lost;
    }

    /// A launch of `kind` begins in a fresh worker; `previous` is what the page showed.
    pub fn began(&mut self, kind: LaunchKind, previous: P) {
        self.launch = Launch::Running { kind, produced: false, previous: Some(previous) };
    }

    /// The stored run is discarded: what was kept aside goes too (its downloads are released).
    pub fn discard(&mut self) -> Option<P> {
        match std::mem::replace(&mut self.launch, Launch::Idle) {
            Launch::Running { previous, .. } => previous,
            Launch::Idle | Launch::Fetching => None,
        }
    }

    /// The effects of a run report; `has_checkpoint`: the page holds a kept checkpoint of this
    /// launch (after a failure, it stays downloadable and explorable).
    pub fn fold(&mut self, msg: &FromWorker, has_checkpoint: bool) -> Vec<Effect<P>> {
        let store = self.may_store();
        let Launch::Running { kind, produced, previous } = &mut self.launch else {
            return vec![Effect::Show];
        };
        if matches!(msg, FromWorker::Checkpoint { .. } | FromWorker::Snapshot { .. } | FromWorker::Done(_)) {
            *produced = true;
        }
        let mut effects = Vec::new();
        match msg {
            FromWorker::Failed(e) if !*produced && *kind == LaunchKind::Import => {
                let previous = previous.take();
                self.launch = Launch::Idle;
                return vec![Effect::PutBack { previous, error: e.message.clone() }, Effect::CloseWorker];
            }
            FromWorker::Snapshot { .. } => {
                effects.push(Effect::Show);
                if store {
                    effects.push(Effect::StoreSnapshot);
                }
            }
            FromWorker::Done(_) => {
                effects.push(Effect::Show);
                effects.extend(previous.take().map(Effect::Forget));
                if *kind == LaunchKind::Import {
                    effects.push(Effect::AdoptImport);
                }
                effects.push(Effect::Publish);
                if store {
                    effects.push(Effect::StoreWithCheckpoint);
                }
            }
            FromWorker::Failed(_) if *produced => {
                effects.push(Effect::Show);
                effects.extend(previous.take().map(Effect::Forget));
                if has_checkpoint {
                    effects.push(Effect::Publish);
                }
                if store {
                    effects.push(Effect::StoreWithCheckpoint);
                }
            }
            FromWorker::Failed(e) if e.kind == ErrorKind::Checkpoint && *kind == LaunchKind::Continue => {
                effects.push(Effect::Show);
                effects.push(Effect::SnapshotUnreadable(e.message.clone()));
            }
            FromWorker::Stopped => effects.extend([Effect::Show, Effect::CloseWorker]),
            // A failure before anything of its own: the page shows it, storage keeps the
            // previous run.
            FromWorker::Failed(_) => effects.push(Effect::Show),
            // Progress, and what a run carries (its checkpoint and weights are kept by the
            // caller): shown.
            FromWorker::Ready { .. }
            | FromWorker::Backend { .. }
            | FromWorker::Step { .. }
            | FromWorker::Eval { .. }
            | FromWorker::Epoch(_)
            | FromWorker::Checkpoint { .. }
            | FromWorker::Weights { .. }
            | FromWorker::Paused
            | FromWorker::Unpaused => effects.push(Effect::Show),
            // Replies that belong to the explorer and the methods lab never reach a run.
            FromWorker::Explaining { .. }
            | FromWorker::Explained(_)
            | FromWorker::ActivationGrid(_)
            | FromWorker::LooksLike(_)
            | FromWorker::ExplainFailed(_)
            | FromWorker::PretextStep { .. }
            | FromWorker::PretextEpoch(_)
            | FromWorker::GanStep { .. }
            | FromWorker::GanEpoch(_)
            | FromWorker::Encoder { .. } => effects.push(Effect::Show),
        }
        effects
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use breastmnist_protocol::{DoneView, WorkerError};

    use super::*;

    type Control = RunControl<&'static str, &'static str>;

    fn owner() -> Control {
        let mut c = Control::default();
        assert_eq!(c.request("first"), Go::Claim);
        assert_eq!(c.claimed(), Some("first"));
        c
    }

    fn done() -> FromWorker {
        FromWorker::Done(done_view())
    }

    /// A finished run's view for tests (also used by `view::run`'s).
    pub(crate) fn done_view() -> DoneView {
        DoneView {
            best_epoch: 1,
            val_auc: 0.9,
            test_auc: 0.9,
            test_acc: 0.9,
            confusion: [[1, 0], [0, 1]],
            roc: vec![],
            metrics_json: String::new(),
            result_files: vec![],
            worker_memory: 0,
            conv: None,
            model: None,
            certainty: None,
            task: None,
        }
    }

    fn failed(kind: ErrorKind) -> FromWorker {
        FromWorker::Failed(WorkerError::new(kind, "boom"))
    }

    #[test]
    fn a_failed_import_puts_the_finished_run_back_and_stores_nothing() {
        let mut c = owner();
        c.began(LaunchKind::Import, "finished run");
        assert_eq!(
            c.fold(&FromWorker::Eval { split: breastmnist_protocol::Split::Val, done: 1, total: 78 }, false),
            [Effect::Show]
        );
        let effects = c.fold(&failed(ErrorKind::Checkpoint), false);
        assert_eq!(effects, [Effect::PutBack { previous: Some("finished run"), error: "boom".into() }, Effect::CloseWorker]);
        assert_eq!(c.launch, Launch::Idle);
    }

    #[test]
    fn a_successful_import_replaces_the_run_for_good_and_is_adopted() {
        let mut c = owner();
        c.began(LaunchKind::Import, "finished run");
        assert_eq!(c.fold(&FromWorker::Checkpoint { name: "m.ckpt".into(), model: None }, true), [Effect::Show]);
        assert_eq!(
            c.fold(&done(), true),
            [Effect::Show, Effect::Forget("finished run"), Effect::AdoptImport, Effect::Publish, Effect::StoreWithCheckpoint]
        );
    }

    #[test]
    fn a_start_that_fails_before_any_epoch_keeps_the_previous_run_in_storage() {
        let mut c = owner();
        c.began(LaunchKind::Start, "previous");
        let effects = c.fold(&failed(ErrorKind::Device), false);
        assert_eq!(effects, [Effect::Show], "shown, nothing stored, nothing forgotten");
        // The previous run is still kept aside, released when a later launch replaces it.
        assert_eq!(c.discard(), Some("previous"));
    }

    #[test]
    fn every_snapshot_is_stored_and_a_late_failure_keeps_the_best_checkpoint() {
        let mut c = owner();
        c.began(LaunchKind::Start, "previous");
        assert_eq!(c.fold(&FromWorker::Snapshot { epoch: 1 }, false), [Effect::Show, Effect::StoreSnapshot]);
        assert_eq!(c.fold(&FromWorker::Checkpoint { name: "best.ckpt".into(), model: None }, true), [Effect::Show]);
        assert_eq!(
            c.fold(&failed(ErrorKind::Diverged), true),
            [Effect::Show, Effect::Forget("previous"), Effect::Publish, Effect::StoreWithCheckpoint]
        );
        // Without a kept checkpoint there is nothing to publish, but the state is stored.
        let mut c = owner();
        c.began(LaunchKind::Start, "previous");
        c.fold(&FromWorker::Snapshot { epoch: 1 }, false);
        assert_eq!(
            c.fold(&failed(ErrorKind::Diverged), false),
            [Effect::Show, Effect::Forget("previous"), Effect::StoreWithCheckpoint]
        );
    }

    #[test]
    fn an_unreadable_snapshot_is_reported_once_when_continuing() {
        let mut c = owner();
        c.began(LaunchKind::Continue, "interrupted run");
        assert_eq!(c.fold(&failed(ErrorKind::Checkpoint), false), [Effect::Show, Effect::SnapshotUnreadable("boom".into())]);
        // The same error on a fresh start is only shown.
        let mut c = owner();
        c.began(LaunchKind::Start, "x");
        assert_eq!(c.fold(&failed(ErrorKind::Checkpoint), false), [Effect::Show]);
    }

    #[test]
    fn a_continued_run_stores_as_it_goes_and_replaces_the_interrupted_one_when_done() {
        let mut c = owner();
        c.began(LaunchKind::Continue, "interrupted run");
        assert_eq!(c.fold(&FromWorker::Snapshot { epoch: 3 }, false), [Effect::Show, Effect::StoreSnapshot]);
        assert_eq!(
            c.fold(&done(), true),
            [Effect::Show, Effect::Forget("interrupted run"), Effect::Publish, Effect::StoreWithCheckpoint]
        );
    }

    #[test]
    fn stop_drops_the_worker() {
        let mut c = owner();
        c.began(LaunchKind::Start, "x");
        assert_eq!(c.fold(&FromWorker::Stopped, false), [Effect::Show, Effect::CloseWorker]);
    }

    #[test]
    fn a_tab_that_does_not_own_the_run_waits_then_takes_over_or_stays_out() {
        let mut c = Control::default();
        assert_eq!(c.request("launch"), Go::Claim);
        assert!(!c.waiting(), "no other tab is known to hold it before the answer");
        c.busy();
        assert!(c.waiting() && !c.may_store());
        // The reader stays out: the launch is forgotten.
        c.stay_out();
        assert_eq!(c.tab, Tab::Unclaimed);
        assert_eq!(c.claimed(), None, "a later grant launches nothing");
        // Asked again, then granted (taken over): the waiting launch goes.
        let mut c = Control::default();
        c.request("launch");
        assert_eq!(c.claimed(), Some("launch"));
        assert!(c.may_store());
        assert_eq!(c.request("next"), Go::Now("next"), "an owner launches at once");
    }

    #[test]
    fn a_tab_that_lost_the_run_stops_it_and_stores_nothing_more() {
        let mut c = owner();
        c.began(LaunchKind::Start, "x");
        c.lost();
        assert!(!c.may_store() && c.taken_over());
        assert_eq!(c.fold(&FromWorker::Snapshot { epoch: 2 }, false), [Effect::Show], "no storage write");
        assert_eq!(c.fold(&done(), true), [Effect::Show, Effect::Forget("x"), Effect::Publish]);
        // A later launch asks for the run again.
        assert_eq!(c.request("again"), Go::Claim);
    }

    #[test]
    fn a_reload_shows_the_stored_run_only_if_nothing_was_launched_meanwhile() {
        let mut c = Control::default();
        assert!(c.may_restore());
        assert!(c.fetch_start());
        assert!(!c.may_restore());
        assert!(!c.fetch_start(), "a second press waits for the first fetch");
        c.fetched();
        assert!(c.may_restore());
        let mut c = owner();
        c.began(LaunchKind::Start, "x");
        assert!(!c.may_restore());
    }

    #[test]
    fn reports_outside_a_launch_are_only_shown() {
        let mut c = Control::default();
        assert_eq!(c.fold(&done(), true), [Effect::Show]);
    }
}

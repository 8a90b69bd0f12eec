//! A run as the page shows it, as plain data: the fold of worker reports into [`RunView`]
//! (progress, history, results), what is stored so a reload finds the run ([`SavedRun`]), and
//! the hint the page gives for each kind of error.
//!
//! No signals and no DOM, so every rule here is tested natively.

use breastmnist_protocol::{
    BackendChoice, BackendKind, CHECKPOINT_MAGIC, CertaintyView, Conv, ConvView, DoneView, EpochView, ErrorKind, FromWorker,
    ModelView, Split, TrainRequest, WorkerError,
};
use serde::{Deserialize, Serialize};

/// Where a run is.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum RunPhase {
    #[default]
    Idle,
    /// Loading the worker and picking the backend.
    Starting,
    Training,
    Paused,
    Done,
    Stopped,
    Failed(WorkerError),
    /// A run restored after a reload that had not finished: it can continue from its last
    /// snapshot.
    Interrupted,
}

impl RunPhase {
    pub fn is_active(&self) -> bool {
        matches!(self, RunPhase::Starting | RunPhase::Training | RunPhase::Paused)
    }
}

/// The backend the worker runs on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackendInfo {
    pub kind: BackendKind,
    pub adapter: String,
    pub notice: Option<String>,
}

/// Everything the panel shows about a run.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct RunView {
    pub phase: RunPhase,
    pub request: Option<TrainRequest>,
    pub backend: Option<BackendInfo>,
    pub epoch: usize,
    pub step: usize,
    pub steps_per_epoch: usize,
    pub eval: Option<(Split, usize, usize)>,
    /// `(epoch + step / steps_per_epoch, loss)` for every step.
    pub step_losses: Vec<(f64, f64)>,
    pub history: Vec<EpochView>,
    pub done: Option<DoneView>,
    pub checkpoint_name: Option<String>,
    /// The architecture of the checkpoint the worker keeps, as it said with the checkpoint.
    pub checkpoint_model: Option<ModelView>,
    /// When training (not set-up) began, and the steps taken since, for the ETA.
    pub first_step_ms: Option<f64>,
    pub steps_done: usize,
    /// Worker-measured milliseconds of each step of this session (the benchmark reads them).
    pub step_millis: Vec<f64>,
    /// The last epoch whose snapshot the worker sent (the page stores it).
    pub snapshot_epoch: Option<usize>,
    /// The file name, when the results are an imported checkpoint's evaluation.
    pub evaluated: Option<String>,
}

/// What the page stores after every epoch so a reload finds the run (the snapshot and
/// checkpoint bytes are stored beside it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedRun {
    pub version: u32,
    pub request: TrainRequest,
    /// Image side of the dataset the run used (28 or 64).
    pub side: usize,
    pub backend: Option<BackendInfo>,
    pub steps_per_epoch: usize,
    pub step_losses: Vec<(f64, f64)>,
    pub history: Vec<EpochView>,
    pub done: Option<DoneView>,
    pub checkpoint_name: Option<String>,
    pub snapshot_epoch: Option<usize>,
    pub evaluated: Option<String>,
    /// Why the run ended early, if it did.
    pub failure: Option<String>,
}

impl SavedRun {
    pub const VERSION: u32 = 1;

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("plain data serialises")
    }

    /// The stored run, or why it cannot be read (an older format, say).
    pub fn from_json(s: &str) -> Result<SavedRun, String> {
        let run: SavedRun = serde_json::from_str(s).map_err(|e| e.to_string())?;
        if run.version != Self::VERSION {
            return Err(format!("saved by another version ({})", run.version));
        }
        Ok(run)
    }
}

impl RunView {
    /// A fresh run of `request`.
    pub fn starting(request: TrainRequest) -> RunView {
        RunView { phase: RunPhase::Starting, request: Some(request), ..RunView::default() }
    }

    /// Folds one worker report in (`now_ms`: the page clock).
    pub fn apply(&mut self, msg: &FromWorker, now_ms: f64) {
        match msg {
            FromWorker::Ready { .. } => {}
            FromWorker::Backend { kind, adapter, notice } => {
                self.backend = Some(BackendInfo { kind: *kind, adapter: adapter.clone(), notice: notice.clone() });
            }
            FromWorker::Step { epoch, step, steps_per_epoch, loss, millis } => {
                self.step_millis.push(*millis);
                if self.phase == RunPhase::Starting {
                    self.phase = RunPhase::Training;
                }
                self.first_step_ms.get_or_insert(now_ms);
                self.steps_done += 1;
                self.epoch = *epoch;
                self.step = *step;
                self.steps_per_epoch = *steps_per_epoch;
                self.eval = None;
                let x = (*epoch - 1) as f64 + *step as f64 / (*steps_per_epoch).max(1) as f64;
                self.step_losses.push((x, *loss));
            }
            FromWorker::Eval { split, done, total } => self.eval = Some((*split, *done, *total)),
            FromWorker::Epoch(m) => {
                self.eval = None;
                self.history.push(m.clone());
            }
            FromWorker::Done(d) => {
                self.done = Some(d.clone());
                self.phase = RunPhase::Done;
                self.eval = None;
            }
            FromWorker::Checkpoint { name, model } => {
                self.checkpoint_name = Some(name.clone());
                self.checkpoint_model = model.as_deref().cloned();
            }
            FromWorker::Snapshot { epoch } => self.snapshot_epoch = Some(*epoch),
            // The same weights as .safetensors: a download only (the train state keeps it).
            FromWorker::Weights { .. } => {}
            FromWorker::Paused => self.phase = RunPhase::Paused,
            FromWorker::Unpaused => self.phase = RunPhase::Training,
            FromWorker::Stopped => self.phase = RunPhase::Stopped,
            FromWorker::Failed(e) => self.phase = RunPhase::Failed(e.clone()),
            // Explanations belong to the explorer, pretraining to the methods lab.
            FromWorker::Explaining { .. }
            | FromWorker::Explained(_)
            | FromWorker::ActivationGrid(_)
            | FromWorker::LooksLike(_)
            | FromWorker::ExplainFailed(_)
            | FromWorker::PretextStep { .. }
            | FromWorker::PretextEpoch(_)
            | FromWorker::GanStep { .. }
            | FromWorker::GanEpoch(_)
            | FromWorker::Encoder { .. } => {}
        }
    }

    /// Evaluating an imported checkpoint named `name`.
    pub fn evaluating(name: &str, request: TrainRequest) -> RunView {
        RunView { evaluated: Some(name.to_string()), ..RunView::starting(request) }
    }

    /// What to store; `None` before a run has a request.
    pub fn saved(&self, side: usize) -> Option<SavedRun> {
        Some(SavedRun {
            version: SavedRun::VERSION,
            request: self.request.clone()?,
            side,
            backend: self.backend.clone(),
            steps_per_epoch: self.steps_per_epoch,
            step_losses: self.step_losses.clone(),
            history: self.history.clone(),
            done: self.done.clone(),
            checkpoint_name: self.checkpoint_name.clone(),
            snapshot_epoch: self.snapshot_epoch,
            evaluated: self.evaluated.clone(),
            failure: match &self.phase {
                RunPhase::Failed(e) => Some(e.message.clone()),
                _ => None,
            },
        })
    }

    /// A stored run as the page shows it after a reload: finished, or interrupted at its last
    /// snapshot (steps after it are dropped: the run continues from there).
    pub fn restored(run: SavedRun) -> RunView {
        let epoch = run.snapshot_epoch.unwrap_or(run.history.len());
        let finished = run.done.is_some();
        let mut history = run.history;
        let mut step_losses = run.step_losses;
        if !finished {
            history.retain(|h| h.epoch <= epoch);
            step_losses.retain(|&(x, _)| x <= epoch as f64 + 1e-9);
        }
        RunView {
            phase: if finished { RunPhase::Done } else { RunPhase::Interrupted },
            request: Some(run.request),
            backend: run.backend,
            epoch,
            step: if finished { 0 } else { run.steps_per_epoch },
            steps_per_epoch: run.steps_per_epoch,
            eval: None,
            step_losses,
            history,
            done: run.done,
            checkpoint_name: run.checkpoint_name,
            // A restored run's model is `done`'s, or the worker's again once it reloads it.
            checkpoint_model: None,
            first_step_ms: None,
            steps_done: 0,
            step_millis: Vec::new(),
            snapshot_epoch: run.snapshot_epoch,
            evaluated: run.evaluated,
        }
    }

    /// Continuing this (interrupted) run: its history stays, the clock restarts.
    pub fn continuing(&self, backend: BackendChoice) -> RunView {
        let mut next = self.clone();
        next.phase = RunPhase::Starting;
        next.backend = None;
        next.first_step_ms = None;
        next.steps_done = 0;
        next.step_millis.clear();
        next.done = None;
        if let Some(r) = &mut next.request {
            r.backend = backend;
        }
        next
    }

    /// The architecture of the model the worker keeps for the explorer: as the checkpoint
    /// said (a run that failed after keeping one has no `Done`), else as `Done` said.
    pub fn kept_model(&self) -> Option<ModelView> {
        self.checkpoint_model.clone().or_else(|| self.done.as_ref().and_then(|d| d.model.as_deref().cloned()))
    }

    /// Whether the run can continue from a stored snapshot.
    pub fn can_continue(&self) -> bool {
        self.snapshot_epoch.is_some()
            && matches!(self.phase, RunPhase::Interrupted | RunPhase::Failed(_) | RunPhase::Stopped)
            && self.done.is_none()
    }

    pub fn epochs_total(&self) -> usize {
        self.request.as_ref().map_or(0, |r| r.epochs)
    }

    /// What the run is evaluating between steps (" · evaluating val 39/78"); the training split
    /// is a prototype head's projection onto its training patches.
    pub fn eval_note(&self) -> String {
        match self.eval {
            Some((Split::Train, d, t)) => format!(" · projecting prototypes onto training patches {d}/{t}"),
            Some((split, d, t)) => format!(" · evaluating {} {d}/{t}", split.key()),
            None => String::new(),
        }
    }

    /// While an imported checkpoint is being evaluated: what is being done ("Evaluating
    /// r50.pth: test 40/156"); `None` otherwise.
    pub fn evaluation_progress(&self) -> Option<String> {
        let name = self.evaluated.as_ref().filter(|_| self.phase == RunPhase::Starting)?;
        Some(match (&self.backend, self.eval) {
            (_, Some((split, done, total))) => format!("Evaluating {name}: {} {done}/{total}", split.key()),
            (Some(_), None) => format!("Evaluating {name}…"),
            (None, None) => "Loading the trainer and choosing a backend…".to_string(),
        })
    }

    /// Fraction of optimisation steps done, in [0, 1] (of the images evaluated, validation then
    /// test, while an imported checkpoint is evaluated).
    pub fn fraction(&self) -> f64 {
        let total = self.epochs_total() * self.steps_per_epoch;
        if let (Some((split, done, n)), Some(_), RunPhase::Starting) = (self.eval, &self.evaluated, &self.phase) {
            let before = if split == Split::Test { 0.5 } else { 0.0 };
            return before + 0.5 * done as f64 / n.max(1) as f64;
        }
        if self.phase == RunPhase::Done {
            1.0
        } else if total == 0 {
            0.0
        } else {
            (((self.epoch.max(1) - 1) * self.steps_per_epoch + self.step) as f64 / total as f64).min(1.0)
        }
    }

    /// Seconds left at the pace of the steps so far (evaluation time included in the pace).
    pub fn eta_seconds(&self, now_ms: f64) -> Option<f64> {
        let start = self.first_step_ms?;
        let total = self.epochs_total() * self.steps_per_epoch;
        if self.steps_done < 2 || total == 0 || self.phase == RunPhase::Done {
            return None;
        }
        let per_step = (now_ms - start) / 1000.0 / (self.steps_done - 1) as f64;
        let done = (self.epoch.max(1) - 1) * self.steps_per_epoch + self.step;
        Some(per_step * total.saturating_sub(done) as f64)
    }
}

/// How sure a run's test figures are: the AUC's interval with malignant's sensitivity and
/// specificity, then the figures on the de-duplicated test subset.
pub fn certainty_lines(c: &CertaintyView) -> (String, String) {
    (
        format!(
            "95% interval of the AUC (DeLong): {:.3}–{:.3}. Malignant as the finding: sensitivity {:.2}, specificity {:.2}.",
            c.auc_ci.0, c.auc_ci.1, c.sensitivity, c.specificity
        ),
        format!(
            "On the {} test images without a training twin (see Check for leaks): AUC {:.3} ({:.3}–{:.3}) · ACC {:.3}.",
            c.dedup_images, c.dedup_auc, c.dedup_auc_ci.0, c.dedup_auc_ci.1, c.dedup_acc
        ),
    )
}

/// What the reader can do about an error of `kind` on `backend`.
pub fn hint(kind: ErrorKind, backend: Option<BackendKind>) -> &'static str {
    match (kind, backend) {
        (ErrorKind::Settings, _) => "Change the settings above and press Start again.",
        (ErrorKind::Data, _) => "Load the dataset again in step 1 (or pick the official file), then retry.",
        (ErrorKind::Checkpoint, _) => {
            "Import a .ckpt exported by this page or by the breastmnist command, for the image size chosen above."
        }
        (ErrorKind::Diverged, _) => "Lower the learning rate (or mixup α) and start again.",
        (ErrorKind::Device, Some(BackendKind::WebGpu)) => {
            "The GPU was lost or ran out of memory: choose the CPU backend above, then continue or start again."
        }
        (ErrorKind::Device, _) => "Reload the page and try again; if it happens again, close other heavy tabs first.",
        (ErrorKind::Worker, _) => "Reload the page and try again.",
        (ErrorKind::Protocol, _) => "The page and its trainer come from different versions: reload the page.",
    }
}

/// The page's quick look at a file offered for import, before a worker reads it: our
/// checkpoint (`BMNCKPT1`), a `.safetensors` file (an 8-byte little-endian header length, then
/// `{`), or PyTorch's `.pt`/`.pth` (a ZIP, or a pickle stream). The worker checks the rest.
pub fn looks_like_weights(bytes: &[u8]) -> bool {
    let safetensors = bytes.len() > 8 && bytes[8] == b'{' && {
        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap_or_default());
        n >= 2 && n <= bytes.len() as u64 - 8
    };
    bytes.starts_with(CHECKPOINT_MAGIC) || safetensors || bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(&[0x80])
}

/// One line on how a run's convolutions ran: burn's kernel or GEMM (im2col + matmul), the check
/// that let GEMM run on this device, and the race that chose between them.
pub fn conv_note(c: &ConvView) -> String {
    let checked = c
        .worst_difference
        .map_or(String::new(), |d| format!(", checked against burn's kernel on this device (worst difference {d:.1e})"));
    if c.fell_back {
        return format!(
            "Convolutions: burn's kernel. GEMM disagreed with it on this device (worst difference {:.1e}), so it was not used.",
            c.worst_difference.unwrap_or(f64::NAN)
        );
    }
    match (c.algo, c.race_ms) {
        (Conv::Gemm, Some((direct, gemm))) => {
            format!(
                "Convolutions: GEMM (im2col + matmul), {:.1}x faster than burn's kernel here ({gemm:.0} vs {direct:.0} ms a step){checked}.",
                direct / gemm
            )
        }
        (Conv::Direct, Some((direct, gemm))) => {
            format!("Convolutions: burn's kernel, faster than GEMM here ({direct:.0} vs {gemm:.0} ms a step){checked}.")
        }
        (Conv::Gemm, None) => format!("Convolutions: GEMM (im2col + matmul){checked}."),
        (Conv::Direct, None) => "Convolutions: burn's kernel (the faster one on this backend).".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::chart::tests::epoch;
    use crate::view::draft::Draft;
    use breastmnist_protocol::Preset;

    fn query<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| pairs.iter().find(|(key, _)| *key == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn an_import_being_evaluated_says_so_with_its_progress() {
        let mut v = RunView::evaluating("r50.pth", Preset::Reader.request());
        assert_eq!(v.evaluation_progress().as_deref(), Some("Loading the trainer and choosing a backend…"));
        let backend = FromWorker::Backend { kind: BackendKind::Cpu, adapter: "burn flex".into(), notice: None };
        v.apply(&backend, 0.0);
        assert_eq!(v.evaluation_progress().as_deref(), Some("Evaluating r50.pth…"));
        assert_eq!(v.fraction(), 0.0);
        v.apply(&FromWorker::Eval { split: Split::Val, done: 39, total: 78 }, 1.0);
        assert_eq!(v.evaluation_progress().as_deref(), Some("Evaluating r50.pth: val 39/78"));
        assert_eq!(v.eval_note(), " · evaluating val 39/78");
        let mut projecting = v.clone();
        projecting.apply(&FromWorker::Eval { split: Split::Train, done: 128, total: 546 }, 1.5);
        assert_eq!(projecting.eval_note(), " · projecting prototypes onto training patches 128/546");
        assert_eq!(v.fraction(), 0.25);
        v.apply(&FromWorker::Eval { split: Split::Test, done: 156, total: 156 }, 2.0);
        assert_eq!(v.fraction(), 1.0);
        // A training run never says it.
        let mut run = RunView::starting(Preset::Reader.request());
        run.apply(&backend, 0.0);
        assert_eq!(run.evaluation_progress(), None);
    }

    #[test]
    fn the_kept_model_is_the_checkpoints_even_when_the_run_fails_before_done() {
        use breastmnist_protocol::Stage;
        let lite0 = crate::view::explore::tests::lite0_at_28();
        let mut v = RunView::starting(Preset::Reader.request());
        assert_eq!(v.kept_model(), None);
        let kept = FromWorker::Checkpoint { name: "best.ckpt".into(), model: Some(Box::new(lite0.clone())) };
        v.apply(&kept, 1.0);
        v.apply(&FromWorker::Failed(WorkerError::new(ErrorKind::Diverged, "the loss became NaN")), 2.0);
        assert_eq!(v.done, None);
        assert_eq!(v.kept_model().map(|m| m.cam_stage()), Some(Stage::Layer3), "the explorer asks lite0 for layer3");
        // From an older worker, the checkpoint says nothing: Done's description stands.
        let mut old = RunView::starting(Preset::Reader.request());
        old.apply(&FromWorker::Checkpoint { name: "best.ckpt".into(), model: None }, 1.0);
        old.done = Some(DoneView { model: Some(Box::new(lite0.clone())), ..crate::view::control::tests::done_view() });
        assert_eq!(old.kept_model(), Some(lite0));
    }

    #[test]
    fn the_quick_look_takes_checkpoints_safetensors_and_pytorch_files_only() {
        let mut st = 4u64.to_le_bytes().to_vec();
        st.extend_from_slice(b"{}  ");
        assert!(looks_like_weights(&st));
        assert!(looks_like_weights(b"BMNCKPT1...") && looks_like_weights(b"PK\x03\x04zip") && looks_like_weights(&[0x80, 2]));
        let mut lying = 400u64.to_le_bytes().to_vec();
        lying.extend_from_slice(b"{}");
        assert!(!looks_like_weights(&lying), "a header longer than the file");
        assert!(!looks_like_weights(&[1, 2, 3, 4]) && !looks_like_weights(b"") && !looks_like_weights(b"{\"json\": 1}"));
    }

    #[test]
    fn reports_fold_into_progress_history_and_result() {
        let req = Draft::from_query(query(&[("epochs", "2")])).validate(546).unwrap();
        let mut s = RunView::starting(req);
        s.apply(&FromWorker::Backend { kind: BackendKind::Cpu, adapter: "flex".into(), notice: None }, 0.0);
        assert_eq!(s.phase, RunPhase::Starting);
        for step in 1..=4 {
            s.apply(
                &FromWorker::Step { epoch: 1, step, steps_per_epoch: 4, loss: 1.0 / step as f64, millis: 5.0 },
                step as f64 * 1000.0,
            );
        }
        assert_eq!(s.phase, RunPhase::Training);
        assert_eq!(s.step_losses.len(), 4);
        assert_eq!(s.step_losses[3].0, 1.0);
        assert!((s.fraction() - 0.5).abs() < 1e-9);
        let eta = s.eta_seconds(4000.0).unwrap();
        assert!((eta - 4.0).abs() < 1e-9, "4 steps left at 1 s each: {eta}");
        s.apply(&FromWorker::Paused, 0.0);
        assert_eq!(s.phase, RunPhase::Paused);
        s.apply(&FromWorker::Unpaused, 0.0);
        let nan = WorkerError::new(ErrorKind::Diverged, "loss became NaN");
        s.apply(&FromWorker::Failed(nan.clone()), 0.0);
        assert_eq!(s.phase, RunPhase::Failed(nan));
        assert!(!s.phase.is_active());
    }

    #[test]
    fn a_saved_run_restores_at_its_last_snapshot_and_continues() {
        let request = Draft::default().validate(546).unwrap();
        let mut s = RunView::starting(request);
        s.apply(&FromWorker::Backend { kind: BackendKind::Cpu, adapter: "flex".into(), notice: None }, 0.0);
        for e in 1..=3 {
            for step in 1..=2 {
                s.apply(&FromWorker::Step { epoch: e, step, steps_per_epoch: 2, loss: 0.5, millis: 1.0 }, 0.0);
            }
            s.apply(&FromWorker::Epoch(epoch(e)), 0.0);
            if e < 3 {
                s.apply(&FromWorker::Snapshot { epoch: e }, 0.0);
            }
        }
        // Saved after epoch 2's snapshot, but the state already holds epoch 3: it is dropped.
        let saved = SavedRun::from_json(&s.saved(28).unwrap().to_json()).unwrap();
        let r = RunView::restored(saved);
        assert_eq!(r.phase, RunPhase::Interrupted);
        assert_eq!((r.epoch, r.history.len(), r.step_losses.len()), (2, 2, 4));
        assert!(r.can_continue());
        assert!(!r.phase.is_active());
        let c = r.continuing(BackendChoice::Cpu);
        assert_eq!(c.phase, RunPhase::Starting);
        assert_eq!(c.history.len(), 2);
        assert_eq!(c.request.as_ref().unwrap().backend, BackendChoice::Cpu);
        // A finished run restores as done and cannot continue.
        let mut d = s.clone();
        d.apply(
            &FromWorker::Done(DoneView {
                best_epoch: 1,
                val_auc: 0.8,
                test_auc: 0.8,
                test_acc: 0.7,
                confusion: [[1, 2], [3, 4]],
                roc: vec![],
                metrics_json: "{}".into(),
                result_files: vec![],
                worker_memory: 0,
                conv: None,
                model: None,
                certainty: None,
                task: None,
            }),
            0.0,
        );
        let r = RunView::restored(d.saved(28).unwrap());
        assert_eq!((r.phase.clone(), r.history.len()), (RunPhase::Done, 3));
        assert!(!r.can_continue());
        assert!(SavedRun::from_json("{}").is_err());
        assert!(SavedRun::from_json(&d.saved(28).unwrap().to_json().replace("\"version\":1", "\"version\":9")).is_err());
    }

    #[test]
    fn a_lost_gpu_points_to_the_cpu_and_saved_runs_keep_the_message() {
        assert!(hint(ErrorKind::Device, Some(BackendKind::WebGpu)).contains("CPU backend"));
        assert!(!hint(ErrorKind::Device, Some(BackendKind::Cpu)).contains("CPU backend"));
        assert!(hint(ErrorKind::Protocol, None).contains("reload"));
        let mut s = RunView::starting(Preset::Reader.request());
        s.apply(&FromWorker::Failed(WorkerError::new(ErrorKind::Device, "device lost")), 0.0);
        assert_eq!(s.saved(28).unwrap().failure.as_deref(), Some("device lost"));
    }

    #[test]
    fn the_conv_note_says_what_ran_and_why() {
        let v = |algo, worst_difference, fell_back, race_ms| ConvView { algo, worst_difference, fell_back, race_ms };
        assert_eq!(
            conv_note(&v(Conv::Direct, None, false, None)),
            "Convolutions: burn's kernel (the faster one on this backend)."
        );
        let pinned = conv_note(&v(Conv::Gemm, Some(1.2e-6), false, None));
        assert!(pinned.starts_with("Convolutions: GEMM") && pinned.contains("worst difference 1.2e-6"), "{pinned}");
        let won = conv_note(&v(Conv::Gemm, Some(1e-7), false, Some((40.0, 10.0))));
        assert!(won.contains("4.0x faster than burn's kernel here (10 vs 40 ms a step)"), "{won}");
        let lost = conv_note(&v(Conv::Direct, Some(1e-7), false, Some((10.0, 30.0))));
        assert!(lost.contains("burn's kernel, faster than GEMM here (10 vs 30 ms a step)"), "{lost}");
        let broken = conv_note(&v(Conv::Direct, Some(0.03), true, None));
        assert!(broken.contains("GEMM disagreed") && broken.contains("3.0e-2"), "{broken}");
    }

    #[test]
    fn certainty_reads_as_intervals_and_the_subset() {
        let c = CertaintyView {
            auc_ci: (0.85, 0.95),
            sensitivity: 0.714,
            specificity: 0.912,
            dedup_images: 97,
            dedup_auc: 0.881,
            dedup_auc_ci: (0.80, 0.96),
            dedup_acc: 0.845,
        };
        let (a, b) = certainty_lines(&c);
        assert_eq!(
            a,
            "95% interval of the AUC (DeLong): 0.850–0.950. Malignant as the finding: sensitivity 0.71, specificity 0.91."
        );
        assert!(
            b.starts_with("On the 97 test images without a training twin") && b.contains("AUC 0.881 (0.800–0.960) · ACC 0.845")
        );
    }
}

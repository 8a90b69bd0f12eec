//! What the worker does with a command, decided as data: [`plan`] turns a command and the
//! buffers beside it into one [`Job`], or a refusal with a typed error. It is pure (no
//! JavaScript, no burn), so every rule is tested natively; the dispatcher only carries jobs out.
//!
//! It must not know how a job is carried out.

use breastmnist_protocol::{
    BackendChoice, Buffers, ErrorKind, GanRequest, PretrainRequest, Split, Stage, ToWorker, TrainRequest, WorkerError,
};

/// Where a run's weights come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Init {
    Fresh,
    /// Checkpoint bytes to fine-tune.
    FineTune(Vec<u8>),
    /// Snapshot bytes of an interrupted run.
    Continue(Vec<u8>),
}

/// A question for the kept model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Question {
    /// Scores and Grad-CAM maps of a whole split at `stage`, or of images `indices` of it.
    Explain { split: Split, stage: Stage, indices: Option<Vec<usize>> },
    /// One image's strongest channels at `stage`.
    Activations { split: Split, index: usize, stage: Stage },
    /// One image's strongest prototypes and the training patches they are.
    LooksLike { split: Split, index: usize },
}

/// A long piece of work: one runs at a time.
#[derive(Clone, Debug, PartialEq)]
pub enum Run {
    Train {
        request: TrainRequest,
        data: Vec<u8>,
        init: Init,
    },
    Evaluate {
        backend: BackendChoice,
        name: String,
        tta: bool,
        data: Vec<u8>,
        checkpoint: Vec<u8>,
    },
    Pretrain {
        request: PretrainRequest,
        data: Vec<u8>,
        extras: Vec<Vec<u8>>,
    },
    /// A GAN on the training images; `encoder`: the SimCLR encoder for the Fréchet distance.
    Gan {
        request: GanRequest,
        data: Vec<u8>,
        encoder: Option<Vec<u8>>,
    },
}

/// One thing for the worker to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Job {
    Run(Run),
    Pause,
    Unpause,
    Stop,
    Ask(Question),
    /// Nothing is done; the error is posted.
    Refuse(WorkerError),
}

fn refuse(message: &str) -> Job {
    Job::Refuse(WorkerError::new(ErrorKind::Worker, message))
}

/// The job for `command` with `buffers` beside it; `busy` when a run is in progress (a second
/// one is refused).
pub fn plan(command: ToWorker, buffers: Buffers, busy: bool) -> Job {
    let Buffers { data, init, extra } = buffers;
    let starts_a_run = matches!(
        command,
        ToWorker::Start(_) | ToWorker::Continue(_) | ToWorker::Evaluate { .. } | ToWorker::Pretrain(_) | ToWorker::Gan(_)
    );
    if starts_a_run && busy {
        return refuse("a run is already in progress");
    }
    let needs_data = |job: &dyn Fn(Vec<u8>) -> Job| match &data {
        Some(d) => job(d.clone()),
        None => refuse("no dataset file was sent with the command"),
    };
    match (command, init) {
        (ToWorker::Start(request), Some(b)) if request.fine_tune => {
            needs_data(&|data| Job::Run(Run::Train { request: request.clone(), data, init: Init::FineTune(b.clone()) }))
        }
        (ToWorker::Start(request), None) if request.fine_tune => refuse("fine-tuning needs a checkpoint: import one first"),
        (ToWorker::Start(request), _) => {
            needs_data(&|data| Job::Run(Run::Train { request: request.clone(), data, init: Init::Fresh }))
        }
        (ToWorker::Continue(request), Some(b)) => {
            needs_data(&|data| Job::Run(Run::Train { request: request.clone(), data, init: Init::Continue(b.clone()) }))
        }
        (ToWorker::Continue(_), None) => refuse("there is no saved snapshot to continue from"),
        (ToWorker::Evaluate { backend, name, tta }, Some(b)) => {
            needs_data(&|data| Job::Run(Run::Evaluate { backend, name: name.clone(), tta, data, checkpoint: b.clone() }))
        }
        (ToWorker::Evaluate { .. }, None) => refuse("no checkpoint file was sent"),
        (ToWorker::Pretrain(request), _) => {
            needs_data(&|data| Job::Run(Run::Pretrain { request: request.clone(), data, extras: extra.clone() }))
        }
        (ToWorker::Gan(request), encoder) => {
            needs_data(&|data| Job::Run(Run::Gan { request: request.clone(), data, encoder: encoder.clone() }))
        }
        (ToWorker::Pause, _) => Job::Pause,
        (ToWorker::Unpause, _) => Job::Unpause,
        (ToWorker::Stop, _) => Job::Stop,
        (ToWorker::Explain { split, stage }, _) => Job::Ask(Question::Explain { split, stage, indices: None }),
        (ToWorker::ExplainImages { split, stage, indices }, _) => {
            Job::Ask(Question::Explain { split, stage, indices: Some(indices) })
        }
        (ToWorker::Activations { split, index, stage }, _) => Job::Ask(Question::Activations { split, index, stage }),
        (ToWorker::LooksLike { split, index }, _) => Job::Ask(Question::LooksLike { split, index }),
    }
}

#[cfg(test)]
mod tests {
    use breastmnist_protocol::{Preset, PretextTask};

    use super::*;

    fn request(fine_tune: bool) -> TrainRequest {
        TrainRequest { fine_tune, ..Preset::Reader.request() }
    }

    fn with(data: bool, init: bool) -> Buffers {
        Buffers { data: data.then(|| vec![1, 2]), init: init.then(|| vec![9]), extra: vec![vec![7]] }
    }

    fn refused(job: Job) -> String {
        match job {
            Job::Refuse(e) => {
                assert_eq!(e.kind, ErrorKind::Worker);
                e.message
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_start_trains_fresh_or_fine_tunes_its_checkpoint() {
        let fresh = plan(ToWorker::Start(request(false)), with(true, false), false);
        assert_eq!(fresh, Job::Run(Run::Train { request: request(false), data: vec![1, 2], init: Init::Fresh }));
        // A checkpoint sent with a fresh start is not used.
        let ignored = plan(ToWorker::Start(request(false)), with(true, true), false);
        assert!(matches!(ignored, Job::Run(Run::Train { init: Init::Fresh, .. })));
        let tuned = plan(ToWorker::Start(request(true)), with(true, true), false);
        assert_eq!(tuned, Job::Run(Run::Train { request: request(true), data: vec![1, 2], init: Init::FineTune(vec![9]) }));
        assert!(refused(plan(ToWorker::Start(request(true)), with(true, false), false)).contains("import one first"));
    }

    #[test]
    fn continue_and_evaluate_need_their_file() {
        let cont = plan(ToWorker::Continue(request(false)), with(true, true), false);
        assert!(matches!(cont, Job::Run(Run::Train { init: Init::Continue(ref b), .. }) if b == &[9]));
        assert!(refused(plan(ToWorker::Continue(request(false)), with(true, false), false)).contains("no saved snapshot"));
        let eval = ToWorker::Evaluate { backend: BackendChoice::Cpu, name: "m.ckpt".into(), tta: true };
        let job = plan(eval.clone(), with(true, true), false);
        assert_eq!(
            job,
            Job::Run(Run::Evaluate {
                backend: BackendChoice::Cpu,
                name: "m.ckpt".into(),
                tta: true,
                data: vec![1, 2],
                checkpoint: vec![9]
            })
        );
        assert!(refused(plan(eval, with(true, false), false)).contains("no checkpoint"));
    }

    #[test]
    fn pretraining_takes_the_extra_files() {
        let req = PretrainRequest {
            task: PretextTask::Masked,
            model: breastmnist_protocol::ModelKind::C8,
            epochs: 1,
            batch_size: 128,
            seed: 0,
            backend: BackendChoice::Cpu,
            extra: vec![breastmnist_protocol::ExtraFile::PneumoniaMnist],
        };
        let job = plan(ToWorker::Pretrain(req.clone()), with(true, false), false);
        assert_eq!(job, Job::Run(Run::Pretrain { request: req, data: vec![1, 2], extras: vec![vec![7]] }));
    }

    #[test]
    fn a_gan_takes_the_dataset_and_the_encoder_if_sent() {
        let req = GanRequest { epochs: 2, seed: 1, backend: BackendChoice::Cpu, subset: Some(64), per_class: 8 };
        let job = plan(ToWorker::Gan(req.clone()), with(true, true), false);
        assert_eq!(job, Job::Run(Run::Gan { request: req.clone(), data: vec![1, 2], encoder: Some(vec![9]) }));
        let job = plan(ToWorker::Gan(req.clone()), with(true, false), false);
        assert_eq!(job, Job::Run(Run::Gan { request: req.clone(), data: vec![1, 2], encoder: None }));
        assert!(refused(plan(ToWorker::Gan(req.clone()), with(false, false), false)).contains("no dataset"));
        assert!(refused(plan(ToWorker::Gan(req), with(true, false), true)).contains("already in progress"));
    }

    #[test]
    fn a_run_needs_the_dataset_and_only_one_runs_at_a_time() {
        assert!(refused(plan(ToWorker::Start(request(false)), with(false, false), false)).contains("no dataset"));
        for cmd in [
            ToWorker::Start(request(false)),
            ToWorker::Continue(request(false)),
            ToWorker::Evaluate { backend: BackendChoice::Cpu, name: "m".into(), tta: false },
        ] {
            assert!(refused(plan(cmd, with(true, true), true)).contains("already in progress"));
        }
    }

    #[test]
    fn steering_and_questions_are_always_taken() {
        for busy in [false, true] {
            assert_eq!(plan(ToWorker::Pause, Buffers::default(), busy), Job::Pause);
            assert_eq!(plan(ToWorker::Unpause, Buffers::default(), busy), Job::Unpause);
            assert_eq!(plan(ToWorker::Stop, Buffers::default(), busy), Job::Stop);
            let ask = ToWorker::Explain { split: Split::Test, stage: Stage::Layer4 };
            assert_eq!(
                plan(ask, Buffers::default(), busy),
                Job::Ask(Question::Explain { split: Split::Test, stage: Stage::Layer4, indices: None })
            );
            let some = ToWorker::ExplainImages { split: Split::Test, stage: Stage::Layer4, indices: vec![5, 2] };
            assert_eq!(
                plan(some, Buffers::default(), busy),
                Job::Ask(Question::Explain { split: Split::Test, stage: Stage::Layer4, indices: Some(vec![5, 2]) })
            );

            let grid = ToWorker::Activations { split: Split::Val, index: 3, stage: Stage::Layer1 };
            let q = Question::Activations { split: Split::Val, index: 3, stage: Stage::Layer1 };
            assert_eq!(plan(grid, Buffers::default(), busy), Job::Ask(q));
        }
    }
}

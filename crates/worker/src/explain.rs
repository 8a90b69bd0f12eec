//! The explanation queue: once a run is done (or a checkpoint evaluated) its model stays here
//! and answers `explain` (scores and Grad-CAM maps of a whole split, in chunks with progress),
//! `activations` (one image's strongest channels) and, for a prototype head, `looks_like` (one
//! image's strongest prototypes and the training patches they are), one request at a time.
//!
//! It must not know how the model was trained.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;

use breastmnist_core::batch::ImageView;
use breastmnist_core::explain::{Explanations, activations, explain};
use breastmnist_core::prototypes::{self, Patch};
use breastmnist_core::{Device, ModelConfig, Network};
use breastmnist_data::Dataset;
use breastmnist_protocol::{ActivationGridView, BackendKind, ErrorKind, FromWorker, MAX_EXPLAIN_IMAGES, Split, WorkerError};
use wasm_bindgen_futures::spawn_local;

use crate::convert::{self, explain_error};
use crate::io::{now_ms, post, yield_now};
use crate::job::Question;

/// Images per Grad-CAM pass when explaining a split.
const EXPLAIN_CHUNK: usize = 64;
/// Channels in an activation grid.
const GRID_CHANNELS: usize = 16;

/// Images `asked` of a split of `len`: between 1 and [`MAX_EXPLAIN_IMAGES`], each in the split.
fn checked(asked: &[usize], len: usize, split: Split) -> Result<(), WorkerError> {
    let refuse = |message: String| Err(WorkerError::new(ErrorKind::Worker, message));
    if asked.is_empty() || asked.len() > MAX_EXPLAIN_IMAGES {
        return refuse(format!("asked to explain {} images; ask for 1 to {MAX_EXPLAIN_IMAGES}", asked.len()));
    }
    match asked.iter().find(|&&i| i >= len) {
        Some(i) => refuse(format!("{} has {len} images; there is no image {i}", split.key())),
        None => Ok(()),
    }
}

/// What explanations need once training is over.
pub struct Session {
    pub device: Device,
    pub backend: BackendKind,
    pub data: Arc<Dataset>,
    pub model: Network,
    pub config: ModelConfig,
    /// Whether the run's metrics used flip TTA (the explorer's scores then do too).
    pub tta: bool,
    /// A prototype head's training patches, found on the first `looks_like`.
    pub sources: RefCell<Option<Vec<Option<Patch>>>>,
}

#[derive(Default)]
pub struct Explainer {
    /// The finished run's model.
    session: RefCell<Option<Rc<Session>>>,
    /// Pending requests, answered one at a time.
    queue: RefCell<VecDeque<Question>>,
    pumping: Cell<bool>,
}

impl Explainer {
    /// Keeps `session`'s model to answer from now on.
    pub fn keep(&self, session: Session) {
        self.session.replace(Some(Rc::new(session)));
    }

    /// Queues a request and starts answering if idle; a request already queued is not queued
    /// twice.
    pub fn enqueue(self: &Rc<Self>, cmd: Question) {
        if self.queue.borrow().contains(&cmd) {
            return;
        }
        self.queue.borrow_mut().push_back(cmd);
        if self.pumping.replace(true) {
            return;
        }
        let this = self.clone();
        spawn_local(async move {
            loop {
                let next = this.queue.borrow_mut().pop_front();
                let Some(cmd) = next else { break };
                if let Err(error) = this.answer(cmd).await {
                    post(&FromWorker::ExplainFailed(error), None);
                }
                yield_now(0).await;
            }
            this.pumping.set(false);
        });
    }

    async fn answer(&self, cmd: Question) -> Result<(), WorkerError> {
        let session = self
            .session
            .borrow()
            .clone()
            .ok_or_else(|| WorkerError::new(ErrorKind::Worker, "there is no trained model yet: train one first"))?;
        let s = &*session;
        match cmd {
            Question::Explain { split, stage, indices } => {
                let view = ImageView::of(&s.data, split);
                let started = now_ms();
                let all: Vec<usize> = match &indices {
                    Some(asked) => {
                        checked(asked, view.len(), split)?;
                        asked.clone()
                    }
                    None => (0..view.len()).collect(),
                };
                let mut out: Option<Explanations> = None;
                for chunk in all.chunks(EXPLAIN_CHUNK) {
                    let part = explain(&s.model, &s.config, &view, chunk, convert::stage(stage), &s.device, s.tta)
                        .await
                        .map_err(|e| explain_error(&e))?;
                    match &mut out {
                        Some(o) => o.extend(part),
                        None => out = Some(part),
                    }
                    let done = out.as_ref().map_or(0, Explanations::len);
                    post(&FromWorker::Explaining { split, stage, done, total: all.len() }, None);
                    yield_now(0).await;
                }
                let out = out.ok_or_else(|| WorkerError::new(ErrorKind::Worker, format!("the {split:?} split is empty")))?;
                let (mut view, maps) = convert::explained(out, split, indices, s.backend, now_ms() - started);
                view.prototypes = s.model.prototypes().is_some();
                post(&FromWorker::Explained(view), Some(maps));
            }
            Question::Activations { split, index, stage } => {
                let view = ImageView::of(&s.data, split);
                if index >= view.len() {
                    let message = format!("{} has {} images; there is no image {index}", split.key(), view.len());
                    return Err(WorkerError::new(ErrorKind::Worker, message));
                }
                let grid = activations(&s.model, &s.config, view.image(index), convert::stage(stage), GRID_CHANNELS, &s.device)
                    .await
                    .map_err(|e| explain_error(&e))?;
                let msg = ActivationGridView {
                    split,
                    index,
                    stage,
                    side: grid.side,
                    total_channels: grid.total_channels,
                    channels: grid.channels,
                    means: grid.means,
                };
                post(&FromWorker::ActivationGrid(msg), Some(grid.values));
            }
            Question::LooksLike { split, index } => {
                let view = ImageView::of(&s.data, split);
                if index >= view.len() {
                    let message = format!("{} has {} images; there is no image {index}", split.key(), view.len());
                    return Err(WorkerError::new(ErrorKind::Worker, message));
                }
                let failed = |e: prototypes::PrototypeError| convert::prototype_error(&e);
                let known = s.sources.borrow().clone();
                let sources = match known {
                    Some(found) => found,
                    None => {
                        let train = ImageView::of(&s.data, Split::Train);
                        let found = prototypes::sources(&s.model, &train, &s.device).await.map_err(failed)?;
                        s.sources.replace(Some(found.clone()));
                        found
                    }
                };
                // The predicted class, as the run's scores computed it.
                let probs = breastmnist_core::eval::probabilities_as(&s.model, &view, &[index], &s.device, s.tta, false)
                    .await
                    .map_err(|e| failed(e.into()))?;
                let class = breastmnist_core::evaluator::argmax(&probs.iter().map(|&p| f64::from(p)).collect::<Vec<_>>());
                let why = prototypes::looks_like(&s.model, &s.config, &view, index, class, 3, &sources, &s.device)
                    .await
                    .map_err(failed)?;
                post(&FromWorker::LooksLike(convert::looks_like(why, split, index)), None);
            }
        }
        Ok(())
    }
}

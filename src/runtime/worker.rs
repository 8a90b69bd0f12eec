//! The page's handle on the trainer worker: spawn it on demand, hand it its first command once
//! it says it is ready (and is from the same build: its `Ready` carries the protocol's
//! `WIRE_ID`), send it commands, and route each reply to whoever asked: run reports
//! to the run's callback, explanation replies to the explorer's sink. The worker
//! (crates/worker) carries burn; the page never does.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;

use breastmnist_protocol::envelope::key;
use breastmnist_protocol::{
    ActivationGridView, ErrorKind, Explained, FromWorker, LooksLikeView, ModelView, Split, Stage, ToWorker, WIRE_ID, WorkerError,
};
use js_sys::{Object, Reflect, Uint8Array};
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use web_sys::{MessageEvent, Worker, WorkerOptions};

use crate::view::threads::TrainerScript;

/// What arrives from the worker: a message, and for checkpoints, snapshots and maps its bytes.
pub struct Report {
    pub msg: FromWorker,
    pub bytes: Option<Vec<u8>>,
}

/// A command with the buffers that travel beside it: the dataset file (`bytes`) and a
/// checkpoint or snapshot (`init`); for pretraining, the extra files in the request's order
/// (`extra`).
#[derive(Clone)]
pub struct Outgoing {
    pub cmd: ToWorker,
    pub bytes: Option<Arc<Vec<u8>>>,
    pub init: Option<Vec<u8>>,
    pub extra: Vec<Arc<Vec<u8>>>,
}

/// A running worker; dropping it terminates the worker.
pub struct WorkerHandle {
    shared: Rc<Shared>,
}

type Handlers = (Closure<dyn FnMut(MessageEvent)>, Closure<dyn FnMut(web_sys::Event)>);

/// The worker and what its handlers need. The handlers hold it weakly: the handle owns it.
struct Shared {
    worker: RefCell<Option<Worker>>,
    script: Cell<TrainerScript>,
    /// `Ready` arrived: until then a threaded trainer that fails is replaced by the single one.
    ready: Cell<bool>,
    first: Outgoing,
    on_report: RefCell<Box<dyn FnMut(Report)>>,
    /// Why the threaded trainer was replaced, told with the backend it then reports.
    downgraded: RefCell<Option<String>>,
    handlers: RefCell<Option<Handlers>>,
}

impl Drop for WorkerHandle {
    fn drop(&mut self) {
        if let Some(worker) = self.shared.worker.borrow_mut().take() {
            worker.set_onmessage(None);
            worker.set_onerror(None);
            worker.terminate();
        }
    }
}

fn post(worker: &Worker, out: &Outgoing) -> Result<(), WorkerError> {
    let obj = Object::new();
    let _ = Reflect::set(&obj, &key::JSON.into(), &out.cmd.to_json().into());
    if let Some(b) = &out.bytes {
        let _ = Reflect::set(&obj, &key::BYTES.into(), &Uint8Array::from(&b[..]));
    }
    if let Some(b) = &out.init {
        let _ = Reflect::set(&obj, &key::INIT.into(), &Uint8Array::from(&b[..]));
    }
    if !out.extra.is_empty() {
        let list = js_sys::Array::new();
        for b in &out.extra {
            list.push(&Uint8Array::from(&b[..]));
        }
        let _ = Reflect::set(&obj, &key::EXTRA.into(), &list);
    }
    worker
        .post_message(&obj)
        .map_err(|e| WorkerError::new(ErrorKind::Worker, format!("cannot send to the training worker: {e:?}")))
}

impl Shared {
    fn report(&self, msg: FromWorker, bytes: Option<Vec<u8>>) {
        (self.on_report.borrow_mut())(Report { msg, bytes });
    }

    /// Starts `script` as the worker, with the handlers.
    fn start(&self, script: TrainerScript) -> Result<(), WorkerError> {
        let options = WorkerOptions::new();
        if let TrainerScript::Threads(_) = script {
            // An ES module (it imports wasm-bindgen's glue); set through Reflect, as web-sys's
            // `set_type` needs a feature that rebuilds web-sys for one field.
            let _ = Reflect::set(&options, &"type".into(), &"module".into());
        }
        let worker = Worker::new_with_options(&script.url(), &options)
            .map_err(|e| WorkerError::new(ErrorKind::Worker, format!("cannot start the training worker: {e:?}")))?;
        if let Some((on_message, on_error)) = self.handlers.borrow().as_ref() {
            worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        }
        self.script.set(script);
        self.ready.set(false);
        *self.worker.borrow_mut() = Some(worker);
        Ok(())
    }

    /// A threaded trainer that failed before `Ready` (no shared memory, a pool that cannot
    /// start) gives way to the single-threaded one; `true` when that happened.
    fn fall_back(&self, why: &str) -> bool {
        if self.ready.get() || self.script.get() == TrainerScript::Single {
            return false;
        }
        if let Some(worker) = self.worker.borrow_mut().take() {
            worker.terminate();
        }
        *self.downgraded.borrow_mut() = Some(why.to_string());
        if let Err(e) = self.start(TrainerScript::Single) {
            self.report(FromWorker::Failed(e), None);
        }
        true
    }

    fn on_message(&self, data: JsValue) {
        let json = Reflect::get(&data, &key::JSON.into()).ok().and_then(|v| v.as_string()).unwrap_or_default();
        let msg = FromWorker::from_json(&json).unwrap_or_else(FromWorker::Failed);
        match msg {
            FromWorker::Ready { wire } => {
                if wire != WIRE_ID && self.fall_back(&format!("it is from another build, wire {wire:016x}")) {
                    return;
                }
                self.ready.set(true);
                let sent = match (wire, self.worker.borrow().as_ref()) {
                    (WIRE_ID, Some(worker)) => post(worker, &self.first),
                    (WIRE_ID, None) => Ok(()),
                    (other, _) => Err(WorkerError::new(
                        ErrorKind::Protocol,
                        format!(
                            "the trainer was built from another version of this page (wire {other:016x}, the page's \
                             {WIRE_ID:016x}), likely a stale cached copy; it was not started"
                        ),
                    )),
                };
                if let Err(e) = sent {
                    self.report(FromWorker::Failed(e), None);
                }
            }
            FromWorker::Failed(e) if self.fall_back(&e.message) => {}
            FromWorker::Backend { kind, adapter, notice } if self.downgraded.borrow().is_some() => {
                let why = self.downgraded.borrow_mut().take().unwrap_or_default();
                let ours = format!("The threaded CPU trainer did not start ({why}): training on one thread.");
                let notice = Some(notice.map_or(ours.clone(), |n| format!("{n} {ours}")));
                self.report(FromWorker::Backend { kind, adapter, notice }, None);
            }
            msg => {
                let bytes = Reflect::get(&data, &key::BYTES.into())
                    .ok()
                    .filter(|v| v.is_instance_of::<Uint8Array>())
                    .map(|v| Uint8Array::from(v).to_vec());
                self.report(msg, bytes);
            }
        }
    }

    fn on_error(&self, ev: web_sys::Event) {
        let message = Reflect::get(&ev, &"message".into())
            .ok()
            .and_then(|m| m.as_string())
            .map(|m| format!("the training worker stopped: {m}"))
            .unwrap_or_else(|| "the training worker failed to load or crashed".into());
        if !self.fall_back(&message) {
            self.report(FromWorker::Failed(WorkerError::new(ErrorKind::Worker, message)), None);
        }
    }
}

impl WorkerHandle {
    /// Starts the trainer (`trainer_loader.js`, built by Trunk from crates/worker, or the
    /// threaded CPU trainer from crates/threads where `runtime::threads` says so, which gives
    /// way to the first if it fails to start) and sends it `first` once it reports `Ready`;
    /// every other message, load failures included (as `FromWorker::Failed`), goes to
    /// `on_report`.
    pub fn spawn(first: Outgoing, on_report: impl FnMut(Report) + 'static) -> Result<WorkerHandle, WorkerError> {
        let script = first.cmd.backend().map_or(TrainerScript::Single, crate::runtime::threads::script);
        let shared = Rc::new(Shared {
            worker: RefCell::new(None),
            script: Cell::new(script),
            ready: Cell::new(false),
            first,
            on_report: RefCell::new(Box::new(on_report)),
            downgraded: RefCell::new(None),
            handlers: RefCell::new(None),
        });
        let weak = Rc::downgrade(&shared);
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            if let Some(shared) = weak.upgrade() {
                shared.on_message(ev.data());
            }
        });
        let weak = Rc::downgrade(&shared);
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |ev: web_sys::Event| {
            if let Some(shared) = weak.upgrade() {
                shared.on_error(ev);
            }
        });
        *shared.handlers.borrow_mut() = Some((on_message, on_error));
        shared.start(script)?;
        Ok(WorkerHandle { shared })
    }

    /// Sends a command without buffers.
    pub fn send(&self, cmd: ToWorker) -> Result<(), WorkerError> {
        match self.shared.worker.borrow().as_ref() {
            Some(worker) => post(worker, &Outgoing { cmd, bytes: None, init: None, extra: Vec::new() }),
            None => Err(WorkerError::new(ErrorKind::Worker, "the trainer is not running")),
        }
    }
}

/// A reply to the explorer's questions, or news about the model that answers them.
pub enum ExplainReply {
    /// A new worker replaced the old one: every answer about the old model is stale.
    Reset,
    Progress {
        split: Split,
        stage: Stage,
        done: usize,
        total: usize,
    },
    Explained(Explained, Vec<u8>),
    Grid(ActivationGridView, Vec<u8>),
    LooksLike(LooksLikeView),
    Failed(WorkerError),
}

/// Sorts a report: explanation replies for the explorer, the rest for the run.
fn route(report: Report) -> Result<ExplainReply, Report> {
    let Report { msg, bytes } = report;
    Ok(match msg {
        FromWorker::Explaining { split, stage, done, total } => ExplainReply::Progress { split, stage, done, total },
        FromWorker::Explained(e) => ExplainReply::Explained(e, bytes.unwrap_or_default()),
        FromWorker::ActivationGrid(g) => ExplainReply::Grid(g, bytes.unwrap_or_default()),
        FromWorker::LooksLike(l) => ExplainReply::LooksLike(l),
        FromWorker::ExplainFailed(e) => ExplainReply::Failed(e),
        msg => return Err(Report { msg, bytes }),
    })
}

type Sink = Rc<dyn Fn(ExplainReply)>;

/// The article's one trainer worker, shared by the train panel's run (which launches it) and
/// the explorer (which asks the model it keeps). Provided in context; `Copy`.
#[derive(Clone, Copy)]
pub struct TrainerLink {
    worker: StoredValue<Option<WorkerHandle>, LocalStorage>,
    explain_sink: StoredValue<Option<Sink>, LocalStorage>,
    /// A trained model waits in the worker for the explorer's questions.
    pub has_model: RwSignal<bool>,
    /// That model's architecture, where the worker described it (the Grad-CAM stages it can
    /// explain follow from it).
    pub kept_model: RwSignal<Option<ModelView>>,
}

impl TrainerLink {
    pub fn new() -> TrainerLink {
        TrainerLink {
            worker: StoredValue::new_local(None),
            explain_sink: StoredValue::new_local(None),
            has_model: RwSignal::new(false),
            kept_model: RwSignal::new(None),
        }
    }

    /// Where explanation replies go (the explorer's state registers once).
    pub fn on_explain(self, sink: impl Fn(ExplainReply) + 'static) {
        self.explain_sink.set_value(Some(Rc::new(sink)));
    }

    fn tell_explorer(self, reply: ExplainReply) {
        if let Some(sink) = self.explain_sink.get_value() {
            sink(reply);
        }
    }

    /// Replaces the worker (a fresh one per run: a WebGPU device initialises once per worker)
    /// with one that receives `first` once ready; run reports go to `on_run`.
    pub fn launch(self, first: Outgoing, mut on_run: impl FnMut(Report) + 'static) -> Result<(), WorkerError> {
        self.close();
        let worker = WorkerHandle::spawn(first, move |report| match route(report) {
            Ok(reply) => self.tell_explorer(reply),
            Err(report) => on_run(report),
        })?;
        self.worker.set_value(Some(worker));
        Ok(())
    }

    /// Terminates the worker, if any; its model is gone.
    pub fn close(self) {
        self.worker.set_value(None);
        self.has_model.set(false);
        self.kept_model.set(None);
        self.tell_explorer(ExplainReply::Reset);
    }

    /// The worker now holds a model, described by `model`, that can answer the explorer.
    pub fn announce_model(self, model: Option<ModelView>) {
        self.kept_model.set(model);
        self.has_model.set(true);
    }

    /// Sends a command to the worker; an error when there is none or it cannot be reached.
    pub fn send(self, cmd: ToWorker) -> Result<(), WorkerError> {
        self.worker.with_value(|w| match w {
            Some(w) => w.send(cmd),
            None => Err(WorkerError::new(ErrorKind::Worker, "the trainer is not running")),
        })
    }
}

//! The worker's message loop, backend selection and training driver.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;

use breastmnist_core::batch::ImageView;
use breastmnist_core::explain::{Explanations, activations, explain};
use breastmnist_core::train::{Snapshot, evaluate_checkpoint};
use breastmnist_core::{Checkpoint, Device, ModelConfig, Network, Stage, TrainEvent, Trainer};
use breastmnist_data::{Dataset, DecodeOptions, Split, decode_npz};
use breastmnist_protocol::{ActivationGridView, BackendChoice, Explained, FromWorker, ToWorker, TrainRequest};

use crate::convert::{config_of, done_view, epoch_view};
use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Posts a message, with optional bytes (transferred, not copied).
fn post(msg: &FromWorker, bytes: Option<Vec<u8>>) {
    let obj = Object::new();
    let _ = Reflect::set(&obj, &"json".into(), &msg.to_json().into());
    match bytes {
        Some(b) => {
            let array = Uint8Array::from(&b[..]);
            let _ = Reflect::set(&obj, &"bytes".into(), &array);
            let transfer = js_sys::Array::of1(&array.buffer());
            let _ = scope().post_message_with_transfer(&obj, &transfer);
        }
        None => {
            let _ = scope().post_message(&obj);
        }
    }
}

#[derive(Default)]
struct Control {
    paused: Cell<bool>,
    stop: Cell<bool>,
    running: Cell<bool>,
    /// The finished run's model, which answers `explain` and `activations`.
    session: RefCell<Option<Rc<Session>>>,
    /// Pending `explain`/`activations` requests, answered one at a time.
    queue: RefCell<VecDeque<ToWorker>>,
    pumping: Cell<bool>,
}

/// What explanations need once training is over.
struct Session {
    device: Device,
    backend: &'static str,
    data: Arc<Dataset>,
    model: Network,
    config: ModelConfig,
    /// Whether the run's metrics used flip TTA (the explorer's scores then do too).
    tta: bool,
}

/// Images per Grad-CAM pass when explaining a split.
const EXPLAIN_CHUNK: usize = 64;
/// Channels in an activation grid.
const GRID_CHANNELS: usize = 16;

/// Queues an explanation request and starts answering if idle; a request already queued is
/// not queued twice.
fn enqueue(control: &Rc<Control>, cmd: ToWorker) {
    if control.queue.borrow().contains(&cmd) {
        return;
    }
    control.queue.borrow_mut().push_back(cmd);
    if !control.pumping.replace(true) {
        let control = control.clone();
        spawn_local(async move {
            loop {
                let next = control.queue.borrow_mut().pop_front();
                let Some(cmd) = next else { break };
                if let Err(message) = answer(&control, cmd).await {
                    post(&FromWorker::ExplainFailed { message }, None);
                }
                yield_now(0).await;
            }
            control.pumping.set(false);
        });
    }
}

fn parse_target(split: &str, stage: &str) -> Result<(Split, Stage), String> {
    let split = Split::parse(split).ok_or_else(|| format!("unknown split '{split}' (train, val or test)"))?;
    let stage: Stage = stage.parse()?;
    Ok((split, stage))
}

async fn answer(control: &Control, cmd: ToWorker) -> Result<(), String> {
    let session = control.session.borrow().clone().ok_or("there is no trained model yet: train one first")?;
    match cmd {
        ToWorker::Explain { split, stage } => {
            let (sp, st) = parse_target(&split, &stage)?;
            let view = ImageView::of(&session.data, sp);
            let started = js_sys::Date::now();
            let all: Vec<usize> = (0..view.len()).collect();
            let mut out: Option<Explanations> = None;
            for chunk in all.chunks(EXPLAIN_CHUNK) {
                let part = explain(&session.model, &session.config, &view, chunk, st, &session.device, session.tta)
                    .await
                    .map_err(|e| e.to_string())?;
                match &mut out {
                    Some(o) => o.extend(part),
                    None => out = Some(part),
                }
                let done = out.as_ref().map_or(0, Explanations::len);
                post(&FromWorker::Explaining { split: split.clone(), stage: stage.clone(), done, total: all.len() }, None);
                yield_now(0).await;
            }
            let out = out.ok_or("the split is empty")?;
            let k = out.num_classes;
            let scores = out.probabilities.chunks(k).map(|row| row[1]).collect();
            let view = Explained {
                split,
                stage,
                side: out.side,
                scores,
                millis: js_sys::Date::now() - started,
                backend: session.backend.into(),
            };
            post(&FromWorker::Explained(view), Some(out.maps));
        }
        ToWorker::Activations { split, index, stage } => {
            let (sp, st) = parse_target(&split, &stage)?;
            let view = ImageView::of(&session.data, sp);
            if index >= view.len() {
                return Err(format!("{split} has {} images; there is no image {index}", view.len()));
            }
            let grid = activations(&session.model, &session.config, view.image(index), st, GRID_CHANNELS, &session.device)
                .await
                .map_err(|e| e.to_string())?;
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
        _ => {}
    }
    Ok(())
}

/// Installs the message handler and announces readiness.
pub fn listen() {
    let control = Rc::new(Control::default());
    let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        let data = ev.data();
        let json = Reflect::get(&data, &"json".into()).ok().and_then(|v| v.as_string()).unwrap_or_default();
        match ToWorker::from_json(&json) {
            Ok(cmd @ (ToWorker::Start(_) | ToWorker::Continue(_) | ToWorker::Evaluate { .. })) => {
                if control.running.get() {
                    post(&FromWorker::Failed { message: "a run is already in progress".into() }, None);
                    return;
                }
                let buffer = |key: &str| {
                    Reflect::get(&data, &key.into())
                        .ok()
                        .filter(|v| v.is_instance_of::<Uint8Array>())
                        .map(|v| Uint8Array::from(v).to_vec())
                };
                let bytes = buffer("bytes").unwrap_or_default();
                let init = buffer("init");
                control.stop.set(false);
                control.paused.set(false);
                control.running.set(true);
                let control = control.clone();
                spawn_local(async move {
                    let outcome = match cmd {
                        ToWorker::Start(req) if req.fine_tune => match init {
                            Some(b) => run(req, bytes, Init::FineTune(b), &control).await,
                            None => Err("fine-tuning needs a checkpoint: import one first".into()),
                        },
                        ToWorker::Start(req) => run(req, bytes, Init::Fresh, &control).await,
                        ToWorker::Continue(req) => match init {
                            Some(b) => run(req, bytes, Init::Continue(b), &control).await,
                            None => Err("there is no saved snapshot to continue from".into()),
                        },
                        ToWorker::Evaluate { backend, name, tta } => match init {
                            Some(b) => evaluate(backend, name, tta, bytes, b, &control).await,
                            None => Err("no checkpoint file was sent".into()),
                        },
                        _ => Ok(()),
                    };
                    if let Err(message) = outcome {
                        post(&FromWorker::Failed { message }, None);
                    }
                    control.running.set(false);
                });
            }
            Ok(ToWorker::Pause) => {
                control.paused.set(true);
                post(&FromWorker::Paused, None);
            }
            Ok(ToWorker::Resume) => {
                control.paused.set(false);
                post(&FromWorker::Resumed, None);
            }
            Ok(ToWorker::Stop) => control.stop.set(true),
            Ok(cmd @ (ToWorker::Explain { .. } | ToWorker::Activations { .. })) => enqueue(&control, cmd),
            Err(e) => post(&FromWorker::Failed { message: format!("unreadable command: {e}") }, None),
        }
    });
    scope().set_onmessage(Some(handler.as_ref().unchecked_ref()));
    handler.forget();
    post(&FromWorker::Ready, None);
}

/// Lets queued messages (pause, stop) run.
async fn yield_now(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = scope().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    let _ = JsFuture::from(promise).await;
}

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

/// The WebGPU adapter's description, or why there is none.
async fn webgpu_adapter() -> Result<(String, bool), String> {
    let gpu = get(&get(&js_sys::global(), "navigator"), "gpu");
    if gpu.is_undefined() || gpu.is_null() {
        return Err("this browser does not expose WebGPU (navigator.gpu is missing)".into());
    }
    let request: js_sys::Function = get(&gpu, "requestAdapter").dyn_into().map_err(|_| "navigator.gpu.requestAdapter is missing")?;
    let promise: js_sys::Promise = request.call0(&gpu).map_err(|e| format!("{e:?}"))?.dyn_into().map_err(|_| "requestAdapter returned no promise")?;
    let adapter = JsFuture::from(promise).await.map_err(|e| format!("requestAdapter failed: {e:?}"))?;
    if adapter.is_null() || adapter.is_undefined() {
        return Err("no WebGPU adapter is available (blocked, or no supported GPU)".into());
    }
    let info = get(&adapter, "info");
    let field = |k: &str| get(&info, k).as_string().unwrap_or_default();
    let (vendor, arch, desc) = (field("vendor"), field("architecture"), field("description"));
    let fallback = get(&info, "isFallbackAdapter").as_bool().unwrap_or(false)
        || get(&adapter, "isFallbackAdapter").as_bool().unwrap_or(false);
    let software = fallback || arch.to_ascii_lowercase().contains("swiftshader") || vendor.to_ascii_lowercase().contains("google") && arch.is_empty();
    let name = [vendor, arch, desc].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ");
    Ok((if name.is_empty() { "unnamed adapter".into() } else { name }, software))
}

/// Picks and initialises the device; returns (device, backend name, adapter, notice).
async fn pick_device(choice: BackendChoice) -> (Device, &'static str, String, Option<String>) {
    let cpu = |notice: Option<String>| (Device::flex(), "cpu", "burn flex (wasm SIMD)".to_string(), notice);
    if choice == BackendChoice::Cpu {
        return cpu(None);
    }
    let (adapter, software) = match webgpu_adapter().await {
        Ok(a) => a,
        Err(why) => return cpu(Some(format!("WebGPU unavailable: {why}. Training on the CPU instead."))),
    };
    if software && choice == BackendChoice::Auto {
        return cpu(Some(format!(
            "The only WebGPU adapter is a software one ({adapter}), slower than the CPU path: training on the CPU. \
             Choose backend WebGPU to force it."
        )));
    }
    match Device::wgpu_options().init_async().await {
        Ok(device) => (device, "webgpu", adapter, None),
        Err(e) => cpu(Some(format!("WebGPU failed to start ({e}). Training on the CPU instead."))),
    }
}

/// Where a run's weights come from.
enum Init {
    Fresh,
    /// Checkpoint bytes to fine-tune.
    FineTune(Vec<u8>),
    /// Snapshot bytes of an interrupted run.
    Continue(Vec<u8>),
}

/// Keeps `model` for the explorer.
fn keep(
    control: &Control,
    device: &Device,
    backend: &'static str,
    data: &Arc<Dataset>,
    model: &Network,
    config: &ModelConfig,
    tta: bool,
) {
    control.session.replace(Some(Rc::new(Session {
        device: device.clone(),
        backend,
        data: data.clone(),
        model: model.clone(),
        config: config.clone(),
        tta,
    })));
}

fn checkpoint_name(req: &TrainRequest) -> String {
    format!("breastmnist-{}-seed{}.ckpt", req.model, req.seed)
}

/// Evaluates an imported checkpoint and keeps it for the explorer.
async fn evaluate(
    choice: BackendChoice,
    name: String,
    tta: bool,
    bytes: Vec<u8>,
    ckpt: Vec<u8>,
    control: &Control,
) -> Result<(), String> {
    let data = Arc::new(decode_npz(&bytes, &DecodeOptions::default()).map_err(|e| e.to_string())?);
    drop(bytes);
    let checkpoint = Checkpoint::from_bytes(&ckpt).map_err(|e| format!("{name} is not a usable checkpoint: {e}"))?;
    let (device, backend, adapter, notice) = pick_device(choice).await;
    post(&FromWorker::Backend { kind: backend.into(), adapter: adapter.clone(), notice }, None);
    let (result, model) = evaluate_checkpoint(&checkpoint, &data, &device, tta).await.map_err(|e| e.to_string())?;
    keep(control, &device, backend, &data, &model, &result.model, tta);
    post(&FromWorker::Checkpoint { name }, Some(ckpt));
    post(&FromWorker::Done(done_view(&result, backend, &adapter)), None);
    Ok(())
}

async fn run(req: TrainRequest, bytes: Vec<u8>, init: Init, control: &Control) -> Result<(), String> {
    let data = Arc::new(decode_npz(&bytes, &DecodeOptions::default()).map_err(|e| e.to_string())?);
    drop(bytes);
    let config = config_of(&req)?;
    config.validate(data.train.len()).map_err(|e| e.to_string())?;
    let (device, backend, adapter, notice) = pick_device(req.backend).await;
    post(&FromWorker::Backend { kind: backend.into(), adapter: adapter.clone(), notice }, None);
    let mut trainer = match init {
        Init::Fresh => Trainer::new(config, data.clone(), &device),
        Init::FineTune(b) => {
            let ckpt = Checkpoint::from_bytes(&b).map_err(|e| format!("the imported checkpoint is not usable: {e}"))?;
            Trainer::from_checkpoint(config, data.clone(), &ckpt, &device)
        }
        Init::Continue(b) => {
            let snap = Snapshot::from_bytes(&b).map_err(|e| e.to_string())?;
            Trainer::resume(&snap, data.clone(), &device)
        }
    }
    .map_err(|e| e.to_string())?;

    while !trainer.is_finished() {
        if control.stop.get() {
            post(&FromWorker::Stopped, None);
            return Ok(());
        }
        if control.paused.get() {
            yield_now(100).await;
            continue;
        }
        let started = js_sys::Date::now();
        let events = trainer.step().await.map_err(|e| e.to_string())?;
        let millis = js_sys::Date::now() - started;
        let mut epoch_ended = None;
        for event in events {
            match event {
                TrainEvent::Step { epoch, step, steps_per_epoch, loss, .. } => {
                    post(&FromWorker::Step { epoch, step, steps_per_epoch, loss, millis }, None)
                }
                TrainEvent::Eval { split, done, total } => post(&FromWorker::Eval { split, done, total }, None),
                TrainEvent::Epoch(m) => {
                    epoch_ended = Some(m.epoch);
                    post(
                        &FromWorker::Epoch(epoch_view(&m)),
                        None,
                    )
                }
                TrainEvent::Done(result) => {
                    let done = done_view(&result, backend, &adapter);
                    if let Ok(Some(ckpt)) = trainer.best_checkpoint().await {
                        post(&FromWorker::Checkpoint { name: checkpoint_name(&req) }, Some(ckpt));
                    }
                    if let Some((_, model)) = trainer.best_model() {
                        keep(control, &device, backend, &data, model, trainer.model_config(), trainer.config().tta);
                    }
                    post(&FromWorker::Done(done), None);
                }
                TrainEvent::Error(failure) => {
                    // The run ends; the best model so far stays downloadable and explorable.
                    let mut message = failure.to_string();
                    match trainer.best_checkpoint().await {
                        Ok(Some(ckpt)) => {
                            post(&FromWorker::Checkpoint { name: checkpoint_name(&req) }, Some(ckpt));
                            if let Some((epoch, model)) = trainer.best_model() {
                                keep(control, &device, backend, &data, model, trainer.model_config(), trainer.config().tta);
                                message = format!("{message} (the checkpoint of epoch {epoch} can be downloaded below)");
                            }
                        }
                        _ => message = format!("{message}; no epoch had finished, so there is no model to keep"),
                    }
                    post(&FromWorker::Failed { message }, None);
                }
            }
        }
        // A resumable snapshot after every epoch (the page stores it).
        if let Some(epoch) = epoch_ended.filter(|_| !trainer.is_finished()) {
            if let Ok(snap) = trainer.snapshot().await {
                post(&FromWorker::Snapshot { epoch }, Some(snap.to_bytes()));
            }
        }
        yield_now(0).await;
    }
    Ok(())
}

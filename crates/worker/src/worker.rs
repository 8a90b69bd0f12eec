//! The worker's message loop, backend selection and training driver.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

use breastmnist_core::{Device, Environment, MetricsFile, ModelSize, TrainConfig, TrainEvent, Trainer};
use breastmnist_data::{DecodeOptions, decode_npz};
use breastmnist_protocol::{BackendChoice, DoneView, EpochView, FromWorker, ToWorker, TrainRequest};
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
}

/// Installs the message handler and announces readiness.
pub fn listen() {
    let control = Rc::new(Control::default());
    let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        let data = ev.data();
        let json = Reflect::get(&data, &"json".into()).ok().and_then(|v| v.as_string()).unwrap_or_default();
        match ToWorker::from_json(&json) {
            Ok(ToWorker::Start(req)) => {
                if control.running.get() {
                    post(&FromWorker::Failed { message: "a run is already in progress".into() }, None);
                    return;
                }
                let bytes = Reflect::get(&data, &"bytes".into())
                    .ok()
                    .filter(|v| v.is_instance_of::<Uint8Array>())
                    .map(|v| Uint8Array::from(v).to_vec())
                    .unwrap_or_default();
                control.stop.set(false);
                control.paused.set(false);
                control.running.set(true);
                let control = control.clone();
                spawn_local(async move {
                    if let Err(message) = run(req, bytes, &control).await {
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

fn config_of(req: &TrainRequest) -> Result<TrainConfig, String> {
    let model: ModelSize = req.model.parse().map_err(|e| format!("{e}"))?;
    Ok(TrainConfig::new()
        .with_model(model)
        .with_epochs(req.epochs)
        .with_batch_size(req.batch_size)
        .with_lr(req.lr)
        .with_seed(req.seed)
        .with_subset(req.subset)
        .with_augment(req.augment)
        .with_mixup(req.mixup))
}

async fn run(req: TrainRequest, bytes: Vec<u8>, control: &Control) -> Result<(), String> {
    let data = Arc::new(decode_npz(&bytes, &DecodeOptions::default()).map_err(|e| e.to_string())?);
    drop(bytes);
    let config = config_of(&req)?;
    config.validate(data.train.len()).map_err(|e| e.to_string())?;
    let (device, backend, adapter, notice) = pick_device(req.backend).await;
    post(&FromWorker::Backend { kind: backend.into(), adapter: adapter.clone(), notice }, None);
    let mut trainer = Trainer::new(config, data, &device).map_err(|e| e.to_string())?;

    while !trainer.is_finished() {
        if control.stop.get() {
            post(&FromWorker::Stopped, None);
            return Ok(());
        }
        if control.paused.get() {
            yield_now(100).await;
            continue;
        }
        let events = trainer.step().await.map_err(|e| e.to_string())?;
        for event in events {
            match event {
                TrainEvent::Step { epoch, step, steps_per_epoch, loss, .. } => {
                    post(&FromWorker::Step { epoch, step, steps_per_epoch, loss }, None)
                }
                TrainEvent::Eval { split, done, total } => post(&FromWorker::Eval { split, done, total }, None),
                TrainEvent::Epoch(m) => post(
                    &FromWorker::Epoch(EpochView {
                        epoch: m.epoch,
                        train_loss: m.train_loss,
                        train_acc: m.train_acc,
                        val_loss: m.val_loss,
                        val_acc: m.val_acc,
                        val_auc: m.val_auc,
                        lr: m.lr,
                        is_best: m.is_best,
                    }),
                    None,
                ),
                TrainEvent::Done(result) => {
                    let metrics_json = MetricsFile::new(&result, Environment::new(backend, adapter.clone())).to_json();
                    let done = DoneView {
                        best_epoch: result.best_epoch,
                        val_auc: result.val.auc,
                        test_auc: result.test.auc,
                        test_acc: result.test.acc,
                        confusion: result.test.confusion.0.map(|row| row.map(|v| v as usize)),
                        roc: result.test.roc.iter().map(|p| (p.fpr, p.tpr)).collect(),
                        metrics_json,
                    };
                    if let Ok(Some(ckpt)) = trainer.best_checkpoint().await {
                        let name = format!("breastmnist-{}-seed{}.ckpt", req.model, req.seed);
                        post(&FromWorker::Checkpoint { name }, Some(ckpt));
                    }
                    post(&FromWorker::Done(done), None);
                }
                TrainEvent::Error(failure) => post(&FromWorker::Failed { message: failure.to_string() }, None),
            }
        }
        yield_now(0).await;
    }
    Ok(())
}

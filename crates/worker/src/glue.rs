//! The worker's JavaScript edge: the message loop, posting replies (bytes transferred, not
//! copied), and yielding to the event loop so `pause` and `stop` can arrive mid-run.
//!
//! It must not know about burn: commands go to `driver` and `explain`.

use std::cell::Cell;
use std::rc::Rc;

use breastmnist_protocol::{ErrorKind, FromWorker, ToWorker, WorkerError};
use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::driver::{self, Init};
use crate::explain::Explainer;

pub fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Posts a message, with optional bytes (transferred, not copied).
pub fn post(msg: &FromWorker, bytes: Option<Vec<u8>>) {
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

pub fn fail(error: WorkerError) {
    post(&FromWorker::Failed(error), None);
}

/// Lets queued messages (pause, stop) run. With `ms == 0` it goes round the event loop once
/// through a `MessageChannel` (a new task, without the 4 ms browsers add to nested zero-delay
/// timers, which a loop that yields after every training step would pay each step); otherwise,
/// or where no `MessageChannel` exists, it waits `ms` milliseconds at least.
pub async fn yield_now(ms: i32) {
    if ms <= 0
        && let Some(tick) = message_channel_tick()
    {
        let _ = JsFuture::from(tick).await;
        return;
    }
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = scope().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    let _ = JsFuture::from(promise).await;
}

/// A promise that resolves when a message posted through a fresh `MessageChannel` arrives,
/// closing both ports. Reached through `Reflect` (the global's constructor), so the worker
/// needs no more web-sys features than it has.
fn message_channel_tick() -> Option<js_sys::Promise> {
    use js_sys::{Array, Function, Promise};
    fn get(target: &JsValue, key: &str) -> Option<JsValue> {
        Reflect::get(target, &key.into()).ok().filter(|v| !v.is_undefined())
    }
    fn close(port: &JsValue) {
        if let Some(f) = get(port, "close").and_then(|f| f.dyn_into::<Function>().ok()) {
            let _ = f.call0(port);
        }
    }
    let ctor: Function = get(&js_sys::global(), "MessageChannel")?.dyn_into().ok()?;
    let channel = Reflect::construct(&ctor, &Array::new()).ok()?;
    let (port1, port2) = (get(&channel, "port1")?, get(&channel, "port2")?);
    let (a, b) = (port1.clone(), port2.clone());
    let promise = Promise::new(&mut |resolve: Function, _| {
        let (a, b, resolve) = (a.clone(), b.clone(), resolve.clone());
        let on_message = Closure::once_into_js(move |_: JsValue| {
            close(&a);
            close(&b);
            let _ = resolve.call0(&JsValue::NULL);
        });
        // Setting `onmessage` starts the port.
        let _ = Reflect::set(&port1, &"onmessage".into(), &on_message);
    });
    let post: Function = get(&port2, "postMessage")?.dyn_into().ok()?;
    post.call1(&port2, &JsValue::NULL).ok()?;
    Some(promise)
}

/// Milliseconds on the worker's `performance.now()` clock (monotonic, finer than a
/// millisecond where the browser allows; the step timings and the convolution race read it),
/// or `Date.now()` where a worker has no `performance`.
pub fn now_ms() -> f64 {
    let global = js_sys::global();
    let performance = js_sys::Reflect::get(&global, &"performance".into()).unwrap_or(JsValue::UNDEFINED);
    js_sys::Reflect::get(&performance, &"now".into())
        .ok()
        .and_then(|now| now.dyn_into::<js_sys::Function>().ok())
        .and_then(|now| now.call0(&performance).ok())
        .and_then(|ms| ms.as_f64())
        .unwrap_or_else(js_sys::Date::now)
}

/// The run's switches, flipped by the message loop and read by the driver between steps.
#[derive(Default)]
pub struct Control {
    pub paused: Cell<bool>,
    pub stop: Cell<bool>,
    running: Cell<bool>,
}

impl Control {
    /// Between two steps of a loop: `false` once stopped (after posting `Stopped`); while
    /// paused, waits here.
    pub async fn go_on(&self) -> bool {
        loop {
            if self.stop.get() {
                post(&FromWorker::Stopped, None);
                return false;
            }
            if !self.paused.get() {
                return true;
            }
            yield_now(100).await;
        }
    }
}

/// Installs the message handler and announces readiness.
pub fn listen() {
    let control = Rc::new(Control::default());
    let explainer = Rc::new(Explainer::default());
    let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        let data = ev.data();
        let json = Reflect::get(&data, &"json".into()).ok().and_then(|v| v.as_string()).unwrap_or_default();
        let buffer = |key: &str| {
            Reflect::get(&data, &key.into())
                .ok()
                .filter(|v| v.is_instance_of::<Uint8Array>())
                .map(|v| Uint8Array::from(v).to_vec())
        };
        match ToWorker::from_json(&json) {
            Ok(cmd @ (ToWorker::Start(_) | ToWorker::Continue(_) | ToWorker::Evaluate { .. } | ToWorker::Pretrain(_))) => {
                if control.running.get() {
                    return fail(WorkerError::new(ErrorKind::Worker, "a run is already in progress"));
                }
                let (bytes, init) = (buffer("bytes").unwrap_or_default(), buffer("init"));
                let extras: Vec<Vec<u8>> = Reflect::get(&data, &"extra".into())
                    .ok()
                    .filter(js_sys::Array::is_array)
                    .map(|v| {
                        js_sys::Array::from(&v)
                            .iter()
                            .filter(|b| b.is_instance_of::<Uint8Array>())
                            .map(|b| Uint8Array::from(b).to_vec())
                            .collect()
                    })
                    .unwrap_or_default();
                control.stop.set(false);
                control.paused.set(false);
                control.running.set(true);
                let (control, explainer) = (control.clone(), explainer.clone());
                spawn_local(async move {
                    let missing = |what: &str| Err(WorkerError::new(ErrorKind::Worker, what));
                    let outcome = match (cmd, init) {
                        (ToWorker::Start(req), Some(b)) if req.fine_tune => {
                            driver::run(req, bytes, Init::FineTune(b), &control, &explainer).await
                        }
                        (ToWorker::Start(req), _) if req.fine_tune => missing("fine-tuning needs a checkpoint: import one first"),
                        (ToWorker::Start(req), _) => driver::run(req, bytes, Init::Fresh, &control, &explainer).await,
                        (ToWorker::Continue(req), Some(b)) => {
                            driver::run(req, bytes, Init::Continue(b), &control, &explainer).await
                        }
                        (ToWorker::Continue(_), None) => missing("there is no saved snapshot to continue from"),
                        (ToWorker::Evaluate { backend, name, tta }, Some(b)) => {
                            driver::evaluate(backend, name, tta, bytes, b, &explainer).await
                        }
                        (ToWorker::Evaluate { .. }, None) => missing("no checkpoint file was sent"),
                        (ToWorker::Pretrain(req), _) => crate::pretext::run(req, bytes, extras, &control).await,
                        _ => Ok(()),
                    };
                    if let Err(error) = outcome {
                        fail(error);
                    }
                    control.running.set(false);
                });
            }
            Ok(ToWorker::Pause) => {
                control.paused.set(true);
                post(&FromWorker::Paused, None);
            }
            Ok(ToWorker::Unpause) => {
                control.paused.set(false);
                post(&FromWorker::Unpaused, None);
            }
            Ok(ToWorker::Stop) => control.stop.set(true),
            Ok(cmd @ (ToWorker::Explain { .. } | ToWorker::Activations { .. })) => explainer.enqueue(cmd),
            Err(e) => fail(e),
        }
    });
    scope().set_onmessage(Some(handler.as_ref().unchecked_ref()));
    handler.forget();
    post(&FromWorker::Ready { wire: breastmnist_protocol::WIRE_ID }, None);
}

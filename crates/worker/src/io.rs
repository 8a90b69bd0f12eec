//! The worker's JavaScript floor: posting replies in the protocol's envelope (bytes
//! transferred, not copied), reading a command's envelope, yielding to the event loop so
//! `pause` and `stop` can arrive mid-run, and the clock.
//!
//! It must not know about burn, the core or any other room: every room builds on it, and it
//! imports none of them.

use breastmnist_protocol::envelope::key;
use breastmnist_protocol::{Buffers, FromWorker, WorkerError};
use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::DedicatedWorkerGlobalScope;

pub fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

/// Posts a message, with optional bytes (transferred, not copied).
pub fn post(msg: &FromWorker, bytes: Option<Vec<u8>>) {
    let obj = Object::new();
    let _ = Reflect::set(&obj, &key::JSON.into(), &msg.to_json().into());
    match bytes {
        Some(b) => {
            let array = Uint8Array::from(&b[..]);
            let _ = Reflect::set(&obj, &key::BYTES.into(), &array);
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

/// A command's envelope: its JSON text and the buffers beside it.
pub fn read(data: &JsValue) -> (String, Buffers) {
    let get = |k: &str| Reflect::get(data, &k.into()).ok();
    let bytes = |v: JsValue| v.is_instance_of::<Uint8Array>().then(|| Uint8Array::from(v).to_vec());
    let json = get(key::JSON).and_then(|v| v.as_string()).unwrap_or_default();
    let extra = get(key::EXTRA)
        .filter(js_sys::Array::is_array)
        .map(|v| js_sys::Array::from(&v).iter().filter_map(bytes).collect())
        .unwrap_or_default();
    let buffers = Buffers { data: get(key::BYTES).and_then(bytes), init: get(key::INIT).and_then(bytes), extra };
    (json, buffers)
}

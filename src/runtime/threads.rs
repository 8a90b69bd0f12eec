//! Whether this page may run the threaded CPU trainer, and which trainer a worker gets
//! (`view::threads::TrainerScript` holds the rule).
//!
//! The page probes for a hardware WebGPU adapter once, at start, and only when it is
//! cross-origin isolated (the only case where the answer matters): a backend-`auto` run then
//! goes to the threaded CPU trainer only where the worker would have trained on the CPU anyway.

use std::cell::Cell;

use breastmnist_protocol::{AdapterInfo, BackendChoice};
use js_sys::Reflect;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::view::threads::{Setting, TrainerScript};

thread_local! {
    static HARDWARE_GPU: Cell<Option<bool>> = const { Cell::new(None) };
}

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

/// `crossOriginIsolated`, with `SharedArrayBuffer` present: wasm threads can share memory.
pub fn isolated() -> bool {
    let global = js_sys::global();
    get(&global, "crossOriginIsolated").as_bool() == Some(true) && get(&global, "SharedArrayBuffer").is_function()
}

/// `navigator.hardwareConcurrency` (1 when the browser does not say).
fn cores() -> usize {
    get(&get(&js_sys::global(), "navigator"), "hardwareConcurrency").as_f64().map_or(1, |n| n.max(1.0) as usize)
}

/// Starts the adapter probe (on an isolated page; elsewhere the answer changes nothing).
pub fn probe() {
    if !isolated() {
        return;
    }
    wasm_bindgen_futures::spawn_local(async {
        let found = hardware_gpu().await;
        HARDWARE_GPU.with(|h| h.set(Some(found)));
    });
}

/// Whether `navigator.gpu` offers an adapter that is not a software one.
async fn hardware_gpu() -> bool {
    let gpu = get(&get(&js_sys::global(), "navigator"), "gpu");
    let Ok(request) = get(&gpu, "requestAdapter").dyn_into::<js_sys::Function>() else { return false };
    let Some(promise) = request.call0(&gpu).ok().and_then(|p| p.dyn_into::<js_sys::Promise>().ok()) else {
        return false;
    };
    let Ok(adapter) = JsFuture::from(promise).await else { return false };
    if adapter.is_null() || adapter.is_undefined() {
        return false;
    }
    let info = get(&adapter, "info");
    let field = |k: &str| get(&info, k).as_string().unwrap_or_default();
    let info = AdapterInfo {
        vendor: field("vendor"),
        architecture: field("architecture"),
        description: field("description"),
        fallback: get(&info, "isFallbackAdapter").as_bool().unwrap_or(false)
            || get(&adapter, "isFallbackAdapter").as_bool().unwrap_or(false),
    };
    !info.software()
}

/// The trainer a worker for `choice` runs on this page now.
pub fn script(choice: BackendChoice) -> TrainerScript {
    let param = crate::runtime::url::param("threads");
    TrainerScript::choose(Setting {
        isolated: isolated(),
        choice,
        hardware_gpu: HARDWARE_GPU.with(Cell::get),
        param: param.as_deref(),
        cores: cores(),
    })
}

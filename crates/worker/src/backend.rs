//! Which device a run gets: WebGPU on a hardware adapter when asked for (or `auto` finds one),
//! else burn's CPU backend, with a notice saying why when it is not what was asked for.
//!
//! It must not know about runs or messages.

use breastmnist_core::Device;
use std::cell::Cell;

use breastmnist_protocol::{AdapterInfo, BackendChoice, BackendKind};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// The device a run trains on, and how to describe it to the reader.
pub struct Picked {
    pub device: Device,
    pub kind: BackendKind,
    pub adapter: String,
    /// Why the backend is not the one asked for.
    pub notice: Option<String>,
    /// A software GPU (e.g. SwiftShader), where burn's convolution kernel beats `gemm` 3-5x
    /// (`cargo xtask bench --conv direct,gemm`), so the run neither checks nor races `gemm`.
    pub software: bool,
}

fn get(v: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(v, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

thread_local! {
    static CPU_THREADS: Cell<usize> = const { Cell::new(1) };
}

/// How many threads burn's CPU backend computes on in this build (set once by `start`).
pub fn set_cpu_threads(n: usize) {
    CPU_THREADS.with(|t| t.set(n.max(1)));
}

/// The WebGPU adapter's description, or why there is none.
async fn webgpu_adapter() -> Result<AdapterInfo, String> {
    let gpu = get(&get(&js_sys::global(), "navigator"), "gpu");
    if gpu.is_undefined() || gpu.is_null() {
        return Err("this browser does not expose WebGPU (navigator.gpu is missing)".into());
    }
    let request: js_sys::Function =
        get(&gpu, "requestAdapter").dyn_into().map_err(|_| "navigator.gpu.requestAdapter is missing")?;
    let promise: js_sys::Promise =
        request.call0(&gpu).map_err(|e| format!("{e:?}"))?.dyn_into().map_err(|_| "requestAdapter returned no promise")?;
    let adapter = JsFuture::from(promise).await.map_err(|e| format!("requestAdapter failed: {e:?}"))?;
    if adapter.is_null() || adapter.is_undefined() {
        return Err("no WebGPU adapter is available (blocked, or no supported GPU)".into());
    }
    let info = get(&adapter, "info");
    let field = |k: &str| get(&info, k).as_string().unwrap_or_default();
    Ok(AdapterInfo {
        vendor: field("vendor"),
        architecture: field("architecture"),
        description: field("description"),
        fallback: get(&info, "isFallbackAdapter").as_bool().unwrap_or(false)
            || get(&adapter, "isFallbackAdapter").as_bool().unwrap_or(false),
    })
}

/// Picks and initialises the device.
pub async fn pick(choice: BackendChoice) -> Picked {
    let threads = CPU_THREADS.with(Cell::get);
    let cpu = |notice: Option<String>| Picked {
        device: Device::flex(),
        kind: BackendKind::Cpu,
        adapter: match threads {
            1 => "burn flex (wasm SIMD)".into(),
            n => format!("burn flex (wasm SIMD, {n} threads)"),
        },
        notice,
        software: false,
    };
    if choice == BackendChoice::Cpu {
        return cpu(None);
    }
    let info = match webgpu_adapter().await {
        Ok(info) => info,
        Err(why) => return cpu(Some(format!("WebGPU unavailable: {why}. Training on the CPU instead."))),
    };
    let (adapter, software) = (info.name(), info.software());
    if software && choice == BackendChoice::Auto {
        return cpu(Some(format!(
            "The only WebGPU adapter is a software one ({adapter}), slower than the CPU path: training on the CPU. \
             Choose backend WebGPU to force it."
        )));
    }
    gpu(adapter, software, cpu).await
}

#[cfg(feature = "webgpu")]
async fn gpu(adapter: String, software: bool, cpu: impl Fn(Option<String>) -> Picked) -> Picked {
    match Device::wgpu_options().init_async().await {
        Ok(device) => Picked { device, kind: BackendKind::WebGpu, adapter, notice: None, software },
        Err(e) => cpu(Some(format!("WebGPU failed to start ({e}). Training on the CPU instead."))),
    }
}

/// The threaded CPU build carries no WebGPU (wgpu's types cannot cross wasm threads); the page
/// starts it only where it would train on the CPU anyway.
#[cfg(not(feature = "webgpu"))]
async fn gpu(adapter: String, _software: bool, cpu: impl Fn(Option<String>) -> Picked) -> Picked {
    cpu(Some(format!(
        "This is the threaded CPU trainer, which has no WebGPU ({adapter} is available): training on the CPU. \
         Reload the page with ?threads=1 to train on WebGPU."
    )))
}

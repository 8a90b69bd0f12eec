//! The browser's Cache Storage as a byte store keyed by URL, so a reload works offline.
//!
//! Every function degrades to "not cached" when Cache Storage is missing (private windows,
//! insecure origins): caching is an optimisation, never a reason to fail.

use js_sys::{ArrayBuffer, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Cache, Response};

const CACHE_NAME: &str = "breastmnist-lab-data-v1";

async fn open() -> Option<Cache> {
    let caches = web_sys::window()?.caches().ok()?;
    JsFuture::from(caches.open(CACHE_NAME)).await.ok()?.dyn_into().ok()
}

/// The bytes stored under `key`, if any.
pub async fn get(key: &str) -> Option<Vec<u8>> {
    let cache = open().await?;
    let found = JsFuture::from(cache.match_with_str(key)).await.ok()?;
    let response: Response = found.dyn_into().ok()?;
    let buffer: ArrayBuffer = JsFuture::from(response.array_buffer().ok()?).await.ok()?.dyn_into().ok()?;
    Some(Uint8Array::new(&buffer).to_vec())
}

/// Stores `bytes` under `key`, or says why it could not (no Cache Storage here, the quota is
/// exhausted, ...).
pub async fn put(key: &str, bytes: &[u8]) -> Result<(), String> {
    let cache = open().await.ok_or("this browser offers no Cache Storage here (a private window?)")?;
    let array = Uint8Array::from(bytes);
    let response = Response::new_with_opt_buffer_source(Some(&array)).map_err(|e| describe(&e))?;
    JsFuture::from(cache.put_with_str(key, &response)).await.map(|_| ()).map_err(|e| describe(&e))
}

/// A JavaScript error's name and message (`QuotaExceededError: ...`).
fn describe(e: &wasm_bindgen::JsValue) -> String {
    let field = |k: &str| js_sys::Reflect::get(e, &k.into()).ok().and_then(|v| v.as_string()).unwrap_or_default();
    match (field("name"), field("message")) {
        (n, m) if n.is_empty() && m.is_empty() => format!("{e:?}"),
        (n, m) if m.is_empty() => n,
        (n, m) => format!("{n}: {m}"),
    }
}

/// Forgets `key` (after it failed verification, say).
pub async fn delete(key: &str) {
    if let Some(cache) = open().await {
        let _ = JsFuture::from(cache.delete_with_str(key)).await;
    }
}

/// Asks the browser to keep this origin's storage under pressure (`navigator.storage.persist()`),
/// so a stored run is not evicted; best effort, the answer is not needed.
pub fn request_persistence() {
    let global = js_sys::global();
    let Some(storage) = js_sys::Reflect::get(&global, &"navigator".into())
        .and_then(|n| js_sys::Reflect::get(&n, &"storage".into()))
        .ok()
        .filter(|s| !s.is_undefined())
    else {
        return;
    };
    if let Ok(persist) = js_sys::Reflect::get(&storage, &"persist".into()).and_then(|f| f.dyn_into::<js_sys::Function>()) {
        let _ = persist.call0(&storage);
    }
}

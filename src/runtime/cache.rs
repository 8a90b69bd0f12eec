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

/// Stores `bytes` under `key`; returns whether it worked.
pub async fn put(key: &str, bytes: &[u8]) -> bool {
    let Some(cache) = open().await else { return false };
    let array = Uint8Array::from(bytes);
    let Ok(response) = Response::new_with_opt_buffer_source(Some(&array)) else { return false };
    JsFuture::from(cache.put_with_str(key, &response)).await.is_ok()
}

/// Forgets `key` (after it failed verification, say).
pub async fn delete(key: &str) {
    if let Some(cache) = open().await {
        let _ = JsFuture::from(cache.delete_with_str(key)).await;
    }
}

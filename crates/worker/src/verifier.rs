//! The verifier: a small Web Worker that computes the MD5 of a file the page hands it, so
//! hashing a dataset (downloaded, cached or picked from disk) never blocks the page, and the
//! data audit of a verified file (`breastmnist_data::audit`: a few hundred million products,
//! seconds in wasm). It links only the data crate, not burn.
//!
//! Messages: it posts `{ready: true}` once listening; the page posts `{bytes: Uint8Array}` and
//! it answers `{md5: "<32 hex digits>"}`, or `{audit: Uint8Array}` and it answers
//! `{audit: "<the Audit as JSON>"}`; a failure is `{error: "..."}`.

#[cfg(target_arch = "wasm32")]
fn main() {
    use breastmnist_protocol::envelope::verifier as key;
    use js_sys::{Object, Reflect, Uint8Array};
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;
    use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

    console_error_panic_hook::set_once();
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let reply = |key: &str, value: JsValue| {
        let msg = Object::new();
        let _ = Reflect::set(&msg, &key.into(), &value);
        let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
        let _ = scope.post_message(&msg);
    };
    let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        let buffer = |key: &str| {
            Reflect::get(&ev.data(), &key.into())
                .ok()
                .filter(|v| v.is_instance_of::<Uint8Array>())
                .map(|b| Uint8Array::from(b).to_vec())
        };
        match (buffer(key::BYTES), buffer(key::AUDIT)) {
            (Some(b), _) => reply(key::MD5, breastmnist_data::md5_hex(&b).into()),
            (None, Some(b)) => match audit(&b) {
                Ok(json) => reply(key::AUDIT, json.into()),
                Err(why) => reply(key::ERROR, why.into()),
            },
            (None, None) => reply(key::ERROR, "no bytes were sent".into()),
        }
    });
    scope.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    handler.forget();
    reply(key::READY, JsValue::TRUE);
}

/// The audit of a dataset file, as JSON.
#[cfg(target_arch = "wasm32")]
fn audit(bytes: &[u8]) -> Result<String, String> {
    use breastmnist_data::audit::{TWIN_THRESHOLD, audit};
    let data = breastmnist_data::decode_npz(bytes, &breastmnist_data::DecodeOptions::default()).map_err(|e| e.to_string())?;
    let report = audit(&data, TWIN_THRESHOLD).map_err(|e| e.to_string())?;
    serde_json::to_string(&report).map_err(|e| e.to_string())
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the verifier is a Web Worker; it runs in the browser only");
}

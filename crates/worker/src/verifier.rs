//! The verifier: a small Web Worker that computes the MD5 of a file the page hands it, so
//! hashing a dataset (downloaded, cached or picked from disk) never blocks the page. It links
//! only the data crate's hashing, not burn.
//!
//! Messages: it posts `{ready: true}` once listening; the page posts `{bytes: Uint8Array}`; it
//! answers `{md5: "<32 hex digits>"}`.

#[cfg(target_arch = "wasm32")]
fn main() {
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
        let bytes = Reflect::get(&ev.data(), &"bytes".into()).ok().filter(|v| v.is_instance_of::<Uint8Array>());
        match bytes {
            Some(b) => reply("md5", breastmnist_data::md5_hex(&Uint8Array::from(b).to_vec()).into()),
            None => reply("error", "no bytes were sent".into()),
        }
    });
    scope.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    handler.forget();
    reply("ready", JsValue::TRUE);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the verifier is a Web Worker; it runs in the browser only");
}

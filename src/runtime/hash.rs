//! Work on a dataset file off the main thread: the verifier worker
//! (`crates/worker/src/verifier.rs`) hashes a file the page hands it (MD5), so checking a
//! dataset never blocks the page, and audits a verified file for near-duplicates. One worker
//! per call, closed when it answers.

use breastmnist_protocol::envelope::verifier as key;
use js_sys::{Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{MessageEvent, Worker};

/// The lowercase hex MD5 of `bytes`, computed in the verifier worker.
pub async fn md5(bytes: &[u8]) -> Result<String, String> {
    ask(key::BYTES, key::MD5, bytes).await
}

/// The data audit of a verified dataset file (`breastmnist_data::audit`), computed in the
/// verifier worker.
pub async fn audit(bytes: &[u8]) -> Result<breastmnist_data::audit::Audit, String> {
    let json = ask(key::AUDIT, key::AUDIT, bytes).await?;
    serde_json::from_str(&json).map_err(|e| format!("the audit is unreadable: {e}"))
}

/// Sends `bytes` under `key` to a fresh verifier once it is ready; its string answer under
/// `answer`, or its error.
async fn ask(key: &'static str, answer: &'static str, bytes: &[u8]) -> Result<String, String> {
    let worker = Worker::new("./verifier_loader.js").map_err(|e| format!("cannot start the verifier: {e:?}"))?;
    let data = Uint8Array::from(bytes);
    let target = worker.clone();
    let mut keep = None;
    let answer = Promise::new(&mut |resolve: Function, reject: Function| {
        let (to, data) = (target.clone(), data.clone());
        let (ok, fail) = (resolve.clone(), reject.clone());
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            let msg = ev.data();
            let field = |k: &str| Reflect::get(&msg, &k.into()).ok().filter(|v| !v.is_undefined());
            if field(key::READY).is_some() {
                let out = Object::new();
                let _ = Reflect::set(&out, &key.into(), &data);
                let _ = to.post_message(&out);
            } else if let Some(text) = field(answer) {
                let _ = ok.call1(&JsValue::NULL, &text);
            } else {
                let why = field(key::ERROR).unwrap_or_else(|| "an unexpected answer".into());
                let _ = fail.call1(&JsValue::NULL, &why);
            }
        });
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            let _ = reject.call1(&JsValue::NULL, &"the verifier failed to load or crashed".into());
        });
        target.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        target.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        keep = Some((on_message, on_error));
    });
    let result = JsFuture::from(answer).await;
    worker.terminate();
    drop(keep);
    result.map(|v| v.as_string().unwrap_or_default()).map_err(|e| e.as_string().unwrap_or_else(|| format!("{e:?}")))
}

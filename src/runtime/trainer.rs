//! The page's handle on the training worker: spawn it on demand, send commands, receive
//! reports. The worker (crates/worker) carries burn; the page never does.

use std::cell::RefCell;
use std::rc::Rc;

use breastmnist_protocol::{FromWorker, ToWorker};
use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::{MessageEvent, Worker};

/// What arrives from the worker: a message, and for checkpoints its bytes.
pub struct Report {
    pub msg: FromWorker,
    pub bytes: Option<Vec<u8>>,
}

/// A running worker; dropping it terminates the worker.
pub struct TrainerWorker {
    worker: Worker,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::Event)>,
}

impl Drop for TrainerWorker {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

impl TrainerWorker {
    /// Starts `trainer_loader.js` (built by Trunk from crates/worker); `on_report` receives every
    /// message, including load failures as `FromWorker::Failed`.
    pub fn spawn(on_report: impl FnMut(Report) + 'static) -> Result<TrainerWorker, String> {
        let worker = Worker::new("./trainer_loader.js").map_err(|e| format!("cannot start the training worker: {e:?}"))?;
        let callback = Rc::new(RefCell::new(on_report));
        let cb = callback.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            let data = ev.data();
            let json = Reflect::get(&data, &"json".into()).ok().and_then(|v| v.as_string()).unwrap_or_default();
            let msg = FromWorker::from_json(&json)
                .unwrap_or_else(|e| FromWorker::Failed { message: format!("unreadable worker message: {e}") });
            let bytes = Reflect::get(&data, &"bytes".into())
                .ok()
                .filter(|v| v.is_instance_of::<Uint8Array>())
                .map(|v| Uint8Array::from(v).to_vec());
            (cb.borrow_mut())(Report { msg, bytes });
        });
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |ev: web_sys::Event| {
            let message = Reflect::get(&ev, &"message".into())
                .ok()
                .and_then(|m| m.as_string())
                .map(|m| format!("the training worker stopped: {m}"))
                .unwrap_or_else(|| "the training worker failed to load or crashed".into());
            (callback.borrow_mut())(Report { msg: FromWorker::Failed { message }, bytes: None });
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(TrainerWorker { worker, _on_message: on_message, _on_error: on_error })
    }

    /// Sends a command, with the dataset file's bytes (`bytes`) and a checkpoint or snapshot
    /// (`init`) where the command needs them (both copied).
    pub fn send(&self, cmd: &ToWorker, bytes: Option<&[u8]>, init: Option<&[u8]>) -> Result<(), String> {
        let obj = Object::new();
        let _ = Reflect::set(&obj, &"json".into(), &cmd.to_json().into());
        if let Some(b) = bytes {
            let _ = Reflect::set(&obj, &"bytes".into(), &Uint8Array::from(b));
        }
        if let Some(b) = init {
            let _ = Reflect::set(&obj, &"init".into(), &Uint8Array::from(b));
        }
        self.worker.post_message(&obj).map_err(|e| format!("{e:?}"))
    }
}

/// A `blob:` URL holding `bytes`.
pub fn object_url(mime: &str, bytes: &[u8]) -> Result<String, String> {
    let parts = js_sys::Array::of1(&Uint8Array::from(bytes));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &opts).map_err(|e| format!("{e:?}"))?;
    web_sys::Url::create_object_url_with_blob(&blob).map_err(|e| format!("{e:?}"))
}

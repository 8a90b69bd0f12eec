//! Registers `sw.js`, the service worker that keeps the app shell for offline reloads. Best
//! effort: without service workers (insecure origin, old browser) the page simply needs the
//! network to reload.

use js_sys::{Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};

pub fn register_service_worker() {
    let Some(window) = web_sys::window() else { return };
    let navigator = Reflect::get(&window, &JsValue::from_str("navigator")).unwrap_or(JsValue::UNDEFINED);
    let container = Reflect::get(&navigator, &JsValue::from_str("serviceWorker")).unwrap_or(JsValue::UNDEFINED);
    if container.is_undefined() || container.is_null() {
        return;
    }
    let Ok(register) = Reflect::get(&container, &JsValue::from_str("register")).and_then(|f| f.dyn_into::<Function>()) else {
        return;
    };
    if let Ok(promise) = register.call1(&container, &JsValue::from_str("./sw.js")) {
        // A failed registration only means no offline reloads; keep it out of the console.
        if let Ok(p) = promise.dyn_into::<js_sys::Promise>() {
            let ignore = wasm_bindgen::closure::Closure::<dyn FnMut(JsValue)>::new(|_: JsValue| {});
            let _ = p.catch(&ignore);
            ignore.forget();
        }
    }
}

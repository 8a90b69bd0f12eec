//! One tab owns the stored run: the Web Locks API's exclusive lock, held from this tab's first
//! run until the tab closes (the browser releases it) or another tab takes it over explicitly.
//! Without the lock, two tabs training at once would overwrite each other's stored state and
//! snapshot. Browsers without Web Locks get no ownership (the run still works).

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// The lock's name: one per copy of the app (its folder), so two copies served under different
/// paths of one origin (`/lab/v1/`, `/lab/v2/`) do not block each other.
fn name() -> String {
    let path = Reflect::get(&js_sys::global(), &"location".into())
        .and_then(|l| Reflect::get(&l, &"pathname".into()))
        .ok()
        .and_then(|p| p.as_string())
        .unwrap_or_default();
    let folder = path.rsplit_once('/').map_or("", |(dir, _)| dir);
    format!("breastmnist-lab-run:{folder}/")
}

/// What asking for the lock gave.
pub enum Acquire {
    /// This tab owns the run until the tab closes or the lock is stolen.
    Held,
    /// Another tab owns it.
    Busy,
    /// No Web Locks here (an old browser, an insecure origin).
    Unsupported,
}

fn locks() -> Option<JsValue> {
    let navigator = Reflect::get(&js_sys::global(), &"navigator".into()).ok()?;
    let locks = Reflect::get(&navigator, &"locks".into()).ok()?;
    (!locks.is_undefined() && !locks.is_null()).then_some(locks)
}

/// Asks for the lock (taking it from another tab with `steal`); `on_lost` runs if another tab
/// takes it later. The lock is never released by this tab: it is the tab's until it closes.
pub async fn acquire(steal: bool, on_lost: impl FnOnce() + 'static) -> Acquire {
    let Some(locks) = locks() else { return Acquire::Unsupported };
    let Ok(request) = Reflect::get(&locks, &"request".into()).and_then(|f| f.dyn_into::<Function>()) else {
        return Acquire::Unsupported;
    };
    // Resolved with whether the lock was granted, from inside the request's callback.
    let granted: Rc<RefCell<Option<Function>>> = Rc::default();
    let g = granted.clone();
    let answered = Promise::new(&mut |resolve, _| {
        g.replace(Some(resolve));
    });
    let callback = Closure::once_into_js(move |lock: JsValue| -> JsValue {
        let held = !lock.is_null() && !lock.is_undefined();
        if let Some(resolve) = granted.borrow_mut().take() {
            let _ = resolve.call1(&JsValue::NULL, &JsValue::from_bool(held));
        }
        // Held: a promise that never settles keeps the lock for the tab's lifetime.
        if held { Promise::new(&mut |_, _| {}).into() } else { JsValue::UNDEFINED }
    });
    let options = Object::new();
    let _ = Reflect::set(&options, &(if steal { "steal" } else { "ifAvailable" }).into(), &JsValue::TRUE);
    let Ok(pending) = request.call3(&locks, &name().into(), &options, &callback) else { return Acquire::Unsupported };
    // The request's own promise rejects (AbortError) when another tab steals the lock.
    let lost = Closure::once_into_js(move |_: JsValue| on_lost());
    if let Ok(catch) = Reflect::get(&pending, &"catch".into()).and_then(|f| f.dyn_into::<Function>()) {
        let _ = catch.call1(&pending, &lost);
    }
    match JsFuture::from(answered).await.ok().and_then(|v| v.as_bool()) {
        Some(true) => Acquire::Held,
        Some(false) => Acquire::Busy,
        None => Acquire::Unsupported,
    }
}

/// Whether another tab holds the lock now (asked before this tab asks for it, so a holder is
/// always another tab); false without Web Locks.
pub async fn held_elsewhere() -> bool {
    let Some(locks) = locks() else { return false };
    let Ok(query) = Reflect::get(&locks, &"query".into()).and_then(|f| f.dyn_into::<Function>()) else { return false };
    let Some(pending) = query.call0(&locks).ok().and_then(|p| p.dyn_into::<Promise>().ok()) else { return false };
    let Ok(snapshot) = JsFuture::from(pending).await else { return false };
    let held = Reflect::get(&snapshot, &"held".into()).unwrap_or(JsValue::UNDEFINED);
    js_sys::Array::from(&held)
        .iter()
        .any(|l| Reflect::get(&l, &"name".into()).ok().and_then(|n| n.as_string()).as_deref() == Some(name().as_str()))
}

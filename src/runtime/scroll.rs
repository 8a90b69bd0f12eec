//! Scrolling to a section of the article: smoothly, then once the scroll has ended, exactly.
//! Widgets mount when they come near the viewport (`components::lazy`), so the sections a long
//! smooth scroll passes can change height under it and the scroll end off target; the second,
//! instant scroll lands on the section as laid out by then. It renders nothing.

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{ScrollBehavior, ScrollIntoViewOptions};

/// Scrolls to the element `id` and puts `#id` in the address bar (as following the link would).
pub fn to_section(id: &str) {
    let Some(window) = web_sys::window() else { return };
    let Some(el) = window.document().and_then(|d| d.get_element_by_id(id)) else { return };
    let smooth = ScrollIntoViewOptions::new();
    smooth.set_behavior(ScrollBehavior::Smooth);
    el.scroll_into_view_with_scroll_into_view_options(&smooth);
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&format!("#{id}")));
    }
    let target = el.clone();
    let settle = Closure::once_into_js(move || {
        let top = target.get_bounding_client_rect().top();
        if top.abs() > 2.0 {
            let instant = ScrollIntoViewOptions::new();
            instant.set_behavior(ScrollBehavior::Instant);
            target.scroll_into_view_with_scroll_into_view_options(&instant);
        }
    });
    let once = web_sys::AddEventListenerOptions::new();
    once.set_once(true);
    let _ = window.add_event_listener_with_callback_and_add_event_listener_options("scrollend", settle.unchecked_ref(), &once);
}

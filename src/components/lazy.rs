//! Mounts a widget only when it comes near the viewport (IntersectionObserver, 600 px ahead), so
//! the first paint builds the article and the widgets above the fold only. Without
//! IntersectionObserver, or when `eager` is set (a deep link into the widget), it mounts at once.

use leptos::html::Div;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{IntersectionObserver, IntersectionObserverEntry, IntersectionObserverInit};

#[component]
pub fn Lazy(
    children: ChildrenFn,
    /// What is coming, for the placeholder ("the explorer").
    what: &'static str,
    /// Mount at once.
    #[prop(default = false)]
    eager: bool,
) -> impl IntoView {
    let seen = RwSignal::new(eager);
    let node = NodeRef::<Div>::new();
    Effect::new(move |_| {
        if seen.get_untracked() {
            return;
        }
        let Some(el) = node.get() else { return };
        let callback = Closure::<dyn FnMut(js_sys::Array, IntersectionObserver)>::new(
            move |entries: js_sys::Array, observer: IntersectionObserver| {
                let visible = entries.iter().any(|e| e.unchecked_into::<IntersectionObserverEntry>().is_intersecting());
                if visible {
                    seen.set(true);
                    observer.disconnect();
                }
            },
        );
        let init = IntersectionObserverInit::new();
        init.set_root_margin("600px 0px");
        match IntersectionObserver::new_with_options(callback.as_ref().unchecked_ref(), &init) {
            Ok(observer) => {
                observer.observe(&el);
                callback.forget();
            }
            Err(_) => seen.set(true),
        }
    });
    view! {
        <div node_ref=node class="lazy" data-mounted=move || seen.get().to_string()>
            <Show when=move || seen.get()
                fallback=move || view! { <p class="placeholder lazy-placeholder">{format!("Loading {what}…")}</p> }>
                {children()}
            </Show>
        </div>
    }
}

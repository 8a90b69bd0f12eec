//! Mounts a widget only when it comes near the viewport (IntersectionObserver, 600 px ahead), so
//! the first paint builds the article and the widgets above the fold only. Without
//! IntersectionObserver, or when `eager` is set (a deep link into the widget), it mounts at once.
//! With a `stage`, it also mounts by itself that many painted frames after the page started
//! (`runtime::frame`): the article is built in a few short tasks, none of them a long one, and
//! every widget is there within a fraction of a second whether scrolled to or not.

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
    /// Mount by itself after this many painted frames (0: only when near the viewport).
    #[prop(default = 0)]
    stage: u32,
) -> impl IntoView {
    let seen = RwSignal::new(eager);
    let node = NodeRef::<Div>::new();
    if stage > 0 && !eager {
        crate::runtime::frame::after_frames(stage, move || {
            seen.try_set(true);
        });
    }
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

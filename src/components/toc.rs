//! The table of contents, which follows the scroll: the section in view is marked current.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{IntersectionObserver, IntersectionObserverEntry, IntersectionObserverInit};

/// The article's sections: (element id, title).
pub const SECTIONS: [(&str, &str); 14] = [
    ("why", "Why BreastMNIST"),
    ("benchmark", "The benchmark"),
    ("data", "1 · Download and verify"),
    ("gallery", "2 · Look at the data"),
    ("leaks", "2b · Check for leaks"),
    ("train", "3 · Train"),
    ("explore", "4 · What the model sees"),
    ("resolution", "The resolution question"),
    ("ideas", "Newer training ideas"),
    ("methods", "Methods lab"),
    ("other-datasets", "Beyond BreastMNIST"),
    ("agents", "Let an agent drive it"),
    ("conclusion", "Conclusion"),
    ("references", "References"),
];

#[component]
pub fn Toc() -> impl IntoView {
    let current = RwSignal::new(SECTIONS[0].0.to_string());
    // Observe the sections once the article is mounted; the callback only reports which is in view.
    Effect::new(move |_| {
        let callback = Closure::<dyn FnMut(js_sys::Array)>::new(move |entries: js_sys::Array| {
            for entry in entries.iter() {
                let entry: IntersectionObserverEntry = entry.unchecked_into();
                if entry.is_intersecting() {
                    current.set(entry.target().id());
                }
            }
        });
        let init = IntersectionObserverInit::new();
        init.set_root_margin("-20% 0px -70% 0px");
        let Ok(observer) = IntersectionObserver::new_with_options(callback.as_ref().unchecked_ref(), &init) else {
            return;
        };
        callback.forget();
        // A link to a section built after the first paint (`#methods`): the browser found no
        // element to scroll to, so it is scrolled to once it appears.
        let hash = web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default();
        let document = || web_sys::window().and_then(|w| w.document());
        let linked = SECTIONS
            .iter()
            .map(|(id, _)| *id)
            .find(|id| hash.strip_prefix('#') == Some(id))
            .filter(|id| document().and_then(|d| d.get_element_by_id(id)).is_none());
        let pending = StoredValue::new(linked);
        // Observes the sections there are; `true` once all of them are. (Observing an element
        // twice is a no-op.)
        let observe_all = move || {
            let Some(doc) = document() else { return true };
            let found = SECTIONS.iter().filter_map(|(id, _)| doc.get_element_by_id(id)).map(|el| observer.observe(&el)).count();
            if let Some(id) = pending.get_value().filter(|id| doc.get_element_by_id(id).is_some()) {
                pending.set_value(None);
                crate::runtime::scroll::to_section(id);
            }
            found == SECTIONS.len()
        };
        if observe_all() {
            return;
        }
        // Parts of the article are built over its first frames (`Lazy` stages): sections that
        // appear later are observed as they are added, and the watch ends once all are.
        let added = Closure::<dyn FnMut(js_sys::Array, web_sys::MutationObserver)>::new(
            move |_: js_sys::Array, watch: web_sys::MutationObserver| {
                if observe_all() {
                    watch.disconnect();
                }
            },
        );
        if let (Ok(watch), Some(article)) = (
            web_sys::MutationObserver::new(added.as_ref().unchecked_ref()),
            web_sys::window().and_then(|w| w.document()).and_then(|d| d.query_selector("main.article").ok().flatten()),
        ) {
            let init = web_sys::MutationObserverInit::new();
            init.set_child_list(true);
            init.set_subtree(true);
            let _ = watch.observe_with_options(&article, &init);
            added.forget();
        }
    });
    view! {
        <nav class="toc" data-testid="toc" aria-label="Contents">
            <p class="toc-title">"Contents"</p>
            <ol>
                {SECTIONS
                    .into_iter()
                    .map(|(id, title)| {
                        view! {
                            <li>
                                <a href=format!("#{id}") data-target=id
                                    on:click=move |ev: web_sys::MouseEvent| {
                                        ev.prevent_default();
                                        crate::runtime::scroll::to_section(id);
                                    }
                                    aria-current=move || (current.get() == id).then_some("location")>{title}</a>
                            </li>
                        }
                    })
                    .collect::<Vec<_>>()}
            </ol>
        </nav>
    }
}

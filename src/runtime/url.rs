//! The page's address: reading query parameters (shareable experiment links) and rewriting
//! some of them in place (the explorer's deep links).

/// The value of `?name=...` in the page's URL, if present.
pub fn param(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    let params = web_sys::UrlSearchParams::new_with_str(&search).ok()?;
    params.get(name)
}

/// Replaces the parameters named in `owned` by `pairs` (replacing, not pushing, the history
/// entry); other parameters and the hash stay.
pub fn replace_params(owned: &[&str], pairs: &[(&'static str, String)]) {
    let Some(window) = web_sys::window() else { return };
    let Ok(search) = window.location().search() else { return };
    let Ok(params) = web_sys::UrlSearchParams::new_with_str(&search) else { return };
    for k in owned {
        params.delete(k);
    }
    for (k, v) in pairs {
        params.append(k, v);
    }
    let hash = window.location().hash().unwrap_or_default();
    let url = format!("?{}{}", String::from(params.to_string()), hash);
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}

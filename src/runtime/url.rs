//! Reading the page's query parameters (shareable experiment links).

/// The value of `?name=...` in the page's URL, if present.
pub fn param(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    let params = web_sys::UrlSearchParams::new_with_str(&search).ok()?;
    params.get(name)
}

//! Downloading a file with gloo-net while reporting progress (bytes of total), with a stall
//! watchdog (no byte for [`STALL_SECS`] aborts the download with a clear error), a size cap (a
//! body larger than the expected file is refused before it is stored, whatever Content-Length
//! claims), and cancellation (a newer load aborts an older one).

use std::cell::Cell;
use std::rc::Rc;

use gloo_net::http::Request;
use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, ReadableStreamDefaultReader};

/// Seconds without a byte after which a download counts as stalled.
pub const STALL_SECS: u32 = 15;

/// Why a download failed, in words a reader can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FetchError {
    /// No response at all (offline, DNS, CORS, connection refused).
    Network(String),
    /// The server answered with an error status.
    Status { url: String, status: u16, text: String },
    /// The response body broke off.
    Body(String),
    /// No byte arrived for [`STALL_SECS`] seconds (`received` bytes had).
    Stalled { received: u64 },
    /// The body is (or announces itself as) larger than the file can be.
    TooLarge { bytes: u64, limit: u64 },
    /// A newer load replaced this one.
    Cancelled,
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::Network(e) => write!(f, "network error: {e}"),
            FetchError::Status { url, status, text } => write!(f, "the server answered {status} {text} for {url}"),
            FetchError::Body(e) => write!(f, "the download broke off: {e}"),
            FetchError::Stalled { received } => {
                write!(f, "the download stalled: no data for {STALL_SECS} s after {received} bytes")
            }
            FetchError::TooLarge { bytes, limit } => {
                write!(f, "the server sends {bytes} bytes, but the file has {limit}: refused")
            }
            FetchError::Cancelled => write!(f, "the download was replaced by a newer one"),
        }
    }
}

fn js_err(v: JsValue) -> String {
    v.as_string().or_else(|| v.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message()))).unwrap_or_else(|| format!("{v:?}"))
}

/// A handle that aborts a download (and the watchdog's way of doing so).
#[derive(Clone)]
pub struct Cancel {
    controller: Option<AbortController>,
    cancelled: Rc<Cell<bool>>,
}

impl Cancel {
    pub fn new() -> Cancel {
        Cancel { controller: AbortController::new().ok(), cancelled: Rc::default() }
    }

    /// Aborts the download (a newer load replaces it).
    pub fn cancel(&self) {
        self.cancelled.set(true);
        self.abort();
    }

    /// Whether [`Cancel::cancel`] was called (a stopped job checks it after each wait, before
    /// it writes anything).
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.get()
    }

    fn abort(&self) {
        if let Some(c) = &self.controller {
            c.abort();
        }
    }
}

/// Aborts the download when no byte arrives for [`STALL_SECS`]; stops when dropped.
struct Watchdog {
    id: Option<i32>,
    _tick: Closure<dyn FnMut()>,
    last: Rc<Cell<f64>>,
    stalled: Rc<Cell<bool>>,
}

impl Watchdog {
    fn start(cancel: &Cancel) -> Watchdog {
        let last = Rc::new(Cell::new(js_sys::Date::now()));
        let stalled = Rc::new(Cell::new(false));
        let (l, s, c) = (last.clone(), stalled.clone(), cancel.clone());
        let tick = Closure::<dyn FnMut()>::new(move || {
            if !s.get() && js_sys::Date::now() - l.get() > f64::from(STALL_SECS) * 1000.0 {
                s.set(true);
                c.abort();
            }
        });
        let id = web_sys::window()
            .and_then(|w| w.set_interval_with_callback_and_timeout_and_arguments_0(tick.as_ref().unchecked_ref(), 500).ok());
        Watchdog { id, _tick: tick, last, stalled }
    }

    fn alive(&self) {
        self.last.set(js_sys::Date::now());
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        if let (Some(id), Some(w)) = (self.id, web_sys::window()) {
            w.clear_interval_with_handle(id);
        }
    }
}

/// GETs `url`, calling `progress(received, total)` as chunks arrive (`total` from
/// Content-Length, else `expected`). With `expected`, a body longer than it is refused.
pub async fn fetch_bytes(
    url: &str,
    expected: Option<u64>,
    mut progress: impl FnMut(u64, Option<u64>),
    cancel: &Cancel,
) -> Result<Vec<u8>, FetchError> {
    let watchdog = Watchdog::start(cancel);
    let received = Rc::new(Cell::new(0u64));
    // Every failure after an abort is the abort's: a stall or a newer load.
    let why = |other: FetchError| {
        if cancel.cancelled.get() {
            FetchError::Cancelled
        } else if watchdog.stalled.get() {
            FetchError::Stalled { received: received.get() }
        } else {
            other
        }
    };
    let signal = cancel.controller.as_ref().map(AbortController::signal);
    let response =
        Request::get(url).abort_signal(signal.as_ref()).send().await.map_err(|e| why(FetchError::Network(e.to_string())))?;
    watchdog.alive();
    if !response.ok() {
        return Err(FetchError::Status { url: url.to_string(), status: response.status(), text: response.status_text() });
    }
    let announced = response.headers().get("content-length").and_then(|v| v.parse::<u64>().ok());
    if let (Some(bytes), Some(limit)) = (announced, expected)
        && bytes > limit
    {
        cancel.abort();
        return Err(FetchError::TooLarge { bytes, limit });
    }
    let total = announced.or(expected);
    progress(0, total);

    let Some(body) = response.body() else {
        let bytes = response.binary().await.map_err(|e| why(FetchError::Body(e.to_string())))?;
        progress(bytes.len() as u64, total);
        return Ok(bytes);
    };
    let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    // Never trust Content-Length for the allocation: at most the expected size (or 64 MiB).
    let mut bytes = Vec::with_capacity(total.unwrap_or(0).min(expected.unwrap_or(1 << 26)) as usize);
    loop {
        let chunk = JsFuture::from(reader.read()).await.map_err(|e| why(FetchError::Body(js_err(e))))?;
        watchdog.alive();
        let done = Reflect::get(&chunk, &"done".into()).ok().and_then(|d| d.as_bool()).unwrap_or(true);
        if done {
            break;
        }
        let value = Reflect::get(&chunk, &"value".into()).map_err(|e| FetchError::Body(js_err(e)))?;
        let array: Uint8Array = value.unchecked_into();
        let start = bytes.len();
        let next = (start + array.length() as usize) as u64;
        if let Some(limit) = expected.filter(|&l| next > l) {
            cancel.abort();
            return Err(FetchError::TooLarge { bytes: next, limit });
        }
        bytes.resize(next as usize, 0);
        array.copy_to(&mut bytes[start..]);
        received.set(next);
        progress(next, total);
    }
    Ok(bytes)
}

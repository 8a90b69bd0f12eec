//! BreastMNIST Lab: the web app (Leptos, client-side rendered, built by Trunk).
//!
//! The app owns the page: the article, the widgets, the fetch and cache of the dataset file,
//! the trainer worker's handle, and the drawing. It depends on `breastmnist-data` and
//! `breastmnist-protocol` and never on `breastmnist-core` (burn stays in the worker's bundle;
//! the tidy test checks it). Layers, each depending only on those above it:
//!
//! - `view`: the rules as plain data (builds natively, unit-tested);
//! - `runtime`: the edge to the browser (network, storage, files, the worker); renders nothing;
//! - `state`: the shared signals and their methods, one context per concern (data, train,
//!   explore), built on `view` and `runtime`;
//! - `components`: the widgets; each imports `state`, `runtime` and `view`, never another widget;
//! - `app`: the article, which places the widgets and provides the contexts.

pub mod view;

#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod charts;
#[cfg(target_arch = "wasm32")]
mod components;
#[cfg(target_arch = "wasm32")]
mod draw;
#[cfg(target_arch = "wasm32")]
mod runtime;
#[cfg(target_arch = "wasm32")]
mod state;

#[cfg(target_arch = "wasm32")]
pub use app::App;

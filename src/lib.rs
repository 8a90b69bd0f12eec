//! BreastMNIST Lab: the web app (Leptos, client-side rendered, built by Trunk).
//!
//! The app owns the page: the article, the widgets, the fetch/cache of the dataset file and the
//! drawing. It depends on the core crates (`breastmnist-data`, later `breastmnist-core`) and
//! never the reverse. Pure view-model logic (`gallery_model`) builds and is tested natively;
//! the browser modules compile for wasm32 only.

pub mod explore_model;
pub mod gallery_model;
pub mod resolution_model;
pub mod train_model;

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
pub use app::App;

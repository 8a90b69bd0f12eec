//! The page's shared state: one context per concern, each a `Copy` bundle of signals that owns
//! its methods (as in Leptos's todomvc). The app creates them once and provides them; widgets
//! take the narrowest one they need with `expect_context`.
//!
//! - `beyond`: another MedMNIST 2D set and one run on it ("Beyond BreastMNIST");
//! - `data`: the dataset file, loaded and verified;
//! - `train`: the reader's run (form, progress, results, exports), driving the trainer worker;
//! - `explore`: what the kept model says about each sample, asked of the same worker;
//! - `methods`: the methods lab's comparison, in trainer workers of its own;
//! - `resolution`: the resolution experiment's three arms, likewise;
//! - `loads`: numbered loads (a newer one cancels the older one's download), for `data` and
//!   `beyond`;
//! - `series`: the one runner of both: jobs one after another, each in a fresh worker, that
//!   Stop ends at once (also while a job's files load).
//!
//! The worker itself is `runtime::worker::TrainerLink`: `train` launches it, `explore` asks it,
//! and it routes each reply to the one that asked, so neither state knows the other.

pub mod beyond;
pub mod data;
pub mod explore;
pub mod gan;
pub mod loads;
pub mod methods;
pub mod resolution;
pub mod series;
pub mod train;

//! The app's edge to the outside world: network, browser storage, files.
//!
//! Components call these async functions and fold their results into signals; nothing here
//! renders. The core crates receive only bytes from here.

pub mod cache;
pub mod dataset;
pub mod fetch;
pub mod offline;
pub mod runs;
pub mod trainer;
pub mod url;

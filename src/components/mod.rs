//! The article's widgets, one per file. Each takes what it needs from context or props and
//! renders; the async work lives in `runtime`.

pub mod dataset_card;
pub mod explorer;
pub mod resolution;
pub mod gallery;
pub mod lazy;
pub mod benchmark_table;
pub mod toc;
pub mod train_panel;

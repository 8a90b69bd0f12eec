//! The article's widgets, one module per widget (a folder where a widget has parts). Each takes
//! the narrowest context it needs from `state` with `expect_context`, calls its methods, and
//! renders; async work and browser APIs live in `state` and `runtime`. A widget never imports
//! another widget: the app places them all (the tidy test checks it).

pub mod agent_session;
pub mod audit;
pub mod benchmark_table;
pub mod dataset_card;
pub mod explorer;
pub mod gallery;
pub mod gan;
pub mod lazy;
pub mod methods_lab;
pub mod other_datasets;
pub mod resolution;
pub mod toc;
pub mod train_panel;

//! The operations layer: every command's body as a library function over the core.
//!
//! Invariant: an operation takes a typed request, reports what happens as [`Event`]s to a
//! [`Sink`], looks at a [`Cancel`] flag between steps when it runs long, and returns a typed
//! result or an [`Error`] whose [`ErrorKind`] decides the exit code. It never prints: the text
//! printer and the JSON printer (`crates/cli`) and the MCP server (`crates/mcp`) are front ends
//! over it, with no command logic of their own. `crates/cli/tests/agents.rs` checks the events
//! against `docs/events.schema.json` and the server's results against the CLI's files.

pub mod audit;
pub mod backend;
pub mod bench;
pub mod catalog;
pub mod ensemble;
pub mod error;
pub mod evaluate;
pub mod event;
pub mod export;
pub mod gan;
pub mod lab;
pub mod picture;
pub mod pretext;
pub mod recipe;
pub mod reuse;
pub mod runs;
pub mod source;
pub mod train;
pub mod weights;

pub use backend::Backend;
pub use breastmnist_core::model::MAX_PROTOTYPES;
pub use error::{Error, ErrorKind, file_name, read, write};
pub use event::{Cancel, Collect, DataInfo, Event, Sink};
pub use recipe::Recipe;
pub use source::{DataSource, DataSpec, Opened};

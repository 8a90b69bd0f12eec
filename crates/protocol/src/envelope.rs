//! The envelope a message travels in between the page and a trainer worker: a JavaScript object
//! holding the message's JSON under [`key::JSON`] and, beside it, the byte buffers that are
//! too large for JSON (transferred as `Uint8Array`s). Both sides read and write the envelope
//! through these names, so neither spells a key by hand.
//!
//! It must not know about the browser: the JavaScript side of each end fills and reads it.

/// The envelope's keys.
pub mod key {
    /// The message itself, as JSON text (`ToWorker::to_json`, `FromWorker::to_json`).
    pub const JSON: &str = "json";
    /// The dataset file (to the worker) or a reply's payload: a checkpoint, a snapshot, maps.
    pub const BYTES: &str = "bytes";
    /// The weights a command starts from: a checkpoint to fine-tune or evaluate, a snapshot to
    /// continue.
    pub const INIT: &str = "init";
    /// Extra pretraining files, an array of `Uint8Array`s.
    pub const EXTRA: &str = "extra";
}

/// The verifier worker's messages (`crates/worker/src/verifier.rs`, `src/runtime/hash.rs`): it
/// posts `{READY: true}`; the page posts `{BYTES: file}` for the MD5 or `{AUDIT: file}` for the
/// data audit; it answers `{MD5: hex}`, `{AUDIT: json}` or `{ERROR: message}`.
pub mod verifier {
    pub const READY: &str = "ready";
    pub const BYTES: &str = "bytes";
    pub const MD5: &str = "md5";
    pub const AUDIT: &str = "audit";
    pub const ERROR: &str = "error";
}

/// The buffers that travel beside a command to the worker.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Buffers {
    /// The verified dataset file ([`key::BYTES`]).
    pub data: Option<Vec<u8>>,
    /// A checkpoint or snapshot ([`key::INIT`]).
    pub init: Option<Vec<u8>>,
    /// Other MedMNIST files for the pretraining pool ([`key::EXTRA`]).
    pub extra: Vec<Vec<u8>>,
}

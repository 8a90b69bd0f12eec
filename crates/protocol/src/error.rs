//! Errors as they cross the seam: a kind the page can act on (a hint, a retry on the CPU) and
//! the message for the reader. The worker classifies the core's errors (its `convert` module,
//! tested natively); the page maps each kind to a hint with an exhaustive `match`.

use serde::{Deserialize, Serialize};

/// What went wrong, as far as the reader can do something about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The settings were refused (the core validates the request again).
    Settings,
    /// The dataset file could not be decoded.
    Data,
    /// A checkpoint or snapshot is unreadable or does not fit the data.
    Checkpoint,
    /// Training produced non-finite numbers; the best model so far may be kept.
    Diverged,
    /// The backend failed: the WebGPU device was lost, ran out of memory, or a readback failed.
    Device,
    /// The worker failed to load, crashed, or was asked for something it cannot do now.
    Worker,
    /// A message between page and worker could not be read (a version mismatch or a bug).
    Protocol,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 7] = [
        ErrorKind::Settings,
        ErrorKind::Data,
        ErrorKind::Checkpoint,
        ErrorKind::Diverged,
        ErrorKind::Device,
        ErrorKind::Worker,
        ErrorKind::Protocol,
    ];

    /// The wire form (as serde writes it), also the page's `data-kind`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Settings => "settings",
            ErrorKind::Data => "data",
            ErrorKind::Checkpoint => "checkpoint",
            ErrorKind::Diverged => "diverged",
            ErrorKind::Device => "device",
            ErrorKind::Worker => "worker",
            ErrorKind::Protocol => "protocol",
        }
    }
}

/// An error reported by (or about) the worker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerError {
    pub kind: ErrorKind,
    pub message: String,
}

impl WorkerError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> WorkerError {
        WorkerError { kind, message: message.into() }
    }
}

impl std::fmt::Display for WorkerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for WorkerError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_serialise_as_their_names() {
        for k in ErrorKind::ALL {
            assert_eq!(serde_json::to_string(&k).unwrap(), format!("\"{}\"", k.name()));
        }
    }
}

//! Everything that ends an operation, and the kind of failure each is: the kind picks the CLI's
//! exit code and the `error` event's `kind` (docs/agents.md lists them).

use std::path::PathBuf;

use breastmnist_core::{eval, torch, train};
use serde::Serialize;

/// What kind of failure an [`Error`] is. Each has one exit code; the JSON `error` event and
/// the MCP server's tool errors carry its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// A flag, argument, file or checkpoint that cannot be used as given.
    BadInput,
    /// The data (or another input file) is not where it was looked for.
    NotFound,
    /// A file found under an official name does not have the official MD5.
    Unverified,
    /// Over a size cap, or more memory than the process can get.
    TooLarge,
    /// Stopped on request; the files written so far are kept.
    Cancelled,
    /// Another training is running (the MCP server runs one at a time).
    Busy,
    /// A failure of the program itself or of its device.
    Internal,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 7] = [
        ErrorKind::BadInput,
        ErrorKind::NotFound,
        ErrorKind::Unverified,
        ErrorKind::TooLarge,
        ErrorKind::Cancelled,
        ErrorKind::Busy,
        ErrorKind::Internal,
    ];

    /// The process exit code of a command that failed this way (clap's own usage errors exit
    /// with 2 as well).
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorKind::Internal => 1,
            ErrorKind::BadInput => 2,
            ErrorKind::NotFound => 3,
            ErrorKind::Unverified => 4,
            ErrorKind::TooLarge => 5,
            ErrorKind::Cancelled => 6,
            ErrorKind::Busy => 7,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::BadInput => "bad-input",
            ErrorKind::NotFound => "not-found",
            ErrorKind::Unverified => "unverified",
            ErrorKind::TooLarge => "too-large",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Busy => "busy",
            ErrorKind::Internal => "internal",
        }
    }
}

/// Everything that ends an operation with a message.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a usable dataset file: {source}")]
    Data { path: PathBuf, source: breastmnist_data::DataError },
    #[error("{path}: {source}")]
    Checkpoint { path: PathBuf, source: breastmnist_core::CheckpointError },
    #[error("{path}: {source}")]
    Weights { path: PathBuf, source: Box<torch::TorchError> },
    #[error(transparent)]
    Name(#[from] breastmnist_data::UnknownName),
    #[error("{0}")]
    Arg(String),
    #[error("invalid setting: {0}")]
    Config(#[from] train::ConfigError),
    #[error("training failed: {0}")]
    Train(#[from] train::TrainError),
    #[error("evaluation failed: {0}")]
    Eval(#[from] eval::EvalError),
    #[error("the GAN: {0}")]
    Gan(#[from] breastmnist_core::gan::GanError),
    #[error("{0}")]
    Usage(String),
    #[error("training stopped: {0}")]
    Failure(train::TrainFailure),
    #[error("the {backend} backend is not available: {reason}")]
    NoBackend { backend: &'static str, reason: String },
    #[error("{0}")]
    CheckFailed(String),
    /// A data file is in none of the folders searched.
    #[error("{0}")]
    NotFound(String),
    /// A file found under an official name is not the official file.
    #[error("{0}")]
    Unverified(String),
    /// An input over one of the bounds an agent's call is held to.
    #[error("{0}")]
    Limit(String),
    #[error("cancelled{}", if .kept.is_empty() { String::new() } else { format!("; kept {}", .kept.join(", ")) })]
    Cancelled { kept: Vec<String> },
    #[error("{0}")]
    Busy(String),
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        use breastmnist_data::DataError as D;
        match self {
            Error::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound => ErrorKind::NotFound,
            Error::Read { .. } | Error::Write { .. } => ErrorKind::BadInput,
            Error::Data { source: D::TooLarge { .. } | D::OutOfMemory { .. }, .. } => ErrorKind::TooLarge,
            Error::Data { source: D::Checksum { .. } | D::Size { .. }, .. } => ErrorKind::Unverified,
            Error::Data { .. }
            | Error::Checkpoint { .. }
            | Error::Weights { .. }
            | Error::Name(_)
            | Error::Arg(_)
            | Error::Config(_)
            | Error::Usage(_)
            | Error::NoBackend { .. } => ErrorKind::BadInput,
            Error::Train(
                train::TrainError::Config(_)
                | train::TrainError::Model(_)
                | train::TrainError::DataShape { .. }
                | train::TrainError::Classes { .. }
                | train::TrainError::Head { .. }
                | train::TrainError::Unlabeled
                | train::TrainError::Checkpoint(_),
            ) => ErrorKind::BadInput,
            Error::Gan(breastmnist_core::gan::GanError::Shape { .. } | breastmnist_core::gan::GanError::Setting(_)) => {
                ErrorKind::BadInput
            }
            Error::Gan(_) => ErrorKind::Internal,
            Error::Limit(_) => ErrorKind::TooLarge,
            Error::NotFound(_) => ErrorKind::NotFound,
            Error::Unverified(_) => ErrorKind::Unverified,
            Error::Cancelled { .. } => ErrorKind::Cancelled,
            Error::Busy(_) => ErrorKind::Busy,
            Error::Train(_) | Error::Eval(_) | Error::Failure(_) | Error::CheckFailed(_) => ErrorKind::Internal,
        }
    }
}

/// A file's name without its folders (the whole path when it has no name), as reports name
/// files: a report carries no path of the machine that wrote it.
pub fn file_name(path: &std::path::Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// Reads a whole file.
pub fn read(path: &std::path::Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::Read { path: path.to_path_buf(), source })
}

/// Writes a whole file.
pub fn write(path: &std::path::Path, bytes: &[u8]) -> Result<(), Error> {
    std::fs::write(path, bytes).map_err(|source| Error::Write { path: path.to_path_buf(), source })
}

/// Creates a folder and its parents.
pub fn create_dir(path: &std::path::Path) -> Result<(), Error> {
    std::fs::create_dir_all(path).map_err(|source| Error::Write { path: path.to_path_buf(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_exit_code_and_none_is_success() {
        let codes: std::collections::BTreeSet<u8> = ErrorKind::ALL.iter().map(|k| k.exit_code()).collect();
        assert_eq!(codes.len(), ErrorKind::ALL.len());
        assert!(!codes.contains(&0));
        for k in ErrorKind::ALL {
            assert_eq!(serde_json::to_value(k).unwrap(), k.name());
        }
    }

    #[test]
    fn a_missing_file_is_not_found_and_an_oversized_member_too_large() {
        let missing = Error::Read { path: "x.npz".into(), source: std::io::Error::from(std::io::ErrorKind::NotFound) };
        assert_eq!(missing.kind(), ErrorKind::NotFound);
        let big = Error::Data {
            path: "x.npz".into(),
            source: breastmnist_data::DataError::TooLarge { member: "train_images".into(), size: 9, limit: 1 },
        };
        assert_eq!(big.kind(), ErrorKind::TooLarge);
        assert_eq!(Error::Cancelled { kept: vec!["best.ckpt".into()] }.to_string(), "cancelled; kept best.ckpt");
    }
}

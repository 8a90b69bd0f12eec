//! `audit`: near-duplicate images within and across a file's splits
//! (`breastmnist_data::audit`), with the file's name and MD5.

use breastmnist_data::DecodeOptions;
use breastmnist_data::audit::{Audit, audit as run_audit};
use serde::Serialize;

use crate::error::Error;
use crate::event::{EVENTS_VERSION, Event, Sink};
use crate::source::DataSpec;

/// The audit of one file.
#[derive(Clone, Debug, Serialize)]
pub struct Audited {
    pub file: String,
    pub md5: String,
    pub audit: Audit,
    /// Images in train, val and test.
    #[serde(skip)]
    pub splits: [usize; 3],
}

/// Audits `spec` at `threshold` (a pixel correlation in (0, 1)).
pub fn audit(spec: &DataSpec, threshold: f64, sink: &mut dyn Sink) -> Result<Audited, Error> {
    if !(threshold > 0.0 && threshold < 1.0) {
        return Err(Error::Usage(format!("--threshold must be between 0 and 1 (got {threshold})")));
    }
    // A file the catalog does not know: any split sizes in BreastMNIST's layout, the audit being
    // about the file.
    let opened = spec.open(Some(&DecodeOptions { split_sizes: None, ..DecodeOptions::default() }))?;
    let info = opened.info();
    sink.emit(Event::Started {
        version: EVENTS_VERSION,
        command: "audit".into(),
        data: Some(info.clone()),
        detail: format!("pixel correlation above {threshold}"),
    });
    let report = run_audit(&opened.data, threshold).map_err(|e| Error::Limit(format!("{}: {e}", opened.path.display())))?;
    let file = opened.path.file_name().unwrap_or_default().to_string_lossy().into_owned();
    Ok(Audited { file, md5: opened.md5, audit: report, splits: info.splits })
}

//! `breastmnist audit`: the data audit of a dataset file (`breastmnist_data::audit`) as JSON on
//! stdout, with a summary on stderr.

use breastmnist_data::DecodeOptions;
use breastmnist_data::Split;
use breastmnist_data::audit::{TWIN_THRESHOLD, audit};
use clap::Args;

use crate::CliError;
use crate::catalog::DataArgs;

#[derive(Args, Debug)]
pub struct AuditArgs {
    /// The data: BreastMNIST or any MedMNIST 2D dataset (multi-label twins are counted, their
    /// labels not compared).
    #[command(flatten)]
    data: DataArgs,
    /// Two images whose pixel correlation exceeds this are twins.
    #[arg(long, default_value_t = TWIN_THRESHOLD)]
    threshold: f64,
}

pub(crate) fn cmd_audit(a: AuditArgs) -> Result<(), CliError> {
    if !(a.threshold > 0.0 && a.threshold < 1.0) {
        return Err(CliError::Usage(format!("--threshold must be between 0 and 1 (got {})", a.threshold)));
    }
    // A file the catalog does not know: any split sizes in BreastMNIST's layout, the audit being
    // about the file.
    let (path, opened) = a.data.open(Some(&DecodeOptions { split_sizes: None, ..DecodeOptions::default() }))?;
    let data = opened.data;
    let report = audit(&data, a.threshold).map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?;
    let file = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
    let doc = serde_json::json!({ "file": file, "md5": opened.md5, "audit": report });
    println!("{}", serde_json::to_string_pretty(&doc).map_err(|e| CliError::Usage(e.to_string()))?);
    for p in &report.splits {
        eprintln!(
            "{:<5} – {:<5}: {:>4} of {:>6} images with a twin, {:>5} pairs, {} with different labels, {} identical",
            p.first.key(),
            p.second.key(),
            p.images,
            data.split(p.first).len(),
            p.pairs,
            p.conflicts,
            p.identical
        );
    }
    eprintln!(
        "de-duplicated test subset: {} of {} test images (no training image correlates above {})",
        report.deduplicated_test.len(),
        data.split(Split::Test).len(),
        a.threshold
    );
    Ok(())
}

//! `breastmnist audit`: the data audit of a dataset file (`breastmnist_ops::audit`) as JSON on
//! stdout (inside the `done` event with `--json`), with a summary on stderr.

use breastmnist_data::Split;
use breastmnist_data::audit::TWIN_THRESHOLD;
use clap::Args;

use crate::CliError;
use crate::catalog::DataArgs;
use crate::printer::Printer;

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

pub(crate) fn cmd_audit(a: AuditArgs, printer: &mut Printer) -> Result<(), CliError> {
    let done = breastmnist_ops::audit::audit(&a.data.spec(), a.threshold, printer)?;
    let doc = serde_json::to_value(&done).unwrap_or_default();
    for p in &done.audit.splits {
        let index = Split::ALL.iter().position(|&s| s == p.first).unwrap_or(0);
        eprintln!(
            "{:<5} – {:<5}: {:>4} of {:>6} images with a twin, {:>5} pairs, {} with different labels, {} identical",
            p.first.key(),
            p.second.key(),
            p.images,
            done.splits[index],
            p.pairs,
            p.conflicts,
            p.identical
        );
    }
    eprintln!(
        "de-duplicated test subset: {} of {} test images (no training image correlates above {})",
        done.audit.deduplicated_test.len(),
        done.splits[2],
        a.threshold
    );
    let pretty = serde_json::to_string_pretty(&doc).unwrap_or_default();
    printer.done("audit", doc, Vec::new(), || println!("{pretty}"));
    Ok(())
}

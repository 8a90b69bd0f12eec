//! `breastmnist bench` and `check`: the flags become the operations layer's requests, and this
//! file prints the records as the tables and lines below (or `--json` prints events). `bench`
//! times a backend either way; `check` is the gate that fails.

use breastmnist_core::model::{ConvAlgo, ModelSize};
use breastmnist_ops::bench::{
    BackendCheck, BenchRequest, Benched, CHECK_STEPS, CheckRequest, Checked, ConvAgreement, bench, check,
};
use breastmnist_ops::{Backend, Cancel, Error};

use crate::lab::list;
use crate::printer::Printer;

#[derive(clap::Args, Debug)]
pub(crate) struct BenchArgs {
    /// Comma-separated model names.
    #[arg(long, default_value = "tiny,small,medium,resnet18,c8,c16,c32")]
    models: String,
    /// Timed steps per measurement (after one warm-up step).
    #[arg(long, default_value_t = 3)]
    steps: usize,
    /// Batch sizes to time.
    #[arg(long, default_value = "32,128")]
    batches: String,
    /// Convolution algorithms to time side by side (direct, gemm); `gemm` is checked against
    /// `direct` on each device first and its worst difference printed.
    #[arg(long, default_value = "direct,gemm")]
    conv: String,
    /// A reference time in ms per step (e.g. PyTorch's on the same machine) to print ratios to.
    #[arg(long, value_name = "MS")]
    reference_ms: Option<f64>,
    /// Comma-separated backends to time; each GPU one must start [flex and every GPU backend
    /// compiled in that starts].
    #[arg(long, value_delimiter = ',')]
    backends: Vec<Backend>,
}

/// Convolution algorithms by name (`Error::Name` says which ones exist).
fn algos(s: &str) -> Result<Vec<ConvAlgo>, Error> {
    s.split(',').map(|s| s.trim().parse::<ConvAlgo>().map_err(Error::Name)).collect()
}

pub(crate) fn cmd_bench(a: BenchArgs, printer: &mut Printer, cancel: &Cancel) -> Result<(), Error> {
    let req = BenchRequest {
        models: list::<ModelSize>("model", &a.models)?,
        steps: a.steps,
        batches: list::<usize>("batch size", &a.batches)?,
        conv: algos(&a.conv)?,
        reference_ms: a.reference_ms,
        backends: a.backends,
    };
    let b = bench(&req, printer, cancel)?;
    printer.done("bench", serde_json::to_value(&b).unwrap_or_default(), Vec::new(), || print_bench(&b));
    Ok(())
}

fn print_bench(b: &Benched) {
    for line in &b.skipped {
        println!("{line}");
    }
    for c in &b.backend_checks {
        println!("{}: {}", c.backend, b.tuning);
        println!("{}", check_line(c));
    }
    println!(
        "train-step time (forward + backward + Adam), 28 px, {} timed steps after 1 warm-up; {} CPU threads",
        b.steps, b.threads
    );
    for (backend, preferred) in &b.preferred {
        if let Some(c) = b.conv_checks.iter().find(|c| c.backend == *backend) {
            println!("{}", conv_check_line(c));
        }
        println!("{backend}: preferred convolution {preferred}");
    }
    let reference = b.reference_ms.map_or(String::new(), |r| format!(" {:>9}", format!("x{r}ms")));
    println!(
        "{:<9} {:<7} {:<6} {:>12} {:>6} {:>10} {:>13} {:>9}{reference}",
        "model", "backend", "conv", "params", "batch", "ms/step", "s/epoch(546)", "vs direct"
    );
    for r in &b.rows {
        let ratio = r.vs_direct.map_or("–".to_string(), |d| format!("{d:.2}x"));
        let vs_ref = r.vs_reference.map_or(String::new(), |v| format!(" {v:>9.2}"));
        println!(
            "{:<9} {:<7} {:<6} {:>12} {:>6} {:>10.1} {:>13.1} {:>9}{vs_ref}",
            r.model, r.backend, r.conv, r.params, r.batch, r.ms_per_step, r.s_per_epoch, ratio
        );
    }
}

#[derive(clap::Args, Debug)]
pub(crate) struct CheckArgs {
    /// The backend to check against flex.
    #[arg(long)]
    backend: Backend,
    /// Comma-separated model names, each trained on the fixed batch.
    #[arg(long, default_value = "tiny,c8")]
    models: String,
    /// Adam steps on the fixed batch.
    #[arg(long, default_value_t = CHECK_STEPS)]
    steps: usize,
    /// Convolution algorithms to train with (direct, gemm); both sides use the same one.
    #[arg(long, default_value = "direct,gemm")]
    conv: String,
}

/// Checks `--backend` against flex; prints every check, and fails when any does not pass.
pub(crate) fn cmd_check(a: CheckArgs, printer: &mut Printer, cancel: &Cancel) -> Result<(), Error> {
    let req = CheckRequest { backend: a.backend, models: list("model", &a.models)?, steps: a.steps, conv: algos(&a.conv)? };
    let c = check(&req, printer, cancel)?;
    match c.verdict() {
        Ok(()) => printer.done("check", serde_json::to_value(&c).unwrap_or_default(), Vec::new(), || print_check(&c)),
        // A failed check is the command's error; the text still shows every line first.
        Err(e) => {
            if !printer.is_json() {
                print_check(&c);
            }
            return Err(e);
        }
    }
    Ok(())
}

fn print_check(c: &Checked) {
    if let Some(t) = c.tuning {
        println!("{}: {t}", c.backend);
    }
    if let Some(cc) = &c.conv_check {
        println!("{}", conv_check_line(cc));
    }
    for line in &c.checks {
        println!("{}", check_line(line));
    }
}

/// `gemm` against `direct` on a device as a line.
fn conv_check_line(c: &ConvAgreement) -> String {
    format!(
        "{}: gemm vs direct, worst relative difference: forward {:.1e}, input grad {:.1e}, weight grad {:.1e} ({})",
        c.backend,
        c.check.forward,
        c.check.input_grad,
        c.check.weight_grad,
        if c.passed { "pass" } else { "FAIL" }
    )
}

/// A device check as a line: the two differences, the last losses, pass or FAIL.
fn check_line(c: &BackendCheck) -> String {
    let last = |v: Option<f32>| v.map_or("–".to_string(), |l| format!("{l:.5}"));
    format!(
        "{} vs flex, {}{}, {} Adam steps on a fixed batch: loss {:.1e}, first logits {:.1e} (final loss {} vs {}) ({})",
        c.backend,
        c.model,
        c.conv.map_or(String::new(), |a| format!(" ({a})")),
        c.steps,
        c.loss,
        c.logits,
        last(c.final_loss_device),
        last(c.final_loss_flex),
        if c.passed { "pass" } else { "FAIL" }
    )
}

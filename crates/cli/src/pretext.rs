//! `breastmnist ssl`: the flags become an [`SslRequest`], the operations layer pretrains the
//! encoder, and this file prints where it went (or `--json` prints events).

use std::path::PathBuf;

use breastmnist_core::model::ModelSize;
use breastmnist_core::pretext::Task;
use breastmnist_data::{Flag, Size};
use breastmnist_ops::pretext::{SslRequest, ssl};
use breastmnist_ops::{Backend, Cancel, DataSource, DataSpec, Error};

use crate::printer::Printer;

#[derive(clap::Args, Debug)]
pub struct SslArgs {
    /// The data whose training images join the pool (labels unused): BreastMNIST's .npz, or any
    /// MedMNIST file, identified by its MD5 (an RGB one is read in grayscale).
    #[arg(long, conflicts_with = "dataset", required_unless_present = "dataset")]
    data: Option<PathBuf>,
    /// An official dataset by its flag instead (e.g. retinamnist), found in the data folders.
    #[arg(long, value_name = "FLAG")]
    dataset: Option<Flag>,
    /// With --dataset: the image size, 28, 64, 128 or 224 [28].
    #[arg(long, value_name = "N", requires = "dataset")]
    size: Option<Size>,
    /// contrastive (SimCLR, NT-Xent) or masked (masked-image reconstruction).
    #[arg(long, default_value = "contrastive")]
    task: String,
    /// Other MedMNIST files whose every image joins the pool, in grayscale (comma-separated,
    /// e.g. pneumoniamnist.npz,retinamnist.npz).
    #[arg(long, value_delimiter = ',', value_name = "NPZ")]
    extra: Vec<PathBuf>,
    /// The encoder: tiny, small, medium, resnet18, resnet50, c8, c16, c32 or lite0.
    #[arg(long, default_value = "c16")]
    model: String,
    #[arg(long, default_value_t = 10)]
    epochs: usize,
    #[arg(long, default_value_t = 128)]
    batch: usize,
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Where encoder.ckpt and pretext.json go.
    #[arg(long)]
    out: PathBuf,
    #[arg(long, default_value = "flex")]
    backend: Backend,
}

impl SslArgs {
    fn request(&self) -> Result<SslRequest, Error> {
        Ok(SslRequest {
            data: match (&self.data, self.dataset) {
                (Some(path), _) => DataSpec::file(path),
                (None, Some(flag)) => DataSpec {
                    source: DataSource::Catalog { flag, size: self.size.unwrap_or(Size::Px28), dirs: Vec::new() },
                    task: None,
                    classes: None,
                },
                (None, None) => return Err(Error::Usage("name the data with --data FILE or --dataset FLAG".into())),
            },
            task: self.task.parse::<Task>().map_err(Error::Name)?,
            model: self.model.parse::<ModelSize>()?,
            extra: self.extra.clone(),
            epochs: self.epochs,
            batch: self.batch,
            lr: self.lr,
            seed: self.seed,
            out: self.out.clone(),
            backend: self.backend,
        })
    }
}

pub fn cmd_ssl(a: SslArgs, printer: &mut Printer, cancel: &Cancel) -> Result<(), Error> {
    let done = ssl(&a.request()?, printer, cancel)?;
    printer.done("ssl", done.json(), done.files.clone(), || {
        let r = &done.report;
        println!(
            "{} loss {:.4} -> {:.4} in {:.0} s; wrote {}/{{encoder.ckpt, pretext.json}}",
            r.config.task,
            r.history.first().map_or(f64::NAN, |e| e.loss),
            r.history.last().map_or(f64::NAN, |e| e.loss),
            r.seconds,
            done.out.display()
        );
        if done.report.sources.first().is_some_and(|s| s.channels == 3) {
            println!(
                "the encoder is grayscale: fine-tune it on grayscale data (breastmnist train --data FILE --init {}/encoder.ckpt)",
                done.out.display()
            );
        } else {
            println!(
                "fine-tune: breastmnist train --data {} --init {}/encoder.ckpt [--linear-probe]",
                done.data.display(),
                done.out.display()
            );
        }
    });
    Ok(())
}

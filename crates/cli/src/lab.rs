//! `breastmnist lab`: the flags become a [`LabRequest`], the operations layer runs the methods
//! side by side, and this file prints the summary table (or `--json` prints events).

use std::path::PathBuf;

use breastmnist_core::lab::Method;
use breastmnist_core::model::ModelSize;
use breastmnist_core::train::Preset;
use breastmnist_ops::lab::{LabRequest, Labbed, lab};
use breastmnist_ops::{Cancel, Error};

use crate::catalog::DataArgs;
use crate::printer::Printer;

#[derive(clap::Args, Debug)]
pub(crate) struct LabArgs {
    #[command(flatten)]
    data: DataArgs,
    /// The base recipe: paper, reader or best.
    #[arg(long, default_value = "reader")]
    preset: String,
    /// Comma-separated models.
    #[arg(long, default_value = "c8,c16")]
    models: String,
    /// Comma-separated seeds.
    #[arg(long, default_value = "0,1,2")]
    seeds: String,
    /// Comma-separated methods (base, no-tta, best-val-auc, ema-last, curriculum-easy,
    /// curriculum-hard, curriculum-random, transfer, contrastive, contrastive-probe, masked,
    /// masked-probe, ensemble, imagenet, imagenet-probe, prototypes, gan-aug, mixup) [all but
    /// prototypes, gan-aug and mixup; transfer needs --pretrain-data, the imagenet methods --imagenet
    /// and the lite0 model, prototypes a plain CNN (c8, c16, c32), gan-aug 28 px gray images].
    #[arg(long)]
    methods: Option<String>,
    /// Override the base recipe's epochs.
    #[arg(long)]
    epochs: Option<usize>,
    /// Train on the first N training images.
    #[arg(long)]
    subset: Option<usize>,
    /// Another binary MedMNIST file for the `transfer` method (e.g. pneumoniamnist.npz).
    #[arg(long, value_name = "NPZ")]
    pretrain_data: Option<PathBuf>,
    /// Epochs of the transfer method's pretraining (seed 0, the base recipe otherwise).
    #[arg(long, default_value_t = 10)]
    pretrain_epochs: usize,
    /// Other MedMNIST files whose every image joins the self-supervised methods' unlabeled
    /// pool (beside the data's training images), e.g. pneumoniamnist.npz,retinamnist.npz.
    #[arg(long, value_delimiter = ',', value_name = "NPZ")]
    ssl_extra: Vec<PathBuf>,
    /// Epochs of each self-supervised pretraining (seed 0, batch 128, one per model and task).
    #[arg(long, default_value_t = 10)]
    ssl_epochs: usize,
    /// Where to write the report.
    #[arg(long, default_value = "lab.json")]
    out: PathBuf,
    /// Also keep the pretrained starting points here, as MODEL-pneumonia.ckpt,
    /// MODEL-contrastive.ckpt and MODEL-masked.ckpt (what the page serves).
    #[arg(long, value_name = "DIR")]
    save_pretrained: Option<PathBuf>,
    /// EfficientNet-Lite0's ImageNet weights (`cargo xtask imagenet` puts them in
    /// target/imagenet/efficientnet-lite0-57934424.pth), for the imagenet methods on lite0.
    #[arg(long, value_name = "PTH")]
    imagenet: Option<PathBuf>,
    /// Every run sees the images resized to this side (e.g. 128 on the 64 px file).
    #[arg(long, value_name = "PX")]
    resize: Option<usize>,
    /// gan-aug: the GAN's epochs (each seed trains its own, on the training images only).
    #[arg(long, value_name = "N", default_value_t = breastmnist_ops::gan::GAN_EPOCHS)]
    gan_epochs: usize,
    /// gan-aug: generated images added per real training image, class by class.
    #[arg(long, value_name = "R", default_value_t = breastmnist_ops::gan::GAN_RATIO)]
    gan_ratio: f64,
    /// gan-aug: the encoder whose features the per-epoch Fréchet distance compares (e.g. the
    /// served assets/pretrained/c16-contrastive.ckpt) [a SimCLR encoder this lab pretrains, or none].
    #[arg(long, value_name = "CKPT")]
    fid_encoder: Option<PathBuf>,
    /// Earlier lab reports of the same data file (comma-separated): a run one holds with its
    /// scores (same model, method, recipe and seed) is taken instead of trained again, and
    /// compared with this lab's rows over the same images. Not for transfer, the
    /// self-supervised methods, gan-aug or an ensemble's base models.
    #[arg(long, value_delimiter = ',', value_name = "JSON")]
    reuse: Vec<PathBuf>,
}

/// A comma-separated list of names or numbers.
pub(crate) fn list<T: std::str::FromStr>(what: &str, s: &str) -> Result<Vec<T>, Error>
where
    T::Err: std::fmt::Display,
{
    s.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| p.trim().parse::<T>().map_err(|e| Error::Arg(format!("bad {what} '{p}': {e}"))))
        .collect()
}

impl LabArgs {
    fn request(&self) -> Result<LabRequest, Error> {
        Ok(LabRequest {
            data: self.data.spec(),
            preset: self.preset.parse::<Preset>().map_err(Error::Name)?,
            models: list::<ModelSize>("model", &self.models)?,
            seeds: list("seed", &self.seeds)?,
            methods: self.methods.as_deref().map(|m| list::<Method>("method", m)).transpose()?,
            epochs: self.epochs,
            subset: self.subset,
            pretrain_data: self.pretrain_data.clone(),
            pretrain_epochs: self.pretrain_epochs,
            ssl_extra: self.ssl_extra.clone(),
            ssl_epochs: self.ssl_epochs,
            out: self.out.clone(),
            save_pretrained: self.save_pretrained.clone(),
            imagenet: self.imagenet.clone(),
            resize: self.resize,
            gan_epochs: self.gan_epochs,
            gan_ratio: self.gan_ratio,
            fid_encoder: self.fid_encoder.clone(),
            reuse: self.reuse.clone(),
        })
    }
}

pub(crate) fn cmd_lab(a: LabArgs, printer: &mut Printer, cancel: &Cancel) -> Result<(), Error> {
    let done = lab(&a.request()?, printer, cancel)?;
    printer.done("lab", done.json(), done.files.clone(), || print_lab(&done, &a.out));
    Ok(())
}

fn print_lab(done: &Labbed, out: &std::path::Path) {
    let report = &done.report;
    println!(
        "{:<6} {:<18} {:>16} {:>16} {:>16}  {:<14}  test AUC vs base [95%]",
        "model", "method", "val AUC", "test AUC", "test ACC", "test AUC [95%]"
    );
    for r in &report.rows {
        let vs = r.versus_base.map_or(String::new(), |v| {
            format!("{:+.3} [{:+.3}, {:+.3}] {}", v.test.delta, v.test.ci.lo, v.test.ci.hi, v.test.verdict())
        });
        let ci = r.test_auc_ci.map_or(String::new(), |c| format!("[{:.3}, {:.3}]", c.lo, c.hi));
        println!(
            "{:<6} {:<18} {:>8.3} ± {:.3} {:>8.3} ± {:.3} {:>8.3} ± {:.3}  {ci:<14}  {vs}",
            r.model,
            r.method.name(),
            r.val_auc.mean,
            r.val_auc.sd,
            r.test_auc.mean,
            r.test_auc.sd,
            r.test_acc.mean,
            r.test_acc.sd
        );
    }
    for (model, reasons) in &done.defaults {
        println!("{model} defaults, from validation only: {}", reasons.join("; "));
    }
    println!("({} seeds; {:.0} s in all) wrote {}", report.seeds.len(), report.total_seconds, out.display());
}

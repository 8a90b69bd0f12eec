//! `breastmnist lab`: training methods side by side on a base recipe, several seeds and models,
//! summarised as JSON (what the article's methods table renders).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use breastmnist_core::Device;
use breastmnist_core::checkpoint::{self, Checkpoint};
use breastmnist_core::model::ModelSize;
use breastmnist_core::train::{self, Preset, TrainConfig, Trainer};
use breastmnist_data::DecodeOptions;
use futures_lite::future::block_on;

use crate::evaluate::ensemble_metrics;
use crate::{CliError, load_data, load_data_with, pretext, read, write};

#[derive(clap::Args, Debug)]
pub(crate) struct LabArgs {
    #[arg(long)]
    data: PathBuf,
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
    /// masked-probe, ensemble) [all; transfer needs --pretrain-data].
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
    /// pool (beside BreastMNIST's training images), e.g. pneumoniamnist.npz,retinamnist.npz.
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
}

pub(crate) fn list<T: std::str::FromStr>(what: &str, s: &str) -> Result<Vec<T>, CliError>
where
    T::Err: std::fmt::Display,
{
    s.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| p.trim().parse::<T>().map_err(|e| CliError::Arg(format!("bad {what} '{p}': {e}"))))
        .collect()
}

/// Trains `config` to the end (fresh, or from `init`), returning the run, its kept model and
/// the seconds it took.
pub(crate) fn run_once(
    config: TrainConfig,
    data: &Arc<breastmnist_data::Dataset>,
    init: Option<&Checkpoint>,
    device: &Device,
) -> Result<(train::RunResult, breastmnist_core::Network, f64), CliError> {
    let started = Instant::now();
    let mut trainer = match init {
        Some(ckpt) => Trainer::from_checkpoint(config, data.clone(), ckpt, device)?,
        None => Trainer::new(config, data.clone(), device)?,
    };
    let result = block_on(train::run_to_end(&mut trainer, |_| {}))?.map_err(CliError::Failure)?;
    let model = trainer.best_model().map(|(_, m)| m.clone()).ok_or(train::TrainError::NoModel)?;
    Ok((result, model, started.elapsed().as_secs_f64()))
}

/// Writes a pretrained starting point into `dir`, if one was given.
pub(crate) fn save_pretrained(dir: Option<&Path>, name: &str, bytes: &[u8]) -> Result<(), CliError> {
    let Some(dir) = dir else { return Ok(()) };
    std::fs::create_dir_all(dir).map_err(|source| CliError::Write { path: dir.to_path_buf(), source })?;
    write(&dir.join(name), bytes)?;
    eprintln!("kept {}", dir.join(name).display());
    Ok(())
}

pub(crate) fn cmd_lab(a: LabArgs) -> Result<(), CliError> {
    use breastmnist_core::lab::{LabReport, LabRow, LabRun, Labels, Method, compare_to_base};
    use breastmnist_core::pretext::{Pool, PretextConfig, Task};
    let preset: Preset = a.preset.parse().map_err(CliError::Name)?;
    let models: Vec<ModelSize> = list("model", &a.models)?;
    let seeds: Vec<u64> = list("seed", &a.seeds)?;
    let mut methods: Vec<Method> = match &a.methods {
        Some(m) => list("method", m)?,
        None => Method::ALL.into_iter().filter(|&m| m != Method::Transfer || a.pretrain_data.is_some()).collect(),
    };
    methods.dedup();
    if methods.contains(&Method::Transfer) && a.pretrain_data.is_none() {
        return Err(CliError::Usage("the transfer method needs --pretrain-data NPZ".into()));
    }
    if models.is_empty() || seeds.is_empty() || methods.is_empty() {
        return Err(CliError::Usage("--models, --seeds and --methods must each name at least one".into()));
    }
    let data = Arc::new(load_data(&a.data)?);
    let pretrain_data = match &a.pretrain_data {
        Some(p) => Some(Arc::new(load_data_with(p, &DecodeOptions { split_sizes: None, ..DecodeOptions::default() })?)),
        None => None,
    };
    let device = Device::flex();
    let started = Instant::now();
    let ssl_pool = Arc::new(if methods.iter().any(|m| m.pretext().is_some()) {
        pretext::pool(&a.data, &data, &a.ssl_extra)?
    } else {
        Pool::new(data.side)
    });
    let mut pretext_rows = Vec::new();
    let mut rows = Vec::new();
    for &model in &models {
        let mut base = preset.config().with_model(model).with_subset(a.subset);
        if let Some(e) = a.epochs {
            base.epochs = e;
        }
        base.validate(data.train.len())?;
        let mut base_models = Vec::new();
        let pretrained = match (&pretrain_data, methods.contains(&Method::Transfer)) {
            (Some(pd), true) => {
                let config = base.clone().with_epochs(a.pretrain_epochs).with_subset(None).with_seed(0);
                eprintln!(
                    "{model}: pretraining on {} ({} images, {} epochs)",
                    a.pretrain_data.as_deref().unwrap_or(Path::new("")).display(),
                    pd.train.len(),
                    config.epochs
                );
                let (_, net, secs) = run_once(config, pd, None, &device)?;
                eprintln!("{model}: pretrained in {secs:.0} s");
                let bytes = checkpoint::save(&net, &base.model_config(pd.side, pd.channels))
                    .map_err(|source| CliError::Checkpoint { path: PathBuf::from("(pretrained)"), source })?;
                save_pretrained(a.save_pretrained.as_deref(), &format!("{model}-pneumonia.ckpt"), &bytes)?;
                Some(
                    Checkpoint::from_bytes(&bytes)
                        .map_err(|source| CliError::Checkpoint { path: PathBuf::from("(pretrained)"), source })?,
                )
            }
            _ => None,
        };
        // One self-supervised pretraining per task the methods need (seed 0).
        let mut encoders = Vec::new();
        for task in Task::ALL.into_iter().filter(|&t| methods.iter().any(|m| m.pretext() == Some(t))) {
            let config = PretextConfig::new(task, model).with_epochs(a.ssl_epochs);
            let (bytes, row, _) = pretext::pretrain(config, ssl_pool.clone(), &device, &format!("{model} {task}"))?;
            save_pretrained(a.save_pretrained.as_deref(), &format!("{model}-{task}.ckpt"), &bytes)?;
            let ckpt = Checkpoint::from_bytes(&bytes)
                .map_err(|source| CliError::Checkpoint { path: PathBuf::from("(pretext encoder)"), source })?;
            encoders.push((task, ckpt));
            pretext_rows.push(row);
        }
        for &method in methods.iter().filter(|&&m| m != Method::Ensemble) {
            let mut runs = Vec::new();
            for &seed in &seeds {
                let config = method.config(&base).with_seed(seed);
                let init = match method.pretext() {
                    Some(task) => encoders.iter().find(|(t, _)| *t == task).map(|(_, c)| c),
                    None if method == Method::Transfer => pretrained.as_ref(),
                    None => None,
                };
                let (result, net, seconds) = run_once(config, &data, init, &device)?;
                eprintln!(
                    "{model} {method} seed {seed}: test AUC {:.4} ACC {:.4} ({seconds:.0} s)",
                    result.test.auc, result.test.acc
                );
                if method == Method::Base {
                    base_models.push(net);
                }
                runs.push(LabRun::of(seed, &result, seconds));
            }
            rows.push(LabRow::new(method, model.name(), method.config(&base).with_seed(seeds[0]), runs));
        }
        if methods.contains(&Method::Ensemble) {
            if base_models.is_empty() {
                // The ensemble combines the base recipe's models: train them if `base` was not asked for.
                for &seed in &seeds {
                    base_models.push(run_once(base.clone().with_seed(seed), &data, None, &device)?.1);
                }
            }
            let t = Instant::now();
            let (val, val_predictions, test) = ensemble_metrics(&base_models, &data, &device, base.tta)?;
            eprintln!("{model} ensemble of {}: test AUC {:.4} ACC {:.4}", base_models.len(), test.auc, test.acc);
            let run = LabRun::from_parts(base_models.len() as u64, &val, &val_predictions, &test, t.elapsed().as_secs_f64());
            rows.push(LabRow::new(Method::Ensemble, model.name(), base.clone().with_seed(seeds[0]), vec![run]));
        }
    }
    // Each row against its model's base row, paired over the same images (validation, test,
    // and the test images without a training twin).
    let dedup = breastmnist_data::audit::deduplicated_test(&data, breastmnist_data::audit::TWIN_THRESHOLD);
    let labels = Labels { val: &data.val.labels, test: &data.test.labels, dedup_test: &dedup };
    compare_to_base(&mut rows, &labels);
    let pretrain = match a.pretrain_data.as_ref().filter(|_| methods.contains(&Method::Transfer)) {
        // The file by name and MD5: a report carries no path of the machine that wrote it.
        Some(p) => Some(format!(
            "{} (MD5 {})",
            p.file_name().unwrap_or_default().to_string_lossy(),
            breastmnist_data::md5_hex(&read(p)?)
        )),
        None => None,
    };
    let report = LabReport {
        schema_version: breastmnist_core::export::SCHEMA_VERSION,
        kind: "lab".into(),
        base: preset.name().into(),
        seeds: seeds.clone(),
        pretrain,
        pretext: pretext_rows,
        rows,
        total_seconds: started.elapsed().as_secs_f64(),
        note: "156 test images (42 malignant): one run's test AUC has a 95% interval of about ±0.06; a difference is \
               called better or worse only when its paired bootstrap interval over the images excludes zero"
            .into(),
    };
    write(&a.out, report.to_json().as_bytes())?;
    println!("{:<6} {:<18} {:>16} {:>16} {:>16}  test AUC vs base [95%]", "model", "method", "val AUC", "test AUC", "test ACC");
    for r in &report.rows {
        let vs = r.versus_base.map_or(String::new(), |v| {
            format!("{:+.3} [{:+.3}, {:+.3}] {}", v.test.delta, v.test.ci.lo, v.test.ci.hi, v.test.verdict())
        });
        println!(
            "{:<6} {:<18} {:>8.3} ± {:.3} {:>8.3} ± {:.3} {:>8.3} ± {:.3}  {vs}",
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
    for (model, d) in models.iter().map(|m| (m.name(), breastmnist_core::lab::choose_defaults(&report, m.name()))) {
        println!("{model} defaults, from validation only: {}", d.reasons.join("; "));
    }
    println!("({} seeds; {:.0} s in all) wrote {}", seeds.len(), report.total_seconds, a.out.display());
    Ok(())
}

//! `breastmnist train` and `pretrain`: a preset and the flags over it become the core's
//! typed configuration (in [`TrainArgs::validate`], the one place), the core trains, and this
//! file prints progress and writes the run's files.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use breastmnist_core::RunResult;
use breastmnist_core::batch::Augmentation;
use breastmnist_core::checkpoint::Checkpoint;
use breastmnist_core::export::{MetricsFile, predictions_csv, task_predictions_csv};
use breastmnist_core::model::conv_check::{settle, should_race};
use breastmnist_core::model::{ConvAlgo, ModelSize, Resample, Stem};
use breastmnist_core::result_file;
use breastmnist_core::train::{self, Curriculum, InitFile, Order, Preset, Schedule, Selection, TrainConfig, TrainEvent, Trainer};
use breastmnist_data::{DecodeOptions, Flag};
use futures_lite::future::block_on;
use indicatif::{ProgressBar, ProgressStyle};

use crate::catalog::{DataArgs, print_task};
use crate::{BackendArg, CliError, certainty, device, read, write, write_result_files};

/// `breastmnist train`: a preset (default `paper`, MedMNIST's official recipe) and flags that
/// override its values, whatever their order.
#[derive(clap::Args, Debug)]
pub(crate) struct TrainArgs {
    /// The data: BreastMNIST (28 or 64 px) or any MedMNIST 2D dataset.
    #[command(flatten)]
    data: DataArgs,
    /// Start from a named recipe: paper (ResNet-18, 100 epochs, best validation AUC), reader
    /// (c16 from the served SimCLR encoder, 20 epochs, flips, last epoch, flip TTA) or best
    /// (c16, 60 epochs, EMA, flip TTA).
    #[arg(long, default_value = "paper")]
    preset: String,
    /// tiny, small, medium, resnet18, c8, c16 or c32 [preset's].
    #[arg(long)]
    model: Option<String>,
    #[arg(long)]
    epochs: Option<usize>,
    #[arg(long)]
    batch: Option<usize>,
    #[arg(long)]
    lr: Option<f64>,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output folder (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Train on the first N training images.
    #[arg(long)]
    subset: Option<usize>,
    /// none, flip, or full (flips, rotations and shifts); `--augment` alone means full.
    #[arg(long, value_name = "MODE", num_args = 0..=1, default_missing_value = "full")]
    augment: Option<String>,
    /// Mixup with Beta(A, A).
    #[arg(long, value_name = "A")]
    mixup: Option<f64>,
    #[arg(long)]
    weight_decay: Option<f64>,
    /// Cosine learning-rate schedule instead of the multi-step one.
    #[arg(long)]
    cosine: bool,
    /// Which model to keep: best-val-auc, last or ema-last.
    #[arg(long, value_name = "RULE")]
    selection: Option<String>,
    /// Per-step decay of the weight average (with --selection ema-last).
    #[arg(long, value_name = "DECAY")]
    ema: Option<f64>,
    /// Flip test-time augmentation (true/false; the flag alone means true).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    tta: Option<bool>,
    /// Curriculum learning by each image's last loss: easy-first (curriculum), hard-first
    /// (anti-curriculum) or random (the control).
    #[arg(long, value_name = "ORDER")]
    curriculum: Option<String>,
    /// With --curriculum: the fraction of images used at epoch 2.
    #[arg(long, value_name = "F", default_value_t = 0.4)]
    curriculum_start: f64,
    /// With --curriculum: the epoch from which all images are used [half the epochs].
    #[arg(long, value_name = "K")]
    curriculum_full_at: Option<usize>,
    /// Resize inputs to N px inside the model.
    #[arg(long, value_name = "N")]
    resize: Option<usize>,
    /// With --resize: bilinear, or nearest (MedMNIST's 224 px rows) [bilinear].
    #[arg(long, value_name = "MODE")]
    resample: Option<String>,
    /// A ResNet's stem: medmnist (3x3, stride 1) or torchvision (7x7, stride 2, max-pool; with
    /// `--resize 224 --resample nearest`, MedMNIST's 224 px rows) [medmnist].
    #[arg(long, value_name = "STEM")]
    stem: Option<String>,
    /// Fine-tune from this checkpoint; `none` starts from fresh weights [the preset's starting
    /// point, if it has one, else fresh weights; the presets start from fresh weights].
    #[arg(long, value_name = "FILE|none")]
    init: Option<PathBuf>,
    /// Where a preset's starting point is looked up [assets/pretrained, the folder the page
    /// serves as pretrained/].
    #[arg(long, value_name = "DIR")]
    pretrained: Option<PathBuf>,
    /// With --init: train only the last stage and the classifier.
    #[arg(long)]
    freeze_backbone: bool,
    /// With --init: a linear probe, training only the classifier on the checkpoint's features.
    #[arg(long)]
    linear_probe: bool,
    /// The run name in the result files' names (`..._[ACC]0.897@NAME.csv`) [MODEL-seedSEED].
    #[arg(long, value_name = "NAME")]
    run: Option<String>,
    #[arg(long, value_enum, default_value = "flex")]
    backend: BackendArg,
    /// How convolutions run: direct (burn's kernel) or gemm (im2col + matmul, checked against
    /// direct on the device first) [the fastest verified one for the backend].
    #[arg(long, value_name = "ALGO")]
    conv: Option<String>,
}

impl TrainArgs {
    /// The one place raw arguments become the core's typed configuration: the preset's recipe
    /// with every given flag applied over it, and the checkpoint the run starts from (if any).
    fn recipe(&self) -> Result<(TrainConfig, Option<PathBuf>), CliError> {
        let preset: Preset = self.preset.parse().map_err(CliError::Name)?;
        let mut c = preset.config().with_seed(self.seed).with_subset(self.subset).with_resize(self.resize);
        c.freeze_backbone = self.freeze_backbone;
        c.linear_probe = self.linear_probe;
        if let Some(m) = &self.model {
            c.model = m.parse::<ModelSize>()?;
        }
        if let Some(v) = self.epochs {
            c.epochs = v;
        }
        if let Some(v) = self.batch {
            c.batch_size = v;
        }
        if let Some(v) = self.lr {
            c.optimizer.lr = v;
        }
        if let Some(a) = &self.augment {
            c.augment = a.parse::<Augmentation>().map_err(CliError::Arg)?;
        }
        if self.mixup.is_some() {
            c.mixup = self.mixup;
        }
        if let Some(v) = self.weight_decay {
            c.optimizer.weight_decay = v;
        }
        if self.cosine {
            c.optimizer.schedule = Schedule::Cosine;
        }
        if let Some(r) = &self.selection {
            c.selection = r.parse::<Selection>().map_err(CliError::Name)?;
        }
        if let Some(v) = self.ema {
            c.ema_decay = v;
        }
        if let Some(v) = self.tta {
            c.tta = v;
        }
        if let Some(v) = &self.resample {
            c.resample = v.parse::<Resample>().map_err(CliError::Name)?;
        }
        if let Some(v) = &self.stem {
            c.stem = v.parse::<Stem>().map_err(CliError::Name)?;
        }
        if let Some(v) = &self.conv {
            c.conv = Some(v.parse::<ConvAlgo>().map_err(CliError::Name)?);
        }
        if let Some(o) = &self.curriculum {
            let order: Order = o.parse().map_err(CliError::Name)?;
            let full_at = self.curriculum_full_at.unwrap_or((c.epochs / 2).max(2));
            c.curriculum = Some(Curriculum { order, start: self.curriculum_start, full_at });
        }
        let init = self.init(&c)?;
        let fresh = init.is_none();
        if self.freeze_backbone && fresh {
            return Err(CliError::Usage("--freeze-backbone needs --init CHECKPOINT".into()));
        }
        if self.linear_probe && fresh {
            return Err(CliError::Usage(
                "--linear-probe needs --init CHECKPOINT (e.g. the encoder.ckpt of `breastmnist ssl`)".into(),
            ));
        }
        Ok((c, init))
    }

    /// The checkpoint the run starts from: `--init FILE`; fresh weights with `--init none`;
    /// else the preset's starting point for the model (none of the presets has one today), in
    /// `--pretrained DIR` (default `assets/pretrained`), which must be there.
    fn init(&self, c: &TrainConfig) -> Result<Option<PathBuf>, CliError> {
        match &self.init {
            Some(path) if path.as_os_str() == "none" => Ok(None),
            Some(path) => Ok(Some(path.clone())),
            None => {
                let Some((preset, point)) = c.preset.and_then(|p| Some((p, p.starts_from()?))) else { return Ok(None) };
                let dir = self.pretrained.clone().unwrap_or_else(|| PathBuf::from("assets/pretrained"));
                let path = dir.join(point.file(c.model));
                if path.is_file() {
                    return Ok(Some(path));
                }
                Err(CliError::Usage(format!(
                    "the {preset} preset starts {} from the {} starting point {}, which is not there (run from the \
                     repository root, point --pretrained at the folder, or make it with `breastmnist lab \
                     --save-pretrained DIR`); or pass --init FILE, or --init none to train from fresh weights",
                    c.model,
                    point.name(),
                    path.display()
                )))
            }
        }
    }
}

/// Milliseconds since the first call (the race's clock).
fn clock_ms() -> f64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1e3
}

/// `train` and `pretrain`; `official` (BreastMNIST itself) adds the standard result files.
pub(crate) fn cmd_train(a: TrainArgs, options: &DecodeOptions, official: bool) -> Result<(), CliError> {
    // What needs no data file fails first, so typos and a missing starting point fail fast.
    let (mut config, init) = a.recipe()?;
    let (_, opened) = a.data.open(Some(options))?;
    // A file the catalog does not know, read in BreastMNIST's layout, is named as BreastMNIST.
    let (flag, labels) = (opened.flag, opened.labels());
    let task = opened.task;
    let data = Arc::new(opened.data);
    config.validate(data.train.len())?;
    let (device, env) = device(a.backend)?;
    let pinned = config.conv;
    let conv = block_on(settle(pinned, &device)).map_err(train::TrainError::from)?;
    if conv.fell_back {
        eprintln!("warning: gemm convolutions disagree with burn's kernel on this device ({:?}); using direct", conv.check);
    }
    config.conv = Some(conv.algo);
    std::fs::create_dir_all(&a.out).map_err(|source| CliError::Write { path: a.out.clone(), source })?;
    let mut trainer = match init {
        Some(path) => {
            let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
            let bytes = read(&path)?;
            let ckpt = Checkpoint::from_bytes(&bytes).map_err(|source| CliError::Checkpoint { path, source })?;
            config.init = Some(InitFile::of(name, &bytes));
            Trainer::from_checkpoint(config, data.clone(), &ckpt, &device)?
        }
        None => Trainer::new(config, data.clone(), &device)?,
    };
    if should_race(pinned, &conv) {
        trainer.race_conv(clock_ms);
    }
    let total = (trainer.config().epochs * trainer.steps_per_epoch()) as u64;
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} steps {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    eprintln!(
        "training {}{} ({}) on {} images ({} px), {} epochs × {} steps, keeping {}{}, backend {} ({} convolutions)",
        trainer.config().model,
        trainer.config().init.as_ref().map_or(String::new(), |i| format!(" from {}", i.name)),
        trainer.config().preset.map_or("custom recipe".to_string(), |p| format!("preset {p}")),
        trainer.config().subset.unwrap_or(data.train.len()),
        data.side,
        trainer.config().epochs,
        trainer.steps_per_epoch(),
        trainer.config().selection,
        if trainer.config().tta { ", flip TTA" } else { "" },
        env.backend,
        if should_race(pinned, &conv) { "direct and gemm racing".to_string() } else { format!("{}", conv.algo) }
    );
    let outcome = block_on(train::run_to_end(&mut trainer, |ev| match ev {
        TrainEvent::Step { epoch, loss, lr, .. } => {
            bar.inc(1);
            bar.set_message(format!("epoch {epoch} loss {loss:.4} lr {lr:.1e}"));
        }
        TrainEvent::Epoch(m) => say(
            &bar,
            format!(
                "epoch {:>3}  train loss {:.4} acc {:.3} | val loss {:.4} acc {:.3} auc {:.4}{}",
                m.epoch,
                m.train_loss,
                m.train_acc,
                m.val_loss,
                m.val_acc,
                m.val_auc,
                if m.is_best { "  *kept" } else { "" }
            ),
        ),
        _ => {}
    }))?;
    bar.finish_and_clear();
    // Keep the best model even when the run stopped early.
    if let Some(bytes) = block_on(trainer.best_checkpoint())? {
        write(&a.out.join("best.ckpt"), &bytes)?;
    }
    let mut result = outcome.map_err(CliError::Failure)?;
    result.task = result.task.map(|t| t.named(task));
    let conv = trainer.conv_outcome(conv);
    if let Some(t) = conv.race {
        eprintln!("convolutions: {} won the race ({:.1} ms direct, {:.1} ms gemm per step)", conv.algo, t.direct_ms, t.gemm_ms);
    }
    let file = MetricsFile::new(&result, env.with_conv(conv)).with_dataset(&result, flag, &labels);
    write(&a.out.join("metrics.json"), file.to_json().as_bytes())?;
    if let Some(task) = &result.task {
        let csv = task_predictions_csv(&data.test.labels, data.test.width, &task.test_probabilities, task.classes);
        write(&a.out.join("predictions.csv"), csv.as_bytes())?;
        let name = flag.map_or("a custom dataset".to_string(), |f| f.entry().title.to_string());
        println!(
            "kept epoch {} (val AUC {:.4}, ACC {:.4})\ntest AUC {:.4}  ACC {:.4}  ({}, {} as MedMNIST's Evaluator scores it)",
            result.best_epoch,
            result.val.auc,
            result.val.acc,
            result.test.auc,
            result.test.acc,
            name,
            flag.map_or(task.task, |f| f.entry().task)
        );
        print_task(&task.test, Some(&labels));
        println!("wrote {}/{{metrics.json, predictions.csv, best.ckpt}}", a.out.display());
        return write_named_result_files(&a, official, flag, &result);
    }
    write(&a.out.join("predictions.csv"), predictions_csv(&result.test.predictions).as_bytes())?;
    let c = result.test.confusion;
    println!(
        "kept epoch {} (val AUC {:.4}, ACC {:.4})\ntest AUC {:.4}  ACC {:.4}  confusion [[tn {}, fp {}], [fn {}, tp {}]]",
        result.best_epoch,
        result.val.auc,
        result.val.acc,
        result.test.auc,
        result.test.acc,
        c.tn(),
        c.fp(),
        c.fn_(),
        c.tp()
    );
    // BreastMNIST's label 0 is malignant; another set's is named by the catalog, or by its index.
    let class0 = (flag != Some(Flag::Breast)).then(|| labels.first().copied().unwrap_or("0"));
    println!("{}", certainty(&result.test, class0));
    println!("wrote {}/{{metrics.json, predictions.csv, best.ckpt}}", a.out.display());
    write_named_result_files(&a, official, flag, &result)
}

/// MedMNIST's result files of `train` (`official`) under the dataset's flag; none for a custom
/// dataset (no flag for the Evaluator to read).
fn write_named_result_files(a: &TrainArgs, official: bool, flag: Option<Flag>, result: &RunResult) -> Result<(), CliError> {
    match (official, flag) {
        (true, Some(flag)) => {
            let run = a.run.clone().unwrap_or_else(|| result_file::run_name(result));
            write_result_files(&a.out, &result_file::result_files_for(result, flag, &run))
        }
        (true, None) => {
            println!("no standard result files: a custom dataset has no MedMNIST flag for the Evaluator");
            Ok(())
        }
        (false, _) => Ok(()),
    }
}

/// Prints a line above the progress bar, or to stderr when the bar is hidden (not a terminal).
pub(crate) fn say(bar: &ProgressBar, line: String) {
    if bar.is_hidden() {
        eprintln!("{line}");
    } else {
        bar.println(line);
    }
}

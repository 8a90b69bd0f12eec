//! `lab`: training methods side by side on a base recipe, for several seeds and models,
//! summarised as the report the article's methods table renders (mean ± sd of validation AUC,
//! test AUC and ACC, and each method against its model's base row with paired bootstrap
//! intervals over the images). Any MedMNIST 2D set: two classes are compared on the label-1
//! score (and BreastMNIST's de-duplicated test subset), other tasks on the Evaluator's AUC.
//!
//! Every run looks at the cancel flag before each step; a cancelled lab keeps the starting
//! points it already saved (`save_pretrained`) and writes no report.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use breastmnist_core::batch::ImageView;
use breastmnist_core::checkpoint;
use breastmnist_core::eval;
use breastmnist_core::evaluator;
use breastmnist_core::lab::{
    LabReport, LabRow, LabRun, Labels, Method, TaskLabels, choose_defaults, compare_to_base, interval_rows, resamples_for,
};
use breastmnist_core::model::ModelSize;
use breastmnist_core::pretext::{Pool, PretextConfig, Task};
use breastmnist_core::train::{self, Preset};
use breastmnist_core::{Device, Network};
use breastmnist_data::{Dataset, DecodeOptions, Split, Targets};
use futures_lite::future::block_on;
use serde::Serialize;

use crate::ensemble::mean_probability;
use crate::error::{Error, create_dir, read};
use crate::event::{Cancel, EVENTS_VERSION, Event, Sink, Written};
use crate::gan;
use crate::pretext::{pool, pretrain};
use crate::reuse;
use crate::source::{DataSpec, load_data_with};
use crate::train::run_once;
use crate::weights::{checkpoint_of, weights_from};

/// Methods on a base recipe.
#[derive(Clone, Debug)]
pub struct LabRequest {
    /// Any MedMNIST 2D file (BreastMNIST's comparisons also read its de-duplicated test subset).
    pub data: DataSpec,
    pub preset: Preset,
    pub models: Vec<ModelSize>,
    pub seeds: Vec<u64>,
    /// The methods [all; `transfer` only with `pretrain_data`].
    pub methods: Option<Vec<Method>>,
    /// Override the base recipe's epochs.
    pub epochs: Option<usize>,
    /// Train on the first N training images.
    pub subset: Option<usize>,
    /// Another MedMNIST file for the `transfer` method's supervised pretraining.
    pub pretrain_data: Option<PathBuf>,
    pub pretrain_epochs: usize,
    /// Other files whose every image joins the self-supervised methods' pool.
    pub ssl_extra: Vec<PathBuf>,
    pub ssl_epochs: usize,
    /// Where the report goes.
    pub out: PathBuf,
    /// Also keep the pretrained starting points here (MODEL-pneumonia.ckpt,
    /// MODEL-contrastive.ckpt, MODEL-masked.ckpt: what the page serves).
    pub save_pretrained: Option<PathBuf>,
    /// EfficientNet-Lite0's ImageNet weights (the PyTorch `.pth`), for the `imagenet` methods;
    /// they run on the `lite0` model only.
    pub imagenet: Option<PathBuf>,
    /// Every run sees the images resized to this side (e.g. the 64 px file at 128 px).
    pub resize: Option<usize>,
    /// `gan-aug`: the GAN's epochs and the generated images added per real training image.
    pub gan_epochs: usize,
    pub gan_ratio: f64,
    /// `gan-aug`: the encoder checkpoint whose features the Fréchet distance compares (the
    /// served `c16-contrastive.ckpt`); without it, a SimCLR encoder this lab pretrains for the
    /// model, or no distance.
    pub fid_encoder: Option<PathBuf>,
    /// Earlier reports of the same data file whose runs are taken instead of being trained
    /// again, where model, method, recipe and seed match (`crate::reuse`).
    pub reuse: Vec<PathBuf>,
}

/// A finished lab.
#[derive(Clone, Debug)]
pub struct Labbed {
    pub report: LabReport,
    /// Per model, the defaults the report supports, chosen on validation only.
    pub defaults: Vec<(String, Vec<String>)>,
    pub files: Vec<PathBuf>,
}

#[derive(Serialize)]
struct RowJson<'a> {
    model: &'a str,
    method: &'a str,
    val_auc: breastmnist_core::lab::Summary,
    test_auc: breastmnist_core::lab::Summary,
    test_acc: breastmnist_core::lab::Summary,
    test_auc_ci: Option<breastmnist_core::stats::Interval>,
    test_acc_ci: Option<breastmnist_core::stats::Interval>,
    versus_base: Option<breastmnist_core::lab::Versus>,
}

impl Labbed {
    /// The `done` event's result: every row's summaries and comparison (the runs and their
    /// predictions stay in the report file), the defaults chosen on validation, the seconds.
    pub fn json(&self) -> serde_json::Value {
        let rows: Vec<RowJson> = self
            .report
            .rows
            .iter()
            .map(|r| RowJson {
                model: &r.model,
                method: r.method.name(),
                val_auc: r.val_auc,
                test_auc: r.test_auc,
                test_acc: r.test_acc,
                test_auc_ci: r.test_auc_ci,
                test_acc_ci: r.test_acc_ci,
                versus_base: r.versus_base,
            })
            .collect();
        let defaults: serde_json::Map<String, serde_json::Value> =
            self.defaults.iter().map(|(m, reasons)| (m.clone(), serde_json::json!(reasons))).collect();
        serde_json::json!({
            "base": self.report.base,
            "seeds": self.report.seeds,
            "rows": rows,
            "defaults_from_validation": defaults,
            "total_seconds": self.report.total_seconds,
        })
    }
}

/// Writes a pretrained starting point into `dir`, if one was given.
fn save_pretrained(
    dir: Option<&Path>,
    name: &str,
    bytes: &[u8],
    sink: &mut dyn Sink,
    written: &mut Written,
) -> Result<(), Error> {
    let Some(dir) = dir else { return Ok(()) };
    create_dir(dir)?;
    written.write(sink, dir.join(name), bytes, "starting-point")
}

/// The report's note on how to read it: the test split's size and what a difference needs.
fn note(data: &Dataset, flag: Option<breastmnist_data::Flag>, resamples: usize) -> String {
    const RULE: &str =
        "a difference is called better or worse only when its paired bootstrap interval over the images excludes zero";
    if flag == Some(breastmnist_data::Flag::Breast) {
        return format!("156 test images (42 malignant): one run's test AUC has a 95% interval of about ±0.06; {RULE}");
    }
    let fewer = if resamples < breastmnist_core::stats::RESAMPLES {
        format!(" (intervals from {resamples} bootstrap resamples, fewer than 2,000 for a test split this large)")
    } else {
        String::new()
    };
    let (k, test) = (data.classes(), &data.test);
    let mut counts = vec![0usize; k];
    let what = match data.targets {
        Targets::MultiLabel(_) => {
            test.labels.chunks(k).for_each(|row| row.iter().enumerate().for_each(|(j, &v)| counts[j] += usize::from(v == 1)));
            "positives per label"
        }
        _ => {
            for &l in &test.labels {
                if let Some(c) = counts.get_mut(l as usize) {
                    *c += 1;
                }
            }
            "per class"
        }
    };
    format!(
        "{} test images ({what}: {}); differences on the Evaluator's AUC for the task{fewer}; {RULE}",
        data.test.len(),
        counts.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
    )
}

/// The mean probabilities of `models` on validation and test for data other than two classes,
/// scored by the Evaluator: (val, test, val probabilities, test probabilities).
fn mean_task_probability(
    models: &[Network],
    data: &Dataset,
    device: &Device,
    tta: bool,
    task: TaskLabels,
) -> Result<(evaluator::TaskMetrics, evaluator::TaskMetrics, Vec<f32>, Vec<f32>), Error> {
    let multi_label = matches!(task.targets, Targets::MultiLabel(_));
    let split = |split: Split| -> Result<(evaluator::TaskMetrics, Vec<f32>), Error> {
        let view = ImageView::of(data, split);
        let mut sum: Vec<f32> = Vec::new();
        for m in models {
            let p = block_on(eval::probabilities_reporting(m, &view, device, tta, multi_label, &mut |_, _| {}))?;
            if sum.is_empty() {
                sum = p;
            } else {
                sum.iter_mut().zip(&p).for_each(|(s, x)| *s += x);
            }
        }
        sum.iter_mut().for_each(|s| *s /= models.len() as f32);
        let wide: Vec<f64> = sum.iter().map(|&p| f64::from(p)).collect();
        let m = evaluator::evaluate(task.task, task.targets, view.labels, &wide, task.k)
            .map_err(|e| Error::Usage(format!("the ensemble's {split} scores: {e}")))?;
        Ok((m, sum))
    };
    let (val, val_p) = split(Split::Val)?;
    let (test, test_p) = split(Split::Test)?;
    Ok((val, test, val_p, test_p))
}

/// Whether the `prototypes` method can run in `req` on `data`: a plain CNN among the models,
/// one label per image, and a recipe that does not keep a weight average.
fn prototypes_fit(req: &LabRequest, data: &breastmnist_data::Dataset) -> Result<(), String> {
    if !req.models.iter().any(|&m| Method::Prototypes.runs_on(m)) {
        return Err("the prototypes method puts a prototype head on a plain CNN: add c8, c16 or c32 to --models".into());
    }
    if matches!(data.targets, breastmnist_data::Targets::MultiLabel(_)) {
        return Err("the prototypes method classifies one label per image; this data is multi-label".into());
    }
    if req.preset.config().selection == train::Selection::EmaLast {
        return Err(format!(
            "the prototypes method cannot keep a weight average (the {} preset's ema-last): choose --preset reader",
            req.preset.name()
        ));
    }
    Ok(())
}

/// Runs every method of `req` for every model and seed and writes the report to `req.out`.
pub fn lab(req: &LabRequest, sink: &mut dyn Sink, cancel: &Cancel) -> Result<Labbed, Error> {
    if req.models.is_empty() || req.seeds.is_empty() || req.methods.as_ref().is_some_and(Vec::is_empty) {
        return Err(Error::Usage("--models, --seeds and --methods must each name at least one".into()));
    }
    let opened = req.data.open(Some(&DecodeOptions::default()))?;
    // The self-supervised encoders and the pool are grayscale: an RGB set leaves those methods out.
    let gray = opened.data.channels == 1;
    let needs_gray = |m: &Method| m.pretext().is_some();
    let mut methods: Vec<Method> = match &req.methods {
        Some(m) => m.clone(),
        None => Method::ALL
            .into_iter()
            .filter(|&m| m != Method::Transfer || req.pretrain_data.is_some())
            .filter(|m| !m.imagenet() || (req.imagenet.is_some() && req.models.contains(&ModelSize::Lite0)))
            // A prototype head is another classifier, not a training method; a GAN trains a
            // network of its own for every seed, and mixup is gan-aug's yardstick: they run
            // when named only.
            .filter(|m| !matches!(m, Method::Prototypes | Method::GanAug | Method::Mixup))
            .filter(|m| gray || !needs_gray(m))
            .filter(|m| req.resize.is_none() || !needs_gray(m))
            .collect(),
    };
    methods.dedup();
    let mut early_notes = Vec::new();
    if !gray && req.methods.is_none() {
        early_notes.push(format!(
            "{} has {} channels: the self-supervised methods (grayscale encoders) are left out",
            opened.path.display(),
            opened.data.channels
        ));
    }
    if req.resize.is_some() && req.methods.is_none() && gray {
        early_notes.push("--resize: the self-supervised methods (encoders pretrained at the file's side) are left out".into());
    }
    if req.imagenet.is_some() && req.methods.is_none() && !req.models.contains(&ModelSize::Lite0) {
        early_notes
            .push("--imagenet: the imagenet methods run on lite0 only, which --models does not name; they are left out".into());
    }
    if let Some(m) = methods.iter().find(|m| req.resize.is_some() && needs_gray(m)) {
        return Err(Error::Usage(format!(
            "the {m} method starts from an encoder pretrained at the file's side; --resize cannot apply to it: leave it out of --methods"
        )));
    }
    if methods.contains(&Method::Transfer) && req.pretrain_data.is_none() {
        return Err(Error::Usage("the transfer method needs --pretrain-data NPZ".into()));
    }
    if let Some(m) = methods.iter().find(|m| m.imagenet()) {
        if req.imagenet.is_none() {
            return Err(Error::Usage(format!(
                "the {m} method needs --imagenet FILE (EfficientNet-Lite0's ImageNet weights: `cargo xtask imagenet`)"
            )));
        }
        if !req.models.contains(&ModelSize::Lite0) {
            return Err(Error::Usage(format!("the {m} method starts EfficientNet-Lite0 from ImageNet: add lite0 to --models")));
        }
    }
    if methods.contains(&Method::Prototypes) {
        prototypes_fit(req, &opened.data).map_err(Error::Usage)?;
    }
    let gan_flags = gan::GanFlags { epochs: req.gan_epochs, ratio: req.gan_ratio, fid_encoder: req.fid_encoder.as_deref() };
    let gan_settings = gan_flags.settings(&opened.data, methods.contains(&Method::GanAug), &mut early_notes)?;
    if let Some(m) = methods.iter().find(|m| !gray && needs_gray(m)) {
        return Err(Error::Usage(format!(
            "{} has {} channels; the {m} method starts from a grayscale self-supervised encoder: leave it out of --methods",
            opened.path.display(),
            opened.data.channels
        )));
    }
    let data_path = opened.path.clone();
    let opened_flag = opened.flag;
    let info = opened.info();
    let info_md5 = info.md5.clone();
    let earlier = reuse::earlier(&req.reuse, &info_md5)?;
    let data = Arc::new(opened.data);
    let pretrain_data = match &req.pretrain_data {
        Some(p) => Some(Arc::new(load_data_with(p, &DecodeOptions { split_sizes: None, ..DecodeOptions::default() })?)),
        None => None,
    };
    if let Some(pd) = pretrain_data.as_ref().filter(|pd| pd.channels != data.channels && methods.contains(&Method::Transfer)) {
        return Err(Error::Usage(format!(
            "--pretrain-data has {} channels and the data {}: transfer needs the same input",
            pd.channels, data.channels
        )));
    }
    // The ImageNet start, imported once (its 1,000-class head is replaced in each run).
    let (imagenet, imagenet_named) = match req.imagenet.as_ref().filter(|_| methods.iter().any(|m| m.imagenet())) {
        // The runs see the images at the lab's side (the padding follows it).
        Some(path) => {
            let bytes = read(path)?;
            let named = reuse::named(path, &breastmnist_data::md5_hex(&bytes));
            (Some(weights_from(path, &bytes, &data, Some(ModelSize::Lite0), req.resize)?), Some(named))
        }
        None => (None, None),
    };
    // Data other than two classes is compared on the Evaluator's task AUC.
    let task = train::task_of(&data)?.map(|task| TaskLabels { task, targets: data.targets, k: data.classes() });
    let device = Device::flex();
    let started = Instant::now();
    sink.emit(Event::Started {
        version: EVENTS_VERSION,
        command: "lab".into(),
        data: Some(info),
        detail: format!(
            "lab: {} on {} with seeds {:?}, base recipe {}",
            methods.iter().map(|m| m.name()).collect::<Vec<_>>().join(", "),
            req.models.iter().map(|m| m.name()).collect::<Vec<_>>().join(", "),
            req.seeds,
            req.preset.name()
        ),
    });
    for message in early_notes {
        sink.emit(Event::Note { message });
    }
    let ssl_pool = Arc::new(if methods.iter().any(|m| m.pretext().is_some()) {
        pool(&data_path, &data, &req.ssl_extra)?
    } else {
        Pool::new(data.side)
    });
    // The test images without a training twin (two classes only): each row's subset, and the
    // paired comparisons'.
    let dedup = match task {
        None => breastmnist_data::audit::deduplicated_test(&data, breastmnist_data::audit::TWIN_THRESHOLD),
        Some(_) => Vec::new(),
    };
    let mut written = Written::default();
    let mut gan_runs = Vec::new();
    let mut pretext_rows = Vec::new();
    let mut rows = Vec::new();
    for &model in &req.models {
        let mut base = req.preset.config().with_model(model).with_subset(req.subset).with_resize(req.resize);
        if let Some(e) = req.epochs {
            base.epochs = e;
        }
        base.validate(data.train.len())?;
        let mut base_models = Vec::new();
        let pretrained = match (&pretrain_data, methods.contains(&Method::Transfer)) {
            (Some(pd), true) => {
                let config = base.clone().with_epochs(req.pretrain_epochs).with_subset(None).with_seed(0);
                sink.emit(Event::Note {
                    message: format!(
                        "{model}: pretraining on {} ({} images, {} epochs)",
                        req.pretrain_data.as_deref().unwrap_or(Path::new("")).display(),
                        pd.train.len(),
                        config.epochs
                    ),
                });
                let (_, net, secs) = run_once(config, pd, None, &device, sink, cancel)?;
                sink.emit(Event::Note { message: format!("{model}: pretrained in {secs:.0} s") });
                let bytes = checkpoint::save(&net, &base.model_config(pd.side, pd.channels))
                    .map_err(|source| Error::Checkpoint { path: PathBuf::from("(pretrained)"), source })?;
                save_pretrained(req.save_pretrained.as_deref(), &format!("{model}-pneumonia.ckpt"), &bytes, sink, &mut written)?;
                Some(checkpoint_of(&bytes, "(pretrained)")?)
            }
            _ => None,
        };
        // One self-supervised pretraining per task the methods need (seed 0).
        let mut encoders = Vec::new();
        for task in Task::ALL.into_iter().filter(|&t| methods.iter().any(|m| m.pretext() == Some(t))) {
            let config = PretextConfig::new(task, model).with_epochs(req.ssl_epochs);
            let (bytes, row, _) = pretrain(config, ssl_pool.clone(), &device, sink, cancel)?;
            save_pretrained(req.save_pretrained.as_deref(), &format!("{model}-{task}.ckpt"), &bytes, sink, &mut written)?;
            encoders.push((task, checkpoint_of(&bytes, "(pretext encoder)")?));
            pretext_rows.push(row);
        }
        if model != ModelSize::Lite0 && methods.iter().any(|m| m.imagenet()) {
            sink.emit(Event::Note { message: format!("{model}: the imagenet methods run on lite0 only") });
        }
        if methods.contains(&Method::Prototypes) && !Method::Prototypes.runs_on(model) {
            sink.emit(Event::Note { message: format!("{model}: the prototypes method runs on c8, c16 and c32 only") });
        }
        let simclr = encoders.iter().find(|(t, _)| *t == Task::Contrastive).map(|(_, c)| c);
        let gan_settings = gan_settings.as_ref().map(|s| gan::for_model(s, simclr, model.name(), sink)).transpose()?;
        let runs_on = |m: Method| m != Method::Ensemble && m.runs_on(model);
        for &method in methods.iter().filter(|&&m| runs_on(m)) {
            let mut runs = Vec::new();
            for &seed in &req.seeds {
                let config = method.config(&base).with_seed(seed);
                // A run an earlier report holds is taken, not trained (the ensemble needs the
                // base models themselves).
                let keep_base_models = method == Method::Base && methods.contains(&Method::Ensemble);
                let start = reuse::Start { imagenet: imagenet_named.as_deref() };
                if let Some(run) = reuse::find(&earlier, model.name(), method, &config, start).filter(|_| !keep_base_models) {
                    sink.emit(Event::Note {
                        message: format!("{model} {method} seed {seed}: taken from {}", run.from.as_deref().unwrap_or_default()),
                    });
                    sink.emit(Event::lab_run(model.name(), method, &run));
                    runs.push(run);
                    continue;
                }
                let init = match method.pretext() {
                    Some(task) => encoders.iter().find(|(t, _)| *t == task).map(|(_, c)| c),
                    None if method == Method::Transfer => pretrained.as_ref(),
                    None if method.imagenet() => imagenet.as_ref(),
                    None => None,
                };
                let (result, net, seconds) = match gan_settings.as_ref().filter(|_| method == Method::GanAug) {
                    Some(settings) => {
                        let own = gan::GanAugRun { config, data: &data, init, settings, model: model.name(), seed };
                        let (run, gan_run) = own.run(&dedup, task.is_none(), &device, sink, cancel)?;
                        gan_runs.push(gan_run);
                        run
                    }
                    None => run_once(config, &data, init, &device, sink, cancel)?,
                };
                // Its figures are the run's (for data other than two classes, `result.val` and
                // `result.test` carry the task's AUC and ACC, as `LabRun::of` takes them).
                let run = LabRun::of(seed, &result, seconds);
                sink.emit(Event::lab_run(model.name(), method, &run));
                if method == Method::Base {
                    base_models.push(net);
                }
                runs.push(run);
            }
            rows.push(LabRow::new(method, model.name(), method.config(&base).with_seed(req.seeds[0]), runs));
        }
        if methods.contains(&Method::Ensemble) {
            if base_models.is_empty() {
                // The ensemble combines the base recipe's models: train them if `base` was not asked for.
                for &seed in &req.seeds {
                    base_models.push(run_once(base.clone().with_seed(seed), &data, None, &device, sink, cancel)?.1);
                }
            }
            let t = Instant::now();
            let members = base_models.len() as u64;
            let run = match task {
                Some(task) => {
                    let (val, test, val_p, test_p) = mean_task_probability(&base_models, &data, &device, base.tta, task)?;
                    LabRun::from_task(members, &val, &test, &val_p, &test_p, t.elapsed().as_secs_f64())
                }
                None => {
                    let (val, val_predictions, test) = mean_probability(&base_models, &data, &device, base.tta)?;
                    LabRun::from_parts(members, &val, &val_predictions, &test, t.elapsed().as_secs_f64())
                }
            };
            sink.emit(Event::lab_run(model.name(), Method::Ensemble, &run));
            rows.push(LabRow::new(Method::Ensemble, model.name(), base.clone().with_seed(req.seeds[0]), vec![run]));
        }
    }
    // Each row against its model's base row, paired over the same images (validation, test,
    // and the test images without a training twin).
    let resamples = resamples_for(data.test.len(), data.classes());
    let labels = Labels { val: &data.val.labels, test: &data.test.labels, dedup_test: &dedup, task, resamples };
    compare_to_base(&mut rows, &labels);
    interval_rows(&mut rows, &labels);
    let pretrain = match req.pretrain_data.as_ref().filter(|_| methods.contains(&Method::Transfer)) {
        // The file by name and MD5: a report carries no path of the machine that wrote it.
        Some(p) => Some(reuse::named(p, &breastmnist_data::md5_hex(&read(p)?))),
        None => None,
    };
    let report = LabReport {
        schema_version: breastmnist_core::export::SCHEMA_VERSION,
        kind: "lab".into(),
        base: req.preset.name().into(),
        imagenet: imagenet_named.clone(),
        data: Some(reuse::named(&data_path, &info_md5)),
        seeds: req.seeds.clone(),
        pretrain,
        pretext: pretext_rows,
        gan: gan_runs,
        rows,
        total_seconds: started.elapsed().as_secs_f64(),
        note: note(&data, opened_flag, resamples),
    };
    if let Some(dir) = req.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_dir(dir)?;
    }
    written.write(sink, req.out.clone(), report.to_json().as_bytes(), "lab-report")?;
    let defaults = req.models.iter().map(|m| (m.name().to_string(), choose_defaults(&report, m.name()).reasons)).collect();
    Ok(Labbed { report, defaults, files: written.0 })
}

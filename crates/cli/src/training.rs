//! `breastmnist train` and `pretrain`: the flags become a [`Recipe`] and a [`TrainRequest`], the
//! operations layer trains, and this file prints the result as text (or `--json` prints events).

use std::path::PathBuf;

use breastmnist_core::train::TestReport;
use breastmnist_data::Flag;
use breastmnist_ops::train::{Purpose, TrainRequest, Trained, train};
use breastmnist_ops::{Backend, Cancel, Error, Recipe};

use crate::catalog::{DataArgs, print_task};
use crate::printer::Printer;

/// `breastmnist train`: a preset (default `paper`, MedMNIST's official recipe) and flags that
/// override its values, whatever their order.
#[derive(clap::Args, Debug)]
pub(crate) struct TrainArgs {
    /// The data: BreastMNIST (28 or 64 px) or any MedMNIST 2D dataset.
    #[command(flatten)]
    data: DataArgs,
    /// Start from a named recipe: paper (ResNet-18, 100 epochs, best validation AUC), reader
    /// (c16 from fresh weights, 20 epochs, flips, last epoch, flip TTA) or best
    /// (c16, 60 epochs, EMA, flip TTA).
    #[arg(long, default_value = "paper")]
    preset: String,
    /// tiny, small, medium, resnet18, resnet50, c8, c16, c32 or lite0 [preset's].
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
    /// Fine-tune from this checkpoint (ours, or a PyTorch state dict: .pth/.pt/.safetensors, e.g.
    /// EfficientNet-Lite0's ImageNet weights from `cargo xtask imagenet`, whose 1,000-class head
    /// is replaced); `none` starts from fresh weights [the preset's starting
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
    /// Classify with a prototype head (ProtoPNet) of M prototypes per class instead of the
    /// linear classifier, projected onto training patches after every epoch; `explain` then
    /// shows which training patches an image looks like (c8, c16, c32).
    #[arg(long, value_name = "M")]
    prototypes: Option<usize>,
    /// The run name in the result files' names (`..._[ACC]0.897@NAME.csv`) [MODEL-seedSEED].
    #[arg(long, value_name = "NAME")]
    run: Option<String>,
    /// flex, or a GPU backend compiled in (wgpu, vulkan, cuda).
    #[arg(long, default_value = "flex")]
    backend: Backend,
    /// How convolutions run: direct (burn's kernel) or gemm (im2col + matmul, checked against
    /// direct on the device first) [the fastest verified one for the backend].
    #[arg(long, value_name = "ALGO")]
    conv: Option<String>,
}

impl TrainArgs {
    /// The flags as the operations layer's request (the recipe becomes the core's typed
    /// configuration in [`Recipe::config`], the one place).
    fn request(&self, purpose: Purpose) -> Result<TrainRequest, Error> {
        let recipe = Recipe {
            preset: self.preset.clone(),
            model: self.model.clone(),
            epochs: self.epochs,
            batch: self.batch,
            lr: self.lr,
            seed: self.seed,
            subset: self.subset,
            augment: self.augment.clone(),
            mixup: self.mixup,
            weight_decay: self.weight_decay,
            cosine: self.cosine,
            selection: self.selection.clone(),
            ema: self.ema,
            tta: self.tta,
            curriculum: self.curriculum.clone(),
            curriculum_start: self.curriculum_start,
            curriculum_full_at: self.curriculum_full_at,
            resize: self.resize,
            resample: self.resample.clone(),
            stem: self.stem.clone(),
            init: self.init.clone(),
            pretrained: self.pretrained.clone(),
            freeze_backbone: self.freeze_backbone,
            linear_probe: self.linear_probe,
            conv: self.conv.clone(),
            prototypes: self.prototypes,
        };
        Ok(TrainRequest {
            data: self.data.spec(),
            recipe,
            out: self.out.clone(),
            run: self.run.clone(),
            backend: self.backend,
            purpose,
        })
    }
}

/// `train` and `pretrain`.
pub(crate) fn cmd_train(a: TrainArgs, purpose: Purpose, printer: &mut Printer, cancel: &Cancel) -> Result<(), Error> {
    let req = a.request(purpose)?;
    let t = train(&req, printer, cancel)?;
    let command = if purpose == Purpose::Train { "train" } else { "pretrain" };
    printer.done(command, t.json(), t.files.clone(), || print_trained(&t));
    Ok(())
}

fn print_trained(t: &Trained) {
    let r = &t.result;
    if let Some(task) = &r.task {
        let name = t.flag.map_or("a custom dataset".to_string(), |f| f.entry().title.to_string());
        println!(
            "kept epoch {} (val AUC {:.4}, ACC {:.4})\ntest AUC {:.4}  ACC {:.4}  ({}, {} as MedMNIST's Evaluator scores it)",
            r.best_epoch,
            r.val.auc,
            r.val.acc,
            r.test.auc,
            r.test.acc,
            name,
            t.flag.map_or(task.task, |f| f.entry().task)
        );
        print_task(&task.test, Some(&t.labels));
    } else {
        let c = r.test.confusion;
        println!(
            "kept epoch {} (val AUC {:.4}, ACC {:.4})\ntest AUC {:.4}  ACC {:.4}  confusion [[tn {}, fp {}], [fn {}, tp {}]]",
            r.best_epoch,
            r.val.auc,
            r.val.acc,
            r.test.auc,
            r.test.acc,
            c.tn(),
            c.fp(),
            c.fn_(),
            c.tp()
        );
        // BreastMNIST's label 0 is malignant; another set's is named by the catalog, or by its index.
        let class0 = (t.flag != Some(Flag::Breast)).then(|| t.labels.first().copied().unwrap_or("0"));
        println!("{}", certainty(&r.test, class0));
    }
    println!("wrote {}/{{metrics.json, predictions.csv, best.ckpt}}", t.out.display());
    print_result_files(&t.result_files);
    if let Some(why) = t.no_result_files {
        println!("no standard result files: {why}");
    }
}

/// The standard result files written, as the text printer lists them.
pub(crate) fn print_result_files(files: &[PathBuf]) {
    if files.is_empty() {
        return;
    }
    println!("result files (score with medmnist's Evaluator.parse_and_evaluate):");
    for f in files {
        println!("  {}", f.display());
    }
}

/// How sure a test report is, one line each: the AUC's 95% interval with label 0's
/// sensitivity and specificity (BreastMNIST's malignant, unless `class0` names another
/// dataset's label 0), and the figures on the de-duplicated test subset.
pub(crate) fn certainty(test: &TestReport, class0: Option<&str>) -> String {
    let mut lines = Vec::new();
    if let (Some(ci), Some(m)) = (test.auc_ci, test.malignant) {
        let class0 = class0.map_or("malignant".to_string(), |name| format!("label 0 ({name}) as positive"));
        lines.push(format!(
            "test AUC 95% interval (DeLong) {:.4}-{:.4}; {class0}: sensitivity {:.3}, specificity {:.3}",
            ci.lo, ci.hi, m.sensitivity, m.specificity
        ));
    }
    if let Some(d) = &test.deduplicated {
        lines.push(format!(
            "no training twin ({} of {} test images): AUC {:.4} ({:.4}-{:.4})  ACC {:.4}",
            d.images,
            test.predictions.len(),
            d.auc,
            d.auc_ci.lo,
            d.auc_ci.hi,
            d.acc
        ));
    }
    lines.join("\n")
}

//! `eval` (a checkpoint scored on a split as MedMNIST's Evaluator scores it, optionally with
//! metrics.json and the standard result files), `predict` (every image's probabilities) and
//! `explain` (Grad-CAM, and a prototype head's "this looks like that").

use std::path::{Path, PathBuf};

use breastmnist_core::batch::ImageView;
use breastmnist_core::checkpoint::Checkpoint;
use breastmnist_core::evaluator::{self, TaskMetrics};
use breastmnist_core::export::MetricsFile;
use breastmnist_core::model::ModelSize;
use breastmnist_core::prototypes::{self, LooksLike};
use breastmnist_core::result_file;
use breastmnist_core::{Network, eval, train};
use breastmnist_data::{DecodeOptions, Split, Task};
use futures_lite::future::block_on;
use serde::Serialize;

use crate::backend::{Backend, device};
use crate::error::{Error, create_dir, write};
use crate::event::{EVENTS_VERSION, Event, Sink, Written};
use crate::picture::{Panel, cell_mask, upsample};
use crate::source::{DataSpec, Opened};
use crate::train::write_result_files;
use crate::weights::load_weights;

/// Whether a checkpoint is scored with flip test-time augmentation, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Tta {
    pub on: bool,
    pub from: TtaFrom,
}

/// Where a TTA choice came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TtaFrom {
    /// The caller said.
    Asked,
    /// The recipe in the metrics.json beside the checkpoint.
    Run,
    /// Nothing said or recorded: off.
    Default,
}

/// TTA as asked; else as the run that wrote the checkpoint scored it (its recipe's `tta` in the
/// metrics.json beside it), so a checkpoint gives the figures its run reported; else off.
pub fn flip_tta(asked: Option<bool>, checkpoint: &Path) -> Tta {
    if let Some(on) = asked {
        return Tta { on, from: TtaFrom::Asked };
    }
    let recorded = checkpoint
        .parent()
        .and_then(|dir| std::fs::read_to_string(dir.join("metrics.json")).ok())
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|v| v["config"]["tta"].as_bool());
    match recorded {
        Some(on) => Tta { on, from: TtaFrom::Run },
        None => Tta { on: false, from: TtaFrom::Default },
    }
}

impl std::fmt::Display for Tta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = if self.on { "flip TTA on" } else { "flip TTA off" };
        match self.from {
            TtaFrom::Run => write!(f, "{state}, as the run's metrics.json records"),
            TtaFrom::Asked | TtaFrom::Default => f.write_str(state),
        }
    }
}

/// A checkpoint on a split.
#[derive(Clone, Debug)]
pub struct EvalRequest {
    pub data: DataSpec,
    pub checkpoint: PathBuf,
    pub split: Split,
    /// Flip test-time augmentation [the run's own: see [`flip_tta`]].
    pub tta: Option<bool>,
    /// Also write metrics.json and the standard result files for val and test here.
    pub out: Option<PathBuf>,
    /// With `out`: the run name in the result files' names [the checkpoint's file stem].
    pub run: Option<String>,
    /// For a PyTorch file: the architecture [inferred].
    pub model: Option<ModelSize>,
    pub backend: Backend,
}

/// What `eval` found.
#[derive(Clone, Debug, Serialize)]
pub struct Evaluated {
    pub model: String,
    pub split: String,
    pub images: usize,
    pub tta: Tta,
    /// The dataset's task (as MedMNIST's Evaluator scores it).
    pub task: String,
    pub auc: f64,
    pub acc: f64,
    pub metrics: TaskMetrics,
    /// The label names (empty for a custom dataset).
    pub labels: Vec<&'static str>,
    pub files: Vec<PathBuf>,
    /// The standard result files among them.
    pub result_files: Vec<PathBuf>,
}

/// A loaded model and the data it is for.
struct Loaded {
    opened: Opened,
    ckpt: Checkpoint,
    model: Network,
    device: breastmnist_core::Device,
    env: breastmnist_core::export::Environment,
}

fn load(data: &DataSpec, checkpoint: &Path, model: Option<ModelSize>, backend: Backend) -> Result<Loaded, Error> {
    let opened = data.open(Some(&DecodeOptions::default()))?;
    let ckpt = load_weights(checkpoint, &opened.data, model)?;
    let (device, env) = device(backend)?;
    let model = ckpt.load(&device).map_err(|source| Error::Checkpoint { path: checkpoint.to_path_buf(), source })?;
    Ok(Loaded { opened, ckpt, model, device, env })
}

/// Probabilities of every image of `split` (`k` per image) and the Evaluator's metrics.
fn score_split(l: &Loaded, split: Split, tta: bool) -> Result<(Vec<f32>, TaskMetrics), Error> {
    let data = &l.opened.data;
    let view = ImageView::of(data, split);
    let (k, multi_label) = (l.ckpt.config.num_classes, l.ckpt.config.multi_label);
    let probs = block_on(eval::probabilities_reporting(&l.model, &view, &l.device, tta, multi_label, &mut |_, _| {}))?;
    let wide: Vec<f64> = probs.iter().map(|&p| f64::from(p)).collect();
    let m = evaluator::evaluate(l.opened.task, data.targets, view.labels, &wide, k)
        .map_err(|e| Error::Train(train::TrainError::from(e)))?;
    Ok((probs, m))
}

fn started(command: &str, opened: &Opened, detail: String) -> Event {
    Event::Started { version: EVENTS_VERSION, command: command.into(), data: Some(opened.info()), detail }
}

/// Scores `req.checkpoint` on `req.split`, and with `out` writes metrics.json (val and test)
/// and the standard result files.
pub fn evaluate(req: &EvalRequest, sink: &mut dyn Sink) -> Result<Evaluated, Error> {
    let l = load(&req.data, &req.checkpoint, req.model, req.backend)?;
    let tta = flip_tta(req.tta, &req.checkpoint);
    sink.emit(started("eval", &l.opened, format!("model {} on {}, {tta}", l.ckpt.config.size, req.split)));
    let (_, m) = score_split(&l, req.split, tta.on)?;
    let images = l.opened.data.split(req.split).len();
    sink.emit(Event::Evaluated { split: req.split.key().into(), images, auc: m.auc, acc: m.acc });
    let labels = l.opened.labels();
    let mut written = Written::default();
    let mut result_files = Vec::new();
    if let Some(out) = &req.out {
        let data = &l.opened.data;
        let (mut result, _) = block_on(train::evaluate_checkpoint(&l.ckpt, data, &l.device, tta.on))?;
        result.task = result.task.map(|t| t.named(l.opened.task));
        create_dir(out)?;
        let file = MetricsFile::new(&result, l.env.clone()).with_dataset(&result, l.opened.flag, &labels);
        written.write(sink, out.join("metrics.json"), file.to_json().as_bytes(), "metrics")?;
        let stem = req.checkpoint.file_stem().map(|s| s.to_string_lossy().into_owned());
        let run = req.run.clone().or(stem).unwrap_or_else(|| result_file::run_name(&result));
        if let Some(flag) = l.opened.flag {
            result_files = write_result_files(out, &result_file::result_files_for(&result, flag, &run), sink, &mut written)?;
        }
    }
    Ok(Evaluated {
        model: l.ckpt.config.size.to_string(),
        split: req.split.key().into(),
        images,
        tta,
        task: l.opened.task.name().into(),
        auc: m.auc,
        acc: m.acc,
        metrics: m,
        labels,
        files: written.0,
        result_files,
    })
}

/// Every image's probabilities on a split.
#[derive(Clone, Debug)]
pub struct PredictRequest {
    pub data: DataSpec,
    pub checkpoint: PathBuf,
    pub split: Split,
    /// Flip test-time augmentation [the run's own: see [`flip_tta`]].
    pub tta: Option<bool>,
    /// At most this many rows are returned inline.
    pub inline: usize,
    /// Whether returning only the first `inline` rows is what was asked for (a limit the
    /// caller named); otherwise a split with more rows needs `csv`.
    pub truncate: bool,
    /// Where the CSV of every row goes (always written when the split has more rows than
    /// `inline`; also when given).
    pub csv: Option<PathBuf>,
    pub backend: Backend,
}

/// One image's prediction.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub index: usize,
    /// The true label (labels, for multi-label).
    pub label: Vec<u8>,
    pub probabilities: Vec<f32>,
    /// The argmax class (for multi-label, every label over 0.5).
    pub predicted: Vec<usize>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Predictions {
    pub split: String,
    pub images: usize,
    pub tta: Tta,
    pub task: String,
    pub labels: Vec<&'static str>,
    /// The first `inline` rows.
    pub rows: Vec<Row>,
    /// Whether `rows` holds every image.
    pub complete: bool,
    pub csv: Option<PathBuf>,
}

/// The probabilities of every image of `req.split`.
pub fn predict(req: &PredictRequest, sink: &mut dyn Sink) -> Result<Predictions, Error> {
    let l = load(&req.data, &req.checkpoint, None, req.backend)?;
    let tta = flip_tta(req.tta, &req.checkpoint);
    sink.emit(started("predict", &l.opened, format!("model {} on {}, {tta}", l.ckpt.config.size, req.split)));
    let (probs, m) = score_split(&l, req.split, tta.on)?;
    let split = l.opened.data.split(req.split);
    let images = split.len();
    sink.emit(Event::Evaluated { split: req.split.key().into(), images, auc: m.auc, acc: m.acc });
    let k = l.ckpt.config.num_classes;
    let multi = l.opened.task == Task::MultiLabel;
    let row = |i: usize| {
        let p = &probs[i * k..(i + 1) * k];
        let predicted = if multi {
            (0..k).filter(|&j| p[j] > 0.5).collect()
        } else {
            vec![evaluator::argmax(&p.iter().map(|&v| f64::from(v)).collect::<Vec<_>>())]
        };
        Row { index: i, label: split.labels_of(i).to_vec(), probabilities: p.to_vec(), predicted }
    };
    let csv = match (&req.csv, images > req.inline && !req.truncate) {
        (Some(path), _) => Some(path.clone()),
        (None, true) => {
            return Err(Error::Limit(format!(
                "the {} split has {images} images, over the {} returned inline: name a CSV file for them all, or a smaller limit",
                req.split, req.inline
            )));
        }
        (None, false) => None,
    };
    if let Some(path) = &csv {
        let mut text = String::from("index,label");
        text.extend((0..k).map(|j| format!(",p{j}")));
        text.push('\n');
        for i in 0..images {
            let r = row(i);
            let label: Vec<String> = r.label.iter().map(u8::to_string).collect();
            text.push_str(&format!("{i},{}", label.join(" ")));
            text.extend(r.probabilities.iter().map(|p| format!(",{p}")));
            text.push('\n');
        }
        write(path, text.as_bytes())?;
        sink.emit(Event::file(path.clone(), "predictions"));
    }
    let rows = (0..images.min(req.inline)).map(row).collect();
    Ok(Predictions {
        split: req.split.key().into(),
        images,
        tta,
        task: l.opened.task.name().into(),
        labels: l.opened.labels(),
        rows,
        complete: images <= req.inline,
        csv,
    })
}

/// Grad-CAM of one image.
#[derive(Clone, Debug)]
pub struct ExplainRequest {
    pub data: DataSpec,
    pub checkpoint: PathBuf,
    pub split: Split,
    pub index: usize,
    /// The class explained [the predicted one].
    pub class: Option<usize>,
    /// Whether the probabilities (and so the predicted class) use flip TTA [the run's own: see
    /// [`flip_tta`]]; the map is always of the image as it is.
    pub tta: Option<bool>,
    /// Where the PNG goes, if anywhere (the MCP server returns it as image content instead).
    pub out: Option<PathBuf>,
    pub backend: Backend,
}

#[derive(Clone, Debug, Serialize)]
pub struct Explained {
    pub split: String,
    pub index: usize,
    /// The image's label (labels, for multi-label).
    pub label: Vec<u8>,
    pub class: usize,
    pub class_name: Option<&'static str>,
    /// Every class's probability for this image (with flip TTA when `tta` says so).
    pub probabilities: Vec<f32>,
    pub tta: Tta,
    /// The model's probability of the explained class, as Grad-CAM's forward pass computed it.
    pub probability: f32,
    pub stage: String,
    pub side: usize,
    /// The map, `side * side` values in [0, 1], row-major.
    pub map: Vec<f32>,
    /// A prototype head's "this looks like that": the three prototypes that add most to the
    /// explained class, each with its similarity map and the training patch it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prototypes: Option<LooksLike>,
    /// The image beside its map over it, as PNG bytes (not serialised); with prototypes, a row
    /// per prototype below: the image's similarity to it beside the training patch it is.
    #[serde(skip)]
    pub png: Vec<u8>,
    /// The PNG's file, when the request named one.
    pub files: Vec<PathBuf>,
}

/// Grad-CAM (the last stage whose map is at least 2 x 2: layer3 for Lite0 at 28 px) of image `index` of `split` for `class` (default: the predicted one).
pub fn explain(req: &ExplainRequest, sink: &mut dyn Sink) -> Result<Explained, Error> {
    let l = load(&req.data, &req.checkpoint, None, req.backend)?;
    let split = l.opened.data.split(req.split);
    if req.index >= split.len() {
        return Err(Error::Usage(format!(
            "index {} is outside the {} split (it has {} images, 0 to {})",
            req.index,
            req.split,
            split.len(),
            split.len().saturating_sub(1)
        )));
    }
    let tta = flip_tta(req.tta, &req.checkpoint);
    sink.emit(started("explain", &l.opened, format!("{} image {}, {tta}", req.split, req.index)));
    let view = ImageView::of(&l.opened.data, req.split);
    let (k, multi) = (l.ckpt.config.num_classes, l.ckpt.config.multi_label);
    let probs = block_on(eval::probabilities_as(&l.model, &view, &[req.index], &l.device, tta.on, multi))?;
    let wide: Vec<f64> = probs.iter().map(|&p| f64::from(p)).collect();
    let class = req.class.unwrap_or_else(|| evaluator::argmax(&wide));
    if class >= k {
        return Err(Error::Usage(format!("class {class} does not exist (the model has {k} classes, 0 to {})", k - 1)));
    }
    let image = l.opened.data.image(req.split, req.index);
    // The last stage, or the deepest whose map is not 1 x 1 (Lite0 at 28 px: layer3).
    let stage = l.ckpt.config.cam_stage(breastmnist_core::model::Stage::Layer4);
    let map = block_on(breastmnist_core::gradcam::grad_cam(&l.model, &l.ckpt.config, image, class, stage, &l.device))
        .map_err(|e| Error::Usage(format!("Grad-CAM failed: {e}")))?;
    let channels = l.opened.data.channels;
    let mut rows = vec![vec![
        Panel { image, channels, side: map.side, map: None },
        Panel { image, channels, side: map.side, map: Some(map.values.clone()) },
    ]];
    let prototypes = match l.model.prototypes() {
        Some(_) => {
            let train = ImageView::of(&l.opened.data, Split::Train);
            let failed = |e: prototypes::PrototypeError| Error::Usage(format!("the prototype explanation failed: {e}"));
            let sources = block_on(prototypes::sources(&l.model, &train, &l.device)).map_err(failed)?;
            let config = &l.ckpt.config;
            let why = prototypes::looks_like(&l.model, config, &view, req.index, class, 3, &sources, &l.device);
            Some(block_on(why).map_err(failed)?)
        }
        None => None,
    };
    if let Some(p) = &prototypes {
        for m in &p.matches {
            let similarity = upsample(&m.map, p.map_side, map.side, p.cell);
            let mut row = vec![Panel { image, channels, side: map.side, map: Some(similarity) }];
            if let Some(s) = m.source.as_ref().filter(|s| s.index < l.opened.data.train.len()) {
                let source = l.opened.data.image(Split::Train, s.index);
                let mask = cell_mask(s.row, s.col, map.side, p.cell);
                row.push(Panel { image: source, channels, side: map.side, map: Some(mask) });
            }
            rows.push(row);
        }
    }
    let png = crate::picture::grid(&rows)?;
    let mut written = Written::default();
    if let Some(out) = &req.out {
        written.write(sink, out.clone(), &png, "picture")?;
    }
    let names = l.opened.labels();
    Ok(Explained {
        split: req.split.key().into(),
        index: req.index,
        label: split.labels_of(req.index).to_vec(),
        class,
        class_name: names.get(class).copied(),
        probabilities: probs,
        tta,
        probability: map.probability,
        stage: stage.to_string(),
        side: map.side,
        map: map.values,
        prototypes,
        png,
        files: written.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tta_follows_the_ask_then_the_run_then_stays_off() {
        let dir = std::env::temp_dir().join(format!("breastmnist-ops-tta-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ckpt = dir.join("best.ckpt");
        assert_eq!(flip_tta(None, &ckpt), Tta { on: false, from: TtaFrom::Default }, "no metrics.json");
        std::fs::write(dir.join("metrics.json"), r#"{"config": {"tta": true}}"#).unwrap();
        assert_eq!(flip_tta(None, &ckpt), Tta { on: true, from: TtaFrom::Run });
        assert_eq!(flip_tta(Some(false), &ckpt), Tta { on: false, from: TtaFrom::Asked });
        std::fs::write(dir.join("metrics.json"), "not json").unwrap();
        assert_eq!(flip_tta(None, &ckpt), Tta { on: false, from: TtaFrom::Default }, "an unreadable file is no record");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

//! "This looks like that" for a prototype head ([`crate::model::proto`]): projecting every
//! prototype onto its nearest training patch of its own class (ProtoPNet's push), and
//! explaining an image by the prototypes it resembles most, each with the training image and
//! patch it is.
//!
//! Owns the search over training patches (in caller-chosen chunks, reads asynchronous) and the
//! explanation's layout. It must not know about optimisers, files or the browser.

use burn::module::Module;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::batch::{Batcher, ImageView};
use crate::eval::EvalError;
use crate::model::{ModelConfig, Network, ProtoHead, Stage, proto};
use crate::read::{read_all, read_f32};
use crate::rng::Rng;

/// A cell of a training image's prototype map: the patch a prototype is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Patch {
    /// The image's index in the training split.
    pub index: usize,
    /// The cell's row and column in the `map_side` x `map_side` map.
    pub row: usize,
    pub col: usize,
    /// The squared distance of the prototype to this cell (0 once projected onto it).
    pub distance: f32,
}

/// Errors of the prototype explanation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PrototypeError {
    #[error("this model has no prototype head (train with --prototypes M on c8, c16 or c32)")]
    NoHead,
    #[error("class {class} does not exist (the model has {classes} classes)")]
    Class { class: usize, classes: usize },
    #[error(transparent)]
    Eval(#[from] EvalError),
}

/// The prototype-space features of `indices` of `view` under `model` (evaluation mode):
/// `[n][DIM][side][side]` and the map's side.
pub async fn embed(
    model: &Network,
    view: &ImageView<'_>,
    indices: &[usize],
    device: &Device,
) -> Result<(Vec<f32>, usize), PrototypeError> {
    let model = model.valid();
    let head = model.prototypes().ok_or(PrototypeError::NoHead)?;
    let device = device.clone().without_autodiff();
    let batch = Batcher::eval().host_batch(view, indices, &mut Rng::new(0));
    let z = head.embed(model.forward_to(batch.images(&device), Stage::Layer4));
    let side = z.dims()[2];
    let values = read_f32(z).await.map_err(EvalError::from)?;
    Ok((values, side))
}

/// The nearest patch of its own class for every prototype, searched chunk by chunk.
pub struct Search {
    /// `[prototypes][DIM]`, as they were when the search started.
    prototypes: Vec<f32>,
    per_class: usize,
    best: Vec<Option<(Patch, Vec<f32>)>>,
}

impl Search {
    /// A search for `model`'s prototypes.
    pub async fn new(model: &Network) -> Result<Search, PrototypeError> {
        let head = model.prototypes().ok_or(PrototypeError::NoHead)?;
        let prototypes = read_f32(head.prototypes.val()).await.map_err(EvalError::from)?;
        Ok(Search { best: vec![None; head.count()], per_class: head.per_class, prototypes })
    }

    /// Looks at the training images `indices` of `view` (their labels pick which prototypes
    /// may take their patches).
    pub async fn add(
        &mut self,
        model: &Network,
        view: &ImageView<'_>,
        indices: &[usize],
        device: &Device,
    ) -> Result<(), PrototypeError> {
        if indices.is_empty() {
            return Ok(());
        }
        let (z, side) = embed(model, view, indices, device).await?;
        let (dim, cells) = (proto::DIM, side * side);
        for (n, &index) in indices.iter().enumerate() {
            let class = usize::from(view.labels[index * view.width]);
            let image = &z[n * dim * cells..(n + 1) * dim * cells];
            for j in class * self.per_class..((class + 1) * self.per_class).min(self.best.len()) {
                let p = &self.prototypes[j * dim..(j + 1) * dim];
                for cell in 0..cells {
                    let distance: f32 = (0..dim).map(|c| (image[c * cells + cell] - p[c]).powi(2)).sum();
                    if self.best[j].as_ref().is_none_or(|(b, _)| distance < b.distance) {
                        let vector = (0..dim).map(|c| image[c * cells + cell]).collect();
                        let patch = Patch { index, row: cell / side, col: cell % side, distance };
                        self.best[j] = Some((patch, vector));
                    }
                }
            }
        }
        Ok(())
    }

    /// Each prototype's nearest patch (`None` where no image of its class was seen).
    pub fn patches(&self) -> Vec<Option<Patch>> {
        self.best.iter().map(|b| b.as_ref().map(|(p, _)| p.clone())).collect()
    }

    /// The projected prototypes, `[prototypes][DIM]`: each its nearest patch's features (a
    /// prototype whose class had no image keeps its values).
    pub fn projected(&self) -> Vec<f32> {
        let dim = proto::DIM;
        let mut out = self.prototypes.clone();
        for (j, b) in self.best.iter().enumerate() {
            if let Some((_, v)) = b {
                out[j * dim..(j + 1) * dim].copy_from_slice(v);
            }
        }
        out
    }
}

/// The nearest own-class training patch of every prototype of `model` over all of `train`.
pub async fn sources(model: &Network, train: &ImageView<'_>, device: &Device) -> Result<Vec<Option<Patch>>, PrototypeError> {
    let mut search = Search::new(model).await?;
    let all: Vec<usize> = (0..train.len()).collect();
    for chunk in all.chunks(crate::eval::chunk_size(model, train.side)) {
        search.add(model, train, chunk, device).await?;
    }
    Ok(search.patches())
}

/// One prototype's part in an image's prediction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrototypeMatch {
    pub prototype: usize,
    /// The class the prototype belongs to.
    pub class: usize,
    /// Its largest similarity over the image's cells, `log((d + 1) / (d + 1e-4))`.
    pub similarity: f32,
    /// Its last-layer weight to the explained class.
    pub weight: f32,
    /// `similarity * weight`: what it adds to the explained class's logit.
    pub contribution: f32,
    /// Its similarity to every cell of the image, `map_side * map_side`, row-major.
    pub map: Vec<f32>,
    /// The training patch it is.
    pub source: Option<Patch>,
}

/// "This looks like that": an image's strongest prototypes for a class.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LooksLike {
    /// The class explained.
    pub class: usize,
    /// Side of the prototype maps.
    pub map_side: usize,
    /// Image pixels per map cell along each side: cell (r, c) is the image's pixels from
    /// `r * cell` to `(r + 1) * cell` ([`cell_pixels`]; pixels past the last cell are not in
    /// any: the max-pools floor).
    pub cell: f64,
    /// The strongest contributions first.
    pub matches: Vec<PrototypeMatch>,
}

/// Image pixels per cell of layer4's map, along each side, for a plain CNN of `config` (the
/// only family with a prototype head): three 2x2 max-pools make a cell 8 pixels of what the
/// first convolution sees, scaled back when the model resizes its input.
pub fn cell_pixels(config: &ModelConfig) -> f64 {
    8.0 * config.input_size as f64 / config.effective_size() as f64
}

/// The cell of a `map_side` x `map_side` map of `cell`-pixel cells ([`cell_pixels`]) that pixel
/// (`y`, `x`) is in, if any: cells floor, so the pixels past the last cell are in none. (The
/// page, which cannot use the core, mirrors this as `view::prototypes::cell_of`.)
pub fn cell_of(y: usize, x: usize, cell: f64, map_side: usize) -> Option<(usize, usize)> {
    let at = |p: usize| (p as f64 / cell).floor() as usize;
    let (r, c) = (at(y), at(x));
    (r < map_side && c < map_side).then_some((r, c))
}

/// Explains `image` (index `index` of `view`) for `class` by its `top` strongest prototypes,
/// their sources found in `sources` ([`sources`]).
#[allow(clippy::too_many_arguments)]
pub async fn looks_like(
    model: &Network,
    config: &ModelConfig,
    view: &ImageView<'_>,
    index: usize,
    class: usize,
    top: usize,
    sources: &[Option<Patch>],
    device: &Device,
) -> Result<LooksLike, PrototypeError> {
    let model = model.valid();
    let head = model.prototypes().ok_or(PrototypeError::NoHead)?;
    if class >= head.classes() {
        return Err(PrototypeError::Class { class, classes: head.classes() });
    }
    let (z, side) = embed(&model, view, &[index], device).await?;
    let cells = side * side;
    let device = device.clone().without_autodiff();
    let z = burn::tensor::Tensor::<4>::from_data(burn::tensor::TensorData::new(z, [1, proto::DIM, side, side]), &device);
    let distances = head.distances(z); // [1, cells, P]
    let mut read = read_all(vec![ProtoHead::similarity(distances).flatten::<1>(0, 2), head.last.weight.val().flatten::<1>(0, 1)])
        .await
        .map_err(EvalError::from)?
        .into_iter();
    let (similarity, weights) = (read.next().unwrap_or_default(), read.next().unwrap_or_default());
    let (np, k) = (head.count(), head.classes());
    let mut matches: Vec<PrototypeMatch> = (0..np)
        .map(|j| {
            let map: Vec<f32> = (0..cells).map(|c| similarity[c * np + j]).collect();
            let best = map.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let weight = weights[j * k + class];
            PrototypeMatch {
                prototype: j,
                class: j / head.per_class.max(1),
                similarity: best,
                weight,
                contribution: best * weight,
                map,
                source: sources.get(j).cloned().flatten(),
            }
        })
        .collect();
    matches.sort_by(|a, b| b.contribution.total_cmp(&a.contribution));
    matches.truncate(top);
    Ok(LooksLike { class, map_side: side, cell: cell_pixels(config), matches })
}

//! PyTorch interchange: our models as PyTorch `state_dict`s, in (`.safetensors`, `.pt`/`.pth`)
//! and out (`.safetensors`).
//!
//! Models. MedMNIST's experiments (`experiments/MedMNIST2D`) train two kinds of ResNet:
//! - at 28 px, `models.py` (after kuangliu's pytorch-cifar): ResNet-18 (BasicBlocks) and
//!   ResNet-50 (Bottlenecks) with a 3x3 stride-1 stem and no max-pool, named `conv1`, `bn1`,
//!   `layerN.i.{conv1,bn1,conv2,bn2[,conv3,bn3]}`, `layerN.i.shortcut.{0,1}` and `linear`;
//! - at 224 px, torchvision's `resnet18`/`resnet50` (7x7 stride-2 stem and max-pool, named
//!   `downsample.{0,1}` and `fc`) on RGB copies (`as_rgb`) of the 28 px images upsampled with
//!   nearest neighbours.
//!
//! Both import: the stem's kernel (3x3 or 7x7) says which [`Stem`], `conv3` in the first block
//! says Bottleneck, and a torchvision model on 28 px data gets MedMNIST's 28 → 224 nearest
//! upsampling. An RGB stem on grayscale data is folded into one channel (the three weights
//! summed: exact, because `as_rgb` feeds three equal channels). A prefix every key shares
//! (`module.`, `model.`, `net.`, `state_dict.`) is dropped. The plain CNNs keep our names
//! (`stem.{conv,bn}`, `layerN.i.{conv,bn}`, `fc`): a PyTorch module with those attribute names
//! loads them.
//!
//! Export writes the names of the module each model came from: MedMNIST's for the 3x3 stem,
//! torchvision's (`fc`, `downsample`, a three-channel `conv1`, the gray weight `w` spread as
//! `[w/3, w/3, w - 2(w/3)]`, which sums back to `w` exactly) for the 7x7 one, so the file loads
//! strictly into `torchvision.models.resnet50(num_classes=2)`.
//!
//! Layouts. Convolutions are `[out, in, kh, kw]` in both; a Linear weight is `[out, in]` in
//! PyTorch and `[in, out]` in burn (transposed here); BatchNorm's `weight`/`bias` are burn's
//! `gamma`/`beta`, the running statistics are the same, and `num_batches_tracked` (an `int64`
//! scalar PyTorch's strict loading asks for) is written as 0 and ignored on import.
//!
//! Imports become our [`Checkpoint`], so everything that takes a checkpoint (evaluation,
//! Grad-CAM, fine-tuning) takes a PyTorch model. The architecture comes from the names and
//! shapes (or the caller names it); every check — 2 classes, the data's channels, a 3x3 stem,
//! BasicBlocks, every key present, no key left over, every shape — runs before a model is
//! allocated, and the first failure is named. `.pt`/`.pth` files are read from a path by burn's
//! `pytorch-reader` (native: every format torch.save wrote) or from memory by
//! [`crate::torch_zip`] (everywhere: the ZIP format of PyTorch 1.6 and later).
//!
//! It must not know about the browser; files are read only by [`read_pytorch_file`].

use std::collections::{BTreeMap, HashMap};

use burn::tensor::Device;
use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use crate::checkpoint::{self, Checkpoint, CheckpointError};
use crate::model::{Family, ModelConfig, ModelSize, Network, Resample, Stem};
use crate::read::ReadError;
use crate::weights;

/// A tensor of a PyTorch state dict: its shape and row-major values as `f32`.
#[derive(Clone, Debug, PartialEq)]
pub struct TorchTensor {
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// A PyTorch state dict, by PyTorch name.
pub type StateDict = BTreeMap<String, TorchTensor>;

/// The weight formats this module and [`checkpoint`] tell apart by their first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Our `.ckpt` (`BMNCKPT1`).
    Ours,
    /// A `.safetensors` file.
    Safetensors,
    /// PyTorch's `.pt`/`.pth`: a ZIP (PyTorch 1.6+) or a legacy pickle stream.
    Pytorch,
}

impl Format {
    /// The format of `bytes`, if it is one of ours.
    pub fn sniff(bytes: &[u8]) -> Option<Format> {
        if bytes.starts_with(checkpoint::MAGIC) {
            return Some(Format::Ours);
        }
        if bytes.starts_with(b"PK\x03\x04") {
            return Some(Format::Pytorch);
        }
        // Before the pickle's 0x80: a safetensors header of 128 (mod 256) bytes starts with it.
        let header = bytes.get(..8).map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default()));
        match (header, bytes.get(8)) {
            (Some(n), Some(b'{')) if n >= 2 && n <= bytes.len() as u64 - 8 => Some(Format::Safetensors),
            _ if bytes.starts_with(&[0x80]) => Some(Format::Pytorch),
            _ => None,
        }
    }
}

/// Everything that can be wrong with a PyTorch state dict.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TorchError {
    #[error("not a model file: expected a BreastMNIST Lab .ckpt, a .safetensors or a PyTorch .pt/.pth state_dict")]
    Unknown,
    #[error("the .safetensors file is unreadable: {0}")]
    Safetensors(String),
    #[error("the PyTorch file is unreadable: {0}")]
    Pytorch(String),
    #[error(
        "this .pt/.pth is in PyTorch's legacy (before 1.6) format, read by the command line only (`breastmnist eval \
         --checkpoint FILE`); or save the state_dict again with a current PyTorch, or as .safetensors"
    )]
    PytorchNeedsFile,
    #[error("tensor '{name}' is {dtype}; only floating-point weights (F32, F16, BF16, F64) can be loaded")]
    Dtype { name: String, dtype: String },
    #[error("{0}")]
    Unsupported(String),
    #[error("the state_dict has no tensor '{0}' (a {1} needs it)")]
    Missing(String, String),
    #[error("the state_dict has a tensor '{0}' that a {1} does not have")]
    Unexpected(String, String),
    #[error("tensor '{name}' has shape {found:?}; a {model} needs {expected:?}")]
    Shape { name: String, found: Vec<usize>, expected: Vec<usize>, model: String },
    #[error("the model has {found} output classes but the data has {expected}")]
    Classes { found: usize, expected: usize },
    #[error("the model takes {found}-channel images but the data has {expected} channel(s)")]
    Channels { found: usize, expected: usize },
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error(transparent)]
    Read(#[from] ReadError),
}

/// A `.safetensors` file's tensors (any float type, as `f32`).
pub fn read_safetensors(bytes: &[u8]) -> Result<StateDict, TorchError> {
    let st = SafeTensors::deserialize(bytes).map_err(|e| TorchError::Safetensors(e.to_string()))?;
    st.iter()
        .map(|(name, view)| {
            let values = floats(name, view.dtype(), view.data())?;
            Ok((name.to_string(), TorchTensor { shape: view.shape().to_vec(), values }))
        })
        .collect()
}

/// A PyTorch `.pt`/`.pth` file's tensors (a state dict, possibly nested under a key such as
/// MedMNIST's `net`, or a whole saved module). Native only: burn's reader needs a file.
#[cfg(not(target_arch = "wasm32"))]
pub fn read_pytorch_file(path: &std::path::Path) -> Result<StateDict, TorchError> {
    use pytorch_reader::{DType, PytorchReader};
    let reader = PytorchReader::new(path).map_err(|e| TorchError::Pytorch(e.to_string()))?;
    reader
        .into_tensors()
        .into_iter()
        .map(|(name, t)| {
            let dtype = match t.dtype() {
                DType::F32 => Dtype::F32,
                DType::F16 => Dtype::F16,
                DType::BF16 => Dtype::BF16,
                DType::F64 => Dtype::F64,
                DType::I64 => Dtype::I64,
                other => return Err(TorchError::Dtype { name, dtype: format!("{other:?}") }),
            };
            let bytes = t.read().map_err(|e| TorchError::Pytorch(e.to_string()))?;
            let values = floats(&name, dtype, &bytes)?;
            Ok((name, TorchTensor { shape: t.shape().to_vec(), values }))
        })
        .collect()
}

/// A `torch.save` ZIP checkpoint's tensors from memory (see [`crate::torch_zip`]).
pub fn read_pytorch_bytes(bytes: &[u8]) -> Result<StateDict, TorchError> {
    crate::torch_zip::read(bytes)
        .map_err(TorchError::Pytorch)?
        .into_iter()
        .map(|(name, dtype, shape, data)| {
            let values = floats(&name, dtype, &data)?;
            Ok((name, TorchTensor { shape, values }))
        })
        .collect()
}

/// Little-endian `bytes` of `dtype` as `f32` (integer tensors only for `num_batches_tracked`,
/// which is dropped later; other integer tensors are refused).
fn floats(name: &str, dtype: Dtype, bytes: &[u8]) -> Result<Vec<f32>, TorchError> {
    let wrong = || TorchError::Dtype { name: name.to_string(), dtype: dtype.to_string() };
    Ok(match dtype {
        Dtype::F32 => bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
        Dtype::F64 => bytes.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().unwrap_or_default()) as f32).collect(),
        Dtype::F16 => bytes.chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
        Dtype::BF16 => bytes.chunks_exact(2).map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
        Dtype::I64 if name.ends_with("num_batches_tracked") => Vec::new(),
        _ => return Err(wrong()),
    })
}

/// Our burn path (after the [`Network`] variant) → PyTorch name, MedMNIST's for the ResNets
/// (the names imports are checked against; see [`torchvision_name`] for export), the
/// `efficientnet_lite_pytorch` port's for Lite0 ([`lite0_name`]).
fn torch_name(family: Family, path: &str) -> String {
    let path = path.split_once('.').map_or(path, |(_, rest)| rest);
    if family == Family::EfficientNet {
        return lite0_name(path);
    }
    let mut s = path.replace(".shortcut.conv.", ".shortcut.0.").replace(".shortcut.bn.", ".shortcut.1.");
    if let Some(stem) = s.strip_suffix(".gamma") {
        s = format!("{stem}.weight");
    } else if let Some(stem) = s.strip_suffix(".beta") {
        s = format!("{stem}.bias");
    }
    match (family, s.strip_prefix("fc.")) {
        (Family::ResNet, Some(rest)) => format!("linear.{rest}"),
        _ => s,
    }
}

/// A Lite0 path (`stem.bn.gamma`, `blocks.3.expand.conv.weight`, `head_conv.bn.running_var`,
/// `fc.weight`) → the PyTorch port's name (`_bn0.weight`, `_blocks.3._expand_conv.weight`,
/// `_bn1.running_var`, `_fc.weight`).
fn lite0_name(path: &str) -> String {
    let (layer, leaf) = path.rsplit_once('.').unwrap_or(("", path));
    let leaf = match leaf {
        "gamma" => "weight",
        "beta" => "bias",
        other => other,
    };
    let module = match layer.split('.').collect::<Vec<_>>()[..] {
        ["stem", "conv"] => "_conv_stem".to_string(),
        ["stem", "bn"] => "_bn0".to_string(),
        ["head_conv", "conv"] => "_conv_head".to_string(),
        ["head_conv", "bn"] => "_bn1".to_string(),
        ["fc"] => "_fc".to_string(),
        ["blocks", n, part, kind] => {
            let inner = match (part, kind) {
                ("expand", "conv") => "_expand_conv",
                ("expand", "bn") => "_bn0",
                ("depthwise", "conv") => "_depthwise_conv",
                ("depthwise", "bn") => "_bn1",
                ("project", "conv") => "_project_conv",
                ("project", "bn") => "_bn2",
                _ => return path.to_string(),
            };
            format!("_blocks.{n}.{inner}")
        }
        _ => return path.to_string(),
    };
    format!("{module}.{leaf}")
}

/// MedMNIST's ResNet name → torchvision's (`linear` → `fc`, `shortcut` → `downsample`).
fn torchvision_name(name: &str) -> String {
    let name = name.replace(".shortcut.", ".downsample.");
    match name.strip_prefix("linear.") {
        Some(rest) => format!("fc.{rest}"),
        None => name,
    }
}

/// A `[out, 1, kh, kw]` stem weight as `[out, 3, kh, kw]` whose three channels sum back to it
/// exactly in `f32` (`a + a` is exact, and `w - 2a` is exact by Sterbenz's lemma, as `2a` is
/// within a factor of two of `w`): `[a, a, w - 2a]` with `a = w / 3`.
fn spread_to_rgb(t: TorchTensor) -> TorchTensor {
    let [out, 1, kh, kw] = t.shape[..] else { return t };
    let plane = kh * kw;
    let mut values = Vec::with_capacity(t.values.len() * 3);
    for o in 0..out {
        let w = &t.values[o * plane..(o + 1) * plane];
        let a: Vec<f32> = w.iter().map(|v| v / 3.0).collect();
        values.extend_from_slice(&a);
        values.extend_from_slice(&a);
        values.extend(w.iter().zip(&a).map(|(w, a)| w - (a + a)));
    }
    TorchTensor { shape: vec![out, 3, kh, kw], values }
}

/// A `[out, c, kh, kw]` stem weight folded to `[out, 1, kh, kw]`: the channels summed in order,
/// which is what the stem computes when the `c` input channels are equal copies of one.
fn fold_to_gray(t: &TorchTensor) -> TorchTensor {
    let [out, c, kh, kw] = t.shape[..] else { return t.clone() };
    let plane = kh * kw;
    let values = (0..out)
        .flat_map(|o| (0..plane).map(move |i| (0..c).fold(0.0f32, |sum, ch| sum + t.values[(o * c + ch) * plane + i])))
        .collect();
    TorchTensor { shape: vec![out, 1, kh, kw], values }
}

/// PyTorch's shape for a tensor of burn shape `shape` (Linear weights are transposed).
fn torch_shape(shape: &[usize]) -> Vec<usize> {
    if shape.len() == 2 { vec![shape[1], shape[0]] } else { shape.to_vec() }
}

/// A `rows x cols` row-major matrix transposed.
fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; values.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = values[r * cols + c];
        }
    }
    out
}

/// `dict` with a prefix every key shares dropped, `num_batches_tracked` left out, and
/// torchvision's names (`fc`, `downsample`) of a ResNet's tensors renamed to MedMNIST's.
fn normalise(mut dict: StateDict) -> StateDict {
    dict.retain(|k, _| !k.ends_with("num_batches_tracked"));
    'strip: loop {
        for prefix in ["module.", "model.", "net.", "state_dict.", "model_state_dict."] {
            if !dict.is_empty() && dict.keys().all(|k| k.starts_with(prefix)) {
                dict = dict.into_iter().map(|(k, v)| (k[prefix.len()..].to_string(), v)).collect();
                continue 'strip;
            }
        }
        break;
    }
    if dict.contains_key("layer1.0.conv1.weight") {
        dict = dict
            .into_iter()
            .map(|(k, v)| {
                let k = k.replace(".downsample.", ".shortcut.");
                let k = match k.strip_prefix("fc.") {
                    Some(rest) => format!("linear.{rest}"),
                    None => k,
                };
                (k, v)
            })
            .collect();
    }
    dict
}

/// What the names and shapes of a state dict say about its model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Found {
    family: Family,
    /// The name of the first convolution's weight (`conv1.weight` or `stem.conv.weight`).
    first: &'static str,
    /// Channels of the first convolution's output.
    width: usize,
    bottleneck: bool,
    stem: Stem,
    /// The first convolution takes RGB and the data is grayscale: fold it (see the module docs).
    fold: bool,
    /// The head's outputs: the data's classes, or ImageNet's 1,000 for a Lite0 starting point.
    classes: usize,
}

/// The architecture `dict` holds: family, block and stem from the names and the first
/// convolution's kernel, base width, channels, classes. Refuses what the zoo cannot hold before
/// anything is allocated.
fn architecture(dict: &StateDict, channels: usize, classes: usize) -> Result<Found, TorchError> {
    let (family, first) = if dict.contains_key("layer1.0.conv1.weight") {
        (Family::ResNet, "conv1.weight")
    } else if dict.contains_key("stem.conv.weight") {
        (Family::Cnn, "stem.conv.weight")
    } else if dict.contains_key("_conv_stem.weight") {
        (Family::EfficientNet, "_conv_stem.weight")
    } else {
        let some: Vec<&str> = dict.keys().take(3).map(String::as_str).collect();
        return Err(TorchError::Unsupported(format!(
            "the state_dict is not a MedMNIST ResNet, one of our CNNs or EfficientNet-Lite0 (no 'layer1.0.conv1.weight', \
             'stem.conv.weight' or '_conv_stem.weight'; its first keys: {some:?})"
        )));
    };
    let bottleneck = dict.contains_key("layer1.0.conv3.weight");
    let stem = dict.get(first).ok_or_else(|| TorchError::Missing(first.into(), "MedMNIST ResNet".into()))?;
    let [width, c, kh, kw] = stem.shape[..] else {
        return Err(TorchError::Unsupported(format!("'{first}' has shape {:?}, not a 2-D convolution", stem.shape)));
    };
    let stem = match (family, kh, kw) {
        (_, 3, 3) => Stem::Medmnist,
        (Family::ResNet, 7, 7) => Stem::Torchvision,
        _ => {
            return Err(TorchError::Unsupported(format!(
                "'{first}' is a {kh}x{kw} convolution; the lab's models start with a 3x3 convolution (MedMNIST's 28 px \
                 stem) or, for the ResNets, torchvision's 7x7 one"
            )));
        }
    };
    // Lite0 always takes three channels (a gray image is copied to them: see model::lite0).
    let lite0 = family == Family::EfficientNet;
    let fold = c == 3 && channels == 1 && !lite0;
    if c != channels && !fold && !(lite0 && c == 3) {
        return Err(TorchError::Channels { found: c, expected: channels });
    }
    let head = match family {
        Family::ResNet => "linear.weight",
        Family::Cnn => "fc.weight",
        Family::EfficientNet => "_fc.weight",
    };
    let mut outputs = classes;
    if let Some(h) = dict.get(head)
        && h.shape.len() == 2
        && h.shape[0] != classes
    {
        // Lite0 is a starting point: its ImageNet head is kept, and fine-tuning replaces it.
        if !lite0 || h.shape[0] > crate::model::MAX_CLASSES {
            return Err(TorchError::Classes { found: h.shape[0], expected: classes });
        }
        outputs = h.shape[0];
    }
    Ok(Found { family, first, width, bottleneck, stem, fold, classes: outputs })
}

/// The PyTorch names and shapes of `config`'s model, in the model's order (on the CPU; tiny
/// next to the weights themselves).
fn expected(config: &ModelConfig) -> Result<Vec<(String, String, Vec<usize>)>, TorchError> {
    let model = config.init(&Device::flex(), 0).map_err(CheckpointError::from)?;
    let family = config.size.family();
    Ok(weights::shapes(&model).into_iter().map(|(path, shape)| (torch_name(family, &path), path, shape)).collect())
}

/// Checks `dict` against `config`'s names and shapes: the first missing key, extra key or
/// wrong shape is the error.
fn check(dict: &StateDict, config: &ModelConfig) -> Result<Vec<(String, String, Vec<usize>)>, TorchError> {
    let want = expected(config)?;
    let model = format!("'{}' model", config.size);
    for (name, _, shape) in &want {
        let t = dict.get(name).ok_or_else(|| TorchError::Missing(name.clone(), model.clone()))?;
        let torch = torch_shape(shape);
        if t.shape != torch || t.values.len() != shape.iter().product::<usize>() {
            return Err(TorchError::Shape { name: name.clone(), found: t.shape.clone(), expected: torch, model });
        }
    }
    let known: std::collections::HashSet<&str> = want.iter().map(|(n, _, _)| n.as_str()).collect();
    if let Some(extra) = dict.keys().find(|k| !known.contains(k.as_str())) {
        return Err(TorchError::Unexpected(extra.clone(), model));
    }
    Ok(want)
}

/// Our checkpoint of the two-class model a PyTorch state dict holds, for `input_size` px
/// images with `channels` channels. `size` names the architecture; `None` infers it from the
/// names and shapes (the zoo member of that family and width whose tensors match exactly).
pub fn to_checkpoint(
    dict: StateDict,
    input_size: usize,
    channels: usize,
    size: Option<ModelSize>,
) -> Result<Checkpoint, TorchError> {
    to_checkpoint_for(dict, input_size, channels, Outputs::TWO_CLASSES, size)
}

/// What a model's head puts out: `classes` scores (labels, for multi-label), read with softmax
/// or, for multi-label, a sigmoid per label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outputs {
    pub classes: usize,
    pub multi_label: bool,
}

impl Outputs {
    /// BreastMNIST's, and every binary set's.
    pub const TWO_CLASSES: Outputs = Outputs { classes: 2, multi_label: false };

    /// The outputs a model for `data` has.
    pub fn of(data: &breastmnist_data::Dataset) -> Outputs {
        Outputs { classes: data.classes().max(2), multi_label: matches!(data.targets, breastmnist_data::Targets::MultiLabel(_)) }
    }
}

/// [`to_checkpoint`] for a head of any `outputs` (a k-class or multi-label MedMNIST set's).
pub fn to_checkpoint_for(
    dict: StateDict,
    input_size: usize,
    channels: usize,
    outputs: Outputs,
    size: Option<ModelSize>,
) -> Result<Checkpoint, TorchError> {
    let mut dict = normalise(dict);
    let Found { family, first, width, bottleneck, stem, fold, classes } = architecture(&dict, channels, outputs.classes)?;
    // A Lite0 starting point keeps ImageNet's softmax head.
    let outputs = if classes == outputs.classes { outputs } else { Outputs { classes, multi_label: false } };
    if fold && let Some(t) = dict.get_mut(first) {
        *t = fold_to_gray(t);
    }
    // MedMNIST's 224 px rows: the 28 px images upsampled with nearest neighbours.
    let resize = (stem == Stem::Torchvision && input_size == 28).then_some(224);
    let config = |s: ModelSize| {
        ModelConfig::of(s)
            .with_in_channels(channels)
            .with_num_classes(outputs.classes)
            .with_multi_label(outputs.multi_label)
            .with_input_size(input_size)
            .with_stem(stem)
            .with_resize(resize)
            .with_resample(if resize.is_some() { Resample::Nearest } else { Resample::Bilinear })
    };
    let (config, want) = match size {
        Some(s) => (config(s), check(&dict, &config(s))?),
        None => {
            let candidates: Vec<ModelSize> = ModelSize::ALL
                .into_iter()
                .filter(|s| s.family() == family && s.base_width() == width && s.bottleneck() == bottleneck)
                .collect();
            let Some(&first) = candidates.first() else {
                let block = if bottleneck { "Bottleneck " } else { "" };
                return Err(TorchError::Unsupported(format!(
                    "no {block}{family:?} in the lab's zoo starts with {width} channels (tiny 8, small 16, medium 32, resnet18 \
                     and resnet50 64; c8/c16/c32; lite0 32)"
                )));
            };
            match candidates.iter().find_map(|&s| check(&dict, &config(s)).ok().map(|w| (s, w))) {
                Some((s, w)) => (config(s), w),
                // Report the mismatch against the likeliest member.
                None => (config(first), check(&dict, &config(first))?),
            }
        }
    };
    let values: HashMap<_, _> = want
        .into_iter()
        .map(|(name, path, shape)| {
            let t = dict.remove(&name).unwrap_or_else(|| TorchTensor { shape: Vec::new(), values: Vec::new() });
            let values = if shape.len() == 2 { transpose(&t.values, shape[1], shape[0]) } else { t.values };
            (path, (None, values))
        })
        .collect();
    let cpu = Device::flex();
    let model = weights::build(&config, &cpu, values)
        .map_err(|e| CheckpointError::Weights { model: config.size.to_string(), reason: e.to_string() })?;
    let bytes = checkpoint::save(&model, &config)?;
    Ok(Checkpoint::from_bytes(&bytes)?)
}

/// `model`'s state dict under the names and layouts of the PyTorch module it matches (see the
/// module docs).
pub async fn state_dict(model: &Network, config: &ModelConfig) -> Result<StateDict, TorchError> {
    if config.prototypes.is_some() {
        return Err(TorchError::Unsupported(
            "a prototype head (ProtoPNet) has no PyTorch module in the README to load it into; its checkpoint, metrics and \
             explanations export, its weights do not"
                .into(),
        ));
    }
    let family = config.size.family();
    let torchvision = config.stem == Stem::Torchvision;
    Ok(weights::read(model)
        .await?
        .into_iter()
        .map(|n| {
            let values = if n.shape.len() == 2 { transpose(&n.values, n.shape[0], n.shape[1]) } else { n.values };
            let (name, t) = (torch_name(family, &n.path), TorchTensor { shape: torch_shape(&n.shape), values });
            match (torchvision, name.as_str()) {
                (true, "conv1.weight") => (name, spread_to_rgb(t)),
                (true, _) => (torchvision_name(&name), t),
                (false, _) => (name, t),
            }
        })
        .collect())
}

/// A `.safetensors` file of the checkpoint's model, loadable with `load_state_dict` into the
/// PyTorch module the README gives (strict: `num_batches_tracked` included).
pub async fn to_safetensors(ckpt: &Checkpoint) -> Result<Vec<u8>, TorchError> {
    let model = ckpt.load(&Device::flex())?;
    let dict = state_dict(&model, &ckpt.config).await?;
    let mut bytes: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::with_capacity(dict.len() * 5 / 4);
    for (name, t) in dict {
        if let Some(bn) = name.strip_suffix(".running_var") {
            bytes.push((format!("{bn}.num_batches_tracked"), Dtype::I64, Vec::new(), 0i64.to_le_bytes().to_vec()));
        }
        bytes.push((name, Dtype::F32, t.shape, t.values.iter().flat_map(|v| v.to_le_bytes()).collect()));
    }
    let views = bytes
        .iter()
        .map(|(name, dtype, shape, data)| {
            TensorView::new(*dtype, shape.clone(), data)
                .map(|v| (name.clone(), v))
                .map_err(|e| TorchError::Safetensors(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let c = &ckpt.config;
    let meta = HashMap::from([
        ("format".to_string(), "pt".to_string()),
        ("breastmnist.model".to_string(), c.size.to_string()),
        ("breastmnist.input_size".to_string(), c.input_size.to_string()),
        ("breastmnist.in_channels".to_string(), c.in_channels.to_string()),
        ("breastmnist.stem".to_string(), c.stem.name().to_string()),
        ("breastmnist.resize".to_string(), c.resize.map_or("none".to_string(), |r| format!("{r} {}", c.resample.name()))),
    ]);
    safetensors::serialize(views, Some(meta)).map_err(|e| TorchError::Safetensors(e.to_string()))
}

/// Our checkpoint from any weight file's bytes: our `.ckpt` as is, a `.safetensors` or a
/// `torch.save` ZIP state dict converted (see [`to_checkpoint`]). PyTorch's legacy pickle
/// stream needs a path ([`read_pytorch_file`]): [`TorchError::PytorchNeedsFile`] here.
pub fn checkpoint_from_bytes(
    bytes: &[u8],
    input_size: usize,
    channels: usize,
    size: Option<ModelSize>,
) -> Result<Checkpoint, TorchError> {
    checkpoint_from_bytes_for(bytes, input_size, channels, Outputs::TWO_CLASSES, size)
}

/// [`checkpoint_from_bytes`] for a head of any `outputs`.
pub fn checkpoint_from_bytes_for(
    bytes: &[u8],
    input_size: usize,
    channels: usize,
    outputs: Outputs,
    size: Option<ModelSize>,
) -> Result<Checkpoint, TorchError> {
    match Format::sniff(bytes) {
        Some(Format::Ours) => Ok(Checkpoint::from_bytes(bytes)?),
        Some(Format::Safetensors) => to_checkpoint_for(read_safetensors(bytes)?, input_size, channels, outputs, size),
        Some(Format::Pytorch) if bytes.starts_with(b"PK\x03\x04") => {
            to_checkpoint_for(read_pytorch_bytes(bytes)?, input_size, channels, outputs, size)
        }
        Some(Format::Pytorch) => Err(TorchError::PytorchNeedsFile),
        None => Err(TorchError::Unknown),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_lite::future::block_on;

    fn dict_of(size: ModelSize, seed: u64) -> (Network, StateDict) {
        let config = ModelConfig::of(size);
        let model = config.init(&Device::flex(), seed).unwrap();
        let dict = block_on(state_dict(&model, &config)).unwrap();
        (model, dict)
    }

    #[test]
    fn resnet_names_follow_medmnist() {
        let (_, dict) = dict_of(ModelSize::Tiny, 1);
        for key in [
            "conv1.weight",
            "bn1.weight",
            "bn1.bias",
            "bn1.running_mean",
            "bn1.running_var",
            "layer1.0.conv1.weight",
            "layer1.0.bn2.weight",
            "layer2.0.shortcut.0.weight",
            "layer2.0.shortcut.1.running_var",
            "linear.weight",
            "linear.bias",
        ] {
            assert!(dict.contains_key(key), "{key} missing from {:?}", dict.keys().collect::<Vec<_>>());
        }
        assert_eq!(dict["linear.weight"].shape, vec![2, 64]);
        assert_eq!(dict["conv1.weight"].shape, vec![8, 1, 3, 3]);
        assert!(!dict.keys().any(|k| k.contains("gamma") || k.contains("beta") || k.starts_with("fc.")));
    }

    #[test]
    fn errors_name_the_first_missing_extra_or_misshapen_tensor() {
        let (_, dict) = dict_of(ModelSize::Tiny, 2);
        let mut d = dict.clone();
        d.remove("layer3.0.bn1.running_mean");
        let e = to_checkpoint(d, 28, 1, None).unwrap_err();
        assert_eq!(e, TorchError::Missing("layer3.0.bn1.running_mean".into(), "'tiny' model".into()), "{e}");
        let mut d = dict.clone();
        d.insert("layer9.weight".into(), TorchTensor { shape: vec![1], values: vec![0.0] });
        let e = to_checkpoint(d, 28, 1, Some(ModelSize::Tiny)).unwrap_err();
        assert!(e.to_string().contains("'layer9.weight'"), "{e}");
        let mut d = dict.clone();
        d.insert("layer1.0.conv2.weight".into(), TorchTensor { shape: vec![8, 8, 1, 1], values: vec![0.0; 64] });
        let e = to_checkpoint(d, 28, 1, None).unwrap_err();
        assert!(e.to_string().contains("'layer1.0.conv2.weight' has shape [8, 8, 1, 1]"), "{e}");
        let mut d = dict.clone();
        d.insert("linear.weight".into(), TorchTensor { shape: vec![3, 64], values: vec![0.0; 192] });
        assert_eq!(to_checkpoint(d.clone(), 28, 1, None).unwrap_err(), TorchError::Classes { found: 3, expected: 2 });
        // The same head (with its bias) is right for three-class data.
        d.insert("linear.bias".into(), TorchTensor { shape: vec![3], values: vec![0.0; 3] });
        let three = Outputs { classes: 3, multi_label: false };
        let ckpt = to_checkpoint_for(d, 28, 1, three, None).unwrap();
        assert_eq!((ckpt.config.num_classes, ckpt.config.multi_label), (3, false));
        assert_eq!(to_checkpoint(dict.clone(), 28, 3, None).unwrap_err(), TorchError::Channels { found: 1, expected: 3 });
        let mut d = dict.clone();
        d.insert("layer1.0.conv3.weight".into(), TorchTensor { shape: vec![1], values: vec![0.0] });
        let e = to_checkpoint(d, 28, 1, None).unwrap_err().to_string();
        assert!(e.contains("no Bottleneck ResNet in the lab's zoo starts with 8 channels"), "{e}");
        let mut d = dict.clone();
        d.insert("conv1.weight".into(), TorchTensor { shape: vec![8, 1, 5, 5], values: vec![0.0; 200] });
        assert!(to_checkpoint(d, 28, 1, None).unwrap_err().to_string().contains("'conv1.weight' is a 5x5 convolution"));
        // A 7x7 stem is torchvision's: the rest must then match too.
        let mut d = dict;
        d.insert("conv1.weight".into(), TorchTensor { shape: vec![8, 2, 7, 7], values: vec![0.0; 784] });
        assert_eq!(to_checkpoint(d, 28, 1, None).unwrap_err(), TorchError::Channels { found: 2, expected: 1 });
        assert_eq!(checkpoint_from_bytes(b"hello world", 28, 1, None).unwrap_err(), TorchError::Unknown);
        assert!(matches!(checkpoint_from_bytes(b"PK\x03\x04....", 28, 1, None), Err(TorchError::Pytorch(_))));
        assert_eq!(checkpoint_from_bytes(&[0x80, 2, 0x8a], 28, 1, None).unwrap_err(), TorchError::PytorchNeedsFile);
        // A safetensors header whose length's low byte is 0x80 is not a pickle.
        let mut st = vec![0x80, 0, 0, 0, 0, 0, 0, 0];
        st.extend(std::iter::once(b'{').chain(std::iter::repeat_n(b' ', 126)).chain([b'}']));
        assert_eq!(Format::sniff(&st), Some(Format::Safetensors));
    }

    #[test]
    fn an_rgb_stem_spread_for_export_folds_back_bit_for_bit() {
        let mut rng = crate::rng::Rng::new(9);
        let values: Vec<f32> = (0..4 * 49).map(|_| rng.uniform(-3.0, 3.0) * 10f32.powi(rng.below(9) as i32 - 4)).collect();
        let gray = TorchTensor { shape: vec![4, 1, 7, 7], values };
        let rgb = spread_to_rgb(gray.clone());
        assert_eq!(rgb.shape, vec![4, 3, 7, 7]);
        assert_eq!(fold_to_gray(&rgb), gray);
        // The three channels are nearly equal thirds, as an RGB copy of the image would use them.
        assert!((rgb.values[0] * 3.0 - gray.values[0]).abs() <= gray.values[0].abs() * 1e-6);
    }

    #[test]
    fn torchvision_names_and_a_shared_prefix_are_accepted() {
        let (_, dict) = dict_of(ModelSize::Tiny, 3);
        let renamed: StateDict = dict
            .iter()
            .map(|(k, v)| {
                let k = k.replace(".shortcut.", ".downsample.").replace("linear.", "fc.");
                (format!("module.{k}"), v.clone())
            })
            .chain([("module.bn1.num_batches_tracked".to_string(), TorchTensor { shape: vec![], values: vec![] })])
            .collect();
        let ckpt = to_checkpoint(renamed, 28, 1, None).unwrap();
        assert_eq!(ckpt.config.size, ModelSize::Tiny);
    }
}

//! Checkpoints: a model's configuration and weights as one self-describing byte buffer.
//!
//! Layout (all little-endian):
//!
//! | bytes        | content                                                   |
//! |--------------|-----------------------------------------------------------|
//! | 8            | magic `BMNCKPT1`                                          |
//! | 4            | `u32` length `L` of the JSON                              |
//! | `L`          | the [`ModelConfig`] as JSON                               |
//! | rest         | burn's record of the weights (`Module::into_record` → burnpack bytes) |
//!
//! The same bytes serve files (`best.ckpt`) and browser storage. burn's `into_record` reads
//! every parameter *synchronously*, which panics on WebGPU; [`save_async`] therefore reads the
//! parameters in one asynchronous transaction, places them on the CPU (Flex) device, and records that
//! copy, producing an equivalent checkpoint. Use [`save`] only where synchronous reads are allowed
//! (native code, the Flex backend). Loading never reads tensors back, so it works everywhere.
//!
//! This module must not know about files, training or the browser: it maps models to bytes.

use burn::module::{Module, ModuleMapper, Param};
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device, FloatDType, Tensor};

use crate::model::{ModelConfig, ModelError, Network};
use crate::read::ReadError;
use crate::weights;

/// The first 8 bytes of every checkpoint.
pub const MAGIC: &[u8; 8] = b"BMNCKPT1";

/// Everything that can be wrong with a checkpoint.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CheckpointError {
    #[error("not a BreastMNIST Lab checkpoint (the file does not start with '{}')", String::from_utf8_lossy(MAGIC))]
    Magic,
    #[error("the checkpoint is truncated ({0})")]
    Truncated(&'static str),
    #[error("the checkpoint's model configuration is unreadable: {0}")]
    Config(String),
    #[error("the checkpoint holds a '{found}' model ({found_config}) but a '{expected}' model ({expected_config}) was asked for")]
    Mismatch { expected: String, found: String, expected_config: String, found_config: String },
    #[error("the checkpoint's weights do not fit its '{model}' configuration: {reason}")]
    Weights { model: String, reason: String },
    #[error("writing the weights failed: {0}")]
    Record(String),
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// A checkpoint split into its configuration and its burn record bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    pub config: ModelConfig,
    /// burnpack bytes of the weights (burn's `ModuleRecord::into_bytes`).
    pub record: Vec<u8>,
}

impl Checkpoint {
    /// The full byte buffer: magic, JSON length, JSON config, record.
    pub fn to_bytes(&self) -> Vec<u8> {
        let json = serde_json::to_vec(&self.config).unwrap_or_default();
        let mut out = Vec::with_capacity(12 + json.len() + self.record.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(json.len() as u32).to_le_bytes());
        out.extend_from_slice(&json);
        out.extend_from_slice(&self.record);
        out
    }

    /// Parses the header and keeps the record bytes (nothing is loaded yet).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CheckpointError> {
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(CheckpointError::Magic);
        }
        let rest = &bytes[MAGIC.len()..];
        if rest.len() < 4 {
            return Err(CheckpointError::Truncated("no configuration length"));
        }
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let rest = &rest[4..];
        if rest.len() < len {
            return Err(CheckpointError::Truncated("configuration cut short"));
        }
        let config: ModelConfig = serde_json::from_slice(&rest[..len]).map_err(|e| CheckpointError::Config(e.to_string()))?;
        config.validate()?;
        Ok(Checkpoint { config, record: rest[len..].to_vec() })
    }

    /// Builds the model the checkpoint describes on `device` and loads its weights.
    ///
    /// The record holds the family's own module (a `ResNet` or a `Cnn`), not the [`Network`]
    /// wrapper, so checkpoints written before the CNN family existed load unchanged.
    pub fn load(&self, device: &Device) -> Result<Network, CheckpointError> {
        let model = self.config.init(device, 0)?;
        let weights = |e: String| CheckpointError::Weights { model: self.config.size.to_string(), reason: e };
        // A half-precision record ([`Checkpoint::to_half`]) is cast to the model's own f32.
        let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(self.record.clone()))
            .map_err(|e| weights(e.to_string()))?
            .cast_to_module_dtype();
        model.with_record(record).map_err(weights)
    }

    /// The same checkpoint with every float tensor stored in half precision (f16): half the
    /// bytes, for a starting point a page serves. [`load`](Self::load) casts it back to f32, so
    /// a model loaded from it computes with its weights rounded to f16 (about 3 significant
    /// digits). Built on the CPU (Flex) device. A value beyond f16's range (±65,504) is refused
    /// rather than stored as infinity.
    pub fn to_half(&self) -> Result<Checkpoint, CheckpointError> {
        struct Half {
            largest: f32,
        }
        impl ModuleMapper for Half {
            fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
                param.map(|t| {
                    let top = t.clone().abs().max().into_data().try_into_vec::<f32>().ok().and_then(|v| v.first().copied());
                    // An unreadable or NaN maximum counts as out of range.
                    self.largest = self.largest.max(top.filter(|v| !v.is_nan()).unwrap_or(f32::INFINITY));
                    t.cast(FloatDType::F16)
                })
            }
        }
        let mut half = Half { largest: 0.0 };
        let model = self.load(&Device::flex())?.map(&mut half);
        if half.largest > f32::from(half::f16::MAX) {
            return Err(CheckpointError::Weights {
                model: self.config.size.to_string(),
                reason: format!("a value of magnitude {} does not fit half precision (at most 65504)", half.largest),
            });
        }
        let record = model.record().into_bytes().map_err(|e| CheckpointError::Record(e.to_string()))?;
        Ok(Checkpoint { config: self.config.clone(), record: record.to_vec() })
    }

    /// Like [`load`](Self::load), but first checks the checkpoint is of the `expected`
    /// architecture (size, channels, classes, input size, resize).
    pub fn load_as(&self, expected: &ModelConfig, device: &Device) -> Result<Network, CheckpointError> {
        if &self.config != expected {
            return Err(CheckpointError::Mismatch {
                expected: expected.size.to_string(),
                found: self.config.size.to_string(),
                expected_config: describe(expected),
                found_config: describe(&self.config),
            });
        }
        self.load(device)
    }
}

fn describe(c: &ModelConfig) -> String {
    let resize = c.resize.map(|r| format!(", resized to {r} px")).unwrap_or_default();
    format!("{} ch, {} classes, {} px{resize}", c.in_channels, c.num_classes, c.input_size)
}

/// Checkpoint bytes of `model`, reading weights synchronously through burn's `into_record`.
/// Native/Flex only: synchronous reads panic on WebGPU — use [`save_async`] there.
pub fn save(model: &Network, config: &ModelConfig) -> Result<Vec<u8>, CheckpointError> {
    let record = model.clone().record().into_bytes().map_err(|e| CheckpointError::Record(e.to_string()))?;
    Ok(Checkpoint { config: config.clone(), record: record.to_vec() }.to_bytes())
}

/// Checkpoint bytes of `model` on any backend: reads each parameter with `into_data_async`,
/// rebuilds the model on the CPU (Flex) device and records that copy with burn's record
/// machinery. The output is equivalent to [`save`]'s: same layout, size and tensors (parameter
/// ids are kept; burn gives BatchNorm running statistics fresh ids, which loading ignores).
pub async fn save_async(model: &Network, config: &ModelConfig) -> Result<Vec<u8>, CheckpointError> {
    let named = weights::read(model).await?;
    let values = named.into_iter().map(|n| (n.path, (Some(n.id), n.values))).collect();
    let copy = weights::build(config, &Device::flex(), values)
        .map_err(|e| CheckpointError::Weights { model: config.size.to_string(), reason: e.to_string() })?;
    save(&copy, config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_half_precision_checkpoint_is_half_the_size_and_loads_as_the_rounded_weights() {
        use crate::model::ModelSize;
        use futures_lite::future::block_on;
        let config = ModelConfig::of(ModelSize::C8);
        let model = config.init(&Device::flex(), 3).unwrap();
        let full = Checkpoint::from_bytes(&save(&model, &config).unwrap()).unwrap();
        let half = Checkpoint::from_bytes(&full.to_half().unwrap().to_bytes()).unwrap();
        assert_eq!(half.config, full.config);
        let ratio = half.record.len() as f64 / full.record.len() as f64;
        assert!((0.45..0.55).contains(&ratio), "half the bytes: {} of {}", half.record.len(), full.record.len());
        let values = |c: &Checkpoint| block_on(weights::read(&c.load(&Device::flex()).unwrap())).unwrap();
        let (a, b) = (values(&full), values(&half));
        assert_eq!(a.len(), b.len());
        let mut changed = 0;
        for (x, y) in a.iter().zip(&b) {
            assert_eq!((&x.path, &x.shape), (&y.path, &y.shape));
            for (u, v) in x.values.iter().zip(&y.values) {
                // f16 keeps 11 significant bits: a relative error of at most 2^-11 (normal numbers).
                assert!((u - v).abs() <= u.abs() / 2048.0 + 1e-7, "{}: {u} became {v}", x.path);
                assert_eq!(*v, half::f16::from_f32(*u).to_f32(), "{}: the nearest f16", x.path);
                changed += usize::from(u != v);
            }
        }
        assert!(changed > 0, "the weights were rounded");
        // Beyond f16's range: refused, not stored as infinity.
        let mut values: std::collections::HashMap<_, _> = a.iter().map(|n| (n.path.clone(), (None, n.values.clone()))).collect();
        let first = a[0].path.clone();
        values.get_mut(&first).unwrap().1[0] = 1e6;
        let big = weights::build(&config, &Device::flex(), values).unwrap();
        let big = Checkpoint::from_bytes(&save(&big, &config).unwrap()).unwrap();
        assert!(matches!(big.to_half(), Err(CheckpointError::Weights { reason, .. }) if reason.contains("65504")));
        // The loaded model computes in f32, as every other.
        let x = Tensor::<4>::ones([1, 1, 28, 28], &Device::flex());
        let (p, q) = (model.forward(x.clone()), half.load(&Device::flex()).unwrap().forward(x));
        let (p, q) = (p.into_data().try_into_vec::<f32>().unwrap(), q.into_data().try_into_vec::<f32>().unwrap());
        assert!(p.iter().zip(&q).all(|(u, v)| (u - v).abs() < 1e-2), "{p:?} vs {q:?}");
    }

    #[test]
    fn header_errors_are_typed() {
        assert_eq!(Checkpoint::from_bytes(b"PK\x03\x04garbage"), Err(CheckpointError::Magic));
        assert_eq!(Checkpoint::from_bytes(b"BMNCKPT1\x01"), Err(CheckpointError::Truncated("no configuration length")));
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&100u32.to_le_bytes());
        b.extend_from_slice(b"{}");
        assert_eq!(Checkpoint::from_bytes(&b), Err(CheckpointError::Truncated("configuration cut short")));
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&3u32.to_le_bytes());
        b.extend_from_slice(b"{x}");
        assert!(matches!(Checkpoint::from_bytes(&b), Err(CheckpointError::Config(_))));
    }
}

//! Resumable snapshots: the trainer's state between epochs plus the current and kept models'
//! checkpoint bytes, as one byte buffer.
//!
//! It must not know about tensors, devices, files or the browser.

use serde::{Deserialize, Serialize};

use super::{EpochMetrics, TrainConfig, TrainError};
use crate::model::ModelConfig;
use crate::rng::Rng;

/// The resumable part of a trainer's state, taken between epochs (see [`Trainer::snapshot`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainState {
    pub config: TrainConfig,
    pub model: ModelConfig,
    /// The next epoch to train (1-based).
    pub next_epoch: usize,
    pub history: Vec<EpochMetrics>,
    pub rng: Rng,
    pub best_epoch: Option<usize>,
    pub best_auc: Option<f64>,
    /// Each training image's last loss (the curriculum's score); empty in older snapshots.
    #[serde(default)]
    pub difficulty: Vec<f32>,
}

/// A snapshot to resume from: the state plus checkpoint bytes of the current and best models.
/// Adam's moment estimates are not saved: a resumed run restarts them (and so can differ
/// slightly from an uninterrupted one).
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    pub state: TrainState,
    pub current: Vec<u8>,
    pub best: Option<Vec<u8>>,
}

const SNAPSHOT_MAGIC: &[u8; 8] = b"BMNSNAP1";

impl Snapshot {
    /// `BMNSNAP1`, then three length-prefixed (u64 LE) parts: the state as JSON, the current
    /// model's checkpoint, the best model's checkpoint (empty when there is none yet).
    pub fn to_bytes(&self) -> Vec<u8> {
        let state = serde_json::to_vec(&self.state).expect("plain data serialises");
        let best = self.best.as_deref().unwrap_or_default();
        let mut out = Vec::with_capacity(8 + 24 + state.len() + self.current.len() + best.len());
        out.extend_from_slice(SNAPSHOT_MAGIC);
        for part in [&state[..], &self.current, best] {
            out.extend_from_slice(&(part.len() as u64).to_le_bytes());
            out.extend_from_slice(part);
        }
        out
    }

    /// Reads [`Snapshot::to_bytes`]; anything else is a [`TrainError::State`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Snapshot, TrainError> {
        let bad = |why: &str| TrainError::State(why.to_string());
        let mut rest = bytes.strip_prefix(SNAPSHOT_MAGIC).ok_or_else(|| bad("not a BreastMNIST Lab snapshot"))?;
        let mut parts = Vec::with_capacity(3);
        for _ in 0..3 {
            let (len, tail) = rest.split_first_chunk::<8>().ok_or_else(|| bad("truncated"))?;
            let len = usize::try_from(u64::from_le_bytes(*len)).map_err(|_| bad("a part is too large"))?;
            if tail.len() < len {
                return Err(bad("truncated"));
            }
            let (part, tail) = tail.split_at(len);
            parts.push(part);
            rest = tail;
        }
        if !rest.is_empty() {
            return Err(bad("trailing bytes"));
        }
        let state: TrainState = serde_json::from_slice(parts[0]).map_err(|e| TrainError::State(e.to_string()))?;
        Ok(Snapshot { state, current: parts[1].to_vec(), best: (!parts[2].is_empty()).then(|| parts[2].to_vec()) })
    }
}

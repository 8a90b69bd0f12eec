//! The last run, kept in Cache Storage so a reload finds it: its state (JSON), its latest
//! resumable snapshot and its kept checkpoint. A failed write is reported (the page says the
//! progress is not saved); reading something unreadable forgets it.

use crate::runtime::cache;
use crate::view::run::SavedRun;

// Relative keys: resolved against the page, so each copy of the app (its folder) keeps its own
// run; at the root they are `/runs/last/…`, as before.
const STATE: &str = "runs/last/state.json";
const SNAPSHOT: &str = "runs/last/snapshot.bin";
const CHECKPOINT: &str = "runs/last/best.ckpt";

/// Stores the run's state, with its newest snapshot or checkpoint when given (those first, so
/// the state never names bytes that are not stored); the first failure is the error.
pub async fn save(run: &SavedRun, snapshot: Option<&[u8]>, checkpoint: Option<&[u8]>) -> Result<(), String> {
    if let Some(b) = snapshot {
        cache::put(SNAPSHOT, b).await?;
    }
    if let Some(b) = checkpoint {
        cache::put(CHECKPOINT, b).await?;
    }
    cache::put(STATE, run.to_json().as_bytes()).await
}

/// The stored run, if there is a readable one.
pub async fn load() -> Option<SavedRun> {
    let bytes = cache::get(STATE).await?;
    match SavedRun::from_json(&String::from_utf8_lossy(&bytes)) {
        Ok(run) => Some(run),
        Err(_) => {
            clear().await;
            None
        }
    }
}

pub async fn snapshot() -> Option<Vec<u8>> {
    cache::get(SNAPSHOT).await
}

pub async fn checkpoint() -> Option<Vec<u8>> {
    cache::get(CHECKPOINT).await
}

/// Forgets the stored run.
pub async fn clear() {
    for key in [STATE, SNAPSHOT, CHECKPOINT] {
        cache::delete(key).await;
    }
}

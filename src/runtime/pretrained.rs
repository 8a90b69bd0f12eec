//! The pretrained starting points the app serves (`pretrained/*.ckpt`): from Cache Storage
//! when a stored copy still verifies, else fetched from the app's own origin; checked by size
//! and MD5 (in the verifier worker) before anything uses them, and cached once verified — the
//! dataset's path (`dataset::fetch_verified`).

use crate::runtime::dataset::{OfficialFile, fetch_verified};
use crate::runtime::fetch;
use crate::view::served::ServedPoint;

/// The verified bytes of `point`.
pub async fn load(point: &ServedPoint, cancel: &fetch::Cancel) -> Result<Vec<u8>, String> {
    let file = OfficialFile { name: point.file, size: Some(point.bytes), md5: point.md5, limit: None };
    fetch_verified(&point.url(), &file, || {}, |_, _| {}, cancel).await.map(|(bytes, _)| bytes).map_err(|e| e.to_string())
}

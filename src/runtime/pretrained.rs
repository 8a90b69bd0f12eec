//! The pretrained starting points the app serves (`pretrained/*.ckpt`): from Cache Storage
//! when a stored copy still verifies, else fetched from the app's own origin; checked by size
//! and MD5 (in the verifier worker) before anything uses them, and cached once verified.

use crate::runtime::{cache, fetch, hash};
use crate::view::methods::StartingPoint;

/// The verified bytes of `point`.
pub async fn load(point: &StartingPoint, cancel: &fetch::Cancel) -> Result<Vec<u8>, String> {
    let url = point.url();
    if let Some(bytes) = cache::get(&url).await {
        if check(point, &bytes).await.is_ok() {
            return Ok(bytes);
        }
        cache::delete(&url).await;
    }
    let bytes = fetch::fetch_bytes(&url, Some(point.bytes), |_, _| {}, cancel).await.map_err(|e| e.to_string())?;
    check(point, &bytes).await?;
    // Best effort: without the cache it is fetched again next time.
    let _ = cache::put(&url, &bytes).await;
    Ok(bytes)
}

async fn check(point: &StartingPoint, bytes: &[u8]) -> Result<(), String> {
    if bytes.len() as u64 != point.bytes {
        return Err(format!("{} has {} bytes; the app's copy has {}", point.file, bytes.len(), point.bytes));
    }
    let md5 = hash::md5(bytes).await?;
    if md5 != point.md5 {
        return Err(format!("{}: checksum mismatch (MD5 {md5}, expected {})", point.file, point.md5));
    }
    Ok(())
}

//! Getting a verified [`Dataset`] into the page: browser cache, then network, or a local file.

use breastmnist_data::{DataError, Dataset, DecodeOptions, Extra, Flag, Size, Variant, decode_npz, identify};

use super::{cache, fetch, hash};

/// Where the bytes came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// This app's server.
    Network,
    /// The official record on Zenodo, fetched by the tab.
    Zenodo,
    BrowserCache,
    LocalFile(String),
}

/// A decoded, verified dataset and what is known about its file.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub dataset: Dataset,
    pub variant: Variant,
    pub source: Source,
    /// The verified file itself (the trainer worker decodes its own copy).
    pub file: std::sync::Arc<Vec<u8>>,
    pub md5: String,
}

impl Loaded {
    /// Size of the file in bytes.
    pub fn bytes(&self) -> usize {
        self.file.len()
    }
}

/// Everything that can stop the dataset from arriving.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadError {
    Fetch(fetch::FetchError),
    Data(DataError),
    /// A local file whose MD5 matches none of the official files.
    NotOfficial {
        name: String,
        md5: String,
    },
    /// A local file could not be read.
    File(String),
    /// The verifier worker could not hash the file.
    Hash(String),
    /// A local file that is no official MedMNIST 2D file at 28 px this section can hold.
    NotOffered {
        name: String,
        why: String,
    },
    /// A local file larger than any official file (refused before it is read).
    TooLarge {
        name: String,
        bytes: u64,
        limit: u64,
    },
}

impl LoadError {
    /// What the reader can do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            LoadError::Fetch(fetch::FetchError::Status { status: 404, .. }) => {
                "The data file is not on this server. If you run the app yourself, `cargo xtask serve` prepares it; \
                 or pick the official .npz from Zenodo (record 10519652) below."
            }
            LoadError::Fetch(fetch::FetchError::TooLarge { .. }) => {
                "The server sends something else than the data file. Retry later, or pick a local copy of the .npz below."
            }
            LoadError::Fetch(_) => "Check your connection and retry, or pick a local copy of the .npz below.",
            LoadError::Data(DataError::Size { .. } | DataError::Checksum { .. }) => {
                "The file is damaged or not the official one. Retry the download, or pick a verified copy."
            }
            LoadError::Data(_) => "The file is not a valid BreastMNIST archive. Pick the official .npz instead.",
            LoadError::NotOfficial { .. } => {
                "Only the official files are accepted (breastmnist.npz, breastmnist_64.npz, _128, _224 from Zenodo record 10519652)."
            }
            LoadError::File(_) => "The browser could not read that file; try picking it again.",
            LoadError::Hash(_) => "Reload the page and try again (the file is checked in a background worker).",
            LoadError::TooLarge { .. } => "Pick the official .npz file (at most a few tens of MB).",
            LoadError::NotOffered { .. } => {
                "Pick an official 28 px MedMNIST 2D file (e.g. dermamnist.npz) from Zenodo record 10519652."
            }
        }
    }
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Fetch(e) => write!(f, "Download failed: {e}"),
            LoadError::Data(e) => write!(f, "Verification failed: {e}"),
            LoadError::NotOfficial { name, md5 } => {
                write!(f, "{name} is not an official BreastMNIST file (MD5 {md5})")
            }
            LoadError::File(e) => write!(f, "Could not read the file: {e}"),
            LoadError::Hash(e) => write!(f, "Could not check the file: {e}"),
            LoadError::NotOffered { name, why } => write!(f, "{name}: {why}"),
            LoadError::TooLarge { name, bytes, limit } => write!(
                f,
                "{name} is {:.0} MB, larger than any official BreastMNIST file ({:.0} MB at most): not read",
                *bytes as f64 / 1e6,
                *limit as f64 / 1e6
            ),
        }
    }
}

impl From<DataError> for LoadError {
    fn from(e: DataError) -> Self {
        LoadError::Data(e)
    }
}

/// The URL the app serves `variant` under (relative to the page).
pub fn url(variant: Variant) -> String {
    format!("data/{}", variant.file_name())
}

fn decode(bytes: &[u8]) -> Result<Dataset, LoadError> {
    Ok(decode_npz(bytes, &DecodeOptions::default())?)
}

/// Loads an official file: from Cache Storage when it holds a copy that still verifies, else from
/// the network with `progress(received, total)`; verified by size and MD5 before decoding, and
/// cached only once verified.
pub async fn load_official(
    variant: Variant,
    on_verify: impl FnOnce(),
    progress: impl FnMut(u64, Option<u64>),
    cancel: &fetch::Cancel,
) -> Result<Loaded, LoadError> {
    let file = OfficialFile { name: variant.file_name(), size: variant.size(), md5: variant.md5(), limit: None };
    let (bytes, source) = fetch_verified(&url(variant), &file, on_verify, progress, cancel).await?;
    let dataset = decode(&bytes)?;
    Ok(Loaded { dataset, variant, source, file: bytes.into(), md5: variant.md5().into() })
}

/// A file the app serves whose size (where known) and MD5 are fixed in advance.
pub struct OfficialFile {
    pub name: &'static str,
    pub size: Option<u64>,
    pub md5: &'static str,
    /// Where the exact size is not known: the most bytes the download may take.
    pub limit: Option<u64>,
}

/// The bytes of `file`, served under `key` (relative to the page): from Cache Storage when a
/// stored copy still verifies, else from the network with `progress(received, total)`
/// (`on_verify` is called once the download is complete). Checked by size and MD5 (hashed in
/// the verifier worker); only verified bytes are cached (best effort: without the cache the
/// file is fetched again after a reload).
pub async fn fetch_verified(
    key: &str,
    file: &OfficialFile,
    on_verify: impl FnOnce(),
    progress: impl FnMut(u64, Option<u64>),
    cancel: &fetch::Cancel,
) -> Result<(Vec<u8>, Source), LoadError> {
    if let Some(bytes) = cached(key, file).await {
        return Ok((bytes, Source::BrowserCache));
    }
    let bytes = fetch::fetch_bytes(key, file.size.or(file.limit), progress, cancel).await.map_err(LoadError::Fetch)?;
    on_verify();
    yield_now().await;
    verify(&bytes, file).await?;
    let _ = cache::put(key, &bytes).await;
    Ok((bytes, Source::Network))
}

/// The copy of `file` Cache Storage holds under `key`, if it still verifies (one that does not
/// is deleted).
async fn cached(key: &str, file: &OfficialFile) -> Option<Vec<u8>> {
    let bytes = cache::get(key).await?;
    match verify(&bytes, file).await {
        Ok(()) => Some(bytes),
        // The verifier could not run (offline before it was ever kept, say): the copy may be
        // good, so it stays for the next try.
        Err(LoadError::Hash(_)) => None,
        Err(_) => {
            cache::delete(key).await;
            None
        }
    }
}

/// `bytes` checked against `file`'s size and MD5 (hashed in the verifier worker).
async fn verify(bytes: &[u8], file: &OfficialFile) -> Result<(), LoadError> {
    if let Some(expected) = file.size
        && expected != bytes.len() as u64
    {
        return Err(DataError::Size { file: file.name, expected, got: bytes.len() as u64 }.into());
    }
    let got = hash::md5(bytes).await.map_err(LoadError::Hash)?;
    if got != file.md5 {
        return Err(DataError::Checksum { file: file.name, expected: file.md5, got }.into());
    }
    Ok(())
}

/// The verified bytes of an extra pretraining file (`data/FILE` on this server), as
/// [`fetch_verified`] gets them.
pub async fn load_extra(extra: Extra, cancel: &fetch::Cancel) -> Result<std::sync::Arc<Vec<u8>>, LoadError> {
    let file = OfficialFile { name: extra.file_name(), size: Some(extra.size()), md5: extra.md5(), limit: None };
    let key = format!("data/{}", extra.file_name());
    let (bytes, _) = fetch_verified(&key, &file, || {}, |_, _| {}, cancel).await?;
    Ok(bytes.into())
}

/// Accepts a local file if its MD5 (hashed in the verifier worker) is one of the official ones.
pub async fn load_local(name: String, bytes: &[u8]) -> Result<Loaded, LoadError> {
    let md5 = hash::md5(bytes).await.map_err(LoadError::Hash)?;
    let Some(variant) = Variant::ALL.into_iter().find(|v| v.md5() == md5) else {
        return Err(LoadError::NotOfficial { name, md5 });
    };
    let dataset = decode(bytes)?;
    Ok(Loaded { dataset, variant, source: Source::LocalFile(name), file: bytes.to_vec().into(), md5 })
}

/// Lets the browser paint before a long synchronous step.
pub async fn yield_now() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// A verified official 28 px file of another MedMNIST 2D set than BreastMNIST, decoded.
#[derive(Clone, Debug)]
pub struct CatalogFile {
    pub flag: Flag,
    pub dataset: Dataset,
    pub file: std::sync::Arc<Vec<u8>>,
    pub source: Source,
}

/// The most bytes an official 28 px file of `flag` may take: its decoded arrays (a compressed
/// `.npz` is smaller) and room for the archive's headers.
fn catalog_limit(flag: Flag) -> u64 {
    flag.entry().decoded_bytes(Size::Px28) + (1 << 20)
}

fn decode_catalog(flag: Flag, bytes: &[u8]) -> Result<Dataset, LoadError> {
    Ok(decode_npz(bytes, &flag.entry().decode_options(Size::Px28))?)
}

/// Where an official file of another set is fetched from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// This app's `data/` folder.
    ThisServer,
    /// The official record on Zenodo, through its API address (the one with CORS headers).
    Zenodo,
}

/// The official 28 px file of `flag` from `origin` (this app's `data/…`, or Zenodo), or from
/// Cache Storage, verified by MD5 and capped in size exactly like BreastMNIST's, then decoded
/// with what the catalog promises of it. Where this server does not give a verified copy (a
/// 404, offline, or another file under that name), a copy fetched from Zenodo before and kept
/// in Cache Storage is used, if it still verifies.
pub async fn load_catalog(
    flag: Flag,
    origin: Origin,
    on_verify: impl FnOnce(),
    progress: impl FnMut(u64, Option<u64>),
    cancel: &fetch::Cancel,
) -> Result<CatalogFile, LoadError> {
    let e = flag.entry();
    let file = OfficialFile { name: e.title, size: None, md5: e.md5(Size::Px28), limit: Some(catalog_limit(flag)) };
    let zenodo = e.api_url(Size::Px28);
    let (bytes, source) = match origin {
        Origin::ThisServer => {
            match fetch_verified(&crate::view::beyond::served_url(flag), &file, on_verify, progress, cancel).await {
                Err(e @ LoadError::Fetch(fetch::FetchError::Cancelled)) => return Err(e),
                Err(e) => (cached(&zenodo, &file).await.ok_or(e)?, Source::BrowserCache),
                Ok(found) => found,
            }
        }
        Origin::Zenodo => match fetch_verified(&zenodo, &file, on_verify, progress, cancel).await? {
            (bytes, Source::Network) => (bytes, Source::Zenodo),
            other => other,
        },
    };
    yield_now().await;
    let dataset = decode_catalog(flag, &bytes)?;
    Ok(CatalogFile { flag, dataset, file: bytes.into(), source })
}

/// A local file, identified by its MD5 (never its name): accepted when it is the official
/// 28 px file of a set this section offers.
pub async fn load_catalog_local(name: String, bytes: &[u8]) -> Result<CatalogFile, LoadError> {
    use crate::view::beyond::{refusal, too_large};
    let md5 = hash::md5(bytes).await.map_err(LoadError::Hash)?;
    let refuse = |why: String| Err(LoadError::NotOffered { name: name.clone(), why });
    let flag = match identify(&md5) {
        None => return refuse(format!("not an official MedMNIST 2D file (MD5 {md5})")),
        Some((Flag::Breast, _)) => return refuse("BreastMNIST is the article above; pick it there".into()),
        Some((flag, size)) if size != Size::Px28 => {
            return refuse(format!(
                "the official {} file at {} px; this section trains the 28 px files",
                flag.entry().title,
                size.side()
            ));
        }
        Some((flag, _)) => flag,
    };
    if let Some(needed) = too_large(flag) {
        return refuse(refusal(flag, needed));
    }
    let dataset = decode_catalog(flag, bytes)?;
    Ok(CatalogFile { flag, dataset, file: bytes.to_vec().into(), source: Source::LocalFile(name) })
}

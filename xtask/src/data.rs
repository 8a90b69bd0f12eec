//! Puts the verified dataset files where Trunk serves them (assets/data, git-ignored).
//!
//! Sources, in order: the file already there, the other folders of `breastmnist_data::locate`
//! (`BREASTMNIST_DATA_DIR`, `../shared/data` beside the repository), then the official Zenodo
//! record (with curl). Every copy is verified by size and MD5 before it is used; data files are
//! never committed.

use std::path::{Path, PathBuf};
use std::process::Command;

use breastmnist_data::{Extra, Variant, verify};

use crate::sh::{Failure, root, step};

pub fn data_dir() -> PathBuf {
    root().join("assets/data")
}

fn check(path: &Path, variant: Variant) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    verify(&bytes, variant).map_err(|e| e.to_string())
}

/// Makes sure every served variant is present and verified, and the extra pretraining files
/// (PneumoniaMNIST, RetinaMNIST) too where they can be had: without them the methods lab's
/// in-tab pretraining offers BreastMNIST's training images alone.
pub fn prepare() -> Result<(), Failure> {
    step("preparing the dataset (assets/data)");
    let dir = data_dir();
    std::fs::create_dir_all(&dir).map_err(|e| Failure(format!("{}: {e}", dir.display())))?;
    // The one search the tests use too, less the folder being filled.
    let sources: Vec<PathBuf> = breastmnist_data::locate().into_iter().filter(|d| *d != dir).collect();

    for variant in Variant::SERVED {
        let file = variant.file_name();
        let check = |path: &Path| check(path, variant);
        if let Err(tried) = obtain(file, &variant.zenodo_url(), variant.md5(), &check, &sources, &dir) {
            return Err(Failure(format!(
                "could not get a verified {file}. Tried:\n  - {}\nPut the official file in a folder and set BREASTMNIST_DATA_DIR to it.",
                tried.join("\n  - ")
            )));
        }
    }
    for extra in Extra::ALL {
        let file = extra.file_name();
        let check = |path: &Path| {
            let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
            extra.verify(&bytes).map_err(|e| e.to_string())
        };
        if let Err(tried) = obtain(file, &extra.zenodo_url(), extra.md5(), &check, &sources, &dir) {
            println!(
                "    {file}: not available (the in-tab pretraining will offer without it). Tried:\n      - {}",
                tried.join("\n      - ")
            );
        }
    }
    Ok(())
}

/// Puts a verified `file` into `dir`: the copy already there, else one from `sources`, else a
/// download of `url`. The error lists what was tried.
fn obtain(
    file: &str,
    url: &str,
    md5: &str,
    check: &dyn Fn(&Path) -> Result<(), String>,
    sources: &[PathBuf],
    dir: &Path,
) -> Result<(), Vec<String>> {
    let target = dir.join(file);
    if target.is_file() && check(&target).is_ok() {
        println!("    {file}: present, MD5 {md5} verified");
        return Ok(());
    }
    let mut tried = Vec::new();
    for src in sources.iter().map(|d| d.join(file)) {
        if !src.is_file() {
            tried.push(format!("{}: not there", src.display()));
            continue;
        }
        match check(&src) {
            Ok(()) => {
                std::fs::copy(&src, &target).map_err(|e| vec![format!("copy {}: {e}", src.display())])?;
                println!("    {file}: copied from {}, MD5 verified", src.display());
                return Ok(());
            }
            Err(e) => tried.push(format!("{}: {e}", src.display())),
        }
    }
    let partial = dir.join(format!("{file}.part"));
    println!("    {file}: downloading {url}");
    let ok = Command::new("curl")
        .args(["-fL", "--retry", "2", "--connect-timeout", "20", "-o"])
        .arg(&partial)
        .arg(url)
        .status()
        .is_ok_and(|s| s.success());
    let result = match ok.then(|| check(&partial)) {
        Some(Ok(())) => match std::fs::rename(&partial, &target) {
            Ok(()) => {
                println!("    {file}: downloaded, MD5 verified");
                return Ok(());
            }
            Err(e) => format!("{}: {e}", target.display()),
        },
        Some(Err(e)) => format!("{url}: {e}"),
        None => format!("{url}: download failed (curl)"),
    };
    let _ = std::fs::remove_file(&partial);
    tried.push(result);
    Err(tried)
}

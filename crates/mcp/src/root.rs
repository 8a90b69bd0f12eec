//! The folder an agent may touch. Every path a tool is given must resolve inside it, links
//! included: `..` is refused outright, an absolute path must lie inside, and an existing path
//! (or a new path's deepest existing folder) is resolved with `canonicalize` before the check.

use std::path::{Component, Path, PathBuf};

use breastmnist_ops::Error;

/// The resolved root folder.
#[derive(Clone, Debug)]
pub struct Root {
    dir: PathBuf,
}

impl Root {
    /// Creates `dir` if missing and resolves it.
    pub fn new(dir: &Path) -> Result<Root, Error> {
        breastmnist_ops::error::create_dir(dir)?;
        let dir = dir.canonicalize().map_err(|source| Error::Read { path: dir.to_path_buf(), source })?;
        Ok(Root { dir })
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    fn join(&self, given: &str) -> Result<PathBuf, Error> {
        if given.is_empty() {
            return Err(Error::Usage("an empty path".into()));
        }
        let p = Path::new(given);
        if p.components().any(|c| c == Component::ParentDir) {
            return Err(outside(given, "'..' is not allowed"));
        }
        Ok(if p.is_absolute() { p.to_path_buf() } else { self.dir.join(p) })
    }

    fn inside(&self, given: &str, resolved: PathBuf) -> Result<PathBuf, Error> {
        if resolved.starts_with(&self.dir) {
            Ok(resolved)
        } else {
            Err(outside(given, &format!("it resolves to {}", resolved.display())))
        }
    }

    /// An existing file or folder under the root.
    pub fn existing(&self, given: &str) -> Result<PathBuf, Error> {
        let path = self.join(given)?;
        let resolved = path.canonicalize().map_err(|source| Error::Read { path: PathBuf::from(given), source })?;
        self.inside(given, resolved)
    }

    /// A path to write under the root, which may not exist yet: its deepest existing ancestor is
    /// resolved and must be inside.
    pub fn writable(&self, given: &str) -> Result<PathBuf, Error> {
        let path = self.join(given)?;
        let mut base = path.as_path();
        let mut rest = Vec::new();
        while !base.exists() {
            let (Some(parent), Some(name)) = (base.parent(), base.file_name()) else {
                return Err(outside(given, "no part of it exists"));
            };
            rest.push(name.to_os_string());
            base = parent;
        }
        let resolved = base.canonicalize().map_err(|source| Error::Read { path: base.to_path_buf(), source })?;
        let mut resolved = self.inside(given, resolved)?;
        resolved.extend(rest.iter().rev());
        Ok(resolved)
    }
}

fn outside(given: &str, why: &str) -> Error {
    Error::Usage(format!("the path {given} is refused: every path must be inside the server's --root ({why})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_refused_and_paths_inside_are_resolved() {
        let base = std::env::temp_dir().join(format!("breastmnist-mcp-root-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let root = Root::new(&base.join("root")).unwrap();
        std::fs::create_dir_all(base.join("elsewhere")).unwrap();
        std::fs::write(base.join("elsewhere/secret.npz"), b"x").unwrap();
        std::fs::write(root.path().join("data.npz"), b"x").unwrap();
        std::os::unix::fs::symlink(base.join("elsewhere"), root.path().join("link")).unwrap();

        assert_eq!(root.existing("data.npz").unwrap(), root.path().join("data.npz"));
        let absolute = root.path().join("data.npz");
        assert!(root.existing(absolute.to_str().unwrap()).is_ok());
        for bad in ["../elsewhere/secret.npz", "link/secret.npz", "/etc/passwd", "runs/../../x"] {
            let e = root.existing(bad).unwrap_err().to_string();
            assert!(e.contains("refused"), "{bad}: {e}");
        }
        assert!(matches!(root.existing("absent.npz"), Err(Error::Read { .. })));
        assert_eq!(root.writable("runs/a").unwrap(), root.path().join("runs/a"));
        for bad in ["link/new", "/tmp/new-run", "../new"] {
            assert!(root.writable(bad).unwrap_err().to_string().contains("refused"), "{bad}");
        }
        let _ = std::fs::remove_dir_all(&base);
    }
}

//! `cargo xtask serve`'s server: the built `dist/` on 127.0.0.1, with the headers of Trunk.toml
//! `[serve.headers]` (the policy, COOP and COEP: the one copy tests/offline.rs compares the
//! others with) on every response. The bundle is built once before (`plan::Task::Serve`), so a
//! failed build stops the task with its error instead of serving an empty folder, and serving
//! does not build it a second time as `trunk serve` would.

use std::path::{Path, PathBuf};

use crate::sh::{Failure, root};

/// The `"Name" = "value"` lines of Trunk.toml's `[serve.headers]`.
pub fn headers(trunk_toml: &str) -> Vec<(String, String)> {
    trunk_toml
        .lines()
        .skip_while(|l| l.trim() != "[serve.headers]")
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with('['))
        .filter_map(|l| {
            let (k, v) = l.split_once(" = ")?;
            let unquote = |s: &str| s.trim().strip_prefix('"')?.strip_suffix('"').map(str::to_string);
            Some((unquote(k)?, unquote(v)?))
        })
        .collect()
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript",
        "wasm" => "application/wasm",
        "css" => "text/css",
        "svg" => "image/svg+xml",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}

/// The file under `dist` that `url` names (a folder is its `index.html`), or `None` for a path
/// that leaves `dist` or names no file.
pub fn resolve(dist: &Path, url: &str) -> Option<PathBuf> {
    let path = url.split(['?', '#']).next().unwrap_or("/");
    let rel = path.trim_start_matches('/');
    if rel.split('/').any(|part| part == ".." || part.contains('\\')) {
        return None;
    }
    let file = if rel.is_empty() || rel.ends_with('/') { dist.join(rel).join("index.html") } else { dist.join(rel) };
    file.is_file().then_some(file)
}

/// Serves `dist/` until the process is stopped.
pub fn run(port: u16) -> Result<(), Failure> {
    let dist = root().join("dist");
    let toml = std::fs::read_to_string(root().join("Trunk.toml")).map_err(|e| Failure(format!("Trunk.toml: {e}")))?;
    let sent = headers(&toml);
    if sent.is_empty() {
        return Err(Failure("Trunk.toml has no [serve.headers]: the page needs its policy, COOP and COEP".into()));
    }
    let server = tiny_http::Server::http(("127.0.0.1", port))
        .map_err(|e| Failure(format!("cannot listen on 127.0.0.1:{port}: {e} (another server there? try --port N)")))?;
    println!("    serving {} on http://127.0.0.1:{port}/ (Ctrl-C to stop)", dist.display());
    for req in server.incoming_requests() {
        let header = |k: &str, v: &str| tiny_http::Header::from_bytes(k, v).expect("ASCII header");
        let mut response = match resolve(&dist, req.url()).map(|f| (std::fs::read(&f), f)) {
            Some((Ok(bytes), file)) => {
                tiny_http::Response::from_data(bytes).with_header(header("Content-Type", content_type(&file)))
            }
            _ => tiny_http::Response::from_data(b"not found".to_vec()).with_status_code(404),
        };
        response.add_header(header("Cache-Control", "no-cache"));
        for (k, v) in &sent {
            response.add_header(header(k, v));
        }
        let _ = req.respond(response);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_headers_trunk_toml_sends() {
        let toml = std::fs::read_to_string(root().join("Trunk.toml")).expect("Trunk.toml");
        let names: Vec<String> = headers(&toml).into_iter().map(|(k, _)| k).collect();
        assert_eq!(names, ["Cross-Origin-Opener-Policy", "Cross-Origin-Embedder-Policy", "Content-Security-Policy"]);
    }

    #[test]
    fn resolves_files_inside_dist_only() {
        let dir = std::env::temp_dir().join(format!("xtask-serve-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("index.html"), "x").unwrap();
        std::fs::write(dir.join("sub/a.js"), "x").unwrap();
        assert_eq!(resolve(&dir, "/"), Some(dir.join("index.html")));
        assert_eq!(resolve(&dir, "/?threads=2"), Some(dir.join("index.html")));
        assert_eq!(resolve(&dir, "/sub/a.js?v=1"), Some(dir.join("sub/a.js")));
        assert_eq!(resolve(&dir, "/sub/"), None, "a folder without index.html is no file");
        assert_eq!(resolve(&dir, "/../Cargo.toml"), None);
        assert_eq!(resolve(&dir, "/sub/../../x"), None);
        assert_eq!(resolve(&dir, "/missing.js"), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

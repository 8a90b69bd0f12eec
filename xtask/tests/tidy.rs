//! The tidy test: ARCHITECTURE.md's structural invariants, checked from `cargo metadata` and the
//! sources, so that breaking one fails `cargo xtask test` (its native step runs xtask's tests).
//!
//! - the data and core crates have no direct web dependency, for any target;
//! - the page bundle (breastmnist-lab for wasm32) reaches no burn, cubecl or wgpu, and of the
//!   workspace crates only breastmnist-data and breastmnist-protocol;
//! - the browser's trainers (breastmnist-worker's `webgpu` and `threads` builds) never turn on
//!   burn's `autotune`, which once corrupted WebGPU training here;
//! - no component refers to another component's module (components import state and runtime);
//! - every crate root (lib.rs, main.rs) starts with a `//!` comment stating its job;
//! - no crate's top-level modules import each other in a circle (`crate::x`, `super::x`);
//! - the page's layers only look down: view < runtime < state < charts, draw < components < app;
//! - no component spawns work (tasks, workers, timers): state and runtime own those;
//! - no file under assets/ (what the app ships) holds an absolute path of a machine;
//! - the CLI reads and writes no file and drives no core work: the operations layer does.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask/ has a parent").to_path_buf()
}

/// `cargo metadata --format-version 1 <args>`, parsed.
fn metadata(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1"])
        .args(args)
        .current_dir(root())
        .output()
        .expect("cargo runs");
    assert!(out.status.success(), "cargo metadata {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON")
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_default()
}

fn array(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or_default()
}

/// The workspace package called `name`.
fn member<'a>(meta: &'a Value, name: &str) -> &'a Value {
    let members: BTreeSet<&str> = array(&meta["workspace_members"]).iter().filter_map(Value::as_str).collect();
    array(&meta["packages"])
        .iter()
        .find(|p| str_of(p, "name") == name && members.contains(str_of(p, "id")))
        .unwrap_or_else(|| panic!("no workspace package {name}"))
}

/// Crates that only make sense in a browser.
fn is_web(name: &str) -> bool {
    matches!(name, "wasm-bindgen" | "wasm-bindgen-futures" | "web-sys" | "js-sys")
        || name.starts_with("leptos")
        || name.starts_with("gloo")
}

/// Crates of the ML backend.
fn is_backend(name: &str) -> bool {
    ["burn", "cubecl", "wgpu"].iter().any(|p| name.starts_with(p))
}

#[test]
fn data_and_core_have_no_web_dependency() {
    let meta = metadata(&["--no-deps"]);
    let mut found = Vec::new();
    for crate_name in ["breastmnist-data", "breastmnist-core"] {
        for dep in array(&member(&meta, crate_name)["dependencies"]) {
            if is_web(str_of(dep, "name")) {
                let kind = dep["kind"].as_str().unwrap_or("normal");
                let target = dep["target"].as_str().unwrap_or("every target");
                found.push(format!("{crate_name} depends on {} ({kind}, {target})", str_of(dep, "name")));
            }
        }
    }
    assert!(
        found.is_empty(),
        "the core never touches the browser (ARCHITECTURE.md): these crates must take bytes and return typed values:\n  {}",
        found.join("\n  ")
    );
}

#[test]
fn the_page_bundle_has_no_ml_backend() {
    let meta = metadata(&["--filter-platform", "wasm32-unknown-unknown"]);
    let names: HashMap<&str, &str> = array(&meta["packages"]).iter().map(|p| (str_of(p, "id"), str_of(p, "name"))).collect();
    let nodes: HashMap<&str, &Value> = array(&meta["resolve"]["nodes"]).iter().map(|n| (str_of(n, "id"), n)).collect();
    let members: BTreeSet<&str> = array(&meta["workspace_members"]).iter().filter_map(Value::as_str).collect();
    let page = str_of(member(&meta, "breastmnist-lab"), "id");

    // Breadth first over normal dependencies, remembering how each package was reached.
    let mut reached_from: HashMap<&str, Option<&str>> = HashMap::from([(page, None)]);
    let mut queue = VecDeque::from([page]);
    while let Some(id) = queue.pop_front() {
        let node = nodes.get(id).unwrap_or_else(|| panic!("{id} is not in the resolve graph"));
        for dep in array(&node["deps"]) {
            let normal = array(&dep["dep_kinds"]).iter().any(|k| k["kind"].is_null());
            let dep_id = str_of(dep, "pkg");
            if normal && !reached_from.contains_key(dep_id) {
                reached_from.insert(dep_id, Some(id));
                queue.push_back(dep_id);
            }
        }
    }
    let chain = |start: &str| {
        let mut names_on_path = Vec::new();
        let mut at = reached_from.get_key_value(start).map(|(id, _)| *id);
        while let Some(id) = at {
            names_on_path.push(names[id]);
            at = reached_from[id];
        }
        names_on_path.reverse();
        names_on_path.join(" -> ")
    };
    let mut backend: Vec<String> = reached_from.keys().filter(|id| is_backend(names[**id])).map(|id| chain(id)).collect();
    backend.sort();
    assert!(
        backend.is_empty(),
        "the first paint carries no ML backend (ARCHITECTURE.md): burn lives in the worker, but the page reaches\n  {}",
        backend.join("\n  ")
    );
    let mut workspace: Vec<&str> = reached_from.keys().filter(|id| members.contains(**id)).map(|id| names[*id]).collect();
    workspace.sort();
    assert_eq!(
        workspace,
        ["breastmnist-data", "breastmnist-lab", "breastmnist-protocol"],
        "the page depends on data and protocol only"
    );
    let all: BTreeSet<&str> = reached_from.keys().map(|id| names[*id]).collect();
    assert!(all.contains("leptos") && all.contains("web-sys"), "the walk sees the page's web dependencies: {all:?}");
}

/// Every `crate/feature` string that `features` of workspace package `name` turn on, following
/// the workspace's own features and the features its packages ask of each other.
fn enabled(meta: &Value, name: &str, features: &[&str]) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut queue: VecDeque<(String, String)> = features.iter().map(|f| (name.to_string(), f.to_string())).collect();
    let member_names: BTreeSet<String> = array(&meta["packages"]).iter().map(|p| str_of(p, "name").to_string()).collect();
    // Features a package always asks of a workspace dependency.
    for dep in array(&member(meta, name)["dependencies"]) {
        if member_names.contains(str_of(dep, "name")) {
            for f in array(&dep["features"]).iter().filter_map(Value::as_str) {
                queue.push_back((str_of(dep, "name").to_string(), f.to_string()));
            }
        }
    }
    while let Some((package, feature)) = queue.pop_front() {
        if !seen.insert(format!("{package}/{feature}")) || !member_names.contains(&package) {
            continue;
        }
        for item in array(&member(meta, &package)["features"][feature.as_str()]).iter().filter_map(Value::as_str) {
            match item.split_once('/') {
                Some((dep, f)) => queue.push_back((dep.trim_end_matches('?').to_string(), f.to_string())),
                None => queue.push_back((package.clone(), item.to_string())),
            }
        }
    }
    seen
}

#[test]
fn the_browser_trainers_never_turn_on_autotune() {
    let meta = metadata(&["--no-deps"]);
    for build in ["webgpu", "threads"] {
        let on = enabled(&meta, "breastmnist-worker", &[build]);
        assert!(on.contains("burn/webgpu") || build == "threads", "the walk follows the features: {on:?}");
        let tuned: Vec<&String> = on.iter().filter(|f| f.contains("autotune")).collect();
        assert!(tuned.is_empty(), "the worker's {build} build turns on {tuned:?}: burn's autotune stays native-only");
    }
    // And the walk sees autotune where it is: the CLI's feature.
    assert!(enabled(&meta, "breastmnist-cli", &["autotune-checks"]).contains("burn/autotune-checks"));
}

#[test]
fn every_crate_root_starts_with_a_doc_comment() {
    let meta = metadata(&["--no-deps"]);
    let mut missing = Vec::new();
    for package in array(&meta["packages"]) {
        for target in array(&package["targets"]) {
            let kinds: Vec<&str> = array(&target["kind"]).iter().filter_map(Value::as_str).collect();
            if !kinds.iter().any(|k| matches!(*k, "lib" | "bin")) {
                continue;
            }
            let path = PathBuf::from(str_of(target, "src_path"));
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or_default();
            if !first.starts_with("//!") {
                missing.push(format!(
                    "{} ({} {}): first line is {first:?}",
                    path.display(),
                    kinds.join("/"),
                    str_of(target, "name")
                ));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "each crate root states its job (and what it must not know) in a `//!` comment:\n  {}",
        missing.join("\n  ")
    );
}

// ---- No component imports another component. ----

/// One reference from a component file to another widget's module.
#[derive(Debug, PartialEq)]
struct Violation {
    line: usize,
    /// The widget referred to.
    other: String,
    /// The path as written up to the widget (`super::explorer`, `components::train_panel`).
    via: String,
}

/// The source with comments, strings and char literals blanked (newlines kept, so lines count).
fn code_only(src: &str) -> String {
    let chars: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if c == '"' || (c == 'r' && matches!(next, Some('"' | '#')) && !prev_is_ident(&chars, i)) {
            // A string, or a raw string r"..." / r#"..."#.
            let raw = c == 'r';
            let mut hashes = 0;
            if raw {
                out.push(' ');
                i += 1;
                while chars.get(i) == Some(&'#') {
                    hashes += 1;
                    out.push(' ');
                    i += 1;
                }
                if chars.get(i) != Some(&'"') {
                    continue; // `r#ident`, not a string
                }
            }
            out.push(' ');
            i += 1;
            while i < chars.len() {
                if !raw && chars[i] == '\\' {
                    out.push(' ');
                    out.push(chars.get(i + 1).copied().map(blank).unwrap_or(' '));
                    i += 2;
                    continue;
                }
                if chars[i] == '"' && (0..hashes).all(|h| chars.get(i + 1 + h) == Some(&'#')) {
                    (0..=hashes).for_each(|_| out.push(' '));
                    i += 1 + hashes;
                    break;
                }
                out.push(blank(chars[i]));
                i += 1;
            }
        } else if c == '\'' && (next == Some('\\') || chars.get(i + 2) == Some(&'\'')) {
            // A char literal ('x', '\n', '\u{..}'); a lifetime ('a) has no closing quote.
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                out.push(' ');
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            out.push(' ');
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn prev_is_ident(chars: &[char], i: usize) -> bool {
    i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')
}

#[derive(Debug, PartialEq)]
enum Token {
    Ident(String),
    PathSep,
    Punct(char),
}

/// Identifiers, `::` and single punctuation, each with its 1-based line.
fn tokens(code: &str) -> Vec<(Token, usize)> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push((Token::Ident(chars[start..i].iter().collect()), line));
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            out.push((Token::PathSep, line));
            i += 2;
        } else {
            out.push((Token::Punct(c), line));
            i += 1;
        }
    }
    out
}

/// The first names of what follows a path prefix: `x` in `prefix::x::..`, or `a`, `b` in
/// `prefix::{a::.., b}`; each with its line.
fn children(toks: &[(Token, usize)], at: usize) -> Vec<(String, usize)> {
    match toks.get(at) {
        Some((Token::Ident(name), line)) => vec![(name.clone(), *line)],
        Some((Token::Punct('{'), _)) => {
            let mut found = Vec::new();
            let mut depth = 0;
            let mut item_start = true;
            for (tok, line) in &toks[at..] {
                match tok {
                    Token::Punct('{') => {
                        depth += 1;
                        item_start = depth == 1;
                    }
                    Token::Punct('}') => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    Token::Punct(',') if depth == 1 => item_start = true,
                    Token::Ident(name) if item_start && depth == 1 => {
                        found.push((name.clone(), *line));
                        item_start = false;
                    }
                    _ => item_start = false,
                }
            }
            found
        }
        _ => Vec::new(),
    }
}

/// The references in `src` (the file at `module`, its path below components/, e.g.
/// `["explorer", "filters"]`) to widgets of `widgets` other than its own (`module[0]`).
fn cross_references(src: &str, module: &[String], widgets: &BTreeSet<String>) -> Vec<Violation> {
    let toks = tokens(&code_only(src));
    let own = &module[0];
    let mut found = Vec::new();
    let mut check = |names: Vec<(String, usize)>, prefix: &str| {
        for (name, line) in names {
            if &name != own && widgets.contains(&name) {
                found.push(Violation { line, other: name.clone(), via: format!("{prefix}::{name}") });
            }
        }
    };
    for i in 0..toks.len() {
        let starts_path = i == 0 || toks[i - 1].0 != Token::PathSep;
        match &toks[i].0 {
            // `components::x` or `crate::components::x`: x is a widget module.
            Token::Ident(word) if word == "components" && toks.get(i + 1).map(|t| &t.0) == Some(&Token::PathSep) => {
                check(children(&toks, i + 2), "components");
            }
            // `super::` k times from the file's module: at components/ when k equals its depth.
            Token::Ident(word) if word == "super" && starts_path => {
                let mut k = 0;
                let mut j = i;
                while toks.get(j).map(|t| &t.0) == Some(&Token::Ident("super".into()))
                    && toks.get(j + 1).map(|t| &t.0) == Some(&Token::PathSep)
                {
                    k += 1;
                    j += 2;
                }
                if k == module.len() {
                    check(children(&toks, j), &vec!["super"; k].join("::"));
                }
            }
            _ => {}
        }
    }
    found
}

/// Every file below `dir`, sorted.
fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            files.extend(files_below(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// Every .rs file below `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    files_below(dir).into_iter().filter(|p| p.extension().is_some_and(|e| e == "rs")).collect()
}

#[test]
fn no_component_imports_another_component() {
    let dir = root().join("src/components");
    let widgets: BTreeSet<String> = std::fs::read_dir(&dir)
        .expect("src/components exists")
        .filter_map(|e| {
            let path = e.ok()?.path();
            let name = path.file_stem()?.to_str()?.to_string();
            (path.is_dir() || (path.extension()? == "rs" && name != "mod")).then_some(name)
        })
        .collect();
    let mut report = Vec::new();
    for file in rust_files(&dir) {
        let rel = file.strip_prefix(&dir).expect("below components/");
        let mut module: Vec<String> = rel.with_extension("").iter().map(|c| c.to_string_lossy().into_owned()).collect();
        if module.last().is_some_and(|m| m == "mod") {
            module.pop();
        }
        if module.is_empty() {
            continue; // components/mod.rs declares the widgets
        }
        let src = std::fs::read_to_string(&file).expect("readable source");
        for v in cross_references(&src, &module, &widgets) {
            report.push(format!(
                "src/components/{}:{}: `{}` refers to `{}` ({})",
                rel.display(),
                v.line,
                module[0],
                v.other,
                v.via
            ));
        }
    }
    assert!(
        report.is_empty(),
        "components import state and runtime, never each other (ARCHITECTURE.md, issue 10); {} reference(s):\n  {}",
        report.len(),
        report.join("\n  ")
    );
}

#[test]
fn the_component_scan_finds_paths_and_skips_comments_and_strings() {
    let widgets: BTreeSet<String> = ["gallery", "explorer", "toc"].map(String::from).into();
    let at = |m: &[&str]| m.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let src = "use super::explorer::ExploreCtx;\n\
               use super::{toc, gallery::Helper};\n\
               use crate::components::{\n    explorer::X,\n};\n\
               // super::toc in a comment\n\
               let s = \"components::toc // in a string\"; let c = '\"'; let t = crate::components::toc::Toc;\n\
               fn f<'a>(x: &'a str) { super::Own::new(); }\n";
    let found = cross_references(src, &at(&["gallery"]), &widgets);
    let lines: Vec<(usize, &str)> = found.iter().map(|v| (v.line, v.other.as_str())).collect();
    assert_eq!(lines, [(1, "explorer"), (2, "toc"), (4, "explorer"), (7, "toc")], "{found:#?}");
    assert_eq!(found[0].via, "super::explorer");

    // Inside a widget's folder, `super::` is the widget itself; two levels up is components/.
    let nested = "use super::ExploreCtx;\nuse super::filters::Filters;\nuse super::super::gallery::G;\n";
    let found = cross_references(nested, &at(&["explorer", "scrubber"]), &widgets);
    assert_eq!(found, [Violation { line: 3, other: "gallery".into(), via: "super::super::gallery".into() }]);
    // A widget's folder module (explorer/mod.rs) sits at the widget's level.
    assert_eq!(cross_references("use super::toc::Toc;", &at(&["explorer"]), &widgets).len(), 1);
    assert_eq!(cross_references("let r = r#\"super::toc\"#; use self::x;", &at(&["explorer"]), &widgets), []);
}

// ---- Module graphs: no circles, and the page's layers. ----

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `path` as the workspace sees it (`crates/worker/src/io.rs`).
fn relative(path: &Path) -> String {
    path.strip_prefix(root()).unwrap_or(path).display().to_string()
}

/// A crate root and its top-level modules, the ones it declares with `mod x;`.
struct CrateSource {
    /// lib.rs, main.rs, or a binary's own file.
    root_file: PathBuf,
    modules: BTreeSet<String>,
    /// Each file of those modules: (its top-level module, its depth below the root, the file).
    /// `x.rs` and `x/mod.rs` are `x` at depth 1; `x/y.rs` is `x` at depth 2.
    files: Vec<(String, usize, PathBuf)>,
}

fn crate_source(root_file: &Path) -> CrateSource {
    let dir = root_file.parent().expect("a crate root sits in a folder");
    let toks = tokens(&code_only(&read(root_file)));
    let modules: BTreeSet<String> = toks
        .windows(3)
        .filter_map(|w| match w {
            [(Token::Ident(m), _), (Token::Ident(name), _), (Token::Punct(';'), _)] if m == "mod" => Some(name.clone()),
            _ => None,
        })
        .collect();
    let mut files = Vec::new();
    for module in &modules {
        let own_file = dir.join(format!("{module}.rs"));
        let folder = dir.join(module);
        let below = if folder.is_dir() { rust_files(&folder) } else { Vec::new() };
        for file in own_file.is_file().then_some(own_file).into_iter().chain(below) {
            let rel = file.strip_prefix(dir).expect("below the root's folder");
            let depth = rel.components().count() - usize::from(rel.ends_with("mod.rs"));
            files.push((module.clone(), depth, file));
        }
    }
    CrateSource { root_file: root_file.to_path_buf(), modules, files }
}

/// Every lib and bin crate of the workspace that declares modules (a binary beside lib.rs,
/// like the worker's main.rs, is its own crate; most declare none). Tests and build scripts
/// are left out.
fn crate_sources() -> Vec<CrateSource> {
    let meta = metadata(&["--no-deps"]);
    let mut sources = Vec::new();
    for target in array(&meta["packages"]).iter().flat_map(|p| array(&p["targets"])) {
        let kinds: Vec<&str> = array(&target["kind"]).iter().filter_map(Value::as_str).collect();
        if kinds.iter().any(|k| *k == "bin" || k.ends_with("lib") || *k == "proc-macro") {
            let source = crate_source(Path::new(str_of(target, "src_path")));
            if !source.modules.is_empty() {
                sources.push(source);
            }
        }
    }
    sources
}

/// The top-level modules of `modules`, other than `own`, that `src` refers to, each with its
/// line: `crate::x` (also `crate::{x, y::z}`), and `super::x` when the `super`s climb from the
/// file's module (`depth` below the root, plus any inline `mod m { .. }`) exactly to the root.
/// A `#[cfg(test)] mod` is left out: tests may reach up, the built crate does not.
fn module_refs(src: &str, own: &str, depth: usize, modules: &BTreeSet<String>) -> Vec<(String, usize)> {
    let toks = tokens(&code_only(src));
    let is = |i: usize, t: &Token| toks.get(i).map(|(tok, _)| tok) == Some(t);
    let word = |w: &str| Token::Ident(w.to_string());
    let spelled = |from: usize, to: usize| -> String {
        let text = |t: &Token| match t {
            Token::Ident(w) => w.clone(),
            Token::PathSep => "::".into(),
            Token::Punct(c) => c.to_string(),
        };
        toks[from..to].iter().map(|(t, _)| text(t)).collect()
    };
    let mut found = Vec::new();
    let mut braces = Vec::new(); // for each open `{`: (opens an inline module, opens a test module)
    for i in 0..toks.len() {
        if braces.iter().any(|(_, test)| *test) && !matches!(toks[i].0, Token::Punct('{' | '}')) {
            continue;
        }
        let names = match &toks[i].0 {
            Token::Punct('{') => {
                let inline = i >= 2 && is(i - 2, &word("mod"));
                braces.push((inline, inline && i >= 9 && spelled(i - 9, i - 2) == "#[cfg(test)]"));
                continue;
            }
            Token::Punct('}') => {
                braces.pop();
                continue;
            }
            Token::Ident(w) if w == "crate" && is(i + 1, &Token::PathSep) => children(&toks, i + 2),
            Token::Ident(w) if w == "super" && !(i > 0 && is(i - 1, &Token::PathSep)) => {
                let mut j = i;
                while is(j, &word("super")) && is(j + 1, &Token::PathSep) {
                    j += 2;
                }
                let inline = braces.iter().filter(|(m, _)| *m).count();
                if (j - i) / 2 != depth + inline {
                    continue;
                }
                children(&toks, j)
            }
            _ => continue,
        };
        found.extend(names.into_iter().filter(|(name, _)| name != own && modules.contains(name)));
    }
    found
}

/// The crate's module graph: (from, to) for each reference between top-level modules, with
/// the first place it is made (`crates/worker/src/glue.rs:12`).
fn module_edges(source: &CrateSource) -> BTreeMap<(String, String), String> {
    let mut edges = BTreeMap::new();
    for (module, depth, file) in &source.files {
        for (other, line) in module_refs(&read(file), module, *depth, &source.modules) {
            edges.entry((module.clone(), other)).or_insert_with(|| format!("{}:{line}", relative(file)));
        }
    }
    edges
}

/// The circles that a depth-first walk of the graph closes, one per edge back to a node on the
/// walk's path, each written from that node round to it again: `["a", "b", "a"]`.
fn circles<'a>(edges: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<Vec<&'a str>> {
    fn walk<'a>(
        at: &'a str,
        next: &BTreeMap<&'a str, Vec<&'a str>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
        found: &mut Vec<Vec<&'a str>>,
    ) {
        path.push(at);
        for &to in next.get(at).into_iter().flatten() {
            if let Some(start) = path.iter().position(|m| *m == to) {
                found.push(path[start..].iter().copied().chain([to]).collect());
            } else if !done.contains(to) {
                walk(to, next, path, done, found);
            }
        }
        path.pop();
        done.insert(at);
    }
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (from, to) in edges {
        next.entry(from).or_default().push(to);
    }
    let (mut path, mut done, mut found) = (Vec::new(), BTreeSet::new(), Vec::new());
    for &start in next.keys() {
        if !done.contains(start) {
            walk(start, &next, &mut path, &mut done, &mut found);
        }
    }
    found
}

/// A module is a floor or a ceiling, not both (STYLE.md): the top-level modules of each crate
/// import each other without a circle, so each can be read, tested and moved from the bottom up.
#[test]
fn no_crate_has_a_module_circle() {
    let sources = crate_sources();
    let worker = sources.iter().find(|s| s.root_file.ends_with("crates/worker/src/lib.rs")).expect("the worker is scanned");
    assert!(module_edges(worker).len() >= 3, "the scan sees the worker's imports: {:?}", module_edges(worker));
    let mut report = Vec::new();
    for source in &sources {
        let edges = module_edges(source);
        for circle in circles(edges.keys().map(|(a, b)| (a.as_str(), b.as_str()))) {
            let dir = relative(source.root_file.parent().expect("a folder"));
            report.push(format!("{dir}: {}", circle.join(" -> ")));
            for step in circle.windows(2) {
                let at = &edges[&(step[0].to_string(), step[1].to_string())];
                report.push(format!("    {at}: `{}` refers to `{}`", step[0], step[1]));
            }
        }
    }
    assert!(
        report.is_empty(),
        "top-level modules import each other in a circle: put the shared primitives in a module at the bottom:\n  {}",
        report.join("\n  ")
    );
}

#[test]
fn the_circle_finder_walks_a_hand_made_graph() {
    let diamond = [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")];
    assert_eq!(circles(diamond), Vec::<Vec<&str>>::new());
    let worker = [("io", "job"), ("glue", "driver"), ("driver", "glue"), ("driver", "io"), ("explain", "glue")];
    assert_eq!(circles(worker), [["driver", "glue", "driver"]]);
    assert_eq!(circles([("c", "a"), ("a", "b"), ("b", "c"), ("b", "d")]), [["a", "b", "c", "a"]]);
}

#[test]
fn the_module_scan_finds_crate_and_super_paths() {
    let modules: BTreeSet<String> = ["io", "job", "driver", "glue"].map(String::from).into();
    let src = "use crate::{io::post, job::Job};\n\
               use super::glue;\n\
               // crate::driver in a comment\n\
               fn f() { crate::driver::run(\"crate::glue\"); crate::other::x(); }\n\
               mod tests { use super::glue; use super::super::job; }\n\
               pub(crate) fn g() {}\n\
               #[cfg(test)]\nmod tests { use crate::glue::X; }\n";
    let found = module_refs(src, "driver", 1, &modules);
    assert_eq!(found, [("io".into(), 1), ("job".into(), 1), ("glue".into(), 2), ("job".into(), 5)]);
    // Two levels down, one `super` stays in the file's own module.
    let nested = "use super::helper; use super::glue::X;\nuse super::super::io::post;\n";
    assert_eq!(module_refs(nested, "driver", 2, &modules), [("io".to_string(), 2)]);
}

/// The page's top-level modules, bottom to top.
const PAGE_LAYERS: [(&str, usize); 7] =
    [("view", 0), ("runtime", 1), ("state", 2), ("charts", 3), ("draw", 3), ("components", 4), ("app", 5)];

/// The page is built in layers (src/lib.rs): pure rules, the edge to the browser, the shared
/// state, the drawing, the widgets, the article. Each refers only to the layers below it, and
/// a new top-level module must be given its place here.
#[test]
fn the_page_layers_only_look_down() {
    let rank: BTreeMap<&str, usize> = PAGE_LAYERS.into();
    let mut report = Vec::new();
    for root_file in ["src/lib.rs", "src/main.rs"] {
        let source = crate_source(&root().join(root_file));
        if root_file == "src/lib.rs" {
            assert!(source.modules.contains("components"), "the scan sees the page's modules: {:?}", source.modules);
        }
        for module in source.modules.iter().filter(|m| !rank.contains_key(m.as_str())) {
            report.push(format!("{root_file}: `mod {module};` has no layer: add it to PAGE_LAYERS"));
        }
        for (module, depth, file) in &source.files {
            for (other, line) in module_refs(&read(file), module, *depth, &source.modules) {
                if let (Some(from), Some(to)) = (rank.get(module.as_str()), rank.get(other.as_str()))
                    && to >= from
                {
                    report.push(format!("{}:{line}: `{module}` (layer {from}) refers to `{other}` (layer {to})", relative(file)));
                }
            }
        }
    }
    assert!(
        report.is_empty(),
        "the page's layers only look down (view < runtime < state < charts, draw < components < app):\n  {}",
        report.join("\n  ")
    );
}

// ---- Components spawn no work. ----

/// What `find` finds in every Rust file under `dir` (relative to the root), as `file:line: `what``.
fn places(dir: &str, find: fn(&str) -> Vec<(usize, String)>) -> Vec<String> {
    let mut report = Vec::new();
    for file in rust_files(&root().join(dir)) {
        for (line, what) in find(&read(&file)) {
            report.push(format!("{}:{line}: `{what}`", relative(&file)));
        }
    }
    report
}

/// The tasks, workers and timers that `src` starts, each with its line and the path as written.
/// None of the components' timers draws (they debounce the address and the worker's requests,
/// and pace the scrubber), so timers count as work too.
fn spawned_work(src: &str) -> Vec<(usize, String)> {
    let toks = tokens(&code_only(src));
    let ident = |i: usize| match toks.get(i) {
        Some((Token::Ident(w), _)) => Some(w.as_str()),
        _ => None,
    };
    let is_sep = |i: usize| toks.get(i).is_some_and(|(t, _)| *t == Token::PathSep);
    let mut found = Vec::new();
    for (i, (_, line)) in toks.iter().enumerate() {
        let Some(word) = ident(i) else { continue };
        let task = word == "spawn" || word.starts_with("spawn_local");
        let timer = ["set_timeout", "set_interval", "request_animation_frame", "request_idle_callback"]
            .iter()
            .any(|t| word.starts_with(t));
        let made = matches!(word, "Worker" | "Timeout" | "Interval") && is_sep(i + 1) && ident(i + 2) == Some("new");
        if task || timer || made {
            // The path as written, up to the name: `leptos::task::spawn_local`, `Worker::new`.
            let mut start = i;
            while start >= 2 && is_sep(start - 1) && ident(start - 2).is_some() {
                start -= 2;
            }
            let end = if made { i + 2 } else { i };
            found.push((*line, (start..=end).filter_map(ident).collect::<Vec<_>>().join("::")));
        }
    }
    found
}

/// Components render and ask: the tasks live in `state`, the worker and the clock in
/// `runtime`, so a widget can be read, and tested, as a view of its state.
#[test]
fn no_component_spawns_work() {
    let report = places("src/components", spawned_work);
    assert!(
        report.is_empty(),
        "no component spawns work (tasks, workers, timers): ask state, or runtime for the clock; {} place(s):\n  {}",
        report.len(),
        report.join("\n  ")
    );
}

#[test]
fn the_spawn_scan_names_the_path_and_skips_comments_and_strings() {
    let src = "use leptos::task::spawn_local;\n\
               let w = web_sys::Worker::new(url); // spawn_local(x)\n\
               WorkerHandle::spawn(cmd); set_interval_with_handle(f, d);\n\
               let s = \"set_timeout\"; let spawned = 1; worker.spawn_count;\n";
    let found = spawned_work(src);
    let want = [
        (1, "leptos::task::spawn_local"),
        (2, "web_sys::Worker::new"),
        (3, "WorkerHandle::spawn"),
        (3, "set_interval_with_handle"),
    ];
    assert_eq!(found.iter().map(|(l, p)| (*l, p.as_str())).collect::<Vec<_>>(), want);
}

// ---- No machine's path ships. ----

/// Where a path starts, one of these begins an absolute path of a machine.
const MACHINE_PATHS: [&str; 8] = ["/work/", "/home/", "/root/", "/tmp/", "/Users/", "/mnt/", "C:\\", "file://"];

/// The absolute paths in `text`, each with its line: one of MACHINE_PATHS at the start of a
/// string or a word (after a quote, whitespace, `=` or `(`), so URLs such as
/// `https://zenodo.org/records/..` do not count.
fn machine_paths(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        for (at, _) in MACHINE_PATHS.iter().flat_map(|p| line.match_indices(p)) {
            let before = line[..at].chars().next_back();
            if before.is_none_or(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '=' | '(')) {
                let end = |c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | ')' | ',');
                found.push((n + 1, line[at..].split(end).next().unwrap_or_default().to_string()));
            }
        }
    }
    found.sort();
    found
}

/// The app ships assets/ as it is (the lab file, the checkpoints' notes, the scripts): a path
/// of the machine that made them means nothing to a reader's browser, and leaks that machine.
#[test]
fn no_shipped_file_holds_an_absolute_path() {
    let dir = root().join("assets");
    let mut report = Vec::new();
    let mut read_files = Vec::new();
    for file in files_below(&dir).into_iter().filter(|f| f.extension().is_none_or(|e| e != "ckpt")) {
        let bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let Ok(text) = String::from_utf8(bytes) else { continue }; // a binary file
        for (line, path) in machine_paths(&text) {
            report.push(format!("{}:{line}: {path}", relative(&file)));
        }
        read_files.push(relative(&file));
    }
    assert!(read_files.contains(&"assets/lab/lab.json".to_string()), "the scan reads the lab file: {read_files:?}");
    assert!(
        report.is_empty(),
        "shipped files hold no absolute path of a machine: name files relative to the site, or by URL:\n  {}",
        report.join("\n  ")
    );
}

#[test]
fn the_path_scan_skips_urls() {
    let text = "{\"pretrain\": \"/work/shared/x.npz\", \"url\": \"https://zenodo.org/records/10519652/files/b.npz\",\n\
                \"a\": \"file:///home/me/a\", \"w\": \"C:\\\\Users\\\\me\"}\n\
                cmd = /tmp/run (see /mnt/d) and https://example.org/home/x or /api/work/1\n";
    let found = machine_paths(text);
    let want = [(1, "/work/shared/x.npz"), (2, "C:\\\\Users\\\\me"), (2, "file:///home/me/a"), (3, "/mnt/d"), (3, "/tmp/run")];
    assert_eq!(found.iter().map(|(l, p)| (*l, p.as_str())).collect::<Vec<_>>(), want);
}

// ---- The CLI is a front end. ----

/// The words of an operation's own work: files (`std::fs`, `File::`) and driving the core (a
/// free `block_on` of its futures, a trainer), each with its line. (`x.block_on(..)` is a
/// runtime's, as the Ctrl-C listener's; `DataSource::File(..)` names a variant.)
fn operation_work(src: &str) -> Vec<(usize, String)> {
    let toks = tokens(&code_only(src));
    let mut found = Vec::new();
    for (i, (t, line)) in toks.iter().enumerate() {
        let Token::Ident(w) = t else { continue };
        let after_dot = i > 0 && toks[i - 1].0 == Token::Punct('.');
        let before_sep = toks.get(i + 1).is_some_and(|(t, _)| *t == Token::PathSep);
        let after_sep = i > 0 && toks[i - 1].0 == Token::PathSep;
        let hit = match w.as_str() {
            "fs" | "Trainer" | "PretextTrainer" => true,
            "File" => before_sep && !after_sep,
            "block_on" => !after_dot,
            _ => false,
        };
        if hit {
            found.push((*line, w.clone()));
        }
    }
    found
}

/// The CLI parses arguments and prints: the operations layer (crates/ops) reads and writes the
/// files and runs the core, so the JSON printer and the MCP server get the same behaviour.
#[test]
fn the_cli_reads_no_file_and_runs_no_core_work() {
    let report = places("crates/cli/src", operation_work);
    assert!(
        report.is_empty(),
        "the CLI leaves files and the core's work to crates/ops; {} place(s):\n  {}",
        report.len(),
        report.join("\n  ")
    );
}

#[test]
fn the_operation_scan_finds_files_and_core_work_and_skips_comments() {
    let src =
        "std::fs::write(p, b)?; // block_on(x)\nlet t = Trainer::new(c); let s = \"File\";\nfutures_lite::future::block_on(f);\n";
    assert_eq!(operation_work(src), [(1, "fs".to_string()), (2, "Trainer".to_string()), (3, "block_on".to_string())]);
}

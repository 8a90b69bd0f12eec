//! The tidy test: ARCHITECTURE.md's structural invariants, checked from `cargo metadata` and the
//! sources, so that breaking one fails `cargo xtask test` (its native step runs xtask's tests).
//!
//! - the data and core crates have no direct web dependency, for any target;
//! - the page bundle (breastmnist-lab for wasm32) reaches no burn, cubecl or wgpu, and of the
//!   workspace crates only breastmnist-data and breastmnist-protocol;
//! - the browser's trainers (breastmnist-worker's `webgpu` and `threads` builds) never turn on
//!   burn's `autotune`, which once corrupted WebGPU training here;
//! - no component refers to another component's module (components import state and runtime);
//! - every crate root (lib.rs, main.rs) starts with a `//!` comment stating its job.

use std::collections::{BTreeSet, HashMap, VecDeque};
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

/// Every .rs file below `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
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

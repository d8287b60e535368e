//! The layers of `shared/src`, checked from the sources on every test run (docs/DESIGN.md draws
//! them): which folder may name which, which crates the inner layers may not touch, and no
//! import cycle between files. It reads `crate::…` and `super::…` paths; a `mod x;` declaration
//! is not an import (a parent owns its children), but a `use` of a child is.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each layer and the layers it may name (itself included).
const LAYERS: &[(&str, &[&str])] = &[
    ("domain", &["domain"]),
    ("ports", &["ports", "domain"]),
    ("imaging", &["imaging", "domain"]),
    ("video", &["video", "domain", "ports"]),
    ("usecases", &["usecases", "ports", "domain", "imaging", "video"]),
    ("adapters", &["adapters", "ports", "domain"]),
    ("edge", &["edge", "usecases", "ports", "domain"]),
    ("wiring", &["wiring", "edge", "adapters", "usecases", "ports", "domain", "imaging", "video"]),
];

/// What only the edge, the adapters and the wiring may speak: HTTP frameworks, the AWS SDKs, and
/// the HTTP error type.
const OUTER_ONLY: &[&str] =
    &["axum::", "lambda_http", "lambda_runtime", "aws_sdk_", "aws_sigv4", "aws_config", "aws_smithy", "aws_credential_types", "reqwest", "ApiError"];
const INNER: &[&str] = &["domain", "ports", "usecases", "imaging", "video"];

struct Source {
    /// `["usecases", "media"]` for usecases/media.rs, `["adapters", "s3"]` for adapters/s3/mod.rs.
    module: Vec<String>,
    /// The file without its unit tests (a test may reach anywhere in its own file's layer).
    code: String,
}

fn sources() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files
        .into_iter()
        .map(|path| {
            let rel = path.strip_prefix(&root).expect("under src").with_extension("");
            let mut module: Vec<String> = rel.iter().map(|c| c.to_string_lossy().into_owned()).collect();
            if module.last().is_some_and(|m| m == "mod" || m == "lib") {
                module.pop();
            }
            let text = std::fs::read_to_string(&path).expect("readable source");
            let code = match text.find("#[cfg(test)]\nmod tests") {
                Some(i) => text[..i].to_string(),
                None => text,
            };
            let code = code.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
            Source { module, code }
        })
        .collect()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every module path the file names: `crate::a::b::C` → `[a, b, C]`, `super::x` resolved, and
/// `use crate::a::{b, c}` expanded one level.
fn named_paths(src: &Source) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let code = &src.code;
    let mut parsed_to = 0;
    for (start, prefix) in find_all(code, &["crate::", "super::"]) {
        // `foo_super::` or `mycrate::` are not these keywords; `super::super::` is one path.
        if start < parsed_to || start > 0 && code[..start].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let mut base: Vec<String> = if prefix == "crate::" { Vec::new() } else { parent(&src.module) };
        let mut rest = &code[start + prefix.len()..];
        while let Some(r) = rest.strip_prefix("super::") {
            base = parent(&base);
            rest = r;
        }
        let mut path = base;
        let mut tail = rest;
        loop {
            let ident: String = tail.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if ident.is_empty() {
                break;
            }
            path.push(ident.clone());
            tail = &tail[ident.len()..];
            match tail.strip_prefix("::") {
                Some(t) if t.starts_with('{') => {
                    let group: String = t[1..].chars().take_while(|c| *c != '}').collect();
                    for item in group.split(',') {
                        let name: String = item.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                        if !name.is_empty() && name != "self" {
                            let mut p = path.clone();
                            p.push(name);
                            out.push(p);
                        }
                    }
                    break;
                }
                Some(t) => tail = t,
                None => break,
            }
        }
        parsed_to = code.len() - tail.len();
        if !path.is_empty() {
            out.push(path);
        }
    }
    out
}

fn find_all<'a>(text: &str, needles: &[&'a str]) -> Vec<(usize, &'a str)> {
    let mut hits: Vec<(usize, &str)> = needles.iter().flat_map(|n| text.match_indices(n).map(move |(i, _)| (i, *n))).collect();
    hits.sort();
    hits
}

fn parent(module: &[String]) -> Vec<String> {
    module[..module.len().saturating_sub(1)].to_vec()
}

/// The file a path lands in: its longest prefix that is a module.
fn file_of(path: &[String], modules: &BTreeSet<Vec<String>>) -> Option<Vec<String>> {
    (1..=path.len()).rev().map(|n| path[..n].to_vec()).find(|p| modules.contains(p))
}

#[test]
fn each_layer_names_only_the_layers_inside_it() {
    let allowed: BTreeMap<&str, &[&str]> = LAYERS.iter().copied().collect();
    let mut wrong = Vec::new();
    for src in sources() {
        let Some(layer) = src.module.first() else { continue };
        let may = allowed.get(layer.as_str()).unwrap_or_else(|| panic!("shared/src/{layer} is in no layer: add it to LAYERS"));
        for path in named_paths(&src) {
            if !may.contains(&path[0].as_str()) {
                wrong.push(format!("{} names {}", src.module.join("::"), path.join("::")));
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    assert!(wrong.is_empty(), "imports against the layers:\n{}", wrong.join("\n"));
}

#[test]
fn the_inner_layers_speak_no_http_and_no_aws() {
    let mut wrong = Vec::new();
    for src in sources() {
        if !src.module.first().is_some_and(|l| INNER.contains(&l.as_str())) {
            continue;
        }
        for word in OUTER_ONLY {
            if src.code.contains(word) {
                wrong.push(format!("{} uses {word}", src.module.join("::")));
            }
        }
    }
    assert!(wrong.is_empty(), "the inner layers must not touch these:\n{}", wrong.join("\n"));
}

#[test]
fn no_import_cycle_between_files() {
    let sources = sources();
    let modules: BTreeSet<Vec<String>> = sources.iter().map(|s| s.module.clone()).collect();
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for src in &sources {
        let deps = edges.entry(src.module.clone()).or_default();
        for path in named_paths(src) {
            if let Some(file) = file_of(&path, &modules) {
                if file != src.module {
                    deps.insert(file);
                }
            }
        }
    }
    assert!(edges.len() > 40 && edges.values().map(BTreeSet::len).sum::<usize>() > 100, "the check reads the imports");
    let mut cycles = Vec::new();
    // A file is on a cycle when it can reach itself.
    for start in edges.keys() {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<(Vec<String>, Vec<Vec<String>>)> = edges[start].iter().map(|d| (d.clone(), vec![start.clone(), d.clone()])).collect();
        while let Some((at, trail)) = stack.pop() {
            if &at == start {
                cycles.push(trail.iter().map(|m| m.join("::")).collect::<Vec<_>>().join(" -> "));
                break;
            }
            if !seen.insert(at.clone()) {
                continue;
            }
            for next in edges.get(&at).into_iter().flatten() {
                let mut t = trail.clone();
                t.push(next.clone());
                stack.push((next.clone(), t));
            }
        }
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

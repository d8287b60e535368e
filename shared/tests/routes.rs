//! The route table against every other place that names routes: the local watch router in
//! Cargo.toml, the HttpApi events in template.yaml and the paths of openapi.yaml. A route added
//! or removed in one place and not the others fails here.

use shared::edge::routes::ROUTES;
use std::collections::BTreeSet;

fn read(name: &str) -> String {
    std::fs::read_to_string(format!("{}/../{name}", env!("CARGO_MANIFEST_DIR"))).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn table() -> BTreeSet<(String, String, String)> {
    ROUTES.iter().map(|r| (r.method.to_string(), r.path.to_string(), r.function.to_string())).collect()
}

#[test]
fn the_watch_router_sends_every_path_to_its_function() {
    let cargo = read("Cargo.toml");
    let section = cargo.split("[workspace.metadata.lambda.watch.router]").nth(1).expect("router section");
    let watch: BTreeSet<(String, String)> = section
        .lines()
        .take_while(|l| !l.starts_with('['))
        .filter_map(|l| {
            let (path, function) = l.split_once('=')?;
            Some((path.trim().trim_matches('"').to_string(), function.trim().trim_matches('"').to_string()))
        })
        .collect();
    let expected: BTreeSet<(String, String)> = table().into_iter().map(|(_, p, f)| (p, f)).collect();
    assert_eq!(watch, expected);
}

#[test]
fn template_events_are_the_route_table() {
    let template = read("template.yaml");
    let mut function = String::new();
    let mut events = BTreeSet::new();
    for line in template.lines() {
        if let Some(name) = line.strip_prefix("  ").and_then(|l| l.strip_suffix("Function:")) {
            if !name.starts_with(' ') {
                // UploadApiFunction -> upload-api
                let mut kebab = String::new();
                for (i, c) in name.chars().enumerate() {
                    if c.is_ascii_uppercase() && i > 0 {
                        kebab.push('-');
                    }
                    kebab.push(c.to_ascii_lowercase());
                }
                function = kebab;
            }
        }
        if let (Some(p), Some(m)) = (line.split("Path: ").nth(1), line.split("Method: ").nth(1)) {
            let path = p.split(',').next().unwrap().trim().trim_matches('"').to_string();
            let method = m.split([',', ' ', '}']).next().unwrap().to_string();
            events.insert((method, path, function.clone()));
        }
    }
    assert_eq!(events, table());
}

#[test]
fn openapi_documents_exactly_the_routes() {
    let doc = read("openapi.yaml");
    let paths = doc.split("\npaths:\n").nth(1).expect("paths section");
    let mut current = String::new();
    let mut documented = BTreeSet::new();
    for line in paths.lines() {
        if !line.starts_with(' ') && !line.is_empty() {
            break;
        }
        if let Some(p) = line.strip_prefix("  /").and_then(|l| l.strip_suffix(':')) {
            current = format!("/{p}");
        } else if let Some(m) = line.strip_prefix("    ").and_then(|l| l.strip_suffix(':')) {
            if matches!(m, "get" | "post" | "put" | "patch" | "delete") {
                documented.insert((m.to_uppercase(), current.clone()));
            }
        }
    }
    let expected: BTreeSet<(String, String)> = table().into_iter().map(|(m, p, _)| (m, p)).collect();
    assert_eq!(documented, expected);
}

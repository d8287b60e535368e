//! The local stack's `.local/env`, read once.

use std::collections::HashMap;
use std::path::PathBuf;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Reads `.local/env` (written by `scripts/local up`); the process environment wins.
pub fn load() -> HashMap<String, String> {
    let mut map = HashMap::new();
    let path = std::env::var("LOCAL_ENV_FILE").map(PathBuf::from).unwrap_or_else(|_| repo_root().join(".local/env"));
    if let Ok(text) = std::fs::read_to_string(&path) {
        for line in text.lines() {
            if let Some((k, v)) = line.split_once('=') {
                if !k.trim().is_empty() && !k.trim_start().starts_with('#') {
                    map.insert(k.trim().to_string(), v.to_string());
                }
            }
        }
    }
    for (k, v) in std::env::vars() {
        if map.contains_key(&k) {
            map.insert(k, v);
        }
    }
    map
}

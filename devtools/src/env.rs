//! The local stack's `.local/env`, read once.

use std::collections::HashMap;
use std::path::PathBuf;

/// The checkout the tool runs in: the nearest directory, from the working directory up, that
/// holds `.local/env` or the workspace's `Cargo.lock`. Never a path baked in at compile time:
/// with two clones on one machine, a binary built in one must not read the other's stack.
pub fn repo_root() -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    cwd.ancestors()
        .find(|d| d.join(".local/env").is_file() || (d.join("Cargo.lock").is_file() && d.join("shared").is_dir()))
        .map(PathBuf::from)
        .unwrap_or(cwd)
}

/// Reads `.local/env` (written by `scripts/local up`) from `LOCAL_ENV_FILE` or the checkout
/// found from the working directory; the process environment wins.
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

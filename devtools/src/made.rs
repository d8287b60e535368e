//! Fixtures made on first use by a script in devtools/fixtures/ with the pinned encoders
//! (scripts/install-tools installs them), one set per checkout, cached under target/<folder>/.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Mutex;

/// Where a set lives.
pub fn dir(folder: &str) -> PathBuf {
    crate::env::repo_root().join("target").join(folder)
}

/// The bytes of `name` from the set `script` (run as `script <outdir> <args>`) writes into
/// target/`folder`/, made once: later calls, and other test binaries, read the cache.
pub fn fixture(folder: &str, script: &str, args: &[&str], name: &str) -> Vec<u8> {
    static MADE: Mutex<()> = Mutex::new(());
    let path = dir(folder).join(name);
    if let Ok(bytes) = std::fs::read(&path) {
        return bytes;
    }
    let _once = MADE.lock().unwrap_or_else(|p| p.into_inner());
    if let Ok(bytes) = std::fs::read(&path) {
        return bytes;
    }
    let root = crate::env::repo_root();
    // Made in a per-process folder and renamed, so parallel test binaries never read a partial set.
    let tmp = dir(folder).with_file_name(format!(".{folder}-{}", std::process::id()));
    let python = root.join(".local/venv/bin/python");
    let status = Command::new(&python)
        .arg(root.join("devtools/fixtures").join(script))
        .arg(&tmp)
        .args(args)
        .stdout(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("{}: {e}; run scripts/install-tools", python.display()));
    assert!(status.success(), "devtools/fixtures/{script} failed: run scripts/install-tools");
    if std::fs::rename(&tmp, dir(folder)).is_err() {
        // Another process put its set in place first.
        let _ = std::fs::remove_dir_all(&tmp);
    }
    std::fs::read(&path).unwrap_or_else(|e| panic!("{name}: {e}"))
}

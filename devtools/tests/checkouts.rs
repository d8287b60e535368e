//! Two checkouts on one machine each use their own stack: a devtools binary finds `.local/env`
//! from its working directory (or LOCAL_ENV_FILE), never from a path baked in at compile time.
//! (A binary that read the other clone's secrets had every request of a load run refused.)

use base64::Engine;
use std::path::Path;
use std::process::Command;

fn clone_with_env(dir: &Path, issuer: &str) {
    std::fs::create_dir_all(dir.join(".local")).unwrap();
    std::fs::create_dir_all(dir.join("shared")).unwrap();
    std::fs::write(dir.join("Cargo.lock"), "").unwrap();
    let env = format!("JWT_HS256_SECRET={}\nJWT_ISSUER={issuer}\nJWT_AUDIENCE=aud\n", "s".repeat(40));
    std::fs::write(dir.join(".local/env"), env).unwrap();
}

/// The `iss` claim of the token `mint-token` prints when run in `cwd`.
fn issuer_seen_from(cwd: &Path, env_file: Option<&Path>) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mint-token"));
    cmd.current_dir(cwd).env_remove("LOCAL_ENV_FILE").env_remove("JWT_ISSUER");
    if let Some(f) = env_file {
        cmd.env("LOCAL_ENV_FILE", f);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8(out.stdout).unwrap();
    let payload = token.trim().split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["iss"].as_str().unwrap().to_string()
}

#[test]
fn each_checkout_reads_its_own_stack() {
    let root = std::env::temp_dir().join(format!("checkouts-{}", uuid::Uuid::new_v4().simple()));
    let (a, b) = (root.join("work-tree"), root.join("clean-clone"));
    clone_with_env(&a, "issuer-a");
    clone_with_env(&b, "issuer-b");
    std::fs::create_dir_all(b.join("devtools/src")).unwrap();
    assert_eq!(issuer_seen_from(&a, None), "issuer-a");
    assert_eq!(issuer_seen_from(&b.join("devtools/src"), None), "issuer-b", "found walking up from a subfolder");
    assert_eq!(issuer_seen_from(&a, Some(&b.join(".local/env"))), "issuer-b", "LOCAL_ENV_FILE wins");
    std::fs::remove_dir_all(&root).ok();
}

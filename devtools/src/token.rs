//! Dev tokens for the local stack's HS256 mode.

use jsonwebtoken::{encode, EncodingKey, Header};
use serde_json::json;
use std::time::{SystemTime, UNIX_EPOCH};

pub fn now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Signs arbitrary claims with the given secret (tests use it for bad tokens too).
pub fn sign(secret: &str, claims: &serde_json::Value) -> String {
    encode(&Header::default(), claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap_or_default()
}

pub fn mint(secret: &str, issuer: &str, audience: &str, sub: &str, scopes: &[String], ttl_secs: i64) -> String {
    let now = now_secs();
    sign(secret, &json!({"sub": sub, "scopes": scopes, "iss": issuer, "aud": audience, "iat": now, "nbf": now - 1, "exp": now + ttl_secs}))
}

pub fn mint_from_env(sub: &str, scopes: &[String], ttl_secs: i64) -> Result<String, String> {
    let env = crate::env::load();
    let get = |k: &str| env.get(k).cloned().ok_or_else(|| format!("{k} missing: run scripts/local up first"));
    Ok(mint(&get("JWT_HS256_SECRET")?, &get("JWT_ISSUER")?, &get("JWT_AUDIENCE")?, sub, scopes, ttl_secs))
}

//! Who is calling: a user id and the scopes it belongs to, bounded, from verified claims.

use std::collections::{BTreeSet, HashMap};

/// The claims name no acceptable caller (no `sub`, or one too long or with control characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a valid bearer token is required")]
pub struct Unauthenticated;

impl Unauthenticated {
    pub fn code(&self) -> &'static str {
        "unauthorized"
    }
}

const MAX_SUB_LEN: usize = 256;
const MAX_SCOPES: usize = 200;
const MAX_SCOPE_LEN: usize = 128;

/// An authenticated caller: the user id (`sub`) and the groups it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: String,
    pub scopes: BTreeSet<String>,
}

impl Caller {
    pub fn new(user_id: &str, scopes: impl IntoIterator<Item = String>) -> Result<Self, Unauthenticated> {
        let user_id = user_id.trim();
        if user_id.is_empty() || user_id.len() > MAX_SUB_LEN || user_id.chars().any(char::is_control) {
            return Err(Unauthenticated);
        }
        let scopes: BTreeSet<String> = scopes
            .into_iter()
            .filter(|s| !s.is_empty() && s.len() <= MAX_SCOPE_LEN && !s.chars().any(char::is_control))
            .take(MAX_SCOPES)
            .collect();
        Ok(Self { user_id: user_id.to_string(), scopes })
    }

    pub fn is_member(&self, scope: &str) -> bool {
        self.scopes.contains(scope)
    }

    /// From verified JSON claims: the scopes claim may be an array of strings or one
    /// space-separated string (OAuth's `scope` style).
    pub fn from_json_claims(claims: &serde_json::Map<String, serde_json::Value>, scopes_claim: &str) -> Result<Self, Unauthenticated> {
        let sub = claims.get("sub").and_then(|v| v.as_str()).ok_or(Unauthenticated)?;
        let scopes: Vec<String> = match claims.get(scopes_claim) {
            Some(serde_json::Value::Array(items)) => items.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
            Some(serde_json::Value::String(s)) => split_scopes(s),
            _ => Vec::new(),
        };
        Self::new(sub, scopes)
    }

    /// From API Gateway HTTP API authorizer claims, where every claim arrives as a string and
    /// arrays look like `[org:a org:b]`.
    pub fn from_string_claims(claims: &HashMap<String, String>, scopes_claim: &str) -> Result<Self, Unauthenticated> {
        let sub = claims.get("sub").ok_or(Unauthenticated)?;
        let scopes = claims.get(scopes_claim).map(|s| split_scopes(s)).unwrap_or_default();
        Self::new(sub, scopes)
    }
}

fn split_scopes(s: &str) -> Vec<String> {
    let s = s.trim();
    let s = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')).unwrap_or(s);
    s.split([' ', ',']).map(|p| p.trim_matches('"')).filter(|p| !p.is_empty()).map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_gateway_array_claims_are_split() {
        let mut c = HashMap::new();
        c.insert("sub".to_string(), "u1".to_string());
        c.insert("scopes".to_string(), "[org:a org:b]".to_string());
        let caller = Caller::from_string_claims(&c, "scopes").unwrap();
        assert!(caller.is_member("org:a") && caller.is_member("org:b"));
        assert!(!caller.is_member("[org:a"));
    }

    #[test]
    fn missing_or_empty_sub_is_unauthorized() {
        let c = HashMap::new();
        assert_eq!(Caller::from_string_claims(&c, "scopes").unwrap_err().code(), "unauthorized");
        assert_eq!(Caller::new("  ", vec![]).unwrap_err().code(), "unauthorized");
    }
}

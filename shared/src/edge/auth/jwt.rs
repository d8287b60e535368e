use crate::domain::caller::Caller;
use crate::edge::error::ApiError;
use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};

/// Verifies HS256 tokens: signature, `exp`, `nbf`, `iss`, `aud`. Every other algorithm,
/// `alg: none` included, is refused by the validation's algorithm list.
pub struct Hs256Verifier {
    key: DecodingKey,
    validation: Validation,
    scopes_claim: String,
}

impl Hs256Verifier {
    pub fn new(secret: &[u8], issuer: &str, audience: &str, scopes_claim: &str) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.validate_nbf = true;
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        Self { key: DecodingKey::from_secret(secret), validation, scopes_claim: scopes_claim.to_string() }
    }

    pub fn verify_token(&self, token: &str) -> Result<Caller, ApiError> {
        if token.len() > 8 * 1024 {
            return Err(ApiError::unauthorized());
        }
        let data = decode::<serde_json::Map<String, serde_json::Value>>(token, &self.key, &self.validation).map_err(|e| {
            tracing::info!(reason = %e, "token refused");
            ApiError::unauthorized()
        })?;
        Ok(Caller::from_json_claims(&data.claims, &self.scopes_claim)?)
    }
}

//! Who is calling. Deployed, API Gateway's JWT authorizer has verified the token and the
//! function reads the claims it passes on; locally the function verifies HS256 itself. There is
//! no mode that accepts an unverified token.

mod jwt;

pub use jwt::Hs256Verifier;
use crate::domain::caller::Caller;

use crate::edge::error::ApiError;
use lambda_http::request::RequestContext;
use http::HeaderMap;

pub enum Authenticator {
    /// Verify `Authorization: Bearer` HS256 tokens here (local development, tests).
    Hs256(Hs256Verifier),
    /// Trust only claims placed in the request context by API Gateway's JWT authorizer.
    ApiGateway { scopes_claim: String },
}

impl Authenticator {
    /// `context` is what API Gateway put in the request (absent locally).
    pub fn authenticate(&self, headers: &HeaderMap, context: Option<&RequestContext>) -> Result<Caller, ApiError> {
        match self {
            Self::Hs256(v) => {
                let token = bearer(headers).ok_or_else(ApiError::unauthorized)?;
                v.verify_token(token)
            }
            Self::ApiGateway { scopes_claim } => {
                let ctx = context.ok_or_else(ApiError::unauthorized)?;
                let RequestContext::ApiGatewayV2(ctx) = ctx else {
                    return Err(ApiError::unauthorized());
                };
                let jwt = ctx.authorizer.as_ref().and_then(|a| a.jwt.as_ref()).ok_or_else(ApiError::unauthorized)?;
                Ok(Caller::from_string_claims(&jwt.claims, scopes_claim)?)
            }
        }
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim()).filter(|t| !t.is_empty())
}

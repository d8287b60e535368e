//! The HTTP edge of the API functions, on axum: extractors for the caller, the media id, query
//! parameters and bounded JSON bodies; JSON answers; `ApiError` as a response; the 404 and 405
//! fallbacks (the `Allow` header comes from `routes::ROUTES`); the path-prefix rewrite of the
//! front doors; and the one log line per request. Handlers are `parse (extractors) → one domain
//! call → render`.

use crate::edge::auth::Authenticator;

use crate::domain::caller::Caller;
use crate::edge::error::ApiError;
use crate::domain::id::MediaId;
use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Path, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use http::request::Parts;
use http::{header, HeaderValue, StatusCode, Uri};
use lambda_http::RequestExt;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;
use std::time::Instant;

/// Request bodies larger than this are refused before parsing (413).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn json<T: Serialize>(status: u16, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(bytes) => Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::CACHE_CONTROL, "no-store")
            .body(Body::from(bytes))
            .unwrap_or_else(|_| plain_500()),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

pub fn no_content() -> Response {
    Response::builder().status(204).body(Body::empty()).unwrap_or_else(|_| plain_500())
}

pub fn redirect(location: &str) -> Response {
    Response::builder()
        .status(302)
        .header(header::LOCATION, location)
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::empty())
        .unwrap_or_else(|_| plain_500())
}

fn plain_500() -> Response {
    let mut r = Response::new(Body::from(ApiError::new(500, "internal", "internal error").body().to_string()));
    *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    r
}

/// The internal cause of a 5xx, carried from the error to the request's log line in the
/// response's extensions (never in its body).
#[derive(Clone)]
struct Cause(String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut builder = Response::builder()
            .status(self.status)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::CACHE_CONTROL, "no-store");
        if let Some(allow) = self.allow.as_deref().and_then(|a| HeaderValue::from_str(a).ok()) {
            builder = builder.header(header::ALLOW, allow);
        }
        let mut response = builder.body(Body::from(self.body().to_string())).unwrap_or_else(|_| plain_500());
        if let Some(cause) = self.cause {
            response.extensions_mut().insert(Cause(cause));
        }
        response
    }
}

/// The state of a function that authenticates its callers.
pub trait Authenticates {
    fn authenticator(&self) -> &Authenticator;
}

/// The verified caller: a handler that names it refuses unauthenticated requests with 401.
impl<A: Authenticates + Send + Sync> FromRequestParts<Arc<A>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<A>) -> Result<Self, ApiError> {
        state.authenticator().authenticate(&parts.headers, parts.request_context_ref())
    }
}

/// The `{id}` path parameter; a malformed id is indistinguishable from a missing media (404).
impl<S: Send + Sync> FromRequestParts<S> for MediaId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state).await.map_err(|_| ApiError::not_found())?;
        media_id(&raw)
    }
}

/// Parses a media id; a malformed id is indistinguishable from a missing one.
pub fn media_id(raw: &str) -> Result<MediaId, ApiError> {
    MediaId::parse(raw).ok_or_else(ApiError::not_found)
}

/// The `{org_id}`-style path parameter of a route with one parameter, as text.
pub struct PathParam(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state).await.map_err(|_| ApiError::route_not_found())?;
        Ok(Self(raw))
    }
}

/// The query string's parameters; the first occurrence of a name wins.
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn get(&self, name: &str) -> Option<String> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    /// Every parameter in order, repeats included (for parsers that refuse repeats).
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        Ok(Self(form_urlencoded::parse(query.as_bytes()).into_owned().collect()))
    }
}

/// A JSON object body of type `T` (whose serde attributes refuse unknown fields), read with the
/// size bound applied first: every failure is a 400 `invalid_request` or a 413.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, ApiError> {
        let bytes = axum::body::to_bytes(req.into_body(), MAX_BODY_BYTES)
            .await
            .map_err(|_| ApiError::body_too_large(MAX_BODY_BYTES))?;
        parse_json_bytes(&bytes).map(Self)
    }
}

/// The body rules of [`JsonBody`]: bounded, present, and a JSON object (serde would otherwise
/// accept an array as a struct's fields in order).
pub fn parse_json_bytes<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::body_too_large(MAX_BODY_BYTES));
    }
    if bytes.is_empty() {
        return Err(ApiError::invalid_request("a JSON body is required"));
    }
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::invalid_request("the body must be a JSON object"));
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::invalid_request(format!("invalid JSON body: {e}")))
}

/// A function's routes made into its whole API: JSON 404 for unknown routes, JSON 405 with the
/// `Allow` header from `routes::ROUTES`, and the request log line around everything.
pub fn function_router<S: Clone + Send + Sync + 'static>(function: &'static str, routes: Router<S>, state: S) -> Router {
    routes
        .method_not_allowed_fallback(move |uri: Uri| async move { method_not_allowed(function, uri.path()) })
        .fallback(|| async { ApiError::route_not_found() })
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

fn method_not_allowed(function: &str, path: &str) -> ApiError {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    ApiError::method_not_allowed(crate::edge::routes::allowed(function, &segments).join(", "))
}

/// What the Lambda runtime serves: the API behind the path rewrite.
pub type Edge = tower::util::MapRequest<Router, fn(lambda_http::Request) -> lambda_http::Request>;

pub fn edge(api: Router) -> Edge {
    tower::util::MapRequest::new(api, strip_prefix as fn(lambda_http::Request) -> lambda_http::Request)
}

/// Routes start at their version prefix (`/v1`, `/api`): whatever the front door puts before
/// it (`cargo lambda watch`'s `/lambda-url/<fn>`, an API Gateway stage) is removed.
fn strip_prefix(mut req: lambda_http::Request) -> lambda_http::Request {
    let path = req.uri().path();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut start = 0;
    if segments.first() == Some(&"lambda-url") && segments.len() >= 2 {
        start = 2;
    }
    if let Some(i) = segments[start..].iter().position(|s| *s == "v1" || *s == "api") {
        start += i;
    }
    if start == 0 {
        return req;
    }
    let rest = format!("/{}", segments[start..].join("/"));
    let path_and_query = match req.uri().query() {
        Some(q) => format!("{rest}?{q}"),
        None => rest,
    };
    if let Ok(uri) = Uri::builder().path_and_query(path_and_query).build() {
        *req.uri_mut() = uri;
    }
    req
}

/// The one log line of a request: route template, status, duration, the Lambda request id and,
/// for a 5xx, its internal cause. No URLs, no query strings, no tokens.
async fn log_request(matched: Option<MatchedPath>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let request_id = req.lambda_context_ref().map(|c| c.request_id.clone()).unwrap_or_default();
    let route = matched.as_ref().map(MatchedPath::as_str).unwrap_or("unknown").to_string();
    let response = next.run(req).await;
    let status = response.status().as_u16();
    let duration_ms = started.elapsed().as_millis() as u64;
    match response.extensions().get::<Cause>() {
        Some(Cause(error)) if status >= 500 => {
            tracing::error!(%request_id, %route, %method, status, duration_ms, %error, "request")
        }
        _ => tracing::info!(%request_id, %route, %method, status, duration_ms, "request"),
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Body1 {
        a: Option<String>,
    }

    async fn status(body: Vec<u8>) -> u16 {
        let req = Request::new(Body::from(body));
        JsonBody::<Body1>::from_request(req, &()).await.err().map(|e| e.status).unwrap_or(200)
    }

    #[tokio::test]
    async fn every_bad_body_is_a_client_error() {
        // API Gateway delivers a body that is not UTF-8 base64-encoded: it arrives as bytes.
        assert_eq!(status(vec![0xff, 0xfe, b'{']).await, 400);
        assert_eq!(status(b"{\xff}".to_vec()).await, 400);
        assert_eq!(status(b"[null]".to_vec()).await, 400, "an array is not an object");
        assert_eq!(status(b"null".to_vec()).await, 400);
        assert_eq!(status(vec![]).await, 400);
        assert_eq!(status(format!("{{\"a\":\"{}\"}}", "x".repeat(MAX_BODY_BYTES)).into_bytes()).await, 413);
        assert_eq!(status(b" {\"a\":null}".to_vec()).await, 200);
    }

    fn rewritten(uri: &str) -> String {
        strip_prefix(http::Request::builder().uri(uri).body(lambda_http::Body::Empty).unwrap()).uri().to_string()
    }

    #[test]
    fn front_door_prefixes_are_removed() {
        assert_eq!(rewritten("/lambda-url/media-api/v1/media?limit=2"), "/v1/media?limit=2");
        assert_eq!(rewritten("/prod/v1/media/x/url"), "/v1/media/x/url");
        assert_eq!(rewritten("/v1/health"), "/v1/health");
        assert_eq!(rewritten("/lambda-url/upload-api/api/v1/organizations/o/temp-image-upload"), "/api/v1/organizations/o/temp-image-upload");
        assert_eq!(rewritten("/elsewhere"), "/elsewhere");
    }
}

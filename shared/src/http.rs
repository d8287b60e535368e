//! HTTP plumbing shared by the API functions: bounded JSON bodies, JSON responses, routing
//! helpers and the one log line per request.

use crate::error::ApiError;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Request bodies larger than this are refused before parsing (413).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn json<T: Serialize>(status: u16, value: &T) -> Response<Body> {
    match serde_json::to_vec(value) {
        Ok(bytes) => Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .header("cache-control", "no-store")
            .body(Body::Binary(bytes))
            .unwrap_or_else(|_| plain_500()),
        Err(e) => error(&ApiError::internal(e)),
    }
}

pub fn error(e: &ApiError) -> Response<Body> {
    let mut builder = Response::builder();
    if let Some(allow) = e.allow {
        builder = builder.header("allow", allow);
    }
    builder
        .status(e.status)
        .header("content-type", "application/json")
        .header("cache-control", "no-store")
        .body(Body::Text(e.body().to_string()))
        .unwrap_or_else(|_| plain_500())
}

pub fn no_content() -> Response<Body> {
    Response::builder().status(204).body(Body::Empty).unwrap_or_else(|_| plain_500())
}

pub fn redirect(location: &str) -> Response<Body> {
    Response::builder()
        .status(302)
        .header("location", location)
        .header("cache-control", "no-store")
        .body(Body::Empty)
        .unwrap_or_else(|_| plain_500())
}

fn plain_500() -> Response<Body> {
    let mut r = Response::new(Body::Text(ApiError::new(500, "internal", "internal error").body().to_string()));
    *r.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
    r
}

/// Parses a JSON body into `T` (whose serde attributes refuse unknown fields), with the
/// body-size bound applied first. Every failure is a 400 `invalid_request` or a 413.
pub fn parse_json<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    let bytes: &[u8] = match req.body() {
        Body::Empty => b"",
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => b"",
    };
    parse_json_bytes(bytes)
}

/// The body rules of [`parse_json`]: bounded, present, and a JSON object (serde would otherwise
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

/// The request path split into segments, whatever prefix the front door adds
/// (`cargo lambda watch`'s `/lambda-url/<fn>`, an API Gateway stage).
pub fn segments(req: &Request) -> Vec<String> {
    let path = req.raw_http_path();
    let mut segs: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect();
    if segs.first().map(String::as_str) == Some("lambda-url") && segs.len() >= 2 {
        segs.drain(..2);
    }
    // Routes start at their version prefix; anything before it is a stage name.
    if let Some(i) = segs.iter().position(|s| s == "v1" || s == "api") {
        segs.drain(..i);
    }
    segs
}

/// One query-string parameter, if present once.
pub fn query(req: &Request, name: &str) -> Option<String> {
    req.query_string_parameters_ref().and_then(|q| q.first(name)).map(str::to_string)
}

/// The AWS request id of this invocation, for logs.
pub fn request_id(req: &Request) -> String {
    req.lambda_context_ref().map(|c| c.request_id.clone()).unwrap_or_default()
}

/// Renders a handler's result and writes the one log line of the request (no URLs, no tokens).
pub fn finish(req: &Request, route: &'static str, started: std::time::Instant, result: Result<Response<Body>, ApiError>) -> Response<Body> {
    let (response, cause) = match result {
        Ok(r) => (r, None),
        Err(e) => (error(&e), e.cause),
    };
    let status = response.status().as_u16();
    let duration_ms = started.elapsed().as_millis() as u64;
    let request_id = request_id(req);
    match cause {
        Some(error) if status >= 500 => {
            tracing::error!(%request_id, route, method = %req.method(), status, duration_ms, %error, "request")
        }
        _ => tracing::info!(%request_id, route, method = %req.method(), status, duration_ms, "request"),
    }
    response
}

/// Parses a media id from a path segment; a malformed id is indistinguishable from a missing one.
pub fn media_id(seg: &str) -> Result<crate::media::MediaId, ApiError> {
    crate::media::MediaId::parse(seg).ok_or_else(ApiError::not_found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Body1 {
        a: Option<String>,
    }

    fn status(body: Body) -> u16 {
        parse_json::<Body1>(&Request::new(body)).unwrap_err().status
    }

    #[test]
    fn every_bad_body_is_a_client_error() {
        // API Gateway delivers a body that is not UTF-8 base64-encoded: it arrives as bytes.
        assert_eq!(status(Body::Binary(vec![0xff, 0xfe, b'{'])), 400);
        assert_eq!(status(Body::Binary(b"{\xff}".to_vec())), 400);
        assert_eq!(status(Body::Text("[null]".into())), 400, "an array is not an object");
        assert_eq!(status(Body::Text("null".into())), 400);
        assert_eq!(status(Body::Empty), 400);
        assert_eq!(status(Body::Text(format!("{{\"a\":\"{}\"}}", "x".repeat(MAX_BODY_BYTES)))), 413);
        assert!(parse_json::<Body1>(&Request::new(Body::Text(" {\"a\":null}".into()))).is_ok());
    }
}

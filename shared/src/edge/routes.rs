//! Every HTTP route and the function that serves it: the one table the local `cargo lambda
//! watch` router (Cargo.toml), the API Gateway events (template.yaml) and the OpenAPI document
//! (`shared/tests/routes.rs`), and each function's axum router (its in-process tests), are
//! checked against, so they cannot drift apart. It also answers a 405's `Allow`.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    /// As API Gateway and OpenAPI spell it: `{id}` for a path parameter.
    pub path: &'static str,
    /// The crate under `functions/` that serves it.
    pub function: &'static str,
}

const fn route(method: &'static str, path: &'static str, function: &'static str) -> Route {
    Route { method, path, function }
}

pub const ROUTES: &[Route] = &[
    route("GET", "/v1/health", "upload-api"),
    route("GET", "/v1/kinds", "upload-api"),
    route("POST", "/v1/uploads", "upload-api"),
    route("DELETE", "/v1/uploads/{id}", "upload-api"),
    route("POST", "/v1/uploads/{id}/parts", "upload-api"),
    route("GET", "/v1/uploads/{id}/parts", "upload-api"),
    route("POST", "/v1/uploads/{id}/complete", "complete-upload"),
    route("POST", "/api/v1/organizations/{org_id}/temp-image-upload", "upload-api"),
    route("GET", "/v1/media", "media-api"),
    route("GET", "/v1/media/{id}", "media-api"),
    route("PATCH", "/v1/media/{id}", "media-api"),
    route("DELETE", "/v1/media/{id}", "media-api"),
    route("GET", "/v1/media/{id}/url", "media-api"),
    route("GET", "/v1/media/{id}/content", "media-api"),
    route("GET", "/v1/media/{id}/image", "transform"),
    route("POST", "/v1/media/{id}/attach", "media-api"),
    route("DELETE", "/v1/media/{id}/attach", "media-api"),
    route("POST", "/v1/media/complete", "complete-upload"),
    route("POST", "/v1/media/{id}/complete", "complete-upload"),
];

/// Whether `template` (a path with `{param}` segments) matches the request `segments`.
pub fn matches(template: &str, segments: &[&str]) -> bool {
    let parts: Vec<&str> = template.split('/').filter(|s| !s.is_empty()).collect();
    parts.len() == segments.len() && parts.iter().zip(segments).all(|(p, s)| p.starts_with('{') || p == s)
}

/// The methods `function` serves on the route matching `segments`, for a 405's `Allow`.
pub fn allowed(function: &str, segments: &[&str]) -> Vec<&'static str> {
    ROUTES.iter().filter(|r| r.function == function && matches(r.path, segments)).map(|r| r.method).collect()
}

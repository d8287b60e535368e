//! One route, no token: public media need none, private media carry a signature in the URL.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use shared::domain::clock::Clock;
use shared::edge::error::ApiError;
use shared::edge::http::{self, Params};
use shared::domain::id::MediaId;
use shared::ports::{MediaRepository, ObjectStore};
use shared::usecases::transforms::{ImageRequest, TransformService, VariantError, CDN_HEADER};
use shared::domain::transform::TransformSpec;
use std::sync::Arc;

/// The function's state: the transform use case.
pub struct App<R, O, C>(pub TransformService<R, O, C>);

/// How long a remembered render failure may be cached.
const FAILURE_CACHE_CONTROL: &str = "public, max-age=300";

fn signature(q: &Params) -> Result<Option<(i64, String)>, ApiError> {
    match (q.get("exp"), q.get("sig")) {
        (None, None) => Ok(None),
        (Some(exp), Some(sig)) => {
            let exp = exp.parse::<i64>().map_err(|_| ApiError::new(403, "invalid_signature", "exp must be a unix time"))?;
            Ok(Some((exp, sig)))
        }
        _ => Err(ApiError::new(403, "invalid_signature", "a signed URL carries both exp and sig")),
    }
}

/// The handler: the URL parsed, one use-case call, a redirect.
impl<R, O, C> App<R, O, C>
where
    R: MediaRepository + Send + Sync + 'static,
    O: ObjectStore + Send + Sync + 'static,
    C: Clock + Send + Sync + 'static,
{
    fn routes() -> Router<Arc<Self>> {
        Router::new().route("/v1/media/{id}/image", get(Self::image))
    }

    /// The function's router: its routes, the shared fallbacks and the request log line.
    pub fn router(self) -> Router {
        http::function_router("transform", Self::routes(), Arc::new(self))
    }

    /// Answers a redirect to the stored variant: the CDN caches it per URL (and per `Accept` for
    /// `format=auto`), and large results never pass through a Lambda response.
    async fn image(State(app): State<Arc<Self>>, id: MediaId, headers: HeaderMap, q: Params) -> Result<Response, ApiError> {
        let request = ImageRequest {
            id,
            spec: TransformSpec::parse(q.pairs())?,
            accept: headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).map(str::to_string),
            signature: signature(&q)?,
            via_cdn: headers.contains_key(CDN_HEADER),
        };
        let served = match app.0.image(request).await {
            Ok(served) => served,
            // Remembered under derived/ (the same answer until the original changes, which it never
            // does): caches may keep the answer briefly too.
            Err(e @ VariantError::Failed(_)) => {
                let mut response = ApiError::from(e).into_response();
                response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(FAILURE_CACHE_CONTROL));
                return Ok(response);
            }
            Err(e) => return Err(e.into()),
        };
        let mut response = http::redirect(&served.url);
        let h = response.headers_mut();
        let cache = match served.shared {
            // A path on the CDN, to an object that never changes: cache it (per URL and Accept).
            true => "public, max-age=86400",
            // A presigned URL that expires: a browser may reuse it briefly only, a CDN never.
            false => "private, max-age=60",
        };
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        if served.varies {
            h.insert(header::VARY, HeaderValue::from_static("Accept"));
        }
        h.insert("x-transform", HeaderValue::from_static(if served.rendered { "rendered" } else { "stored" }));
        if let Ok(v) = HeaderValue::from_str(served.output.mime()) {
            h.insert("x-transform-type", v);
        }
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use devtools::inprocess::{self, call};
    use shared::domain::clock::SystemClock;
    use shared::domain::kinds::Kinds;
    use shared::adapters::memory::{MemoryObjects, MemoryRepository};
    use std::time::Duration;

    fn edge(records: MemoryRepository) -> http::Edge {
        let limits = shared::imaging::DecodeLimits { max_pixels: 50_000_000, max_side: 20_000, max_jpeg_scans: 64, max_memory_mb: 384, time_budget: Duration::from_secs(8) };
        let service = TransformService {
            records,
            objects: MemoryObjects::default(),
            clock: SystemClock,
            kinds: Kinds::defaults(),
            limits,
            secret: b"in-process transform key 32 bytes".to_vec(),
            webp_method: 2,
            cap: shared::usecases::transforms::VariantCap { renders: 50, window: Duration::from_secs(3600) },
            public_transforms: shared::usecases::transforms::PublicTransforms::Any,
        };
        http::edge(App(service).router())
    }

    #[tokio::test]
    async fn serves_exactly_its_routes() {
        inprocess::assert_serves_exactly_its_routes("transform", &edge(MemoryRepository::default())).await;
    }

    #[tokio::test]
    async fn parameters_and_signatures_are_checked_before_anything_is_read() {
        let repo = MemoryRepository::default();
        let id = inprocess::pending_media(&repo, "ann").await;
        let e = edge(repo);
        let a = call(&e, "GET", &format!("/v1/media/{id}/image?w=65"), None, None).await;
        assert_eq!((a.status, a.code()), (400, "invalid_transform"));
        // A private kind: no signature, half a signature, a forged one.
        let a = call(&e, "GET", &format!("/v1/media/{id}/image?w=64"), None, None).await;
        assert_eq!((a.status, a.code()), (403, "signature_required"));
        let a = call(&e, "GET", &format!("/v1/media/{id}/image?w=64&sig=abc"), None, None).await;
        assert_eq!((a.status, a.code()), (403, "invalid_signature"));
        let a = call(&e, "GET", &format!("/v1/media/{id}/image?w=64&exp=99999999999&sig=abc"), None, None).await;
        assert_eq!((a.status, a.code()), (403, "invalid_signature"));
        let a = call(&e, "GET", "/v1/media/not-an-id/image?w=64", None, None).await;
        assert_eq!(a.status, 404);
    }
}

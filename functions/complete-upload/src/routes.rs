use futures::StreamExt;
use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};
use shared::api::CompleteBatch;
use shared::auth::{Authenticator, Caller};
use shared::clock::SystemClock;
use shared::media::MediaId;
use shared::error::ApiError;
use shared::http;
use shared::processing::LiveProcessor;
use shared::s3::S3Objects;
use shared::view::UrlSigner;
use std::time::Instant;

/// Verifications run this many at a time within one batch request.
const BATCH_CONCURRENCY: usize = 4;

pub struct App {
    pub auth: Authenticator,
    pub processor: LiveProcessor,
    pub urls: UrlSigner<S3Objects, SystemClock>,
}

impl App {
    pub async fn handle(&self, req: Request) -> Response<Body> {
        let started = Instant::now();
        let segs = http::segments(&req);
        let route: Vec<&str> = segs.iter().map(String::as_str).collect();
        let (name, result) = match (req.method().as_str(), route.as_slice()) {
            ("POST", ["v1", "media", "complete"]) => ("complete_batch", self.complete_batch(&req).await),
            ("POST", ["v1", "media", id, "complete"]) => ("complete", self.complete_one(&req, id).await),
            (_, ["v1", "media", "complete"] | ["v1", "media", _, "complete"]) => ("method_not_allowed", Err(ApiError::method_not_allowed("POST"))),
            _ => ("unknown", Err(ApiError::route_not_found())),
        };
        http::finish(&req, name, started, result)
    }

    async fn complete_one(&self, req: &Request, id: &str) -> Result<Response<Body>, ApiError> {
        let caller = self.auth.authenticate(req)?;
        let id = http::media_id(id)?;
        let (_, view) = self.complete(&caller, id).await?;
        Ok(http::json(200, &view))
    }

    async fn complete_batch(&self, req: &Request) -> Result<Response<Body>, ApiError> {
        let caller = self.auth.authenticate(req)?;
        let media_ids = http::parse_json::<CompleteBatch>(req)?.validate()?;
        let total = media_ids.len();
        let results: Vec<(bool, Value)> = futures::stream::iter(media_ids.into_iter())
            .map(|raw| {
                let caller = &caller;
                async move {
                    let outcome = match http::media_id(&raw) {
                        Ok(id) => self.complete(caller, id).await,
                        Err(e) => Err(e),
                    };
                    match outcome {
                        Ok((decided, view)) => (decided, serde_json::to_value(view).unwrap_or(Value::Null)),
                        Err(e) => (false, json!({"id": raw, "error": {"code": e.code, "message": e.message}})),
                    }
                }
            })
            .buffered(BATCH_CONCURRENCY)
            .collect()
            .await;
        let updated = results.iter().filter(|(d, _)| *d).count();
        let results: Vec<Value> = results.into_iter().map(|(_, v)| v).collect();
        Ok(http::json(200, &json!({"results": results, "updated_count": updated, "total_requested": total})))
    }

    /// Verifies one upload now. Returns whether this call decided it, and the media object.
    async fn complete(&self, caller: &Caller, id: MediaId) -> Result<(bool, shared::view::MediaView), ApiError> {
        let (decided, record) = self.processor.complete(caller, id).await?;
        Ok((decided, self.urls.render(&record).await?))
    }
}

//! Thin handlers: the caller, the media id and the body come from extractors; the
//! verification is the processor's `complete`.

use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use futures::StreamExt;
use serde_json::{json, Value};
use shared::edge::requests::CompleteBatch;
use shared::edge::auth::Authenticator;
use shared::domain::caller::Caller;
use shared::domain::clock::Clock;
use shared::edge::error::ApiError;
use shared::edge::http::{self, Authenticates, JsonBody};
use shared::domain::id::MediaId;
use shared::usecases::multipart::MultipartService;
use shared::ports::{MediaRepository, MultipartStore, ObjectStore};
use shared::usecases::processing::Processor;
use shared::usecases::view::{MediaView, UrlSigner};
use std::sync::Arc;

/// Verifications run this many at a time within one batch request.
const BATCH_CONCURRENCY: usize = 4;

pub struct App<R, O, C> {
    pub auth: Authenticator,
    pub processor: Processor<R, O, C>,
    /// Assembles a multipart upload from S3's part list before it is verified.
    pub multipart: MultipartService<R, O, C>,
    pub urls: UrlSigner<O, C>,
}

impl<R, O, C> Authenticates for App<R, O, C> {
    fn authenticator(&self) -> &Authenticator {
        &self.auth
    }
}


/// The handlers: extractors parse, one use-case call, the answer rendered.
impl<R, O, C> App<R, O, C>
where
    R: MediaRepository + Send + Sync + 'static,
    O: MultipartStore + ObjectStore + Send + Sync + 'static,
    C: Clock + Send + Sync + 'static,
{
    /// The routes this function serves (its rows of `shared::edge::routes::ROUTES`).
    fn routes() -> Router<Arc<Self>> {
        Router::new()
            .route("/v1/media/complete", post(Self::complete_batch))
            .route("/v1/media/{id}/complete", post(Self::complete_one))
            .route("/v1/uploads/{id}/complete", post(Self::complete_one))
    }

    /// The function's router: its routes, the shared fallbacks and the request log line.
    pub fn router(self) -> Router {
        http::function_router("complete-upload", Self::routes(), Arc::new(self))
    }

    async fn complete_one(
        State(app): State<Arc<Self>>,
        caller: Caller,
        id: MediaId,
    ) -> Result<Response, ApiError> {
        let (_, view) = app.complete(&caller, id).await?;
        Ok(http::json(200, &view))
    }

    async fn complete_batch(
        State(app): State<Arc<Self>>,
        caller: Caller,
        JsonBody(body): JsonBody<CompleteBatch>,
    ) -> Result<Response, ApiError> {
        let media_ids = body.validate()?;
        let total = media_ids.len();
        let results: Vec<(bool, Value)> = futures::stream::iter(media_ids.into_iter())
            .map(|raw| {
                let (app, caller) = (&app, &caller);
                async move {
                    let outcome = match http::media_id(&raw) {
                        Ok(id) => app.complete(caller, id).await,
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
}

impl<R: MediaRepository, O: MultipartStore + ObjectStore, C: Clock> App<R, O, C> {
    /// Verifies one upload now. Returns whether this call decided it, and the media object.
    async fn complete(&self, caller: &Caller, id: MediaId) -> Result<(bool, MediaView), ApiError> {
        self.multipart.assemble(caller, id).await?;
        let (decided, record) = self.processor.complete(caller, id).await?;
        Ok((decided, self.urls.render(&record).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use devtools::inprocess::{self, call, token};
    use shared::domain::clock::SystemClock;
    use shared::adapters::memory::{MemoryObjects, MemoryRepository};
    use shared::ports::ObjectStore;

    fn edge(repo: MemoryRepository, objects: MemoryObjects) -> http::Edge {
        let urls = UrlSigner { objects: objects.clone(), public_base: "https://media.example".into(), clock: SystemClock };
        let multipart = MultipartService { records: repo.clone(), parts: objects.clone(), clock: SystemClock, url_ttl: std::time::Duration::from_secs(300) };
        http::edge(App { auth: inprocess::authenticator(), processor: inprocess::processor(repo, objects), urls, multipart }.router())
    }

    #[tokio::test]
    async fn serves_exactly_its_routes() {
        inprocess::assert_serves_exactly_its_routes("complete-upload", &edge(MemoryRepository::default(), MemoryObjects::default())).await;
    }

    #[tokio::test]
    async fn complete_one_and_a_batch_through_the_router() {
        let (repo, objects) = (MemoryRepository::default(), MemoryObjects::default());
        let (missing, garbage) = (inprocess::pending_media(&repo, "ann").await, inprocess::pending_media(&repo, "ann").await);
        objects.put(&shared::domain::keys::incoming(&garbage), b"not a png!".to_vec(), "image/png", "no-store").await.unwrap();
        let e = edge(repo, objects);
        let ann = token("ann");

        let a = call(&e, "POST", &format!("/lambda-url/complete-upload/v1/media/{missing}/complete"), Some(&ann), None).await;
        assert_eq!((a.status, a.code()), (409, "upload_missing"), "{}", a.body);
        let a = call(&e, "POST", &format!("/v1/media/{garbage}/complete"), None, None).await;
        assert_eq!((a.status, a.code()), (401, "unauthorized"));
        let a = call(&e, "POST", &format!("/v1/media/{garbage}/complete"), Some(&token("bob")), None).await;
        assert_eq!((a.status, a.code()), (404, "not_found"), "another user's upload is not found");

        let body = serde_json::json!({"media_ids": [garbage, missing, "nope"]}).to_string();
        let a = call(&e, "POST", "/v1/media/complete", Some(&ann), Some(&body)).await;
        assert_eq!((a.status, a.body["total_requested"].as_u64(), a.body["updated_count"].as_u64()), (200, Some(3), Some(1)), "{}", a.body);
        assert_eq!(a.body["results"][0]["status"], "rejected", "{}", a.body);
        assert_eq!(a.body["results"][1]["error"]["code"], "upload_missing");
        assert_eq!(a.body["results"][2]["error"]["code"], "not_found");
        let a = call(&e, "POST", "/v1/media/complete", Some(&ann), Some(r#"{"media_ids":[]}"#)).await;
        assert_eq!((a.status, a.code()), (400, "invalid_request"));
    }
}

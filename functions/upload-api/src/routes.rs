//! Thin handlers: extractors parse the request into domain types, one operation runs, the
//! result is rendered.

use axum::extract::State;
use axum::response::Response;
use axum::routing::{delete, get, post};
use axum::Router;
use serde::Serialize;
use serde_json::json;
use shared::edge::requests::TempImageRequest;
use shared::edge::auth::Authenticator;
use shared::domain::caller::Caller;
use shared::domain::clock::Clock;
use shared::edge::error::ApiError;
use shared::edge::http::{self, Authenticates, JsonBody, PathParam};
use shared::domain::kinds::Kinds;
use shared::domain::id::MediaId;
use shared::usecases::multipart::{MultipartService, PartsRequest};
use shared::ports::{MediaRepository, MultipartStore, ObjectStore};
use shared::edge::requests::upload::UploadRequest;
use shared::usecases::uploads::UploadService;
use shared::ports::UploadSigner;
use std::collections::BTreeMap;
use std::sync::Arc;

pub struct App<R, S, M, C> {
    pub auth: Authenticator,
    pub kinds: Kinds,
    pub uploads: UploadService<R, S, M, C>,
    pub multipart: MultipartService<R, M, C>,
}

#[derive(Debug, Serialize)]
struct TempImageResponse {
    url: String,
    fields: BTreeMap<String, String>,
    s3_key: String,
    public_url: Option<String>,
}

impl<R, S, M, C> Authenticates for App<R, S, M, C> {
    fn authenticator(&self) -> &Authenticator {
        &self.auth
    }
}

type Answer = Result<Response, ApiError>;

/// The handlers: extractors parse, one use-case call, the answer rendered.
impl<R, S, M, C> App<R, S, M, C>
where
    R: MediaRepository + Send + Sync + 'static,
    S: UploadSigner + Send + Sync + 'static,
    M: MultipartStore + ObjectStore + Send + Sync + 'static,
    C: Clock + Send + Sync + 'static,
{
    /// The routes this function serves (its rows of `shared::edge::routes::ROUTES`).
    fn routes() -> Router<Arc<Self>> {
        Router::new()
            .route("/v1/health", get(|| async { http::json(200, &json!({"status": "ok"})) }))
            .route("/v1/kinds", get(Self::kinds))
            .route("/v1/uploads", post(Self::create_uploads))
            .route("/v1/uploads/{id}", delete(Self::abort_upload))
            .route("/v1/uploads/{id}/parts", post(Self::sign_parts).get(Self::list_parts))
            .route("/api/v1/organizations/{org_id}/temp-image-upload", post(Self::temp_image_upload))
    }

    /// The function's router: its routes, the shared fallbacks and the request log line.
    pub fn router(self) -> Router {
        http::function_router("upload-api", Self::routes(), Arc::new(self))
    }

    /// Public and cacheable: what a client checks files against before asking for slots.
    async fn kinds(State(app): State<Arc<Self>>) -> Answer {
        let mut response = http::json(200, &shared::domain::kinds::KindsView::from(&app.kinds));
        response.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("public, max-age=300"));
        Ok(response)
    }

    async fn sign_parts(
        State(app): State<Arc<Self>>,
        caller: Caller,
        id: MediaId,
        JsonBody(body): JsonBody<PartsRequest>,
    ) -> Answer {
        let parts = app.multipart.sign_parts(&caller, id, body).await?;
        tracing::info!(user = %caller.user_id, media_id = %id, count = parts.len(), "part urls signed");
        Ok(http::json(200, &json!({ "parts": parts })))
    }

    async fn list_parts(
        State(app): State<Arc<Self>>,
        caller: Caller,
        id: MediaId,
    ) -> Answer {
        let parts = app.multipart.parts(&caller, id).await?;
        Ok(http::json(200, &json!({ "parts": parts })))
    }

    async fn abort_upload(
        State(app): State<Arc<Self>>,
        caller: Caller,
        id: MediaId,
    ) -> Answer {
        app.multipart.abort(&caller, id).await?;
        Ok(http::no_content())
    }

    async fn create_uploads(
        State(app): State<Arc<Self>>,
        caller: Caller,
        JsonBody(body): JsonBody<UploadRequest>,
    ) -> Answer {
        let upload = body.validate(&app.kinds, &caller)?;
        let count = upload.files.len();
        let slots = app.uploads.create(&caller, upload).await?;
        tracing::info!(user = %caller.user_id, count, "upload slots created");
        Ok(http::json(201, &json!({ "uploads": slots })))
    }

    async fn temp_image_upload(
        State(app): State<Arc<Self>>,
        PathParam(org_id): PathParam,
        caller: Caller,
        JsonBody(body): JsonBody<TempImageRequest>,
    ) -> Answer {
        let upload = body.validate(&app.kinds, &caller, &org_id)?;
        let slot = app.uploads.create(&caller, upload).await?.pop().ok_or_else(|| ApiError::internal("no slot"))?;
        Ok(http::json(200, &TempImageResponse { url: slot.url, fields: slot.fields, s3_key: slot.key, public_url: slot.public_url }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use devtools::inprocess::{self, call, token};
    use shared::adapters::memory::MemoryRepository;
    use std::time::Duration;

    fn edge(repo: MemoryRepository) -> http::Edge {
        let uploads = inprocess::uploads(repo.clone());
        let multipart = MultipartService { records: repo, parts: uploads.parts.clone(), clock: shared::domain::clock::SystemClock, url_ttl: Duration::from_secs(300) };
        http::edge(App { auth: inprocess::authenticator(), kinds: Kinds::defaults(), uploads, multipart }.router())
    }

    #[tokio::test]
    async fn serves_exactly_its_routes() {
        inprocess::assert_serves_exactly_its_routes("upload-api", &edge(MemoryRepository::default())).await;
    }

    #[tokio::test]
    async fn slots_and_the_compatibility_route_through_the_router() {
        let e = edge(MemoryRepository::default());
        let a = call(&e, "GET", "/lambda-url/upload-api/v1/health", None, None).await;
        assert_eq!((a.status, a.body["status"].as_str()), (200, Some("ok")));

        let body = r#"{"kind":"image","method":"put","files":[{"filename":"a.png","content_type":"image/png","size_bytes":10}]}"#;
        let a = call(&e, "POST", "/v1/uploads", None, Some(body)).await;
        assert_eq!((a.status, a.code()), (401, "unauthorized"));
        let a = call(&e, "POST", "/prod/v1/uploads", Some(&token("ann")), Some(body)).await;
        assert_eq!((a.status, a.body["uploads"].as_array().map(Vec::len)), (201, Some(1)), "{}", a.body);
        assert!(a.body["uploads"][0]["url"].as_str().unwrap_or("").starts_with("memory:///incoming/"), "{}", a.body);
        let a = call(&e, "POST", "/v1/uploads", Some(&token("ann")), Some(r#"{"kind":"nope","files":[]}"#)).await;
        assert_eq!(a.status, 400, "{}", a.body);

        let temp = r#"{"filename":"t.png","content_type":"image/png"}"#;
        let a = call(&e, "POST", "/api/v1/organizations/org-1/temp-image-upload", Some(&token("ann")), Some(temp)).await;
        assert_eq!(a.status, 403, "not a member of org-1: {}", a.body);
    }
}

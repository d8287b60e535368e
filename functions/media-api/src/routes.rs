//! Thin handlers: extractors parse the request into domain values, one `MediaService`
//! operation runs, the answer is rendered.

use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::json;
use shared::edge::requests::{self, AttachRequest, MetadataPatch};
use shared::edge::auth::Authenticator;
use shared::domain::caller::Caller;
use shared::domain::clock::Clock;
use shared::edge::error::ApiError;
use shared::edge::http::{self, Authenticates, JsonBody, Params};
use shared::domain::id::MediaId;
use shared::usecases::media::{ListQuery, MediaService, UrlQuery};
use shared::ports::{ListFilter, MediaRepository, MultipartStore, ObjectStore};
use shared::edge::requests::upload::parse_scope;
use shared::domain::transform::{TransformSpec, TRANSFORM_PARAMS};
use shared::usecases::view::DEFAULT_URL_TTL;
use std::sync::Arc;

pub struct App<R, O, C> {
    pub auth: Authenticator,
    pub media: MediaService<R, O, C>,
}

impl<R, O, C> Authenticates for App<R, O, C> {
    fn authenticator(&self) -> &Authenticator {
        &self.auth
    }
}

type Answer = Result<Response, ApiError>;

/// The handlers: extractors parse, one use-case call, the answer rendered.
impl<R, O, C> App<R, O, C>
where
    R: MediaRepository + Send + Sync + 'static,
    O: ObjectStore + MultipartStore + Send + Sync + 'static,
    C: Clock + Send + Sync + 'static,
{
    /// The routes this function serves (its rows of `shared::edge::routes::ROUTES`).
    fn routes() -> Router<Arc<Self>> {
        Router::new()
            .route("/v1/media", get(Self::list))
            .route("/v1/media/{id}", get(Self::get_one).patch(Self::patch).delete(Self::delete))
            .route("/v1/media/{id}/url", get(Self::url))
            .route("/v1/media/{id}/content", get(Self::content))
            .route("/v1/media/{id}/attach", axum::routing::post(Self::attach).delete(Self::detach))
    }

    /// The function's router: its routes, the shared fallbacks and the request log line.
    pub fn router(self) -> Router {
        http::function_router("media-api", Self::routes(), Arc::new(self))
    }

    async fn get_one(State(app): State<Arc<Self>>, caller: Caller, id: MediaId) -> Answer {
        Ok(http::json(200, &app.media.get(&caller, id).await?))
    }

    async fn list(State(app): State<Arc<Self>>, caller: Caller, q: Params) -> Answer {
        let query = ListQuery {
            scope: q.get("scope").map(|s| parse_scope(&s)).transpose()?,
            filter: ListFilter { kind: requests::parse_kind(q.get("kind").as_deref())?, status: requests::parse_status(q.get("status").as_deref())? },
            limit: requests::parse_limit(q.get("limit").as_deref())?,
            cursor: q.get("cursor"),
        };
        let page = app.media.list(&caller, query).await?;
        Ok(http::json(200, &json!({"items": page.items, "next_cursor": page.next_cursor})))
    }

    async fn url(State(app): State<Arc<Self>>, caller: Caller, id: MediaId, q: Params) -> Answer {
        let signed = match transform_query(&q)? {
            Some(spec) => {
                let ttl = requests::parse_expires_in(q.get("expires_in").as_deref(), DEFAULT_URL_TTL)?;
                app.media.transform_url(&caller, id, &spec, ttl).await?
            }
            None => app.media.url(&caller, id, url_query(&q)?).await?,
        };
        Ok(http::json(200, &json!({"url": signed.url, "expires_in": signed.expires_in, "expires_at": signed.expires_at})))
    }

    async fn content(State(app): State<Arc<Self>>, caller: Caller, id: MediaId, q: Params) -> Answer {
        let signed = app.media.url(&caller, id, url_query(&q)?).await?;
        Ok(http::redirect(&signed.url))
    }

    async fn patch(
        State(app): State<Arc<Self>>,
        caller: Caller,
        id: MediaId,
        JsonBody(body): JsonBody<MetadataPatch>,
    ) -> Answer {
        let edit = body.validate()?;
        Ok(http::json(200, &app.media.patch(&caller, id, &edit).await?))
    }

    async fn attach(
        State(app): State<Arc<Self>>,
        caller: Caller,
        id: MediaId,
        JsonBody(body): JsonBody<AttachRequest>,
    ) -> Answer {
        let body = body.validate()?;
        Ok(http::json(200, &app.media.attach(&caller, id, &body.reference, body.expect_kind.as_ref()).await?))
    }

    async fn detach(State(app): State<Arc<Self>>, caller: Caller, id: MediaId) -> Answer {
        Ok(http::json(200, &app.media.detach(&caller, id).await?))
    }

    async fn delete(State(app): State<Arc<Self>>, caller: Caller, id: MediaId) -> Answer {
        app.media.delete(&caller, id).await?;
        Ok(http::no_content())
    }
}

fn url_query(q: &Params) -> Result<UrlQuery, ApiError> {
    Ok(UrlQuery {
        variant: q.get("variant").filter(|v| v != "original"),
        ttl: requests::parse_expires_in(q.get("expires_in").as_deref(), DEFAULT_URL_TTL)?,
        download: requests::parse_download(q.get("download").as_deref())?,
    })
}

/// The query names a transform when it has any of its parameters.
fn transform_query(q: &Params) -> Result<Option<TransformSpec>, ApiError> {
    let pairs: Vec<(String, String)> = q.pairs().iter().filter(|(k, _)| TRANSFORM_PARAMS.contains(&k.as_str())).cloned().collect();
    if pairs.is_empty() {
        return Ok(None);
    }
    if q.get("variant").is_some() || q.get("download").is_some() {
        return Err(ApiError::invalid_request("a transform URL takes no variant or download"));
    }
    Ok(Some(TransformSpec::parse(&pairs)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use devtools::inprocess::{self, call, token};
    use shared::domain::clock::SystemClock;
    use shared::domain::kinds::Kinds;
    use shared::adapters::memory::{MemoryObjects, MemoryRepository};
    use shared::usecases::view::UrlSigner;

    fn edge(records: MemoryRepository) -> http::Edge {
        let urls = UrlSigner { objects: MemoryObjects::default(), public_base: "https://media.example".into(), clock: SystemClock };
        let media = MediaService { records, urls, kinds: Kinds::defaults(), cursor_secret: b"in-process".to_vec(), events: std::sync::Arc::new(shared::domain::events::NoEvents), links: shared::usecases::transforms::Links { base_url: "https://api.example".into(), secret: b"in-process transform key 32 bytes".to_vec(), public_transforms: shared::usecases::transforms::PublicTransforms::Any } };
        http::edge(App { auth: inprocess::authenticator(), media }.router())
    }

    #[tokio::test]
    async fn serves_exactly_its_routes() {
        inprocess::assert_serves_exactly_its_routes("media-api", &edge(MemoryRepository::default())).await;
    }

    #[tokio::test]
    async fn a_media_through_every_extractor() {
        let repo = MemoryRepository::default();
        let id = inprocess::pending_media(&repo, "ann").await;
        let (ann, bob) = (token("ann"), token("bob"));
        let e = edge(repo);
        let one = format!("/lambda-url/media-api/v1/media/{id}");

        let a = call(&e, "GET", &one, Some(&ann), None).await;
        assert_eq!((a.status, a.body["id"].as_str()), (200, Some(id.as_str())), "{}", a.body);
        assert_eq!(a.headers["content-type"], "application/json");
        assert_eq!(call(&e, "GET", &one, None, None).await.code(), "unauthorized");
        assert_eq!(call(&e, "GET", &one, Some("not-a-token"), None).await.status, 401);
        let a = call(&e, "GET", &one, Some(&bob), None).await;
        assert_eq!((a.status, a.code()), (404, "not_found"), "another user's media is not found");
        let a = call(&e, "GET", "/v1/media/not-a-uuid", Some(&ann), None).await;
        assert_eq!((a.status, a.body["error"]["message"].as_str()), (404, Some("no such media")));

        let a = call(&e, "GET", "/prod/v1/media?limit=5&status=pending", Some(&ann), None).await;
        assert_eq!((a.status, a.body["items"].as_array().map(Vec::len)), (200, Some(1)), "{}", a.body);
        assert_eq!(call(&e, "GET", "/v1/media?limit=5", Some(&bob), None).await.body["items"], serde_json::json!([]));
        let a = call(&e, "GET", "/v1/media?limit=0", Some(&ann), None).await;
        assert_eq!((a.status, a.code()), (400, "invalid_request"));
        let a = call(&e, "GET", "/v1/media?cursor=forged", Some(&ann), None).await;
        assert_eq!((a.status, a.code()), (400, "invalid_cursor"));

        let a = call(&e, "PATCH", &one, Some(&ann), Some(r#"{"title":"Hello"}"#)).await;
        assert_eq!((a.status, a.body["title"].as_str()), (200, Some("Hello")), "{}", a.body);
        assert_eq!(call(&e, "PATCH", &one, Some(&ann), Some("[1]")).await.code(), "invalid_request");
        assert_eq!(call(&e, "PATCH", &one, Some(&ann), Some(r#"{"owner":"bob"}"#)).await.code(), "invalid_request");
        let big = format!(r#"{{"title":"{}"}}"#, "x".repeat(70 * 1024));
        assert_eq!(call(&e, "PATCH", &one, Some(&ann), Some(&big)).await.status, 413);

        let a = call(&e, "GET", &format!("{one}/url"), Some(&ann), None).await;
        assert_eq!((a.status, a.code()), (409, "not_ready"), "a pending media has no URL");
        let a = call(&e, "POST", &format!("{one}/attach"), Some(&ann), Some(r#"{"ref":"post:1"}"#)).await;
        assert_eq!((a.status, a.code()), (409, "not_ready"), "{}", a.body);

        assert_eq!(call(&e, "DELETE", &one, Some(&bob), None).await.status, 404);
        assert_eq!(call(&e, "DELETE", &one, Some(&ann), None).await.status, 204);
        assert_eq!(call(&e, "GET", &one, Some(&ann), None).await.status, 404);
    }
}

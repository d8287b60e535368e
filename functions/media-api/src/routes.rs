//! Thin handlers: parse the request into domain values, call one `MediaService` operation,
//! render the answer.

use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::api::{self, AttachRequest, MetadataPatch};
use shared::auth::Authenticator;
use shared::clock::SystemClock;
use shared::error::ApiError;
use shared::http;
use shared::media_service::{ListQuery, MediaService, UrlQuery};
use shared::ports::ListFilter;
use shared::s3::S3Objects;
use shared::dynamodb::DynamoStore;
use shared::upload::request::parse_scope;
use shared::view::DEFAULT_URL_TTL;
use std::time::Instant;

pub struct App {
    pub auth: Authenticator,
    pub media: MediaService<DynamoStore, S3Objects, SystemClock>,
}

impl App {
    pub async fn handle(&self, req: Request) -> Response<Body> {
        let started = Instant::now();
        let segs = http::segments(&req);
        let route: Vec<&str> = segs.iter().map(String::as_str).collect();
        let (name, result) = match (req.method().as_str(), route.as_slice()) {
            ("GET", ["v1", "media"]) => ("list_media", self.list(&req).await),
            ("GET", ["v1", "media", id]) => ("get_media", self.get(&req, id).await),
            ("PATCH", ["v1", "media", id]) => ("patch_media", self.patch(&req, id).await),
            ("DELETE", ["v1", "media", id]) => ("delete_media", self.delete(&req, id).await),
            ("GET", ["v1", "media", id, "url"]) => ("media_url", self.url(&req, id, false).await),
            ("GET", ["v1", "media", id, "content"]) => ("media_content", self.url(&req, id, true).await),
            ("POST", ["v1", "media", id, "attach"]) => ("attach", self.attach(&req, id).await),
            ("DELETE", ["v1", "media", id, "attach"]) => ("detach", self.detach(&req, id).await),
            (_, ["v1", "media"] | ["v1", "media", _, "url" | "content"]) => ("method_not_allowed", Err(ApiError::method_not_allowed("GET"))),
            (_, ["v1", "media", _]) => ("method_not_allowed", Err(ApiError::method_not_allowed("GET, PATCH, DELETE"))),
            (_, ["v1", "media", _, "attach"]) => ("method_not_allowed", Err(ApiError::method_not_allowed("POST, DELETE"))),
            _ => ("unknown", Err(ApiError::route_not_found())),
        };
        http::finish(&req, name, started, result)
    }

    async fn get(&self, req: &Request, id: &str) -> Result<Response<Body>, ApiError> {
        let caller = self.auth.authenticate(req)?;
        let view = self.media.get(&caller, http::media_id(id)?).await?;
        Ok(http::json(200, &view))
    }

    async fn list(&self, req: &Request) -> Result<Response<Body>, ApiError> {
        let caller = self.auth.authenticate(req)?;
        let query = ListQuery {
            scope: http::query(req, "scope").map(|s| parse_scope(&s)).transpose()?,
            filter: ListFilter { kind: http::query(req, "kind"), status: api::parse_status(http::query(req, "status").as_deref())? },
            limit: api::parse_limit(http::query(req, "limit").as_deref())?,
            cursor: http::query(req, "cursor"),
        };
        let page = self.media.list(&caller, query).await?;
        Ok(http::json(200, &json!({"items": page.items, "next_cursor": page.next_cursor})))
    }

    async fn url(&self, req: &Request, id: &str, redirect: bool) -> Result<Response<Body>, ApiError> {
        let caller = self.auth.authenticate(req)?;
        let query = UrlQuery {
            variant: http::query(req, "variant").filter(|v| v != "original"),
            ttl: api::parse_expires_in(http::query(req, "expires_in").as_deref(), DEFAULT_URL_TTL)?,
            download: api::parse_download(http::query(req, "download").as_deref())?,
        };
        let signed = self.media.url(&caller, http::media_id(id)?, query).await?;
        if redirect {
            return Ok(http::redirect(&signed.url));
        }
        Ok(http::json(200, &json!({"url": signed.url, "expires_in": signed.expires_in, "expires_at": signed.expires_at})))
    }

    async fn patch(&self, req: &Request, id: &str) -> Result<Response<Body>, ApiError> {
        let caller = self.auth.authenticate(req)?;
        let edit = http::parse_json::<MetadataPatch>(req)?.validate()?;
        let view = self.media.patch(&caller, http::media_id(id)?, &edit).await?;
        Ok(http::json(200, &view))
    }

    async fn attach(&self, req: &Request, id: &str) -> Result<Response<Body>, ApiError> {
        let caller = self.auth.authenticate(req)?;
        let body = http::parse_json::<AttachRequest>(req)?.validate()?;
        let view = self.media.attach(&caller, http::media_id(id)?, &body.reference, body.expect_kind.as_deref()).await?;
        Ok(http::json(200, &view))
    }

    async fn detach(&self, req: &Request, id: &str) -> Result<Response<Body>, ApiError> {
        let caller = self.auth.authenticate(req)?;
        let view = self.media.detach(&caller, http::media_id(id)?).await?;
        Ok(http::json(200, &view))
    }

    async fn delete(&self, req: &Request, id: &str) -> Result<Response<Body>, ApiError> {
        let caller = self.auth.authenticate(req)?;
        self.media.delete(&caller, http::media_id(id)?).await?;
        Ok(http::no_content())
    }
}

//! Thin handlers: parse the request, call one operation, render the media object.

use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::api::{self, AttachRequest, MetadataPatch};
use shared::auth::{Authenticator, Caller};
use shared::clock::{self, Clock, SystemClock};
use shared::error::ApiError;
use shared::http;
use shared::kinds::Kinds;
use shared::media::{MediaRecord, Status};
use shared::storage::ObjectStore;
use shared::store::{DynamoStore, ListBy, ListFilter, StoreError};
use shared::upload::request::parse_scope;
use shared::view::{can_read, is_owner, UrlSigner, DEFAULT_URL_TTL};
use std::time::Instant;

pub struct App {
    pub auth: Authenticator,
    pub store: DynamoStore,
    pub objects: ObjectStore,
    pub urls: UrlSigner<SystemClock>,
    pub kinds: Kinds,
    pub cursor_secret: Vec<u8>,
}

fn not_found_on_condition(e: StoreError) -> ApiError {
    match e {
        StoreError::ConditionFailed => ApiError::not_found(),
        other => other.into(),
    }
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

    /// Loads a media the caller may read; anything else is 404 (existence never leaks).
    async fn readable(&self, caller: &Caller, id: &str) -> Result<MediaRecord, ApiError> {
        let id = http::media_id(id)?;
        let record = self.store.get(&id).await?.ok_or_else(ApiError::not_found)?;
        if !can_read(caller, &record) {
            return Err(ApiError::not_found());
        }
        Ok(record)
    }

    async fn owned(&self, caller: &Caller, id: &str) -> Result<MediaRecord, ApiError> {
        let record = self.readable(caller, id).await?;
        if !is_owner(caller, &record) {
            return Err(ApiError::not_found());
        }
        Ok(record)
    }

    async fn render(&self, record: &MediaRecord) -> Result<Response<Body>, ApiError> {
        Ok(http::json(200, &self.urls.render(record).await?))
    }

    async fn get(&self, req: &Request, id: &str) -> Result<Response<Body>, ApiError> {
        let caller = self.auth.authenticate(req)?;
        let record = self.readable(&caller, id).await?;
        self.render(&record).await
    }

    async fn list(&self, req: &Request) -> Result<Response<Body>, ApiError> {
        let caller = self.auth.authenticate(req)?;
        let by = match http::query(req, "scope") {
            Some(s) => {
                let scope = parse_scope(&s)?;
                if !caller.is_member(&scope) {
                    return Err(ApiError::forbidden("you are not a member of that scope"));
                }
                ListBy::Scope(scope)
            }
            None => ListBy::Owner(caller.user_id.clone()),
        };
        let kind = http::query(req, "kind");
        if let Some(k) = &kind {
            if self.kinds.get(k).is_none() {
                return Err(ApiError::new(400, "unknown_kind", "unknown kind"));
            }
        }
        let status = api::parse_status(http::query(req, "status").as_deref())?;
        let limit = api::parse_limit(http::query(req, "limit").as_deref())?;
        let query_id = format!("{by:?}|{kind:?}|{status:?}");
        let start = http::query(req, "cursor").map(|c| shared::cursor::decode(&self.cursor_secret, &query_id, &c)).transpose()?;
        let filter = ListFilter { kind, status };
        let (records, next) = self.store.list(&by, &filter, limit, start).await?;
        let mut items = Vec::with_capacity(records.len());
        for r in &records {
            // Signing is local computation: every URL comes in this one answer.
            items.push(self.urls.render(r).await?);
        }
        let next_cursor = next.and_then(|k| shared::cursor::encode(&self.cursor_secret, &query_id, &k));
        Ok(http::json(200, &json!({"items": items, "next_cursor": next_cursor})))
    }

    async fn url(&self, req: &Request, id: &str, redirect: bool) -> Result<Response<Body>, ApiError> {
        let caller = self.auth.authenticate(req)?;
        let record = self.readable(&caller, id).await?;
        if record.status != Status::Ready {
            return Err(ApiError::conflict("not_ready", "the media is not ready"));
        }
        let variant = http::query(req, "variant").unwrap_or_else(|| "original".into());
        let (key, filename) = if variant == "original" {
            let extension = record.content_type.unwrap_or(record.declared_type).extension();
            (record.final_key.clone().ok_or_else(ApiError::not_found)?, api::download_name(&record.filename, "", extension))
        } else {
            let v = record.variants.get(&variant).ok_or_else(|| ApiError::new(404, "not_found", "no such variant"))?;
            (v.key.clone(), api::download_name(&record.filename, &format!("-w{variant}"), "webp"))
        };
        let ttl = api::parse_expires_in(http::query(req, "expires_in").as_deref(), DEFAULT_URL_TTL)?;
        let download = api::parse_download(http::query(req, "download").as_deref())?;
        let disposition = download.then(|| api::content_disposition(&filename));
        let signed = self.urls.url_for(record.visibility, &key, ttl, disposition).await?;
        if redirect {
            return Ok(http::redirect(&signed.url));
        }
        Ok(http::json(200, &json!({"url": signed.url, "expires_in": signed.expires_in, "expires_at": signed.expires_at})))
    }

    async fn patch(&self, req: &Request, id: &str) -> Result<Response<Body>, ApiError> {
        let caller = self.auth.authenticate(req)?;
        let edit = http::parse_json::<MetadataPatch>(req)?.validate()?;
        let record = self.owned(&caller, id).await?;
        let now = clock::format(self.urls.clock.now());
        let updated = self.store.update_metadata(&record.id, &caller.user_id, &edit, &now).await.map_err(not_found_on_condition)?;
        self.render(&updated).await
    }

    async fn attach(&self, req: &Request, id: &str) -> Result<Response<Body>, ApiError> {
        let caller = self.auth.authenticate(req)?;
        let body = http::parse_json::<AttachRequest>(req)?.validate()?;
        let record = self.owned(&caller, id).await?;
        let now = clock::format(self.urls.clock.now());
        match self.store.attach(&record.id, &caller.user_id, &body.reference, body.expect_kind.as_deref(), &now).await {
            Ok(updated) => self.render(&updated).await,
            Err(StoreError::ConditionFailed) => {
                // Say exactly which rule failed, from the current record.
                let current = self.owned(&caller, id).await?;
                if current.status != Status::Ready {
                    Err(ApiError::conflict("not_ready", "only ready media can be attached"))
                } else if body.expect_kind.as_deref().is_some_and(|k| k != current.kind) {
                    Err(ApiError::conflict("wrong_kind", format!("the media is a {}", current.kind)))
                } else {
                    Err(ApiError::conflict("already_attached", "the media is attached to another ref"))
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn detach(&self, req: &Request, id: &str) -> Result<Response<Body>, ApiError> {
        let caller = self.auth.authenticate(req)?;
        let record = self.owned(&caller, id).await?;
        let now = self.urls.clock.now();
        let gc_at = self
            .kinds
            .get(&record.kind)
            .and_then(|k| k.unattached_ttl)
            .filter(|_| record.status == Status::Ready)
            .map(|ttl| clock::format(now + ttl));
        let updated = self
            .store
            .detach(&record.id, &caller.user_id, gc_at.as_deref(), &clock::format(now))
            .await
            .map_err(not_found_on_condition)?;
        self.render(&updated).await
    }

    async fn delete(&self, req: &Request, id: &str) -> Result<Response<Body>, ApiError> {
        let caller = self.auth.authenticate(req)?;
        let record = self.owned(&caller, id).await?;
        let now = clock::format(self.urls.clock.now());
        let marked = shared::deletion::start(&self.store, &record.id, Some(&caller.user_id), &now).await.map_err(not_found_on_condition)?;
        // If S3 or DynamoDB fails from here, the janitor finishes from `deleting`.
        if let Err(e) = shared::deletion::finish(&self.store, &self.objects, &marked).await {
            tracing::warn!(media_id = %marked.id, error = %e, "delete left for the janitor to finish");
        }
        Ok(http::no_content())
    }
}

use lambda_http::{Body, Request, Response};
use shared::auth::{Authenticator, Caller};
use shared::clock::SystemClock;
use shared::error::ApiError;
use shared::http;
use shared::media::MediaRecord;
use shared::store::DynamoStore;
use shared::view::{can_read, UrlSigner};
use std::time::Instant;

pub struct App {
    pub auth: Authenticator,
    pub store: DynamoStore,
    pub urls: UrlSigner<SystemClock>,
}

impl App {
    pub async fn handle(&self, req: Request) -> Response<Body> {
        let started = Instant::now();
        let segs = http::segments(&req);
        let route: Vec<&str> = segs.iter().map(String::as_str).collect();
        let (name, result) = match (req.method().as_str(), route.as_slice()) {
            ("GET", ["v1", "media", id]) => ("get_media", self.get(&req, id).await),
            (_, ["v1", "media", _]) => ("method_not_allowed", Err(ApiError::method_not_allowed())),
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

    async fn get(&self, req: &Request, id: &str) -> Result<Response<Body>, ApiError> {
        let caller = self.auth.authenticate(req)?;
        let record = self.readable(&caller, id).await?;
        Ok(http::json(200, &self.urls.render(&record).await?))
    }
}

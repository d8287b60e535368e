//! Thin handlers: parse the request into domain types, call one operation, render the result.

use lambda_http::{Body, Request, Response};
use serde::Serialize;
use shared::api::TempImageRequest;
use serde_json::json;
use shared::auth::Authenticator;
use shared::clock::Clock;
use shared::error::ApiError;
use shared::http;
use shared::kinds::Kinds;
use shared::ports::UploadRecords;
use shared::upload::{UploadRequest, UploadService, UploadSigner};
use std::collections::BTreeMap;
use std::time::Instant;

pub struct App<R, S, C> {
    pub auth: Authenticator,
    pub kinds: Kinds,
    pub uploads: UploadService<R, S, C>,
}

#[derive(Debug, Serialize)]
struct TempImageResponse {
    url: String,
    fields: BTreeMap<String, String>,
    s3_key: String,
    public_url: Option<String>,
}

impl<R: UploadRecords, S: UploadSigner, C: Clock> App<R, S, C> {
    pub async fn handle(&self, req: Request) -> Response<Body> {
        let started = Instant::now();
        let method = req.method().as_str().to_string();
        let segs = http::segments(&req);
        let route: Vec<&str> = segs.iter().map(String::as_str).collect();
        let (route_name, result) = match (method.as_str(), route.as_slice()) {
            ("GET", ["v1", "health"]) => ("health", Ok(http::json(200, &json!({"status": "ok"})))),
            ("POST", ["v1", "uploads"]) => ("create_uploads", self.create_uploads(&req).await),
            ("POST", ["api", "v1", "organizations", org, "temp-image-upload"]) => {
                ("temp_image_upload", self.temp_image_upload(&req, org).await)
            }
            (_, ["v1", "health"]) => ("method_not_allowed", Err(ApiError::method_not_allowed("GET"))),
            (_, ["v1", "uploads"] | ["api", "v1", "organizations", _, "temp-image-upload"]) => {
                ("method_not_allowed", Err(ApiError::method_not_allowed("POST")))
            }
            _ => ("unknown", Err(ApiError::route_not_found())),
        };
        http::finish(&req, route_name, started, result)
    }

    async fn create_uploads(&self, req: &Request) -> Result<Response<Body>, ApiError> {
        let caller = self.auth.authenticate(req)?;
        let body: UploadRequest = http::parse_json(req)?;
        let upload = body.validate(&self.kinds, &caller)?;
        let count = upload.files.len();
        let slots = self.uploads.create(&caller, upload).await?;
        tracing::info!(user = %caller.user_id, count, "upload slots created");
        Ok(http::json(201, &json!({ "uploads": slots })))
    }

    async fn temp_image_upload(&self, req: &Request, org_id: &str) -> Result<Response<Body>, ApiError> {
        let caller = self.auth.authenticate(req)?;
        let upload = http::parse_json::<TempImageRequest>(req)?.validate(&self.kinds, &caller, org_id)?;
        let slot = self.uploads.create(&caller, upload).await?.pop().ok_or_else(|| ApiError::internal("no slot"))?;
        Ok(http::json(
            200,
            &TempImageResponse { url: slot.url, fields: slot.fields, s3_key: slot.key, public_url: slot.public_url },
        ))
    }
}

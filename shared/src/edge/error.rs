//! The one error model of the HTTP API: `{"error":{"code":"snake_case","message":"..."}}`
//! with the matching status, and the one place where domain errors become HTTP errors.
//! Internal causes travel with the error and are logged once, by the request's log line
//! (`http::log_request`), never sent to the client.

use serde_json::json;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    /// For 405: the methods the route accepts (the `Allow` header, RFC 9110).
    pub allow: Option<String>,
    /// What went wrong on our side (5xx only): logged with the request, never answered.
    pub cause: Option<String>,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), allow: None, cause: None }
    }
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(400, "invalid_request", message)
    }
    pub fn unauthorized() -> Self {
        Self::new(401, "unauthorized", "a valid bearer token is required")
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, "forbidden", message)
    }
    pub fn not_found() -> Self {
        Self::new(404, "not_found", "no such media")
    }
    pub fn route_not_found() -> Self {
        Self::new(404, "not_found", "no such route")
    }
    pub fn method_not_allowed(allow: String) -> Self {
        let message = format!("this route accepts {allow}");
        Self { allow: Some(allow), ..Self::new(405, "method_not_allowed", message) }
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(409, code, message)
    }
    pub fn body_too_large(limit: usize) -> Self {
        Self::new(413, "body_too_large", format!("request body exceeds {limit} bytes"))
    }
    /// A server-side failure: the cause goes to the log, the client gets a generic message.
    pub fn internal(cause: impl fmt::Display) -> Self {
        Self { cause: Some(cause.to_string()), ..Self::new(500, "internal", "internal error") }
    }
    /// A dependency is throttling or briefly unavailable: the client may retry.
    pub fn unavailable(cause: impl fmt::Display) -> Self {
        Self { cause: Some(cause.to_string()), ..Self::new(503, "unavailable", "temporarily unavailable, retry later") }
    }

    pub fn body(&self) -> serde_json::Value {
        json!({"error": {"code": self.code, "message": self.message}})
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

impl From<crate::domain::caller::Unauthenticated> for ApiError {
    fn from(_: crate::domain::caller::Unauthenticated) -> Self {
        ApiError::unauthorized()
    }
}

impl From<crate::domain::transform::TransformError> for ApiError {
    fn from(e: crate::domain::transform::TransformError) -> Self {
        use crate::domain::transform::TransformError as T;
        let message = e.to_string();
        match e {
            T::Invalid(_) => ApiError::new(400, "invalid_transform", message),
            T::Expired => ApiError::new(403, "expired_signature", message),
            T::BadSignature => ApiError::new(403, "invalid_signature", message),
        }
    }
}

impl From<crate::usecases::transforms::VariantError> for ApiError {
    fn from(e: crate::usecases::transforms::VariantError) -> Self {
        use crate::usecases::transforms::VariantError as V;
        let message = e.to_string();
        match e {
            V::Request(t) => t.into(),
            V::SignatureRequired(_) => ApiError::new(403, "signature_required", message),
            V::NoImage => ApiError::new(404, "not_found", message),
            V::NotReady => ApiError::conflict("not_ready", message),
            V::NotAnImage => ApiError::new(400, "not_an_image", message),
            V::Failed(_) => ApiError::new(422, "transform_failed", message),
            V::TooManyVariants { .. } => ApiError::new(429, "too_many_variants", message),
            V::Internal(cause) => ApiError::internal(cause),
            V::Store(s) => s.into(),
            V::Storage(s) => s.into(),
        }
    }
}

impl From<crate::ports::RecordError> for ApiError {
    fn from(e: crate::ports::RecordError) -> Self {
        match e {
            crate::ports::RecordError::Transient(m) => ApiError::unavailable(m),
            other => ApiError::internal(other),
        }
    }
}

impl From<crate::ports::ObjectError> for ApiError {
    fn from(e: crate::ports::ObjectError) -> Self {
        match e {
            crate::ports::ObjectError::Transient(m) => ApiError::unavailable(m),
            crate::ports::ObjectError::Other(m) => ApiError::internal(m),
        }
    }
}

impl From<crate::usecases::processing::ProcessError> for ApiError {
    fn from(e: crate::usecases::processing::ProcessError) -> Self {
        use crate::usecases::processing::ProcessError;
        match e {
            ProcessError::Store(s) => s.into(),
            ProcessError::Storage(s) => s.into(),
            ProcessError::Busy | ProcessError::Events(_) => ApiError::unavailable(e),
        }
    }
}

impl From<crate::usecases::processing::CompleteError> for ApiError {
    fn from(e: crate::usecases::processing::CompleteError) -> Self {
        use crate::usecases::processing::CompleteError;
        match e {
            CompleteError::NotFound => ApiError::not_found(),
            CompleteError::UploadMissing => ApiError::conflict("upload_missing", e.to_string()),
            CompleteError::Process(p) => p.into(),
        }
    }
}

impl From<crate::usecases::media::MediaError> for ApiError {
    fn from(e: crate::usecases::media::MediaError) -> Self {
        use crate::usecases::media::MediaError;
        let message = e.to_string();
        match e {
            MediaError::NotFound => ApiError::not_found(),
            MediaError::NoSuchVariant => ApiError::new(404, "not_found", message),
            MediaError::NotMember => ApiError::forbidden(message),
            MediaError::UnknownKind => ApiError::new(400, "unknown_kind", message),
            MediaError::NotReady(_) => ApiError::conflict("not_ready", message),
            MediaError::WrongKind(_) => ApiError::conflict("wrong_kind", message),
            MediaError::AlreadyAttached => ApiError::conflict("already_attached", message),
            MediaError::InvalidCursor => ApiError::new(400, "invalid_cursor", message),
            MediaError::NotAnImage => ApiError::new(400, "not_an_image", message),
            MediaError::Signing(cause) => ApiError::internal(cause),
            MediaError::Store(s) => s.into(),
            MediaError::Storage(s) => s.into(),
        }
    }
}

impl From<crate::usecases::uploads::UploadError> for ApiError {
    fn from(e: crate::usecases::uploads::UploadError) -> Self {
        use crate::usecases::uploads::UploadError;
        match e {
            UploadError::TooManyPending(_) => ApiError::new(429, "too_many_pending", e.to_string()),
            UploadError::SizeRequired => ApiError::invalid_request(e.to_string()),
            UploadError::TooManyParts(_) => ApiError::new(413, "too_large", e.to_string()),
            UploadError::IdCollision => ApiError::internal(e),
            UploadError::Store(s) => s.into(),
            UploadError::Signing(s) => s.into(),
        }
    }
}

impl From<crate::usecases::multipart::MultipartError> for ApiError {
    fn from(e: crate::usecases::multipart::MultipartError) -> Self {
        use crate::usecases::multipart::MultipartError as M;
        match e {
            M::NotFound => ApiError::new(404, "not_found", "no such upload"),
            M::NotMultipart => ApiError::conflict("not_multipart", e.to_string()),
            M::NotPending => ApiError::conflict("not_pending", e.to_string()),
            M::Expired => ApiError::new(410, "upload_expired", e.to_string()),
            M::BadParts(m) => ApiError::invalid_request(m),
            M::Incomplete(_) => ApiError::conflict("parts_incomplete", e.to_string()),
            M::Store(s) => s.into(),
            M::Storage(s) => s.into(),
        }
    }
}

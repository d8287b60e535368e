//! Events as HMAC-signed HTTP POSTs: the local stack's receiver (the dev bridge), or an
//! internal endpoint. Each delivery carries `x-media-event-id` and
//! `x-media-signature: sha256=<hex HMAC-SHA256 of the body>`; anything but a 2xx is a failure
//! the caller retries.

use crate::domain::events::{EventError, EventSink, MediaEvent, Publishing};
use std::time::Duration;

pub struct WebhookSink {
    client: reqwest::Client,
    url: String,
    secret: Vec<u8>,
}

impl WebhookSink {
    pub fn new(url: impl Into<String>, secret: &[u8]) -> Result<Self, EventError> {
        // A slow receiver must become a retry, never a hung verification.
        let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().map_err(|e| EventError(e.to_string()))?;
        Ok(Self { client, url: url.into(), secret: secret.to_vec() })
    }
}

/// `sha256=<hex>` of `body` under `secret`: what a receiver recomputes and compares.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    // HMAC accepts a key of any length; the empty fallback is unreachable.
    crate::domain::mac::tag(secret, &[body]).map(|t| format!("sha256={}", hex::encode(t))).unwrap_or_default()
}

impl EventSink for WebhookSink {
    fn publish<'a>(&'a self, event: &'a MediaEvent) -> Publishing<'a> {
        Box::pin(async move {
            let body = serde_json::to_vec(event).map_err(|e| EventError(e.to_string()))?;
            let response = self
                .client
                .post(&self.url)
                .header("content-type", "application/json")
                .header("x-media-event-id", &event.id)
                .header("x-media-signature", signature(&self.secret, &body))
                .body(body)
                .send()
                .await
                .map_err(|e| EventError(format!("webhook: {e}")))?;
            if !response.status().is_success() {
                return Err(EventError(format!("webhook answered {}", response.status())));
            }
            Ok(())
        })
    }
}

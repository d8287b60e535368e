//! process-upload: S3 ObjectCreated events on `incoming/`. Verifies each upload, writes its
//! original and thumbnails outside `incoming/` (so it can never trigger itself), and records the
//! verdict. Transient failures fail the invocation so Lambda retries; nothing is swallowed.

use aws_lambda_events::event::s3::S3Event;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use shared::wiring::config::Config;
use shared::domain::keys::{self, EventKey};
use shared::ports::ObjectStore;
use shared::usecases::processing::Outcome;
use shared::wiring::services::LiveProcessor;
use shared::wiring::runtime::Clients;
use std::sync::Arc;

async fn handle(p: &LiveProcessor, event: LambdaEvent<S3Event>) -> Result<serde_json::Value, Error> {
    let request_id = event.context.request_id.clone();
    let mut failures = Vec::new();
    let mut handled = 0usize;
    for record in event.payload.records {
        let Some(raw_key) = record.s3.object.key.as_deref() else { continue };
        let key = shared::adapters::s3::decode_event_key(raw_key);
        let result = match keys::classify_event_key(&key) {
            EventKey::Outside => {
                tracing::warn!(%key, "event outside incoming/ ignored");
                continue;
            }
            EventKey::Upload(id) => p.process(id).await,
            // No media id, so no record can exist: a stray.
            EventKey::Stray => p.objects.delete(&key).await.map(|_| Outcome::Stray).map_err(Into::into),
        };
        handled += 1;
        match result {
            Ok(outcome) => {
                let (status, media_id) = match &outcome {
                    Outcome::Stray => ("stray_deleted", String::new()),
                    Outcome::Missing(r) => ("missing", r.id.clone()),
                    Outcome::AlreadyDone(r) => ("already_done", r.id.clone()),
                    Outcome::Decided(r) => (r.status.as_str(), r.id.clone()),
                };
                tracing::info!(%request_id, %key, %media_id, outcome = status, "object processed");
            }
            Err(e) => {
                tracing::error!(%request_id, %key, error = %e, "processing failed; the invocation will be retried");
                failures.push(format!("{key}: {e}"));
            }
        }
    }
    if !failures.is_empty() {
        // Every record is safe to process again, so failing the whole event is correct.
        return Err(format!("{} of {handled} objects failed: {}", failures.len(), failures.join("; ")).into());
    }
    Ok(serde_json::json!({"processed": handled}))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::wiring::telemetry::init();
    let config = Config::from_env()?;
    let clients = Clients::new(&config).await;
    let processor = Arc::new(shared::wiring::services::processor(&config, &clients));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<S3Event>| {
        let p = Arc::clone(&processor);
        async move { handle(&p, event).await }
    }))
    .await
}

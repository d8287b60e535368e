//! janitor: runs on a schedule (EventBridge) and removes orphaned uploads. Ends with one
//! structured log line and returns the summary.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;
use shared::domain::clock::{self, Clock, SystemClock};
use shared::wiring::config::Config;
use shared::usecases::janitor::{Janitor, JanitorSettings, Summary};
use shared::wiring::runtime::Clients;
use shared::adapters::s3::S3Objects;
use shared::adapters::dynamodb::DynamoStore;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use time::OffsetDateTime;

/// Stop this long before the Lambda deadline, leaving the rest to the next run.
const DEADLINE_MARGIN: Duration = Duration::from_secs(5);

/// The run's "now": the real clock, unless the event carries `{"now": RFC 3339}` AND the
/// function runs with the local/dev flag. A deployed stack never honours the override.
pub fn effective_now(event: &Value, local_dev: bool, real: OffsetDateTime) -> OffsetDateTime {
    match event.get("now").and_then(Value::as_str) {
        Some(s) if local_dev => clock::parse(s).unwrap_or(real),
        Some(_) => {
            tracing::warn!("ignoring the now override: only the local stack honours it");
            real
        }
        None => real,
    }
}

/// Used only when the runtime reports a deadline already past at the start of the invocation,
/// which Lambda never does but local emulators (cargo lambda watch) do.
const FALLBACK_BUDGET: Duration = Duration::from_secs(60);

fn deadline_of(ctx: &lambda_runtime::Context) -> Instant {
    let deadline = SystemTime::UNIX_EPOCH + Duration::from_millis(ctx.deadline);
    match deadline.duration_since(SystemTime::now()) {
        Ok(left) if !left.is_zero() => Instant::now() + left.saturating_sub(DEADLINE_MARGIN),
        _ => Instant::now() + FALLBACK_BUDGET,
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::wiring::telemetry::init();
    let config = Config::from_env()?;
    let clients = Clients::new(&config).await;
    let local_dev = config.local_dev;
    let janitor = Arc::new(Janitor {
        records: DynamoStore::new(clients.dynamodb.clone(), &config.table),
        objects: S3Objects::new(clients.s3.clone(), &config.bucket),
        kinds: config.kinds.clone(),
        settings: JanitorSettings {
            grace: config.janitor_grace,
            rejected_retention: config.rejected_retention,
            max_items: config.janitor_max_items,
        },
        events: shared::wiring::runtime::events(&config, &clients),
    });
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let janitor = Arc::clone(&janitor);
        async move {
            let started = Instant::now();
            let now = effective_now(&event.payload, local_dev, SystemClock.now());
            let deadline = deadline_of(&event.context);
            let budget_ms = deadline.saturating_duration_since(Instant::now()).as_millis() as u64;
            let summary: Summary = janitor.run(now, deadline).await;
            tracing::info!(
                request_id = %event.context.request_id,
                now = %clock::format(now),
                scanned = summary.scanned,
                deleted_records = summary.deleted_records,
                deleted_objects = summary.deleted_objects,
                skipped = summary.skipped,
                errors = summary.errors,
                duration_ms = started.elapsed().as_millis() as u64,
                budget_ms,
                "janitor run"
            );
            Ok::<_, Error>(serde_json::to_value(summary)?)
        }
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    #[test]
    fn the_now_override_needs_the_local_flag() {
        let real = datetime!(2026-01-01 00:00 UTC);
        let ev = json!({"now": "2026-01-03T00:00:00Z"});
        assert_eq!(effective_now(&ev, true, real), datetime!(2026-01-03 00:00 UTC));
        assert_eq!(effective_now(&ev, false, real), real, "deployed stacks ignore it");
        assert_eq!(effective_now(&json!({"now": "garbage"}), true, real), real);
        assert_eq!(effective_now(&json!({"detail-type": "Scheduled Event"}), true, real), real);
    }
}

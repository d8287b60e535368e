//! The EventBridge adapter (the only module that imports `aws_sdk_eventbridge`): one
//! `PutEvents` entry per media event on the stack's own bus. `source` is `lambda-media`, the
//! `detail-type` is the event type and the `detail` is the event's JSON.

use crate::domain::events::{EventError, EventSink, MediaEvent, Publishing};
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

pub const SOURCE: &str = "lambda-media";

pub struct EventBridgeSink {
    client: aws_sdk_eventbridge::Client,
    bus: String,
}

impl EventBridgeSink {
    pub fn new(client: aws_sdk_eventbridge::Client, bus: impl Into<String>) -> Self {
        Self { client, bus: bus.into() }
    }
}

impl EventSink for EventBridgeSink {
    fn publish<'a>(&'a self, event: &'a MediaEvent) -> Publishing<'a> {
        Box::pin(async move {
            let detail = serde_json::to_string(event).map_err(|e| EventError(e.to_string()))?;
            let entry = PutEventsRequestEntry::builder()
                .event_bus_name(&self.bus)
                .source(SOURCE)
                .detail_type(event.event_type.as_str())
                .detail(detail)
                .build();
            let out = self.client.put_events().entries(entry).send().await.map_err(|e| EventError(format!("eventbridge: {e}")))?;
            // PutEvents succeeds as a call even when its entry failed: check the entry.
            if out.failed_entry_count() > 0 {
                let why = out.entries().first().and_then(|e| e.error_message()).unwrap_or("unknown").to_string();
                return Err(EventError(format!("eventbridge refused the event: {why}")));
            }
            Ok(())
        })
    }
}

//! Media events: one logical event per decision (`media.ready`, `media.rejected`) and per
//! deletion (`media.deleted`), in a versioned JSON schema.
//!
//! Delivery is at least once and the event id is deterministic (the media id and the event
//! type), so a retry re-sends the same id and consumers de-duplicate by it. A decided record
//! whose event is not yet acknowledged says so itself (`event_sent` differs from its status),
//! so a run that decided, failed to publish and was retried (the S3 event is redelivered) sends
//! it again without touching the decision. A deletion publishes before the record is removed:
//! a failed publish leaves the record `deleting` for the next attempt (the janitor's).

use crate::domain::media::{MediaRecord, Rejection, Status};
use serde::Serialize;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// The schema's name and version, in every event (`schema`, `version`).
pub const SCHEMA: &str = "lambda-media.media-event";
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum EventType {
    #[serde(rename = "media.ready")]
    Ready,
    #[serde(rename = "media.rejected")]
    Rejected,
    #[serde(rename = "media.deleted")]
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ready => "media.ready",
            Self::Rejected => "media.rejected",
            Self::Deleted => "media.deleted",
        }
    }

    /// The decision event a record in `status` owes, if any.
    pub fn for_decision(status: Status) -> Option<Self> {
        match status {
            Status::Ready => Some(Self::Ready),
            Status::Rejected => Some(Self::Rejected),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MediaEvent {
    pub schema: &'static str,
    pub version: u32,
    /// `<media_id>.<ready|rejected|deleted>`: the same for every delivery of this event.
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub media_id: String,
    pub owner: String,
    pub scope: Option<String>,
    pub kind: String,
    /// The media's status after the change (`deleted` for a deletion).
    pub status: &'static str,
    pub rejection: Option<Rejection>,
    /// Thumbnail sizes (long side, px) of a ready media, ascending.
    pub variants: Vec<u32>,
    pub occurred_at: String,
}

impl MediaEvent {
    pub fn new(event_type: EventType, r: &MediaRecord, occurred_at: &str) -> Self {
        let mut variants: Vec<u32> = match event_type {
            EventType::Ready => r.variants.keys().filter_map(|k| k.parse().ok()).collect(),
            _ => Vec::new(),
        };
        variants.sort_unstable();
        let suffix = event_type.as_str().trim_start_matches("media.");
        Self {
            schema: SCHEMA,
            version: VERSION,
            id: format!("{}.{suffix}", r.id),
            event_type,
            media_id: r.id.clone(),
            owner: r.owner.clone(),
            scope: r.scope.clone(),
            kind: r.kind.to_string(),
            status: match event_type {
                EventType::Ready => "ready",
                EventType::Rejected => "rejected",
                EventType::Deleted => "deleted",
            },
            rejection: if event_type == EventType::Rejected { r.rejection.clone() } else { None },
            variants,
            occurred_at: occurred_at.to_string(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("event not published: {0}")]
pub struct EventError(pub String);

pub type Publishing<'a> = Pin<Box<dyn Future<Output = Result<(), EventError>> + Send + 'a>>;

/// Where events go: EventBridge deployed, the dev bridge's webhook locally, memory in tests.
/// Boxed futures keep it object-safe, so every service holds one `Events` without another
/// type parameter (events are a few per media; the allocation is nothing).
pub trait EventSink: Send + Sync {
    fn publish<'a>(&'a self, event: &'a MediaEvent) -> Publishing<'a>;
}

pub type Events = Arc<dyn EventSink>;

/// Events switched off (no bus configured).
pub struct NoEvents;

impl EventSink for NoEvents {
    fn publish<'a>(&'a self, _: &'a MediaEvent) -> Publishing<'a> {
        Box::pin(async { Ok(()) })
    }
}


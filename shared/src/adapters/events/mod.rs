//! Where media events go: EventBridge when deployed, a signed webhook locally.

pub mod eventbridge;
pub mod webhook;

pub use webhook::{signature, WebhookSink};

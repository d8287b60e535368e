//! Init-time wiring shared by every function: configuration and SDK clients, built once per
//! container and reused by every invocation.

use crate::config::{AuthConfig, Config, EventsConfig};
use crate::eventbridge::EventBridgeSink;
use crate::events::{EventError, EventSink, Events, MediaEvent, NoEvents, Publishing, WebhookSink};
use std::sync::Arc;
use crate::auth::{Authenticator, Hs256Verifier};
use aws_config::{BehaviorVersion, SdkConfig};

pub struct Clients {
    pub sdk: SdkConfig,
    pub s3: aws_sdk_s3::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub eventbridge: aws_sdk_eventbridge::Client,
}

impl Clients {
    pub async fn new(config: &Config) -> Self {
        // A stalled dependency must become an error (and a retry), never a hung invocation.
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(std::time::Duration::from_secs(3))
            .operation_attempt_timeout(std::time::Duration::from_secs(10))
            .build();
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).timeout_config(timeouts);
        if let Some(region) = &config.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        let sdk = loader.load().await;
        let mut s3 = aws_sdk_s3::config::Builder::from(&sdk);
        if let Some(ep) = &config.s3_endpoint {
            s3 = s3.endpoint_url(ep).force_path_style(true);
        }
        let mut ddb = aws_sdk_dynamodb::config::Builder::from(&sdk);
        if let Some(ep) = &config.dynamodb_endpoint {
            ddb = ddb.endpoint_url(ep);
        }
        Self {
            s3: aws_sdk_s3::Client::from_conf(s3.build()),
            dynamodb: aws_sdk_dynamodb::Client::from_conf(ddb.build()),
            eventbridge: aws_sdk_eventbridge::Client::new(&sdk),
            sdk,
        }
    }
}

pub fn authenticator(config: &Config) -> Authenticator {
    match &config.auth {
        AuthConfig::Hs256 { secret, issuer, audience } => {
            Authenticator::Hs256(Hs256Verifier::new(secret.expose(), issuer, audience, &config.scopes_claim))
        }
        AuthConfig::ApiGateway => Authenticator::ApiGateway { scopes_claim: config.scopes_claim.clone() },
    }
}

/// The configured event sink. A webhook client that cannot be built makes every publish fail:
/// verification goes on, the events stay owed and are retried, and the cause is logged.
pub fn events(config: &Config, clients: &Clients) -> Events {
    match &config.events {
        EventsConfig::Off => Arc::new(NoEvents),
        EventsConfig::EventBridge { bus } => Arc::new(EventBridgeSink::new(clients.eventbridge.clone(), bus)),
        EventsConfig::Webhook { url, secret } => match WebhookSink::new(url, secret.expose()) {
            Ok(sink) => Arc::new(sink),
            Err(e) => {
                tracing::error!(error = %e, "event webhook client not built");
                Arc::new(Unavailable(e.to_string()))
            }
        },
    }
}

/// A sink that could not be built: every publish fails (and is retried).
struct Unavailable(String);

impl EventSink for Unavailable {
    fn publish<'a>(&'a self, _: &'a MediaEvent) -> Publishing<'a> {
        Box::pin(async move { Err(EventError(self.0.clone())) })
    }
}

//! The services each function runs, built from the configuration and the shared clients: the
//! one place where a use case meets its adapters.

use crate::adapters::dynamodb::DynamoStore;
use crate::adapters::s3::S3Objects;
use crate::usecases::processing::Processor;
use crate::wiring::config::Config;
use crate::wiring::runtime::{events, Clients};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// The processor the functions deploy: DynamoDB, S3 and the system clock.
pub type LiveProcessor = Processor<DynamoStore, S3Objects, crate::domain::clock::SystemClock>;

/// The production processor, from the configuration read at init and the shared clients.
pub fn processor(config: &Config, clients: &Clients) -> LiveProcessor {
    Processor {
        records: DynamoStore::new(clients.dynamodb.clone(), &config.table),
        objects: S3Objects::new(clients.s3.clone(), &config.bucket),
        kinds: config.kinds.clone(),
        limits: config.decode_limits(),
        quality: config.webp_quality,
        webp_method: config.webp_method,
        parallel_encode: config.parallel_encode,
        rejected_retention: config.rejected_retention,
        publish_lease: config.publish_lease,
        clock: Arc::new(crate::domain::clock::SystemClock),
        verify_slots: Arc::new(Semaphore::new(1)),
        events: events(config, clients),
    }
}


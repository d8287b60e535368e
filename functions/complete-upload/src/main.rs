//! complete-upload: `POST /v1/media/{id}/complete` (also `/v1/uploads/{id}/complete`, which first
//! assembles a multipart upload) and `POST /v1/media/complete` run the same
//! verification as the S3-event function, synchronously. A function of its own because it needs
//! process-upload's permissions (read incoming/, write public/ and private/), which media-api
//! must not have.

mod routes;

use lambda_http::Error;
use shared::domain::clock::SystemClock;
use shared::wiring::config::Config;
use shared::adapters::dynamodb::DynamoStore;
use shared::usecases::multipart::MultipartService;
use shared::wiring::runtime::{authenticator, Clients};
use shared::adapters::s3::S3Objects;
use shared::usecases::view::UrlSigner;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::wiring::telemetry::init();
    let config = Config::from_env()?;
    let clients = Clients::new(&config).await;
    let objects = S3Objects::new(clients.s3.clone(), &config.bucket);
    let api = routes::App {
        auth: authenticator(&config),
        processor: shared::wiring::services::processor(&config, &clients),
        multipart: MultipartService {
            records: DynamoStore::new(clients.dynamodb.clone(), &config.table),
            parts: objects.clone(),
            clock: SystemClock,
            url_ttl: config.upload_url_ttl,
        },
        urls: UrlSigner { objects, public_base: config.public_base(), clock: SystemClock },
    }
    .router();
    lambda_http::run(shared::edge::http::edge(api)).await
}

//! media-api: read, list, sign URLs, edit, attach and delete media. It may read and sign GETs
//! for public/ and private/, delete objects, and read/write the table; it cannot sign uploads.

mod routes;

use lambda_http::Error;
use shared::domain::clock::SystemClock;
use shared::wiring::config::Config;
use shared::wiring::runtime::{authenticator, Clients};
use shared::usecases::media::MediaService;
use shared::adapters::s3::S3Objects;
use shared::adapters::dynamodb::DynamoStore;
use shared::usecases::view::UrlSigner;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::wiring::telemetry::init();
    let config = Config::from_env()?;
    let clients = Clients::new(&config).await;
    if config.cursor_secret.is_empty() {
        return Err("CURSOR_SECRET is required: it signs list cursors".into());
    }
    let api = routes::App {
        auth: authenticator(&config),
        media: MediaService {
            records: DynamoStore::new(clients.dynamodb.clone(), &config.table),
            urls: UrlSigner {
                objects: S3Objects::new(clients.s3.clone(), &config.bucket),
                public_base: config.public_base(),
                clock: SystemClock,
            },
            kinds: config.kinds.clone(),
            cursor_secret: config.cursor_secret.expose().to_vec(),
            events: shared::wiring::runtime::events(&config, &clients),
            links: shared::usecases::transforms::Links {
                base_url: config.transform_base_url.clone().ok_or("TRANSFORM_BASE_URL is required: transform URLs point there")?,
                secret: config.transform_key()?.to_vec(),
                public_transforms: config.public_transforms,
            },
        },
    }
    .router();
    lambda_http::run(shared::edge::http::edge(api)).await
}

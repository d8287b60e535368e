//! transform: `GET /v1/media/{id}/image`, images on demand. It may read originals, read and
//! write variants under each media's `derived/` folder and read the table; it cannot sign
//! uploads, delete anything or change a record.

mod routes;

use lambda_http::Error;
use shared::domain::clock::SystemClock;
use shared::wiring::config::Config;
use shared::adapters::dynamodb::DynamoStore;
use shared::wiring::runtime::Clients;
use shared::adapters::s3::S3Objects;
use shared::usecases::transforms::TransformService;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::wiring::telemetry::init();
    let config = Config::from_env()?;
    let secret = config.transform_key()?.to_vec();
    let clients = Clients::new(&config).await;
    let api = routes::App(TransformService {
        records: DynamoStore::new(clients.dynamodb.clone(), &config.table),
        objects: S3Objects::new(clients.s3.clone(), &config.bucket),
        clock: SystemClock,
        kinds: config.kinds.clone(),
        limits: config.decode_limits(),
        secret,
        webp_method: config.webp_method,
        cap: config.variant_cap,
        public_transforms: config.public_transforms,
    })
    .router();
    lambda_http::run(shared::edge::http::edge(api)).await
}

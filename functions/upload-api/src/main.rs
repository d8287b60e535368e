//! upload-api: `POST /v1/uploads`, the compatibility route for temp images, and `GET /v1/health`.
//! Wiring only: configuration and clients are built once here and reused by every invocation.

mod routes;

use lambda_http::Error;
use shared::domain::clock::SystemClock;
use shared::wiring::config::Config;
use shared::wiring::runtime::{authenticator, Clients};
use shared::adapters::dynamodb::DynamoStore;
use shared::adapters::s3::S3Objects;
use shared::usecases::multipart::MultipartService;
use shared::adapters::s3::presign::S3UploadSigner;
use shared::usecases::uploads::UploadService;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::wiring::telemetry::init();
    let config = Config::from_env()?;
    let clients = Clients::new(&config).await;
    let credentials = clients
        .sdk
        .credentials_provider()
        .ok_or("no AWS credentials provider configured")?;
    let region = clients.sdk.region().map(|r| r.to_string()).unwrap_or_else(|| "us-east-1".into());
    let records = DynamoStore::new(clients.dynamodb.clone(), &config.table);
    let objects = S3Objects::new(clients.s3.clone(), &config.bucket);
    let api = routes::App {
        auth: authenticator(&config),
        kinds: config.kinds.clone(),
        uploads: UploadService {
            records: records.clone(),
            signer: S3UploadSigner::new(clients.s3.clone(), credentials, region, &config.bucket, config.post_url()),
            parts: objects.clone(),
            clock: SystemClock,
            url_ttl: config.upload_url_ttl,
            multipart_window: config.multipart_window,
            max_pending: config.max_pending_per_user,
            public_base: config.public_base(),
        },
        multipart: MultipartService { records, parts: objects, clock: SystemClock, url_ttl: config.upload_url_ttl },
    }
    .router();
    lambda_http::run(shared::edge::http::edge(api)).await
}

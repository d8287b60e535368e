//! Creates the local stack's bucket (with CORS and the public/ read policy) and table.
//! Reads the same environment as the functions (`.local/env`).

use shared::wiring::config::Config;
use shared::wiring::runtime::Clients;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::from_env()?;
    let clients = Clients::new(&config).await;
    let origins: Vec<String> = std::env::var("WEB_URL").into_iter().collect();
    shared::adapters::s3::bucket::ensure_bucket(&clients.s3, &config.bucket, &origins).await?;
    shared::adapters::dynamodb::setup::create_table(&clients.dynamodb, &config.table).await?;
    println!("bucket {} and table {} ready", config.bucket, config.table);
    Ok(())
}

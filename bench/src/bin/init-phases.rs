//! `init-phases`: where a function's init time goes, as every `main` runs it: tracing, the
//! configuration, the SDK clients (HTTPS client with its trust store, credentials, the service
//! clients), and the clients built a second time in the same process, which leaves out what is
//! paid once per process (the crypto provider, parsing the roots, lazy statics). Prints JSON
//! (µs); bench/run.py reports the median of several processes. Needs the functions' environment.

use std::time::Instant;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let start = Instant::now();
    let us = |t: Instant| t.elapsed().as_secs_f64() * 1e6;
    shared::wiring::telemetry::init();
    let telemetry = us(start);
    let t = Instant::now();
    let config = shared::wiring::config::Config::from_env()?;
    let config_us = us(t);
    let t = Instant::now();
    let first = shared::wiring::runtime::Clients::new(&config).await;
    let clients_us = us(t);
    let t = Instant::now();
    let again = shared::wiring::runtime::Clients::new(&config).await;
    let again_us = us(t);
    drop((first, again));
    println!("{}", serde_json::json!({"telemetry_us": telemetry, "config_us": config_us, "clients_us": clients_us, "clients_again_us": again_us}));
    Ok(())
}

//! `first-call`: a function's init (configuration and SDK clients, as every `main` builds them)
//! followed by its first S3 request and a second one on the same connection, for the cold-start
//! bench's "init plus first call" row. Prints JSON: milliseconds from `main` to the end of init,
//! then the first and second calls' own times. Point `S3_ENDPOINT` at an https endpoint to
//! include the first TLS handshake (bench/firstcall.py runs it against SeaweedFS over TLS).

use shared::wiring::config::Config;
use shared::wiring::runtime::Clients;
use std::time::Instant;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let start = Instant::now();
    shared::wiring::telemetry::init();
    let config = Config::from_env()?;
    let clients = Clients::new(&config).await;
    let init = start.elapsed();
    let mut calls = Vec::new();
    let mut status = Vec::new();
    for _ in 0..2 {
        let t = Instant::now();
        // Any answer counts (a missing bucket is a 404): what is timed is the connection, the
        // handshake, signing and one round trip.
        let answer = clients.s3.head_bucket().bucket(&config.bucket).send().await;
        calls.push(t.elapsed().as_secs_f64() * 1000.0);
        status.push(match answer {
            Ok(_) => "ok".to_string(),
            Err(e) => match e.raw_response() {
                Some(r) => format!("http {}", r.status().as_u16()),
                None => format!("no answer: {}", aws_sdk_s3::error::DisplayErrorContext(&e)),
            },
        });
    }
    println!(
        "{}",
        serde_json::json!({"init_ms": init.as_secs_f64() * 1000.0, "first_call_ms": calls[0], "second_call_ms": calls[1], "answers": status})
    );
    Ok(())
}

//! `scripts/local janitor [--now RFC3339]`: one janitor invocation against the local stack,
//! printing the summary JSON as the last line.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let now = std::env::args().nth(1).filter(|s| !s.is_empty());
    let env = devtools::env::load();
    let api = env.get("API_URL").ok_or("API_URL missing: run scripts/local up")?;
    let mut event = serde_json::json!({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}});
    if let Some(n) = &now {
        if time::OffsetDateTime::parse(n, &time::format_description::well_known::Rfc3339).is_err() {
            return Err(format!("--now must be an RFC 3339 time, got {n:?}").into());
        }
        event["now"] = serde_json::json!(n);
    }
    let resp = reqwest::Client::new()
        .post(format!("{api}/2015-03-31/functions/janitor/invocations"))
        .json(&event)
        .send()
        .await?;
    let failed = resp.headers().contains_key("x-amz-function-error");
    let body = resp.text().await?;
    if failed {
        return Err(format!("janitor failed: {body}").into());
    }
    println!("{body}");
    Ok(())
}

//! The janitor function itself in the local stack, driven like `scripts/local janitor --now`.
//! Its own test binary: cargo runs test binaries one after another, so aging the shared table
//! here cannot race the other suites.

use devtools::stack::{user, Stack};
use serde_json::json;

#[tokio::test]
async fn the_janitor_function_honours_now_locally_and_prints_a_summary() {
    let s = Stack::connect().await;
    let t = s.token(&user("jan"), &[]);
    let slot = s.slot(&t, "image", "post", "j.jpg", "image/jpeg", 10).await;
    let id = slot["media_id"].as_str().unwrap();
    let invoke = |now: Option<&str>| {
        let mut ev = json!({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}});
        if let Some(n) = now {
            ev["now"] = json!(n);
        }
        let url = format!("{}/2015-03-31/functions/janitor/invocations", s.api);
        let http = s.http.clone();
        async move { http.post(url).json(&ev).send().await.unwrap().json::<serde_json::Value>().await.unwrap() }
    };
    let summary = invoke(None).await;
    for k in ["scanned", "deleted_records", "deleted_objects", "skipped", "errors"] {
        assert!(summary[k].is_u64(), "{k} in {summary}");
    }
    assert!(s.record(id).await.is_some(), "a fresh pending upload survives a run now");
    let two_days = (time::OffsetDateTime::now_utc() + time::Duration::days(2))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let summary = invoke(Some(&two_days)).await;
    assert!(summary["deleted_records"].as_u64().unwrap() >= 1, "{summary}");
    assert!(s.record(id).await.is_none(), "two days on, the expired pending upload is gone");
}

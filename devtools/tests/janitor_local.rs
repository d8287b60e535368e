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
    // A multipart upload no record names (a delete that crashed between its steps): S3 keeps
    // its parts until someone aborts it, and no listing of objects shows them.
    let orphan = format!("incoming/{}", uuid::Uuid::new_v4());
    let started = s.s3.create_multipart_upload().bucket(&s.bucket).key(&orphan).send().await.unwrap();
    let orphan_id = started.upload_id().unwrap().to_string();
    let open = |s: &Stack, key: String| {
        let (s3, bucket) = (s.s3.clone(), s.bucket.clone());
        async move { s3.list_multipart_uploads().bucket(bucket).prefix(&key).send().await.unwrap().uploads().len() }
    };
    assert_eq!(open(&s, orphan.clone()).await, 1);
    let summary = invoke(Some(&two_days)).await;
    assert!(summary["deleted_records"].as_u64().unwrap() >= 1, "{summary}");
    assert!(summary["aborted_uploads"].as_u64().unwrap() >= 1, "{summary}");
    assert_eq!(open(&s, orphan.clone()).await, 0, "the orphaned upload {orphan_id} was aborted");
    assert!(s.record(id).await.is_none(), "two days on, the expired pending upload is gone");
}

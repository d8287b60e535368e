//! Media events on the local stack: the functions publish to the local receiver (the dev
//! bridge, standing in for EventBridge) over the signed webhook. Each decision and each delete
//! is one logical event (one distinct id), whatever duplicates the S3 notifications, concurrent
//! completes and an injected publish failure cause. Also the DynamoDB path of the event
//! acknowledgement (`event_sent`), in an isolated table.

use devtools::images;
use devtools::isolated::Isolated;
use devtools::stack::{user, Stack};
use serde_json::Value;
use shared::domain::id::MediaId;
use shared::domain::media::Status;
use shared::ports::MediaRepository;
use shared::usecases::processing::{Outcome, ProcessError};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// Every delivery the receiver accepted for `media_id`, repeats included.
async fn received(s: &Stack, media_id: &str) -> Vec<Value> {
    let url = format!("{}/_events?media_id={media_id}", s.var("WEB_URL"));
    let body: Value = s.http.get(url).send().await.expect("bridge").json().await.expect("json");
    body["events"].as_array().cloned().unwrap_or_default()
}

/// Polls until an event of `event_type` for the media has arrived; returns the distinct
/// (id, type) pairs of all its deliveries.
async fn wait_event(s: &Stack, media_id: &str, event_type: &str) -> BTreeSet<(String, String)> {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let all = received(s, media_id).await;
        if all.iter().any(|e| e["type"] == event_type) {
            return all.iter().map(|e| (e["id"].as_str().unwrap_or("").to_string(), e["type"].as_str().unwrap_or("").to_string())).collect();
        }
        assert!(Instant::now() < until, "no {event_type} for {media_id}: {all:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn upload(s: &Stack, token: &str, kind: &str, bytes: Vec<u8>, content_type: &str) -> String {
    let slot = s.slot(token, kind, "put", "e.bin", content_type, bytes.len()).await;
    let (status, body) = s.put_slot(&slot, bytes).await;
    assert_eq!(status, 200, "{body}");
    slot["media_id"].as_str().unwrap().to_string()
}

/// One test, run in sequence: the injected failure is a global switch of the receiver.
#[tokio::test]
async fn every_decision_and_delete_is_one_logical_event() {
    let s = Stack::connect().await;
    let owner = user("events");
    let t = s.token(&owner, &[]);

    // A ready upload, completed twice at once while its S3 notification is also processed.
    let id = upload(&s, &t, "post_image", images::jpeg(640, 480), "image/jpeg").await;
    let path = format!("/v1/media/{id}/complete");
    let key = format!("incoming/{id}");
    let (a, b, c, d) = tokio::join!(
        s.call("POST", &path, Some(&t), None),
        s.call("POST", &path, Some(&t), None),
        s.invoke_process_upload(&key),
        s.invoke_process_upload(&key),
    );
    assert_eq!((a.status, b.status), (200, 200), "{} {}", a.body, b.body);
    assert_eq!((c.0, d.0), (200, 200), "duplicated S3 events: {} {}", c.1, d.1);
    // And a late duplicate after the decision.
    assert_eq!(s.invoke_process_upload(&key).await.0, 200);
    let events = wait_event(&s, &id, "media.ready").await;
    assert_eq!(events, BTreeSet::from([(format!("{id}.ready"), "media.ready".to_string())]));
    let first = received(&s, &id).await.remove(0);
    assert_eq!((first["schema"].as_str(), first["version"].as_u64()), (Some("lambda-media.media-event"), Some(1)));
    assert_eq!((first["owner"].as_str(), first["kind"].as_str(), first["status"].as_str()), (Some(owner.as_str()), Some("post_image"), Some("ready")));
    assert_eq!(first["variants"], serde_json::json!([128, 512]));

    // A rejected upload: one media.rejected with the reason.
    let bad = upload(&s, &t, "avatar", b"<html>not an image</html>".to_vec(), "image/png").await;
    s.call("POST", &format!("/v1/media/{bad}/complete"), Some(&t), None).await;
    let events = wait_event(&s, &bad, "media.rejected").await;
    assert_eq!(events, BTreeSet::from([(format!("{bad}.rejected"), "media.rejected".to_string())]));
    assert_eq!(received(&s, &bad).await[0]["rejection"]["code"], "not_an_image");

    // A delete: one media.deleted, and nothing more for the ready one.
    assert_eq!(s.call("DELETE", &format!("/v1/media/{id}"), Some(&t), None).await.status, 204);
    let events = wait_event(&s, &id, "media.deleted").await;
    assert_eq!(
        events,
        BTreeSet::from([(format!("{id}.deleted"), "media.deleted".to_string()), (format!("{id}.ready"), "media.ready".to_string())])
    );

    // The receiver refuses the next delivery: the decision stands, the event arrives once the
    // failed run is retried (the bridge redelivers the S3 event, as Lambda's async retry does).
    let fail = format!("{}/_events/fail?count=1", s.var("WEB_URL"));
    assert!(s.http.post(fail).send().await.unwrap().status().is_success());
    let late = upload(&s, &t, "post_image", images::jpeg(320, 240), "image/jpeg").await;
    let r = s.call("POST", &format!("/v1/media/{late}/complete"), Some(&t), None).await;
    assert!(r.status == 200 || (r.status, r.code()) == (503, "unavailable"), "{} {}", r.status, r.body);
    let events = wait_event(&s, &late, "media.ready").await;
    assert_eq!(events, BTreeSet::from([(format!("{late}.ready"), "media.ready".to_string())]));
    let media = s.wait_media(&t, &late, Duration::from_secs(10), |m| m["status"] == "ready").await;
    assert_eq!(media["status"], "ready");
    let record = s.record(&late).await.expect("record");
    assert_eq!(record.get("event_sent").and_then(|v| v.as_s().ok()).map(String::as_str), Some("media.ready"));
}

/// The acknowledgement on DynamoDB: a run whose publish failed leaves the decision and no
/// `event_sent`; the retry publishes and records it; later runs publish nothing.
#[tokio::test]
async fn the_event_acknowledgement_on_dynamodb() {
    let iso = Isolated::new().await;
    let at = OffsetDateTime::now_utc();
    let caller = shared::domain::caller::Caller::new("events-iso", vec![]).unwrap();
    let upload = shared::domain::upload::ValidUpload {
        kind: shared::domain::kinds::Kinds::defaults().get("post_image").unwrap().clone(),
        scope: None,
        method: shared::domain::media::UploadMethod::Put,
        files: vec![shared::domain::upload::ValidFile {
            filename: shared::domain::upload::Filename::parse("a.jpg").unwrap(),
            content_type: shared::domain::kinds::ContentType::Jpeg,
            size_bytes: Some(images::jpeg(300, 200).len() as u64),
        }],
    };
    let slot = iso.uploads(at).create(&caller, upload).await.unwrap().pop().unwrap();
    let mut req = iso.stack.http.put(&slot.url).body(images::jpeg(300, 200));
    for (k, v) in slot.headers.iter().filter(|(k, _)| *k != "content-length") {
        req = req.header(k.as_str(), v.as_str());
    }
    assert_eq!(req.send().await.unwrap().status(), 200);
    let id = MediaId::parse(&slot.media_id).unwrap();

    iso.events.fail_next(1);
    assert!(matches!(iso.processor(at).process(id).await, Err(ProcessError::Events(_))));
    let r = iso.store.get(&slot.media_id).await.unwrap().unwrap();
    assert_eq!((r.status, r.event_sent), (Status::Ready, None));
    assert!(r.decided_at.is_some(), "the decision's time is recorded with it");
    assert!(matches!(iso.processor(at).process(id).await.unwrap(), Outcome::AlreadyDone(_)));
    assert!(matches!(iso.processor(at).process(id).await.unwrap(), Outcome::AlreadyDone(_)));
    let r = iso.store.get(&slot.media_id).await.unwrap().unwrap();
    assert_eq!(r.event_sent.as_deref(), Some("media.ready"));
    let ids: Vec<String> = iso.events.delivered().into_iter().map(|e| e.id).collect();
    assert_eq!(ids, vec![format!("{}.ready", slot.media_id)]);
}

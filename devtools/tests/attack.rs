//! The attack run's findings, each replayed against the local stack (docs/RELIABILITY.md lists
//! them with these tests): delete of an uploading media leaves no multipart upload, complete
//! never answers `deleting`, one size rule for every method, signatures and weights read in
//! every spelling, and render cost bounded per request and per image.
//! Needs the local stack (`scripts/local up`); README's test command starts it.

use devtools::images;
use devtools::stack::{user, Reply, Stack};
use serde_json::json;
use std::time::{Duration, Instant};

const MIB: usize = 1024 * 1024;
const CHROME_ACCEPT: &str = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";

async fn open_uploads(s: &Stack, prefix: &str) -> usize {
    let out = s.s3.list_multipart_uploads().bucket(&s.bucket).prefix(prefix).send().await.expect("list uploads");
    out.uploads().len()
}

fn header<'a>(r: &'a Reply, name: &str) -> &'a str {
    r.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// The signed transform URL `GET /v1/media/{id}/url?…` hands out, as a path and query.
async fn signed(s: &Stack, token: &str, id: &str, query: &str) -> String {
    let r = s.call("GET", &format!("/v1/media/{id}/url?{query}"), Some(token), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let url = r.body["url"].as_str().unwrap();
    url[url.find("/v1/").unwrap()..].to_string()
}

#[tokio::test]
async fn finding_1_deleting_an_uploading_media_aborts_its_multipart_upload() {
    let s = Stack::connect().await;
    let t = s.token(&user("mpdel"), &[]);
    let slot = s.slot(&t, "video", "multipart", "trip.mp4", "video/mp4", 9 * MIB).await;
    let id = slot["media_id"].as_str().unwrap().to_string();
    let key = slot["key"].as_str().unwrap().to_string();
    let r = s.call("POST", &format!("/v1/uploads/{id}/parts"), Some(&t), Some(&json!({"part_numbers": [1]}))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (status, body) = s.put_signed(&r.body["parts"][0], vec![7u8; 8 * MIB]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(open_uploads(&s, &key).await, 1);
    let d = s.call("DELETE", &format!("/v1/media/{id}"), Some(&t), None).await;
    assert_eq!(d.status, 204, "{}", d.body);
    assert_eq!(open_uploads(&s, &key).await, 0, "the multipart upload and its 8 MiB part are gone with the media");
    assert!(s.record(&id).await.is_none());
    let again = s.call("GET", &format!("/v1/uploads/{id}/parts"), Some(&t), None).await;
    assert_eq!(again.status, 404);
}

#[tokio::test]
async fn finding_4_complete_racing_delete_never_answers_deleting() {
    let s = Stack::connect().await;
    let t = s.token(&user("racer"), &[]);
    let jpeg = images::jpeg(200, 150);
    let mut answers = std::collections::BTreeMap::<String, usize>::new();
    for _ in 0..15 {
        let slot = s.slot(&t, "image", "put", "r.jpg", "image/jpeg", jpeg.len()).await;
        let (status, _) = s.put_slot(&slot, jpeg.clone()).await;
        assert_eq!(status, 200);
        let id = slot["media_id"].as_str().unwrap();
        let (complete_path, delete_path) = (format!("/v1/media/{id}/complete"), format!("/v1/media/{id}"));
        let (complete, delete) = tokio::join!(s.call("POST", &complete_path, Some(&t), None), s.call("DELETE", &delete_path, Some(&t), None));
        assert!(matches!(delete.status, 204 | 404), "{}", delete.body);
        let answer = match complete.status {
            200 => complete.body["status"].as_str().unwrap_or("?").to_string(),
            other => format!("{other} {}", complete.code()),
        };
        assert!(["ready", "rejected", "404 not_found"].contains(&answer.as_str()), "complete answered {answer}: {}", complete.body);
        *answers.entry(answer).or_default() += 1;
    }
    eprintln!("complete's answers under a racing delete: {answers:?}");
}

#[tokio::test]
async fn finding_8_a_declared_size_is_the_size_for_every_method_and_kind() {
    let s = Stack::connect().await;
    let t = s.token(&user("sizes"), &[]);
    let jpeg = images::jpeg(120, 90);
    // POST: the policy binds the exact declared length; S3 refuses a shorter or longer file.
    for (kind, content_type, bytes) in [("post_image", "image/jpeg", jpeg.clone()), ("video", "video/mp4", devtools::videos::fixture("clip.mp4"))] {
        let slot = s.slot(&t, kind, "post", "f.bin", content_type, bytes.len() + 10).await;
        assert_eq!(slot["max_bytes"].as_u64(), Some(bytes.len() as u64 + 10), "{slot}");
        let (status, body) = s.post_form(&slot, bytes.clone(), content_type).await;
        assert_eq!(status, 400, "{kind}: {body}");
        assert!(body.contains("EntityToo"), "S3 names the size rule: {kind}: {body}");
        let exact = s.slot(&t, kind, "post", "f.bin", content_type, bytes.len()).await;
        let (status, body) = s.post_form(&exact, bytes.clone(), content_type).await;
        assert!((200..300).contains(&status), "{kind}: {status} {body}");
    }
    // Bytes that reach incoming/ another way are judged by the same rule: size_mismatch.
    let slot = s.slot(&t, "post_image", "post", "f.jpg", "image/jpeg", jpeg.len() + 1).await;
    let id = slot["media_id"].as_str().unwrap();
    s.s3.put_object().bucket(&s.bucket).key(format!("incoming/{id}")).body(jpeg.into()).send().await.unwrap();
    let m = s.call("POST", &format!("/v1/media/{id}/complete"), Some(&t), None).await;
    assert_eq!((m.body["status"].as_str(), m.body["rejection"]["code"].as_str()), (Some("rejected"), Some("size_mismatch")), "{}", m.body);
}

#[tokio::test]
async fn finding_6_and_7_signatures_once_and_checked_weights_in_every_spelling() {
    let s = Stack::connect().await;
    let t = s.token(&user("sig"), &[]);
    let private = s.ready(&t, "image", images::jpeg(400, 300), "image/jpeg").await;
    let public = s.ready(&t, "post_image", images::jpeg(400, 300), "image/jpeg").await;
    let (pid, uid) = (private["id"].as_str().unwrap(), public["id"].as_str().unwrap());
    let url = signed(&s, &t, pid, "w=64&format=webp").await;
    let good = s.get_anonymous(&url, None).await;
    assert_eq!(good.status, 302, "{}", good.body);
    // A second sig or exp is a second meaning of the URL.
    for extra in ["&sig=AAAA", "&exp=99999999999", "&w=64"] {
        let r = s.get_anonymous(&format!("{url}{extra}"), None).await;
        assert_eq!((r.status, r.code()), (400, "invalid_transform"), "{extra}: {}", r.body);
    }
    let non_canonical = s.get_anonymous(&format!("/v1/media/{uid}/image?w=064"), None).await;
    assert_eq!((non_canonical.status, non_canonical.code()), (400, "invalid_transform"));
    // A public media's signature, when given, is checked like any other.
    let forged = s.get_anonymous(&format!("/v1/media/{uid}/image?w=64&exp=99999999999&sig=forged"), None).await;
    assert_eq!((forged.status, forged.code()), (403, "invalid_signature"), "{}", forged.body);
    let plain = s.get_anonymous(&format!("/v1/media/{uid}/image?w=64"), None).await;
    assert_eq!(plain.status, 302, "{}", plain.body);
    // q=0 in its other spellings refuses AVIF too.
    for accept in ["image/avif;q=0.0,image/webp", "image/avif; q=0.00, image/webp", "image/avif;Q=0.000,image/webp;q=1.0"] {
        let r = s.get_anonymous(&format!("/v1/media/{uid}/image?w=128"), Some(accept)).await;
        assert_eq!((r.status, header(&r, "x-transform-type")), (302, "image/webp"), "{accept}: {}", r.body);
    }
}

#[tokio::test]
async fn finding_2_and_3_large_avif_and_panorama_covers_render_within_budget() {
    let s = Stack::connect().await;
    let t = s.token(&user("big"), &[]);
    let square = s.ready(&t, "post_image", images::jpeg(2600, 2600), "image/jpeg").await;
    let id = square["id"].as_str().unwrap();
    // Over AVIF_MAX_PIXELS: Chrome's Accept gets WebP, an explicit AVIF is refused up front.
    let started = Instant::now();
    let r = s.get_anonymous(&format!("/v1/media/{id}/image?w=2560"), Some(CHROME_ACCEPT)).await;
    assert_eq!((r.status, header(&r, "x-transform-type")), (302, "image/webp"), "{}", r.body);
    eprintln!("2560 px from a 2600 x 2600 JPEG (auto, Chrome's Accept): {:?}", started.elapsed());
    let r = s.get_anonymous(&format!("/v1/media/{id}/image?w=2560&format=avif"), None).await;
    assert_eq!((r.status, r.code()), (400, "invalid_transform"), "{}", r.body);
    let r = s.get_anonymous(&format!("/v1/media/{id}/image?w=1024"), Some(CHROME_ACCEPT)).await;
    assert_eq!((r.status, header(&r, "x-transform-type")), (302, "image/avif"), "small enough for AVIF: {}", r.body);
    // A 3000 x 400 panorama covered at 2560 x 2560 resizes its 400 x 400 window only.
    let pano = s.ready(&t, "post_image", images::jpeg(3000, 400), "image/jpeg").await;
    let pid = pano["id"].as_str().unwrap();
    let started = Instant::now();
    let r = s.get_anonymous(&format!("/v1/media/{pid}/image?w=2560&h=2560&fit=cover&format=webp"), None).await;
    assert_eq!(r.status, 302, "{}", r.body);
    eprintln!("2560 x 2560 cover of a 3000 x 400 panorama: {:?}", started.elapsed());
    let bytes = s.http.get(header(&r, "location")).send().await.unwrap().bytes().await.unwrap();
    let img = image::load_from_memory(&bytes).expect("a WebP");
    assert_eq!((img.width(), img.height()), (2560, 2560));
}

#[tokio::test]
async fn a_failed_render_is_remembered_and_answered_without_decoding_again() {
    let s = Stack::connect().await;
    let t = s.token(&user("broken"), &[]);
    let m = s.ready(&t, "post_image", images::jpeg(300, 200), "image/jpeg").await;
    let id = m["id"].as_str().unwrap();
    // The verified original damaged behind the API's back (an operator's mistake, a bit flip):
    // the render fails, which no client can cause, so it is ours, and remembered.
    let record = s.record(id).await.expect("record");
    let key = record["final_key"].as_s().unwrap().clone();
    s.s3.put_object().bucket(&s.bucket).key(&key).body(b"not a jpeg any more".to_vec().into()).send().await.unwrap();
    let first = s.get_anonymous(&format!("/v1/media/{id}/image?w=128&format=webp"), None).await;
    assert_eq!((first.status, first.code()), (422, "transform_failed"), "{}", first.body);
    let folder = key.rsplit_once('/').unwrap().0;
    let listed = s.s3.list_objects_v2().bucket(&s.bucket).prefix(format!("{folder}/derived/")).send().await.unwrap();
    let markers: Vec<String> = listed.contents().iter().filter_map(|o| o.key()).filter(|k| k.ends_with(".failed")).map(str::to_string).collect();
    assert_eq!(markers.len(), 1, "one failure marker: {markers:?}");
    // Put a valid original back: the remembered failure still answers, so nothing was decoded.
    s.s3.put_object().bucket(&s.bucket).key(&key).body(images::jpeg(300, 200).into()).send().await.unwrap();
    let again = s.get_anonymous(&format!("/v1/media/{id}/image?w=128&format=webp"), None).await;
    assert_eq!((again.status, again.code()), (422, "transform_failed"), "{}", again.body);
    assert_eq!(again.body["error"]["message"], first.body["error"]["message"]);
    assert_eq!(header(&again, "cache-control"), "public, max-age=300");
    // Another variant is rendered from the (now valid) original.
    let other = s.get_anonymous(&format!("/v1/media/{id}/image?w=64&format=webp"), None).await;
    assert_eq!(other.status, 302, "{}", other.body);
}

#[tokio::test]
async fn new_variants_of_one_image_are_capped_per_window() {
    let s = Stack::connect().await;
    let cap: usize = s.var("MAX_VARIANTS_PER_WINDOW").parse().expect("scripts/local sets MAX_VARIANTS_PER_WINDOW");
    let t = s.token(&user("fanout"), &[]);
    let m = s.ready(&t, "post_image", images::jpeg(160, 120), "image/jpeg").await;
    let id = m["id"].as_str().unwrap();
    let sizes = shared::domain::transform::SIZES;
    let queries: Vec<String> = sizes
        .iter()
        .flat_map(|w| shared::domain::transform::QUALITIES.iter().map(move |q| (w, q)))
        .flat_map(|(w, q)| ["png", "jpeg", "webp"].map(|f| format!("w={w}&q={q}&format={f}")))
        .take(cap + 1)
        .collect();
    assert_eq!(queries.len(), cap + 1, "enough distinct variants to pass the cap");
    let deadline = Instant::now() + Duration::from_secs(120);
    for q in &queries[..cap] {
        let r = s.get_anonymous(&format!("/v1/media/{id}/image?{q}"), None).await;
        assert_eq!((r.status, header(&r, "x-transform")), (302, "rendered"), "{q}: {}", r.body);
        assert!(Instant::now() < deadline);
    }
    let over = s.get_anonymous(&format!("/v1/media/{id}/image?{}", queries[cap]), None).await;
    assert_eq!((over.status, over.code()), (429, "too_many_variants"), "{}", over.body);
    // Stored variants are still served; another image has its own budget.
    let stored = s.get_anonymous(&format!("/v1/media/{id}/image?{}", queries[0]), None).await;
    assert_eq!((stored.status, header(&stored, "x-transform")), (302, "stored"));
    let other = s.ready(&t, "post_image", images::jpeg(160, 120), "image/jpeg").await;
    let r = s.get_anonymous(&format!("/v1/media/{}/image?{}", other["id"].as_str().unwrap(), queries[cap]), None).await;
    assert_eq!(r.status, 302, "{}", r.body);
}

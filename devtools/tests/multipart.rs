//! Multipart uploads against the real emulators: S3 itself enforces each part's signed length,
//! completion reads S3's own part list, and an abort leaves nothing behind.
//! Needs the local stack (`scripts/local up`); README's test command starts it.

use devtools::images;
use devtools::stack::{user, Reply, Stack};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::time::Duration;

const MIB: usize = 1024 * 1024;

/// Signs `numbers` and returns the `parts` array.
async fn sign(s: &Stack, t: &str, id: &str, numbers: &[u32]) -> Reply {
    s.call("POST", &format!("/v1/uploads/{id}/parts"), Some(t), Some(&json!({ "part_numbers": numbers }))).await
}

async fn put_part(s: &Stack, part: &Value, bytes: Vec<u8>) -> (u16, String) {
    s.put_signed(part, bytes).await
}

async fn open_uploads(s: &Stack, key: &str) -> usize {
    let out = s.s3.list_multipart_uploads().bucket(&s.bucket).prefix(key).send().await.expect("list uploads");
    out.uploads().iter().filter(|u| u.key() == Some(key)).count()
}

#[tokio::test]
async fn parts_are_length_checked_by_s3_listed_for_resume_and_assembled_into_the_exact_file() {
    let s = Stack::connect().await;
    let t = s.token(&user("mona"), &[]);
    let bytes = images::noise_jpeg(1700, 1300, 7);
    assert!(bytes.len() > 8 * MIB && bytes.len() < 10 * MIB, "{}", bytes.len());
    let slot = s.slot(&t, "image", "multipart", "big.jpg", "image/jpeg", bytes.len()).await;
    assert_eq!((slot["method"].as_str(), slot["part_size"].as_u64(), slot["part_count"].as_u64()), (Some("MULTIPART"), Some(8 * MIB as u64), Some(2)), "{slot}");
    assert!(slot["upload_id"].as_str().is_some_and(|u| !u.is_empty()));
    let id = slot["media_id"].as_str().unwrap();
    let key = slot["key"].as_str().unwrap();

    let r = sign(&s, &t, id, &[1, 2]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let parts = r.body["parts"].as_array().unwrap().clone();
    assert_eq!(parts[0]["headers"]["content-length"], (8 * MIB).to_string());
    let (first, second) = bytes.split_at(8 * MIB);

    let (status, body) = put_part(&s, &parts[0], first.to_vec()).await;
    assert_eq!(status, 200, "{body}");
    // What a client resumes from: S3's own list.
    let r = s.call("GET", &format!("/v1/uploads/{id}/parts"), Some(&t), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["parts"].as_array().map(Vec::len), Some(1));
    assert_eq!((r.body["parts"][0]["part_number"].as_u64(), r.body["parts"][0]["size"].as_u64()), (Some(1), Some(8 * MIB as u64)));

    // Completing with a part missing is refused, and changes nothing.
    let r = s.call("POST", &format!("/v1/uploads/{id}/complete"), Some(&t), None).await;
    assert_eq!((r.status, r.code()), (409, "parts_incomplete"), "{}", r.body);
    assert!(r.body["error"]["message"].as_str().unwrap_or("").contains("parts 2 are missing"), "{}", r.body);

    // A part of another size than the signed one is refused by S3 itself.
    let (status, body) = put_part(&s, &parts[1], second[1..].to_vec()).await;
    assert!((400..500).contains(&status), "S3 must refuse a part of the wrong length: {status} {body}");
    let (status, body) = put_part(&s, &parts[1], [second, b"x"].concat()).await;
    assert!((400..500).contains(&status), "S3 must refuse a part of the wrong length: {status} {body}");

    let (status, body) = put_part(&s, &parts[1], second.to_vec()).await;
    assert_eq!(status, 200, "{body}");
    let r = s.call("POST", &format!("/v1/uploads/{id}/complete"), Some(&t), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "ready", "{}", r.body);
    assert_eq!(r.body["size_bytes"].as_u64(), Some(bytes.len() as u64));
    let local = hex::encode(Sha256::digest(&bytes));
    assert_eq!(r.body["sha256"].as_str(), Some(local.as_str()), "{}", r.body);
    // The stored original is the uploaded file, byte for byte (a private kind is not stripped).
    let r = s.call("GET", &format!("/v1/media/{id}/content"), Some(&t), None).await;
    assert_eq!(r.status, 302);
    let content = s.http.get(r.headers["location"].to_str().unwrap()).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(hex::encode(Sha256::digest(&content)), local);
    assert_eq!(open_uploads(&s, key).await, 0);
    assert!(s.wait_absent(key, Duration::from_secs(10)).await, "the upload object is removed once verified");

    // The upload is over: its parts routes say so.
    let r = sign(&s, &t, id, &[1]).await;
    assert_eq!((r.status, r.code()), (409, "not_pending"), "{}", r.body);
}

#[tokio::test]
async fn an_aborted_upload_leaves_no_parts_no_object_and_no_record() {
    let s = Stack::connect().await;
    let (t, stranger) = (s.token(&user("abe"), &[]), s.token(&user("eve"), &[]));
    let slot = s.slot(&t, "image", "multipart", "big.jpg", "image/jpeg", 9 * MIB).await;
    let (id, key) = (slot["media_id"].as_str().unwrap(), slot["key"].as_str().unwrap());
    let r = sign(&s, &t, id, &[1]).await;
    let (status, body) = put_part(&s, &r.body["parts"][0], vec![7u8; 8 * MIB]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(open_uploads(&s, key).await, 1);

    for (method, path) in [("DELETE", format!("/v1/uploads/{id}")), ("GET", format!("/v1/uploads/{id}/parts"))] {
        let r = s.call(method, &path, Some(&stranger), None).await;
        assert_eq!((r.status, r.code()), (404, "not_found"), "another user's upload does not exist: {method} {path}");
    }
    let r = sign(&s, &stranger, id, &[1]).await;
    assert_eq!(r.status, 404);

    let r = s.call("DELETE", &format!("/v1/uploads/{id}"), Some(&t), None).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(open_uploads(&s, key).await, 0, "S3 no longer holds the parts");
    assert!(s.head(key).await.is_none());
    assert!(s.record(id).await.is_none(), "the record is gone (and no longer counts as pending)");
    let r = s.call("DELETE", &format!("/v1/uploads/{id}"), Some(&t), None).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn part_requests_are_bounded_and_other_uploads_are_not_multipart() {
    let s = Stack::connect().await;
    let t = s.token(&user("bea"), &[]);
    let slot = s.slot(&t, "image", "multipart", "big.jpg", "image/jpeg", 9 * MIB).await;
    let id = slot["media_id"].as_str().unwrap();
    for bad in [json!({"part_numbers": []}), json!({"part_numbers": [3]}), json!({"part_numbers": [0]}), json!({"part_numbers": (1..=101).collect::<Vec<u32>>()}), json!({"parts": [1]}), json!({"part_numbers": "1"})] {
        let r = s.call("POST", &format!("/v1/uploads/{id}/parts"), Some(&t), Some(&bad)).await;
        assert_eq!((r.status, r.code()), (400, "invalid_request"), "{bad}: {}", r.body);
    }
    let r = s.call("POST", "/v1/uploads/not-an-id/parts", Some(&t), Some(&json!({"part_numbers": [1]}))).await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = s.call("GET", &format!("/v1/uploads/{id}/parts"), None, None).await;
    assert_eq!((r.status, r.code()), (401, "unauthorized"));

    let put = s.slot(&t, "image", "put", "a.jpg", "image/jpeg", 1000).await;
    let r = sign(&s, &t, put["media_id"].as_str().unwrap(), &[1]).await;
    assert_eq!((r.status, r.code()), (409, "not_multipart"), "{}", r.body);
    // Any pending upload can be given up, not only multipart ones.
    let r = s.call("DELETE", &format!("/v1/uploads/{}", put["media_id"].as_str().unwrap()), Some(&t), None).await;
    assert_eq!(r.status, 204, "{}", r.body);

    // A file too large for the kind is refused before any S3 upload starts.
    let r = s
        .call("POST", "/v1/uploads", Some(&t), Some(&json!({"kind": "image", "method": "multipart", "files": [{"filename": "x.jpg", "content_type": "image/jpeg", "size_bytes": 10 * MIB + 1}]})))
        .await;
    assert_eq!((r.status, r.code()), (413, "too_large"));
}

#[tokio::test]
async fn kinds_are_public_and_cacheable() {
    let s = Stack::connect().await;
    let r = s.call("GET", "/v1/kinds", None, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let image = &r.body["kinds"]["image"];
    assert_eq!(image["max_bytes"].as_u64(), Some(10 * MIB as u64));
    assert_eq!(image["visibility"], "private");
    assert_eq!(image["content_types"], json!(["image/jpeg", "image/png", "image/webp", "image/heic", "image/heif", "image/avif"]));
    assert_eq!(image["thumbnail_sizes"], json!([128, 512, 1024]));
    assert_eq!(r.headers.get("cache-control").and_then(|v| v.to_str().ok()), Some("public, max-age=300"));
}

/// Sends the request line, the signed headers and only `send` of the part's bytes, then closes
/// the connection: what a phone losing its network mid-part does.
fn cut_connection(url: &str, headers: &serde_json::Map<String, Value>, part: &[u8], send: usize) {
    use std::io::Write;
    let rest = url.strip_prefix("http://").expect("local S3 is plain http");
    let (host, path) = rest.split_once('/').expect("path");
    let mut conn = std::net::TcpStream::connect(host).expect("connect to S3");
    let mut head = format!("PUT /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\n", part.len());
    for (k, v) in headers {
        if !k.eq_ignore_ascii_case("content-length") && !k.eq_ignore_ascii_case("host") {
            head.push_str(&format!("{k}: {}\r\n", v.as_str().unwrap_or_default()));
        }
    }
    head.push_str("\r\n");
    conn.write_all(head.as_bytes()).expect("headers");
    conn.write_all(&part[..send]).expect("some of the body");
    conn.shutdown(std::net::Shutdown::Both).ok();
}

#[tokio::test]
async fn a_60_mb_video_cut_off_during_part_3_resumes_with_only_the_missing_parts() {
    let s = Stack::connect().await;
    let t = s.token(&user("rhea"), &[]);
    let clip = devtools::videos::fixture("clip.mp4");
    let bytes = devtools::videos::with_large_mdat(60 * MIB - clip.len());
    assert_eq!(bytes.len(), 60 * MIB);
    let slot = s.slot(&t, "video", "multipart", "trip.mp4", "video/mp4", bytes.len()).await;
    let (id, part_size, count) = (slot["media_id"].as_str().unwrap(), slot["part_size"].as_u64().unwrap() as usize, slot["part_count"].as_u64().unwrap() as u32);
    assert_eq!((part_size, count), (8 * MIB, 8));
    let chunk = |n: u32| &bytes[(n as usize - 1) * part_size..(n as usize * part_size).min(bytes.len())];

    let r = sign(&s, &t, id, &(1..=count).collect::<Vec<_>>()).await;
    let parts = r.body["parts"].as_array().unwrap().clone();
    for n in [1u32, 2] {
        let (status, body) = put_part(&s, &parts[n as usize - 1], chunk(n).to_vec()).await;
        assert_eq!(status, 200, "{body}");
    }
    let third = parts[2].clone();
    let part3 = chunk(3).to_vec();
    tokio::task::spawn_blocking(move || cut_connection(third["url"].as_str().unwrap(), third["headers"].as_object().unwrap(), &part3, 3 * MIB))
        .await
        .unwrap();

    // After a reload: S3's list says what is there; only the rest is sent.
    let held = s.call("GET", &format!("/v1/uploads/{id}/parts"), Some(&t), None).await;
    let held: Vec<u64> = held.body["parts"].as_array().unwrap().iter().map(|p| p["part_number"].as_u64().unwrap()).collect();
    assert_eq!(held, vec![1, 2], "the cut part 3 is not stored");
    let missing: Vec<u32> = (1..=count).filter(|n| !held.contains(&u64::from(*n))).collect();
    assert_eq!(missing, (3..=8).collect::<Vec<_>>());
    let fresh = sign(&s, &t, id, &missing).await;
    for part in fresh.body["parts"].as_array().unwrap() {
        let n = part["part_number"].as_u64().unwrap() as u32;
        let (status, body) = put_part(&s, part, chunk(n).to_vec()).await;
        assert_eq!(status, 200, "part {n}: {body}");
    }
    let r = s.call("POST", &format!("/v1/uploads/{id}/complete"), Some(&t), None).await;
    assert_eq!((r.status, r.body["status"].as_str()), (200, Some("ready")), "{}", r.body);
    assert_eq!(r.body["size_bytes"].as_u64(), Some(bytes.len() as u64));

    // The stored video is the local file, byte for byte.
    let r = s.call("GET", &format!("/v1/media/{id}/content"), Some(&t), None).await;
    let stored = s.http.get(r.headers["location"].to_str().unwrap()).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(hex::encode(Sha256::digest(&stored)), hex::encode(Sha256::digest(&bytes)));
}

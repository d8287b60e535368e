//! Verification and thumbnails, end to end: real images uploaded to the emulator reach
//! process-upload as real S3 events (through the dev bridge), with no call to complete.

use devtools::images;
use devtools::stack::{user, Stack};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(20);

fn is_decided(m: &Value) -> bool {
    m["status"] != "pending"
}

/// Slot, browser-style POST, then wait for the event-driven verdict.
async fn upload(s: &Stack, token: &str, kind: &str, declared: &str, bytes: Vec<u8>) -> Value {
    let slot = s.slot(token, kind, "post", "upload.bin", declared, bytes.len()).await;
    let (status, body) = s.post_form(&slot, bytes, declared).await;
    assert!((200..300).contains(&status), "S3 accepted: {status} {body}");
    s.wait_media(token, slot["media_id"].as_str().unwrap(), DEADLINE, is_decided).await
}

async fn get_webp(s: &Stack, key_or_url: &str) -> image::DynamicImage {
    let bytes = s.http.get(key_or_url).send().await.unwrap().bytes().await.unwrap();
    image::load_from_memory_with_format(&bytes, image::ImageFormat::WebP).expect("a decodable WebP")
}

fn key_of(s: &Stack, url: &str) -> String {
    let prefix = format!("{}/{}/", s.var("S3_ENDPOINT"), s.bucket);
    url.split('?').next().unwrap().trim_start_matches(&prefix).to_string()
}

#[tokio::test]
async fn a_photo_becomes_ready_with_lossy_webp_thumbnails_without_complete() {
    let s = Stack::connect().await;
    let t = s.token(&user("ann"), &[]);
    let jpeg = images::jpeg(2000, 1500);
    let started = Instant::now();
    let m = upload(&s, &t, "post_image", "image/jpeg", jpeg).await;
    assert_eq!(m["status"], "ready", "{m}");
    eprintln!("ready after {:?}", started.elapsed());
    assert_eq!((m["width"].as_u64(), m["height"].as_u64()), (Some(2000), Some(1500)));
    assert_eq!(m["content_type"], "image/jpeg");
    assert_eq!(m["sha256"].as_str().unwrap().len(), 64);
    let id = m["id"].as_str().unwrap();
    let url = m["url"].as_str().unwrap();
    assert!(url.contains(&format!("/public/post_image/{id}/original.jpg")), "{url}");
    // Public read works anonymously once verified, and the stored bytes match the hash.
    let original = s.http.get(url).send().await.unwrap();
    assert_eq!(original.status(), 200);
    let bytes = original.bytes().await.unwrap();
    use sha2::Digest;
    assert_eq!(hex::encode(sha2::Sha256::digest(&bytes)), m["sha256"].as_str().unwrap());
    for (size, w, h) in [("128", 128, 96), ("512", 512, 384), ("1024", 1024, 768)] {
        let v = &m["variants"][size];
        assert_eq!((v["width"].as_u64(), v["height"].as_u64()), (Some(w), Some(h)), "variant {size}");
        let key = key_of(&s, v["url"].as_str().unwrap());
        assert!(key.contains(id), "every object has the media id in its key");
        let head = s.head(&key).await.expect("variant stored");
        assert_eq!(head.content_type(), Some("image/webp"));
        assert_eq!(head.cache_control(), Some("public, max-age=31536000, immutable"));
        let img = get_webp(&s, v["url"].as_str().unwrap()).await;
        assert_eq!((img.width(), img.height()), (w as u32, h as u32));
        let raw = s.get_object(&key).await.unwrap();
        assert!(&raw[12..16] == b"VP8 " || (&raw[12..16] == b"VP8X" && !raw.windows(4).any(|w| w == b"VP8L")), "lossy WebP");
    }
    // The upload itself is gone from incoming/.
    assert!(s.wait_absent(&format!("incoming/{id}"), Duration::from_secs(10)).await);
}

#[tokio::test]
async fn exif_orientation_6_gives_portrait_size_and_thumbnails() {
    let s = Stack::connect().await;
    let t = s.token(&user("otto"), &[]);
    // Stored landscape 800x600; orientation 6 means displayed portrait 600x800.
    let jpeg = images::with_exif(&images::jpeg(800, 600), &images::exif_tiff(6, false));
    let m = upload(&s, &t, "image", "image/jpeg", jpeg).await;
    assert_eq!(m["status"], "ready", "{m}");
    assert_eq!((m["width"].as_u64(), m["height"].as_u64()), (Some(600), Some(800)));
    let v = &m["variants"]["512"];
    assert_eq!((v["width"].as_u64(), v["height"].as_u64()), (Some(384), Some(512)));
    let img = get_webp(&s, v["url"].as_str().unwrap()).await;
    assert_eq!((img.width(), img.height()), (384, 512), "the pixels are rotated, not just the numbers");
    assert!(m["url_expires_at"].is_string(), "private kinds get presigned URLs");
}

#[tokio::test]
async fn png_alpha_survives_into_the_thumbnails() {
    let s = Stack::connect().await;
    let t = s.token(&user("pia"), &[]);
    let m = upload(&s, &t, "post_image", "image/png", images::png_rgba(600, 400)).await;
    assert_eq!(m["status"], "ready", "{m}");
    let img = get_webp(&s, m["variants"]["512"]["url"].as_str().unwrap()).await;
    assert!(img.color().has_alpha(), "thumbnail has an alpha channel");
    let rgba = img.to_rgba8();
    assert!(rgba.get_pixel(2, 200)[3] < 64, "left edge transparent");
    assert!(rgba.get_pixel(509, 200)[3] > 192, "right edge opaque");
}

#[tokio::test]
async fn webp_input_is_accepted() {
    let s = Stack::connect().await;
    let t = s.token(&user("wes"), &[]);
    let m = upload(&s, &t, "avatar", "image/webp", images::webp(700, 300)).await;
    assert_eq!(m["status"], "ready", "{m}");
    assert_eq!(m["variants"]["512"]["height"], 219);
    assert!(m["variants"].get("1024").is_none(), "avatars have 128 and 512 only");
}

#[tokio::test]
async fn gps_exif_is_stripped_from_public_originals_but_orientation_kept() {
    let s = Stack::connect().await;
    let t = s.token(&user("gus"), &[]);
    let jpeg = images::with_exif(&images::jpeg(300, 200), &images::exif_tiff(6, true));
    assert!(jpeg.windows(2).any(|w| w == 0x8825u16.to_le_bytes()), "fixture carries a GPS IFD");
    let m = upload(&s, &t, "post_image", "image/jpeg", jpeg).await;
    assert_eq!(m["status"], "ready", "{m}");
    let stored = s.http.get(m["url"].as_str().unwrap()).send().await.unwrap().bytes().await.unwrap();
    assert!(!stored.windows(2).any(|w| w == 0x8825u16.to_le_bytes()), "no GPS IFD pointer");
    assert!(!stored.windows(8).any(|w| w == [48, 0, 0, 0, 1, 0, 0, 0]), "no GPS latitude values");
    let img = image::load_from_memory(&stored).expect("still a valid JPEG");
    assert_eq!((img.width(), img.height()), (300, 200), "pixels untouched");
    let mut dec = image::ImageReader::new(std::io::Cursor::new(stored.to_vec())).with_guessed_format().unwrap().into_decoder().unwrap();
    use image::ImageDecoder;
    assert_eq!(dec.orientation().unwrap().to_exif(), 6, "orientation kept");
    assert_eq!((m["width"].as_u64(), m["height"].as_u64()), (Some(200), Some(300)));
}

/// A PNG whose header claims `w` x `h`, with a tiny (bogus) body.
fn png_header_only(w: u32, h: u32) -> Vec<u8> {
    let chunk = |kind: &[u8], data: &[u8]| {
        let mut c = (data.len() as u32).to_be_bytes().to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(data);
        let mut crc_in = kind.to_vec();
        crc_in.extend_from_slice(data);
        let mut crc = 0xFFFF_FFFFu32;
        for b in crc_in {
            crc ^= b as u32;
            for _ in 0..8 {
                crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        c.extend_from_slice(&(!crc).to_be_bytes());
        c
    };
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(chunk(b"IHDR", &ihdr));
    png.extend(chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]));
    png.extend(chunk(b"IEND", &[]));
    png
}

#[tokio::test]
async fn every_bad_file_is_rejected_with_its_code_and_its_bytes_deleted() {
    let s = Stack::connect().await;
    let t = s.token(&user("rex"), &[]);
    let jpeg = images::jpeg(400, 300);
    let mut truncated = jpeg.clone();
    truncated.truncate(jpeg.len() / 2);
    let cases: Vec<(&str, &str, Vec<u8>, &str)> = vec![
        ("html named .jpg", "image/jpeg", b"<html><body><script>alert(1)</script></body></html>".to_vec(), "not_an_image"),
        ("svg named .png", "image/png", b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script/></svg>".to_vec(), "not_an_image"),
        ("plain text", "image/webp", b"just some text, definitely not a picture".to_vec(), "not_an_image"),
        ("png declared as jpeg", "image/jpeg", images::png_rgba(50, 50), "type_mismatch"),
        ("truncated jpeg", "image/jpeg", truncated, "corrupt_image"),
        ("png bomb header", "image/png", png_header_only(60_000, 60_000), "dimensions_too_large"),
    ];
    for (name, declared, bytes, code) in cases {
        let m = upload(&s, &t, "post_image", declared, bytes).await;
        assert_eq!(m["status"], "rejected", "{name}: {m}");
        assert_eq!(m["rejection"]["code"], code, "{name}: {m}");
        assert!(m["rejection"]["message"].as_str().is_some_and(|x| !x.is_empty()));
        assert_eq!(m["url"], Value::Null, "{name}: no URL for rejected media");
        let id = m["id"].as_str().unwrap();
        // The verdict is recorded before the upload is removed: poll for it, with a deadline.
        assert!(s.wait_absent(&format!("incoming/{id}"), Duration::from_secs(10)).await, "{name}: upload deleted");
        for ext in ["jpg", "png", "webp"] {
            assert!(s.head(&format!("public/post_image/{id}/original.{ext}")).await.is_none(), "{name}: nothing public");
        }
    }
}


#[tokio::test]
async fn the_same_event_delivered_twice_does_the_work_once() {
    let s = Stack::connect().await;
    let t = s.token(&user("dup"), &[]);
    let m = upload(&s, &t, "post_image", "image/jpeg", images::jpeg(900, 600)).await;
    assert_eq!(m["status"], "ready");
    let id = m["id"].as_str().unwrap();
    let key = key_of(&s, m["url"].as_str().unwrap());
    let before = s.head(&key).await.unwrap().last_modified().cloned();
    for _ in 0..2 {
        let (status, body) = s.invoke_process_upload(&format!("incoming/{id}")).await;
        assert_eq!(status, 200, "{body}");
    }
    let after = s.call("GET", &format!("/v1/media/{id}"), Some(&t), None).await.body;
    assert_eq!(after["updated_at"], m["updated_at"], "record untouched by the replays");
    assert_eq!(after["sha256"], m["sha256"]);
    assert_eq!(s.head(&key).await.unwrap().last_modified().cloned(), before, "original not rewritten");
}

#[tokio::test]
async fn keys_with_spaces_plus_and_unicode_are_decoded() {
    let s = Stack::connect().await;
    // Objects under incoming/ that no record names are strays: deleting them proves the
    // function found the exact (decoded) key.
    for (key, encoded) in [("incoming/a b+c.jpg", "incoming/a+b%2Bc.jpg"), ("incoming/café ü.png", "incoming/caf%C3%A9+%C3%BC.png")] {
        s.s3.put_object().bucket(&s.bucket).key(key).body(b"junk".to_vec().into()).send().await.unwrap();
        let (status, body) = s.invoke_process_upload(encoded).await;
        assert_eq!(status, 200, "{body}");
        assert!(s.head(key).await.is_none(), "{key} deleted");
    }
}

#[tokio::test]
async fn an_event_for_a_deleted_media_removes_the_stray_object() {
    let s = Stack::connect().await;
    let id = uuid::Uuid::new_v4().to_string();
    let key = format!("incoming/{id}");
    s.s3.put_object().bucket(&s.bucket).key(&key).body(images::jpeg(20, 20).into()).send().await.unwrap();
    let (status, body) = s.invoke_process_upload(&key).await;
    assert_eq!(status, 200, "{body}");
    assert!(s.head(&key).await.is_none());
    assert!(s.record(&id).await.is_none(), "no record invented");
}

#[tokio::test]
async fn oversized_objects_are_rejected_without_being_read() {
    // S3 enforces the signed limits; this covers bytes that reach incoming/ another way
    // (an administrator, a limit lowered after the URL was issued).
    let s = Stack::connect().await;
    let t = s.token(&user("big"), &[]);
    let slot = s.slot(&t, "avatar", "post", "a.jpg", "image/jpeg", 1000).await;
    let id = slot["media_id"].as_str().unwrap();
    let mut big = images::jpeg(64, 64);
    big.resize(2 * 1024 * 1024 + 10, 0);
    s.s3.put_object().bucket(&s.bucket).key(format!("incoming/{id}")).body(big.into()).send().await.unwrap();
    let m = s.wait_media(&t, id, DEADLINE, is_decided).await;
    assert_eq!((m["status"].as_str(), m["rejection"]["code"].as_str()), (Some("rejected"), Some("too_large")), "{m}");
}

#[tokio::test]
async fn complete_verifies_synchronously_and_reports_missing_uploads() {
    let s = Stack::connect().await;
    let owner = user("cora");
    let t = s.token(&owner, &[]);
    let jpeg = images::jpeg(300, 300);
    let slot = s.slot(&t, "image", "put", "a.jpg", "image/jpeg", jpeg.len()).await;
    let id = slot["media_id"].as_str().unwrap();
    // Nothing uploaded yet: 409, record unchanged.
    let r = s.call("POST", &format!("/v1/media/{id}/complete"), Some(&t), None).await;
    assert_eq!((r.status, r.code()), (409, "upload_missing"), "{}", r.body);
    assert_eq!(s.record(id).await.unwrap()["status"].as_s().unwrap(), "pending");
    // Someone else: 404, as for an id that does not exist.
    let stranger = s.token(&user("eve"), &[]);
    let r = s.call("POST", &format!("/v1/media/{id}/complete"), Some(&stranger), None).await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    let r = s.call("POST", &format!("/v1/media/{}/complete", uuid::Uuid::new_v4()), Some(&t), None).await;
    assert_eq!(r.status, 404);
    let r = s.call("POST", "/v1/media/not-an-id/complete", Some(&t), None).await;
    assert_eq!(r.status, 404);
    let r = s.call("POST", &format!("/v1/media/{id}/complete"), None, None).await;
    assert_eq!(r.status, 401);

    // Upload, then complete and the event race; every path ends in one consistent record.
    let (st, _) = s.put_slot(&slot, jpeg).await;
    assert_eq!(st, 200);
    let path = format!("/v1/media/{id}/complete");
    let (a, b) = tokio::join!(s.call("POST", &path, Some(&t), None), s.call("POST", &path, Some(&t), None));
    for r in [&a, &b] {
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["status"], "ready");
    }
    let m = s.wait_media(&t, id, DEADLINE, is_decided).await;
    assert_eq!(m["sha256"], a.body["sha256"]);
    let variants: Vec<&String> = m["variants"].as_object().unwrap().keys().collect();
    assert_eq!(variants, ["128"], "only sizes below the 300 px long side: {m}");
    assert!(s.wait_absent(&format!("incoming/{id}"), Duration::from_secs(10)).await);
}

#[tokio::test]
async fn complete_batch_answers_each_id_in_order() {
    let s = Stack::connect().await;
    let t = s.token(&user("bart"), &[]);
    let good = images::png_rgba(200, 100);
    let ok = s.slot(&t, "image", "put", "ok.png", "image/png", good.len()).await;
    assert_eq!(s.put_slot(&ok, good).await.0, 200);
    let missing = s.slot(&t, "image", "put", "later.png", "image/png", 10).await;
    let foreign = uuid::Uuid::new_v4().to_string();
    let ids = json!([ok["media_id"], missing["media_id"], foreign, "junk"]);
    let r = s.call("POST", "/v1/media/complete", Some(&t), Some(&json!({"media_ids": ids}))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["total_requested"], 4);
    let results = r.body["results"].as_array().unwrap();
    assert_eq!(results[0]["status"], "ready");
    assert_eq!(results[1]["error"]["code"], "upload_missing");
    assert_eq!(results[2]["error"]["code"], "not_found");
    assert_eq!(results[3]["error"]["code"], "not_found");
    assert!(r.body["updated_count"].as_u64().unwrap() <= 1, "at most the one upload was decided here");
    for bad in [json!({"media_ids": []}), json!({"media_ids": vec!["x"; 51]}), json!({"ids": ["x"]})] {
        let r = s.call("POST", "/v1/media/complete", Some(&t), Some(&bad)).await;
        assert_eq!((r.status, r.code()), (400, "invalid_request"), "{bad}");
    }
}

//! The verifier's promises against hostile and real-world files, on the local stack: every
//! file gets a final verdict (never stuck pending, never a 5xx from complete), a public original
//! carries no metadata, no trailer and no unlisted chunk, its pixels are the uploaded ones, and
//! racing uploads publish exactly the bytes the record describes.

use devtools::corpus::{self, Expect};
use devtools::images;
use devtools::stack::{user, Stack};
use serde_json::{json, Value};
use sha2::Digest;
use shared::imaging::metadata_findings;
use shared::domain::kinds::ContentType;
use std::time::Duration;

fn key_of(s: &Stack, url: &str) -> String {
    let prefix = format!("{}/{}/", s.var("S3_ENDPOINT"), s.bucket);
    url.split('?').next().unwrap().trim_start_matches(&prefix).to_string()
}

fn fit(w: u32, h: u32, size: u32) -> (u32, u32) {
    let long = w.max(h) as f64;
    let scale = size as f64 / long;
    (((w as f64 * scale).round() as u32).max(1), ((h as f64 * scale).round() as u32).max(1))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Slot (PUT), upload, complete: the verdict as the API answers it.
async fn upload_and_complete(s: &Stack, token: &str, kind: &str, name: &str, content_type: &str, bytes: Vec<u8>) -> Value {
    let slot = s.slot(token, kind, "put", name, content_type, bytes.len()).await;
    let (status, body) = s.put_slot(&slot, bytes).await;
    assert_eq!(status, 200, "{name}: S3 accepted the PUT: {body}");
    let id = slot["media_id"].as_str().unwrap();
    let r = s.call("POST", &format!("/v1/media/{id}/complete"), Some(token), None).await;
    assert_eq!(r.status, 200, "{name}: complete answers a verdict, never a 5xx: {}", r.body);
    assert_ne!(r.body["status"], "pending", "{name}: decided");
    r.body
}

/// Everything a public original must not carry, checked from the bytes served.
fn assert_clean(name: &str, uploaded: &[u8], stored: &[u8], ct: ContentType) {
    assert_eq!(metadata_findings(stored, ct), Vec::<String>::new(), "{name}: nothing unlisted in the public original");
    let gps_rationals: Vec<u8> = [48u32, 1, 51, 1].iter().flat_map(|v| v.to_le_bytes()).collect();
    for needle in [&gps_rationals[..], b"GPSLatitude", b"48.8584", b"ftyp", b"MPF\0", b"secondary-image-index", b"secret", b"MotionPhoto", b"trailing"] {
        assert!(!contains(stored, needle), "{name}: {:?} is gone", String::from_utf8_lossy(needle));
    }
    if ct == ContentType::Jpeg {
        // Entropy-coded data never holds FF D8, so one SOI means one image.
        assert_eq!(stored.windows(2).filter(|w| *w == [0xFF, 0xD8]).count(), 1, "{name}: exactly one JPEG");
    }
    let format = match ct {
        ContentType::Jpeg => image::ImageFormat::Jpeg,
        ContentType::Png => image::ImageFormat::Png,
        ContentType::Webp => image::ImageFormat::WebP,
        other => panic!("{other} is not an image type"),
    };
    let before = image::load_from_memory_with_format(uploaded, format).expect("the upload decodes");
    let after = image::load_from_memory_with_format(stored, format).expect("the public original decodes");
    assert_eq!((before.width(), before.height(), before.color()), (after.width(), after.height(), after.color()), "{name}");
    assert!(before.as_bytes() == after.as_bytes(), "{name}: the pixels are unchanged");
}

/// Alpha-weighted average colour, each channel in 0..1 (as ThumbHash averages).
fn average_rgb(img: &image::DynamicImage) -> (f32, f32, f32) {
    let rgba = img.to_rgba8();
    let (mut sum, mut weight) = ([0f64; 3], 0f64);
    for p in rgba.pixels() {
        let a = p[3] as f64 / 255.0;
        for c in 0..3 {
            sum[c] += p[c] as f64 / 255.0 * a;
        }
        weight += a;
    }
    let w = weight.max(1e-9);
    ((sum[0] / w) as f32, (sum[1] / w) as f32, (sum[2] / w) as f32)
}

/// The placeholder describes the image: ThumbHash's aspect (stored as a ratio of small component
/// counts, so within 10%) and a dominant colour; transparency only where the image has it.
fn assert_placeholder(name: &str, m: &Value, width: u32, height: u32, thumbnail: &image::DynamicImage) {
    use base64::Engine;
    let p = &m["placeholder"];
    let hash = base64::engine::general_purpose::STANDARD.decode(p["thumbhash"].as_str().expect("thumbhash")).unwrap();
    let ratio = thumbhash::thumb_hash_to_approximate_aspect_ratio(&hash).unwrap() as f64;
    let expected = width as f64 / height as f64;
    assert!((ratio - expected).abs() / expected < 0.1, "{name}: thumbhash aspect {ratio} for {expected}");
    assert!(p["blurhash"].as_str().is_some_and(|b| b.len() >= 6), "{name}: {p}");
    // ThumbHash's average colour is the (alpha-weighted) average of the thumbnail's.
    let (r, g, b, _) = thumbhash::thumb_hash_to_average_rgba(&hash).unwrap();
    let (er, eg, eb) = average_rgb(thumbnail);
    let distance = (r - er).abs().max((g - eg).abs()).max((b - eb).abs());
    assert!(distance < 0.08, "{name}: thumbhash average {:?} vs the thumbnail's {:?}", (r, g, b), (er, eg, eb));
    assert!(p["dominant_color"].as_str().is_some_and(|c| c.len() == 7 && c.starts_with('#')), "{name}: {p}");
    let transparent = ["alpha", "rgba", "palette-trns"].iter().any(|t| name.contains(t));
    assert_eq!(p["has_alpha"].as_bool(), Some(transparent), "{name}: {p}");
}

#[tokio::test]
async fn every_corpus_file_gets_its_verdict_and_public_originals_carry_only_pixels() {
    let s = Stack::connect().await;
    let t = s.token(&user("corpus"), &[]);
    for f in corpus::corpus() {
        let m = upload_and_complete(&s, &t, "post_image", f.name, f.content_type, f.bytes.clone()).await;
        let id = m["id"].as_str().unwrap();
        match f.expect {
            Expect::Rejected(code) => {
                assert_eq!((m["status"].as_str(), m["rejection"]["code"].as_str()), (Some("rejected"), Some(code)), "{}: {m}", f.name);
                assert!(s.wait_absent(&format!("incoming/{id}"), Duration::from_secs(10)).await, "{}: the rejected upload is removed", f.name);
            }
            Expect::Ready { width, height } => {
                assert_eq!(m["status"], "ready", "{}: {m}", f.name);
                assert_eq!((m["width"].as_u64(), m["height"].as_u64()), (Some(width as u64), Some(height as u64)), "{}", f.name);
                let ct = ContentType::parse(f.content_type).unwrap();
                let stored = s.get_object(&key_of(&s, m["url"].as_str().unwrap())).await.expect("original stored");
                assert_eq!(hex::encode(sha2::Sha256::digest(&stored)), m["sha256"].as_str().unwrap(), "{}: sha256 of the stored bytes", f.name);
                assert_eq!(m["size_bytes"].as_u64(), Some(stored.len() as u64), "{}", f.name);
                assert_clean(f.name, &f.bytes, &stored, ct);
                let sizes: Vec<u32> = [128, 512, 1024].into_iter().filter(|&z| z < width.max(height)).collect();
                let smallest = match sizes.first() {
                    Some(size) => {
                        let url = m["variants"][size.to_string()]["url"].as_str().unwrap();
                        image::load_from_memory(&s.get_object(&key_of(&s, url)).await.expect("variant")).expect("decodable")
                    }
                    None => image::load_from_memory(&stored).expect("decodable original"),
                };
                assert_placeholder(f.name, &m, width, height, &smallest);
                assert_eq!(m["variants"].as_object().map(|v| v.len()), Some(sizes.len()), "{}: {}", f.name, m["variants"]);
                for size in sizes {
                    let v = &m["variants"][size.to_string()];
                    let bytes = s.get_object(&key_of(&s, v["url"].as_str().unwrap())).await.expect("variant stored");
                    let img = image::load_from_memory_with_format(&bytes, image::ImageFormat::WebP).expect("a decodable WebP");
                    assert_eq!((img.width(), img.height()), fit(width, height, size), "{} w{size}", f.name);
                }
            }
        }
    }
}

#[tokio::test]
async fn the_42_byte_webp_ends_rejected_not_pending_on_the_avatar_route() {
    let s = Stack::connect().await;
    let t = s.token(&user("tiny"), &[]);
    let bytes = corpus::tiny_webp_with_empty_vp8x();
    assert!(bytes.len() < 64, "{} bytes", bytes.len());
    let m = upload_and_complete(&s, &t, "avatar", "a.webp", "image/webp", bytes).await;
    assert_eq!((m["status"].as_str(), m["rejection"]["code"].as_str()), (Some("rejected"), Some("corrupt_image")), "{m}");
    let id = m["id"].as_str().unwrap();
    // The S3 event's run agrees (or finds it decided): the record stays rejected.
    let again = s.wait_media(&t, id, Duration::from_secs(20), |m| m["status"] != "pending").await;
    assert_eq!(again["status"], "rejected");
}

/// Found by `scripts/fuzz` (upload_bytes), each a JPEG that decoders read differently:
/// - a first scan followed, without EOI, by an APP0 and a second frame: `image` stops at the
///   APP0 and calls it decodable; without the APP0 it refuses the second frame, so stripping
///   made a "decodable" upload undecodable;
/// - a progressive JPEG with a reserved marker (FF 3A) between its scans: `image` reads the
///   file differently with and without it, so stripping changed the pixels;
/// - one with a JPGn marker (FF FB) between its scans: `image` stops there, and without it
///   reaches a broken DQT further on;
/// - one with a TEM marker (FF 01) between scans: `image` reads the scans differently with it.
/// Neither structure is followed any more: the upload is rejected, nothing half-stripped.
#[tokio::test]
async fn jpegs_that_decoders_disagree_on_are_rejected_not_half_stripped() {
    let s = Stack::connect().await;
    let t = s.token(&user("frames"), &[]);
    for name in ["jpeg-second-frame-after-scan.jpg", "jpeg-reserved-marker-in-scans.jpg", "jpeg-jpgn-marker-between-scans.jpg", "jpeg-tem-marker-between-scans.jpg"] {
        let bytes = std::fs::read(devtools::env::repo_root().join("devtools/tests/regressions").join(name)).unwrap();
        assert_eq!(shared::imaging::container::walk_jpeg(&bytes, |_| {}), None, "{name}");
        assert!(!metadata_findings(&bytes, ContentType::Jpeg).is_empty(), "{name}");
        let m = upload_and_complete(&s, &t, "avatar", "a.jpg", "image/jpeg", bytes).await;
        assert_eq!((m["status"].as_str(), m["rejection"]["code"].as_str()), (Some("rejected"), Some("corrupt_image")), "{name}: {m}");
    }
}

/// `jpeg` grown to exactly `len` bytes by COM segments after SOI (each 4 to 65,537 bytes long).
fn pad_jpeg(jpeg: Vec<u8>, len: usize) -> Vec<u8> {
    let mut missing = len.checked_sub(jpeg.len()).expect("the padded file is the larger");
    assert!(missing == 0 || missing >= 4, "a segment is at least 4 bytes");
    let mut out = jpeg[..2].to_vec();
    while missing > 0 {
        // Leave at least 4 bytes for the last segment.
        let mut take = missing.min(65_537);
        if missing - take > 0 && missing - take < 4 {
            take -= 4;
        }
        let length = (take - 2) as u16;
        out.extend_from_slice(&[0xFF, 0xFE]);
        out.extend_from_slice(&length.to_be_bytes());
        out.extend(std::iter::repeat_n(b'x', take - 4));
        missing -= take;
    }
    out.extend_from_slice(&jpeg[2..]);
    out
}

#[tokio::test]
async fn racing_uploads_on_one_policy_publish_exactly_the_bytes_the_record_describes() {
    let s = Stack::connect().await;
    let t = s.token(&user("racer"), &[]);
    for round in 0..3 {
        let slow = corpus::corpus().into_iter().find(|f| f.name == "progressive.jpg").unwrap().bytes;
        // The policy binds the declared length, so the racing file is another image padded (with
        // comment segments) to exactly that length.
        let fast = pad_jpeg(images::with_exif(&images::jpeg(300, 200), &images::exif_tiff(1, true)), slow.len());
        assert_eq!(fast.len(), slow.len());
        let slot = s.slot(&t, "post_image", "post", "race.jpg", "image/jpeg", slow.len()).await;
        let id = slot["media_id"].as_str().unwrap().to_string();
        // The same POST policy used twice, a slow image then a fast one, while complete runs.
        let complete = format!("/v1/media/{id}/complete");
        let (a, b, c) = tokio::join!(
            s.post_form(&slot, slow, "image/jpeg"),
            async {
                tokio::time::sleep(Duration::from_millis(50 * round)).await;
                s.post_form(&slot, fast, "image/jpeg").await
            },
            s.call("POST", &complete, Some(&t), None),
        );
        assert!((200..300).contains(&a.0) && (200..300).contains(&b.0), "both uploads accepted: {a:?} {b:?}");
        assert!(c.status < 500, "complete never answers 5xx: {} {}", c.status, c.body);
        let m = s.wait_media(&t, &id, Duration::from_secs(30), |m| m["status"] != "pending").await;
        assert_eq!(m["status"], "ready", "{m}");
        let prefix = format!("public/post_image/{id}/");
        // Runs that lost may still be finishing: the folder settles on exactly the record's keys.
        let mut expected: Vec<String> = m["variants"].as_object().unwrap().values().map(|v| key_of(&s, v["url"].as_str().unwrap())).collect();
        expected.push(key_of(&s, m["url"].as_str().unwrap()));
        expected.sort();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let listed = s.s3.list_objects_v2().bucket(&s.bucket).prefix(&prefix).send().await.unwrap();
            let mut keys: Vec<String> = listed.contents().iter().filter_map(|o| o.key().map(str::to_string)).collect();
            keys.sort();
            let incoming_gone = s.head(&format!("incoming/{id}")).await.is_none();
            if keys == expected && incoming_gone {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "round {round}: objects {keys:?}, record {expected:?}, incoming gone {incoming_gone}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let stored = s.get_object(&key_of(&s, m["url"].as_str().unwrap())).await.unwrap();
        assert_eq!(hex::encode(sha2::Sha256::digest(&stored)), m["sha256"].as_str().unwrap(), "round {round}");
        assert_eq!(m["size_bytes"].as_u64(), Some(stored.len() as u64));
        let img = image::load_from_memory(&stored).unwrap();
        assert_eq!((m["width"].as_u64(), m["height"].as_u64()), (Some(img.width() as u64), Some(img.height() as u64)), "the record describes the stored image");
    }
}

#[tokio::test]
async fn filenames_with_format_characters_are_refused_and_downloads_carry_the_verified_extension() {
    let s = Stack::connect().await;
    let t = s.token(&user("names"), &[]);
    let r = s
        .call(
            "POST",
            "/v1/uploads",
            Some(&t),
            Some(&json!({"kind": "image", "files": [{"filename": "invoice\u{202E}gpj.html", "content_type": "image/jpeg", "size_bytes": 10}]})),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "invalid_request"), "{}", r.body);

    let m = upload_and_complete(&s, &t, "image", "invoice.html", "image/jpeg", images::jpeg(200, 100)).await;
    assert_eq!(m["status"], "ready", "{m}");
    let id = m["id"].as_str().unwrap();
    let r = s.call("GET", &format!("/v1/media/{id}/url?download=true"), Some(&t), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let url = r.body["url"].as_str().unwrap();
    let resp = s.http.get(url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let disposition = resp.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(disposition.contains("filename=\"invoice.jpg\""), "{disposition}");
    assert!(!disposition.contains(".html"), "{disposition}");
}

#[tokio::test]
async fn a_filtered_listing_reads_a_bounded_number_of_pages_and_returns_a_cursor() {
    let s = Stack::connect().await;
    let t = s.token(&user("lister"), &[]);
    // Twelve pending images, none of them avatars.
    let files: Vec<Value> = (0..12).map(|i| json!({"filename": format!("{i}.jpg"), "content_type": "image/jpeg", "size_bytes": 10})).collect();
    let r = s.call("POST", "/v1/uploads", Some(&t), Some(&json!({"kind": "image", "files": files}))).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let mut cursor: Option<String> = None;
    let mut requests = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/media?kind=avatar&limit=1&cursor={c}"),
            None => "/v1/media?kind=avatar&limit=1".to_string(),
        };
        let r = s.call("GET", &path, Some(&t), None).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["items"].as_array().map(Vec::len), Some(0));
        requests += 1;
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
        assert!(requests <= 12, "the cursor advances");
    }
    // Five index pages per request at most: twelve records cannot be read in one request.
    assert!(requests >= 3, "{requests} requests");
}

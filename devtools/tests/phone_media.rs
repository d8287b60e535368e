//! Phone photos on the local stack: HEIC (iPhone's default) and AVIF uploads become ready with
//! thumbnails and a placeholder; a HEIC's `url` is a full-size JPEG every browser shows while
//! `download=true` gives the `.heic`; the served bytes of a public HEIC carry no GPS, Exif,
//! XMP or thumbnail item (walked, not grepped only); transforms render from HEIC; hostile
//! containers are rejected with their documented codes.

use devtools::heif::{self, fixture};
use devtools::stack::{user, Stack};
use serde_json::Value;
use shared::domain::kinds::ContentType;
use shared::imaging::metadata_findings;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);

/// Slot, browser-style form POST, then the event-driven verdict.
async fn upload(s: &Stack, token: &str, kind: &str, filename: &str, declared: &str, bytes: Vec<u8>) -> Value {
    let slot = s.slot(token, kind, "post", filename, declared, bytes.len()).await;
    let (status, body) = s.post_form(&slot, bytes, declared).await;
    assert!((200..300).contains(&status), "S3 accepted: {status} {body}");
    s.wait_media(token, slot["media_id"].as_str().unwrap(), DEADLINE, |m| m["status"] != "pending").await
}

async fn get(s: &Stack, url: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let resp = s.http.get(url).send().await.expect("GET");
    let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
    (status, headers, resp.bytes().await.expect("bytes").to_vec())
}

#[tokio::test]
async fn a_public_heic_is_shown_as_jpeg_downloaded_as_heic_and_leaks_nothing() {
    let s = Stack::connect().await;
    let t = s.token(&user("iphone"), &[]);
    let m = upload(&s, &t, "post_image", "IMG_0001.HEIC", "image/heic", fixture("photo.heic")).await;
    assert_eq!(m["status"], "ready", "{m}");
    assert_eq!((m["content_type"].as_str(), m["width"].as_u64(), m["height"].as_u64()), (Some("image/heic"), Some(1200), Some(900)));
    assert_eq!(m["display_content_type"], "image/jpeg");
    assert!(m["placeholder"]["thumbhash"].is_string(), "{m}");
    let id = m["id"].as_str().unwrap();

    // `url`: the full-size rendition, public, anonymous, a JPEG of the displayed size.
    let url = m["url"].as_str().unwrap();
    assert!(url.ends_with(&format!("/public/post_image/{id}/display.jpg")), "{url}");
    let (status, headers, shown) = get(&s, url).await;
    assert_eq!((status, headers["content-type"].to_str().unwrap()), (200, "image/jpeg"));
    let img = image::load_from_memory_with_format(&shown, image::ImageFormat::Jpeg).expect("a JPEG");
    assert_eq!((img.width(), img.height()), (1200, 900));
    // Nothing but libjpeg-turbo's own JFIF header (version and pixel density).
    let findings = metadata_findings(&shown, ContentType::Jpeg);
    assert!(findings.iter().all(|f| f == "JPEG APP0 segment") && shown[6..11] == *b"JFIF\0", "the rendition carries nothing: {findings:?}");

    // Thumbnails as for any photo.
    for (size, w) in [("128", 128), ("512", 512), ("1024", 1024)] {
        let (status, _, bytes) = get(&s, m["variants"][size]["url"].as_str().unwrap()).await;
        assert_eq!(status, 200);
        let t = image::load_from_memory_with_format(&bytes, image::ImageFormat::WebP).expect("WebP");
        assert_eq!(t.width(), w);
    }

    // The original as uploaded (its type and name), rebuilt without metadata.
    let r = s.call("GET", &format!("/v1/media/{id}/url?download=true"), Some(&t), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (status, headers, original) = get(&s, r.body["url"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(disposition.contains(".heic"), "{disposition}");
    assert_eq!(shared::imaging::sniff(&original), Some(ContentType::Heic));
    assert_eq!(metadata_findings(&original, ContentType::Heic), Vec::<String>::new());
    for needle in [&b"LeakyPhone"[..], b"xmpmeta", b"Exif"] {
        assert!(!original.windows(needle.len()).any(|w| w == needle), "{:?} in the served original", String::from_utf8_lossy(needle));
    }
    // The public original's own CDN path is the stripped HEIC (never the upload).
    let key = format!("public/post_image/{id}/original.heic");
    assert_eq!(s.get_object(&key).await.expect("stored original"), original);

    // A transform renders from the HEIC; with no AVIF/WebP in Accept it falls back to JPEG.
    let r = s.get_anonymous(&format!("/v1/media/{id}/image?w=320"), Some("*/*")).await;
    assert_eq!((r.status, r.headers["x-transform-type"].to_str().unwrap()), (302, "image/jpeg"), "{}", r.body);
    let (_, _, bytes) = get(&s, r.headers["location"].to_str().unwrap()).await;
    let v = image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg).expect("JPEG");
    assert_eq!((v.width(), v.height()), (320, 240));
}

#[tokio::test]
async fn rotation_grids_ten_bits_and_image_heif_work_through_the_stack() {
    let s = Stack::connect().await;
    let t = s.token(&user("iphone2"), &[]);
    let m = upload(&s, &t, "image", "turned.heic", "image/heic", fixture("rotated.heic")).await;
    assert_eq!((m["status"].as_str(), m["width"].as_u64(), m["height"].as_u64()), (Some("ready"), Some(480), Some(640)), "{m}");
    let v = &m["variants"]["512"];
    assert_eq!((v["width"].as_u64(), v["height"].as_u64()), (Some(384), Some(512)));
    let (status, _, shown) = get(&s, m["url"].as_str().unwrap()).await;
    assert_eq!(status, 200, "a private kind's url is a presigned GET of the rendition");
    let img = image::load_from_memory(&shown).expect("decodable");
    assert_eq!((img.width(), img.height()), (480, 640));
    for (name, declared, w, h) in [("grid.heic", "image/heif", 1200, 900), ("photo10.heic", "image/heic", 640, 480), ("multi.heic", "image/heic", 300, 400)] {
        let m = upload(&s, &t, "image", name, declared, fixture(name)).await;
        assert_eq!((m["status"].as_str(), m["width"].as_u64(), m["height"].as_u64()), (Some("ready"), Some(w), Some(h)), "{name}: {m}");
    }
}

#[tokio::test]
async fn avif_is_shown_as_itself_and_stripped() {
    let s = Stack::connect().await;
    let t = s.token(&user("avif"), &[]);
    let m = upload(&s, &t, "post_image", "p.avif", "image/avif", fixture("photo10.avif")).await;
    assert_eq!((m["status"].as_str(), m["width"].as_u64(), m["height"].as_u64()), (Some("ready"), Some(640), Some(480)), "{m}");
    assert!(m.get("display_content_type").is_none(), "every browser shows AVIF: {m}");
    let url = m["url"].as_str().unwrap();
    assert!(url.ends_with("/original.avif"), "{url}");
    let (status, headers, bytes) = get(&s, url).await;
    assert_eq!((status, headers["content-type"].to_str().unwrap()), (200, "image/avif"));
    assert_eq!(metadata_findings(&bytes, ContentType::Avif), Vec::<String>::new());
}

#[tokio::test]
async fn hostile_heif_files_are_rejected_with_their_codes() {
    let s = Stack::connect().await;
    let t = s.token(&user("heifbomb"), &[]);
    let cases = [
        (heif::with_ispe("photo.heic", 100_000, 100_000), "image/heic", "dimensions_too_large"),
        (heif::with_grid(2, 2, 100_000, 100_000), "image/heic", "dimensions_too_large"),
        (heif::with_item_count("photo.heic", 1_000_000), "image/heic", "corrupt_image"),
        (heif::with_extent_past_end("photo.heic"), "image/heic", "corrupt_image"),
        (fixture("photo.heic")[..5000].to_vec(), "image/heic", "corrupt_image"),
        (fixture("photo.avif"), "image/heic", "type_mismatch"),
    ];
    for (bytes, declared, code) in cases {
        let m = upload(&s, &t, "image", "x.heic", declared, bytes).await;
        assert_eq!((m["status"].as_str(), m["rejection"]["code"].as_str()), (Some("rejected"), Some(code)), "{m}");
    }
    let kinds = s.call("GET", "/v1/kinds", Some(&t), None).await;
    let types = kinds.body.to_string();
    for t in ["image/heic", "image/heif", "image/avif"] {
        assert!(types.contains(t), "{t} in GET /v1/kinds: {types}");
    }
}

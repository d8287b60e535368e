//! Images on demand on the local stack: `GET /v1/media/{id}/image` through the transform
//! function, variants stored in SeaweedFS and read back over real HTTP.

use devtools::images;
use devtools::stack::{user, Reply, Stack};
use serde_json::{json, Value};
use shared::domain::kinds::ContentType;
use shared::domain::media::FocalPoint;
use shared::domain::transform::{variant_key, TransformSpec};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

async fn ready(s: &Stack, token: &str, kind: &str, bytes: Vec<u8>, content_type: &str) -> Value {
    s.ready(token, kind, bytes, content_type).await
}

async fn image(s: &Stack, path_and_query: &str, accept: Option<&str>) -> Reply {
    s.get_anonymous(path_and_query, accept).await
}

fn header<'a>(r: &'a Reply, name: &str) -> &'a str {
    r.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// Follows the redirect to the stored variant and reads it.
async fn follow(s: &Stack, r: &Reply) -> Vec<u8> {
    assert_eq!(r.status, 302, "{}", r.body);
    let resp = s.http.get(header(r, "location")).send().await.expect("variant");
    assert_eq!(resp.status().as_u16(), 200);
    resp.bytes().await.expect("bytes").to_vec()
}

/// The size in an AVIF's image spatial extents ('ispe') box.
fn avif_size(b: &[u8]) -> (u32, u32) {
    assert_eq!(&b[4..12], b"ftypavif", "an AVIF file");
    let at = b.windows(4).position(|w| w == b"ispe").expect("ispe");
    let n = |o: usize| u32::from_be_bytes(b[o..o + 4].try_into().unwrap());
    (n(at + 8), n(at + 12))
}

async fn derived(s: &Stack, folder: &str) -> BTreeSet<String> {
    let out = s.s3.list_objects_v2().bucket(&s.bucket).prefix(format!("{folder}derived/")).send().await.expect("list");
    out.contents().iter().filter_map(|o| o.key().map(str::to_string)).collect()
}

fn folder(media: &Value) -> String {
    let original = media["url"].as_str().unwrap();
    // …/<visibility>/<kind>/<id>/original.<ext>, the folder being what precedes `original`.
    let path = original.split('?').next().unwrap();
    let at = path.find("/public/").or_else(|| path.find("/private/")).unwrap();
    let key = &path[at + 1..];
    key[..key.rfind('/').unwrap() + 1].to_string()
}

#[tokio::test]
async fn a_public_image_follows_accept_and_each_variant_is_rendered_once() {
    let s = Stack::connect().await;
    let t = s.token(&user("transform"), &[]);
    let media = ready(&s, &t, "post_image", images::noise_jpeg(1200, 800, 7), "image/jpeg").await;
    let id = media["id"].as_str().unwrap();
    let path = format!("/v1/media/{id}/image?w=320");

    let avif = image(&s, &path, Some("image/avif,image/webp,*/*;q=0.8")).await;
    assert_eq!((header(&avif, "x-transform"), header(&avif, "x-transform-type")), ("rendered", "image/avif"), "{}", avif.body);
    assert_eq!(header(&avif, "vary"), "Accept");
    assert_eq!(avif_size(&follow(&s, &avif).await), (320, 213));

    let webp = image(&s, &path, Some("image/webp,*/*")).await;
    let decoded = image::load_from_memory_with_format(&follow(&s, &webp).await, image::ImageFormat::WebP).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (320, 213));

    let any = image(&s, &path, Some("*/*")).await;
    assert_eq!(header(&any, "x-transform-type"), "image/jpeg", "the original's format");
    let decoded = image::load_from_memory_with_format(&follow(&s, &any).await, image::ImageFormat::Jpeg).unwrap();
    assert_eq!(decoded.width(), 320);

    // Served from the stored copy: no new render, no new object.
    let before = derived(&s, &folder(&media)).await;
    assert_eq!(before.len(), 3, "{before:?}");
    let again = image(&s, &path, Some("image/avif")).await;
    assert_eq!((again.status, header(&again, "x-transform")), (302, "stored"));
    let object = |r: &Reply| header(r, "location").split('?').next().unwrap_or("").to_string();
    assert_eq!(object(&again), object(&avif), "the same stored object");
    assert_eq!(derived(&s, &folder(&media)).await, before);
    assert_eq!(header(&again, "cache-control"), "private, max-age=60", "a presigned redirect is never shared");

    // Through the CDN (which adds its origin header), a public variant is a path it serves.
    let resp = s.http.get(format!("{}{path}", s.api)).header("accept", "image/avif").header("x-media-cdn", "1").send().await.unwrap();
    devtools::stack::seen("GET", &path, resp.status().as_u16());
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(location, format!("/{}", before.iter().find(|k| k.ends_with(".avif")).unwrap()));
    assert_eq!(resp.headers()["cache-control"], "public, max-age=86400");

    // Every parameter's bounds: a clear 400, and no variant.
    for bad in ["w=321", "w=0", "w=-1", "w=99999999999", "h=64&h=128", "w=64&fit=cover", "w=64&fit=stretch", "w=64&format=gif", "w=64&q=81", "w=64&blur=5", "fit=inside", ""] {
        let r = image(&s, &format!("/v1/media/{id}/image?{bad}"), None).await;
        assert_eq!((r.status, r.code()), (400, "invalid_transform"), "{bad}: {}", r.body);
    }
    assert_eq!(derived(&s, &folder(&media)).await, before);

    // A burst of random parameters creates at most the variants the allow-lists permit: exactly
    // one per distinct valid parameter set and output format.
    let choices: [&[Option<&str>]; 5] = [
        &[Some("64"), Some("128"), Some("100")],
        &[None, Some("64"), Some("65")],
        &[None, Some("cover"), Some("contain"), Some("bogus")],
        &[Some("webp"), Some("jpeg"), Some("gif")],
        &[None, Some("50"), Some("51")],
    ];
    let names = ["w", "h", "fit", "format", "q"];
    let mut seed = 0x2545_f491_u64;
    let mut queries = Vec::new();
    for _ in 0..500 {
        let pairs: Vec<(String, String)> = names
            .iter()
            .zip(choices.iter())
            .filter_map(|(n, opts)| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                opts[(seed % opts.len() as u64) as usize].map(|v| (n.to_string(), v.to_string()))
            })
            .collect();
        queries.push(pairs);
    }
    let mut expected = before.clone();
    let mut valid = 0;
    for pairs in &queries {
        if let Ok(spec) = TransformSpec::parse(pairs) {
            valid += 1;
            expected.insert(variant_key(&folder(&media), &spec, spec.output(None, ContentType::Jpeg, false), FocalPoint::CENTRE));
        }
    }
    let (mut ok, mut refused) = (0, 0);
    for chunk in queries.chunks(10) {
        let replies = burst(&s, id, chunk).await;
        for r in replies {
            match r.status {
                302 => ok += 1,
                400 => refused += 1,
                other => panic!("unexpected {other}: {}", r.body),
            }
        }
    }
    let stored = derived(&s, &folder(&media)).await;
    assert_eq!((ok, refused), (valid, 500 - valid), "every valid request served, every other refused");
    assert!(valid > 20 && expected.len() > before.len() + 5, "the burst exercises both sides: {valid} valid");
    assert_eq!(stored, expected, "one stored variant per distinct valid request");
    assert!(stored.len() <= before.len() + 3 * 3 * 3 * 2 * 2, "{}", stored.len());

    // Deleting the media deletes its variants.
    assert_eq!(s.call("DELETE", &format!("/v1/media/{id}"), Some(&t), None).await.status, 204);
    let until = Instant::now() + Duration::from_secs(30);
    while !derived(&s, &folder(&media)).await.is_empty() {
        assert!(Instant::now() < until, "derived objects outlived their media");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(image(&s, &path, None).await.status, 404);
}

/// A chunk of requests at once.
async fn burst(s: &Stack, id: &str, chunk: &[Vec<(String, String)>]) -> Vec<Reply> {
    let paths: Vec<String> = chunk
        .iter()
        .map(|pairs| {
            let q: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("/v1/media/{id}/image?{}", q.join("&"))
        })
        .collect();
    futures::future::join_all(paths.iter().map(|p| image(s, p, None))).await
}

#[tokio::test]
async fn a_private_image_needs_a_valid_unexpired_signature() {
    let s = Stack::connect().await;
    let owner = user("transform-private");
    let t = s.token(&owner, &[]);
    let media = ready(&s, &t, "image", images::png_rgba(640, 480), "image/png").await;
    let id = media["id"].as_str().unwrap();

    let r = image(&s, &format!("/v1/media/{id}/image?w=128"), None).await;
    assert_eq!((r.status, r.code()), (403, "signature_required"), "{}", r.body);

    let signed = s.call("GET", &format!("/v1/media/{id}/url?w=128&fit=inside"), Some(&t), None).await;
    assert_eq!(signed.status, 200, "{}", signed.body);
    let url = signed.body["url"].as_str().unwrap();
    assert!(signed.body["expires_at"].is_string());
    let path = url.strip_prefix(&s.api).expect("the URL points at the API");
    let r = image(&s, path, Some("*/*")).await;
    assert_eq!(header(&r, "x-transform-type"), "image/png", "{}", r.body);
    let png = image::load_from_memory_with_format(&follow(&s, &r).await, image::ImageFormat::Png).unwrap();
    assert_eq!((png.width(), png.height(), png.color().has_alpha()), (128, 96, true));
    assert!(header(&r, "location").contains("X-Amz-Signature"), "a private variant is read through a presigned GET");

    // Tampered parameters, signature or expiry, and an expired signature: 403.
    let (head, sig) = path.split_once("&sig=").unwrap();
    let flipped = match sig.strip_prefix('A') {
        Some(rest) => format!("B{rest}"),
        None => format!("A{}", &sig[1..]),
    };
    let tampered = [path.replace("w=128", "w=256"), format!("{head}&sig={flipped}"), path.replace("&exp=", "&exp=1"), head.to_string()];
    for p in &tampered {
        let r = image(&s, p, None).await;
        assert_eq!((r.status, r.code()), (403, "invalid_signature"), "{p}: {}", r.body);
    }
    let spec = TransformSpec::parse(&[("w".into(), "128".into())]).unwrap();
    let past = time::OffsetDateTime::now_utc().unix_timestamp() - 1;
    let sig = shared::domain::transform::sign(s.var("TRANSFORM_SECRET").as_bytes(), id, &spec, past).unwrap();
    let r = image(&s, &format!("/v1/media/{id}/image?w=128&exp={past}&sig={sig}"), None).await;
    assert_eq!((r.status, r.code()), (403, "expired_signature"), "{}", r.body);

    // Only those who may read the media get its URL; videos and pending media have none.
    let stranger = s.token(&user("stranger"), &[]);
    assert_eq!(s.call("GET", &format!("/v1/media/{id}/url?w=128"), Some(&stranger), None).await.status, 404);
    let r = s.call("GET", &format!("/v1/media/{id}/url?w=128&variant=w128"), Some(&t), None).await;
    assert_eq!((r.status, r.code()), (400, "invalid_request"));
    let slot = s.slot(&t, "post_image", "put", "p.jpg", "image/jpeg", 1000).await;
    let pending = slot["media_id"].as_str().unwrap();
    let r = image(&s, &format!("/v1/media/{pending}/image?w=64"), None).await;
    assert_eq!((r.status, r.code()), (409, "not_ready"), "{}", r.body);
    let r = image(&s, "/v1/media/00000000-0000-4000-8000-000000000000/image?w=64", None).await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    // A rejected upload (a PNG declared as JPEG) has no variants either.
    let png = images::png_rgba(64, 64);
    let slot = s.slot(&t, "post_image", "put", "r.jpg", "image/jpeg", png.len()).await;
    let (status, body) = s.put_slot(&slot, png).await;
    assert_eq!(status, 200, "{body}");
    let rejected = slot["media_id"].as_str().unwrap();
    let r = s.call("POST", &format!("/v1/media/{rejected}/complete"), Some(&t), None).await;
    assert_eq!(r.body["status"], "rejected", "{}", r.body);
    let r = image(&s, &format!("/v1/media/{rejected}/image?w=64"), None).await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "{}", r.body);
    // Presets are their explicit form: the same signed URL shape, the same stored variant.
    let r = s.call("GET", &format!("/v1/media/{id}/url?preset=avatar"), Some(&t), None).await;
    assert!(r.body["url"].as_str().unwrap().contains("w=256&h=256&fit=cover"), "{}", r.body);
}

/// 1200×600, blue, with a red 100×100 square in the top-left corner.
fn marked_png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(1200, 600, |x, y| if x < 100 && y < 100 { image::Rgb([220, 20, 20]) } else { image::Rgb([20, 40, 200]) });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn red_at(png: &[u8], x: u32, y: u32) -> bool {
    let img = image::load_from_memory(png).unwrap().into_rgb8();
    let p = img.get_pixel(x, y);
    p[0] > 150 && p[2] < 100
}

#[tokio::test]
async fn cover_crops_keep_the_owners_focal_point_in_frame() {
    let s = Stack::connect().await;
    let t = s.token(&user("transform-focal"), &[]);
    let media = ready(&s, &t, "post_image", marked_png(), "image/png").await;
    let id = media["id"].as_str().unwrap();
    assert_eq!(media["focal_point"], json!({"x": 0.5, "y": 0.5}), "the centre by default");
    let path = format!("/v1/media/{id}/image?w=256&h=256&fit=cover&format=png");

    let centred = follow(&s, &image(&s, &path, None).await).await;
    assert!(!red_at(&centred, 5, 5), "a centred square crop of a 2:1 image drops the marked corner");

    let r = s.call("PATCH", &format!("/v1/media/{id}"), Some(&t), Some(&json!({"focal_point": {"x": 0.0, "y": 0.0}}))).await;
    assert_eq!((r.status, &r.body["focal_point"]), (200, &json!({"x": 0.0, "y": 0.0})), "{}", r.body);
    let cornered = image(&s, &path, None).await;
    assert_eq!(header(&cornered, "x-transform"), "rendered", "a new focal point makes a new crop");
    let png = follow(&s, &cornered).await;
    let decoded = image::load_from_memory(&png).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (256, 256));
    assert!(red_at(&png, 5, 5) && !red_at(&png, 200, 200), "the marked corner stays in frame");

    for bad in [json!({"focal_point": {"x": 1.5, "y": 0}}), json!({"focal_point": {"x": 0.5}}), json!({"focal_point": "centre"})] {
        let r = s.call("PATCH", &format!("/v1/media/{id}"), Some(&t), Some(&bad)).await;
        assert_eq!((r.status, r.code()), (400, "invalid_request"), "{bad}: {}", r.body);
    }
    let r = s.call("PATCH", &format!("/v1/media/{id}"), Some(&t), Some(&json!({"focal_point": null}))).await;
    assert_eq!((r.status, &r.body["focal_point"]), (200, &json!({"x": 0.5, "y": 0.5})), "{}", r.body);
}

//! Upload slots against the real emulators: S3 itself must enforce what we sign.
//! Needs the local stack (`scripts/local up`); README's test command starts it.

use aws_credential_types::Credentials;
use devtools::images;
use devtools::stack::{user, Stack};
use serde_json::json;
use shared::domain::kinds::ContentType;
use shared::adapters::s3::presign::S3UploadSigner;
use shared::ports::UploadSigner;
use std::time::Duration;

const MIB: usize = 1024 * 1024;

#[tokio::test]
async fn health_answers_without_auth() {
    let s = Stack::connect().await;
    let r = s.call("GET", "/v1/health", None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], "ok");
}

#[tokio::test]
async fn jpeg_posted_with_the_form_lands_with_the_signed_content_type() {
    let s = Stack::connect().await;
    let t = s.token(&user("alice"), &[]);
    let jpeg = images::jpeg(640, 480);
    let slot = s.slot(&t, "post_image", "post", "holiday photo.jpg", "image/jpeg", jpeg.len()).await;
    assert_eq!(slot["method"], "POST");
    assert!(slot["key"].as_str().unwrap().starts_with("incoming/"), "uploads land under incoming/");
    assert!(!slot["key"].as_str().unwrap().contains("holiday"), "the filename is never part of the key");
    assert_eq!(slot["fields"]["key"], slot["key"]);
    assert_eq!(slot["fields"]["Content-Type"], "image/jpeg");
    assert_eq!(slot["expires_in"], 300);
    assert_eq!(slot["max_bytes"].as_u64(), Some(jpeg.len() as u64), "a POST slot binds the declared size");
    assert!(slot["public_url"].as_str().unwrap().contains("/public/post_image/"));
    let (status, body) = s.post_form(&slot, jpeg.clone(), "image/jpeg").await;
    assert!(status == 204 || status == 200 || status == 201, "S3 accepted the form: {status} {body}");
    // The bytes may already have been verified and moved by process-upload; the signed type is
    // what S3 recorded either way.
    let media_id = slot["media_id"].as_str().unwrap();
    let stored = match s.head(slot["key"].as_str().unwrap()).await {
        Some(h) => h,
        None => {
            let rec = s.record(media_id).await.expect("record");
            let key = rec.get("final_key").and_then(|v| v.as_s().ok()).cloned().expect("moved to its final key");
            s.head(&key).await.expect("final object")
        }
    };
    assert_eq!(stored.content_type(), Some("image/jpeg"));
}

#[tokio::test]
async fn incoming_uploads_are_not_publicly_readable() {
    let s = Stack::connect().await;
    let t = s.token(&user("alice"), &[]);
    let jpeg = images::jpeg(64, 64);
    let slot = s.slot(&t, "post_image", "put", "a.jpg", "image/jpeg", jpeg.len()).await;
    let url = format!("{}/{}/{}", s.var("S3_ENDPOINT"), s.bucket, slot["key"].as_str().unwrap());
    let anon = s.http.get(&url).send().await.unwrap().status().as_u16();
    assert!(anon == 403 || anon == 404, "anonymous read of incoming/ must fail, got {anon}");
    // The public URL serves nothing until the upload is verified.
    let public = s.http.get(slot["public_url"].as_str().unwrap()).send().await.unwrap().status().as_u16();
    assert!(public == 403 || public == 404, "public_url of an unverified upload must not serve, got {public}");
}

#[tokio::test]
async fn s3_refuses_a_post_one_byte_over_the_kinds_limit() {
    let s = Stack::connect().await;
    let t = s.token(&user("bob"), &[]);
    let slot = s.slot(&t, "avatar", "post", "big.jpg", "image/jpeg", 2 * MIB).await;
    assert_eq!(slot["max_bytes"], 2 * MIB);
    let mut big = images::jpeg(64, 64);
    big.resize(2 * MIB + 1, 0);
    let (status, body) = s.post_form(&slot, big, "image/jpeg").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("EntityTooLarge"), "{body}");
    assert!(s.head(slot["key"].as_str().unwrap()).await.is_none(), "nothing stored");
}

#[tokio::test]
async fn s3_refuses_a_post_with_another_content_type() {
    let s = Stack::connect().await;
    let t = s.token(&user("carol"), &[]);
    let png = images::png_rgba(32, 32);
    let slot = s.slot(&t, "post_image", "post", "a.jpg", "image/jpeg", png.len()).await;
    let (status, body) = s
        .post_form_with(&slot, png, "image/png", |k, v| if k == "Content-Type" { "image/png".into() } else { v.into() })
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(s.head(slot["key"].as_str().unwrap()).await.is_none());
}

#[tokio::test]
async fn s3_refuses_a_post_to_another_key() {
    let s = Stack::connect().await;
    let t = s.token(&user("carol"), &[]);
    let jpeg = images::jpeg(32, 32);
    let slot = s.slot(&t, "post_image", "post", "a.jpg", "image/jpeg", jpeg.len()).await;
    let (status, _) = s
        .post_form_with(&slot, jpeg, "image/jpeg", |k, v| if k == "key" { "public/post_image/evil.jpg".into() } else { v.into() })
        .await;
    assert_eq!(status, 403);
    assert!(s.head("public/post_image/evil.jpg").await.is_none());
}

#[tokio::test]
async fn s3_refuses_a_put_with_another_type_or_length() {
    let s = Stack::connect().await;
    let t = s.token(&user("dave"), &[]);
    let jpeg = images::jpeg(100, 80);
    let slot = s.slot(&t, "image", "put", "a.jpg", "image/jpeg", jpeg.len()).await;
    assert_eq!(slot["method"], "PUT");
    assert_eq!(slot["headers"]["content-type"], "image/jpeg");
    assert_eq!(slot["headers"]["content-length"], jpeg.len().to_string());
    assert_eq!(slot["public_url"], serde_json::Value::Null, "private kinds have no public URL");
    let url = slot["url"].as_str().unwrap();
    let (st, _) = s.put(url, jpeg.clone(), &[("content-type", "image/png".into())]).await;
    assert_eq!(st, 403, "another content type");
    let mut longer = jpeg.clone();
    longer.push(0);
    let (st, _) = s.put(url, longer, &[("content-type", "image/jpeg".into())]).await;
    assert_eq!(st, 403, "another length");
    let (st, body) = s.put_slot(&slot, jpeg).await;
    assert_eq!(st, 200, "the exact headers are accepted: {body}");
}

/// The same signer the function uses, with a start time in the past: the URLs are already
/// expired when used, so the test needs no sleep.
async fn expired_signer(s: &Stack) -> S3UploadSigner {
    let creds = Credentials::new(s.var("AWS_ACCESS_KEY_ID"), s.var("AWS_SECRET_ACCESS_KEY"), None, None, "test");
    S3UploadSigner::new(
        s.s3.clone(),
        aws_credential_types::provider::SharedCredentialsProvider::new(creds),
        s.var("AWS_REGION"),
        s.bucket.clone(),
        format!("{}/{}", s.var("S3_ENDPOINT"), s.bucket),
    )
}

#[tokio::test]
async fn expired_urls_are_refused_by_s3() {
    let s = Stack::connect().await;
    let signer = expired_signer(&s).await;
    let past = time::OffsetDateTime::now_utc() - Duration::from_secs(120);
    let jpeg = images::jpeg(16, 16);
    let key = format!("incoming/expiry-test-{}", uuid::Uuid::new_v4());

    let post = signer.presign_post(&key, ContentType::Jpeg, 1..=1000, past, Duration::from_secs(60)).await.unwrap();
    let slot = json!({"url": post.url, "fields": post.fields.into_iter().map(|(k, v)| (k, json!(v))).collect::<serde_json::Map<_, _>>()});
    let (status, body) = s.post_form(&slot, jpeg.clone(), "image/jpeg").await;
    assert_eq!(status, 403, "expired POST policy: {body}");

    let put = signer.presign_put(&key, ContentType::Jpeg, jpeg.len() as u64, past, Duration::from_secs(60)).await.unwrap();
    let (status, body) = s.put(&put.url, jpeg.clone(), &[("content-type", "image/jpeg".into())]).await;
    assert_eq!(status, 403, "expired PUT: {body}");
    assert!(s.head(&key).await.is_none());

    // Control: the same signer with a current start time works, so the 403s above are expiry.
    let now = time::OffsetDateTime::now_utc();
    let put = signer.presign_put(&key, ContentType::Jpeg, jpeg.len() as u64, now, Duration::from_secs(60)).await.unwrap();
    let (status, _) = s.put(&put.url, jpeg, &[("content-type", "image/jpeg".into())]).await;
    assert_eq!(status, 200);
    s.s3.delete_object().bucket(&s.bucket).key(&key).send().await.unwrap();
}

fn upload_body() -> serde_json::Value {
    json!({"kind": "post_image", "files": [{"filename": "a.jpg", "content_type": "image/jpeg", "size_bytes": 10}]})
}

#[tokio::test]
async fn bad_tokens_are_401() {
    let s = Stack::connect().await;
    let secret = s.var("JWT_HS256_SECRET");
    let (iss, aud) = (s.var("JWT_ISSUER"), s.var("JWT_AUDIENCE"));
    let now = devtools::token::now_secs();
    let claims = |over: serde_json::Value| {
        let mut c = json!({"sub": "mallory", "iss": iss, "aud": aud, "exp": now + 600, "nbf": now - 1});
        for (k, v) in over.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    let b64 = |v: &serde_json::Value| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let good = devtools::token::sign(&secret, &claims(json!({})));
    let mut tampered_sig = good.clone();
    tampered_sig.pop();
    tampered_sig.push(if good.ends_with('A') { 'B' } else { 'A' });
    let parts: Vec<&str> = good.split('.').collect();
    let cases = [
        ("no token", None),
        ("garbage", Some("not.a.token".to_string())),
        ("bad signature", Some(devtools::token::sign("another-secret-another-secret-xx", &claims(json!({}))))),
        ("tampered signature", Some(tampered_sig)),
        ("tampered payload", Some(format!("{}.{}.{}", parts[0], b64(&claims(json!({"sub": "admin"}))), parts[2]))),
        ("expired", Some(devtools::token::sign(&secret, &claims(json!({"exp": now - 120}))))),
        ("not yet valid", Some(devtools::token::sign(&secret, &claims(json!({"nbf": now + 600}))))),
        ("wrong audience", Some(devtools::token::sign(&secret, &claims(json!({"aud": "someone-else"}))))),
        ("wrong issuer", Some(devtools::token::sign(&secret, &claims(json!({"iss": "evil"}))))),
        ("missing sub", Some(devtools::token::sign(&secret, &json!({"iss": iss, "aud": aud, "exp": now + 600})))),
        ("alg none", Some(format!("{}.{}.", b64(&json!({"alg": "none", "typ": "JWT"})), b64(&claims(json!({})))))),
        ("alg HS512", Some({
            use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
            encode(&Header::new(Algorithm::HS512), &claims(json!({})), &EncodingKey::from_secret(secret.as_bytes())).unwrap()
        })),
    ];
    for (name, token) in cases {
        let r = s.call("POST", "/v1/uploads", token.as_deref(), Some(&upload_body())).await;
        assert_eq!(r.status, 401, "{name}: {}", r.body);
        assert_eq!(r.code(), "unauthorized", "{name}");
    }
    // Control: the good token passes auth.
    let r = s.call("POST", "/v1/uploads", Some(&good), Some(&upload_body())).await;
    assert_eq!(r.status, 201, "{}", r.body);
}

#[tokio::test]
async fn foreign_scope_is_403_and_member_scope_is_recorded() {
    let s = Stack::connect().await;
    let t = s.token(&user("erin"), &["org:acme"]);
    let mut body = upload_body();
    body["scope"] = json!("org:other");
    let r = s.call("POST", "/v1/uploads", Some(&t), Some(&body)).await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    body["scope"] = json!("org:acme");
    let r = s.call("POST", "/v1/uploads", Some(&t), Some(&body)).await;
    assert_eq!(r.status, 201);
    let rec = s.record(r.body["uploads"][0]["media_id"].as_str().unwrap()).await.expect("record");
    assert_eq!(rec["scope"].as_s().unwrap(), "org:acme");
}

#[tokio::test]
async fn each_invalid_request_has_its_code() {
    let s = Stack::connect().await;
    let t = s.token(&user("frank"), &[]);
    let file = |name: &str, ct: &str, size: i64| json!({"filename": name, "content_type": ct, "size_bytes": size});
    let cases = vec![
        ("unknown kind", json!({"kind": "movie", "files": [file("a.jpg", "image/jpeg", 10)]}), 400, "unknown_kind"),
        ("gif", json!({"kind": "avatar", "files": [file("a.gif", "image/gif", 10)]}), 400, "unsupported_content_type"),
        ("svg", json!({"kind": "avatar", "files": [file("a.svg", "image/svg+xml", 10)]}), 400, "unsupported_content_type"),
        ("too large", json!({"kind": "avatar", "files": [file("a.jpg", "image/jpeg", 2 * 1024 * 1024 + 1)]}), 413, "too_large"),
        ("zero size", json!({"kind": "avatar", "files": [file("a.jpg", "image/jpeg", 0)]}), 400, "invalid_request"),
        ("negative size", json!({"kind": "avatar", "files": [file("a.jpg", "image/jpeg", -5)]}), 400, "invalid_request"),
        ("empty filename", json!({"kind": "avatar", "files": [file("", "image/jpeg", 10)]}), 400, "invalid_request"),
        ("long filename", json!({"kind": "avatar", "files": [file(&"a".repeat(256), "image/jpeg", 10)]}), 400, "invalid_request"),
        ("control char", json!({"kind": "avatar", "files": [file("a\u{7}.jpg", "image/jpeg", 10)]}), 400, "invalid_request"),
        ("path traversal", json!({"kind": "avatar", "files": [file("../../etc/passwd", "image/jpeg", 10)]}), 400, "invalid_request"),
        ("no files", json!({"kind": "avatar", "files": []}), 400, "invalid_request"),
        ("unknown field", json!({"kind": "avatar", "owner": "root", "files": [file("a.jpg", "image/jpeg", 10)]}), 400, "invalid_request"),
        ("unknown file field", json!({"kind": "avatar", "files": [{"filename": "a.jpg", "content_type": "image/jpeg", "size_bytes": 1, "key": "x"}]}), 400, "invalid_request"),
        ("bad method", json!({"kind": "avatar", "method": "get", "files": [file("a.jpg", "image/jpeg", 10)]}), 400, "invalid_request"),
        ("missing kind", json!({"files": [file("a.jpg", "image/jpeg", 10)]}), 400, "invalid_request"),
    ];
    for (name, body, status, code) in cases {
        let r = s.call("POST", "/v1/uploads", Some(&t), Some(&body)).await;
        assert_eq!((r.status, r.code()), (status, code), "{name}: {}", r.body);
        assert!(r.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{name} has a message");
    }
    let r = s.raw_post("/v1/uploads", &t, b"{not json".to_vec()).await;
    assert_eq!((r.status, r.code()), (400, "invalid_request"));
    let mut huge = br#"{"kind":"avatar","files":[],"pad":""#.to_vec();
    huge.extend(std::iter::repeat_n(b'x', 70 * 1024));
    huge.extend_from_slice(b"\"}");
    let r = s.raw_post("/v1/uploads", &t, huge).await;
    assert_eq!((r.status, r.code()), (413, "body_too_large"));
}

#[tokio::test]
async fn a_batch_of_20_works_and_21_is_refused() {
    let s = Stack::connect().await;
    let t = s.token(&user("gina"), &[]);
    let files = |n: usize| -> Vec<serde_json::Value> {
        (0..n).map(|i| json!({"filename": format!("p{i}.png"), "content_type": "image/png", "size_bytes": 100 + i})).collect()
    };
    let r = s.call("POST", "/v1/uploads", Some(&t), Some(&json!({"kind": "image", "method": "put", "files": files(20)}))).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let uploads = r.body["uploads"].as_array().unwrap();
    assert_eq!(uploads.len(), 20);
    // In request order, each with its own record and key.
    for (i, u) in uploads.iter().enumerate() {
        assert_eq!(u["headers"]["content-length"], (100 + i).to_string());
        let rec = s.record(u["media_id"].as_str().unwrap()).await.expect("record");
        assert_eq!(rec["filename"].as_s().unwrap(), &format!("p{i}.png"));
    }
    let r = s.call("POST", "/v1/uploads", Some(&t), Some(&json!({"kind": "image", "files": files(21)}))).await;
    assert_eq!((r.status, r.code()), (400, "invalid_request"));
}

#[tokio::test]
async fn the_pending_record_is_written_before_the_url_is_returned() {
    let s = Stack::connect().await;
    let owner = user("hank");
    let t = s.token(&owner, &[]);
    let slot = s.slot(&t, "avatar", "post", "me.png", "image/png", 1234).await;
    let rec = s.record(slot["media_id"].as_str().unwrap()).await.expect("record exists");
    assert_eq!(rec["status"].as_s().unwrap(), "pending");
    assert_eq!(rec["owner"].as_s().unwrap(), &owner);
    assert_eq!(rec["kind"].as_s().unwrap(), "avatar");
    assert_eq!(rec["filename"].as_s().unwrap(), "me.png");
    assert_eq!(rec["declared_type"].as_s().unwrap(), "image/png");
    assert_eq!(rec["declared_size"].as_n().unwrap(), "1234");
    assert_eq!(rec["incoming_key"].as_s().unwrap(), slot["key"].as_str().unwrap());
    assert!(rec.contains_key("created_at") && rec.contains_key("updated_at"));
}

#[tokio::test]
async fn too_many_pending_uploads_is_429() {
    let s = Stack::connect().await;
    let owner = user("ivan");
    let t = s.token(&owner, &[]);
    let files: Vec<serde_json::Value> =
        (0..20).map(|i| json!({"filename": format!("{i}.png"), "content_type": "image/png", "size_bytes": 10})).collect();
    // Until the quota refuses. `Stack::call` re-sends a request the local emulator answered with
    // its own 500, and now and then the function had in fact run it: so the table, not the count
    // of 201s, says how many are pending when the 429 comes.
    let mut refused = None;
    for _ in 0..11 {
        let r = s.call("POST", "/v1/uploads", Some(&t), Some(&json!({"kind": "image", "files": files}))).await;
        if r.status != 201 {
            refused = Some(r);
            break;
        }
    }
    let r = refused.expect("the quota refuses by the 11th batch of 20");
    assert_eq!((r.status, r.code()), (429, "too_many_pending"), "{}", r.body);
    let pending = s
        .dynamodb
        .query()
        .table_name(&s.table)
        .index_name(shared::adapters::dynamodb::schema::PENDING_BY_OWNER)
        .key_condition_expression("pending_owner = :o")
        .expression_attribute_values(":o", aws_sdk_dynamodb::types::AttributeValue::S(owner))
        .select(aws_sdk_dynamodb::types::Select::Count)
        .send()
        .await
        .expect("count pending");
    assert_eq!(pending.count(), 200, "exactly the quota is pending");
    let r = s.call("POST", "/v1/uploads", Some(&t), Some(&upload_body())).await;
    assert_eq!((r.status, r.code()), (429, "too_many_pending"), "{}", r.body);
}

#[tokio::test]
async fn compatibility_route_works_end_to_end() {
    let s = Stack::connect().await;
    let t = s.token(&user("judy"), &["org:acme"]);
    let path = "/api/v1/organizations/acme/temp-image-upload";
    let r = s.call("POST", path, Some(&t), Some(&json!({"content_type": "image/png", "filename": "logo.png"}))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut keys: Vec<&str> = r.body.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["fields", "public_url", "s3_key", "url"], "exactly these fields");
    assert!(r.body["public_url"].as_str().unwrap().contains("/public/temp_image/"));
    let media_id = r.body["s3_key"].as_str().unwrap().trim_start_matches("incoming/").to_string();
    let rec = s.record(&media_id).await.expect("record");
    assert_eq!(rec["kind"].as_s().unwrap(), "temp_image");
    assert_eq!(rec["scope"].as_s().unwrap(), "org:acme");
    let png = images::png_rgba(40, 30);
    let (status, body) = s.post_form(&r.body, png, "image/png").await;
    assert!((200..300).contains(&status), "{status} {body}");

    let r = s.call("POST", path, Some(&t), Some(&json!({"content_type": "text/html", "filename": "x.html"}))).await;
    assert_eq!(r.status, 400);
    let r = s.call("POST", path, Some(&t), Some(&json!({"content_type": "image/png", "filename": "a/../b.png"}))).await;
    assert_eq!(r.status, 400);
    let r = s.call("POST", path, None, Some(&json!({"content_type": "image/png", "filename": "a.png"}))).await;
    assert_eq!(r.status, 401);
    let r = s.call("POST", "/api/v1/organizations/other/temp-image-upload", Some(&t), Some(&json!({"content_type": "image/png", "filename": "a.png"}))).await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
}

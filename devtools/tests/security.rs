//! The security table as tests: other users' media, scope escalation, JWT attacks, hostile
//! strings, oversized bodies, unverified bytes, tampered URLs, and no secrets in logs.

use base64::Engine;
use devtools::images;
use devtools::stack::{user, Stack};
use serde_json::{json, Value};

fn b64(v: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

#[tokio::test]
async fn jwt_algorithm_confusion_is_refused() {
    let s = Stack::connect().await;
    let now = devtools::token::now_secs();
    let claims = json!({"sub": "mallory", "iss": s.var("JWT_ISSUER"), "aud": s.var("JWT_AUDIENCE"), "exp": now + 600});
    let secret = s.var("JWT_HS256_SECRET");
    // RS256 / ES256 headers carrying an HMAC made with the shared secret (the classic
    // key-confusion attack), and "none" in several spellings.
    let mut tokens = Vec::new();
    for alg in ["RS256", "ES256", "PS256", "none", "None", "NONE", "HS384"] {
        let head = b64(&json!({"alg": alg, "typ": "JWT"}));
        let body = b64(&claims);
        use hmac_sig::sign;
        tokens.push((alg, format!("{head}.{body}.{}", sign(&secret, &format!("{head}.{body}")))));
        tokens.push((alg, format!("{head}.{body}.")));
    }
    for (alg, t) in tokens {
        let r = s.call("GET", "/v1/media", Some(&t), None).await;
        assert_eq!((r.status, r.code()), (401, "unauthorized"), "alg {alg}");
    }
}

mod hmac_sig {
    use base64::Engine;
    use sha2::Sha256;
    pub fn sign(secret: &str, input: &str) -> String {
        // HMAC-SHA256 by hand so the test does not depend on the library under test.
        let mut key = secret.as_bytes().to_vec();
        key.resize(64, 0);
        let ipad: Vec<u8> = key.iter().map(|b| b ^ 0x36).collect();
        let opad: Vec<u8> = key.iter().map(|b| b ^ 0x5c).collect();
        use sha2::Digest;
        let inner = Sha256::digest([ipad.as_slice(), input.as_bytes()].concat());
        let outer = Sha256::digest([opad.as_slice(), &inner[..]].concat());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(outer)
    }
}

#[tokio::test]
async fn hostile_strings_are_400_and_never_reach_a_key() {
    let s = Stack::connect().await;
    let t = s.token(&user("hostile"), &[]);
    let megabyte = "a".repeat(1024 * 1024);
    for name in ["../../../../etc/passwd", "..\\..\\win.ini", "a/../../b.jpg", "x\u{0}.jpg", "x\r\nSet-Cookie: a=b", "\u{1b}[31mred.jpg", megabyte.as_str()] {
        let body = json!({"kind": "avatar", "files": [{"filename": name, "content_type": "image/jpeg", "size_bytes": 10}]});
        let r = s.call("POST", "/v1/uploads", Some(&t), Some(&body)).await;
        assert!(r.status == 400 || r.status == 413, "{:?}: {}", &name[..name.len().min(30)], r.status);
        assert!(matches!(r.code(), "invalid_request" | "body_too_large"));
    }
    // Accepted odd names are metadata only: the key is built from the media id.
    let slot = s.slot(&t, "avatar", "post", "évil 'name' <script>.jpg", "image/jpeg", 10).await;
    let key = slot["key"].as_str().unwrap();
    assert_eq!(key, format!("incoming/{}", slot["media_id"].as_str().unwrap()));
    // Hostile scope and ref strings.
    for scope in ["org:a/../b", "org:a\nb", &"s".repeat(129)] {
        let body = json!({"kind": "avatar", "scope": scope, "files": [{"filename": "a.jpg", "content_type": "image/jpeg", "size_bytes": 10}]});
        let r = s.call("POST", "/v1/uploads", Some(&t), Some(&body)).await;
        assert_eq!(r.status, 400, "{scope:?}");
    }
}

#[tokio::test]
async fn oversized_bodies_are_413_on_every_json_route() {
    let s = Stack::connect().await;
    let t = s.token(&user("big"), &[]);
    let id = uuid::Uuid::new_v4();
    let pad = "x".repeat(65 * 1024);
    for (method, path) in [
        ("POST", "/v1/uploads".to_string()),
        ("POST", "/api/v1/organizations/acme/temp-image-upload".to_string()),
        ("POST", "/v1/media/complete".to_string()),
        ("PATCH", format!("/v1/media/{id}")),
        ("POST", format!("/v1/media/{id}/attach")),
    ] {
        let r = s.call(method, &path, Some(&t), Some(&json!({"pad": pad}))).await;
        assert_eq!((r.status, r.code()), (413, "body_too_large"), "{method} {path}");
    }
}

#[tokio::test]
async fn scope_escalation_is_403() {
    let s = Stack::connect().await;
    let t = s.token(&user("esc"), &["org:mine"]);
    for scope in ["org:theirs", "org:mine2", "org:Mine", "org:*", "*"] {
        let r = s.call("GET", &format!("/v1/media?scope={}", scope.replace('*', "%2A")), Some(&t), None).await;
        assert!(r.status == 403 || r.status == 400, "list {scope}: {}", r.status);
        let body = json!({"kind": "avatar", "scope": scope, "files": [{"filename": "a.jpg", "content_type": "image/jpeg", "size_bytes": 10}]});
        let r = s.call("POST", "/v1/uploads", Some(&t), Some(&body)).await;
        assert!(r.status == 403 || r.status == 400, "upload {scope}: {}", r.status);
    }
    let r = s.call("POST", "/api/v1/organizations/theirs/temp-image-upload", Some(&t), Some(&json!({"content_type": "image/png", "filename": "a.png"}))).await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn unverified_bytes_are_never_served_publicly() {
    let s = Stack::connect().await;
    let t = s.token(&user("unv"), &[]);
    // A valid upload that is not yet processed, and a bad one that gets rejected.
    let html = b"<html><script>steal()</script></html>".to_vec();
    let slot = s.slot(&t, "post_image", "post", "x.jpg", "image/jpeg", html.len()).await;
    let (st, _) = s.post_form(&slot, html, "image/jpeg").await;
    assert!((200..300).contains(&st));
    let m = s.wait_media(&t, slot["media_id"].as_str().unwrap(), std::time::Duration::from_secs(20), |m| m["status"] != "pending").await;
    assert_eq!(m["status"], "rejected");
    let public = s.http.get(slot["public_url"].as_str().unwrap()).send().await.unwrap().status().as_u16();
    assert!(public == 403 || public == 404, "public_url of a rejected upload serves nothing: {public}");
    // And nothing under incoming/ or private/ is readable anonymously, ever.
    let jpeg = images::jpeg(100, 100);
    let slot = s.slot(&t, "image", "put", "p.jpg", "image/jpeg", jpeg.len()).await;
    assert_eq!(s.put_slot(&slot, jpeg).await.0, 200);
    let anon = s.http.get(format!("{}/{}/{}", s.var("S3_ENDPOINT"), s.bucket, slot["key"].as_str().unwrap())).send().await.unwrap().status().as_u16();
    assert!(anon == 403 || anon == 404, "{anon}");
}

#[tokio::test]
async fn presigned_urls_and_tokens_never_appear_in_logs() {
    let s = Stack::connect().await;
    let t = s.token(&user("logs"), &["org:logs"]);
    // Exercise every kind of secret the functions handle.
    let jpeg = images::jpeg(300, 200);
    let slot = s.slot(&t, "image", "put", "l.jpg", "image/jpeg", jpeg.len()).await;
    assert_eq!(s.put_slot(&slot, jpeg).await.0, 200);
    let id = slot["media_id"].as_str().unwrap();
    let m = s.call("POST", &format!("/v1/media/{id}/complete"), Some(&t), None).await;
    assert_eq!(m.status, 200);
    let _ = s.call("GET", &format!("/v1/media/{id}/url?download=true"), Some(&t), None).await;
    let _ = s.call("GET", "/v1/media?limit=1", Some(&t), None).await;
    let _ = s.call("GET", "/v1/media", Some("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."), None).await;
    let post = s.slot(&t, "avatar", "post", "p.png", "image/png", 10).await;
    let log = std::fs::read_to_string(devtools::env::repo_root().join(".local/run/api.log")).expect("function log");
    assert!(log.contains(&format!("\"media_id\":\"{id}\"")) || log.contains(id), "the log is the functions' log");
    let secrets = [
        t.as_str(),
        slot["url"].as_str().unwrap(),
        post["fields"]["x-amz-signature"].as_str().unwrap(),
        post["fields"]["policy"].as_str().unwrap(),
        "X-Amz-Signature=",
        "eyJhbGciOi",
    ];
    for secret in secrets {
        assert!(!log.contains(secret), "a secret reached the log: {}…", &secret[..secret.len().min(24)]);
    }
    assert!(!log.contains(&s.var("JWT_HS256_SECRET")));
    assert!(!log.contains(&s.var("AWS_SECRET_ACCESS_KEY")));
}

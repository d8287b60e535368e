//! The media API over real HTTP against the emulators: authorisation on every route, listing,
//! signed URLs, downloads, edits, attach rules and deletes.

use devtools::images;
use devtools::stack::{user, Stack};
use serde_json::{json, Value};
use std::time::Duration;

/// A ready media made through the real flow (PUT to S3, then complete).
async fn ready_media(s: &Stack, token: &str, kind: &str, scope: Option<&str>, filename: &str) -> Value {
    let bytes = images::jpeg(640, 480);
    let mut body = json!({"kind": kind, "method": "put", "files": [{"filename": filename, "content_type": "image/jpeg", "size_bytes": bytes.len()}]});
    if let Some(sc) = scope {
        body["scope"] = json!(sc);
    }
    let r = s.call("POST", "/v1/uploads", Some(token), Some(&body)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let slot = r.body["uploads"][0].clone();
    assert_eq!(s.put_slot(&slot, bytes).await.0, 200);
    let r = s.call("POST", &format!("/v1/media/{}/complete", slot["media_id"].as_str().unwrap()), Some(token), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "ready");
    r.body
}

async fn pending_media(s: &Stack, token: &str, kind: &str) -> String {
    s.slot(token, kind, "post", "p.jpg", "image/jpeg", 100).await["media_id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn owner_member_and_stranger_on_every_route() {
    let s = Stack::connect().await;
    let scope = format!("org:{}", uuid::Uuid::new_v4().simple());
    let owner = s.token(&user("own"), &[&scope]);
    let member = s.token(&user("mem"), &[&scope]);
    let stranger = s.token(&user("str"), &["org:elsewhere"]);
    let m = ready_media(&s, &owner, "image", Some(&scope), "a.jpg").await;
    let id = m["id"].as_str().unwrap();
    let reads = [
        ("GET", format!("/v1/media/{id}"), None),
        ("GET", format!("/v1/media/{id}/url"), None),
        ("GET", format!("/v1/media/{id}/url?variant=128&download=true"), None),
        ("GET", format!("/v1/media/{id}/content"), None),
    ];
    let writes = [
        ("PATCH", format!("/v1/media/{id}"), Some(json!({"title": "x"}))),
        ("POST", format!("/v1/media/{id}/attach"), Some(json!({"ref": "post:1"}))),
        ("DELETE", format!("/v1/media/{id}/attach"), None),
        ("POST", format!("/v1/media/{id}/complete"), None),
        ("DELETE", format!("/v1/media/{id}"), None),
    ];
    for (method, path, body) in reads.iter() {
        let r = s.call(method, path, Some(&member), body.as_ref()).await;
        assert!(r.status == 200 || r.status == 302, "member reads {method} {path}: {} {}", r.status, r.body);
        let r = s.call(method, path, Some(&stranger), body.as_ref()).await;
        assert_eq!((r.status, r.code()), (404, "not_found"), "stranger {method} {path}");
        let r = s.call(method, path, None, body.as_ref()).await;
        assert_eq!(r.status, 401, "anonymous {method} {path}");
    }
    for (method, path, body) in writes.iter() {
        for (who, t) in [("member", &member), ("stranger", &stranger)] {
            let r = s.call(method, path, Some(t), body.as_ref()).await;
            assert_eq!((r.status, r.code()), (404, "not_found"), "{who} {method} {path}: {}", r.body);
        }
    }
    // Scope listing: members yes, others 403.
    let r = s.call("GET", &format!("/v1/media?scope={scope}"), Some(&member), None).await;
    assert_eq!(r.status, 200);
    assert!(r.body["items"].as_array().unwrap().iter().any(|i| i["id"] == id));
    let r = s.call("GET", &format!("/v1/media?scope={scope}"), Some(&stranger), None).await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    // The stranger's own list does not show it.
    let r = s.call("GET", "/v1/media", Some(&stranger), None).await;
    assert!(!r.body["items"].as_array().unwrap().iter().any(|i| i["id"] == id));
    // And the owner can do everything.
    for (method, path, body) in writes.iter().filter(|(m, p, _)| !(*m == "POST" && p.ends_with("complete"))) {
        let r = s.call(method, path, Some(&owner), body.as_ref()).await;
        assert!(r.status == 200 || r.status == 204, "owner {method} {path}: {} {}", r.status, r.body);
    }
}

#[tokio::test]
async fn pagination_is_newest_first_without_gaps_or_duplicates() {
    let s = Stack::connect().await;
    let t = s.token(&user("pager"), &[]);
    let mut created = Vec::new();
    for _ in 0..7 {
        created.push(pending_media(&s, &t, "post_image").await);
    }
    created.reverse();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/media?limit=3&cursor={c}"),
            None => "/v1/media?limit=3".to_string(),
        };
        let r = s.call("GET", &path, Some(&t), None).await;
        assert_eq!(r.status, 200, "{}", r.body);
        pages += 1;
        let items = r.body["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        seen.extend(items.iter().map(|i| i["id"].as_str().unwrap().to_string()));
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
        assert!(pages < 10, "pagination terminates");
    }
    assert_eq!(seen, created, "every item once, newest first");
    assert_eq!(pages, 3);
}

#[tokio::test]
async fn tampered_and_foreign_cursors_are_refused() {
    let s = Stack::connect().await;
    let t = s.token(&user("cur"), &[]);
    for _ in 0..3 {
        pending_media(&s, &t, "avatar").await;
    }
    let r = s.call("GET", "/v1/media?limit=1", Some(&t), None).await;
    let cursor = r.body["next_cursor"].as_str().unwrap().to_string();
    // An empty cursor is the first page (a shell loop starts with `cursor=$NEXT`, NEXT empty).
    let empty = s.call("GET", "/v1/media?limit=1&cursor=", Some(&t), None).await;
    assert_eq!((empty.status, &empty.body["items"]), (200, &r.body["items"]), "{}", empty.body);
    let mut tampered = cursor.clone();
    let flip = if tampered.starts_with('e') { "f" } else { "e" };
    tampered.replace_range(0..1, flip);
    for bad in [tampered.as_str(), "junk", "a.b"] {
        let r = s.call("GET", &format!("/v1/media?limit=1&cursor={bad}"), Some(&t), None).await;
        assert_eq!((r.status, r.code()), (400, "invalid_cursor"), "{bad}");
    }
    let other = s.token(&user("cur2"), &[]);
    let r = s.call("GET", &format!("/v1/media?limit=1&cursor={cursor}"), Some(&other), None).await;
    assert_eq!((r.status, r.code()), (400, "invalid_cursor"), "another user's cursor");
    let r = s.call("GET", &format!("/v1/media?limit=1&status=ready&cursor={cursor}"), Some(&t), None).await;
    assert_eq!((r.status, r.code()), (400, "invalid_cursor"), "a cursor of another filter");
}

#[tokio::test]
async fn list_filters_and_limits() {
    let s = Stack::connect().await;
    let t = s.token(&user("filt"), &[]);
    let ready = ready_media(&s, &t, "image", None, "r.jpg").await;
    let pending = pending_media(&s, &t, "avatar").await;
    let r = s.call("GET", "/v1/media?status=ready", Some(&t), None).await;
    let ids: Vec<&str> = r.body["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [ready["id"].as_str().unwrap()]);
    let item = &r.body["items"][0];
    assert!(item["url"].as_str().unwrap().contains("X-Amz-Signature"), "URLs come with the list");
    assert!(item["variants"]["128"]["url"].is_string());
    let r = s.call("GET", "/v1/media?kind=avatar", Some(&t), None).await;
    let ids: Vec<&str> = r.body["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [pending.as_str()]);
    for bad in ["limit=0", "limit=101", "limit=x", "status=deleting", "kind=movie"] {
        let r = s.call("GET", &format!("/v1/media?{bad}"), Some(&t), None).await;
        assert_eq!(r.status, 400, "{bad}");
    }
}

#[tokio::test]
async fn private_urls_work_and_the_bare_key_is_refused() {
    let s = Stack::connect().await;
    let t = s.token(&user("priv"), &[]);
    let m = ready_media(&s, &t, "image", None, "secret.jpg").await;
    let url = m["url"].as_str().unwrap();
    assert!(url.contains("/private/image/"), "{url}");
    let ok = s.http.get(url).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    let bare = url.split('?').next().unwrap();
    assert_eq!(s.http.get(bare).send().await.unwrap().status(), 403, "no signature, no bytes");
    // A tampered signature is refused too.
    let tampered = url.replace("X-Amz-Signature=", "X-Amz-Signature=0");
    assert_eq!(s.http.get(&tampered).send().await.unwrap().status(), 403);

    let r = s.call("GET", &format!("/v1/media/{}/url?expires_in=600", m["id"].as_str().unwrap()), Some(&t), None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["expires_in"], 600);
    assert!(r.body["expires_at"].is_string());
    for bad in ["expires_in=59", "expires_in=3601", "expires_in=abc", "download=maybe"] {
        let r = s.call("GET", &format!("/v1/media/{}/url?{bad}", m["id"].as_str().unwrap()), Some(&t), None).await;
        assert_eq!((r.status, r.code()), (400, "invalid_request"), "{bad}");
    }
    let r = s.call("GET", &format!("/v1/media/{}/url?variant=1024", m["id"].as_str().unwrap()), Some(&t), None).await;
    assert_eq!(r.status, 404, "640px image has no 1024 variant");
    let r = s.call("GET", &format!("/v1/media/{}/content?variant=128", m["id"].as_str().unwrap()), Some(&t), None).await;
    assert_eq!(r.status, 302);
    let location = r.headers["location"].to_str().unwrap();
    let img = s.http.get(location).send().await.unwrap();
    assert_eq!(img.status(), 200);
    assert_eq!(img.headers()["content-type"], "image/webp");
}

#[tokio::test]
async fn public_kinds_answer_the_public_url_unless_downloading() {
    let s = Stack::connect().await;
    let t = s.token(&user("pub"), &[]);
    let m = ready_media(&s, &t, "post_image", None, "p.jpg").await;
    let id = m["id"].as_str().unwrap();
    let r = s.call("GET", &format!("/v1/media/{id}/url"), Some(&t), None).await;
    assert_eq!(r.body["expires_in"], Value::Null);
    assert!(!r.body["url"].as_str().unwrap().contains("X-Amz-Signature"));
    assert_eq!(s.http.get(r.body["url"].as_str().unwrap()).send().await.unwrap().status(), 200);
    let r = s.call("GET", &format!("/v1/media/{id}/url?download=true"), Some(&t), None).await;
    assert!(r.body["url"].as_str().unwrap().contains("X-Amz-Signature"));
}

#[tokio::test]
async fn download_sets_a_safe_content_disposition_for_any_filename() {
    let s = Stack::connect().await;
    let t = s.token(&user("dl"), &[]);
    let name = "my \"summer\" photo – café 😀.jpg";
    let m = ready_media(&s, &t, "image", None, name).await;
    let r = s.call("GET", &format!("/v1/media/{}/url?download=true", m["id"].as_str().unwrap()), Some(&t), None).await;
    assert_eq!(r.status, 200);
    let resp = s.http.get(r.body["url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let cd = resp.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(cd.starts_with("attachment; filename=\"my _summer_ photo _ caf_ _.jpg\""), "{cd}");
    assert!(cd.contains("filename*=UTF-8''my%20%22summer%22%20photo%20%E2%80%93%20caf%C3%A9%20%F0%9F%98%80.jpg"), "{cd}");
}

#[tokio::test]
async fn patch_enforces_limits_and_refuses_other_fields() {
    let s = Stack::connect().await;
    let t = s.token(&user("edit"), &[]);
    let m = ready_media(&s, &t, "image", None, "e.jpg").await;
    let path = format!("/v1/media/{}", m["id"].as_str().unwrap());
    let r = s.call("PATCH", &path, Some(&t), Some(&json!({"title": "Beach", "description": "Day one", "tags": ["sea", "sun"]}))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((r.body["title"].as_str(), r.body["tags"][1].as_str()), (Some("Beach"), Some("sun")));
    let r = s.call("PATCH", &path, Some(&t), Some(&json!({"title": null}))).await;
    assert_eq!(r.body["title"], Value::Null, "null clears");
    assert_eq!(r.body["description"], "Day one", "other fields untouched");
    let too_many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
    let cases = [
        json!({"title": "x".repeat(201)}),
        json!({"description": "x".repeat(2001)}),
        json!({"tags": too_many}),
        json!({"tags": [""]}),
        json!({"tags": ["x".repeat(51)]}),
        json!({"status": "ready"}),
        json!({"width": 1}),
        json!({"size_bytes": 1}),
        json!({"owner": "me"}),
        json!({}),
    ];
    for body in cases {
        let r = s.call("PATCH", &path, Some(&t), Some(&body)).await;
        assert_eq!((r.status, r.code()), (400, "invalid_request"), "{body}");
    }
    let r = s.call("PATCH", &path, Some(&t), Some(&json!({"title": "x".repeat(200), "tags": vec!["y".repeat(50); 20]}))).await;
    assert_eq!(r.status, 200, "limits are inclusive");
}

#[tokio::test]
async fn attach_rules() {
    let s = Stack::connect().await;
    let t = s.token(&user("att"), &[]);
    let pending = pending_media(&s, &t, "avatar").await;
    let r = s.call("POST", &format!("/v1/media/{pending}/attach"), Some(&t), Some(&json!({"ref": "user:1"}))).await;
    assert_eq!((r.status, r.code()), (409, "not_ready"));
    let m = ready_media(&s, &t, "post_image", None, "a.jpg").await;
    let path = format!("/v1/media/{}/attach", m["id"].as_str().unwrap());
    let r = s.call("POST", &path, Some(&t), Some(&json!({"ref": "post:42", "expect_kind": "avatar"}))).await;
    assert_eq!((r.status, r.code()), (409, "wrong_kind"));
    let r = s.call("POST", &path, Some(&t), Some(&json!({"ref": "post:42", "expect_kind": "post_image"}))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["attached_to"], "post:42");
    let r = s.call("POST", &path, Some(&t), Some(&json!({"ref": "post:42"}))).await;
    assert_eq!(r.status, 200, "same ref again is idempotent");
    let r = s.call("POST", &path, Some(&t), Some(&json!({"ref": "post:43"}))).await;
    assert_eq!((r.status, r.code()), (409, "already_attached"));
    let other = s.token(&user("att2"), &[]);
    let r = s.call("POST", &path, Some(&other), Some(&json!({"ref": "post:1"}))).await;
    assert_eq!((r.status, r.code()), (404, "not_found"), "another user's media");
    for bad in [json!({}), json!({"ref": ""}), json!({"ref": "x".repeat(201)}), json!({"ref": "a", "extra": 1})] {
        let r = s.call("POST", &path, Some(&t), Some(&bad)).await;
        assert_eq!((r.status, r.code()), (400, "invalid_request"), "{bad}");
    }
    let r = s.call("DELETE", &path, Some(&t), None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["attached_to"], Value::Null);
    let r = s.call("POST", &path, Some(&t), Some(&json!({"ref": "post:43"}))).await;
    assert_eq!(r.status, 200, "after detaching, another ref may attach");
}

#[tokio::test]
async fn delete_removes_every_object_and_a_second_delete_is_404() {
    let s = Stack::connect().await;
    let t = s.token(&user("del"), &[]);
    let m = ready_media(&s, &t, "post_image", None, "d.jpg").await;
    let id = m["id"].as_str().unwrap();
    let rec = s.record(id).await.unwrap();
    let mut keys = vec![rec["final_key"].as_s().unwrap().clone()];
    for v in rec["variants"].as_m().unwrap().values() {
        keys.push(v.as_m().unwrap()["key"].as_s().unwrap().clone());
    }
    assert_eq!(keys.len(), 3, "original, 128 and 512");
    for k in &keys {
        assert!(s.head(k).await.is_some(), "{k} exists before");
    }
    let r = s.call("DELETE", &format!("/v1/media/{id}"), Some(&t), None).await;
    assert_eq!(r.status, 204);
    for k in &keys {
        assert!(s.wait_absent(k, Duration::from_secs(15)).await, "{k} deleted");
    }
    assert!(s.record(id).await.is_none(), "record deleted");
    let r = s.call("DELETE", &format!("/v1/media/{id}"), Some(&t), None).await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    let r = s.call("GET", &format!("/v1/media/{id}"), Some(&t), None).await;
    assert_eq!(r.status, 404);
    // A pending media can be deleted too.
    let p = pending_media(&s, &t, "avatar").await;
    assert_eq!(s.call("DELETE", &format!("/v1/media/{p}"), Some(&t), None).await.status, 204);
    assert!(s.record(&p).await.is_none());
}

#[tokio::test]
async fn unknown_routes_and_methods_are_json_errors() {
    let s = Stack::connect().await;
    let t = s.token(&user("rt"), &[]);
    let id = uuid::Uuid::new_v4();
    for (method, path, allow) in [
        ("PUT", "/v1/media".to_string(), "GET"),
        ("POST", format!("/v1/media/{id}"), "GET, PATCH, DELETE"),
        ("GET", format!("/v1/media/{id}/attach"), "POST, DELETE"),
        ("DELETE", format!("/v1/media/{id}/url"), "GET"),
        ("GET", "/v1/uploads".to_string(), "POST"),
        ("TRACE", "/v1/health".to_string(), "GET"),
        ("GET", format!("/v1/media/{id}/complete"), "POST"),
    ] {
        let r = s.call(method, &path, Some(&t), None).await;
        assert_eq!((r.status, r.code()), (405, "method_not_allowed"), "{method} {path}");
        assert_eq!(r.headers.get("allow").and_then(|v| v.to_str().ok()), Some(allow), "{method} {path}");
    }
    let r = s.call("GET", "/v1/media/not-a-uuid", Some(&t), None).await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
}

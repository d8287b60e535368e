//! A handle on the running local stack for the end-to-end tests: real HTTP to the API, real S3
//! and DynamoDB clients against the emulators.

use crate::token;
use aws_config::BehaviorVersion;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};

pub struct Stack {
    pub env: HashMap<String, String>,
    pub http: reqwest::Client,
    pub s3: aws_sdk_s3::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub api: String,
    pub bucket: String,
    pub table: String,
}

pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl Stack {
    /// Connects to the stack `scripts/local up` started (reads `.local/env`).
    pub async fn connect() -> Self {
        let env = crate::env::load();
        let get = |k: &str| env.get(k).cloned().unwrap_or_else(|| panic!("{k} missing from .local/env: run scripts/local up"));
        let creds = aws_credential_types::Credentials::new(get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY"), None, None, "local");
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .region(aws_config::Region::new(get("AWS_REGION")))
            .credentials_provider(creds)
            .load()
            .await;
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&sdk).endpoint_url(get("S3_ENDPOINT")).force_path_style(true).build(),
        );
        let dynamodb = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&sdk).endpoint_url(get("DYNAMODB_ENDPOINT")).build(),
        );
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(120))
            .build()
            .expect("http client");
        Self { api: get("API_URL"), bucket: get("S3_BUCKET"), table: get("TABLE_NAME"), env, http, s3, dynamodb }
    }

    pub fn var(&self, k: &str) -> String {
        self.env.get(k).cloned().unwrap_or_default()
    }

    /// A valid token for a fresh user id (so tests never share pending counts).
    pub fn token(&self, sub: &str, scopes: &[&str]) -> String {
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        token::mint(&self.var("JWT_HS256_SECRET"), &self.var("JWT_ISSUER"), &self.var("JWT_AUDIENCE"), sub, &scopes, 600)
    }

    pub async fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> Reply {
        // `cargo lambda watch` now and then answers a request itself with a problem+json 500
        // (`{"status":500,"title":...}`) without invoking the function (no log line from it).
        // That emulator fault is retried; our own errors always carry `{"error":...}` and are not.
        let mut reply = self.call_once(method, path, token, body).await;
        for _ in 0..2 {
            if !(reply.status == 500 && reply.body.get("title").is_some() && reply.body.get("error").is_none()) {
                break;
            }
            eprintln!("cargo lambda watch answered {method} {path} with its own 500; retrying");
            reply = self.call_once(method, path, token, body).await;
        }
        // The answer the test got, not the emulator's own fault it retried past.
        seen(method, path, reply.status);
        reply
    }

    async fn call_once(&self, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> Reply {
        let url = format!("{}{}", self.api, path);
        let mut req = self.http.request(method.parse().expect("method"), url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        let resp = req.send().await.expect("API request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply { status, body, headers }
    }

    pub async fn raw_post(&self, path: &str, token: &str, body: Vec<u8>) -> Reply {
        let resp = self
            .http
            .post(format!("{}{}", self.api, path))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("API request");
        let status = resp.status().as_u16();
        seen("POST", path, status);
        let headers = resp.headers().clone();
        let body = resp.json().await.unwrap_or(Value::Null);
        Reply { status, body, headers }
    }

    /// Asks for upload slots for one file.
    pub async fn slot(&self, token: &str, kind: &str, method: &str, filename: &str, content_type: &str, size: usize) -> Value {
        let r = self
            .call(
                "POST",
                "/v1/uploads",
                Some(token),
                Some(&json!({"kind": kind, "method": method, "files": [{"filename": filename, "content_type": content_type, "size_bytes": size}]})),
            )
            .await;
        assert_eq!(r.status, 201, "slot: {}", r.body);
        r.body["uploads"][0].clone()
    }

    /// Uploads `bytes` by PUT, completes, and returns the media, which must turn ready.
    pub async fn ready(&self, token: &str, kind: &str, bytes: Vec<u8>, content_type: &str) -> Value {
        let slot = self.slot(token, kind, "put", "t.bin", content_type, bytes.len()).await;
        let (status, body) = self.put_slot(&slot, bytes).await;
        assert_eq!(status, 200, "{body}");
        let id = slot["media_id"].as_str().expect("media_id").to_string();
        let r = self.call("POST", &format!("/v1/media/{id}/complete"), Some(token), None).await;
        assert_eq!((r.status, r.body["status"].as_str()), (200, Some("ready")), "{}", r.body);
        r.body
    }

    /// A GET without a token (as a browser's `<img>` sends it), optionally with `Accept`;
    /// redirects are not followed.
    pub async fn get_anonymous(&self, path_and_query: &str, accept: Option<&str>) -> Reply {
        let mut req = self.http.get(format!("{}{path_and_query}", self.api));
        if let Some(a) = accept {
            req = req.header("accept", a);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        seen("GET", path_and_query, status);
        let headers = resp.headers().clone();
        let body = serde_json::from_str(&resp.text().await.unwrap_or_default()).unwrap_or(Value::Null);
        Reply { status, body, headers }
    }

    /// A browser-style multipart form POST: every field in order, the file last.
    pub async fn post_form(&self, slot: &Value, bytes: Vec<u8>, content_type: &str) -> (u16, String) {
        self.post_form_with(slot, bytes, content_type, |_, v| v.to_string()).await
    }

    /// Like `post_form`, but lets a test rewrite field values (to tamper with them).
    pub async fn post_form_with(&self, slot: &Value, bytes: Vec<u8>, content_type: &str, edit: impl Fn(&str, &str) -> String) -> (u16, String) {
        let mut form = Form::new();
        for (k, v) in slot["fields"].as_object().expect("fields") {
            form = form.text(k.clone(), edit(k, v.as_str().unwrap_or_default()));
        }
        form = form.part("file", Part::bytes(bytes).file_name("upload").mime_str(content_type).expect("mime"));
        let resp = self.http.post(slot["url"].as_str().expect("url")).multipart(form).send().await.expect("S3 POST");
        (resp.status().as_u16(), resp.text().await.unwrap_or_default())
    }

    /// A PUT to a presigned URL with the given headers.
    pub async fn put(&self, url: &str, bytes: Vec<u8>, headers: &[(&str, String)]) -> (u16, String) {
        let mut req = self.http.put(url).body(bytes);
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let resp = req.send().await.expect("S3 PUT");
        (resp.status().as_u16(), resp.text().await.unwrap_or_default())
    }

    /// PUT with exactly the headers the slot says to send.
    pub async fn put_slot(&self, slot: &Value, bytes: Vec<u8>) -> (u16, String) {
        self.put_signed(slot, bytes).await
    }

    /// PUT to a signed `{url, headers}` (a slot or a part) with exactly its headers; reqwest
    /// sets Content-Length from the body, which is what S3 checks against the signed one.
    pub async fn put_signed(&self, signed: &Value, bytes: Vec<u8>) -> (u16, String) {
        let headers: Vec<(&str, String)> = signed["headers"]
            .as_object()
            .expect("headers")
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("content-length"))
            .map(|(k, v)| (k.as_str(), v.as_str().unwrap_or_default().to_string()))
            .collect();
        self.put(signed["url"].as_str().expect("url"), bytes, &headers).await
    }

    pub async fn head(&self, key: &str) -> Option<aws_sdk_s3::operation::head_object::HeadObjectOutput> {
        self.s3.head_object().bucket(&self.bucket).key(key).send().await.ok()
    }

    /// Polls until `key` is gone. A verification started by the S3 event may still be running
    /// when the complete endpoint has already decided; if it loses, it removes what it wrote.
    pub async fn wait_absent(&self, key: &str, deadline: Duration) -> bool {
        let until = Instant::now() + deadline;
        while self.head(key).await.is_some() {
            if Instant::now() > until {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        true
    }

    pub async fn get_object(&self, key: &str) -> Option<Vec<u8>> {
        let out = self.s3.get_object().bucket(&self.bucket).key(key).send().await.ok()?;
        Some(out.body.collect().await.ok()?.into_bytes().to_vec())
    }

    pub async fn record(&self, id: &str) -> Option<HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        self.dynamodb
            .get_item()
            .table_name(&self.table)
            .key("id", aws_sdk_dynamodb::types::AttributeValue::S(id.to_string()))
            .consistent_read(true)
            .send()
            .await
            .expect("get_item")
            .item
    }

    /// Sends an S3 event straight to process-upload, as S3 would (duplicates and replays).
    pub async fn invoke_process_upload(&self, raw_key: &str) -> (u16, String) {
        let event = json!({"Records": [{
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": self.var("AWS_REGION"),
            "eventTime": "2026-01-01T00:00:00.000Z", "eventName": "ObjectCreated:Put",
            "userIdentity": {"principalId": "test"}, "requestParameters": {"sourceIPAddress": "127.0.0.1"},
            "responseElements": {},
            "s3": {"s3SchemaVersion": "1.0", "configurationId": "test",
                   "bucket": {"name": self.bucket, "ownerIdentity": {"principalId": "test"}, "arn": format!("arn:aws:s3:::{}", self.bucket)},
                   "object": {"key": raw_key, "size": 1, "eTag": "x", "sequencer": "0"}}}]});
        let resp = self
            .http
            .post(format!("{}/2015-03-31/functions/process-upload/invocations", self.api))
            .json(&event)
            .send()
            .await
            .unwrap();
        let failed = resp.headers().contains_key("x-amz-function-error");
        let status = resp.status().as_u16();
        (if failed { 500 } else { status }, resp.text().await.unwrap_or_default())
    }

    /// Polls `GET /v1/media/{id}` until `done` holds or the deadline passes.
    pub async fn wait_media(&self, token: &str, id: &str, deadline: Duration, done: impl Fn(&Value) -> bool) -> Value {
        let until = Instant::now() + deadline;
        loop {
            let r = self.call("GET", &format!("/v1/media/{id}"), Some(token), None).await;
            if r.status == 200 && done(&r.body) {
                return r.body;
            }
            if Instant::now() > until {
                panic!("media {id} did not reach the expected state in {deadline:?}: {} {}", r.status, r.body);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A user id unique to this test run.
/// Notes one API answer, `METHOD path status`, in the file `STACK_STATUSES` names (scripts/test
/// sets it; the OpenAPI contract test then checks that openapi.yaml documents every status the
/// stack tests saw). One `write` per line in append mode, so parallel tests do not interleave.
pub fn seen(method: &str, path: &str, status: u16) {
    use std::io::Write;
    let Some(file) = std::env::var_os("STACK_STATUSES") else { return };
    let path = path.split('?').next().unwrap_or(path);
    let line = format!("{method} {path} {status}\n");
    let mut out = std::fs::OpenOptions::new().create(true).append(true).open(file).expect("STACK_STATUSES is writable");
    out.write_all(line.as_bytes()).expect("STACK_STATUSES is writable");
}

pub fn user(name: &str) -> String {
    format!("{name}-{}", uuid::Uuid::new_v4().simple())
}

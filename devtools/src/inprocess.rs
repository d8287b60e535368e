//! The functions' routers in process (tower `oneshot`: no emulator, no network, no port):
//! requests shaped as the Lambda runtime delivers them, and the check that a router serves
//! exactly its own rows of `shared::edge::routes::ROUTES` (so the table, and with it template.yaml,
//! the watch router and openapi.yaml, cannot drift from the code that serves).

use crate::token;
use serde_json::Value;
use shared::edge::auth::{Authenticator, Hs256Verifier};
use shared::domain::caller::Caller;
use shared::domain::clock::SystemClock;
use shared::domain::kinds::{ContentType, Kinds};
use shared::domain::media::UploadMethod;
use shared::imaging::DecodeLimits;
use shared::adapters::memory::{MemoryObjects, MemoryRepository, MemorySigner};
use shared::usecases::processing::Processor;
use std::sync::Arc;
use shared::domain::upload::{Filename, ValidFile, ValidUpload};
use shared::usecases::uploads::UploadService;
use std::time::Duration;
use shared::edge::http::Edge;
use shared::edge::routes::{allowed, matches, ROUTES};
use tower::ServiceExt;

const SECRET: &str = "in-process-router-tests";
const ISSUER: &str = "in-process";
const AUDIENCE: &str = "lambda-media";

pub fn authenticator() -> Authenticator {
    Authenticator::Hs256(Hs256Verifier::new(SECRET.as_bytes(), ISSUER, AUDIENCE, "scopes"))
}

/// A valid token for `sub`, accepted by [`authenticator`].
pub fn token(sub: &str) -> String {
    token::mint(SECRET, ISSUER, AUDIENCE, sub, &[], 600)
}

pub struct Answer {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

/// One request through `edge`, as `cargo lambda watch` would send it (its `/lambda-url/<fn>`
/// prefix is the caller's to add).
pub async fn call(edge: &Edge, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> Answer {
    let mut req = http::Request::builder().method(method).uri(path);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let body = match body {
        Some(b) => lambda_http::Body::Text(b.to_string()),
        None => lambda_http::Body::Empty,
    };
    let response = edge.clone().oneshot(req.body(body).expect("request")).await.expect("infallible");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body");
    Answer { status, headers, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null) }
}

fn concrete(path: &str) -> String {
    path.split('/').map(|s| if s.starts_with('{') { uuid::Uuid::new_v4().to_string() } else { s.to_string() }).collect::<Vec<_>>().join("/")
}

fn is_route_miss(a: &Answer) -> bool {
    a.status == 405 || (a.status == 404 && a.body["error"]["message"] == "no such route")
}

/// Asserts that `edge` serves every route the table gives `function` (under a front-door prefix
/// too), answers 405 with the table's `Allow` for the other methods on those paths, and
/// answers 404 `no such route` for every route of the other functions.
pub async fn assert_serves_exactly_its_routes(function: &str, edge: &Edge) {
    let mine: Vec<_> = ROUTES.iter().filter(|r| r.function == function).collect();
    assert!(!mine.is_empty(), "no routes for {function} in the table");
    for r in &mine {
        let path = concrete(r.path);
        for prefix in ["", "/lambda-url/x", "/prod"] {
            let a = call(edge, r.method, &format!("{prefix}{path}"), None, None).await;
            assert!(!is_route_miss(&a), "{function} does not serve {} {prefix}{path}: {} {}", r.method, a.status, a.body);
        }
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let allow = allowed(function, &segments);
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            if allow.contains(&method) {
                continue;
            }
            let a = call(edge, method, &path, None, None).await;
            assert_eq!((a.status, a.code()), (405, "method_not_allowed"), "{function}: {method} {path}");
            assert_eq!(a.headers.get("allow").and_then(|v| v.to_str().ok()), Some(allow.join(", ").as_str()), "{method} {path}");
        }
    }
    for r in ROUTES.iter().filter(|r| r.function != function) {
        let path = concrete(r.path);
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        if mine.iter().any(|m| matches(m.path, &segments)) {
            continue;
        }
        let a = call(edge, r.method, &path, None, None).await;
        assert_eq!((a.status, a.body["error"]["message"].as_str()), (404, Some("no such route")), "{function} answers {} {path}", r.method);
    }
}

/// Signs nothing: upload URLs point at `memory:///<key>` (the in-memory object store's keys).
/// The upload service over `repo`, as upload-api wires it, without S3.
pub fn uploads(repo: MemoryRepository) -> UploadService<MemoryRepository, MemorySigner, MemoryObjects, SystemClock> {
    UploadService {
        records: repo,
        signer: MemorySigner,
        parts: MemoryObjects::default(),
        clock: SystemClock,
        url_ttl: Duration::from_secs(300),
        multipart_window: Duration::from_secs(86400),
        max_pending: 100,
        public_base: "https://media.example".into(),
    }
}

/// A pending upload of a PNG owned by `user`; returns its media id.
pub async fn pending_media(repo: &MemoryRepository, user: &str) -> String {
    let upload = ValidUpload {
        kind: Kinds::defaults().get("image").expect("image kind").clone(),
        scope: None,
        method: UploadMethod::Put,
        files: vec![ValidFile { filename: Filename::parse("a.png").expect("name"), content_type: ContentType::Png, size_bytes: Some(10) }],
    };
    let caller = Caller::new(user, vec![]).expect("caller");
    uploads(repo.clone()).create(&caller, upload).await.expect("slot").remove(0).media_id
}

/// The processor over the in-memory ports, with production's limits.
pub fn processor(repo: MemoryRepository, objects: MemoryObjects) -> Processor<MemoryRepository, MemoryObjects, SystemClock> {
    Processor {
        records: repo,
        objects,
        kinds: Kinds::defaults(),
        limits: DecodeLimits { max_pixels: 50_000_000, max_side: 20_000, max_jpeg_scans: 64, max_memory_mb: 384, time_budget: Duration::from_secs(8) },
        quality: 80.0,
        webp_method: 0,
        parallel_encode: true,
        rejected_retention: Duration::from_secs(7 * 86400),
        publish_lease: Duration::from_secs(180),
        clock: Arc::new(SystemClock),
        verify_slots: Arc::new(tokio::sync::Semaphore::new(1)),
        events: Arc::new(shared::domain::events::NoEvents),
    }
}

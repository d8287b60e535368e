//! Per-operation cost of the request path: POST policy, presigned PUT, JWT verification, and one
//! whole `POST /v1/uploads` (verify, parse, validate, record in memory, sign).

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use criterion::{criterion_group, criterion_main, Criterion};
use shared::edge::auth::Hs256Verifier;
use shared::domain::clock::SystemClock;
use shared::domain::kinds::{ContentType, Kinds};
use shared::adapters::memory::MemoryRepository;
use shared::adapters::s3::policy::PostPolicy;
use shared::adapters::s3::presign::S3UploadSigner;
use shared::ports::UploadSigner;
use shared::edge::requests::upload::UploadRequest;
use shared::usecases::uploads::UploadService;
use std::time::Duration;

const SECRET: &str = "bench-secret-bench-secret-bench-secret!";

fn signer(rt: &tokio::runtime::Runtime) -> S3UploadSigner {
    let creds = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", Some("session-token".into()), None, "bench");
    let sdk = rt.block_on(
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(creds.clone())
            .load(),
    );
    S3UploadSigner::new(aws_sdk_s3::Client::new(&sdk), SharedCredentialsProvider::new(creds), "us-east-1", "bench-bucket", "https://bench-bucket.s3.us-east-1.amazonaws.com/")
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let creds = Credentials::new("AKIDEXAMPLE", "secret", Some("token".into()), None, "bench");
    c.bench_function("presigned POST policy", |b| {
        b.iter(|| {
            PostPolicy {
                bucket: "bench-bucket",
                key: "incoming/4f3c2a1e-8b7d-4c6e-9f01-23456789abcd",
                content_type: "image/jpeg",
                min_bytes: 1,
                max_bytes: 5 << 20,
                region: "us-east-1",
                now: time::OffsetDateTime::now_utc(),
                expires_in: Duration::from_secs(300),
            }
            .sign(&creds)
        })
    });
    let s = signer(&rt);
    c.bench_function("presigned PUT (SDK presigner)", |b| {
        b.iter(|| rt.block_on(s.presign_put("incoming/x", ContentType::Jpeg, 12345, time::OffsetDateTime::now_utc(), Duration::from_secs(300))).unwrap())
    });
    let token = devtools::token::mint(SECRET, "iss", "aud", "user-1", &["org:acme".to_string()], 3600);
    let verifier = Hs256Verifier::new(SECRET.as_bytes(), "iss", "aud", "scopes");
    c.bench_function("JWT HS256 verification", |b| b.iter(|| verifier.verify_token(&token).unwrap()));
    let kinds = Kinds::defaults();
    let body = br#"{"kind":"post_image","scope":"org:acme","files":[{"filename":"a.jpg","content_type":"image/jpeg","size_bytes":12345}]}"#;
    c.bench_function("POST /v1/uploads, 1 file (verify, parse, validate, record in memory, sign)", |b| {
        b.iter_batched(
            // A fresh in-memory table per call: the measured cost must not grow with the table.
            || UploadService {
                records: MemoryRepository::default(),
                signer: signer(&rt),
                parts: shared::adapters::memory::MemoryObjects::default(),
                clock: SystemClock,
                url_ttl: Duration::from_secs(300),
                multipart_window: Duration::from_secs(86400),
                max_pending: 200,
                public_base: "https://cdn.example.com".into(),
            },
            |service| {
                let caller = verifier.verify_token(&token).unwrap();
                let req: UploadRequest = serde_json::from_slice(body).unwrap();
                let upload = req.validate(&kinds, &caller).unwrap();
                rt.block_on(service.create(&caller, upload)).unwrap()
            },
            criterion::BatchSize::SmallInput,
        )
    });
}

criterion_group! {
    name = presign;
    config = Criterion::default().sample_size(50).measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = benches
}
criterion_main!(presign);

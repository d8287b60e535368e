//! A private table and bucket in the running emulators, for tests that age records (the
//! janitor's) and must not touch what other tests are doing. Uses the production code paths
//! in-process: the same upload service, signer, processor and janitor as the functions.

use shared::ports::{Fetched, ObjectStore, Ranged, ObjectError};
use crate::stack::Stack;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use shared::domain::clock::FixedClock;
use shared::usecases::janitor::{Janitor, JanitorSettings};
use shared::domain::kinds::Kinds;
use shared::adapters::memory::MemoryEvents;
use shared::usecases::processing::Processor;
use shared::adapters::s3::S3Objects;
use shared::adapters::dynamodb::DynamoStore;
use shared::adapters::s3::presign::S3UploadSigner;
use shared::usecases::uploads::UploadService;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use time::OffsetDateTime;

pub struct Isolated {
    pub stack: Stack,
    pub store: DynamoStore,
    pub objects: S3Objects,
    pub bucket: String,
    /// What the processor and the janitor published (they share it).
    pub events: MemoryEvents,
}

impl Isolated {
    pub async fn new() -> Self {
        let stack = Stack::connect().await;
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let bucket = format!("iso-{}", &suffix[..20]);
        let table = format!("iso-{suffix}");
        shared::adapters::s3::bucket::ensure_bucket(&stack.s3, &bucket, &[]).await.expect("bucket");
        let store = DynamoStore::new(stack.dynamodb.clone(), &table);
        shared::adapters::dynamodb::setup::create_table(&stack.dynamodb, &table).await.expect("table");
        let objects = S3Objects::new(stack.s3.clone(), &bucket);
        Self { stack, store, objects, bucket, events: MemoryEvents::default() }
    }

    pub fn uploads(&self, at: OffsetDateTime) -> UploadService<DynamoStore, S3UploadSigner, S3Objects, FixedClock> {
        let s = &self.stack;
        let creds = Credentials::new(s.var("AWS_ACCESS_KEY_ID"), s.var("AWS_SECRET_ACCESS_KEY"), None, None, "test");
        UploadService {
            records: self.store.clone(),
            signer: S3UploadSigner::new(
                s.s3.clone(),
                SharedCredentialsProvider::new(creds),
                s.var("AWS_REGION"),
                &self.bucket,
                format!("{}/{}", s.var("S3_ENDPOINT"), self.bucket),
            ),
            parts: self.objects.clone(),
            clock: FixedClock(at),
            url_ttl: Duration::from_secs(300),
            multipart_window: Duration::from_secs(86400),
            max_pending: 200,
            public_base: format!("{}/{}", s.var("S3_ENDPOINT"), self.bucket),
        }
    }

    pub fn processor(&self, at: OffsetDateTime) -> Processor<DynamoStore, S3Objects, FixedClock> {
        self.processor_over(self.objects.clone(), at)
    }

    /// The processor over another view of this bucket (`CountingObjects`).
    pub fn processor_over<O: ObjectStore>(&self, objects: O, at: OffsetDateTime) -> Processor<DynamoStore, O, FixedClock> {
        Processor {
            records: self.store.clone(),
            objects,
            kinds: Kinds::defaults(),
            limits: shared::imaging::DecodeLimits {
                max_pixels: 50_000_000,
                max_side: 20_000,
                max_jpeg_scans: 64,
                max_memory_mb: 384,
                time_budget: Duration::from_secs(20),
            },
            quality: 80.0,
            webp_method: 4,
            parallel_encode: true,
            rejected_retention: Duration::from_secs(7 * 86400),
            publish_lease: Duration::from_secs(180),
            clock: Arc::new(FixedClock(at)),
            verify_slots: Arc::new(tokio::sync::Semaphore::new(1)),
            events: Arc::new(self.events.clone()),
        }
    }

    pub fn janitor(&self, max_items: usize) -> Janitor<DynamoStore, S3Objects> {
        Janitor {
            records: self.store.clone(),
            objects: self.objects.clone(),
            kinds: Kinds::defaults(),
            settings: JanitorSettings {
                grace: Duration::from_secs(3600),
                rejected_retention: Duration::from_secs(7 * 86400),
                max_items,
            },
            events: Arc::new(self.events.clone()),
        }
    }

    pub async fn key_exists(&self, key: &str) -> bool {
        self.objects.exists(key).await.expect("head")
    }
}

/// The bucket, counting the bytes that reads return: what verifying an upload cost.
#[derive(Clone)]
pub struct CountingObjects {
    pub inner: S3Objects,
    pub bytes_read: Arc<std::sync::atomic::AtomicU64>,
}

impl CountingObjects {
    pub fn new(inner: S3Objects) -> Self {
        Self { inner, bytes_read: Arc::default() }
    }

    pub fn read(&self) -> u64 {
        self.bytes_read.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn count(&self, n: usize) {
        self.bytes_read.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
    }
}

impl ObjectStore for CountingObjects {
    async fn get_bounded(&self, key: &str, max_bytes: u64) -> Result<Fetched, ObjectError> {
        let got = self.inner.get_bounded(key, max_bytes).await?;
        if let Fetched::Bytes(b) = &got {
            self.count(b.len());
        }
        Ok(got)
    }
    async fn exists(&self, key: &str) -> Result<bool, ObjectError> {
        self.inner.exists(key).await
    }
    async fn read_range(&self, key: &str, offset: u64, len: u64) -> Result<Ranged, ObjectError> {
        let got = self.inner.read_range(key, offset, len).await?;
        if let Ranged::Bytes { bytes, .. } = &got {
            self.count(bytes.len());
        }
        Ok(got)
    }
    async fn copy(&self, from: &str, to: &str, content_type: &str, cache_control: &str) -> Result<(), ObjectError> {
        self.inner.copy(from, to, content_type, cache_control).await
    }
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str, cache_control: &str) -> Result<(), ObjectError> {
        self.inner.put(key, bytes, content_type, cache_control).await
    }
    async fn delete(&self, key: &str) -> Result<(), ObjectError> {
        self.inner.delete(key).await
    }
    async fn delete_all(&self, keys: &[String]) -> Result<(), ObjectError> {
        self.inner.delete_all(keys).await
    }
    async fn list_page(&self, prefix: &str, continuation: Option<String>, max_keys: i32) -> Result<(Vec<(String, Option<SystemTime>)>, Option<String>), ObjectError> {
        self.inner.list_page(prefix, continuation, max_keys).await
    }
    async fn presign_get(&self, key: &str, ttl: Duration, now: SystemTime, disposition: Option<String>) -> Result<String, ObjectError> {
        self.inner.presign_get(key, ttl, now, disposition).await
    }
}

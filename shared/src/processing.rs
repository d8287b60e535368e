//! Verifying an upload and producing its thumbnails: one operation, used by the S3-event
//! function and by the complete endpoints alike.
//!
//! Verdicts about the file are final and recorded; failures of ours (S3, DynamoDB, the encoder)
//! are returned as errors so the caller retries. Every state change is conditional on
//! `pending`, so duplicate, late or concurrent runs end in one consistent record.

use crate::clock::{self, Clock};
use crate::imaging::{self, DecodeLimits, ImageError, ThumbnailSpec};
use crate::kinds::{KindSpec, Kinds};
use crate::media::{MediaRecord, Rejection, Status, UploadMethod, Variant};
use crate::storage::{Fetched, ObjectStore, StorageError};
use crate::store::{DynamoStore, ReadyFields, StoreError};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("thumbnails: {0}")]
    Thumbnails(String),
}

impl From<ProcessError> for crate::error::ApiError {
    fn from(e: ProcessError) -> Self {
        match e {
            ProcessError::Store(s) => s.into(),
            ProcessError::Storage(s) => s.into(),
            ProcessError::Thumbnails(m) => crate::error::ApiError::unavailable(m),
        }
    }
}

#[derive(Debug)]
pub enum Outcome {
    /// An object under incoming/ with no record: deleted.
    Stray,
    /// Nothing uploaded yet; the record is unchanged.
    Missing(MediaRecord),
    /// Already decided (a duplicate or late event, or a concurrent run won).
    AlreadyDone(MediaRecord),
    /// This run decided it.
    Decided(MediaRecord),
}

pub struct Processor<C> {
    pub store: DynamoStore,
    pub objects: ObjectStore,
    pub kinds: Kinds,
    pub limits: DecodeLimits,
    pub quality: f32,
    pub webp_method: i32,
    pub rejected_retention: Duration,
    pub clock: Arc<C>,
}

enum Verdict {
    Rejected(Rejection),
    Ready { fields: ReadyFields, original: Vec<u8>, thumbs: Vec<(String, Vec<u8>)> },
}

fn reject(code: &str, message: impl Into<String>) -> Verdict {
    Verdict::Rejected(Rejection { code: code.to_string(), message: message.into() })
}

impl Processor<crate::clock::SystemClock> {
    /// The production processor, from the configuration read at init and the shared clients.
    pub fn from_config(config: &crate::config::Config, clients: &crate::runtime::Clients) -> Self {
        Self {
            store: DynamoStore::new(clients.dynamodb.clone(), &config.table),
            objects: ObjectStore::new(clients.s3.clone(), &config.bucket),
            kinds: config.kinds.clone(),
            limits: config.decode_limits(),
            quality: config.webp_quality,
            webp_method: config.webp_method,
            rejected_retention: config.rejected_retention,
            clock: Arc::new(crate::clock::SystemClock),
        }
    }
}

impl<C: Clock> Processor<C> {
    /// Processes the upload of media `id` (the object at `incoming/<id>`).
    pub async fn process(&self, id: &str) -> Result<Outcome, ProcessError> {
        let incoming = MediaRecord::incoming_key_for(id);
        let Some(record) = self.store.get(id).await? else {
            self.objects.delete(&incoming).await?;
            tracing::info!(media_id = id, "stray upload deleted");
            return Ok(Outcome::Stray);
        };
        if record.status != Status::Pending {
            if matches!(record.status, Status::Ready | Status::Rejected) {
                // A previous run decided but may have stopped before removing the upload.
                self.objects.delete(&incoming).await?;
            }
            return Ok(Outcome::AlreadyDone(record));
        }
        let Some(kind) = self.kinds.get(&record.kind).cloned() else {
            return self.finish(record, reject("type_mismatch", "the media kind is no longer configured")).await;
        };
        let bytes = match self.objects.get_bounded(&incoming, kind.max_bytes).await? {
            Fetched::Missing => return Ok(Outcome::Missing(record)),
            Fetched::TooLarge(n) => {
                return self.finish(record, reject("too_large", format!("{n} bytes exceeds the kind's limit of {}", kind.max_bytes))).await
            }
            Fetched::Bytes(b) => b,
        };
        let verdict = self.verify(&record, &kind, bytes).await?;
        self.finish(record, verdict).await
    }

    async fn verify(&self, record: &MediaRecord, kind: &KindSpec, bytes: Vec<u8>) -> Result<Verdict, ProcessError> {
        if record.method == UploadMethod::Put {
            if let Some(declared) = record.declared_size {
                if bytes.len() as u64 != declared {
                    return Ok(reject("too_large", format!("{} bytes arrived, {declared} were declared", bytes.len())));
                }
            }
        }
        let Some(sniffed) = imaging::sniff(&bytes) else {
            return Ok(reject("not_an_image", "the file is not a JPEG, PNG or WebP image"));
        };
        if sniffed != record.declared_type || !kind.allows(sniffed) {
            return Ok(reject("type_mismatch", format!("the file is {sniffed}, declared as {}", record.declared_type)));
        }
        let limits = self.limits;
        let spec = ThumbnailSpec { sizes: kind.thumbnails.clone(), quality: self.quality, method: self.webp_method };
        let public = kind.is_public();
        // Decoding and encoding are CPU-bound: keep them off the async workers.
        let result = tokio::task::spawn_blocking(move || -> Result<_, ImageError> {
            let probe = imaging::probe(&bytes, sniffed, limits)?;
            let thumbs = imaging::thumbnails(&bytes, &probe, &spec, limits)?;
            let stored = if public {
                imaging::strip_metadata(&bytes, sniffed, probe.orientation)
                    .ok_or_else(|| ImageError::Corrupt("malformed container".into()))?
            } else {
                bytes
            };
            Ok((probe, thumbs, stored))
        })
        .await
        .map_err(|e| ProcessError::Thumbnails(e.to_string()))?;
        let (probe, thumbs, stored) = match result {
            Ok(r) => r,
            Err(ImageError::Corrupt(m)) => return Ok(reject("corrupt_image", m)),
            Err(ImageError::DimensionsTooLarge { width, height }) => {
                return Ok(reject(
                    "dimensions_too_large",
                    format!("{width}x{height} exceeds {} pixels or {} px per side", limits.max_pixels, limits.max_side),
                ))
            }
            Err(ImageError::Encode(m)) => return Err(ProcessError::Thumbnails(m)),
        };
        let (width, height) = probe.display_size();
        let final_key = MediaRecord::final_key_for(kind, &record.id, sniffed);
        let mut variants = BTreeMap::new();
        let mut thumb_objects = Vec::with_capacity(thumbs.len());
        for t in thumbs {
            let key = MediaRecord::variant_key_for(kind, &record.id, t.size);
            variants.insert(
                t.size.to_string(),
                Variant { key: key.clone(), width: t.width, height: t.height, size_bytes: t.webp.len() as u64 },
            );
            thumb_objects.push((key, t.webp));
        }
        let now = self.clock.now();
        let fields = ReadyFields {
            content_type: sniffed,
            size_bytes: stored.len() as u64,
            width,
            height,
            sha256: hex::encode(Sha256::digest(&stored)),
            final_key,
            variants,
            gc_at: kind.unattached_ttl.filter(|_| record.attached_to.is_none()).map(|ttl| clock::format(now + ttl)),
        };
        Ok(Verdict::Ready { fields, original: stored, thumbs: thumb_objects })
    }

    async fn finish(&self, record: MediaRecord, verdict: Verdict) -> Result<Outcome, ProcessError> {
        let now = self.clock.now();
        let now_s = clock::format(now);
        match verdict {
            Verdict::Rejected(rejection) => {
                let gc_at = clock::format(now + self.rejected_retention);
                match self.store.mark_rejected(&record.id, &rejection, &now_s, &gc_at).await {
                    Ok(()) => {}
                    Err(StoreError::ConditionFailed) => return self.lost_race(&record, &[]).await,
                    Err(e) => return Err(e.into()),
                }
                self.objects.delete(&record.incoming_key).await?;
                tracing::info!(media_id = %record.id, code = %rejection.code, "upload rejected");
            }
            Verdict::Ready { fields, original, thumbs } => {
                // Every object is written before the record says ready: never half the variants.
                let mut written = Vec::with_capacity(thumbs.len() + 1);
                for (key, bytes) in thumbs {
                    self.objects.put(&key, bytes, "image/webp", IMMUTABLE).await?;
                    written.push(key);
                }
                self.objects.put(&fields.final_key, original, fields.content_type.mime(), IMMUTABLE).await?;
                written.push(fields.final_key.clone());
                match self.store.mark_ready(&record.id, &fields, &now_s).await {
                    Ok(()) => {}
                    Err(StoreError::ConditionFailed) => return self.lost_race(&record, &written).await,
                    Err(e) => return Err(e.into()),
                }
                self.objects.delete(&record.incoming_key).await?;
                tracing::info!(media_id = %record.id, variants = fields.variants.len(), "upload ready");
            }
        }
        let decided = self.store.get(&record.id).await?.unwrap_or(record);
        Ok(Outcome::Decided(decided))
    }

    /// Another run changed the record first. If the media was deleted meanwhile, remove what
    /// this run wrote so nothing is orphaned.
    async fn lost_race(&self, record: &MediaRecord, written: &[String]) -> Result<Outcome, ProcessError> {
        match self.store.get(&record.id).await? {
            Some(current) if current.status != Status::Deleting => Ok(Outcome::AlreadyDone(current)),
            other => {
                self.objects.delete_all(written).await?;
                self.objects.delete(&record.incoming_key).await?;
                Ok(other.map(Outcome::AlreadyDone).unwrap_or(Outcome::Stray))
            }
        }
    }
}

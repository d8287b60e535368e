//! Verifying an upload and producing its thumbnails: one operation, used by the S3-event
//! function and by the complete endpoints alike.
//!
//! Verdicts about the file are final and recorded: everything that parses the upload runs
//! behind `imaging::inspect_guarded`, so a panic, a decode over its budget or a broken container
//! is a rejection, never a retry. Only failures of ours (S3, DynamoDB) are returned as errors so
//! the caller retries. Every state change is conditional on `pending`, and only the run holding
//! the publish claim writes the media's objects, so duplicate, late or concurrent runs end in one
//! record whose `sha256` is the hash of the bytes stored.

use crate::domain::caller::Caller;
use crate::domain::events::{EventError, EventType, Events, MediaEvent};
use crate::domain::clock::{self, Clock};
use crate::imaging::{self, DecodeLimits, ImageError, Inspection, ThumbnailSpec};
use crate::domain::kinds::{ContentType, KindSpec, Kinds};
use crate::domain::id::MediaId;
use crate::domain::media::{MediaRecord, Rejection, Status, Variant};
use crate::usecases::view::is_owner;
use crate::ports::{Fetched, MediaRepository, ObjectStore, Ranged, ReadyFields, ObjectError, RecordError};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

use crate::domain::keys::IMMUTABLE;

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error(transparent)]
    Store(#[from] RecordError),
    #[error(transparent)]
    Storage(#[from] ObjectError),
    /// Another run is publishing this media and did not finish within the wait: retry.
    #[error("another verification of this media is still publishing")]
    Busy,
    /// Decided, but its event is not yet published: retry (the decision stands).
    #[error(transparent)]
    Events(#[from] EventError),
}

/// Why `complete` has no verdict to show.
#[derive(Debug, thiserror::Error)]
pub enum CompleteError {
    /// Missing, or not the caller's.
    #[error("no such media")]
    NotFound,
    #[error("nothing has been uploaded for this media yet")]
    UploadMissing,
    #[error(transparent)]
    Process(#[from] ProcessError),
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

/// How long a run that lost the publish claim waits for the holder to decide. Publishing is a
/// handful of S3 writes, so the holder is normally done in well under a second.
const CLAIM_WAIT: Duration = Duration::from_secs(10);
const CLAIM_POLL: Duration = Duration::from_millis(100);

pub struct Processor<R, O, C> {
    pub records: R,
    pub objects: O,
    pub kinds: Kinds,
    pub limits: DecodeLimits,
    pub quality: f32,
    pub webp_method: i32,
    pub parallel_encode: bool,
    pub rejected_retention: Duration,
    pub publish_lease: Duration,
    pub clock: Arc<C>,
    /// Verifications that may hold decoded pixels at once in this process: one, so a batch
    /// complete of many large images cannot multiply the memory of the largest.
    pub verify_slots: Arc<Semaphore>,
    pub events: Events,
}

enum Verdict {
    Rejected(Rejection),
    Ready { fields: Box<ReadyFields>, original: Original, thumbs: Vec<(String, Vec<u8>, ContentType)> },
}

/// Where the published original comes from.
enum Original {
    /// The verified (and, for public kinds, stripped) image bytes.
    Bytes(Vec<u8>),
    /// A server-side copy of the upload: videos are never read whole.
    CopyOfUpload,
}

/// A video upload read through ranged GETs.
struct UploadRanges<'a, O> {
    objects: &'a O,
    key: &'a str,
    total: u64,
}

impl<O: ObjectStore> crate::video::RangeSource for UploadRanges<'_, O> {
    fn size(&self) -> u64 {
        self.total
    }
    async fn read(&self, offset: u64, len: u64) -> Result<Vec<u8>, ObjectError> {
        match self.objects.read_range(self.key, offset, len).await? {
            Ranged::Bytes { bytes, .. } => Ok(bytes),
            // Removed while being read: a later run (or the complete call) decides.
            Ranged::Missing => Err(ObjectError::Transient(format!("{} disappeared while being verified", self.key))),
        }
    }
}

fn reject(code: &str, message: impl Into<String>) -> Verdict {
    Verdict::Rejected(Rejection { code: code.to_string(), message: message.into() })
}

/// The size rules every upload meets before its bytes are judged: at most the kind's limit and,
/// for every kind and method, exactly the declared size when one was declared (S3 enforces it on
/// POST and PUT; this covers bytes that reached incoming/ another way).
fn size_verdict(kind: &KindSpec, record: &MediaRecord, arrived: u64) -> Option<Verdict> {
    if arrived > kind.max_bytes {
        return Some(reject("too_large", format!("{arrived} bytes exceeds the kind's limit of {}", kind.max_bytes)));
    }
    let declared = record.declared_size.filter(|d| *d != arrived)?;
    Some(reject("size_mismatch", format!("{arrived} bytes arrived, {declared} were declared")))
}

/// The recorded rejection for a verdict of the image boundary.
fn rejection_for(e: ImageError, limits: DecodeLimits) -> Verdict {
    let code = match &e {
        ImageError::NotAnImage => "not_an_image",
        ImageError::TypeMismatch { .. } => "type_mismatch",
        ImageError::Corrupt(_) => "corrupt_image",
        ImageError::DimensionsTooLarge { .. } => "dimensions_too_large",
        ImageError::LimitExceeded(_) => "processing_limit",
    };
    let message = match e {
        ImageError::DimensionsTooLarge { width, height } => {
            format!("{width}x{height} exceeds {} pixels or {} px per side", limits.max_pixels, limits.max_side)
        }
        other => other.to_string(),
    };
    reject(code, message)
}

impl<R: MediaRepository, O: ObjectStore, C: Clock> Processor<R, O, C> {
    /// Processes the upload of media `id` (the object at `incoming/<id>`), and publishes the
    /// decision's event if it is still owed (this run decided, or an earlier one decided and
    /// could not publish).
    pub async fn process(&self, id: MediaId) -> Result<Outcome, ProcessError> {
        let outcome = self.decide(id).await?;
        if let Outcome::Decided(r) | Outcome::AlreadyDone(r) = &outcome {
            self.announce(r).await?;
        }
        Ok(outcome)
    }

    /// At least once per decision, with the decision's deterministic event id; acknowledged on
    /// the record so later runs do not repeat it.
    async fn announce(&self, r: &MediaRecord) -> Result<(), ProcessError> {
        let Some(event_type) = EventType::for_decision(r.status) else {
            return Ok(());
        };
        if r.event_sent.as_deref() == Some(event_type.as_str()) {
            return Ok(());
        }
        // The decision's own time: a PATCH between a failed publish and its retry moves
        // `updated_at`, never `decided_at`.
        let occurred_at = r.decided_at.as_deref().unwrap_or(&r.updated_at);
        self.events.publish(&MediaEvent::new(event_type, r, occurred_at)).await?;
        match self.records.mark_event_sent(&r.id, r.status, event_type.as_str()).await {
            Ok(()) | Err(RecordError::ConditionFailed) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn decide(&self, id: MediaId) -> Result<Outcome, ProcessError> {
        let id = &id.to_string();
        let incoming = crate::domain::keys::incoming(id);
        let Some(record) = self.records.get(id).await? else {
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
            return self.finish(record, reject("kind_not_configured", "the media kind is no longer configured")).await;
        };
        if record.declared_type.is_video() {
            let verdict = match self.verify_video(&record, &kind).await? {
                Some(v) => v,
                None => return self.missing(id).await,
            };
            return self.finish(record, verdict).await;
        }
        let bytes = match self.objects.get_bounded(&incoming, kind.max_bytes).await? {
            // Another run may have decided and removed the upload since the record was read.
            Fetched::Missing => return self.missing(id).await,
            Fetched::TooLarge(n) => {
                let verdict = size_verdict(&kind, &record, n).unwrap_or_else(|| reject("too_large", "the upload exceeds the kind's limit"));
                return self.finish(record, verdict).await;
            }
            Fetched::Bytes(b) => b,
        };
        let verdict = self.verify(&record, &kind, bytes).await;
        self.finish(record, verdict).await
    }

    /// No upload object: nothing uploaded yet, or another run decided and removed it since the
    /// record was read.
    async fn missing(&self, id: &str) -> Result<Outcome, ProcessError> {
        Ok(match self.records.get(id).await? {
            Some(current) if current.status != Status::Pending => Outcome::AlreadyDone(current),
            Some(current) => Outcome::Missing(current),
            None => Outcome::Stray,
        })
    }

    /// Judges a video from its container structure (`video`), reading a few ranges of it.
    /// `None`: nothing has been uploaded.
    async fn verify_video(&self, record: &MediaRecord, kind: &KindSpec) -> Result<Option<Verdict>, ProcessError> {
        let key = &record.incoming_key;
        let total = match self.objects.read_range(key, 0, 0).await? {
            Ranged::Missing => return Ok(None),
            Ranged::Bytes { total, .. } => total,
        };
        if let Some(verdict) = size_verdict(kind, record, total) {
            return Ok(Some(verdict));
        }
        let source = UploadRanges { objects: &self.objects, key, total };
        let info = match crate::video::inspect(&source, record.declared_type, self.limits.max_side).await {
            Ok(Ok(info)) => info,
            Ok(Err(e)) => return Ok(Some(reject(e.code(), e.to_string()))),
            // A concurrent run decided and removed the upload while this one read it.
            Err(_) if !self.objects.exists(key).await? => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if !kind.allows(info.content_type) {
            return Ok(Some(reject("type_mismatch", format!("kind {} does not accept {}", kind.name, info.content_type))));
        }
        let (poster, poster_error, thumbs, variants, placeholder) = match self.poster(record, kind, &source, &info.keyframe).await? {
            Ok(set) => {
                let mut thumbs = Vec::with_capacity(set.thumbs.len() + 1);
                let mut variants = BTreeMap::new();
                let poster_key = crate::domain::keys::poster(kind.visibility, &kind.name, &record.id);
                let poster = Variant { key: poster_key.clone(), width: set.poster.width, height: set.poster.height, size_bytes: set.poster.webp.len() as u64 };
                thumbs.push((poster_key, set.poster.webp, ContentType::Webp));
                for t in set.thumbs {
                    let key = crate::domain::keys::variant(kind.visibility, &kind.name, &record.id, t.size);
                    variants.insert(t.size.to_string(), Variant { key: key.clone(), width: t.width, height: t.height, size_bytes: t.webp.len() as u64 });
                    thumbs.push((key, t.webp, ContentType::Webp));
                }
                (Some(poster), None, thumbs, variants, Some(set.placeholder))
            }
            Err(reason) => {
                tracing::info!(media_id = %record.id, reason = %reason, "video ready without a poster");
                (None, Some(reason), Vec::new(), BTreeMap::new(), None)
            }
        };
        let now = self.clock.now();
        let fields = ReadyFields {
            content_type: info.content_type,
            size_bytes: total,
            width: info.width,
            height: info.height,
            sha256: None,
            final_key: crate::domain::keys::original(kind.visibility, &kind.name, &record.id, info.content_type),
            variants,
            display: None,
            poster,
            poster_error,
            gc_at: kind.unattached_gc_at(record.attached_to.is_some(), now),
            placeholder,
            duration_ms: info.duration_ms,
            codecs: info.codecs,
        };
        Ok(Some(Verdict::Ready { fields: Box::new(fields), original: Original::CopyOfUpload, thumbs }))
    }

    /// The poster set of a verified video: its keyframe's bytes (one ranged read, bounded by
    /// `video::poster::MAX_SAMPLE_BYTES`), decoded and rendered inside the image boundary. The
    /// inner `Err` is why there is no poster (the video is ready all the same); the outer one is
    /// ours (a read that failed), retried like any.
    async fn poster<S: crate::video::RangeSource>(
        &self,
        record: &MediaRecord,
        kind: &KindSpec,
        source: &S,
        keyframe: &Result<crate::video::poster::Keyframe, crate::video::poster::NoPoster>,
    ) -> Result<Result<imaging::poster::Poster, String>, ProcessError> {
        let keyframe = match keyframe {
            Ok(k) => k.clone(),
            Err(reason) => return Ok(Err(reason.to_string())),
        };
        let sample = source.read(keyframe.offset, keyframe.size).await?;
        if sample.len() as u64 != keyframe.size {
            return Ok(Err("the keyframe is cut off".into()));
        }
        let spec = ThumbnailSpec { sizes: kind.thumbnails.clone(), quality: self.quality, method: self.webp_method, parallel: self.parallel_encode };
        let limits = self.limits;
        let rendered = {
            let _slot = self.verify_slots.acquire().await.ok();
            tokio::task::spawn_blocking(move || imaging::poster_guarded(keyframe, Arc::new(sample), spec, limits)).await
        };
        Ok(match rendered {
            Ok(Ok(set)) => Ok(set),
            Ok(Err(e)) => Err(format!("the keyframe could not be decoded: {e}")),
            Err(e) => {
                tracing::error!(media_id = %record.id, error = %e, "poster task failed");
                Err("the keyframe could not be decoded".into())
            }
        })
    }

    /// `POST /v1/media/{id}/complete`: the owner asks for the verdict now. Returns whether this
    /// call decided it, and the record.
    pub async fn complete(&self, caller: &Caller, id: MediaId) -> Result<(bool, MediaRecord), CompleteError> {
        let record = self.records.get(&id.to_string()).await.map_err(ProcessError::from)?.ok_or(CompleteError::NotFound)?;
        if !is_owner(caller, &record) || record.status == Status::Deleting {
            return Err(CompleteError::NotFound);
        }
        let outcome = match self.process(id).await {
            Ok(outcome) => outcome,
            // The S3 event's run decided it while this call was reading (it moved the upload
            // away): that decision is the answer, not a retry.
            Err(ProcessError::Storage(ObjectError::Transient(e))) => match self.records.get(&id.to_string()).await.map_err(ProcessError::from)? {
                Some(r) if r.status != Status::Pending => Outcome::AlreadyDone(r),
                _ => return Err(ProcessError::Storage(ObjectError::Transient(e)).into()),
            },
            Err(e) => return Err(e.into()),
        };
        match outcome {
            Outcome::Stray => Err(CompleteError::NotFound),
            Outcome::Missing(_) => Err(CompleteError::UploadMissing),
            // Deleted while this call ran: gone, as the media API says of it (never a verdict
            // of `deleting`, which is not one).
            Outcome::AlreadyDone(r) | Outcome::Decided(r) if r.status == Status::Deleting => Err(CompleteError::NotFound),
            Outcome::AlreadyDone(r) => Ok((false, r)),
            Outcome::Decided(r) => Ok((true, r)),
        }
    }

    /// Judges the bytes. Infallible by design: whatever the file does, the answer is a verdict.
    async fn verify(&self, record: &MediaRecord, kind: &KindSpec, bytes: Vec<u8>) -> Verdict {
        if let Some(verdict) = size_verdict(kind, record, bytes.len() as u64) {
            return verdict;
        }
        let request = imaging::Request {
            declared: record.declared_type,
            allowed: ContentType::IMAGES.into_iter().filter(|t| kind.types.iter().any(|k| k.same_family(*t))).collect(),
            thumbnails: ThumbnailSpec { sizes: kind.thumbnails.clone(), quality: self.quality, method: self.webp_method, parallel: self.parallel_encode },
            strip: kind.is_public(),
            limits: self.limits,
        };
        let bytes = Arc::new(bytes);
        let inspection = {
            // A closed semaphore cannot happen (it is never closed); verifying unthrottled is
            // the safe fallback rather than a failure.
            let _slot = self.verify_slots.acquire().await.ok();
            let shared = Arc::clone(&bytes);
            // Decoding and encoding are CPU-bound: keep them off the async workers.
            tokio::task::spawn_blocking(move || imaging::inspect_guarded(shared, request)).await
        };
        match inspection {
            Ok(Ok(inspection)) => self.ready_verdict(record, kind, inspection, bytes),
            Ok(Err(e)) => rejection_for(e, self.limits),
            Err(e) => {
                tracing::error!(media_id = %record.id, error = %e, "verification task failed; rejecting the file");
                reject("corrupt_image", "the file could not be processed")
            }
        }
    }

    fn ready_verdict(&self, record: &MediaRecord, kind: &KindSpec, inspection: Inspection, bytes: Arc<Vec<u8>>) -> Verdict {
        let Inspection { probe, thumbs, placeholder, stripped, display } = inspection;
        let stored = stripped.unwrap_or_else(|| Arc::unwrap_or_clone(bytes));
        let (width, height) = probe.display_size();
        let final_key = crate::domain::keys::original(kind.visibility, &kind.name, &record.id, probe.content_type);
        let mut variants = BTreeMap::new();
        let mut thumb_objects = Vec::with_capacity(thumbs.len());
        for t in thumbs {
            let key = crate::domain::keys::variant(kind.visibility, &kind.name, &record.id, t.size);
            variants.insert(
                t.size.to_string(),
                Variant { key: key.clone(), width: t.width, height: t.height, size_bytes: t.webp.len() as u64 },
            );
            thumb_objects.push((key, t.webp, ContentType::Webp));
        }
        let display = display.map(|d| {
            let key = crate::domain::keys::display(kind.visibility, &kind.name, &record.id, d.content_type);
            let view = crate::domain::media::Display { key: key.clone(), content_type: d.content_type, width: d.width, height: d.height, size_bytes: d.bytes.len() as u64 };
            thumb_objects.push((key, d.bytes, d.content_type));
            view
        });
        let now = self.clock.now();
        let fields = ReadyFields {
            content_type: probe.content_type,
            size_bytes: stored.len() as u64,
            width,
            height,
            sha256: Some(hex::encode(Sha256::digest(&stored))),
            final_key,
            variants,
            display,
            poster: None,
            poster_error: None,
            gc_at: kind.unattached_gc_at(record.attached_to.is_some(), now),
            placeholder: Some(placeholder),
            duration_ms: None,
            codecs: Vec::new(),
        };
        Verdict::Ready { fields: Box::new(fields), original: Original::Bytes(stored), thumbs: thumb_objects }
    }

    async fn finish(&self, record: MediaRecord, verdict: Verdict) -> Result<Outcome, ProcessError> {
        let now = self.clock.now();
        let now_s = clock::format(now);
        match verdict {
            Verdict::Rejected(rejection) => {
                let gc_at = clock::format(now + self.rejected_retention);
                match self.records.mark_rejected(&record.id, &rejection, &now_s, &gc_at).await {
                    Ok(()) => {}
                    Err(RecordError::ConditionFailed) => return self.await_decision(&record).await,
                    Err(e) => return Err(e.into()),
                }
                self.objects.delete(&record.incoming_key).await?;
                tracing::info!(media_id = %record.id, code = %rejection.code, "upload rejected");
            }
            Verdict::Ready { fields, original, thumbs } => {
                let attempt = uuid::Uuid::new_v4().to_string();
                let until = clock::format(now + self.publish_lease);
                match self.records.claim_publish(&record.id, &attempt, &now_s, &until).await {
                    Ok(()) => {}
                    Err(RecordError::ConditionFailed) => return self.await_decision(&record).await,
                    Err(e) => return Err(e.into()),
                }
                if let Err(e) = self.publish(&record, &fields, original, thumbs, &attempt, &now_s).await {
                    if let Err(release) = self.records.release_claim(&record.id, &attempt).await {
                        tracing::warn!(media_id = %record.id, error = %release, "claim not released; it lapses with its lease");
                    }
                    return match e {
                        PublishError::LostClaim => self.lost_race(&record).await,
                        PublishError::Failed(e) => Err(e),
                    };
                }
                self.objects.delete(&record.incoming_key).await?;
                tracing::info!(media_id = %record.id, variants = fields.variants.len(), "upload ready");
            }
        }
        let decided = self.records.get(&record.id).await?.unwrap_or(record);
        Ok(Outcome::Decided(decided))
    }

    /// Writes every object, then (conditionally on the claim) says ready: never half the
    /// variants, and never bytes other than the ones the record describes. What an earlier
    /// attempt may have left under the media's folder is cleared first.
    async fn publish(
        &self,
        record: &MediaRecord,
        fields: &ReadyFields,
        original: Original,
        thumbs: Vec<(String, Vec<u8>, ContentType)>,
        attempt: &str,
        now: &str,
    ) -> Result<(), PublishError> {
        let folder = fields.final_key.rsplit_once('/').map(|(dir, _)| format!("{dir}/")).unwrap_or_default();
        if !folder.is_empty() {
            self.objects.delete_prefix(&folder).await.map_err(ProcessError::from)?;
        }
        for (key, bytes, content_type) in thumbs {
            self.objects.put(&key, bytes, content_type.mime(), IMMUTABLE).await.map_err(ProcessError::from)?;
        }
        match original {
            Original::Bytes(bytes) => self.objects.put(&fields.final_key, bytes, fields.content_type.mime(), IMMUTABLE).await,
            Original::CopyOfUpload => self.objects.copy(&record.incoming_key, &fields.final_key, fields.content_type.mime(), IMMUTABLE).await,
        }
        .map_err(ProcessError::from)?;
        match self.records.mark_ready(&record.id, fields, now, attempt).await {
            Ok(()) => Ok(()),
            Err(RecordError::ConditionFailed) => Err(PublishError::LostClaim),
            Err(e) => Err(PublishError::Failed(e.into())),
        }
    }

    /// Another run holds the claim or decided first: wait (bounded) for its decision.
    async fn await_decision(&self, record: &MediaRecord) -> Result<Outcome, ProcessError> {
        let deadline = Instant::now() + CLAIM_WAIT;
        loop {
            match self.records.get(&record.id).await? {
                None => return Ok(Outcome::Stray),
                Some(current) if current.status != Status::Pending => return Ok(Outcome::AlreadyDone(current)),
                Some(_) if Instant::now() >= deadline => return Err(ProcessError::Busy),
                Some(_) => tokio::time::sleep(CLAIM_POLL).await,
            }
        }
    }

    /// This run wrote objects but could not say ready: the media was deleted meanwhile (its
    /// claim cannot otherwise be lost while the run lives). Remove what was written, so nothing
    /// is orphaned.
    async fn lost_race(&self, record: &MediaRecord) -> Result<Outcome, ProcessError> {
        match self.records.get(&record.id).await? {
            Some(current) if current.status != Status::Deleting => Ok(Outcome::AlreadyDone(current)),
            other => {
                self.objects.delete_prefix(&record.object_prefix()).await?;
                self.objects.delete(&record.incoming_key).await?;
                Ok(other.map(Outcome::AlreadyDone).unwrap_or(Outcome::Stray))
            }
        }
    }
}

enum PublishError {
    LostClaim,
    Failed(ProcessError),
}

impl From<ProcessError> for PublishError {
    fn from(e: ProcessError) -> Self {
        Self::Failed(e)
    }
}

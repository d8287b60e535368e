//! Every interface the use cases need from the outside world, and the values that cross them:
//! the records (`MediaRepository`, `UploadRecords`), the objects (`ObjectStore`), multipart
//! parts (`MultipartStore`) and upload URLs (`UploadSigner`); the event sink (`EventSink`) and
//! the clock (`Clock`) are in `domain`. The use cases are written against these traits only;
//! `adapters::dynamodb` and `adapters::s3` implement them for production, `adapters::memory` in
//! process for fast tests. Their errors say what failed, not which service did.
//!
//! Every write that changes a media's state is conditional: `RecordError::ConditionFailed` means
//! the record was not in the state the caller expected, never a failure.

use crate::domain::kinds::ContentType;
use crate::domain::media::{MediaRecord, Rejection, Status, Variant};
use std::collections::BTreeMap;
use std::future::Future;
use std::ops::RangeInclusive;
use std::time::{Duration, SystemTime};
use time::OffsetDateTime;

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The condition on a write did not hold: the record is not in the expected state.
    #[error("condition failed")]
    ConditionFailed,
    /// Throttling or a transient service fault: retry.
    #[error("transient: {0}")]
    Transient(String),
    #[error("record store: {0}")]
    Other(String),
}

#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    /// Throttling, a timeout, a 5xx: retry.
    #[error("object store, transient: {0}")]
    Transient(String),
    #[error("object store: {0}")]
    Other(String),
}

/// Index pages one listing request reads at most: a filtered listing that matches little stops
/// early with a cursor instead of scanning the whole index.
pub const MAX_LIST_PAGES: usize = 5;

/// An opaque position in a listing: the index key to resume after, as string attributes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PageToken(pub BTreeMap<String, String>);

/// Which index a listing reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListBy {
    Owner(String),
    Scope(String),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    pub kind: Option<crate::domain::kinds::KindName>,
    pub status: Option<Status>,
}

/// Metadata edits: `None` leaves a field alone, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct MetadataEdit {
    pub title: Option<Option<String>>,
    pub description: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    pub focal_point: Option<Option<crate::domain::media::FocalPoint>>,
}

/// What a verified upload records.
#[derive(Debug, Clone)]
pub struct ReadyFields {
    pub content_type: ContentType,
    pub size_bytes: u64,
    pub width: u32,
    pub height: u32,
    /// Images: the hash of the stored bytes. Videos are verified without reading them whole,
    /// so they have none.
    pub sha256: Option<String>,
    pub final_key: String,
    pub variants: BTreeMap<String, Variant>,
    /// HEIC/HEIF: the rendition every browser shows.
    pub display: Option<crate::domain::media::Display>,
    /// Videos: the poster frame, or why there is none.
    pub poster: Option<Variant>,
    pub poster_error: Option<String>,
    /// When the janitor should next look at it (kinds whose unattached media expire).
    pub gc_at: Option<String>,
    /// Images only (videos get one with a poster frame).
    pub placeholder: Option<crate::domain::media::Placeholder>,
    /// Videos: the container's duration, when it states one.
    pub duration_ms: Option<u64>,
    /// Videos: the codec of each track, as sample-entry four-character codes or WebM codec ids.
    pub codecs: Vec<String>,
}

/// What creating upload slots needs from the table.
pub trait UploadRecords: Send + Sync {
    /// Writes a new record; fails with `ConditionFailed` if the id exists.
    fn put_new(&self, record: &MediaRecord) -> impl Future<Output = Result<(), RecordError>> + Send;
    /// How many uploads of this user are still pending (up to `at_most`).
    fn count_pending(&self, owner: &str, at_most: u32) -> impl Future<Output = Result<u32, RecordError>> + Send;
}

/// Every read, conditional transition and index query the domain makes on media records.
pub trait MediaRepository: UploadRecords {
    fn get(&self, id: &str) -> impl Future<Output = Result<Option<MediaRecord>, RecordError>> + Send;

    /// One page, newest first, through an index (never a scan), reading a bounded number of
    /// index pages; the token resumes right after the last item looked at.
    fn list(
        &self,
        by: &ListBy,
        filter: &ListFilter,
        limit: usize,
        start: Option<PageToken>,
    ) -> impl Future<Output = Result<(Vec<MediaRecord>, Option<PageToken>), RecordError>> + Send;

    /// Owner-only, not while deleting.
    fn update_metadata(&self, id: &str, owner: &str, edit: &MetadataEdit, now: &str) -> impl Future<Output = Result<MediaRecord, RecordError>> + Send;
    /// Ready media of the owner, not attached elsewhere (the same reference again succeeds);
    /// takes it out of the janitor's index.
    fn attach(
        &self,
        id: &str,
        owner: &str,
        reference: &str,
        expect_kind: Option<&crate::domain::kinds::KindName>,
        now: &str,
    ) -> impl Future<Output = Result<MediaRecord, RecordError>> + Send;
    /// `gc_at` puts it back in the janitor's index (kinds whose unattached media expire).
    fn detach(&self, id: &str, owner: &str, gc_at: Option<&str>, now: &str) -> impl Future<Output = Result<MediaRecord, RecordError>> + Send;
    /// Any state but deleting → deleting (janitor work due now); `owner` restricts it.
    fn mark_deleting(&self, id: &str, owner: Option<&str>, now: &str) -> impl Future<Output = Result<MediaRecord, RecordError>> + Send;
    /// Deletes the record only if its status and `gc_at` are still these.
    fn delete_if_unchanged(&self, id: &str, status: Status, gc_at: Option<&str>) -> impl Future<Output = Result<(), RecordError>> + Send;

    /// Records whose `gc_at` has come, oldest first.
    fn gc_due(
        &self,
        now: &str,
        limit: usize,
        start: Option<PageToken>,
    ) -> impl Future<Output = Result<(Vec<MediaRecord>, Option<PageToken>), RecordError>> + Send;
    /// ready → deleting for unattached media whose `gc_at` is still the one seen.
    fn mark_expired_deleting(&self, id: &str, seen_gc_at: &str, now: &str) -> impl Future<Output = Result<MediaRecord, RecordError>> + Send;
    /// Takes a ready record out of the janitor's index.
    fn clear_gc(&self, id: &str, seen_gc_at: &str) -> impl Future<Output = Result<(), RecordError>> + Send;

    /// pending with no live claim → claimed by `attempt` until `until`.
    fn claim_publish(&self, id: &str, attempt: &str, now: &str, until: &str) -> impl Future<Output = Result<(), RecordError>> + Send;
    fn release_claim(&self, id: &str, attempt: &str) -> impl Future<Output = Result<(), RecordError>> + Send;
    /// pending and claimed by `attempt` → ready.
    fn mark_ready(&self, id: &str, fields: &ReadyFields, now: &str, attempt: &str) -> impl Future<Output = Result<(), RecordError>> + Send;
    /// pending with no live claim → rejected, kept until `gc_at`.
    fn mark_rejected(&self, id: &str, rejection: &Rejection, now: &str, gc_at: &str) -> impl Future<Output = Result<(), RecordError>> + Send;

    /// Counts one render of a new variant of this media in the window starting at `window`
    /// (unix seconds), unless `cap` renders were counted in it already: `Ok(false)`. The only
    /// write the transform function makes, and only to these two counters.
    fn count_render(&self, id: &str, window: i64, cap: u32) -> impl Future<Output = Result<bool, RecordError>> + Send;

    /// Records that the decision event of a record in `status` was published (no-op, with
    /// `ConditionFailed`, if the record has moved on).
    fn mark_event_sent(&self, id: &str, status: Status, event: &str) -> impl Future<Output = Result<(), RecordError>> + Send;
}

/// A byte range of an object, and the object's whole length.
pub enum Ranged {
    Missing,
    Bytes { bytes: Vec<u8>, total: u64 },
}

pub enum Fetched {
    Missing,
    /// Larger than the caller's bound: not read.
    TooLarge(u64),
    Bytes(Vec<u8>),
}

/// The object storage the domain uses: bounded reads, writes, deletes, listing and presigned
/// reads. Deleting a missing key succeeds.
pub trait ObjectStore: Send + Sync {
    /// Reads an object if it is at most `max_bytes` long (checked before the body is read).
    fn get_bounded(&self, key: &str, max_bytes: u64) -> impl Future<Output = Result<Fetched, ObjectError>> + Send;
    fn exists(&self, key: &str) -> impl Future<Output = Result<bool, ObjectError>> + Send;
    /// Up to `len` bytes from `offset` (fewer at the end of the object), without reading the
    /// rest: how large videos are verified.
    fn read_range(&self, key: &str, offset: u64, len: u64) -> impl Future<Output = Result<Ranged, ObjectError>> + Send;
    /// A server-side copy, with a new Content-Type and Cache-Control.
    fn copy(&self, from: &str, to: &str, content_type: &str, cache_control: &str) -> impl Future<Output = Result<(), ObjectError>> + Send;
    fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str, cache_control: &str) -> impl Future<Output = Result<(), ObjectError>> + Send;
    fn delete(&self, key: &str) -> impl Future<Output = Result<(), ObjectError>> + Send;
    /// Fails if any one of them could not be deleted.
    fn delete_all(&self, keys: &[String]) -> impl Future<Output = Result<(), ObjectError>> + Send;
    /// One page of keys under `prefix`, with their modification times, and the continuation.
    fn list_page(
        &self,
        prefix: &str,
        continuation: Option<String>,
        max_keys: i32,
    ) -> impl Future<Output = Result<(Vec<(String, Option<SystemTime>)>, Option<String>), ObjectError>> + Send;
    /// A GET URL valid for `ttl` from `now`, optionally with a Content-Disposition override.
    fn presign_get(&self, key: &str, ttl: Duration, now: SystemTime, disposition: Option<String>) -> impl Future<Output = Result<String, ObjectError>> + Send;

    /// Deletes every object under `prefix` (a media's own folder); returns how many there were.
    fn delete_prefix(&self, prefix: &str) -> impl Future<Output = Result<u64, ObjectError>> + Send {
        async move {
            let mut deleted = 0u64;
            let mut continuation = None;
            loop {
                let (items, next) = self.list_page(prefix, continuation.take(), 1000).await?;
                let keys: Vec<String> = items.into_iter().map(|(k, _)| k).collect();
                self.delete_all(&keys).await?;
                deleted += keys.len() as u64;
                match next {
                    Some(c) => continuation = Some(c),
                    None => return Ok(deleted),
                }
            }
        }
    }
}

/// One part S3 holds for a multipart upload.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoredPart {
    pub part_number: u32,
    pub size: u64,
    pub etag: String,
}

/// A presigned UploadPart request: the URL and the exact headers to send with it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PresignedPart {
    pub part_number: u32,
    pub url: String,
    pub headers: BTreeMap<String, String>,
}

/// A multipart upload S3 holds open (parts stored, not yet completed or aborted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenUpload {
    pub key: String,
    pub upload_id: String,
    pub initiated: Option<SystemTime>,
}

/// Where a listing of open uploads resumes: the key and upload id to continue after.
pub type UploadsMarker = (String, String);

/// S3 multipart uploads: the calls the `multipart` domain, the delete protocol and the
/// janitor make.
pub trait MultipartStore: Send + Sync {
    /// Starts an upload whose object will have this Content-Type; returns its upload id.
    fn create_multipart(&self, key: &str, content_type: &str) -> impl Future<Output = Result<String, ObjectError>> + Send;
    /// An UploadPart URL with the part's exact Content-Length signed.
    fn presign_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        length: u64,
        now: SystemTime,
        ttl: Duration,
    ) -> impl Future<Output = Result<PresignedPart, ObjectError>> + Send;
    /// The parts S3 holds, in part order, reading at most `max_parts`; `None` when the upload
    /// no longer exists (completed or aborted).
    fn list_parts(&self, key: &str, upload_id: &str, max_parts: u32) -> impl Future<Output = Result<Option<Vec<StoredPart>>, ObjectError>> + Send;
    /// Assembles the object from exactly these parts.
    fn complete_multipart(&self, key: &str, upload_id: &str, parts: &[StoredPart]) -> impl Future<Output = Result<(), ObjectError>> + Send;
    /// Discards the upload and its parts; an upload that no longer exists is not an error.
    fn abort_multipart(&self, key: &str, upload_id: &str) -> impl Future<Output = Result<(), ObjectError>> + Send;
    /// One page (at most `max_uploads`) of the uploads open under `prefix`, and where the next
    /// page starts: how the janitor finds uploads no record names any more.
    fn list_uploads(
        &self,
        prefix: &str,
        marker: Option<UploadsMarker>,
        max_uploads: i32,
    ) -> impl Future<Output = Result<(Vec<OpenUpload>, Option<UploadsMarker>), ObjectError>> + Send;
}

#[derive(Debug, Clone)]
pub struct PresignedPost {
    pub url: String,
    /// The form fields, in the order the browser must send them (the file last).
    pub fields: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct PresignedPut {
    pub url: String,
    pub headers: Vec<(String, String)>,
}

/// The seam between slot creation and S3 signing.
pub trait UploadSigner: Send + Sync {
    /// `length` is what the policy's `content-length-range` allows: exactly the declared size
    /// when one was declared.
    fn presign_post(
        &self,
        key: &str,
        content_type: ContentType,
        length: RangeInclusive<u64>,
        now: OffsetDateTime,
        ttl: Duration,
    ) -> impl Future<Output = Result<PresignedPost, ObjectError>> + Send;

    fn presign_put(
        &self,
        key: &str,
        content_type: ContentType,
        length: u64,
        now: OffsetDateTime,
        ttl: Duration,
    ) -> impl Future<Output = Result<PresignedPut, ObjectError>> + Send;
}

//! In-process twins of the two ports, with the same conditions as the DynamoDB and S3 adapters,
//! so the domain (verification, the janitor, the delete protocol, the media service) is unit
//! tested in milliseconds. The adapters themselves are covered against the emulators.

use crate::domain::media::{MediaRecord, Rejection, Status, GC_SHARD};
use crate::ports::{
    Fetched, ListBy, ListFilter, MediaRepository, MetadataEdit, ObjectStore, PageToken, ReadyFields, ObjectError, RecordError,
    UploadRecords,
};
use crate::ports::{PresignedPost, PresignedPut, UploadSigner, MAX_LIST_PAGES};
use crate::domain::kinds::ContentType;
use time::OffsetDateTime;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

/// The media table in memory. Clones share one table, as clients of one real table would.
#[derive(Default, Clone)]
pub struct MemoryRepository {
    items: Arc<Mutex<HashMap<String, MediaRecord>>>,
}

fn poisoned<T>(e: std::sync::PoisonError<T>) -> RecordError {
    RecordError::Other(e.to_string())
}

impl MemoryRepository {
    fn lock(&self) -> Result<MutexGuard<'_, HashMap<String, MediaRecord>>, RecordError> {
        self.items.lock().map_err(poisoned)
    }

    /// Applies `change` to record `id` if `condition` holds, and returns the new record.
    fn update(&self, id: &str, condition: impl FnOnce(&MediaRecord) -> bool, change: impl FnOnce(&mut MediaRecord)) -> Result<MediaRecord, RecordError> {
        let mut items = self.lock()?;
        let r = items.get_mut(id).ok_or(RecordError::ConditionFailed)?;
        if !condition(r) {
            return Err(RecordError::ConditionFailed);
        }
        change(r);
        Ok(r.clone())
    }

    fn owned(r: &MediaRecord, owner: &str) -> bool {
        r.owner == owner && r.status != Status::Deleting
    }

    /// Replaces a record wholesale (tests that set up a state directly).
    pub fn insert(&self, record: MediaRecord) {
        if let Ok(mut items) = self.items.lock() {
            items.insert(record.id.clone(), record);
        }
    }

    pub fn len(&self) -> usize {
        self.items.lock().map(|i| i.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn no_live_claim(r: &MediaRecord, now: &str) -> bool {
    r.publish_claim.is_none() || r.publish_claim_until.as_deref().is_some_and(|u| u < now)
}

fn clear_claim(r: &mut MediaRecord) {
    r.publish_claim = None;
    r.publish_claim_until = None;
}

impl UploadRecords for MemoryRepository {
    async fn put_new(&self, record: &MediaRecord) -> Result<(), RecordError> {
        let mut items = self.lock()?;
        if items.contains_key(&record.id) {
            return Err(RecordError::ConditionFailed);
        }
        items.insert(record.id.clone(), record.clone());
        Ok(())
    }

    async fn count_pending(&self, owner: &str, at_most: u32) -> Result<u32, RecordError> {
        let items = self.lock()?;
        // Stops counting at the bound, as the DynamoDB query does.
        let n = items.values().filter(|r| r.pending_owner.as_deref() == Some(owner)).take(at_most as usize).count();
        Ok(n as u32)
    }
}

impl MediaRepository for MemoryRepository {
    async fn get(&self, id: &str) -> Result<Option<MediaRecord>, RecordError> {
        Ok(self.lock()?.get(id).cloned())
    }

    async fn list(&self, by: &ListBy, filter: &ListFilter, limit: usize, start: Option<PageToken>) -> Result<(Vec<MediaRecord>, Option<PageToken>), RecordError> {
        let items = self.lock()?;
        let mut index: Vec<&MediaRecord> = items
            .values()
            .filter(|r| match by {
                ListBy::Owner(o) => &r.owner == o,
                ListBy::Scope(s) => r.scope.as_ref() == Some(s),
            })
            .collect();
        index.sort_by(|a, b| b.created_sk.cmp(&a.created_sk));
        let after = start.and_then(|t| t.0.get("created_sk").cloned());
        let mut rest = index.into_iter().filter(|r| after.as_ref().is_none_or(|a| r.created_sk < *a)).peekable();
        let matches = |r: &MediaRecord| {
            r.status != Status::Deleting
                && filter.kind.as_ref().is_none_or(|k| &r.kind == k)
                && filter.status.is_none_or(|s| r.status == s)
        };
        let token = |r: &MediaRecord| PageToken(BTreeMap::from([("created_sk".to_string(), r.created_sk.clone())]));
        // Pages like DynamoDB's: each evaluates `limit - found` items before the filter, and a
        // request reads at most MAX_LIST_PAGES of them.
        let mut found = Vec::new();
        let mut pages = 0;
        loop {
            pages += 1;
            let page: Vec<&MediaRecord> = rest.by_ref().take((limit - found.len()).max(1)).collect();
            let last = page.last().map(|r| token(r));
            found.extend(page.into_iter().filter(|r| matches(r)).cloned());
            if found.len() >= limit {
                found.truncate(limit);
                let next = found.last().map(token);
                return Ok((found, next));
            }
            match (rest.peek().is_some(), last) {
                (true, Some(l)) if pages >= MAX_LIST_PAGES => return Ok((found, Some(l))),
                (true, Some(_)) => {}
                _ => return Ok((found, None)),
            }
        }
    }

    async fn update_metadata(&self, id: &str, owner: &str, edit: &MetadataEdit, now: &str) -> Result<MediaRecord, RecordError> {
        self.update(id, |r| Self::owned(r, owner), |r| {
            if let Some(f) = &edit.focal_point {
                r.focal_point = *f;
            }
            if let Some(t) = &edit.title {
                r.title = t.clone();
            }
            if let Some(d) = &edit.description {
                r.description = d.clone();
            }
            if let Some(t) = &edit.tags {
                r.tags = t.clone();
            }
            r.updated_at = now.to_string();
        })
    }

    async fn attach(&self, id: &str, owner: &str, reference: &str, expect_kind: Option<&crate::domain::kinds::KindName>, now: &str) -> Result<MediaRecord, RecordError> {
        self.update(
            id,
            |r| {
                Self::owned(r, owner)
                    && r.status == Status::Ready
                    && r.attached_to.as_deref().is_none_or(|a| a == reference)
                    && expect_kind.is_none_or(|k| &r.kind == k)
            },
            |r| {
                r.attached_to = Some(reference.to_string());
                r.updated_at = now.to_string();
                r.gc_shard = None;
                r.gc_at = None;
            },
        )
    }

    async fn detach(&self, id: &str, owner: &str, gc_at: Option<&str>, now: &str) -> Result<MediaRecord, RecordError> {
        self.update(id, |r| Self::owned(r, owner), |r| {
            r.attached_to = None;
            r.updated_at = now.to_string();
            if let Some(at) = gc_at {
                r.gc_shard = Some(GC_SHARD.to_string());
                r.gc_at = Some(at.to_string());
            }
        })
    }

    async fn mark_deleting(&self, id: &str, owner: Option<&str>, now: &str) -> Result<MediaRecord, RecordError> {
        self.update(
            id,
            |r| r.status != Status::Deleting && owner.is_none_or(|o| r.owner == o),
            |r| {
                r.status = Status::Deleting;
                r.updated_at = now.to_string();
                r.gc_shard = Some(GC_SHARD.to_string());
                r.gc_at = Some(now.to_string());
                r.pending_owner = None;
            },
        )
    }

    async fn delete_if_unchanged(&self, id: &str, status: Status, gc_at: Option<&str>) -> Result<(), RecordError> {
        let mut items = self.lock()?;
        match items.get(id) {
            Some(r) if r.status == status && r.gc_at.as_deref() == gc_at => {
                items.remove(id);
                Ok(())
            }
            _ => Err(RecordError::ConditionFailed),
        }
    }

    async fn gc_due(&self, now: &str, limit: usize, start: Option<PageToken>) -> Result<(Vec<MediaRecord>, Option<PageToken>), RecordError> {
        let items = self.lock()?;
        let position = |r: &MediaRecord| (r.gc_at.clone().unwrap_or_default(), r.id.clone());
        let after = start.map(|t| (t.0.get("gc_at").cloned().unwrap_or_default(), t.0.get("id").cloned().unwrap_or_default()));
        let mut due: Vec<&MediaRecord> = items
            .values()
            .filter(|r| r.gc_shard.is_some() && r.gc_at.as_deref().is_some_and(|g| g <= now))
            .filter(|r| after.as_ref().is_none_or(|a| position(r) > *a))
            .collect();
        due.sort_by_key(|r| position(r));
        let limit = limit.clamp(1, 1000);
        let more = due.len() > limit;
        let page: Vec<MediaRecord> = due.into_iter().take(limit).cloned().collect();
        let next = more.then(|| page.last().map(|r| PageToken(BTreeMap::from([("gc_at".into(), position(r).0), ("id".into(), r.id.clone())])))).flatten();
        Ok((page, next))
    }

    async fn mark_expired_deleting(&self, id: &str, seen_gc_at: &str, now: &str) -> Result<MediaRecord, RecordError> {
        self.update(
            id,
            |r| r.status == Status::Ready && r.attached_to.is_none() && r.gc_at.as_deref() == Some(seen_gc_at),
            |r| {
                r.status = Status::Deleting;
                r.updated_at = now.to_string();
                r.gc_at = Some(now.to_string());
            },
        )
    }

    async fn clear_gc(&self, id: &str, seen_gc_at: &str) -> Result<(), RecordError> {
        self.update(id, |r| r.status == Status::Ready && r.gc_at.as_deref() == Some(seen_gc_at), |r| {
            r.gc_shard = None;
            r.gc_at = None;
        })
        .map(|_| ())
    }

    async fn claim_publish(&self, id: &str, attempt: &str, now: &str, until: &str) -> Result<(), RecordError> {
        self.update(id, |r| r.status == Status::Pending && no_live_claim(r, now), |r| {
            r.publish_claim = Some(attempt.to_string());
            r.publish_claim_until = Some(until.to_string());
        })
        .map(|_| ())
    }

    async fn mark_event_sent(&self, id: &str, status: Status, event: &str) -> Result<(), RecordError> {
        self.update(id, |r| r.status == status, |r| r.event_sent = Some(event.to_string())).map(|_| ())
    }

    async fn count_render(&self, id: &str, window: i64, cap: u32) -> Result<bool, RecordError> {
        let counted = self.update(
            id,
            |r| r.render_window != Some(window) || r.render_count.unwrap_or(0) < cap,
            |r| {
                let count = if r.render_window == Some(window) { r.render_count.unwrap_or(0) } else { 0 };
                r.render_window = Some(window);
                r.render_count = Some(count + 1);
            },
        );
        match counted {
            Ok(_) => Ok(true),
            Err(RecordError::ConditionFailed) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn release_claim(&self, id: &str, attempt: &str) -> Result<(), RecordError> {
        self.update(id, |r| r.publish_claim.as_deref() == Some(attempt), clear_claim).map(|_| ())
    }

    async fn mark_ready(&self, id: &str, f: &ReadyFields, now: &str, attempt: &str) -> Result<(), RecordError> {
        self.update(id, |r| r.status == Status::Pending && r.publish_claim.as_deref() == Some(attempt), |r| {
            r.status = Status::Ready;
            r.content_type = Some(f.content_type);
            r.size_bytes = Some(f.size_bytes);
            r.width = Some(f.width);
            r.height = Some(f.height);
            r.sha256 = f.sha256.clone();
            r.duration_ms = f.duration_ms;
            r.codecs = f.codecs.clone();
            r.final_key = Some(f.final_key.clone());
            r.variants = f.variants.clone();
            r.display = f.display.clone();
            r.poster = f.poster.clone();
            r.poster_error = f.poster_error.clone();
            r.placeholder = f.placeholder.clone();
            r.updated_at = now.to_string();
            r.decided_at = Some(now.to_string());
            r.pending_owner = None;
            r.gc_shard = f.gc_at.as_ref().map(|_| GC_SHARD.to_string());
            r.gc_at = f.gc_at.clone();
            clear_claim(r);
        })
        .map(|_| ())
    }

    async fn mark_rejected(&self, id: &str, rejection: &Rejection, now: &str, gc_at: &str) -> Result<(), RecordError> {
        self.update(id, |r| r.status == Status::Pending && no_live_claim(r, now), |r| {
            r.status = Status::Rejected;
            r.rejection = Some(rejection.clone());
            r.updated_at = now.to_string();
            r.decided_at = Some(now.to_string());
            r.gc_shard = Some(GC_SHARD.to_string());
            r.gc_at = Some(gc_at.to_string());
            r.pending_owner = None;
            clear_claim(r);
        })
        .map(|_| ())
    }
}

#[derive(Debug, Clone)]
pub struct StoredObject {
    pub bytes: Vec<u8>,
    pub content_type: String,
    pub cache_control: String,
    pub modified: SystemTime,
}

/// The bucket in memory. Clones share one bucket.
#[derive(Default, Clone)]
pub struct MemoryObjects {
    objects: Arc<Mutex<BTreeMap<String, StoredObject>>>,
    /// Multipart uploads in progress: upload id → (key, content type, parts by number).
    uploads: Arc<Mutex<BTreeMap<String, MemoryUpload>>>,
    /// Bytes returned by ranged reads (what verifying a video cost).
    bytes_read: Arc<std::sync::atomic::AtomicU64>,
}

/// Key, content type, parts by number, and when it was started.
type MemoryUpload = (String, String, BTreeMap<u32, Vec<u8>>, SystemTime);

fn storage_poisoned<T>(e: std::sync::PoisonError<T>) -> ObjectError {
    ObjectError::Other(e.to_string())
}

impl MemoryObjects {
    fn lock(&self) -> Result<MutexGuard<'_, BTreeMap<String, StoredObject>>, ObjectError> {
        self.objects.lock().map_err(storage_poisoned)
    }

    pub fn keys(&self) -> Vec<String> {
        self.objects.lock().map(|o| o.keys().cloned().collect()).unwrap_or_default()
    }

    pub fn object(&self, key: &str) -> Option<StoredObject> {
        self.objects.lock().ok()?.get(key).cloned()
    }

    /// Stores one part as a client's UploadPart would (tests); false if there is no such upload.
    pub fn upload_part(&self, upload_id: &str, part_number: u32, bytes: Vec<u8>) -> bool {
        let Ok(mut uploads) = self.uploads.lock() else { return false };
        match uploads.get_mut(upload_id) {
            Some((_, _, parts, _)) => {
                parts.insert(part_number, bytes);
                true
            }
            None => false,
        }
    }

    /// Bytes returned by ranged reads so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Multipart uploads still open.
    pub fn open_uploads(&self) -> usize {
        self.uploads.lock().map(|u| u.len()).unwrap_or(0)
    }

    /// Puts an object as a client upload would (tests); `modified` ages it.
    pub fn insert(&self, key: &str, bytes: Vec<u8>, modified: SystemTime) {
        if let Ok(mut o) = self.objects.lock() {
            o.insert(key.to_string(), StoredObject { bytes, content_type: String::new(), cache_control: String::new(), modified });
        }
    }
}

impl ObjectStore for MemoryObjects {
    async fn read_range(&self, key: &str, offset: u64, len: u64) -> Result<crate::ports::Ranged, ObjectError> {
        let objects = self.lock()?;
        let Some(o) = objects.get(key) else { return Ok(crate::ports::Ranged::Missing) };
        self.bytes_read.fetch_add(len.min((o.bytes.len() as u64).saturating_sub(offset)), std::sync::atomic::Ordering::Relaxed);
        let start = (offset as usize).min(o.bytes.len());
        let end = start.saturating_add(len as usize).min(o.bytes.len());
        Ok(crate::ports::Ranged::Bytes { bytes: o.bytes[start..end].to_vec(), total: o.bytes.len() as u64 })
    }

    async fn copy(&self, from: &str, to: &str, content_type: &str, cache_control: &str) -> Result<(), ObjectError> {
        let mut objects = self.lock()?;
        let source = objects.get(from).cloned().ok_or_else(|| ObjectError::Other(format!("NoSuchKey: {from}")))?;
        objects.insert(to.to_string(), StoredObject { content_type: content_type.to_string(), cache_control: cache_control.to_string(), modified: SystemTime::now(), ..source });
        Ok(())
    }

    async fn get_bounded(&self, key: &str, max_bytes: u64) -> Result<Fetched, ObjectError> {
        Ok(match self.lock()?.get(key) {
            None => Fetched::Missing,
            Some(o) if o.bytes.len() as u64 > max_bytes => Fetched::TooLarge(o.bytes.len() as u64),
            Some(o) => Fetched::Bytes(o.bytes.clone()),
        })
    }

    async fn exists(&self, key: &str) -> Result<bool, ObjectError> {
        Ok(self.lock()?.contains_key(key))
    }

    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str, cache_control: &str) -> Result<(), ObjectError> {
        let object = StoredObject { bytes, content_type: content_type.into(), cache_control: cache_control.into(), modified: SystemTime::now() };
        self.lock()?.insert(key.to_string(), object);
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), ObjectError> {
        self.lock()?.remove(key);
        Ok(())
    }

    async fn delete_all(&self, keys: &[String]) -> Result<(), ObjectError> {
        let mut objects = self.lock()?;
        for k in keys {
            objects.remove(k);
        }
        Ok(())
    }

    async fn list_page(&self, prefix: &str, continuation: Option<String>, max_keys: i32) -> Result<(Vec<(String, Option<SystemTime>)>, Option<String>), ObjectError> {
        let objects = self.lock()?;
        let mut page: Vec<(String, Option<SystemTime>)> = objects
            .range(continuation.unwrap_or_else(|| prefix.to_string())..)
            .filter(|(k, _)| k.starts_with(prefix))
            .take(max_keys.max(1) as usize + 1)
            .map(|(k, o)| (k.clone(), Some(o.modified)))
            .collect();
        let next = (page.len() > max_keys.max(1) as usize).then(|| page.pop().map(|(k, _)| k)).flatten();
        Ok((page, next))
    }

    async fn presign_get(&self, key: &str, ttl: Duration, _now: SystemTime, disposition: Option<String>) -> Result<String, ObjectError> {
        let attachment = if disposition.is_some() { "&download" } else { "" };
        Ok(format!("memory:///{key}?expires_in={}{attachment}", ttl.as_secs()))
    }
}

/// An event sink that keeps every delivery, and can be told to fail the next few (the
/// injected publish failure of the events tests).
#[derive(Default, Clone)]
pub struct MemoryEvents {
    delivered: Arc<Mutex<Vec<crate::domain::events::MediaEvent>>>,
    failures: Arc<std::sync::atomic::AtomicUsize>,
}

impl MemoryEvents {
    pub fn fail_next(&self, n: usize) {
        self.failures.store(n, std::sync::atomic::Ordering::SeqCst);
    }

    /// Every delivery, repeats included, in order.
    pub fn delivered(&self) -> Vec<crate::domain::events::MediaEvent> {
        self.delivered.lock().map(|d| d.clone()).unwrap_or_default()
    }
}

impl crate::domain::events::EventSink for MemoryEvents {
    fn publish<'a>(&'a self, event: &'a crate::domain::events::MediaEvent) -> crate::domain::events::Publishing<'a> {
        use std::sync::atomic::Ordering;
        Box::pin(async move {
            let failing = self.failures.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
            if failing {
                return Err(crate::domain::events::EventError("injected failure".into()));
            }
            self.delivered.lock().map_err(|e| crate::domain::events::EventError(e.to_string()))?.push(event.clone());
            Ok(())
        })
    }
}

fn etag(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    format!("\"{}\"", hex::encode(&Sha256::digest(bytes)[..16]))
}

impl crate::ports::MultipartStore for MemoryObjects {
    async fn create_multipart(&self, key: &str, content_type: &str) -> Result<String, ObjectError> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        self.uploads.lock().map_err(storage_poisoned)?.insert(id.clone(), (key.to_string(), content_type.to_string(), BTreeMap::new(), SystemTime::now()));
        Ok(id)
    }

    async fn presign_part(&self, key: &str, upload_id: &str, part_number: u32, length: u64, _: SystemTime, _: Duration) -> Result<crate::ports::PresignedPart, ObjectError> {
        let headers = BTreeMap::from([("content-length".to_string(), length.to_string())]);
        Ok(crate::ports::PresignedPart { part_number, url: format!("memory:///{key}?uploadId={upload_id}&partNumber={part_number}"), headers })
    }

    async fn list_parts(&self, _key: &str, upload_id: &str, max_parts: u32) -> Result<Option<Vec<crate::ports::StoredPart>>, ObjectError> {
        let uploads = self.uploads.lock().map_err(storage_poisoned)?;
        Ok(uploads.get(upload_id).map(|(_, _, parts, _)| {
            parts
                .iter()
                .take(max_parts as usize)
                .map(|(n, b)| crate::ports::StoredPart { part_number: *n, size: b.len() as u64, etag: etag(b) })
                .collect()
        }))
    }

    async fn complete_multipart(&self, key: &str, upload_id: &str, parts: &[crate::ports::StoredPart]) -> Result<(), ObjectError> {
        let (stored_key, content_type, held, _) =
            self.uploads.lock().map_err(storage_poisoned)?.remove(upload_id).ok_or_else(|| ObjectError::Other("NoSuchUpload".into()))?;
        let mut bytes = Vec::new();
        for p in parts {
            let part = held.get(&p.part_number).filter(|b| etag(b) == p.etag).ok_or_else(|| ObjectError::Other("InvalidPart".into()))?;
            bytes.extend_from_slice(part);
        }
        debug_assert_eq!(stored_key, key);
        self.lock()?.insert(key.to_string(), StoredObject { bytes, content_type, cache_control: String::new(), modified: SystemTime::now() });
        Ok(())
    }

    async fn abort_multipart(&self, _key: &str, upload_id: &str) -> Result<(), ObjectError> {
        self.uploads.lock().map_err(storage_poisoned)?.remove(upload_id);
        Ok(())
    }

    async fn list_uploads(
        &self,
        prefix: &str,
        marker: Option<crate::ports::UploadsMarker>,
        max_uploads: i32,
    ) -> Result<(Vec<crate::ports::OpenUpload>, Option<crate::ports::UploadsMarker>), ObjectError> {
        let uploads = self.uploads.lock().map_err(storage_poisoned)?;
        // S3's order: by key, then upload id.
        let mut open: Vec<crate::ports::OpenUpload> = uploads
            .iter()
            .filter(|(_, (key, ..))| key.starts_with(prefix))
            .map(|(id, (key, _, _, at))| crate::ports::OpenUpload { key: key.clone(), upload_id: id.clone(), initiated: Some(*at) })
            .filter(|u| marker.as_ref().is_none_or(|(k, i)| (&u.key, &u.upload_id) > (k, i)))
            .collect();
        open.sort_by(|a, b| (&a.key, &a.upload_id).cmp(&(&b.key, &b.upload_id)));
        let max = max_uploads.max(1) as usize;
        let next = (open.len() > max).then(|| (open[max - 1].key.clone(), open[max - 1].upload_id.clone()));
        open.truncate(max);
        Ok((open, next))
    }
}

/// The upload signer in memory: URLs that name the key, for tests that never reach S3.
pub struct MemorySigner;

impl UploadSigner for MemorySigner {
    async fn presign_post(&self, key: &str, _: ContentType, _: std::ops::RangeInclusive<u64>, _: OffsetDateTime, _: Duration) -> Result<PresignedPost, ObjectError> {
        Ok(PresignedPost { url: format!("memory:///{key}"), fields: Default::default() })
    }
    async fn presign_put(&self, key: &str, _: ContentType, _: u64, _: OffsetDateTime, _: Duration) -> Result<PresignedPut, ObjectError> {
        Ok(PresignedPut { url: format!("memory:///{key}"), headers: vec![] })
    }
}

//! The janitor: removes upload debris and nothing else.
//!
//! Work is found through the sparse `gc_due` index, by listing only `incoming/`, and by
//! listing the multipart uploads S3 holds open under `incoming/` (parts a record no longer
//! names are storage that no object listing shows); every
//! record delete is conditional on the state it was selected in, so a race with
//! process-upload, attach or delete keeps live media. Runs are bounded in items and time and
//! always safe to repeat.

use crate::domain::clock;
use crate::domain::kinds::Kinds;
use crate::domain::media::{MediaRecord, Status};
use crate::ports::{MediaRepository, MultipartStore, ObjectStore, RecordError};
use serde::Serialize;
use std::time::{Duration, Instant, SystemTime};
use time::OffsetDateTime;

#[derive(Debug, Clone)]
pub struct JanitorSettings {
    /// How long after its URL expired a pending upload is debris; also the minimum age of an
    /// unrecorded object under incoming/.
    pub grace: Duration,
    pub rejected_retention: Duration,
    /// At most this many records and objects are examined per run.
    pub max_items: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub scanned: u64,
    pub deleted_records: u64,
    pub deleted_objects: u64,
    /// Multipart uploads under incoming/ that no pending record owned, aborted with their parts.
    pub aborted_uploads: u64,
    pub skipped: u64,
    pub errors: u64,
}

pub struct Janitor<R, O> {
    pub records: R,
    pub objects: O,
    pub kinds: Kinds,
    pub settings: JanitorSettings,
    pub events: crate::domain::events::Events,
}

pub enum Step {
    Deleted { records: u64, objects: u64 },
    Aborted,
    /// Taken out of the janitor's index: nothing to do for it, now or later.
    Unindexed,
    Skipped,
}

/// One debris class's share of a run: `max_items` actions (deletes and failures), and at most
/// `EXAMINE_FACTOR` times that many items looked at, so skips cannot make a run unbounded.
struct Budget {
    acted: usize,
    examined: usize,
    max: usize,
}

const EXAMINE_FACTOR: usize = 4;

impl Budget {
    fn new(max: usize) -> Self {
        Self { acted: 0, examined: 0, max }
    }
    fn exhausted(&self, deadline: Instant) -> bool {
        self.acted >= self.max || self.examined >= self.max.saturating_mul(EXAMINE_FACTOR) || Instant::now() >= deadline
    }
    fn page_size(&self) -> usize {
        self.max.saturating_sub(self.acted).clamp(1, 100)
    }
    fn spend(&mut self, step: &Result<Step, String>) {
        self.examined += 1;
        if !matches!(step, Ok(Step::Skipped)) {
            self.acted += 1;
        }
    }
}

fn at(s: &str) -> Option<OffsetDateTime> {
    clock::parse(s)
}

impl<R: MediaRepository, O: ObjectStore + MultipartStore> Janitor<R, O> {
    /// One run as of `now`, stopping before `deadline`. Each debris class has its own budget
    /// (records due through the index, then objects under incoming/), so a flood of one kind
    /// never starves the other; only items acted on count against it, and skipped ones are
    /// bounded by a cap on items examined.
    pub async fn run(&self, now: OffsetDateTime, deadline: Instant) -> Summary {
        let mut summary = Summary::default();
        self.sweep_due_records(now, deadline, &mut summary).await;
        self.sweep_incoming_objects(now, deadline, &mut summary).await;
        self.sweep_open_uploads(now, deadline, &mut summary).await;
        summary
    }

    /// Records the index says are due (expired pending, old rejected, expired unattached,
    /// half-finished deletes), oldest `gc_at` first.
    async fn sweep_due_records(&self, now: OffsetDateTime, deadline: Instant, summary: &mut Summary) {
        let now_s = clock::format(now);
        let mut budget = Budget::new(self.settings.max_items);
        let mut start = None;
        loop {
            if budget.exhausted(deadline) {
                return;
            }
            let (records, next) = match self.records.gc_due(&now_s, budget.page_size(), start.take()).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(error = %e, "gc_due query failed");
                    summary.errors += 1;
                    return;
                }
            };
            for r in records {
                if budget.exhausted(deadline) {
                    return;
                }
                summary.scanned += 1;
                let step = self.sweep_record(&r, now).await;
                budget.spend(&step);
                self.tally(summary, &r.id, step);
            }
            match next {
                Some(k) => start = Some(k),
                None => return,
            }
        }
    }

    /// Objects under incoming/ that no record names.
    async fn sweep_incoming_objects(&self, now: OffsetDateTime, deadline: Instant, summary: &mut Summary) {
        let mut budget = Budget::new(self.settings.max_items);
        let mut continuation = None;
        loop {
            if budget.exhausted(deadline) {
                return;
            }
            let (objects, next) = match self.objects.list_page(crate::domain::keys::INCOMING_PREFIX, continuation.take(), budget.page_size() as i32).await {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(error = %e, "listing incoming/ failed");
                    summary.errors += 1;
                    return;
                }
            };
            for (key, modified) in objects {
                if budget.exhausted(deadline) {
                    return;
                }
                summary.scanned += 1;
                let step = self.sweep_incoming(&key, modified, now).await;
                budget.spend(&step);
                self.tally(summary, &key, step);
            }
            match next {
                Some(c) => continuation = Some(c),
                None => return,
            }
        }
    }

    /// Multipart uploads under incoming/ whose record is gone, or no longer pending with that
    /// upload: a delete that crashed between its steps, a record removed by hand. Those a
    /// pending record owns are left to the record rules above.
    async fn sweep_open_uploads(&self, now: OffsetDateTime, deadline: Instant, summary: &mut Summary) {
        let mut budget = Budget::new(self.settings.max_items);
        let mut marker = None;
        loop {
            if budget.exhausted(deadline) {
                return;
            }
            let (uploads, next) = match self.objects.list_uploads(crate::domain::keys::INCOMING_PREFIX, marker.take(), budget.page_size() as i32).await {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(error = %e, "listing multipart uploads under incoming/ failed");
                    summary.errors += 1;
                    return;
                }
            };
            for upload in uploads {
                if budget.exhausted(deadline) {
                    return;
                }
                summary.scanned += 1;
                let step = self.sweep_open_upload(&upload, now).await;
                budget.spend(&step);
                self.tally(summary, &upload.key, step);
            }
            match next {
                Some(m) => marker = Some(m),
                None => return,
            }
        }
    }

    async fn sweep_open_upload(&self, upload: &crate::ports::OpenUpload, now: OffsetDateTime) -> Result<Step, String> {
        // A slot starts its upload just before writing its record: young ones may be mid-slot.
        let old_enough = upload.initiated.map(OffsetDateTime::from).is_some_and(|t| t + self.settings.grace <= now);
        if !old_enough {
            return Ok(Step::Skipped);
        }
        if let Some(id) = crate::domain::keys::incoming_id(&upload.key) {
            let record = self.records.get(&id.to_string()).await.map_err(|e| e.to_string())?;
            let owned = record.is_some_and(|r| r.status == Status::Pending && r.multipart.is_some_and(|m| m.upload_id == upload.upload_id));
            if owned {
                return Ok(Step::Skipped);
            }
        }
        self.objects.abort_multipart(&upload.key, &upload.upload_id).await.map_err(|e| e.to_string())?;
        tracing::info!(key = %upload.key, "orphaned multipart upload aborted");
        Ok(Step::Aborted)
    }

    fn tally(&self, summary: &mut Summary, what: &str, result: Result<Step, String>) {
        match result {
            Ok(Step::Aborted) => summary.aborted_uploads += 1,
            Ok(Step::Deleted { records, objects }) => {
                summary.deleted_records += records;
                summary.deleted_objects += objects;
            }
            Ok(Step::Skipped) | Ok(Step::Unindexed) => summary.skipped += 1,
            Err(e) => {
                tracing::warn!(item = what, error = %e, "janitor item failed; the next run retries");
                summary.errors += 1;
            }
        }
    }

    /// Decides one record as it was selected. Public so tests can replay a stale selection.
    pub async fn sweep_record(&self, r: &MediaRecord, now: OffsetDateTime) -> Result<Step, String> {
        let due = |t: Option<OffsetDateTime>, after: Duration| t.is_some_and(|t| t + after <= now);
        match r.status {
            Status::Pending if due(at(&r.upload_expires_at), self.settings.grace) => self.remove(r).await,
            // gc_at is set when the media is rejected and moved by nothing but a state change,
            // so the rule the index orders by is the rule applied (PATCH cannot keep it fresh).
            Status::Rejected if due(r.gc_at.as_deref().and_then(at), Duration::ZERO) => self.remove(r).await,
            Status::Ready => {
                let expires = self.kinds.get(&r.kind).and_then(|k| k.unattached_ttl).is_some();
                match r.gc_at.as_deref() {
                    Some(gc_at) if expires && r.attached_to.is_none() && due(at(gc_at), Duration::ZERO) => {
                        let marked = match self.records.mark_expired_deleting(&r.id, gc_at, &clock::format(now)).await {
                            Ok(m) => m,
                            Err(RecordError::ConditionFailed) => return Ok(Step::Skipped),
                            Err(e) => return Err(e.to_string()),
                        };
                        self.finish_delete(&marked).await
                    }
                    // Indexed, but no rule applies any more (the kind no longer expires media):
                    // leave the index, or it would be selected and skipped on every run.
                    Some(gc_at) if !expires || r.attached_to.is_some() => match self.records.clear_gc(&r.id, gc_at).await {
                        Ok(()) => Ok(Step::Unindexed),
                        Err(RecordError::ConditionFailed) => Ok(Step::Skipped),
                        Err(e) => Err(e.to_string()),
                    },
                    _ => Ok(Step::Skipped),
                }
            }
            Status::Deleting => self.finish_delete(r).await,
            _ => Ok(Step::Skipped),
        }
    }

    /// Pending and rejected debris: the record goes first (conditionally), then its object. An
    /// upload that lands in between finds no record and is deleted as a stray; the reverse
    /// order could delete the bytes of an upload that is just turning ready.
    async fn remove(&self, r: &MediaRecord) -> Result<Step, String> {
        if let (Status::Pending, Some(m)) = (r.status, &r.multipart) {
            // Its window has closed, so nothing can complete it any more; parts S3 still holds
            // cost storage until aborted (the bucket's lifecycle rule is the backstop).
            self.objects.abort_multipart(&r.incoming_key, &m.upload_id).await.map_err(|e| e.to_string())?;
        }
        match self.records.delete_if_unchanged(&r.id, r.status, r.gc_at.as_deref()).await {
            Ok(()) => {}
            Err(RecordError::ConditionFailed) => return Ok(Step::Skipped),
            Err(e) => return Err(e.to_string()),
        }
        // The upload, and whatever a crashed publish attempt may have left in the media's folder.
        let deleted = crate::usecases::deletion::remove_objects(&self.objects, r).await.map_err(|e| e.to_string())?;
        Ok(Step::Deleted { records: 1, objects: deleted })
    }

    /// Deleting records: the shared delete protocol's last two steps.
    async fn finish_delete(&self, r: &MediaRecord) -> Result<Step, String> {
        let objects = crate::usecases::deletion::finish(&self.records, &self.objects, self.events.as_ref(), r).await.map_err(|e| e.to_string())?;
        Ok(Step::Deleted { records: 1, objects })
    }

    async fn sweep_incoming(&self, key: &str, modified: Option<SystemTime>, now: OffsetDateTime) -> Result<Step, String> {
        let old_enough = modified.map(OffsetDateTime::from).is_some_and(|m| m + self.settings.grace <= now);
        if !old_enough {
            return Ok(Step::Skipped);
        }
        if let Some(id) = crate::domain::keys::incoming_id(key) {
            if self.records.get(&id.to_string()).await.map_err(|e| e.to_string())?.is_some() {
                // A record owns it; the record rules above decide.
                return Ok(Step::Skipped);
            }
        }
        self.objects.delete(key).await.map_err(|e| e.to_string())?;
        Ok(Step::Deleted { records: 0, objects: 1 })
    }
}

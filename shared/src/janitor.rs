//! The janitor: removes upload debris and nothing else.
//!
//! Work is found through the sparse `gc_due` index and by listing only `incoming/`; every
//! record delete is conditional on the state it was selected in, so a race with
//! process-upload, attach or delete keeps live media. Runs are bounded in items and time and
//! always safe to repeat.

use crate::clock;
use crate::kinds::Kinds;
use crate::media::{MediaId, MediaRecord, Status};
use crate::storage::ObjectStore;
use crate::store::{DynamoStore, StoreError};
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
    pub skipped: u64,
    pub errors: u64,
}

pub struct Janitor {
    pub store: DynamoStore,
    pub objects: ObjectStore,
    pub kinds: Kinds,
    pub settings: JanitorSettings,
}

pub enum Step {
    Deleted { records: u64, objects: u64 },
    Skipped,
}

fn at(s: &str) -> Option<OffsetDateTime> {
    clock::parse(s)
}

impl Janitor {
    /// One run as of `now`, stopping before `deadline`.
    pub async fn run(&self, now: OffsetDateTime, deadline: Instant) -> Summary {
        let mut summary = Summary::default();
        let now_s = clock::format(now);
        let mut start = None;
        // 1, 3, 4, 5: records the index says are due.
        'records: loop {
            if self.exhausted(&summary, deadline) {
                break;
            }
            let page_size = self.settings.max_items.saturating_sub(summary.scanned as usize).clamp(1, 100);
            let (records, next) = match self.store.gc_due(&now_s, page_size, start.take()).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(error = %e, "gc_due query failed");
                    summary.errors += 1;
                    break;
                }
            };
            for r in records {
                if self.exhausted(&summary, deadline) {
                    break 'records;
                }
                summary.scanned += 1;
                self.tally(&mut summary, &r.id, self.sweep_record(&r, now).await);
            }
            match next {
                Some(k) => start = Some(k),
                None => break,
            }
        }
        // 2: objects under incoming/ that no record names.
        let mut continuation = None;
        loop {
            if self.exhausted(&summary, deadline) {
                break;
            }
            let (objects, next) = match self.objects.list_page("incoming/", continuation.take(), 100).await {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(error = %e, "listing incoming/ failed");
                    summary.errors += 1;
                    break;
                }
            };
            for (key, modified) in objects {
                if self.exhausted(&summary, deadline) {
                    break;
                }
                summary.scanned += 1;
                let result = self.sweep_incoming(&key, modified, now).await;
                self.tally(&mut summary, &key, result);
            }
            match next {
                Some(c) => continuation = Some(c),
                None => break,
            }
        }
        summary
    }

    fn exhausted(&self, s: &Summary, deadline: Instant) -> bool {
        s.scanned as usize >= self.settings.max_items || Instant::now() >= deadline
    }

    fn tally(&self, summary: &mut Summary, what: &str, result: Result<Step, String>) {
        match result {
            Ok(Step::Deleted { records, objects }) => {
                summary.deleted_records += records;
                summary.deleted_objects += objects;
            }
            Ok(Step::Skipped) => summary.skipped += 1,
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
            Status::Pending if due(at(&r.upload_expires_at), self.settings.grace) => self.remove(r, &[r.incoming_key.clone()]).await,
            Status::Rejected if due(at(&r.updated_at), self.settings.rejected_retention) => {
                self.remove(r, &[r.incoming_key.clone()]).await
            }
            Status::Ready => {
                let ttl = self.kinds.get(&r.kind).and_then(|k| k.unattached_ttl);
                match ttl {
                    Some(ttl) if r.attached_to.is_none() && due(at(&r.created_at), ttl) => {
                        let marked = match self.store.mark_expired_deleting(&r.id, &r.updated_at, &clock::format(now)).await {
                            Ok(m) => m,
                            Err(StoreError::ConditionFailed) => return Ok(Step::Skipped),
                            Err(e) => return Err(e.to_string()),
                        };
                        self.finish_delete(&marked).await
                    }
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
    async fn remove(&self, r: &MediaRecord, keys: &[String]) -> Result<Step, String> {
        match self.store.delete_if_unchanged(&r.id, r.status.as_str(), &r.updated_at).await {
            Ok(()) => {}
            Err(StoreError::ConditionFailed) => return Ok(Step::Skipped),
            Err(e) => return Err(e.to_string()),
        }
        let mut deleted = 0;
        for k in keys {
            if self.objects.exists(k).await.map_err(|e| e.to_string())? {
                self.objects.delete(k).await.map_err(|e| e.to_string())?;
                deleted += 1;
            }
        }
        Ok(Step::Deleted { records: 1, objects: deleted })
    }

    /// Deleting records: every object, then the record.
    async fn finish_delete(&self, r: &MediaRecord) -> Result<Step, String> {
        let keys = r.all_keys();
        let mut present = Vec::new();
        for k in keys {
            if self.objects.exists(&k).await.map_err(|e| e.to_string())? {
                present.push(k);
            }
        }
        self.objects.delete_all(&present).await.map_err(|e| e.to_string())?;
        match self.store.delete_if_unchanged(&r.id, "deleting", &r.updated_at).await {
            Ok(()) | Err(StoreError::ConditionFailed) => {}
            Err(e) => return Err(e.to_string()),
        }
        Ok(Step::Deleted { records: 1, objects: present.len() as u64 })
    }

    async fn sweep_incoming(&self, key: &str, modified: Option<SystemTime>, now: OffsetDateTime) -> Result<Step, String> {
        let old_enough = modified.map(OffsetDateTime::from).is_some_and(|m| m + self.settings.grace <= now);
        if !old_enough {
            return Ok(Step::Skipped);
        }
        let name = key.trim_start_matches("incoming/");
        if let Some(id) = MediaId::parse(name) {
            if self.store.get(&id.to_string()).await.map_err(|e| e.to_string())?.is_some() {
                // A record owns it; the record rules above decide.
                return Ok(Step::Skipped);
            }
        }
        self.objects.delete(key).await.map_err(|e| e.to_string())?;
        Ok(Step::Deleted { records: 0, objects: 1 })
    }
}

//! Multipart uploads: how a declared size is cut into parts, which parts a client may sign,
//! and the checks that turn S3's own part list into one object (or refuse to).
//!
//! The client never tells us what it uploaded: completion reads S3's part list, and every part
//! URL has its exact length signed, so the assembled object is exactly the declared size.

use crate::domain::caller::Caller;
use crate::domain::clock::{self, Clock};
use crate::domain::id::MediaId;
use crate::domain::media::{MediaRecord, MultipartUpload, Status};
use crate::ports::{MediaRepository, MultipartStore, ObjectStore, PresignedPart, ObjectError, RecordError, StoredPart};
use serde::Deserialize;
use std::time::Duration;

const MIB: u64 = 1024 * 1024;
/// S3's minimum for every part but the last.
pub const MIN_PART_BYTES: u64 = 5 * MIB;
/// Large enough that a phone on a slow link finishes a part well within a URL's life, small
/// enough that a retry repeats little.
pub const DEFAULT_PART_BYTES: u64 = 8 * MIB;
/// S3's maximum part size.
pub const MAX_PART_BYTES: u64 = 5 * 1024 * MIB;
/// Part URLs signed per request.
pub const MAX_PARTS_PER_REQUEST: usize = 100;

/// The part size and count for `size` bytes: the default part size, grown in whole MiB until
/// the count fits `max_parts`. `None` if even the largest part cannot make it fit.
pub fn part_plan(size: u64, max_parts: u32) -> Option<(u64, u32)> {
    if size == 0 || max_parts == 0 {
        return None;
    }
    let needed = size.div_ceil(u64::from(max_parts)).div_ceil(MIB) * MIB;
    let part_size = needed.max(DEFAULT_PART_BYTES);
    if part_size > MAX_PART_BYTES {
        return None;
    }
    let count = u32::try_from(size.div_ceil(part_size)).ok()?;
    (count <= max_parts).then_some((part_size, count))
}

/// The exact length of part `n` (1-based) of an upload of `total` bytes.
pub fn part_length(m: &MultipartUpload, total: u64, n: u32) -> Option<u64> {
    if n == 0 || n > m.part_count {
        return None;
    }
    let before = u64::from(n - 1) * m.part_size;
    Some(total.saturating_sub(before).min(m.part_size))
}

/// Why S3's parts do not make the declared object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartsProblem {
    #[error("parts {} are missing", list(.0))]
    Missing(Vec<u32>),
    #[error("part {part} is {actual} bytes, {expected} were expected")]
    WrongSize { part: u32, actual: u64, expected: u64 },
    #[error("part {0} is not part of this upload")]
    Unexpected(u32),
}

/// The first few numbers of a list, for a message a person reads.
fn list(numbers: &[u32]) -> String {
    let shown: Vec<String> = numbers.iter().take(10).map(u32::to_string).collect();
    let more = numbers.len().saturating_sub(shown.len());
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// Checks that `parts` are exactly parts 1..=count with their exact lengths, so that the sizes
/// add up to `total`.
pub fn check_parts(m: &MultipartUpload, total: u64, parts: &[StoredPart]) -> Result<(), PartsProblem> {
    if let Some(p) = parts.iter().find(|p| p.part_number == 0 || p.part_number > m.part_count) {
        return Err(PartsProblem::Unexpected(p.part_number));
    }
    let missing: Vec<u32> = (1..=m.part_count).filter(|n| !parts.iter().any(|p| p.part_number == *n)).collect();
    if !missing.is_empty() {
        return Err(PartsProblem::Missing(missing));
    }
    for p in parts {
        let expected = part_length(m, total, p.part_number).unwrap_or(0);
        if p.size != expected {
            return Err(PartsProblem::WrongSize { part: p.part_number, actual: p.size, expected });
        }
    }
    Ok(())
}

/// When the upload's window closes: no part URL is signed and nothing is assembled after it.
fn window_end(record: &MediaRecord) -> Result<time::OffsetDateTime, MultipartError> {
    clock::parse(&record.upload_expires_at).ok_or_else(|| RecordError::Other(format!("bad upload_expires_at on {}", record.id)).into())
}

/// `POST /v1/uploads/{id}/parts`: which parts to sign.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartsRequest {
    pub part_numbers: Vec<u32>,
}

#[derive(Debug, thiserror::Error)]
pub enum MultipartError {
    #[error("no such upload")]
    NotFound,
    #[error("this upload is not a multipart upload")]
    NotMultipart,
    #[error("this upload is no longer pending")]
    NotPending,
    #[error("this upload's window has closed; start a new one")]
    Expired,
    #[error("{0}")]
    BadParts(String),
    #[error("the parts do not make the declared file: {0}")]
    Incomplete(PartsProblem),
    #[error(transparent)]
    Store(#[from] RecordError),
    #[error(transparent)]
    Storage(#[from] ObjectError),
}

/// The multipart routes' operations, for the owner of a pending multipart media.
pub struct MultipartService<R, M, C> {
    pub records: R,
    pub parts: M,
    pub clock: C,
    /// How long each part URL is valid.
    pub url_ttl: Duration,
}

impl<R: MediaRepository, M: MultipartStore + ObjectStore, C: Clock> MultipartService<R, M, C> {
    /// The caller's pending upload.
    async fn pending(&self, caller: &Caller, id: MediaId) -> Result<MediaRecord, MultipartError> {
        let record = self.records.get(&id.to_string()).await?.ok_or(MultipartError::NotFound)?;
        if !crate::usecases::view::is_owner(caller, &record) {
            // Someone else's upload (or one being deleted) does not exist, as far as this caller can tell.
            return Err(MultipartError::NotFound);
        }
        if record.status != Status::Pending {
            return Err(MultipartError::NotPending);
        }
        Ok(record)
    }

    /// The caller's pending multipart record, with its upload.
    async fn open(&self, caller: &Caller, id: MediaId) -> Result<(MediaRecord, MultipartUpload), MultipartError> {
        let record = self.pending(caller, id).await?;
        let upload = record.multipart.clone().ok_or(MultipartError::NotMultipart)?;
        Ok((record, upload))
    }

    /// Presigned UploadPart URLs for the requested parts, each with its exact length signed.
    pub async fn sign_parts(&self, caller: &Caller, id: MediaId, request: PartsRequest) -> Result<Vec<PresignedPart>, MultipartError> {
        let mut numbers = request.part_numbers;
        if numbers.is_empty() || numbers.len() > MAX_PARTS_PER_REQUEST {
            return Err(MultipartError::BadParts(format!("part_numbers must hold 1 to {MAX_PARTS_PER_REQUEST} entries")));
        }
        numbers.sort_unstable();
        numbers.dedup();
        let (record, upload) = self.open(caller, id).await?;
        let now = self.clock.now();
        let window_end = window_end(&record)?;
        if now >= window_end {
            return Err(MultipartError::Expired);
        }
        let total = record.declared_size.ok_or(MultipartError::NotMultipart)?;
        let ttl = self.url_ttl.min((window_end - now).try_into().unwrap_or(self.url_ttl));
        let mut signed = Vec::with_capacity(numbers.len());
        for n in numbers {
            let length = part_length(&upload, total, n)
                .ok_or_else(|| MultipartError::BadParts(format!("part numbers are 1 to {}", upload.part_count)))?;
            signed.push(self.parts.presign_part(&record.incoming_key, &upload.upload_id, n, length, now.into(), ttl).await?);
        }
        Ok(signed)
    }

    /// The parts S3 already holds: what a client resumes from.
    pub async fn parts(&self, caller: &Caller, id: MediaId) -> Result<Vec<StoredPart>, MultipartError> {
        let (record, upload) = self.open(caller, id).await?;
        Ok(self.parts.list_parts(&record.incoming_key, &upload.upload_id, upload.part_count).await?.unwrap_or_default())
    }

    /// Assembles the object from S3's part list if the parts make the declared file. An upload
    /// S3 no longer knows was completed by an earlier call: verification takes it from there.
    pub async fn assemble(&self, caller: &Caller, id: MediaId) -> Result<(), MultipartError> {
        let (record, upload) = match self.open(caller, id).await {
            Ok(open) => open,
            // Not multipart, or already decided: the ordinary completion answers.
            Err(MultipartError::NotMultipart | MultipartError::NotPending) => return Ok(()),
            Err(e) => return Err(e),
        };
        if self.clock.now() >= window_end(&record)? {
            return Err(MultipartError::Expired);
        }
        let total = record.declared_size.ok_or(MultipartError::NotMultipart)?;
        let Some(parts) = self.parts.list_parts(&record.incoming_key, &upload.upload_id, upload.part_count).await? else {
            return Ok(());
        };
        check_parts(&upload, total, &parts).map_err(MultipartError::Incomplete)?;
        self.parts.complete_multipart(&record.incoming_key, &upload.upload_id, &parts).await?;
        tracing::info!(media_id = %record.id, parts = parts.len(), "multipart upload assembled");
        Ok(())
    }

    /// `DELETE /v1/uploads/{id}`: the owner gives up a pending upload. The record goes first
    /// (to deleting, so no verification can publish it), then S3's parts and every object,
    /// then the record: the delete protocol, without an event (nothing was announced).
    pub async fn abort(&self, caller: &Caller, id: MediaId) -> Result<(), MultipartError> {
        self.pending(caller, id).await?;
        let id = id.to_string();
        let now = clock::format(self.clock.now());
        let marked = match self.records.mark_deleting(&id, Some(&caller.user_id), &now).await {
            Ok(r) => r,
            Err(RecordError::ConditionFailed) => return Err(MultipartError::NotPending),
            Err(e) => return Err(e.into()),
        };
        if crate::usecases::deletion::was_decided(&marked) {
            // Decided between the check and the mark: its deletion is announced, which this
            // function cannot do. The record is janitor work due now; the janitor finishes it.
            tracing::info!(media_id = %id, "upload decided while being aborted; deletion left to the janitor");
            return Ok(());
        }
        crate::usecases::deletion::finish(&self.records, &self.parts, &crate::domain::events::NoEvents, &marked).await.map_err(|e| match e {
            crate::usecases::deletion::DeleteError::Store(s) => MultipartError::Store(s),
            crate::usecases::deletion::DeleteError::Storage(s) => MultipartError::Storage(s),
            crate::usecases::deletion::DeleteError::Events(e) => MultipartError::Storage(ObjectError::Other(e.to_string())),
        })?;
        tracing::info!(media_id = %id, "upload aborted");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload(part_size: u64, part_count: u32) -> MultipartUpload {
        MultipartUpload { upload_id: "u".into(), part_size, part_count }
    }

    fn part(n: u32, size: u64) -> StoredPart {
        StoredPart { part_number: n, size, etag: format!("e{n}") }
    }

    #[test]
    fn plans_fit_the_part_limit_and_s3_minimum() {
        assert_eq!(part_plan(60 * MIB, 1000), Some((8 * MIB, 8)));
        assert_eq!(part_plan(1, 1000), Some((8 * MIB, 1)));
        assert_eq!(part_plan(8 * MIB, 1000), Some((8 * MIB, 1)));
        assert_eq!(part_plan(8 * MIB + 1, 1000), Some((8 * MIB, 2)));
        // 5 GiB in at most 100 parts: parts grow to 52 MiB (whole MiB), 99 of them.
        let (size, count) = part_plan(5 * 1024 * MIB, 100).unwrap();
        assert_eq!((size, count), (52 * MIB, 99));
        assert!(part_plan(0, 10).is_none());
        assert!(part_plan(u64::MAX, 10_000).is_none());
        for total in [1, MIB, 9 * MIB + 7, 600 * MIB + 1] {
            let (size, count) = part_plan(total, 10).unwrap();
            assert!(size >= MIN_PART_BYTES && count <= 10);
            let m = upload(size, count);
            let sum: u64 = (1..=count).map(|n| part_length(&m, total, n).unwrap()).sum();
            assert_eq!(sum, total, "{total}");
        }
    }

    #[test]
    fn completion_needs_every_part_at_its_exact_length() {
        let m = upload(8, 3);
        assert_eq!(check_parts(&m, 20, &[part(1, 8), part(2, 8), part(3, 4)]), Ok(()));
        assert_eq!(check_parts(&m, 20, &[part(1, 8), part(3, 4)]), Err(PartsProblem::Missing(vec![2])));
        assert_eq!(check_parts(&m, 20, &[]), Err(PartsProblem::Missing(vec![1, 2, 3])));
        assert_eq!(check_parts(&m, 20, &[part(1, 8), part(2, 7), part(3, 4)]), Err(PartsProblem::WrongSize { part: 2, actual: 7, expected: 8 }));
        assert_eq!(check_parts(&m, 20, &[part(1, 8), part(2, 8), part(3, 4), part(4, 1)]), Err(PartsProblem::Unexpected(4)));
        assert_eq!(part_length(&m, 20, 0), None);
        assert_eq!(part_length(&m, 20, 4), None);
        let many: Vec<u32> = (1..=25).collect();
        assert_eq!(PartsProblem::Missing(many).to_string(), "parts 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 15 more are missing");
    }
}

//! The delete protocol, the one copy used by the media API, the upload API's abort and the
//! janitor:
//! 1. the record says `deleting` (invisible to the API, janitor work due now), so a failure
//!    before the objects are gone loses track of nothing;
//! 2. an upload that was never decided has its S3 multipart upload aborted (its parts are
//!    storage no listing of objects shows), then every object of the media goes: the upload,
//!    the original, the variants, and everything else under the media's folder (derived
//!    objects, leftovers of a crashed publish);
//! 3. `media.deleted` is published for a media that had a verdict (a failure leaves the record
//!    `deleting`: the janitor repeats steps 2 and 3, with the same event id); an upload given up
//!    before its verdict was never announced, so its removal announces nothing either;
//! 4. the record goes, only if it is still the `deleting` record of step 1.

use crate::domain::events::{EventError, EventSink, EventType, MediaEvent};
use crate::domain::media::{MediaRecord, Status};
use crate::ports::{MediaRepository, MultipartStore, ObjectStore, ObjectError, RecordError};

#[derive(Debug, thiserror::Error)]
pub enum DeleteError {
    #[error(transparent)]
    Store(#[from] RecordError),
    #[error(transparent)]
    Storage(#[from] ObjectError),
    #[error(transparent)]
    Events(#[from] EventError),
}

/// Step 1. `owner` restricts it to the owner's media (`ConditionFailed` otherwise).
pub async fn start(store: &impl MediaRepository, id: &str, owner: Option<&str>, now: &str) -> Result<MediaRecord, RecordError> {
    store.mark_deleting(id, owner, now).await
}

/// Whether a media was ever decided (ready or rejected): only those were announced, so only
/// those announce their deletion.
pub fn was_decided(r: &MediaRecord) -> bool {
    r.decided_at.is_some()
}

/// Steps 2 to 4 for a record in `deleting`. Returns how many objects were removed. Safe to
/// repeat: a record already gone is success.
pub async fn finish(store: &impl MediaRepository, objects: &(impl ObjectStore + MultipartStore), events: &dyn EventSink, r: &MediaRecord) -> Result<u64, DeleteError> {
    if let (false, Some(upload)) = (was_decided(r), &r.multipart) {
        // Aborting an upload S3 no longer knows (completed, aborted before) succeeds.
        objects.abort_multipart(&r.incoming_key, &upload.upload_id).await?;
    }
    let removed = remove_objects(objects, r).await?;
    if was_decided(r) {
        // `updated_at` is when the delete started: the same in every repetition of this step.
        events.publish(&MediaEvent::new(EventType::Deleted, r, &r.updated_at)).await?;
    }
    forget(store, r).await?;
    Ok(removed)
}

/// Every object a media may have: the keys its record names, then whatever else is under its
/// folder. Returns how many there were.
pub async fn remove_objects(objects: &impl ObjectStore, r: &MediaRecord) -> Result<u64, ObjectError> {
    let mut present = Vec::new();
    for key in r.all_keys() {
        if objects.exists(&key).await? {
            present.push(key);
        }
    }
    objects.delete_all(&present).await?;
    let rest = objects.delete_prefix(&r.object_prefix()).await?;
    Ok(present.len() as u64 + rest)
}

async fn forget(store: &impl MediaRepository, r: &MediaRecord) -> Result<(), RecordError> {
    match store.delete_if_unchanged(&r.id, Status::Deleting, r.gc_at.as_deref()).await {
        Ok(()) | Err(RecordError::ConditionFailed) => Ok(()),
        Err(e) => Err(e),
    }
}

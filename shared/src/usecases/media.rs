//! The media API's use cases: get, list, URLs, edit, attach/detach and delete. Handlers parse a
//! request into these inputs, call one method and render the answer; every rule (who may see
//! what, which state allows which change, why an attach failed, when detached media expires)
//! lives here, written against the ports only.

use crate::domain::caller::Caller;
use crate::domain::clock::{self, Clock};
use crate::domain::kinds::{KindName, Kinds};
use crate::domain::id::MediaId;
use crate::domain::media::{MediaRecord, Status};
use crate::ports::{ListBy, ListFilter, MediaRepository, MetadataEdit, MultipartStore, ObjectStore, PageToken, ObjectError, RecordError};
use crate::usecases::view::{can_read, is_owner, MediaView, SignedUrl, UrlSigner};
use std::time::Duration;

/// Why a media use case did not happen. Mapped to HTTP once, in `error.rs`.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// Missing, or not the caller's to see: existence never leaks.
    #[error("no such media")]
    NotFound,
    #[error("no such variant")]
    NoSuchVariant,
    #[error("you are not a member of that scope")]
    NotMember,
    #[error("unknown kind")]
    UnknownKind,
    #[error("{0}")]
    NotReady(&'static str),
    #[error("the media is a {0}")]
    WrongKind(KindName),
    #[error("only images have transforms")]
    NotAnImage,
    /// The URL could not be signed (the key was refused): ours, never the caller's.
    #[error("signing: {0}")]
    Signing(String),
    #[error("the media is attached to another ref")]
    AlreadyAttached,
    #[error("the cursor is not valid for this listing")]
    InvalidCursor,
    #[error(transparent)]
    Store(#[from] RecordError),
    #[error(transparent)]
    Storage(#[from] ObjectError),
}

/// A write that found the record in another state: to the caller, it is not there.
fn not_found_on_condition(e: RecordError) -> MediaError {
    match e {
        RecordError::ConditionFailed => MediaError::NotFound,
        other => MediaError::Store(other),
    }
}

/// `GET /v1/media`, parsed.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub scope: Option<String>,
    pub filter: ListFilter,
    pub limit: usize,
    pub cursor: Option<String>,
}

pub struct Page {
    pub items: Vec<MediaView>,
    pub next_cursor: Option<String>,
}

/// `GET /v1/media/{id}/url`, parsed: `variant` is `None` for the original.
#[derive(Debug, Clone)]
pub struct UrlQuery {
    pub variant: Option<String>,
    pub ttl: Duration,
    pub download: bool,
}

pub struct MediaService<R, O, C> {
    pub records: R,
    /// Signs URLs, and holds the object store the delete protocol uses.
    pub urls: UrlSigner<O, C>,
    pub kinds: Kinds,
    pub cursor_secret: Vec<u8>,
    pub events: crate::domain::events::Events,
    /// Builds the transform URLs `url` hands out for `w`, `h`, `fit`, `format`, `q`.
    pub links: crate::usecases::transforms::Links,
}

impl<R: MediaRepository, O: ObjectStore + MultipartStore, C: Clock> MediaService<R, O, C> {
    fn now(&self) -> String {
        clock::format(self.urls.clock.now())
    }

    /// A media the caller may read; anything else is `NotFound`.
    async fn readable(&self, caller: &Caller, id: MediaId) -> Result<MediaRecord, MediaError> {
        let record = self.records.get(&id.to_string()).await?.ok_or(MediaError::NotFound)?;
        if !can_read(caller, &record) {
            return Err(MediaError::NotFound);
        }
        Ok(record)
    }

    async fn owned(&self, caller: &Caller, id: MediaId) -> Result<MediaRecord, MediaError> {
        let record = self.readable(caller, id).await?;
        if !is_owner(caller, &record) {
            return Err(MediaError::NotFound);
        }
        Ok(record)
    }

    async fn view(&self, record: &MediaRecord) -> Result<MediaView, MediaError> {
        Ok(self.urls.render(record).await?)
    }

    pub async fn get(&self, caller: &Caller, id: MediaId) -> Result<MediaView, MediaError> {
        let record = self.readable(caller, id).await?;
        self.view(&record).await
    }

    /// The caller's media, or a scope's if the caller is a member, newest first.
    pub async fn list(&self, caller: &Caller, q: ListQuery) -> Result<Page, MediaError> {
        let by = match q.scope {
            Some(scope) if caller.is_member(&scope) => ListBy::Scope(scope),
            Some(_) => return Err(MediaError::NotMember),
            None => ListBy::Owner(caller.user_id.clone()),
        };
        if q.filter.kind.as_ref().is_some_and(|k| self.kinds.get(k).is_none()) {
            return Err(MediaError::UnknownKind);
        }
        // A cursor resumes only the listing that produced it (index, partition, filters).
        let listing = format!("{by:?}|{:?}|{:?}", q.filter.kind, q.filter.status.map(Status::as_str));
        // An empty cursor is the first page, so a client loop may start with `cursor=`.
        let start = match q.cursor.filter(|c| !c.is_empty()) {
            Some(c) => Some(crate::usecases::cursor::decode(&self.cursor_secret, &listing, &c).map_err(|_| MediaError::InvalidCursor)?),
            None => None,
        };
        let (records, next): (Vec<MediaRecord>, Option<PageToken>) = self.records.list(&by, &q.filter, q.limit, start).await?;
        let mut items = Vec::with_capacity(records.len());
        for r in &records {
            // Signing is local computation: every URL comes in this one answer.
            items.push(self.view(r).await?);
        }
        let next_cursor = next.and_then(|t| crate::usecases::cursor::encode(&self.cursor_secret, &listing, &t));
        Ok(Page { items, next_cursor })
    }

    /// A URL for the original or a variant; downloads are named for the verified type.
    pub async fn url(&self, caller: &Caller, id: MediaId, q: UrlQuery) -> Result<SignedUrl, MediaError> {
        let record = self.readable(caller, id).await?;
        if record.status != Status::Ready {
            return Err(MediaError::NotReady("the media is not ready"));
        }
        let (key, filename) = match &q.variant {
            // What `url` is: a HEIC/HEIF original's rendition, unless it is downloaded.
            None if !q.download && record.display.is_some() => {
                let d = record.display.as_ref().ok_or(MediaError::NotFound)?;
                (d.key.clone(), crate::domain::upload::download_name(&record.filename, "", d.content_type.extension()))
            }
            None => {
                let extension = record.content_type.unwrap_or(record.declared_type).extension();
                (record.final_key.clone().ok_or(MediaError::NotFound)?, crate::domain::upload::download_name(&record.filename, "", extension))
            }
            Some(size) => {
                let v = record.variants.get(size).ok_or(MediaError::NoSuchVariant)?;
                (v.key.clone(), crate::domain::upload::download_name(&record.filename, &format!("-w{size}"), "webp"))
            }
        };
        let disposition = q.download.then(|| crate::domain::upload::content_disposition(&filename));
        Ok(self.urls.url_for(record.visibility, &key, q.ttl, disposition).await?)
    }

    /// A transform URL (`GET /v1/media/{id}/image`) of a ready image: signed for `ttl` when
    /// the media is private (or public and not a preset under `PUBLIC_TRANSFORMS=presets`),
    /// plain (and lasting) otherwise.
    pub async fn transform_url(&self, caller: &Caller, id: MediaId, spec: &crate::domain::transform::TransformSpec, ttl: Duration) -> Result<SignedUrl, MediaError> {
        let record = self.readable(caller, id).await?;
        if record.status != Status::Ready {
            return Err(MediaError::NotReady("the media is not ready"));
        }
        if record.content_type.is_some_and(|c| c.is_video()) && record.poster.is_none() {
            return Err(MediaError::NotAnImage);
        }
        let now = self.urls.clock.now();
        let expires = now + ttl;
        let public = self.links.public_transforms;
        let url = crate::usecases::transforms::link(&self.links.base_url, &record, spec, &self.links.secret, expires.unix_timestamp(), public)
            .ok_or_else(|| MediaError::Signing("HMAC refused the transform key".into()))?;
        Ok(match crate::usecases::transforms::needs_signature(&record, spec, public) {
            false => SignedUrl { url, expires_at: None, expires_in: None },
            true => SignedUrl { url, expires_at: Some(clock::format(expires)), expires_in: Some(ttl.as_secs()) },
        })
    }

    pub async fn patch(&self, caller: &Caller, id: MediaId, edit: &MetadataEdit) -> Result<MediaView, MediaError> {
        let record = self.owned(caller, id).await?;
        let updated = self.records.update_metadata(&record.id, &caller.user_id, edit, &self.now()).await.map_err(not_found_on_condition)?;
        self.view(&updated).await
    }

    /// Marks ready media as used by `reference`; says exactly which rule failed otherwise.
    pub async fn attach(&self, caller: &Caller, id: MediaId, reference: &str, expect_kind: Option<&KindName>) -> Result<MediaView, MediaError> {
        let record = self.owned(caller, id).await?;
        match self.records.attach(&record.id, &caller.user_id, reference, expect_kind, &self.now()).await {
            Ok(updated) => self.view(&updated).await,
            Err(RecordError::ConditionFailed) => {
                let current = self.owned(caller, id).await?;
                Err(if current.status != Status::Ready {
                    MediaError::NotReady("only ready media can be attached")
                } else if expect_kind.is_some_and(|k| *k != current.kind) {
                    MediaError::WrongKind(current.kind)
                } else {
                    MediaError::AlreadyAttached
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Detaches; ready media of kinds whose unattached media expire becomes janitor work again.
    pub async fn detach(&self, caller: &Caller, id: MediaId) -> Result<MediaView, MediaError> {
        let record = self.owned(caller, id).await?;
        let now = self.urls.clock.now();
        // Detached, a ready media is unattached again (a pending one gets its expiry when ready).
        let gc_at = self.kinds.get(&record.kind).filter(|_| record.status == Status::Ready).and_then(|k| k.unattached_gc_at(false, now));
        let updated = self
            .records
            .detach(&record.id, &caller.user_id, gc_at.as_deref(), &clock::format(now))
            .await
            .map_err(not_found_on_condition)?;
        self.view(&updated).await
    }

    /// The delete protocol; once the record says `deleting`, a failure is the janitor's to
    /// finish. A pending upload deleted here is given up exactly as `DELETE /v1/uploads/{id}`
    /// gives it up: its multipart upload aborted, no event.
    pub async fn delete(&self, caller: &Caller, id: MediaId) -> Result<(), MediaError> {
        let record = self.owned(caller, id).await?;
        let marked = crate::usecases::deletion::start(&self.records, &record.id, Some(&caller.user_id), &self.now()).await.map_err(not_found_on_condition)?;
        if let Err(e) = crate::usecases::deletion::finish(&self.records, &self.urls.objects, self.events.as_ref(), &marked).await {
            tracing::warn!(media_id = %marked.id, error = %e, "delete left for the janitor to finish");
        }
        Ok(())
    }
}

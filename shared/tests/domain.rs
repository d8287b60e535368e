//! The domain on the in-memory ports: verification verdicts and publishing, the janitor's
//! classes, the delete protocol and the media service's rules. No emulator, no network: these
//! run in a second. Every adapter path is covered again against the emulators in devtools/tests.

use shared::domain::caller::Caller;
use shared::domain::clock::{self, FixedClock};
use shared::imaging::DecodeLimits;
use shared::usecases::janitor::{Janitor, JanitorSettings};
use shared::domain::kinds::{ContentType, KindName, Kinds};
use shared::domain::id::MediaId;
use shared::domain::media::{MediaRecord, Status, UploadMethod};
use shared::usecases::multipart::{MultipartError, MultipartService, PartsProblem, PartsRequest};
use shared::usecases::media::{ListQuery, MediaError, MediaService, UrlQuery};
use shared::adapters::memory::{MemoryEvents, MemoryObjects, MemoryRepository, MemorySigner};
use shared::ports::{ListFilter, MediaRepository, MetadataEdit};
use shared::usecases::processing::{Outcome, Processor};
use shared::domain::upload::{Filename, ValidFile, ValidUpload};
use shared::usecases::uploads::UploadService;
use shared::usecases::view::UrlSigner;
use std::io::Cursor;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use time::OffsetDateTime;

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86400);

/// One in-memory world: the table, the bucket, and services over them at a chosen time.
struct World {
    repo: MemoryRepository,
    objects: MemoryObjects,
    events: MemoryEvents,
    t0: OffsetDateTime,
}

fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 7 % 256) as u8, (y * 3 % 256) as u8, ((x ^ y) % 256) as u8]));
    let mut out = Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85).encode_image(&img).unwrap();
    out.into_inner()
}

fn caller(user: &str) -> Caller {
    Caller::new(user, vec![]).unwrap()
}

impl World {
    fn new() -> Self {
        Self {
            repo: MemoryRepository::default(),
            objects: MemoryObjects::default(),
            events: MemoryEvents::default(),
            t0: OffsetDateTime::now_utc(),
        }
    }

    fn processor(&self, at: OffsetDateTime) -> Processor<MemoryRepository, MemoryObjects, FixedClock> {
        Processor {
            records: self.repo.clone(),
            objects: self.objects.clone(),
            kinds: Kinds::defaults(),
            limits: DecodeLimits { max_pixels: 50_000_000, max_side: 20_000, max_jpeg_scans: 64, max_memory_mb: 384, time_budget: Duration::from_secs(20) },
            quality: 80.0,
            webp_method: 0,
            parallel_encode: true,
            rejected_retention: 7 * DAY,
            publish_lease: Duration::from_secs(180),
            clock: Arc::new(FixedClock(at)),
            verify_slots: Arc::new(tokio::sync::Semaphore::new(1)),
            events: Arc::new(self.events.clone()),
        }
    }

    fn janitor(&self, max_items: usize) -> Janitor<MemoryRepository, MemoryObjects> {
        Janitor {
            records: self.repo.clone(),
            objects: self.objects.clone(),
            kinds: Kinds::defaults(),
            settings: JanitorSettings { grace: HOUR, rejected_retention: 7 * DAY, max_items },
            events: Arc::new(self.events.clone()),
        }
    }

    fn media(&self, at: OffsetDateTime) -> MediaService<MemoryRepository, MemoryObjects, FixedClock> {
        MediaService {
            records: self.repo.clone(),
            urls: UrlSigner { objects: self.objects.clone(), public_base: "https://cdn.test".into(), clock: FixedClock(at) },
            kinds: Kinds::defaults(),
            cursor_secret: b"cursor-secret".to_vec(),
            events: Arc::new(self.events.clone()),
            links: shared::usecases::transforms::Links { base_url: "https://api.test".into(), secret: b"transform-secret-of-32-characters".to_vec(), public_transforms: shared::usecases::transforms::PublicTransforms::Any },
        }
    }

    /// A pending slot of `user` created at `at`, for a JPEG.
    async fn slot(&self, user: &str, kind: &str, at: OffsetDateTime) -> MediaId {
        self.slot_for(user, kind, ContentType::Jpeg, at).await
    }

    fn uploads(&self, at: OffsetDateTime) -> UploadService<MemoryRepository, MemorySigner, MemoryObjects, FixedClock> {
        UploadService {
            records: self.repo.clone(),
            signer: MemorySigner,
            parts: self.objects.clone(),
            clock: FixedClock(at),
            url_ttl: Duration::from_secs(300),
            multipart_window: Duration::from_secs(3600),
            max_pending: 200,
            public_base: "https://cdn.test".into(),
        }
    }

    fn multipart(&self, at: OffsetDateTime) -> MultipartService<MemoryRepository, MemoryObjects, FixedClock> {
        MultipartService { records: self.repo.clone(), parts: self.objects.clone(), clock: FixedClock(at), url_ttl: Duration::from_secs(300) }
    }

    async fn slot_for(&self, user: &str, kind: &str, content_type: ContentType, at: OffsetDateTime) -> MediaId {
        let service = self.uploads(at);
        let upload = ValidUpload {
            kind: Kinds::defaults().get(kind).unwrap().clone(),
            scope: None,
            method: UploadMethod::Post,
            files: vec![ValidFile { filename: Filename::parse("photo.html").unwrap(), content_type, size_bytes: None }],
        };
        let slot = service.create(&caller(user), upload).await.unwrap().pop().unwrap();
        MediaId::parse(&slot.media_id).unwrap()
    }

    /// A slot (declaring the type the bytes are, or JPEG), its upload and its verification.
    async fn uploaded(&self, user: &str, kind: &str, bytes: Vec<u8>, at: OffsetDateTime) -> MediaRecord {
        let declared = shared::imaging::sniff(&bytes).unwrap_or(ContentType::Jpeg);
        let id = self.slot_for(user, kind, declared, at).await;
        self.objects.insert(&format!("incoming/{id}"), bytes, SystemTime::now());
        match self.processor(at).process(id).await.unwrap() {
            Outcome::Decided(r) => r,
            other => panic!("not decided: {other:?}"),
        }
    }

    async fn record(&self, id: &str) -> Option<MediaRecord> {
        self.repo.get(id).await.unwrap()
    }

    fn keys_under(&self, prefix: &str) -> Vec<String> {
        self.objects.keys().into_iter().filter(|k| k.starts_with(prefix)).collect()
    }
}

#[tokio::test]
async fn a_photo_becomes_ready_with_its_thumbnails_and_the_hash_of_the_stored_bytes() {
    let w = World::new();
    let r = w.uploaded("ann", "post_image", jpeg(800, 600), w.t0).await;
    assert_eq!(r.status, Status::Ready);
    assert_eq!((r.width, r.height), (Some(800), Some(600)));
    let stored = w.objects.object(r.final_key.as_deref().unwrap()).unwrap();
    use sha2::Digest;
    assert_eq!(Some(hex::encode(sha2::Sha256::digest(&stored.bytes))), r.sha256);
    assert_eq!(stored.cache_control, shared::domain::keys::IMMUTABLE);
    assert_eq!(r.variants.keys().collect::<Vec<_>>(), ["128", "512"]);
    let mut expected: Vec<String> = r.variants.values().map(|v| v.key.clone()).chain(r.final_key.clone()).collect();
    expected.sort();
    assert_eq!(w.keys_under(&r.object_prefix()), expected, "exactly the record's objects");
    assert!(w.keys_under("incoming/").is_empty());
    assert!(r.publish_claim.is_none(), "the claim is released with the verdict");
}

#[tokio::test]
async fn hostile_files_get_final_verdicts_and_their_bytes_removed() {
    let w = World::new();
    let tiny_webp = {
        let mut one = Vec::new();
        image::RgbaImage::from_pixel(1, 1, image::Rgba([1, 2, 3, 255])).write_to(&mut Cursor::new(&mut one), image::ImageFormat::WebP).unwrap();
        let mut body = one[12..].to_vec();
        body.extend_from_slice(b"VP8X\0\0\0\0");
        let mut riff = b"RIFF".to_vec();
        riff.extend_from_slice(&((body.len() + 4) as u32).to_le_bytes());
        riff.extend_from_slice(b"WEBP");
        riff.extend_from_slice(&body);
        riff
    };
    let truncated = {
        let j = jpeg(300, 200);
        j[..j.len() / 2].to_vec()
    };
    for (bytes, code) in [(tiny_webp, "corrupt_image"), (truncated, "corrupt_image"), (b"<html>".to_vec(), "not_an_image")] {
        let r = w.uploaded("eve", "avatar", bytes, w.t0).await;
        assert_eq!((r.status, r.rejection.as_ref().map(|x| x.code.as_str())), (Status::Rejected, Some(code)));
        assert!(w.keys_under("incoming/").is_empty());
        assert!(w.keys_under(&r.object_prefix()).is_empty(), "nothing published for a rejected media");
    }
}

#[tokio::test]
async fn a_put_whose_bytes_differ_from_the_declared_size_is_a_size_mismatch() {
    let w = World::new();
    let service = w.uploads(w.t0);
    let bytes = jpeg(300, 200);
    let upload = ValidUpload {
        kind: Kinds::defaults().get("image").unwrap().clone(),
        scope: None,
        method: UploadMethod::Put,
        files: vec![ValidFile { filename: Filename::parse("a.jpg").unwrap(), content_type: ContentType::Jpeg, size_bytes: Some(bytes.len() as u64 + 1) }],
    };
    let slot = service.create(&caller("sam"), upload).await.unwrap().pop().unwrap();
    w.objects.insert(&slot.key, bytes, SystemTime::now());
    let id = MediaId::parse(&slot.media_id).unwrap();
    match w.processor(w.t0).process(id).await.unwrap() {
        Outcome::Decided(r) => assert_eq!(r.rejection.map(|x| x.code), Some("size_mismatch".to_string())),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_run_that_cannot_claim_writes_nothing_and_reports_the_winners_verdict() {
    let w = World::new();
    let id = w.slot("ray", "post_image", w.t0).await;
    w.objects.insert(&format!("incoming/{id}"), jpeg(400, 300), SystemTime::now());
    // Another run holds a live claim and then decides while this one waits for it.
    let now = clock::format(w.t0);
    w.repo.claim_publish(&id.to_string(), "other-run", &now, &clock::format(w.t0 + HOUR)).await.unwrap();
    let loser = w.processor(w.t0);
    let decide = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        w.repo.release_claim(&id.to_string(), "other-run").await.unwrap();
        let rejection = shared::domain::media::Rejection { code: "corrupt_image".into(), message: "decided elsewhere".into() };
        w.repo.mark_rejected(&id.to_string(), &rejection, &now, &now).await.unwrap();
    };
    let (outcome, ()) = tokio::join!(loser.process(id), decide);
    match outcome.unwrap() {
        Outcome::AlreadyDone(r) => assert_eq!(r.status, Status::Rejected),
        other => panic!("{other:?}"),
    }
    assert!(w.keys_under("public/").is_empty(), "the loser published nothing");
}

#[tokio::test]
async fn a_lapsed_claim_is_taken_over_and_leftovers_of_the_crashed_run_are_cleared() {
    let w = World::new();
    let id = w.slot("lee", "post_image", w.t0).await;
    w.objects.insert(&format!("incoming/{id}"), jpeg(300, 200), SystemTime::now());
    // A run claimed, wrote a stale variant and crashed; its lease has lapsed.
    w.repo.claim_publish(&id.to_string(), "crashed", &clock::format(w.t0), &clock::format(w.t0 + Duration::from_secs(1))).await.unwrap();
    w.objects.insert(&format!("public/post_image/{id}/w1024.webp"), b"stale".to_vec(), SystemTime::now());
    let r = match w.processor(w.t0 + HOUR).process(id).await.unwrap() {
        Outcome::Decided(r) => r,
        other => panic!("{other:?}"),
    };
    assert_eq!(r.status, Status::Ready);
    assert!(!w.keys_under(&r.object_prefix()).iter().any(|k| k.ends_with("w1024.webp")), "the stale variant is gone");
}

#[tokio::test]
async fn the_janitor_judges_by_gc_at_so_edits_cannot_keep_debris_fresh() {
    let w = World::new();
    let rejected = w.uploaded("mal", "image", b"junk".to_vec(), w.t0).await;
    let edit = MetadataEdit { title: Some(Some("fresh".into())), ..Default::default() };
    let later = w.t0 + 7 * DAY + HOUR;
    w.repo.update_metadata(&rejected.id, "mal", &edit, &clock::format(later)).await.unwrap();
    let pending = w.slot("mal", "image", w.t0).await;
    let s = w.janitor(10).run(later + HOUR, Instant::now() + Duration::from_secs(10)).await;
    assert_eq!((s.deleted_records, s.errors), (2, 0), "{s:?}");
    assert!(w.record(&rejected.id).await.is_none());
    assert!(w.record(&pending.to_string()).await.is_none());
}

#[tokio::test]
async fn expired_temp_media_goes_with_everything_under_its_folder_and_attached_media_stays() {
    let w = World::new();
    let temp = w.uploaded("tia", "temp_image", jpeg(600, 400), w.t0).await;
    let kept = w.uploaded("tia", "temp_image", jpeg(600, 400), w.t0).await;
    w.repo.attach(&kept.id, "tia", "post:1", None, &clock::format(w.t0)).await.unwrap();
    // Something derived later lives in the same folder.
    w.objects.insert(&format!("{}derived-1.avif", temp.object_prefix()), b"derived".to_vec(), SystemTime::now());
    let s = w.janitor(10).run(w.t0 + 25 * HOUR, Instant::now() + Duration::from_secs(10)).await;
    assert_eq!((s.deleted_records, s.errors), (1, 0), "{s:?}");
    assert!(w.keys_under(&temp.object_prefix()).is_empty());
    assert_eq!(w.record(&kept.id).await.unwrap().status, Status::Ready);
    assert!(!w.keys_under(&kept.object_prefix()).is_empty());
}

#[tokio::test]
async fn the_owner_deletes_everything_and_strangers_see_nothing() {
    let w = World::new();
    let r = w.uploaded("oli", "post_image", jpeg(300, 200), w.t0).await;
    let media = w.media(w.t0);
    let id = r.media_id().unwrap();
    assert!(matches!(media.get(&caller("stranger"), id).await, Err(MediaError::NotFound)));
    assert!(matches!(media.delete(&caller("stranger"), id).await, Err(MediaError::NotFound)));
    media.delete(&caller("oli"), id).await.unwrap();
    assert!(w.record(&r.id).await.is_none());
    assert!(w.keys_under(&r.object_prefix()).is_empty());
    assert!(matches!(media.delete(&caller("oli"), id).await, Err(MediaError::NotFound)), "a second delete is 404");
}

#[tokio::test]
async fn attach_says_which_rule_failed() {
    let w = World::new();
    let media = w.media(w.t0);
    let owner = caller("ada");
    let pending = w.slot("ada", "post_image", w.t0).await;
    assert!(matches!(media.attach(&owner, pending, "post:1", None).await, Err(MediaError::NotReady(_))));
    let r = w.uploaded("ada", "post_image", jpeg(300, 200), w.t0).await;
    let id = r.media_id().unwrap();
    assert!(matches!(media.attach(&owner, id, "post:1", KindName::parse("avatar").as_ref()).await, Err(MediaError::WrongKind(k)) if k.as_str() == "post_image"));
    media.attach(&owner, id, "post:1", None).await.unwrap();
    media.attach(&owner, id, "post:1", None).await.expect("the same ref again");
    assert!(matches!(media.attach(&owner, id, "post:2", None).await, Err(MediaError::AlreadyAttached)));
}

#[tokio::test]
async fn downloads_are_named_for_the_verified_type() {
    let w = World::new();
    let r = w.uploaded("dee", "image", jpeg(300, 200), w.t0).await;
    let media = w.media(w.t0);
    let q = UrlQuery { variant: None, ttl: Duration::from_secs(60), download: true };
    let url = media.url(&caller("dee"), r.media_id().unwrap(), q).await.unwrap();
    assert!(url.url.contains("download"), "{}", url.url);
    let q = UrlQuery { variant: Some("999".into()), ttl: Duration::from_secs(60), download: false };
    assert!(matches!(media.url(&caller("dee"), r.media_id().unwrap(), q).await, Err(MediaError::NoSuchVariant)));
}

#[tokio::test]
async fn a_filtered_listing_stops_after_a_bounded_number_of_pages() {
    let w = World::new();
    for i in 0..12 {
        w.slot("lis", "image", w.t0 + Duration::from_secs(i)).await;
    }
    let media = w.media(w.t0);
    let mut query = ListQuery { filter: ListFilter { kind: KindName::parse("avatar"), status: None }, limit: 1, ..Default::default() };
    let mut requests = 0;
    loop {
        let page = media.list(&caller("lis"), query.clone()).await.unwrap();
        assert!(page.items.is_empty());
        requests += 1;
        match page.next_cursor {
            Some(c) => query.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(requests, 3, "5 + 5 + 2 records evaluated");
    let tampered = ListQuery { cursor: Some("abc.def".into()), ..query };
    assert!(matches!(media.list(&caller("lis"), tampered).await, Err(MediaError::InvalidCursor)));
    let all = media.list(&caller("lis"), ListQuery { limit: 100, ..Default::default() }).await.unwrap();
    assert_eq!((all.items.len(), all.next_cursor), (12, None));
}

/// Distinct event ids per type, and how many deliveries each had.
fn ids(events: &[shared::domain::events::MediaEvent]) -> Vec<(String, &'static str)> {
    let mut v: Vec<(String, &'static str)> = events.iter().map(|e| (e.id.clone(), e.event_type.as_str())).collect();
    v.sort();
    v.dedup();
    v
}

#[tokio::test]
async fn each_decision_and_each_deletion_is_one_event_with_the_documented_fields() {
    let w = World::new();
    let ready = w.uploaded("ann", "post_image", jpeg(800, 600), w.t0).await;
    let rejected = w.uploaded("ann", "avatar", b"<html>".to_vec(), w.t0).await;
    // A duplicated S3 event and a late complete change nothing and send nothing more.
    for id in [&ready.id, &rejected.id] {
        let again = w.processor(w.t0).process(MediaId::parse(id).unwrap()).await.unwrap();
        assert!(matches!(again, Outcome::AlreadyDone(_)));
    }
    w.media(w.t0).delete(&caller("ann"), MediaId::parse(&ready.id).unwrap()).await.unwrap();

    let delivered = w.events.delivered();
    assert_eq!(delivered.len(), 3, "{delivered:?}");
    let mut expected = vec![
        (format!("{}.deleted", ready.id), "media.deleted"),
        (format!("{}.ready", ready.id), "media.ready"),
        (format!("{}.rejected", rejected.id), "media.rejected"),
    ];
    expected.sort();
    assert_eq!(ids(&delivered), expected);
    let json = serde_json::to_value(&delivered[0]).unwrap();
    assert_eq!(json["schema"], "lambda-media.media-event");
    assert_eq!(json["version"], 1);
    assert_eq!(json["type"], "media.ready");
    assert_eq!((json["media_id"].as_str(), json["owner"].as_str(), json["kind"].as_str()), (Some(ready.id.as_str()), Some("ann"), Some("post_image")));
    assert_eq!((json["status"].as_str(), json["variants"].clone()), (Some("ready"), serde_json::json!([128, 512])));
    assert_eq!(json["occurred_at"].as_str(), ready.decided_at.as_deref());
    let json = serde_json::to_value(&delivered[1]).unwrap();
    assert_eq!((json["status"].as_str(), json["rejection"]["code"].as_str()), (Some("rejected"), Some("not_an_image")));
    assert_eq!(json["variants"], serde_json::json!([]));
}

#[tokio::test]
async fn a_failed_publish_keeps_the_decision_and_the_retry_sends_the_same_event_once() {
    let w = World::new();
    let id = w.slot_for("ann", "post_image", ContentType::Jpeg, w.t0).await;
    w.objects.insert(&format!("incoming/{id}"), jpeg(640, 480), SystemTime::now());
    w.events.fail_next(1);
    let first = w.processor(w.t0).process(id).await;
    assert!(matches!(first, Err(shared::usecases::processing::ProcessError::Events(_))), "the S3 event is retried: {first:?}");
    let decided = w.record(&id.to_string()).await.unwrap();
    assert_eq!((decided.status, decided.event_sent.as_deref()), (Status::Ready, None), "decided, event still owed");
    assert!(w.events.delivered().is_empty());
    // An edit in between moves updated_at, not the decision's time the event carries.
    let edit = MetadataEdit { title: Some(Some("edited".into())), ..Default::default() };
    w.media(w.t0 + HOUR).patch(&caller("ann"), id, &edit).await.unwrap();

    // The redelivered S3 event (or a complete) finds it decided and owes the event: it sends it.
    assert!(matches!(w.processor(w.t0).process(id).await.unwrap(), Outcome::AlreadyDone(_)));
    assert!(matches!(w.processor(w.t0).process(id).await.unwrap(), Outcome::AlreadyDone(_)));
    let after = w.record(&id.to_string()).await.unwrap();
    assert_eq!(after.event_sent.as_deref(), Some("media.ready"));
    assert_eq!((after.status, &after.sha256, &after.decided_at), (Status::Ready, &decided.sha256, &decided.decided_at), "the retry changed no state");
    assert_eq!(ids(&w.events.delivered()), vec![(format!("{id}.ready"), "media.ready")]);
    assert_eq!(Some(w.events.delivered()[0].occurred_at.clone()), decided.decided_at, "the decision's time, not the edit's");
    assert_eq!(w.events.delivered().len(), 1);
}

#[tokio::test]
async fn a_delete_whose_event_fails_stays_deleting_until_the_janitor_sends_it() {
    let w = World::new();
    let r = w.uploaded("ann", "post_image", jpeg(300, 200), w.t0).await;
    w.events.fail_next(1);
    w.media(w.t0).delete(&caller("ann"), MediaId::parse(&r.id).unwrap()).await.unwrap();
    assert_eq!(w.record(&r.id).await.map(|r| r.status), Some(Status::Deleting), "the record waits for its event");
    assert!(w.keys_under(&r.object_prefix()).is_empty(), "the objects are gone already");

    let s = w.janitor(10).run(w.t0 + HOUR, Instant::now() + Duration::from_secs(30)).await;
    assert_eq!((s.deleted_records, s.errors), (1, 0), "{s:?}");
    assert!(w.record(&r.id).await.is_none());
    let deleted: Vec<_> = w.events.delivered().into_iter().filter(|e| e.event_type.as_str() == "media.deleted").collect();
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0].id, format!("{}.deleted", r.id));
}

/// A multipart slot for `bytes` as a JPEG of the `image` kind.
async fn multipart_slot(w: &World, user: &str, size: u64) -> (MediaId, shared::usecases::uploads::UploadSlot) {
    let upload = ValidUpload {
        kind: Kinds::defaults().get("image").unwrap().clone(),
        scope: None,
        method: UploadMethod::Multipart,
        files: vec![ValidFile { filename: Filename::parse("big.jpg").unwrap(), content_type: ContentType::Jpeg, size_bytes: Some(size) }],
    };
    let slot = w.uploads(w.t0).create(&caller(user), upload).await.unwrap().pop().unwrap();
    (MediaId::parse(&slot.media_id).unwrap(), slot)
}

/// A JPEG of about 9 MB (noise does not compress), so it takes two 8 MiB parts.
fn two_part_jpeg() -> Vec<u8> {
    let mut state = 12345u32;
    let img = image::RgbImage::from_fn(1700, 1300, |_, _| {
        state = state.wrapping_mul(1664525).wrapping_add(1013904223);
        let b = state.to_le_bytes();
        image::Rgb([b[1], b[2], b[3]])
    });
    let mut out = Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 100).encode_image(&img).unwrap();
    out.into_inner()
}

#[tokio::test]
async fn a_multipart_upload_is_assembled_from_the_stores_own_parts_and_verified() {
    let w = World::new();
    let bytes = two_part_jpeg();
    assert!(bytes.len() > 8 << 20 && bytes.len() < 10 << 20, "{}", bytes.len());
    let (id, slot) = multipart_slot(&w, "mia", bytes.len() as u64).await;
    assert_eq!((slot.part_size, slot.part_count), (Some(8 << 20), Some(2)));
    let upload_id = slot.upload_id.clone().unwrap();
    let mp = w.multipart(w.t0);

    let signed = mp.sign_parts(&caller("mia"), id, PartsRequest { part_numbers: vec![2, 1, 2] }).await.unwrap();
    let lengths: Vec<(u32, String)> = signed.iter().map(|p| (p.part_number, p.headers["content-length"].clone())).collect();
    assert_eq!(lengths, vec![(1, (8u64 << 20).to_string()), (2, (bytes.len() - (8 << 20)).to_string())]);
    for bad in [vec![], vec![0], vec![3], (1..=101).collect()] {
        assert!(matches!(mp.sign_parts(&caller("mia"), id, PartsRequest { part_numbers: bad }).await, Err(MultipartError::BadParts(_))));
    }
    assert!(matches!(mp.sign_parts(&caller("eve"), id, PartsRequest { part_numbers: vec![1] }).await, Err(MultipartError::NotFound)));

    let (first, second) = bytes.split_at(8 << 20);
    assert!(w.objects.upload_part(&upload_id, 1, first.to_vec()));
    match mp.assemble(&caller("mia"), id).await {
        Err(MultipartError::Incomplete(PartsProblem::Missing(m))) => assert_eq!(m, vec![2]),
        other => panic!("{other:?}"),
    }
    // A part of the wrong size (S3 refuses it when the length is signed; here it is stored).
    assert!(w.objects.upload_part(&upload_id, 2, second[1..].to_vec()));
    assert!(matches!(mp.assemble(&caller("mia"), id).await, Err(MultipartError::Incomplete(PartsProblem::WrongSize { part: 2, .. }))));
    assert!(w.objects.upload_part(&upload_id, 2, second.to_vec()));
    let held = mp.parts(&caller("mia"), id).await.unwrap();
    assert_eq!(held.iter().map(|p| p.size).sum::<u64>(), bytes.len() as u64);

    mp.assemble(&caller("mia"), id).await.unwrap();
    assert_eq!(w.objects.open_uploads(), 0);
    match w.processor(w.t0).process(id).await.unwrap() {
        Outcome::Decided(r) => {
            assert_eq!(r.status, Status::Ready, "{:?}", r.rejection);
            use sha2::Digest;
            assert_eq!(r.sha256.as_deref(), Some(hex::encode(sha2::Sha256::digest(&bytes)).as_str()));
        }
        other => panic!("{other:?}"),
    }
    // Completing again is harmless: the upload is decided.
    mp.assemble(&caller("mia"), id).await.unwrap();
}

#[tokio::test]
async fn an_aborted_upload_leaves_nothing_and_an_expired_one_is_aborted_by_the_janitor() {
    let w = World::new();
    let (id, slot) = multipart_slot(&w, "ola", 20 << 20).await;
    assert!(w.objects.upload_part(slot.upload_id.as_deref().unwrap(), 1, vec![0; 8 << 20]));
    assert!(matches!(w.multipart(w.t0).abort(&caller("eve"), id).await, Err(MultipartError::NotFound)));
    w.multipart(w.t0).abort(&caller("ola"), id).await.unwrap();
    assert_eq!((w.objects.open_uploads(), w.repo.len(), w.objects.keys().len()), (0, 0, 0));
    assert!(matches!(w.multipart(w.t0).abort(&caller("ola"), id).await, Err(MultipartError::NotFound)));

    let (id, _) = multipart_slot(&w, "ola", 20 << 20).await;
    let late = w.t0 + HOUR + Duration::from_secs(1);
    assert!(matches!(w.multipart(late).sign_parts(&caller("ola"), id, PartsRequest { part_numbers: vec![1] }).await, Err(MultipartError::Expired)));
    assert!(matches!(w.multipart(late).assemble(&caller("ola"), id).await, Err(MultipartError::Expired)));
    let summary = w.janitor(100).run(w.t0 + 3 * HOUR, Instant::now() + Duration::from_secs(10)).await;
    assert_eq!((summary.deleted_records, w.objects.open_uploads(), w.repo.len()), (1, 0, 0), "{summary:?}");
}

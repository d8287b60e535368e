//! Every route's request input: the upload request (parse and validate), the compatibility
//! route's body, the media API's bodies (edit, attach, batch complete), its query parameters,
//! the kinds configuration, scopes, filenames and Content-Disposition. Refuse or accept, never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shared::edge::requests::{self, AttachRequest, CompleteBatch, MetadataPatch, TempImageRequest};
use shared::domain::caller::Caller;
use shared::domain::kinds::Kinds;
use shared::edge::requests::upload::UploadRequest;
use std::time::Duration;

fuzz_target!(|data: &[u8]| {
    let kinds = Kinds::defaults();
    let caller = Caller::new("fuzz", vec!["org:a".to_string()]).expect("caller");
    if let Ok(req) = serde_json::from_slice::<UploadRequest>(data) {
        let _ = req.validate(&kinds, &caller);
    }
    if let Ok(req) = serde_json::from_slice::<TempImageRequest>(data) {
        let _ = shared::domain::upload::Filename::parse(&req.filename);
    }
    if let Ok(p) = serde_json::from_slice::<MetadataPatch>(data) {
        if let Ok(edit) = p.validate() {
            // What passed validation is bounded.
            assert!(edit.tags.as_ref().map_or(0, Vec::len) <= requests::MAX_TAGS);
        }
    }
    if let Ok(a) = serde_json::from_slice::<AttachRequest>(data) {
        if let Ok(a) = a.validate() {
            assert!(!a.reference.is_empty() && a.reference.chars().count() <= requests::MAX_REF);
        }
    }
    if let Ok(b) = serde_json::from_slice::<CompleteBatch>(data) {
        if let Ok(ids) = b.validate() {
            assert!((1..=requests::MAX_BATCH).contains(&ids.len()));
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Kinds::from_json(text);
        let _ = shared::edge::requests::upload::parse_scope(text);
        let _ = shared::domain::upload::Filename::parse(text);
        // Whatever the name, the header never carries a control character (no header injection).
        let d = shared::domain::upload::content_disposition(text);
        assert!(!d.chars().any(|c| c.is_control()), "{d:?}");
        let _ = requests::parse_limit(Some(text));
        let _ = requests::parse_status(Some(text));
        let _ = requests::parse_expires_in(Some(text), Duration::from_secs(300));
        let _ = requests::parse_download(Some(text));
        let _ = shared::edge::http::media_id(text);
    }
});

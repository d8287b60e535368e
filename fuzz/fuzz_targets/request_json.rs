//! Request bodies: the upload request (parse and validate), and the kinds configuration.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shared::auth::Caller;
use shared::kinds::Kinds;
use shared::upload::UploadRequest;

fuzz_target!(|data: &[u8]| {
    let kinds = Kinds::defaults();
    let caller = Caller::new("fuzz", vec!["org:a".to_string()]).expect("caller");
    if let Ok(req) = serde_json::from_slice::<UploadRequest>(data) {
        let _ = req.validate(&kinds, &caller);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Kinds::from_json(text);
        let _ = shared::upload::request::parse_scope(text);
        let _ = shared::upload::Filename::parse(text);
    }
});

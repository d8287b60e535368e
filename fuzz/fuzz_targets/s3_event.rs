//! S3 events as delivered: parse, then decode every key (arbitrary escapes).
#![no_main]
use aws_lambda_events::event::s3::S3Event;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(ev) = serde_json::from_slice::<S3Event>(data) {
        for r in ev.records {
            if let Some(k) = r.s3.object.key.as_deref() {
                let key = shared::adapters::s3::decode_event_key(k);
                let _ = key.strip_prefix("incoming/").and_then(shared::domain::id::MediaId::parse);
            }
        }
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = shared::adapters::s3::decode_event_key(s);
    }
});

//! The video verifier on arbitrary bytes, under every declared type. The promises, not just "no
//! crash": a verdict for every input, the same verdict twice, and an accepted file's facts within
//! bounds and of the declared container family.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::domain::kinds::ContentType;
use shared::video::inspect_bytes;

const MAX_SIDE: u32 = 8192;

fuzz_target!(|data: &[u8]| {
    for declared in ContentType::VIDEOS {
        let first = inspect_bytes(data, declared, MAX_SIDE);
        assert_eq!(first, inspect_bytes(data, declared, MAX_SIDE), "deterministic");
        if let Ok(info) = first {
            assert!(info.width >= 1 && info.width <= MAX_SIDE && info.height >= 1 && info.height <= MAX_SIDE, "{info:?}");
            assert!(info.content_type.is_video());
            let iso = |t: ContentType| matches!(t, ContentType::Mp4 | ContentType::Quicktime);
            assert!(info.content_type == declared || iso(info.content_type) && iso(declared), "{info:?} for {declared}");
            assert!(info.codecs.iter().all(|c| c.len() <= 32 && c.is_ascii()));
        }
    }
});

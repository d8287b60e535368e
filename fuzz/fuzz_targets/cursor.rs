//! List cursors from strangers: decoding must refuse or accept, never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = shared::usecases::cursor::decode(b"fuzz-secret", "Owner(\"u\")|None|None", s);
    }
});

//! Transform URLs and `Accept` headers from strangers: the first line is an `Accept` header, the
//! rest a query string (percent-encoded, repeated keys, any case). The promises: no panic; a
//! query that parses has one canonical spelling that parses back to the same spec, in any
//! order of its parameters; a zero weight for a type in any spelling refuses it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shared::domain::transform::{accepts, TransformSpec};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (accept, query) = text.split_once('\n').unwrap_or((text, ""));
    for mime in ["image/avif", "image/webp"] {
        let taken = accepts(accept, mime);
        assert_eq!(taken, accepts(accept, mime), "deterministic");
        if taken {
            // Whatever else it says, the header names the type with a positive weight.
            assert!(accept.to_ascii_lowercase().contains(mime));
        }
        let refused = format!("{accept},{mime};q=0.000");
        assert!(!accepts(&refused, mime), "a zero weight refuses: {refused:?}");
    }
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let Ok(spec) = TransformSpec::parse(&pairs) else { return };
    let canonical: Vec<(String, String)> = form_urlencoded::parse(spec.canonical().as_bytes()).into_owned().filter(|(_, v)| !v.is_empty()).collect();
    assert_eq!(TransformSpec::parse(&canonical).ok(), Some(spec), "the canonical form parses back");
    let mut reversed = pairs.clone();
    reversed.reverse();
    assert_eq!(TransformSpec::parse(&reversed).ok().map(|s| s.canonical()), Some(spec.canonical()), "order does not matter");
    let _ = spec.output(Some(accept), shared::domain::kinds::ContentType::Jpeg, false);
});

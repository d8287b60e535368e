//! S3: the `ObjectStore` and `MultipartStore` adapters, the POST policy (`policy`) and the
//! `UploadSigner` (`presign`). The only place that speaks S3.

mod multipart;
mod objects;
pub mod bucket;
pub mod policy;
pub mod presign;

pub use objects::S3Objects;

/// Decodes an S3 event key: S3 URL-encodes keys in events, with `+` for spaces.
pub fn decode_event_key(raw: &str) -> String {
    let spaced = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::decode_event_key;

    #[test]
    fn event_keys_are_url_decoded() {
        assert_eq!(decode_event_key("incoming/a+b%2Bc"), "incoming/a b+c");
        assert_eq!(decode_event_key("incoming/caf%C3%A9+%C3%BC.jpg"), "incoming/café ü.jpg");
        assert_eq!(decode_event_key("incoming/%ZZ%"), "incoming/%ZZ%");
    }
}

//! Opaque list cursors: the index position, bound to the query that produced it and signed
//! with HMAC-SHA256, so a tampered cursor or one from another user's listing is refused.

use crate::domain::mac;
use crate::ports::PageToken;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use std::collections::BTreeMap;

const MAX_CURSOR_LEN: usize = 2048;

/// A cursor that is not one this listing handed out (tampered, another listing's, or garbage).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the cursor is not valid for this listing")]
pub struct InvalidCursor;

/// `query` names the listing (index, partition, filters): a cursor only resumes that listing.
pub fn encode(secret: &[u8], query: &str, token: &PageToken) -> Option<String> {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&token.0).ok()?);
    let sig = mac::tag_base64url(secret, &[query.as_bytes(), b"\n", payload.as_bytes()])?;
    Some(format!("{payload}.{sig}"))
}

pub fn decode(secret: &[u8], query: &str, cursor: &str) -> Result<PageToken, InvalidCursor> {
    if cursor.len() > MAX_CURSOR_LEN {
        return Err(InvalidCursor);
    }
    let (payload, sig) = cursor.split_once('.').ok_or(InvalidCursor)?;
    if !mac::verify_base64url(secret, &[query.as_bytes(), b"\n", payload.as_bytes()], sig) {
        return Err(InvalidCursor);
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload).map_err(|_| InvalidCursor)?;
    let map: BTreeMap<String, String> = serde_json::from_slice(&bytes).map_err(|_| InvalidCursor)?;
    Ok(PageToken(map))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> PageToken {
        PageToken(BTreeMap::from([("id".to_string(), "a".to_string()), ("owner".to_string(), "u".to_string())]))
    }

    #[test]
    fn round_trips_and_refuses_tampering_and_other_queries() {
        let c = encode(b"secret", "owner:u", &key()).unwrap();
        assert_eq!(decode(b"secret", "owner:u", &c).unwrap(), key());
        assert_eq!(decode(b"secret", "owner:v", &c).unwrap_err(), InvalidCursor);
        assert_eq!(decode(b"other", "owner:u", &c).unwrap_err(), InvalidCursor);
        let (p, s) = c.split_once('.').unwrap();
        let forged = URL_SAFE_NO_PAD.encode(br#"{"id":"b","owner":"u"}"#);
        assert!(decode(b"secret", "owner:u", &format!("{forged}.{s}")).is_err());
        assert!(decode(b"secret", "owner:u", &format!("{p}.{s}x")).is_err());
        assert!(decode(b"secret", "owner:u", "garbage").is_err());
        assert!(decode(b"secret", "owner:u", &"x".repeat(5000)).is_err());
    }
}

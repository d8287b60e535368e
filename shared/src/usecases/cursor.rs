//! Opaque list cursors: the index position, bound to the query that produced it and signed
//! with HMAC-SHA256, so a tampered cursor or one from another user's listing is refused.

use crate::edge::error::ApiError;
use crate::ports::PageToken;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::BTreeMap;

const MAX_CURSOR_LEN: usize = 2048;

fn invalid() -> ApiError {
    ApiError::new(400, "invalid_cursor", "the cursor is not valid for this listing")
}

fn mac(secret: &[u8], query: &str, payload: &str) -> Option<Hmac<Sha256>> {
    let mut m = Hmac::<Sha256>::new_from_slice(secret).ok()?;
    m.update(query.as_bytes());
    m.update(b"\n");
    m.update(payload.as_bytes());
    Some(m)
}

/// `query` names the listing (index, partition, filters): a cursor only resumes that listing.
pub fn encode(secret: &[u8], query: &str, token: &PageToken) -> Option<String> {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&token.0).ok()?);
    let sig = URL_SAFE_NO_PAD.encode(mac(secret, query, &payload)?.finalize().into_bytes());
    Some(format!("{payload}.{sig}"))
}

pub fn decode(secret: &[u8], query: &str, cursor: &str) -> Result<PageToken, ApiError> {
    if cursor.len() > MAX_CURSOR_LEN {
        return Err(invalid());
    }
    let (payload, sig) = cursor.split_once('.').ok_or_else(invalid)?;
    let sig = URL_SAFE_NO_PAD.decode(sig).map_err(|_| invalid())?;
    mac(secret, query, payload).ok_or_else(invalid)?.verify_slice(&sig).map_err(|_| invalid())?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).map_err(|_| invalid())?;
    let map: BTreeMap<String, String> = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
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
        assert_eq!(decode(b"secret", "owner:v", &c).unwrap_err().code, "invalid_cursor");
        assert_eq!(decode(b"other", "owner:u", &c).unwrap_err().code, "invalid_cursor");
        let (p, s) = c.split_once('.').unwrap();
        let forged = URL_SAFE_NO_PAD.encode(br#"{"id":"b","owner":"u"}"#);
        assert!(decode(b"secret", "owner:u", &format!("{forged}.{s}")).is_err());
        assert!(decode(b"secret", "owner:u", &format!("{p}.{s}x")).is_err());
        assert!(decode(b"secret", "owner:u", "garbage").is_err());
        assert!(decode(b"secret", "owner:u", &"x".repeat(5000)).is_err());
    }
}

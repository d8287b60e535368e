//! HMAC-SHA256, the one MAC of the service: list cursors, transform URLs and webhook bodies are
//! each signed by `tag` over their parts and checked by `verify` in constant time.

use hmac::{Hmac, Mac};
use sha2::Sha256;

fn keyed(secret: &[u8], parts: &[&[u8]]) -> Option<Hmac<Sha256>> {
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).ok()?;
    for part in parts {
        mac.update(part);
    }
    Some(mac)
}

/// The MAC of `parts`, concatenated.
pub fn tag(secret: &[u8], parts: &[&[u8]]) -> Option<[u8; 32]> {
    Some(keyed(secret, parts)?.finalize().into_bytes().into())
}

/// The MAC of `parts` in URL-safe base64 without padding (cursors and transform URLs).
pub fn tag_base64url(secret: &[u8], parts: &[&[u8]]) -> Option<String> {
    use base64::Engine;
    Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag(secret, parts)?))
}

/// Whether `given` (URL-safe base64) is the MAC of `parts`, compared in constant time.
pub fn verify_base64url(secret: &[u8], parts: &[&[u8]], given: &str) -> bool {
    use base64::Engine;
    let Ok(given) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(given) else { return false };
    keyed(secret, parts).is_some_and(|m| m.verify_slice(&given).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_verifies_only_for_its_key_and_parts() {
        let t = tag_base64url(b"k", &[b"a", b"b"]).unwrap();
        assert!(verify_base64url(b"k", &[b"ab"], &t), "parts are concatenated");
        assert!(!verify_base64url(b"k", &[b"ab", b"c"], &t));
        assert!(!verify_base64url(b"j", &[b"ab"], &t));
        assert!(!verify_base64url(b"k", &[b"ab"], &format!("{t}x")));
        assert!(!verify_base64url(b"k", &[b"ab"], "not base64!"));
        // RFC 4231 test case 2.
        assert_eq!(hex::encode(tag(b"Jefe", &[b"what do ya want for nothing?"]).unwrap()), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }
}

//! Presigned POST: a SigV4-signed POST policy. The Rust SDK has none (aws-sdk-rust#863), so the
//! policy document is built and signed here on aws-sigv4's signing-key primitives.
//!
//! The policy binds the bucket, the exact key, the exact Content-Type and a content-length
//! range, so S3 itself refuses any other object.

use aws_credential_types::Credentials;
use base64::Engine;
use serde_json::{json, Value};
use std::time::{Duration, SystemTime};
use time::OffsetDateTime;

pub struct PostPolicy<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub content_type: &'a str,
    pub min_bytes: u64,
    pub max_bytes: u64,
    pub region: &'a str,
    pub now: OffsetDateTime,
    pub expires_in: Duration,
}

/// The form fields to send before the file, in order.
pub type FormFields = Vec<(String, String)>;

impl PostPolicy<'_> {
    pub fn expires_at(&self) -> OffsetDateTime {
        self.now + self.expires_in
    }

    pub fn sign(&self, creds: &Credentials) -> FormFields {
        let date = self.now.format(time::macros::format_description!("[year][month][day]")).unwrap_or_default();
        let amz_date = self
            .now
            .format(time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"))
            .unwrap_or_default();
        let credential = format!("{}/{date}/{}/s3/aws4_request", creds.access_key_id(), self.region);
        let expiration = crate::domain::clock::format(self.expires_at());

        let mut conditions: Vec<Value> = vec![
            json!({"bucket": self.bucket}),
            json!({"key": self.key}),
            json!({"Content-Type": self.content_type}),
            json!(["content-length-range", self.min_bytes, self.max_bytes]),
            json!({"x-amz-algorithm": "AWS4-HMAC-SHA256"}),
            json!({"x-amz-credential": credential}),
            json!({"x-amz-date": amz_date}),
        ];
        if let Some(token) = creds.session_token() {
            conditions.push(json!({"x-amz-security-token": token}));
        }
        let policy = json!({"expiration": expiration, "conditions": conditions});
        let policy_b64 = base64::engine::general_purpose::STANDARD.encode(policy.to_string());
        let signing_time: SystemTime = self.now.into();
        let key = aws_sigv4::sign::v4::generate_signing_key(creds.secret_access_key(), signing_time, self.region, "s3");
        let signature = aws_sigv4::sign::v4::calculate_signature(key, policy_b64.as_bytes());

        let mut fields: FormFields = vec![
            ("key".into(), self.key.into()),
            ("Content-Type".into(), self.content_type.into()),
            ("x-amz-algorithm".into(), "AWS4-HMAC-SHA256".into()),
            ("x-amz-credential".into(), credential),
            ("x-amz-date".into(), amz_date),
        ];
        if let Some(token) = creds.session_token() {
            fields.push(("x-amz-security-token".into(), token.into()));
        }
        fields.push(("policy".into(), policy_b64));
        fields.push(("x-amz-signature".into(), signature));
        fields
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn policy() -> PostPolicy<'static> {
        PostPolicy {
            bucket: "b",
            key: "incoming/1",
            content_type: "image/png",
            min_bytes: 1,
            max_bytes: 100,
            region: "us-east-1",
            now: datetime!(2026-01-02 03:04:05 UTC),
            expires_in: Duration::from_secs(300),
        }
    }

    fn field<'a>(f: &'a FormFields, name: &str) -> Option<&'a str> {
        f.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    #[test]
    fn policy_binds_key_type_size_and_expiry() {
        let creds = Credentials::new("AKID", "secret", None, None, "test");
        let f = policy().sign(&creds);
        let doc: Value = serde_json::from_slice(
            &base64::engine::general_purpose::STANDARD.decode(field(&f, "policy").unwrap()).unwrap(),
        )
        .unwrap();
        assert_eq!(doc["expiration"], "2026-01-02T03:09:05.000Z");
        let conds = doc["conditions"].as_array().unwrap();
        assert!(conds.contains(&json!({"key": "incoming/1"})));
        assert!(conds.contains(&json!({"Content-Type": "image/png"})));
        assert!(conds.contains(&json!(["content-length-range", 1, 100])));
        assert_eq!(field(&f, "x-amz-credential"), Some("AKID/20260102/us-east-1/s3/aws4_request"));
        assert_eq!(field(&f, "x-amz-signature").unwrap().len(), 64);
        assert!(field(&f, "x-amz-security-token").is_none());
    }

    #[test]
    fn session_tokens_are_sent_and_signed() {
        let creds = Credentials::new("AKID", "secret", Some("TOKEN".into()), None, "test");
        let f = policy().sign(&creds);
        assert_eq!(field(&f, "x-amz-security-token"), Some("TOKEN"));
        let doc = String::from_utf8(
            base64::engine::general_purpose::STANDARD.decode(field(&f, "policy").unwrap()).unwrap(),
        )
        .unwrap();
        assert!(doc.contains(r#"{"x-amz-security-token":"TOKEN"}"#));
    }

    #[test]
    fn signature_matches_the_documented_sigv4_derivation() {
        // The signature is HMAC-SHA256(signing key, base64 policy), hex; recompute by hand.
        use hmac::{Hmac, Mac};
        use sha2::Sha256;
        let creds = Credentials::new("AKID", "secret", None, None, "test");
        let f = policy().sign(&creds);
        let h = |k: &[u8], m: &[u8]| {
            let mut mac = Hmac::<Sha256>::new_from_slice(k).unwrap();
            mac.update(m);
            mac.finalize().into_bytes().to_vec()
        };
        let k = h(b"AWS4secret", b"20260102");
        let k = h(&k, b"us-east-1");
        let k = h(&k, b"s3");
        let k = h(&k, b"aws4_request");
        let sig = hex::encode(h(&k, field(&f, "policy").unwrap().as_bytes()));
        assert_eq!(field(&f, "x-amz-signature"), Some(sig.as_str()));
    }
}

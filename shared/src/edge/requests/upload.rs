//! `POST /v1/uploads` bodies, parsed once into types that cannot be invalid.

use crate::domain::caller::Caller;
use crate::edge::error::ApiError;
use crate::domain::kinds::{ContentType, KindSpec, Kinds};
use crate::domain::media::UploadMethod;
use crate::domain::upload::{Filename, ValidFile, ValidUpload};
use serde::Deserialize;

pub const MAX_FILES: usize = 20;
const MAX_SCOPE_CHARS: usize = 128;

/// The raw JSON body; unknown fields are refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadRequest {
    pub kind: String,
    #[serde(default, deserialize_with = "crate::edge::requests::fields::non_null")]
    pub scope: Option<String>,
    #[serde(default, deserialize_with = "crate::edge::requests::fields::non_null")]
    pub method: Option<String>,
    pub files: Vec<FileRequest>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRequest {
    pub filename: String,
    pub content_type: String,
    pub size_bytes: u64,
}

/// A scope name as it appears in the scopes claim (`org:acme`, `event:42`).
pub fn parse_scope(raw: &str) -> Result<String, ApiError> {
    let ok = !raw.is_empty()
        && raw.chars().count() <= MAX_SCOPE_CHARS
        && raw.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:@".contains(c));
    if ok {
        Ok(raw.to_string())
    } else {
        Err(ApiError::invalid_request("scope must be 1 to 128 of A-Z a-z 0-9 - _ . : @"))
    }
}

pub fn parse_content_type(kind: &KindSpec, raw: &str) -> Result<ContentType, ApiError> {
    ContentType::parse(raw).filter(|t| kind.allows(*t)).ok_or_else(|| {
        let allowed: Vec<&str> = kind.types.iter().map(|t| t.mime()).collect();
        ApiError::new(400, "unsupported_content_type", format!("kind {} accepts {}", kind.name, allowed.join(", ")))
    })
}

pub fn lookup_kind<'k>(kinds: &'k Kinds, name: &str) -> Result<&'k KindSpec, ApiError> {
    kinds.get(name).ok_or_else(|| {
        ApiError::new(400, "unknown_kind", format!("unknown kind; known kinds: {}", kinds.names().join(", ")))
    })
}

/// Checks that the caller may put media in `scope`.
pub fn authorize_scope(caller: &Caller, scope: Option<&str>) -> Result<(), ApiError> {
    match scope {
        Some(s) if !caller.is_member(s) => Err(ApiError::forbidden("you are not a member of that scope")),
        _ => Ok(()),
    }
}

impl UploadRequest {
    /// Validates everything that does not need I/O, in the order clients can act on.
    pub fn validate(self, kinds: &Kinds, caller: &Caller) -> Result<ValidUpload, ApiError> {
        if self.files.is_empty() || self.files.len() > MAX_FILES {
            return Err(ApiError::invalid_request(format!("files must hold 1 to {MAX_FILES} entries")));
        }
        let kind = lookup_kind(kinds, &self.kind)?;
        let method = match self.method.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("post") => UploadMethod::Post,
            Some("put") => UploadMethod::Put,
            Some("multipart") => UploadMethod::Multipart,
            Some(_) => return Err(ApiError::invalid_request("method must be \"post\", \"put\" or \"multipart\"")),
        };
        let scope = self.scope.as_deref().map(parse_scope).transpose()?;
        let mut files = Vec::with_capacity(self.files.len());
        for f in self.files {
            let filename = Filename::parse(&f.filename).map_err(ApiError::invalid_request)?;
            let content_type = parse_content_type(kind, &f.content_type)?;
            if f.size_bytes < 1 {
                return Err(ApiError::invalid_request("size_bytes must be at least 1"));
            }
            if f.size_bytes > kind.max_bytes {
                return Err(ApiError::new(413, "too_large", format!("kind {} allows at most {} bytes", kind.name, kind.max_bytes)));
            }
            files.push(ValidFile { filename, content_type, size_bytes: Some(f.size_bytes) });
        }
        authorize_scope(caller, scope.as_deref())?;
        Ok(ValidUpload { kind: kind.clone(), scope, method, files })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller() -> Caller {
        Caller::new("u1", vec!["org:acme".to_string()]).unwrap()
    }

    fn req(json: &str) -> Result<ValidUpload, ApiError> {
        let r: UploadRequest = serde_json::from_str(json).map_err(|e| ApiError::invalid_request(e.to_string()))?;
        r.validate(&Kinds::defaults(), &caller())
    }

    fn code(json: &str) -> &'static str {
        req(json).unwrap_err().code
    }

    #[test]
    fn each_invalid_input_has_its_code() {
        let file = r#"{"filename":"a.jpg","content_type":"image/jpeg","size_bytes":10}"#;
        assert_eq!(code(&format!(r#"{{"kind":"movie","files":[{file}]}}"#)), "unknown_kind");
        assert_eq!(code(r#"{"kind":"avatar","files":[{"filename":"a.gif","content_type":"image/gif","size_bytes":10}]}"#), "unsupported_content_type");
        assert_eq!(code(r#"{"kind":"avatar","files":[{"filename":"a.jpg","content_type":"image/jpeg","size_bytes":2097153}]}"#), "too_large");
        assert_eq!(code(r#"{"kind":"avatar","files":[{"filename":"a.jpg","content_type":"image/jpeg","size_bytes":0}]}"#), "invalid_request");
        assert_eq!(code(r#"{"kind":"avatar","files":[]}"#), "invalid_request");
        assert_eq!(code(&format!(r#"{{"kind":"avatar","scope":"org:evil","files":[{file}]}}"#)), "forbidden");
        assert_eq!(code(&format!(r#"{{"kind":"avatar","method":"patch","files":[{file}]}}"#)), "invalid_request");
        assert!(req(&format!(r#"{{"kind":"avatar","scope":"org:acme","method":"put","files":[{file}]}}"#)).is_ok());
    }

    #[test]
    fn filenames_are_metadata_not_paths() {
        for bad in ["", "../x.jpg", "a/b.jpg", "a\\b.jpg", "..", "a\u{0}.jpg", "a\n.jpg", "   ", "invoice\u{202E}gpj.html", "a\u{200B}b.jpg", "\u{FEFF}a.jpg", "a\u{2066}b.jpg"] {
            assert!(Filename::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Filename::parse(&"x".repeat(256)).is_err());
        assert!(Filename::parse(&"é".repeat(255)).is_ok());
        assert!(Filename::parse("my \"holiday\" photo.jpg").is_ok());
    }
}

//! The media id, the one name every record, key and event carries.

use std::fmt;
use uuid::Uuid;

/// A media id: a random UUID, so ids are unguessable. Parsing is the only way to get one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MediaId(Uuid);

impl MediaId {
    pub fn random() -> Self {
        Self(Uuid::new_v4())
    }
    pub fn parse(s: &str) -> Option<Self> {
        // Only the canonical hyphenated lowercase form: one id, one spelling.
        let id = Uuid::try_parse(s).ok()?;
        (id.hyphenated().to_string() == s).then_some(Self(id))
    }
}

impl fmt::Display for MediaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_ids_have_one_spelling() {
        let id = MediaId::random();
        assert_eq!(MediaId::parse(&id.to_string()), Some(id));
        assert!(MediaId::parse(&id.to_string().to_uppercase()).is_none());
        assert!(MediaId::parse("../etc/passwd").is_none());
        assert!(MediaId::parse("").is_none());
    }
}

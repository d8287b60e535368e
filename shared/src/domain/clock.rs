//! Time as the service sees it. Every timestamp is stored in one fixed-width UTC format, so the
//! strings sort like the instants they name (DynamoDB range keys depend on that).

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::OffsetDateTime;

const FIXED: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// Formats an instant as `2026-11-24T01:02:03.456Z` (UTC, millisecond precision).
pub fn format(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(FIXED)
        .unwrap_or_else(|_| String::from("1970-01-01T00:00:00.000Z"))
}

/// Parses any RFC 3339 timestamp.
pub fn parse(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

/// A source of "now", injectable so tests and the janitor can age records without sleeping.
pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock stopped at one instant.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub OffsetDateTime);

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn fixed_width_format_sorts_like_time() {
        let a = format(datetime!(2026-01-02 03:04:05.1 UTC));
        let b = format(datetime!(2026-01-02 03:04:05.02 UTC));
        assert_eq!(a, "2026-01-02T03:04:05.100Z");
        assert!(a > b);
        assert_eq!(parse(&a), Some(datetime!(2026-01-02 03:04:05.1 UTC)));
    }
}

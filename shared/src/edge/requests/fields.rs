//! Field rules shared by every request body: `null` against missing, and bounded free text.

use crate::edge::error::ApiError;
use serde::{Deserialize, Deserializer};

/// Distinguishes a missing field (`None`) from an explicit `null` (`Some(None)`).
pub fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// An optional field that, when present, must not be `null` (the document gives it a type, not
/// `null`): use with `#[serde(default, deserialize_with = "non_null")]`.
pub fn non_null<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// Bounded free text: `min..=max` characters, no control characters but newline and tab.
pub fn text(field: &str, value: &str, max: usize, min: usize) -> Result<(), ApiError> {
    let n = value.chars().count();
    if n < min || n > max {
        return Err(ApiError::invalid_request(format!("{field} must be {min} to {max} characters")));
    }
    if value.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(ApiError::invalid_request(format!("{field} must not contain control characters")));
    }
    Ok(())
}

//! Validation of free text from callers: trimmed, non-empty where required, length-capped.

use crate::error::{AppError, AppResult};

/// A required text: trimmed, not empty, at most `max` characters.
pub fn required(field: &str, value: &str, max: usize) -> AppResult<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(AppError::bad_input(
            field,
            format!("{field} may not be empty"),
        ));
    }
    capped(field, trimmed, max)
}

/// An optional text: trimmed; empty becomes `None`.
pub fn optional(field: &str, value: &str, max: usize) -> AppResult<Option<String>> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    capped(field, trimmed, max).map(Some)
}

fn capped(field: &str, value: &str, max: usize) -> AppResult<String> {
    if value.chars().count() > max {
        return Err(AppError::bad_input(
            field,
            format!("{field} may have at most {max} characters"),
        ));
    }
    Ok(value.to_owned())
}

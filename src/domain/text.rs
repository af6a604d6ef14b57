//! Checks of what callers type: free text (trimmed, non-empty where required, length-capped,
//! no NUL characters, which neither database stores in text) and dates (within a range that a
//! rectification can have: no year 0 deadlines).

use chrono::NaiveDate;

use crate::error::{AppError, AppResult};

/// A required text: trimmed, not empty, at most `max` characters.
pub fn required(field: &str, value: &str, max: usize) -> AppResult<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(AppError::bad_input(field, t!("text-empty", field = field)));
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

/// An optional text given as an option: `None` and empty both become `None`.
pub fn maybe(field: &str, value: Option<&str>, max: usize) -> AppResult<Option<String>> {
    value.map_or(Ok(None), |v| optional(field, v, max))
}

fn capped(field: &str, value: &str, max: usize) -> AppResult<String> {
    refuse_nul(field, value)?;
    if value.chars().count() > max {
        return Err(AppError::bad_input(
            field,
            t!("text-too-long", field = field, max = max),
        ));
    }
    Ok(value.to_owned())
}

/// `BAD_USER_INPUT` for a text holding a NUL character.
pub fn refuse_nul(field: &str, value: &str) -> AppResult<()> {
    if value.contains('\0') {
        return Err(AppError::bad_input(field, t!("text-nul", field = field)));
    }
    Ok(())
}

/// The earliest and latest dates rectrack accepts anywhere (deadlines, ledger dates,
/// inspections): ledgers from before 1990 do not exist, and a date after 2099 is a typo.
pub const EARLIEST: NaiveDate = match NaiveDate::from_ymd_opt(1990, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};
pub const LATEST: NaiveDate = match NaiveDate::from_ymd_opt(2099, 12, 31) {
    Some(d) => d,
    None => NaiveDate::MAX,
};

/// A date within [`EARLIEST`] and [`LATEST`].
pub fn date(field: &str, value: NaiveDate) -> AppResult<NaiveDate> {
    if (EARLIEST..=LATEST).contains(&value) {
        Ok(value)
    } else {
        Err(AppError::bad_input(
            field,
            t!(
                "date-out-of-range",
                field = field,
                value = value,
                earliest = EARLIEST,
                latest = LATEST
            ),
        ))
    }
}

/// An optional date within range.
pub fn maybe_date(field: &str, value: Option<NaiveDate>) -> AppResult<Option<NaiveDate>> {
    value.map(|d| date(field, d)).transpose()
}

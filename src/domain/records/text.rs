//! Checks of what callers type, one rule per kind of input, used by every surface (GraphQL,
//! REST, bulk, import, the command line):
//!
//! - free text: trimmed, non-empty where required, length-capped, and free of control
//!   characters other than tab and line feed (NUL, which neither database stores, BEL, ESC, ...
//!   are what a stray paste or a broken client sends, never what a person wrote: they would
//!   stay in the append-only ledger for good). A carriage return is normalised, not refused:
//!   Windows clients and Excel cells end lines with CR LF (and old Mac text with a lone CR),
//!   and a person who pasted a paragraph from Word meant a line break;
//! - dates: typed exactly as `YYYY-MM-DD` ([`parse_date`]) and within the range a
//!   rectification can have ([`date`]);
//! - numbers: finite and within the field's range ([`number`]).
//!
//! Messages name the field by its label in the request's language ([`crate::i18n::field`]),
//! never by its code identifier; the error's `field` keeps the identifier for machines.

use chrono::NaiveDate;

use crate::error::{AppError, AppResult};
use crate::i18n::field as label;

/// A required text: trimmed, not empty, at most `max` characters.
pub fn required(field: &str, value: &str, max: usize) -> AppResult<String> {
    let value = clean(field, value)?;
    if value.is_empty() {
        return Err(AppError::bad_input(
            field,
            t!("text-empty", field = label(field)),
        ));
    }
    capped(field, value, max)
}

/// An optional text: trimmed; empty becomes `None`.
pub fn optional(field: &str, value: &str, max: usize) -> AppResult<Option<String>> {
    let value = clean(field, value)?;
    if value.is_empty() {
        return Ok(None);
    }
    capped(field, value, max).map(Some)
}

/// An optional text given as an option: `None` and empty both become `None`.
pub fn maybe(field: &str, value: Option<&str>, max: usize) -> AppResult<Option<String>> {
    value.map_or(Ok(None), |v| optional(field, v, max))
}

/// The text as stored: line ends as line feeds, trimmed, and refused when it holds a control
/// character other than tab and line feed.
fn clean(field: &str, value: &str) -> AppResult<String> {
    refuse_controls(field, value)?;
    let value = if value.contains('\r') {
        value.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        value.to_owned()
    };
    Ok(value.trim().to_owned())
}

fn capped(field: &str, value: String, max: usize) -> AppResult<String> {
    if value.chars().count() > max {
        return Err(AppError::bad_input(
            field,
            t!("text-too-long", field = label(field), max = max),
        ));
    }
    Ok(value)
}

/// `BAD_USER_INPUT` for a text holding a NUL character (which no database stores).
pub fn refuse_nul(field: &str, value: &str) -> AppResult<()> {
    if value.contains('\0') {
        return Err(AppError::bad_input(
            field,
            t!("text-nul", field = label(field)),
        ));
    }
    Ok(())
}

/// `BAD_USER_INPUT` for a text holding a control character other than tab, line feed and
/// carriage return (which [`required`] and [`optional`] turn into line feeds), naming the
/// first one as `U+0007`.
pub fn refuse_controls(field: &str, value: &str) -> AppResult<()> {
    refuse_nul(field, value)?;
    match value
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        Some(c) => Err(AppError::bad_input(
            field,
            t!(
                "text-control",
                field = label(field),
                code = format!("U+{:04X}", u32::from(c))
            ),
        )),
        None => Ok(()),
    }
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

/// Whether `value` is spelled exactly `YYYY-MM-DD` (four-digit year, two-digit month and
/// day, ASCII digits) and is a day of the calendar. chrono alone accepts `2026-2-3`, which
/// a person may mean as 2 March as well as 3 February, and `+2026-02-03`.
pub fn iso_date(value: &str) -> Option<NaiveDate> {
    let b = value.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shaped {
        return None;
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()
}

/// A date a person typed into an API (GraphQL's `Date`, a REST parameter): exactly
/// `YYYY-MM-DD`, a day of the calendar, and within [`EARLIEST`] and [`LATEST`]. (The ledger
/// importer reads spreadsheet cells with its own reader, which also knows the spelled forms
/// units write, and then checks the range with [`date`].)
pub fn parse_date(field: &str, value: &str) -> AppResult<NaiveDate> {
    let parsed = iso_date(value).ok_or_else(|| {
        AppError::bad_input(
            field,
            t!("date-not-iso", field = label(field), value = value),
        )
    })?;
    date(field, parsed)
}

/// A date within [`EARLIEST`] and [`LATEST`].
pub fn date(field: &str, value: NaiveDate) -> AppResult<NaiveDate> {
    if (EARLIEST..=LATEST).contains(&value) {
        Ok(value)
    } else {
        Err(AppError::bad_input(
            field,
            t!(
                "date-out-of-range",
                field = label(field),
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

/// `BAD_USER_INPUT` when `date` falls before `other` (a deadline before its inspection began),
/// naming both fields by their labels and both dates.
pub fn not_before(
    field: &str,
    date: NaiveDate,
    other_field: &str,
    other: NaiveDate,
) -> AppResult<()> {
    if date < other {
        return Err(AppError::bad_input(
            field,
            t!(
                "date-before",
                field = label(field),
                date = date,
                other = label(other_field),
                other_date = other
            ),
        ));
    }
    Ok(())
}

/// The largest magnitude a measured value may have (a target's baseline, required and current
/// values: counts, percentages, sums of money in yuan). A trillion holds any unit's figures;
/// anything beyond it is a slip of the keyboard, and −1e308 would break every sum.
pub const NUMBER_LIMIT: f64 = 1e12;

/// An optional number: finite and within ±[`NUMBER_LIMIT`].
pub fn number(field: &str, value: Option<f64>) -> AppResult<Option<f64>> {
    match value {
        Some(v) if !v.is_finite() || v.abs() > NUMBER_LIMIT => Err(AppError::bad_input(
            field,
            t!(
                "number-out-of-range",
                field = label(field),
                min = format!("{}", -NUMBER_LIMIT),
                max = format!("{NUMBER_LIMIT}")
            ),
        )),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_is_exactly_four_two_two_digits() {
        assert_eq!(iso_date("2026-02-03"), NaiveDate::from_ymd_opt(2026, 2, 3));
        for bad in [
            "2026-2-3",
            "2026-02-3",
            "+2026-02-03",
            "2026-02-30",
            "2026/02/03",
            "２０２６-02-03",
            " 2026-02-03",
            "20260-2-03",
        ] {
            assert_eq!(iso_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn control_characters_are_refused_line_ends_normalised() {
        assert!(required("title", "a\u{7}b", 10).is_err());
        assert!(required("title", "a\u{1b}[31mb", 10).is_err());
        assert!(required("title", "a\u{85}b", 10).is_err());
        assert_eq!(required("title", "a\tb\r\nc\rd", 10).unwrap(), "a\tb\nc\nd");
    }

    #[test]
    fn numbers_are_finite_and_bounded() {
        assert!(number("baseline", Some(-1e308)).is_err());
        assert!(number("baseline", Some(f64::NAN)).is_err());
        assert!(number("baseline", Some(1e12 + 1.0)).is_err());
        assert_eq!(number("baseline", Some(-12.5)).unwrap(), Some(-12.5));
    }
}

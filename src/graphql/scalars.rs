//! Scalars by their conventional names: `Date` (an ISO 8601 calendar date, `2021-04-13`) here,
//! and async-graphql's own `DateTime` (RFC 3339), both with `@specifiedBy` in the SDL, so that
//! no Rust type name reaches the public schema.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::NaiveDate;

/// A calendar date without a time or zone (整改时限, 台账日期): `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub NaiveDate);

/// A calendar date without a time or zone, ISO 8601 / RFC 3339 `full-date`: `2021-04-13`.
#[Scalar(
    name = "Date",
    specified_by_url = "https://datatracker.ietf.org/doc/html/rfc3339#section-5.6"
)]
impl ScalarType for Date {
    /// Exactly `YYYY-MM-DD` ([`crate::domain::records::text::iso_date`], the one rule for a date a
    /// person types): `2026-2-3` is refused with the scalar's own message, in the request's
    /// language, and `BAD_USER_INPUT`.
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => crate::domain::records::text::iso_date(s)
                .map(Date)
                .ok_or_else(|| {
                    InputValueError::custom(t!("date-scalar", value = s.as_str()))
                        .with_extension("code", crate::error::codes::BAD_USER_INPUT)
                }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    /// Any string passes validation, so that a malformed date, in a variable or in the
    /// document, reaches [`Self::parse`] and is refused with its own message rather than the
    /// library's generic one.
    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::String(_))
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

impl From<NaiveDate> for Date {
    fn from(date: NaiveDate) -> Self {
        Date(date)
    }
}

impl From<Date> for NaiveDate {
    fn from(date: Date) -> Self {
        date.0
    }
}

/// `Option<NaiveDate>` as the API's `Option<Date>`.
pub fn date(value: Option<NaiveDate>) -> Option<Date> {
    value.map(Date)
}

/// `Option<Date>` as the domain's `Option<NaiveDate>`.
pub fn naive(value: Option<Date>) -> Option<NaiveDate> {
    value.map(|d| d.0)
}

/// A point in time, in UTC on output: RFC 3339 (`2021-04-13T08:30:00Z`); input may carry any
/// offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(pub chrono::DateTime<chrono::Utc>);

/// A point in time, RFC 3339 `date-time`: answered in UTC (`2021-04-13T08:30:00Z`); any
/// offset is accepted on input.
#[Scalar(
    name = "DateTime",
    specified_by_url = "https://datatracker.ietf.org/doc/html/rfc3339"
)]
impl ScalarType for Time {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
                .map(|t| Time(t.with_timezone(&chrono::Utc)))
                .map_err(|_| {
                    InputValueError::custom(format!(
                        "'{s}' is not an RFC 3339 time such as 2021-04-13T08:30:00Z"
                    ))
                }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::String(s) if chrono::DateTime::parse_from_rfc3339(s).is_ok())
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
    }
}

impl From<chrono::DateTime<chrono::Utc>> for Time {
    fn from(t: chrono::DateTime<chrono::Utc>) -> Self {
        Time(t)
    }
}

/// `Option<DateTime<Utc>>` as the API's `Option<Time>`.
pub fn time(value: Option<chrono::DateTime<chrono::Utc>>) -> Option<Time> {
    value.map(Time)
}

/// JSON documents (an audit event's record, a report's snapshot) are read off the row like any
/// scalar, converted as async-graphql converts `Json` when it resolves one.
impl super::catalogue::Leaf for async_graphql::Json<serde_json::Value> {
    fn leaf(self) -> async_graphql::Value {
        async_graphql::to_value(self.0).unwrap_or_default()
    }
}

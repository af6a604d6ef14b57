//! Query strings read into the typed struct a route declares (`#[derive(Deserialize,
//! IntoParams)]`): the one description of its parameters, which the OpenAPI document prints
//! and this extractor reads. A value its field's type refuses is answered as every other bad
//! input is, `BAD_USER_INPUT` in the JSON error body naming the parameter, never axum's
//! plain-text rejection.
//!
//! The rules of reading, as the contract has always had them: `+` is a space and `%XX` a
//! byte; a parameter given twice counts once, its last value; unknown parameters are ignored;
//! a NUL is refused in any of them; an empty value is a value (`limit=` is not a number), so
//! text that means "none" when empty says so where it is used. Fields are read in the order
//! the struct declares them, so that of two bad parameters the first declared is named, as
//! the route lists them.

use std::fmt;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserializer;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};

use crate::error::{AppError, AppResult};

/// A route's query, read into `T`.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (key, value) in url_pairs(parts.uri.query().unwrap_or(""))? {
            crate::domain::records::text::refuse_nul(&key, &value)?;
            // Given twice, the last value counts.
            pairs.retain(|(k, _)| *k != key);
            pairs.push((key, value));
        }
        T::deserialize(Pairs(pairs))
            .map(Query)
            .map_err(Refused::into_error)
    }
}

/// `a=1&b=x%20y` as pairs, percent-decoded (`+` is a space).
fn url_pairs(query: &str) -> AppResult<Vec<(String, String)>> {
    fn decode(text: &str) -> AppResult<String> {
        let bytes = text.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' => {
                    let hex = bytes
                        .get(i + 1..i + 3)
                        .and_then(|h| std::str::from_utf8(h).ok())
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                        .ok_or_else(|| AppError::bad_input("query", t!("query-bad-escape")))?;
                    out.push(hex);
                    i += 2;
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8(out).map_err(|_| AppError::bad_input("query", t!("query-not-utf8")))
    }
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode(key)?, decode(value)?))
        })
        .collect()
}

/// Why a query was not read: a parameter refused with the project's error, or a struct the
/// extractor cannot read at all (a route's own mistake, not the caller's).
#[derive(Debug)]
pub enum Refused {
    Param(AppError),
    Other(String),
}

impl Refused {
    fn into_error(self) -> AppError {
        match self {
            Refused::Param(err) => err,
            Refused::Other(text) => AppError::internal(format!("reading a query: {text}")),
        }
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refused::Param(err) => f.write_str(err.message()),
            Refused::Other(text) => f.write_str(text),
        }
    }
}

impl std::error::Error for Refused {}

impl de::Error for Refused {
    fn custom<M: fmt::Display>(msg: M) -> Self {
        Refused::Other(msg.to_string())
    }

    /// A parameter the route needs is the caller's to give.
    fn missing_field(field: &'static str) -> Self {
        Refused::Param(AppError::bad_input(
            field,
            t!("param-missing", name = field),
        ))
    }
}

/// The name a time field is read under ([`time`]), so that the value reader knows to say
/// "not a time" rather than "not valid".
const TIME: &str = "rectrack::http::query::Time";

/// Reads an RFC 3339 time parameter (`#[serde(default, deserialize_with = "query::time")]`
/// on an `Option<DateTime<Utc>>`), refused as `param-not-time` naming it.
pub fn time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    struct Rfc3339;
    impl Visitor<'_> for Rfc3339 {
        type Value = DateTime<Utc>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an RFC 3339 time")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(E::custom)
        }
    }
    d.deserialize_newtype_struct(TIME, Rfc3339).map(Some)
}

/// The name a date field is read under ([`date`]).
const DATE: &str = "rectrack::http::query::Date";

/// Reads a day parameter, `YYYY-MM-DD` (`#[serde(default, deserialize_with = "query::date")]`
/// on an `Option<NaiveDate>`), refused as `param-not-date` naming it (an empty value too).
pub fn date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    struct Day;
    impl Visitor<'_> for Day {
        type Value = NaiveDate;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a day, YYYY-MM-DD")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(E::custom)
        }
    }
    d.deserialize_newtype_struct(DATE, Day).map(Some)
}

/// The query's pairs, read as a struct (fields in their declared order) or a map.
struct Pairs(Vec<(String, String)>);

impl<'de> Deserializer<'de> for Pairs {
    type Error = Refused;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refused> {
        visitor.visit_map(Fields {
            pairs: self.0.into_iter(),
            value: None,
        })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Refused> {
        let mut pairs = self.0;
        let place = |key: &str| fields.iter().position(|f| *f == key).unwrap_or(usize::MAX);
        pairs.sort_by_key(|(key, _)| place(key));
        Pairs(pairs).deserialize_any(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

struct Fields {
    pairs: std::vec::IntoIter<(String, String)>,
    value: Option<(String, String)>,
}

impl<'de> MapAccess<'de> for Fields {
    type Error = Refused;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Refused> {
        let Some((key, value)) = self.pairs.next() else {
            return Ok(None);
        };
        let reader: de::value::StrDeserializer<'_, Refused> = key.as_str().into_deserializer();
        let read = seed.deserialize(reader)?;
        self.value = Some((key, value));
        Ok(Some(read))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Refused> {
        let (name, value) = self
            .value
            .take()
            .ok_or_else(|| Refused::Other("a value without its key".to_owned()))?;
        seed.deserialize(Value { name, value })
    }
}

/// One parameter's value, read as its field's type asks; refused naming the parameter.
struct Value {
    name: String,
    value: String,
}

impl Value {
    fn not_integer(&self) -> Refused {
        Refused::Param(AppError::bad_input(
            &self.name,
            t!("param-not-integer", name = &self.name, value = &self.value),
        ))
    }

    fn not_time(&self) -> Refused {
        Refused::Param(AppError::bad_input(
            &self.name,
            t!("param-not-time", name = &self.name, value = &self.value),
        ))
    }

    fn not_date(&self) -> Refused {
        Refused::Param(AppError::bad_input(
            &self.name,
            t!("param-not-date", name = &self.name, value = &self.value),
        ))
    }
}

macro_rules! integers {
    ($($method:ident $visit:ident $ty:ty),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refused> {
            match self.value.parse::<$ty>() {
                Ok(n) => visitor.$visit(n),
                Err(_) => Err(self.not_integer()),
            }
        }
    )*};
}

impl<'de> Deserializer<'de> for Value {
    type Error = Refused;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refused> {
        visitor.visit_string(self.value)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refused> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Refused> {
        if name == TIME || name == DATE {
            return match visitor.visit_str::<Refused>(&self.value) {
                Ok(read) => Ok(read),
                Err(_) if name == TIME => Err(self.not_time()),
                Err(_) => Err(self.not_date()),
            };
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Refused> {
        visitor.visit_enum(self.value.into_deserializer())
    }

    integers! {
        deserialize_i8 visit_i8 i8, deserialize_i16 visit_i16 i16,
        deserialize_i32 visit_i32 i32, deserialize_i64 visit_i64 i64,
        deserialize_u8 visit_u8 u8, deserialize_u16 visit_u16 u16,
        deserialize_u32 visit_u32 u32, deserialize_u64 visit_u64 u64
    }

    serde::forward_to_deserialize_any! {
        bool i128 u128 f32 f64 char str string bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

/// Text that means "none" when empty (a search, a cursor).
pub fn given(text: &Option<String>) -> Option<&str> {
    text.as_deref().filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    struct Sample {
        #[serde(default, deserialize_with = "time")]
        since: Option<DateTime<Utc>>,
        limit: Option<i32>,
        cursor: Option<String>,
    }

    fn read(query: &str) -> AppResult<Sample> {
        let pairs = url_pairs(query)?;
        Sample::deserialize(Pairs(pairs)).map_err(Refused::into_error)
    }

    #[test]
    fn each_parameter_is_read_by_its_type_and_a_bad_one_is_named() {
        let s = read("limit=5&cursor=a%20b+c&since=2021-04-13T00:00:00Z&other=x").unwrap();
        assert_eq!(s.limit, Some(5));
        assert_eq!(s.cursor.as_deref(), Some("a b c"));
        assert!(s.since.is_some());
        let err = read("limit=many").unwrap_err();
        assert_eq!(err.field(), Some("limit"));
        assert!(err.message().contains("many"));
        assert_eq!(read("since=").unwrap_err().field(), Some("since"));
        assert_eq!(read("limit=").unwrap_err().field(), Some("limit"));
        // The first declared of two bad parameters is named, whatever their order here.
        assert_eq!(
            read("limit=x&since=yesterday").unwrap_err().field(),
            Some("since")
        );
        assert!(read("").unwrap().limit.is_none());
    }
}

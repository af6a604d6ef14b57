//! The tables a backup holds, in the order a restore inserts them (every row after the rows it
//! refers to), and the one portable encoding of their values: a row is a JSON array of its
//! columns in the entity's order, each value written the same way whichever database it came
//! from (dates `2026-12-07`, times RFC 3339 in UTC, JSON as JSON), so that a SQLite backup
//! restores into PostgreSQL and back.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use sea_orm::sea_query::{ColumnType, Value};
use sea_orm::{ColumnTrait, EntityTrait, IdenStatic, Iterable, QueryResult};
use serde_json::Value as Json;

/// How a column's values are read, written and bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    BigInt,
    Text,
    Bool,
    Double,
    Date,
    Time,
    Json,
}

impl Kind {
    fn of(column: &ColumnType) -> Self {
        match column {
            ColumnType::Integer | ColumnType::SmallInteger | ColumnType::TinyInteger => Kind::Int,
            ColumnType::BigInteger => Kind::BigInt,
            ColumnType::Boolean => Kind::Bool,
            ColumnType::Double | ColumnType::Float => Kind::Double,
            ColumnType::Date => Kind::Date,
            ColumnType::TimestampWithTimeZone | ColumnType::Timestamp | ColumnType::DateTime => {
                Kind::Time
            }
            ColumnType::Json | ColumnType::JsonBinary => Kind::Json,
            // Text, and the enumerations (stored as their snake_case names).
            _ => Kind::Text,
        }
    }
}

/// One table of the backup.
#[derive(Debug, Clone)]
pub struct Table {
    pub name: &'static str,
    pub columns: Vec<(&'static str, Kind)>,
    /// The order rows are read in: a row after those of its own table it refers to.
    pub order: &'static str,
    /// A table the migrations create with its one row (`audit_head`, `webhook_cursor`): a
    /// restore updates that row instead of inserting one.
    pub singleton: bool,
    /// Its `id` is drawn from a sequence (PostgreSQL), which a restore moves past the rows.
    pub serial: bool,
}

fn table<E: EntityTrait + Default>(order: &'static str, singleton: bool, serial: bool) -> Table {
    Table {
        name: E::default().table_name(),
        columns: E::Column::iter()
            .map(|c| (c.as_str(), Kind::of(c.def().get_column_type())))
            .collect(),
        order,
        singleton,
        serial,
    }
}

/// Every table of rectrack's, referenced tables first. (`seaql_migrations` is not data: a
/// restore migrates its target, and the manifest names the migration the backup was taken at.)
pub fn all() -> Vec<Table> {
    use entity::*;
    vec![
        // A department's parent has a shorter path, whatever their ids.
        table::<department::Entity>("LENGTH(path), id", false, true),
        table::<account::Entity>("id", false, true),
        table::<inspection::Entity>("id", false, true),
        table::<category::Entity>("id", false, true),
        table::<finding::Entity>("id", false, true),
        table::<measure::Entity>("id", false, true),
        table::<target::Entity>("id", false, true),
        table::<regulation::Entity>("id", false, true),
        table::<finding_regulation::Entity>("finding_id, regulation_id", false, false),
        // A correction refers to an earlier entry: append-only, so to a smaller id.
        table::<progress_entry::Entity>("id", false, true),
        table::<evidence::Entity>("id", false, true),
        table::<report::Entity>("id", false, true),
        table::<relapse::Entity>("id", false, true),
        table::<recheck::Entity>("id", false, true),
        table::<audit_event::Entity>("id", false, true),
        table::<audit_head::Entity>("id", true, false),
        // Events of committed changes not yet on the chain (PostgreSQL): chained after restore.
        table::<audit_pending::Entity>("id", false, true),
        table::<idempotency_key::Entity>("caller, key", false, false),
        table::<event::Entity>("id", false, true),
        table::<webhook_endpoint::Entity>("id", false, true),
        table::<webhook_cursor::Entity>("id", true, false),
        table::<webhook_delivery::Entity>("id", false, true),
        table::<webhook_notice::Entity>("id", false, true),
        table::<warning_crossing::Entity>("id", false, true),
        table::<stage::Entity>("id", false, true),
        table::<supervision_order::Entity>("id", false, true),
        table::<supervision_order_subject::Entity>("id", false, true),
        table::<supervision_reply::Entity>("id", false, true),
        table::<supervision_reply_evidence::Entity>("id", false, true),
        table::<public_feedback::Entity>("id", false, true),
        table::<public_feedback_reply::Entity>("id", false, true),
        // Refers to supervision orders (督办 notices) and public feedback as well as crossings.
        table::<notification::Entity>("id", false, true),
        // The peers and the log; the instance's signing key is a file beside the data, never
        // a row (a restored database keeps trusting the same peers, not impersonating them).
        table::<exchange_peer::Entity>("id", false, true),
        table::<exchange_log::Entity>("id", false, true),
        // What was received from each peer, its chain as received, and the records merged
        // under their origin (the office's side of an import).
        table::<exchange_received::Entity>("peer_id", false, false),
        table::<exchange_chain_event::Entity>("peer_id, event_id", false, false),
        table::<exchange_origin::Entity>("id", false, true),
    ]
}

impl Table {
    /// The statement reading every row, columns in the entity's order.
    pub fn select(&self) -> String {
        let columns: Vec<String> = self
            .columns
            .iter()
            .map(|(c, _)| format!("\"{c}\""))
            .collect();
        format!(
            "SELECT {} FROM \"{}\" ORDER BY {}",
            columns.join(", "),
            self.name,
            self.order
        )
    }

    /// The column names, as the manifest lists them.
    pub fn column_names(&self) -> Vec<String> {
        self.columns.iter().map(|(c, _)| (*c).to_owned()).collect()
    }
}

/// A row as its portable JSON array.
pub fn encode(row: &QueryResult, columns: &[(&'static str, Kind)]) -> Result<Json, sea_orm::DbErr> {
    let mut values = Vec::with_capacity(columns.len());
    for (index, (_, kind)) in columns.iter().enumerate() {
        let value = match kind {
            Kind::Int => row.try_get_by_index::<Option<i32>>(index)?.map(Json::from),
            Kind::BigInt => row.try_get_by_index::<Option<i64>>(index)?.map(Json::from),
            Kind::Text => row
                .try_get_by_index::<Option<String>>(index)?
                .map(Json::from),
            Kind::Bool => row.try_get_by_index::<Option<bool>>(index)?.map(Json::from),
            Kind::Double => row.try_get_by_index::<Option<f64>>(index)?.map(Json::from),
            Kind::Date => row
                .try_get_by_index::<Option<NaiveDate>>(index)?
                .map(|d| Json::from(d.format("%Y-%m-%d").to_string())),
            Kind::Time => row
                .try_get_by_index::<Option<DateTime<Utc>>>(index)?
                .map(|t| Json::from(t.to_rfc3339_opts(SecondsFormat::AutoSi, true))),
            Kind::Json => row.try_get_by_index::<Option<Json>>(index)?,
        };
        values.push(value.unwrap_or(Json::Null));
    }
    Ok(Json::Array(values))
}

/// A portable value as the database value of a column of `kind`; `None` when it is not one.
pub fn decode(value: &Json, kind: Kind) -> Option<Value> {
    if value.is_null() {
        return Some(match kind {
            Kind::Int => Value::Int(None),
            Kind::BigInt => Value::BigInt(None),
            Kind::Text => Value::String(None),
            Kind::Bool => Value::Bool(None),
            Kind::Double => Value::Double(None),
            Kind::Date => Value::ChronoDate(None),
            Kind::Time => Value::ChronoDateTimeUtc(None),
            Kind::Json => Value::Json(None),
        });
    }
    Some(match kind {
        Kind::Int => Value::from(i32::try_from(value.as_i64()?).ok()?),
        Kind::BigInt => Value::from(value.as_i64()?),
        Kind::Text => Value::from(value.as_str()?.to_owned()),
        Kind::Bool => Value::from(value.as_bool()?),
        Kind::Double => Value::from(value.as_f64()?),
        Kind::Date => Value::from(NaiveDate::parse_from_str(value.as_str()?, "%Y-%m-%d").ok()?),
        Kind::Time => Value::from(
            DateTime::parse_from_rfc3339(value.as_str()?)
                .ok()?
                .with_timezone(&Utc),
        ),
        Kind::Json => Value::Json(Some(Box::new(value.clone()))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_round_trips_through_its_portable_form() {
        let time = "2026-12-07T03:04:05.123456Z";
        for (json, kind) in [
            (Json::from(7), Kind::Int),
            (Json::from(1_i64 << 40), Kind::BigInt),
            (Json::from("整改"), Kind::Text),
            (Json::from(true), Kind::Bool),
            (Json::from(0.5), Kind::Double),
            (Json::from("2026-12-07"), Kind::Date),
            (Json::from(time), Kind::Time),
            (serde_json::json!({"b": [1, 2], "a": null}), Kind::Json),
            (Json::Null, Kind::Date),
        ] {
            assert!(decode(&json, kind).is_some(), "{json} as {kind:?}");
        }
        assert!(decode(&Json::from("yesterday"), Kind::Date).is_none());
        assert!(decode(&Json::from(1_i64 << 40), Kind::Int).is_none());
    }

    #[test]
    fn every_table_is_listed_once() {
        let tables = all();
        let mut names: Vec<&str> = tables.iter().map(|t| t.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), tables.len());
    }
}

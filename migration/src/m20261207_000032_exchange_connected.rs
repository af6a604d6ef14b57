//! Connected mode (issue 43): the exchange log also records the pushes and pulls of bundles
//! over the network (`direction` `push` / `pull`) and their outcome per attempt (`result`
//! `delivered` / `failed`, the failure's code and detail). SQLite cannot change a CHECK in
//! place, so there the table is rebuilt with its rows and its index.

use crate::helpers::*;
use crate::m20261207_000024_exchange::{ExchangeLog, ExchangePeer};
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const DIRECTIONS: [&str; 2] = ["export", "import"];
const RESULTS: [&str; 4] = ["written", "merged", "duplicate", "refused"];
const CONNECTED_DIRECTIONS: [&str; 2] = ["push", "pull"];
const CONNECTED_RESULTS: [&str; 2] = ["delivered", "failed"];

#[derive(DeriveIden, Clone, Copy)]
enum Extra {
    ExchangeLogNext,
}

/// `exchange_log` as it was created, under the name of its rebuild, allowing these values.
fn log_table(directions: &[&str], results: &[&str]) -> TableCreateStatement {
    let name = Extra::ExchangeLogNext;
    Table::create()
        .table(name)
        .col(pk_auto(ExchangeLog::Id))
        .col(integer_null(ExchangeLog::PeerId))
        .col(one_of(ExchangeLog::Direction, directions))
        .col(integer_null(ExchangeLog::Sequence))
        .col(string_null(ExchangeLog::BundleSha256))
        .col(one_of(ExchangeLog::Result, results))
        .col(string_null(ExchangeLog::Code))
        .col(text_null(ExchangeLog::Detail))
        .col(json_null(ExchangeLog::Counts))
        .col(text(ExchangeLog::ActorSub))
        .col(utc(ExchangeLog::CreatedAt))
        .foreign_key(&mut fk(name, ExchangeLog::PeerId, ExchangePeer::Table))
        .to_owned()
}

/// Rebuilds the table on SQLite with these values allowed, keeping the rows `keep` selects;
/// one string of statements, run in order on one connection.
async fn rebuild_sqlite(
    manager: &SchemaManager<'_>,
    directions: &[&str],
    results: &[&str],
    keep: &str,
) -> Result<(), DbErr> {
    let create = log_table(directions, results).to_string(SqliteQueryBuilder);
    let columns = "id, peer_id, direction, sequence, bundle_sha256, result, code, detail, counts, actor_sub, created_at";
    let sql = format!(
        "{create};\n\
         INSERT INTO exchange_log_next ({columns}) SELECT {columns} FROM exchange_log{keep};\n\
         DROP TABLE exchange_log;\n\
         ALTER TABLE exchange_log_next RENAME TO exchange_log;\n\
         CREATE INDEX exchange_log_peer_id_idx ON exchange_log (peer_id, id);"
    );
    manager.get_connection().execute_unprepared(&sql).await?;
    Ok(())
}

/// `'a', 'b'`.
fn listed(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("'{v}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn postgres_checks(
    manager: &SchemaManager<'_>,
    directions: &[&str],
    results: &[&str],
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    for (column, values) in [("direction", directions), ("result", results)] {
        db.execute_unprepared(&format!(
            "ALTER TABLE exchange_log DROP CONSTRAINT exchange_log_{column}_check"
        ))
        .await?;
        db.execute_unprepared(&format!(
            "ALTER TABLE exchange_log ADD CONSTRAINT exchange_log_{column}_check CHECK ({column} IN ({}))",
            listed(values)
        ))
        .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let directions = [&DIRECTIONS[..], &CONNECTED_DIRECTIONS[..]].concat();
        let results = [&RESULTS[..], &CONNECTED_RESULTS[..]].concat();
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => rebuild_sqlite(manager, &directions, &results, "").await,
            _ => postgres_checks(manager, &directions, &results).await,
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let connected = format!(" WHERE direction IN ({})", listed(&CONNECTED_DIRECTIONS));
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => {
                let keep = format!(
                    " WHERE direction NOT IN ({})",
                    listed(&CONNECTED_DIRECTIONS)
                );
                rebuild_sqlite(manager, &DIRECTIONS, &RESULTS, &keep).await
            }
            _ => {
                manager
                    .get_connection()
                    .execute_unprepared(&format!("DELETE FROM exchange_log{connected}"))
                    .await?;
                postgres_checks(manager, &DIRECTIONS, &RESULTS).await
            }
        }
    }
}

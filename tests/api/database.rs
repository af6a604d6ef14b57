//! Every connection of the pool is opened as `db::connect` promises: on SQLite, write-ahead
//! logging (readers never wait for the writer), foreign keys enforced, and the page cache
//! large enough for province-scale indexes (docs/BENCHMARKS.md).

use rectrack::db;
use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};

use crate::helpers::{TestDb, config};

/// A pragma's value as text (SQLite answers some as numbers, some as texts).
async fn pragma(conn: &impl ConnectionTrait, name: &str) -> String {
    let row = conn
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            format!("PRAGMA {name}"),
        ))
        .await
        .expect("the pragma answers")
        .expect("a row");
    row.try_get_by_index::<i64>(0)
        .map(|n| n.to_string())
        .or_else(|_| row.try_get_by_index::<String>(0))
        .expect("a number or a text")
}

#[tokio::test]
async fn every_sqlite_connection_has_wal_foreign_keys_and_the_page_cache() {
    let db = TestDb::sqlite().await;
    let pool = db::connect(&config(&db, &["--db-max-connections", "3"]))
        .await
        .expect("the pool opens");
    // Three connections held at once, so that each is asked, not one three times.
    let held = futures_util::future::join_all((0..3).map(|_| pool.begin())).await;
    for txn in held {
        let txn = txn.expect("a connection");
        assert_eq!(pragma(&txn, "journal_mode").await, "wal");
        assert_eq!(pragma(&txn, "foreign_keys").await, "1");
        assert_eq!(
            pragma(&txn, "cache_size").await,
            format!("-{}", db::SQLITE_CACHE_KIB)
        );
    }
}

//! Backups an office can keep and restore anywhere: one ZIP file holding every table of
//! rectrack's as JSON Lines (`tables/<name>.jsonl`, one JSON array of the row's columns a line,
//! [`tables`]), the evidence files (`evidence/<sha256>`) and `manifest.json` ([`Manifest`]:
//! format version, when, from which kind of database at which migration, each table's columns
//! and row count, the SHA-256 of every member, the audit chain's head).
//!
//! The same dump is taken from either database, read from one consistent snapshot while the
//! server goes on writing ([`take`]): on SQLite a `VACUUM INTO` copy, on PostgreSQL one
//! REPEATABLE READ read-only transaction. So a restore ([`restore`]) has one road, into an
//! empty database of either kind: SQLite to PostgreSQL is how a unit's standalone copy moves to
//! a server. Scheduled backups with retention: [`schedule`].

pub mod restore;
pub mod schedule;
pub mod tables;
pub mod take;

use std::io::Write;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The version of the file's layout; a restore refuses any other.
pub const FORMAT: u32 = 1;

/// The manifest's member name.
pub const MANIFEST: &str = "manifest.json";

/// What a backup holds, written last into the file and checked first by a restore.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub format: u32,
    /// The rectrack version that took it.
    pub version: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    /// The newest migration applied to the database it was taken from.
    pub migration: Option<String>,
    pub audit_head: AuditHead,
    pub tables: Vec<TableEntry>,
    pub evidence: Vec<FileEntry>,
}

/// Where the audit chain ended in the snapshot.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AuditHead {
    pub last_event_id: i64,
    pub last_hash: String,
    pub events: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TableEntry {
    pub name: String,
    pub member: String,
    pub columns: Vec<String>,
    pub rows: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileEntry {
    pub member: String,
    pub sha256: String,
    pub size: u64,
}

/// A writer that hashes and counts what passes through it.
pub(crate) struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Hashing<W> {
    pub(crate) fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// The hex SHA-256 and the size of what was written, and the writer back.
    pub(crate) fn finish(self) -> (String, u64, W) {
        (
            crate::audit::hex(&self.hasher.finalize()),
            self.bytes,
            self.inner,
        )
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The newest migration applied (its name), read in the snapshot.
pub(crate) async fn newest_migration(
    db: &impl sea_orm::ConnectionTrait,
) -> Result<Option<String>, sea_orm::DbErr> {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT MAX(version) AS version FROM seaql_migrations",
        ))
        .await?;
    Ok(match row {
        Some(row) => row.try_get::<Option<String>>("", "version")?,
        None => None,
    })
}

//! Taking a backup while the server runs: every table read from one consistent snapshot (a
//! `VACUUM INTO` copy on SQLite, a REPEATABLE READ read-only transaction on PostgreSQL), so
//! every write committed before the snapshot is in it and none after; the evidence files its
//! rows name; the manifest last. The file is written under a temporary name beside the target
//! and renamed at the end: a full disk or an unwritable directory leaves nothing behind.

use std::collections::BTreeSet;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use futures_util::TryStreamExt;
use sea_orm::{
    AccessMode, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    IsolationLevel, Statement, StreamTrait, TransactionTrait,
};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::tables::{self, Kind};
use super::{AuditHead, FORMAT, FileEntry, Hashing, MANIFEST, Manifest, TableEntry};

/// Writes a backup of `db` (and the evidence files under `data_dir`) to `target`.
pub async fn take(
    db: &DatabaseConnection,
    data_dir: &Path,
    target: &Path,
) -> anyhow::Result<Manifest> {
    let file_name = target
        .file_name()
        .ok_or_else(|| write_failed(target, "not a file name"))?
        .to_string_lossy()
        .into_owned();
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let partial = dir.join(format!(".{file_name}.partial-{}", std::process::id()));
    let snapshot = dir.join(format!(".{file_name}.snapshot-{}.db", std::process::id()));
    let written = write(db, data_dir, target, &partial, &snapshot).await;
    remove_sqlite(&snapshot);
    let manifest = match written {
        Ok(manifest) => manifest,
        Err(err) => {
            let _ = std::fs::remove_file(&partial);
            return Err(err);
        }
    };
    if let Err(err) = std::fs::rename(&partial, target) {
        let _ = std::fs::remove_file(&partial);
        return Err(write_failed(target, err));
    }
    // The rename itself is on disk once the directory is.
    if let Ok(dir) = std::fs::File::open(&dir) {
        let _ = dir.sync_all();
    }
    Ok(manifest)
}

fn write_failed(target: &Path, detail: impl Failure) -> anyhow::Error {
    let detail = if detail.disk_full() {
        t!("backup-disk-full")
    } else {
        detail.to_string()
    };
    anyhow::anyhow!(t!(
        "backup-write",
        file = target.display().to_string(),
        detail = detail
    ))
}

/// A failed write, which may say the disk is full: the operator's one fix is to make room, so
/// it is named in their language rather than as the layer's English text.
trait Failure: ToString {
    fn disk_full(&self) -> bool {
        false
    }
}

impl Failure for &str {}

impl Failure for std::io::Error {
    fn disk_full(&self) -> bool {
        self.kind() == std::io::ErrorKind::StorageFull
    }
}

impl Failure for zip::result::ZipError {
    fn disk_full(&self) -> bool {
        matches!(self, zip::result::ZipError::Io(err) if err.disk_full())
    }
}

impl Failure for sea_orm::DbErr {
    /// SQLite's `VACUUM INTO` onto a full disk: result code 13, SQLITE_FULL.
    fn disk_full(&self) -> bool {
        use sea_orm::{DbErr, RuntimeErr};
        let sqlx = match self {
            DbErr::Exec(RuntimeErr::SqlxError(err)) | DbErr::Query(RuntimeErr::SqlxError(err)) => {
                err
            }
            _ => return false,
        };
        match sqlx.as_ref() {
            sea_orm::sqlx::Error::Database(err) => err.code().as_deref() == Some("13"),
            sea_orm::sqlx::Error::Io(err) => err.disk_full(),
            _ => false,
        }
    }
}

fn snapshot_failed(detail: impl ToString) -> anyhow::Error {
    anyhow::anyhow!(t!("backup-snapshot", detail = detail.to_string()))
}

fn remove_sqlite(file: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = file.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
}

async fn write(
    db: &DatabaseConnection,
    data_dir: &Path,
    target: &Path,
    partial: &Path,
    snapshot: &Path,
) -> anyhow::Result<Manifest> {
    // The target's directory is checked before the database is read.
    let file = std::fs::File::create_new(partial).map_err(|err| write_failed(target, err))?;
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let txn = db
                .begin_with_config(
                    Some(IsolationLevel::RepeatableRead),
                    Some(AccessMode::ReadOnly),
                )
                .await
                .map_err(snapshot_failed)?;
            let manifest = dump(&txn, "postgres", data_dir, target, file).await;
            let _ = txn.rollback().await;
            manifest
        }
        _ => {
            // SQLite copies the database as one read transaction sees it; the server's writers
            // go on meanwhile (WAL), and the copy is read at leisure.
            let quoted = snapshot.to_string_lossy().replace('\'', "''");
            db.execute_unprepared(&format!("VACUUM INTO '{quoted}'"))
                .await
                .map_err(|err| write_failed(target, err))?;
            let copy = Database::connect(format!("sqlite://{}?mode=ro", snapshot.display()))
                .await
                .map_err(snapshot_failed)?;
            let txn = copy.begin().await.map_err(snapshot_failed)?;
            let manifest = dump(&txn, "sqlite", data_dir, target, file).await;
            let _ = txn.rollback().await;
            let _ = copy.close().await;
            manifest
        }
    }
}

async fn dump(
    txn: &DatabaseTransaction,
    database: &str,
    data_dir: &Path,
    target: &Path,
    file: std::fs::File,
) -> anyhow::Result<Manifest> {
    let io = |err: std::io::Error| write_failed(target, err);
    let zipped = |err: zip::result::ZipError| write_failed(target, err);
    let mut zip = ZipWriter::new(BufWriter::with_capacity(1 << 20, file));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .large_file(true);
    let backend = ConnectionTrait::get_database_backend(txn);
    let migration = super::newest_migration(txn)
        .await
        .map_err(snapshot_failed)?;
    let mut entries = Vec::new();
    let mut digests = BTreeSet::new();
    let mut head = None;
    for table in tables::all() {
        let member = format!("tables/{}.jsonl", table.name);
        zip.start_file(member.as_str(), options).map_err(zipped)?;
        let mut out = Hashing::new(&mut zip);
        let digest_at = table.columns.iter().position(|(c, _)| *c == "sha256");
        let mut rows = 0u64;
        let mut stream = txn
            .stream_raw(Statement::from_string(backend, table.select()))
            .await
            .map_err(snapshot_failed)?;
        while let Some(row) = stream.try_next().await.map_err(snapshot_failed)? {
            let line = tables::encode(&row, &table.columns).map_err(snapshot_failed)?;
            if table.name == "evidence"
                && let Some(sha) = digest_at.and_then(|i| line[i].as_str())
            {
                digests.insert(sha.to_owned());
            }
            if table.name == "audit_head" {
                head = Some(audit_head(&table.columns, &line));
            }
            serde_json::to_writer(&mut out, &line).map_err(|e| io(e.into()))?;
            out.write_all(b"\n").map_err(io)?;
            rows += 1;
        }
        drop(stream);
        let (sha256, _, _) = out.finish();
        entries.push(TableEntry {
            name: table.name.to_owned(),
            member,
            columns: table.column_names(),
            rows,
            sha256,
        });
    }
    let store = crate::evidence::Store::new(data_dir, 0, &[]);
    let mut evidence = Vec::new();
    for sha in digests {
        let Some(path) = store.path_of(&sha) else {
            continue;
        };
        let mut source = std::fs::File::open(&path).map_err(|err| {
            anyhow::anyhow!(t!(
                "backup-evidence-missing",
                file = path.display().to_string(),
                detail = err.to_string()
            ))
        })?;
        let member = format!("evidence/{sha}");
        zip.start_file(member.as_str(), options).map_err(zipped)?;
        let mut out = Hashing::new(&mut zip);
        std::io::copy(&mut source, &mut out).map_err(io)?;
        let (found, size, _) = out.finish();
        anyhow::ensure!(
            found == sha,
            t!("backup-evidence-altered", file = path.display().to_string())
        );
        evidence.push(FileEntry {
            member,
            sha256: sha,
            size,
        });
    }
    let manifest = Manifest {
        format: FORMAT,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        database: database.to_owned(),
        migration,
        audit_head: head.unwrap_or(AuditHead {
            last_event_id: 0,
            last_hash: crate::audit::GENESIS.to_owned(),
            events: 0,
        }),
        tables: entries,
        evidence,
    };
    zip.start_file(MANIFEST, SimpleFileOptions::default())
        .map_err(zipped)?;
    serde_json::to_writer_pretty(&mut zip, &manifest).map_err(|e| io(e.into()))?;
    let writer = zip.finish().map_err(zipped)?;
    let file = writer.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    Ok(manifest)
}

/// The head row as the manifest states it.
fn audit_head(columns: &[(&'static str, Kind)], line: &serde_json::Value) -> AuditHead {
    let at = |name: &str| {
        columns
            .iter()
            .position(|(c, _)| *c == name)
            .map(|i| line[i].clone())
            .unwrap_or_default()
    };
    AuditHead {
        last_event_id: at("last_event_id").as_i64().unwrap_or_default(),
        last_hash: at("last_hash").as_str().unwrap_or_default().to_owned(),
        events: at("events").as_i64().unwrap_or_default(),
    }
}

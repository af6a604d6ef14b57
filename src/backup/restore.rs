//! Restoring a backup into an empty database of either kind. Everything is checked before
//! anything is written: the file is a complete ZIP with a manifest of this format, its tables
//! and columns are this version's, and every member's SHA-256 and row count are the
//! manifest's. Then the evidence files are put in place, every row is inserted in one
//! transaction (PostgreSQL's sequences moved past them), and a failure anywhere leaves the
//! database as empty as it was and no file the restore added.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, Value};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use zip::ZipArchive;

use super::tables::{self, Table};
use super::{FORMAT, Hashing, MANIFEST, Manifest};

/// Values bound per INSERT: under SQLite's limit (32,766) and PostgreSQL's (65,535).
const VALUES_PER_STATEMENT: usize = 16_000;

/// The most bytes of the manifest read (a million evidence files fit in far less).
const MANIFEST_MOST: u64 = 256 << 20;

/// A backup file whose every member matched its manifest.
pub struct Checked {
    archive: ZipArchive<File>,
    pub manifest: Manifest,
}

fn refused(file: &Path, problem: String) -> anyhow::Error {
    anyhow::anyhow!(t!(
        "restore-refused",
        file = file.display().to_string(),
        problem = problem
    ))
}

/// Opens `file` and checks it whole against its manifest; writes nothing.
pub fn check(file: &Path) -> anyhow::Result<Checked> {
    let opened = File::open(file).map_err(|err| {
        anyhow::anyhow!(t!(
            "cli-file-read",
            file = file.display().to_string(),
            detail = err.to_string()
        ))
    })?;
    let mut archive = ZipArchive::new(opened)
        .map_err(|err| refused(file, t!("restore-not-archive", detail = err.to_string())))?;
    let manifest: Manifest = {
        let member = archive
            .by_name(MANIFEST)
            .map_err(|_| refused(file, t!("restore-no-manifest")))?;
        // Read within a budget: a manifest lists tables and evidence files, never this much;
        // past it the text ends early and is refused as a bad manifest.
        serde_json::from_reader(member.take(MANIFEST_MOST))
            .map_err(|err| refused(file, t!("restore-bad-manifest", detail = err.to_string())))?
    };
    if manifest.format != FORMAT {
        return Err(refused(
            file,
            t!(
                "restore-format",
                found = manifest.format.to_string(),
                known = FORMAT.to_string()
            ),
        ));
    }
    let known = tables::all();
    let names = |list: Vec<String>| list.join(", ");
    if known.len() != manifest.tables.len()
        || known
            .iter()
            .zip(&manifest.tables)
            .any(|(k, m)| k.name != m.name)
    {
        return Err(refused(
            file,
            t!(
                "restore-tables",
                found = names(manifest.tables.iter().map(|t| t.name.clone()).collect()),
                known = names(known.iter().map(|t| t.name.to_owned()).collect())
            ),
        ));
    }
    for (table, entry) in known.iter().zip(&manifest.tables) {
        if table.column_names() != entry.columns {
            return Err(refused(
                file,
                t!(
                    "restore-columns",
                    table = table.name,
                    found = names(entry.columns.clone()),
                    known = names(table.column_names())
                ),
            ));
        }
        let (sha256, lines) =
            digest(&mut archive, &entry.member, true).map_err(|problem| refused(file, problem))?;
        if sha256 != entry.sha256 {
            return Err(refused(
                file,
                t!("restore-member-altered", member = entry.member.as_str()),
            ));
        }
        if lines != entry.rows {
            return Err(refused(
                file,
                t!(
                    "restore-member-rows",
                    member = entry.member.as_str(),
                    found = lines.to_string(),
                    rows = entry.rows.to_string()
                ),
            ));
        }
    }
    for entry in &manifest.evidence {
        let (sha256, _) =
            digest(&mut archive, &entry.member, false).map_err(|problem| refused(file, problem))?;
        if sha256 != entry.sha256 || entry.member != format!("evidence/{}", entry.sha256) {
            return Err(refused(
                file,
                t!("restore-member-altered", member = entry.member.as_str()),
            ));
        }
    }
    Ok(Checked { archive, manifest })
}

/// A member's SHA-256 and (if asked) how many lines it has; a problem names the member.
fn digest(
    archive: &mut ZipArchive<File>,
    member: &str,
    lines: bool,
) -> Result<(String, u64), String> {
    let mut entry = archive
        .by_name(member)
        .map_err(|_| t!("restore-member-missing", member = member))?;
    let mut out = Hashing::new(std::io::sink());
    let mut buffer = vec![0u8; 1 << 16];
    let mut count = 0u64;
    loop {
        // The ZIP reader checks the member's CRC at its end: a damaged byte fails the read.
        let n = entry.read(&mut buffer).map_err(|err| {
            t!(
                "restore-member-damaged",
                member = member,
                detail = err.to_string()
            )
        })?;
        if n == 0 {
            break;
        }
        if lines {
            count += buffer[..n].iter().filter(|b| **b == b'\n').count() as u64;
        }
        std::io::Write::write_all(&mut out, &buffer[..n]).map_err(|e| e.to_string())?;
    }
    Ok((out.finish().0, count))
}

/// Restores a checked backup into `db` (migrated, and empty) and its evidence files under
/// `data_dir`. Returns the manifest restored.
pub async fn restore(
    db: &DatabaseConnection,
    data_dir: &Path,
    mut checked: Checked,
) -> anyhow::Result<Manifest> {
    let known = tables::all();
    ensure_empty(db, &known).await?;
    let placed = place_evidence(&mut checked, data_dir)?;
    let outcome = insert_all(db, &known, &mut checked).await;
    if outcome.is_err() {
        for file in placed {
            let _ = std::fs::remove_file(file);
        }
    }
    outcome?;
    Ok(checked.manifest)
}

async fn count(db: &DatabaseConnection, sql: String) -> anyhow::Result<i64> {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .map_err(failed)?;
    Ok(match row {
        Some(row) => row.try_get_by_index::<i64>(0).map_err(failed)?,
        None => 0,
    })
}

fn failed(err: sea_orm::DbErr) -> anyhow::Error {
    anyhow::anyhow!(t!("cli-database-failed", detail = err.to_string()))
}

/// Refuses a database that holds anything: a restore adds to nothing. (The migrations' own
/// rows, the audit head at the chain's start and the webhook cursor at zero, count as empty.)
async fn ensure_empty(db: &DatabaseConnection, known: &[Table]) -> anyhow::Result<()> {
    for table in known {
        let sql = match table.name {
            "audit_head" => "SELECT COUNT(*) FROM audit_head WHERE events <> 0".to_owned(),
            "webhook_cursor" => {
                "SELECT COUNT(*) FROM webhook_cursor WHERE last_event_id <> 0".to_owned()
            }
            name => format!("SELECT COUNT(*) FROM \"{name}\""),
        };
        let rows = count(db, sql).await?;
        if rows > 0 {
            anyhow::bail!(t!(
                "restore-not-empty",
                table = table.name,
                rows = rows.to_string()
            ));
        }
    }
    Ok(())
}

/// Puts the backup's evidence files into the store; returns those it created.
fn place_evidence(checked: &mut Checked, data_dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let store = crate::evidence::Store::new(data_dir, 0, &[]);
    let mut placed = Vec::new();
    let result = (|| -> anyhow::Result<()> {
        for entry in checked.manifest.evidence.clone() {
            let Some(path) = store.path_of(&entry.sha256) else {
                continue;
            };
            if path.exists() {
                continue;
            }
            let dir = path.parent().unwrap_or(data_dir);
            let write = |err: std::io::Error| {
                anyhow::anyhow!(t!(
                    "cli-file-write",
                    file = path.display().to_string(),
                    detail = err.to_string()
                ))
            };
            std::fs::create_dir_all(dir).map_err(write)?;
            let temp = dir.join(format!(".restore-{}-{}", std::process::id(), entry.sha256));
            let copied = (|| -> std::io::Result<()> {
                let mut member = checked
                    .archive
                    .by_name(&entry.member)
                    .map_err(std::io::Error::other)?;
                let mut out = File::create(&temp)?;
                std::io::copy(&mut member, &mut out)?;
                out.sync_all()?;
                std::fs::rename(&temp, &path)
            })();
            if let Err(err) = copied {
                let _ = std::fs::remove_file(&temp);
                return Err(write(err));
            }
            placed.push(path.clone());
        }
        Ok(())
    })();
    if let Err(err) = result {
        for file in placed {
            let _ = std::fs::remove_file(file);
        }
        return Err(err);
    }
    Ok(placed)
}

async fn insert_all(
    db: &DatabaseConnection,
    known: &[Table],
    checked: &mut Checked,
) -> anyhow::Result<()> {
    let txn = crate::db::begin_write(db).await.map_err(failed)?;
    let entries: BTreeMap<String, String> = checked
        .manifest
        .tables
        .iter()
        .map(|t| (t.name.clone(), t.member.clone()))
        .collect();
    for table in known {
        let member = entries
            .get(table.name)
            .ok_or_else(|| anyhow::anyhow!(t!("restore-member-missing", member = table.name)))?;
        let entry = checked
            .archive
            .by_name(member)
            .map_err(|_| anyhow::anyhow!(t!("restore-member-missing", member = member.as_str())))?;
        let per_statement = (VALUES_PER_STATEMENT / table.columns.len().max(1)).max(1);
        let mut chunk = Vec::with_capacity(per_statement);
        let mut lines = BufReader::with_capacity(1 << 16, entry).lines().enumerate();
        loop {
            let next = lines.next();
            let done = next.is_none();
            if let Some((index, line)) = next {
                chunk.push(row_of(line.ok(), table).ok_or_else(|| {
                    anyhow::anyhow!(t!(
                        "restore-bad-row",
                        member = member.as_str(),
                        line = (index + 1).to_string()
                    ))
                })?);
                if chunk.len() < per_statement {
                    continue;
                }
            }
            if !chunk.is_empty() {
                write_rows(&txn, table, std::mem::take(&mut chunk)).await?;
            }
            if done {
                break;
            }
        }
    }
    if txn.get_database_backend() == DbBackend::Postgres {
        for table in known.iter().filter(|t| t.serial) {
            let name = table.name;
            txn.execute_unprepared(&format!(
                "SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), \
                 COALESCE((SELECT MAX(id) FROM \"{name}\"), 0) + 1, false)"
            ))
            .await
            .map_err(failed)?;
        }
    }
    txn.commit().await.map_err(failed)?;
    Ok(())
}

/// A line of a table's member as the row's database values; none if it is not one.
fn row_of(line: Option<String>, table: &Table) -> Option<Vec<Value>> {
    let values: Vec<serde_json::Value> = serde_json::from_str(&line?).ok()?;
    if values.len() != table.columns.len() {
        return None;
    }
    values
        .iter()
        .zip(&table.columns)
        .map(|(value, (_, kind))| tables::decode(value, *kind))
        .collect()
}

/// Inserts rows of `table` (one statement), or updates its one row (a singleton).
async fn write_rows(
    txn: &sea_orm::DatabaseTransaction,
    table: &Table,
    rows: Vec<Vec<Value>>,
) -> anyhow::Result<()> {
    if table.singleton {
        for row in rows {
            let mut update = Query::update();
            update.table(Alias::new(table.name));
            let mut id = Value::Int(None);
            for ((column, _), value) in table.columns.iter().zip(row) {
                if *column == "id" {
                    id = value;
                } else {
                    update.value(Alias::new(*column), value);
                }
            }
            update.and_where(Expr::col(Alias::new("id")).eq(id));
            txn.execute(&update).await.map_err(failed)?;
        }
        return Ok(());
    }
    let mut insert = Query::insert();
    insert
        .into_table(Alias::new(table.name))
        .columns(table.columns.iter().map(|(c, _)| Alias::new(*c)));
    for row in rows {
        insert.values_panic(row.into_iter().map(Expr::val));
    }
    txn.execute(&insert).await.map_err(failed)?;
    Ok(())
}

//! Writing a bundle to a peer: what it carries is read by the domain
//! (`domain::integration::outgoing`: the segment of this instance's audit chain after what
//! the peer acknowledged, the records of the peer's unit that the segment's events touched,
//! as they are now) and written here as the bundle's members, with the evidence files the
//! records name.
//!
//! Everything is read in one transaction (a snapshot: REPEATABLE READ on PostgreSQL, a write
//! transaction on SQLite), which also takes the bundle's sequence number, writes the log line
//! and the audit event; the file is put in place before that commits, and removed if it does
//! not, so a sequence number is never used without its file nor a file left without its number.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DbBackend, IsolationLevel,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use serde::Serialize;
use serde_json::json;

use super::bundle::{self, Chain, Manifest, Party, Unit, Writer};
use super::identity::Identity;
use crate::audit;
use crate::domain::Acting;
use crate::domain::integration::exchange::{self as peers, Entry};
use crate::domain::integration::outgoing::{self, Sink};
use crate::domain::integration::{decisions, origin};
use crate::domain::records::change::{Record, audited};
use crate::error::{AppError, AppResult};

/// What was written.
#[derive(Debug, Clone)]
pub struct Exported {
    pub manifest: Manifest,
    /// The SHA-256 of the whole file.
    pub sha256: String,
    pub bytes: u64,
}

/// Writes the next bundle to the peer `to` (its instance id) as `output`: administrators, and
/// the managers of the peer's unit.
pub async fn export(
    db: &DatabaseConnection,
    who: &Acting,
    identity: &Identity,
    evidence: &crate::evidence::Store,
    to: &str,
    output: &Path,
) -> AppResult<Exported> {
    write_numbered(db, who, identity, evidence, to, output, None).await
}

/// Writes bundle number `sequence` to the peer again, with what is to be sent now: its file was
/// lost, and the peer refuses every later number until it has this one (its refusal names the
/// number). Any number the peer has not acknowledged; the bundles written after it are
/// abandoned (the next one takes `sequence + 1`), which loses nothing, as every bundle carries
/// all that changed since the last acknowledged one. A number the peer merged without its
/// acknowledgement arriving is refused there as another file under a number taken, naming the
/// number it has: the next ordinary bundle then follows it.
pub async fn reissue(
    db: &DatabaseConnection,
    who: &Acting,
    identity: &Identity,
    evidence: &crate::evidence::Store,
    to: &str,
    output: &Path,
    sequence: i32,
) -> AppResult<Exported> {
    write_numbered(db, who, identity, evidence, to, output, Some(sequence)).await
}

async fn write_numbered(
    db: &DatabaseConnection,
    who: &Acting,
    identity: &Identity,
    evidence: &crate::evidence::Store,
    to: &str,
    output: &Path,
    again: Option<i32>,
) -> AppResult<Exported> {
    let postgres = db.get_database_backend() == DbBackend::Postgres;
    let txn = db
        .begin_with_options(TransactionOptions {
            isolation_level: postgres.then_some(IsolationLevel::RepeatableRead),
            access_mode: postgres.then_some(AccessMode::ReadWrite),
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        })
        .await?;
    let peer = peers::addressee(&txn, who, to).await?;
    let sequence = match again {
        Some(n) if n > peer.acked_sequence && n <= peer.sent_sequence => {
            peers::rewind_sequence(&txn, &peer, n, who.now()).await?
        }
        Some(n) => {
            return Err(AppError::bad_input(
                "sequence",
                t!(
                    "exchange-nothing-to-reissue",
                    asked = n.to_string(),
                    sent = peer.sent_sequence.to_string(),
                    acked = peer.acked_sequence.to_string()
                ),
            ));
        }
        None => peers::take_sequence(&txn, &peer, who.now()).await?,
    };
    let partial = partial_of(output);
    let written = write(&txn, identity, evidence, &peer, sequence, &partial).await;
    let exported = match written {
        Ok(exported) => exported,
        Err(err) => {
            let _ = std::fs::remove_file(&partial);
            return Err(err);
        }
    };
    let counts: BTreeMap<&str, u64> = exported
        .manifest
        .members
        .iter()
        .filter(|m| m.name.ends_with(".jsonl"))
        .map(|m| (m.name.as_str(), m.rows))
        .collect();
    let line = peers::log(
        &txn,
        who,
        Entry {
            peer_id: Some(peer.id),
            direction: "export",
            sequence: Some(sequence),
            bundle_sha256: Some(exported.sha256.clone()),
            result: "written",
            code: None,
            detail: again.map(|n| t!("exchange-reissued", sequence = n.to_string())),
            counts: Some(json!(counts)),
        },
    )
    .await;
    let recorded = match line {
        Ok(line) => {
            audited(
                &txn,
                who,
                "exchange.export",
                Record {
                    kind: "exchange_log",
                    id: line.id,
                    department_id: Some(peer.department_id),
                },
                None,
                Some(&line),
            )
            .await
        }
        Err(err) => Err(err),
    };
    let placed = recorded
        .and_then(|()| std::fs::rename(&partial, output).map_err(|err| file_failed(output, &err)));
    if let Err(err) = placed {
        let _ = std::fs::remove_file(&partial);
        return Err(err);
    }
    if let Err(err) = crate::db::commit(db, txn).await {
        let _ = std::fs::remove_file(output);
        return Err(err);
    }
    Ok(exported)
}

/// The name the bundle is written under until it is complete.
fn partial_of(output: &Path) -> PathBuf {
    let mut name = output.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

fn file_failed(file: &Path, err: &std::io::Error) -> AppError {
    AppError::internal(format!("exchange bundle {}: {err}", file.display()))
}

/// Reads the snapshot and writes the bundle to `file`.
async fn write(
    db: &impl ConnectionTrait,
    identity: &Identity,
    evidence: &crate::evidence::Store,
    peer: &entity::exchange_peer::Model,
    sequence: i32,
    file: &Path,
) -> AppResult<Exported> {
    let io = |err: std::io::Error| file_failed(file, &err);
    let unit = peers::unit_of(db, peer).await?;
    let departments = peers::departments_of(db, &unit).await?;
    let mut out = Out {
        writer: Writer::create(file).map_err(io)?,
        file,
    };

    // The chain segment first: it says which records changed.
    let segment = outgoing::chain(db, &mut out, peer, &departments, bundle::CHAIN).await?;
    // The office (it holds records merged from this peer) sends its decisions on them; a
    // unit sends its records, and the evidence files they name.
    let kind = if origin::holds_from(db, peer.id).await? {
        decisions(db, &mut out, peer, sequence).await?;
        Some(bundle::DECISIONS.to_owned())
    } else {
        let blobs = outgoing::records(db, &mut out, &unit, &departments, &segment.changed).await?;
        blobs_of(&mut out, evidence, blobs)?;
        None
    };
    let Out { writer: out, .. } = out;
    let outgoing::Segment {
        after_hash,
        events,
        last_id,
        last_hash,
        ..
    } = segment;

    let manifest = Manifest {
        format: bundle::FORMAT.to_owned(),
        version: bundle::VERSION,
        from: Party {
            instance_id: identity.instance_id.clone(),
            public_key: identity.public_key(),
        },
        to: peer.instance_id.clone(),
        sequence,
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        unit: Unit {
            code: unit.code.clone(),
            name: unit.name.clone(),
        },
        chain: Chain {
            after_event_id: peer.acked_event_id,
            // No event since the acknowledged one: the chain ends where the peer has it.
            after_hash: after_hash.unwrap_or_else(|| last_hash.clone()),
            last_event_id: last_id.max(peer.acked_event_id),
            last_hash,
            events,
        },
        members: Vec::new(),
        kind,
    };
    let manifest = out.finish(manifest, identity).map_err(io)?;
    let (sha256, bytes) = digest_file(file).map_err(io)?;
    Ok(Exported {
        manifest,
        sha256,
        bytes,
    })
}

/// Writes the office's decisions for the peer's unit (`decisions/decision.jsonl`): every one
/// the unit has not answered yet.
async fn decisions(
    db: &impl ConnectionTrait,
    out: &mut Out<'_>,
    peer: &entity::exchange_peer::Model,
    sequence: i32,
) -> AppResult<()> {
    out.begin(bundle::DECISION_MEMBER)?;
    for decision in decisions::to_send(db, peer.id, sequence).await? {
        out.line(&decisions::Line::from(&decision))?;
    }
    out.end()
}

/// The evidence files the records name, streamed from the store and checked against their
/// names.
fn blobs_of(
    out: &mut Out<'_>,
    evidence: &crate::evidence::Store,
    blobs: BTreeSet<String>,
) -> AppResult<()> {
    for sha in blobs {
        let path = evidence
            .path_of(&sha)
            .ok_or_else(|| AppError::internal(format!("evidence digest {sha} is not one")))?;
        let mut source = std::fs::File::open(&path).map_err(|err| {
            AppError::internal(format!("evidence file {}: {err}", path.display()))
        })?;
        let found = out
            .writer
            .blob(&sha, &mut source)
            .map_err(|err| file_failed(out.file, &err))?;
        if found != sha {
            return Err(AppError::internal(format!(
                "evidence file {} does not match its digest",
                path.display()
            )));
        }
    }
    Ok(())
}

/// The bundle being written, as the domain's reads hand it their lines.
struct Out<'a> {
    writer: Writer,
    file: &'a Path,
}

impl Sink for Out<'_> {
    fn begin(&mut self, name: &str) -> AppResult<()> {
        self.writer
            .begin(name)
            .map_err(|err| file_failed(self.file, &err))
    }

    fn line(&mut self, value: &impl Serialize) -> AppResult<()> {
        self.writer
            .line(value)
            .map_err(|err| file_failed(self.file, &err))
    }

    fn end(&mut self) -> AppResult<()> {
        self.writer
            .end()
            .map_err(|err| file_failed(self.file, &err))
    }
}

/// The SHA-256 and size of a file, read in blocks.
fn digest_file(path: &Path) -> std::io::Result<(String, u64)> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        total += n as u64;
    }
    Ok((audit::hex(&hasher.finalize()), total))
}

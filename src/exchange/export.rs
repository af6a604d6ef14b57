//! What a bundle to a peer carries, and writing it: the segment of this instance's audit chain
//! after what the peer acknowledged, and the records of the peer's unit that the segment's
//! events touched (their current state), with the evidence files they name.
//!
//! Everything is read in one transaction (a snapshot: REPEATABLE READ on PostgreSQL, a write
//! transaction on SQLite), which also takes the bundle's sequence number, writes the log line
//! and the audit event; the file is put in place before that commits, and removed if it does
//! not, so a sequence number is never used without its file nor a file left without its number.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use entity::enums::ReportStatus;
use entity::{
    category, department, evidence, finding, finding_regulation, inspection, measure,
    progress_entry, regulation, report, stage, target,
};
use sea_orm::sea_query::{Query, SelectStatement};
use sea_orm::{
    AccessMode, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend,
    EntityTrait, IsolationLevel, QueryFilter, QueryOrder, QuerySelect, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};
use serde::Serialize;
use serde_json::json;

use super::bundle::{self, Chain, Manifest, Party, Unit, Writer};
use super::identity::Identity;
use crate::audit;
use crate::domain::Acting;
use crate::domain::integration::exchange::{self as peers, Entry};
use crate::domain::integration::{decisions, origin};
use crate::domain::reads::scope;
use crate::domain::records::change::{Record, audited};
use crate::error::{AppError, AppResult};

/// Events and records read per statement.
const CHUNK: usize = 500;

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
    let unit = department::Entity::find_by_id(peer.department_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("department", peer.department_id))?;
    let subtree = || scope::subtree_ids(&unit.path);
    let departments: HashSet<i32> = department::Entity::find()
        .filter(department::Column::Id.in_subquery(subtree()))
        .all(db)
        .await?
        .into_iter()
        .map(|d| d.id)
        .collect();
    let mut out = Writer::create(file).map_err(io)?;

    // The chain segment first: it says which records changed.
    let segment = chain(db, &mut out, peer, &departments, file).await?;
    // The office (it holds records merged from this peer) sends its decisions on them; a
    // unit sends its records.
    let kind = if origin::holds_from(db, peer.id).await? {
        decisions(db, &mut out, peer, sequence, file).await?;
        Some(bundle::DECISIONS.to_owned())
    } else {
        records(
            db,
            &mut out,
            evidence,
            &unit,
            &departments,
            &segment.changed,
            file,
        )
        .await?;
        None
    };
    let Segment {
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

/// The segment of this instance's chain after what the peer acknowledged.
struct Segment {
    /// The records of the peer's unit that its events name, by kind.
    changed: BTreeMap<String, BTreeSet<i32>>,
    after_hash: Option<String>,
    events: u64,
    last_id: i32,
    last_hash: String,
}

/// Writes the chain member: the events after the peer's acknowledged one, those outside the
/// unit's departments redacted to their links.
async fn chain(
    db: &impl ConnectionTrait,
    out: &mut Writer,
    peer: &entity::exchange_peer::Model,
    departments: &HashSet<i32>,
    file: &Path,
) -> AppResult<Segment> {
    let io = |err: std::io::Error| file_failed(file, &err);
    let (last_id, last_hash) = audit::end(db).await?;
    let mut changed: BTreeMap<String, BTreeSet<i32>> = BTreeMap::new();
    let mut after_hash = None;
    let mut events = 0u64;
    let mut cursor = peer.acked_event_id;
    out.begin(bundle::CHAIN).map_err(io)?;
    loop {
        let page = audit::segment(db, cursor, last_id, CHUNK as u64).await?;
        let Some(last) = page.last() else { break };
        cursor = last.id;
        for event in page {
            after_hash.get_or_insert_with(|| event.prev_hash.clone());
            events += 1;
            let ours = event
                .department_id
                .is_some_and(|d| departments.contains(&d));
            if ours {
                if let Ok(id) = event.entity_id.parse::<i32>() {
                    changed
                        .entry(event.entity_type.clone())
                        .or_default()
                        .insert(id);
                }
                out.line(&ChainLine::from(&event)).map_err(io)?;
            } else {
                out.line(&json!({
                    "id": event.id,
                    "prevHash": event.prev_hash,
                    "hash": event.hash,
                    "redacted": true,
                }))
                .map_err(io)?;
            }
        }
    }
    out.end().map_err(io)?;

    Ok(Segment {
        changed,
        after_hash,
        events,
        last_id,
        last_hash,
    })
}

/// Writes the office's decisions for the peer's unit (`decisions/decision.jsonl`): every one
/// the unit has not answered yet.
async fn decisions(
    db: &impl ConnectionTrait,
    out: &mut Writer,
    peer: &entity::exchange_peer::Model,
    sequence: i32,
    file: &Path,
) -> AppResult<()> {
    let io = |err: std::io::Error| file_failed(file, &err);
    out.begin(bundle::DECISION_MEMBER).map_err(io)?;
    for decision in decisions::to_send(db, peer.id, sequence).await? {
        out.line(&decisions::Line::from(&decision)).map_err(io)?;
    }
    out.end().map_err(io)
}

/// Writes the records of the unit that the segment's events touched, and their evidence files.
async fn records(
    db: &impl ConnectionTrait,
    out: &mut Writer,
    evidence: &crate::evidence::Store,
    unit: &department::Model,
    departments: &HashSet<i32>,
    changed: &BTreeMap<String, BTreeSet<i32>>,
    file: &Path,
) -> AppResult<()> {
    let io = |err: std::io::Error| file_failed(file, &err);
    let subtree = || scope::subtree_ids(&unit.path);
    let ids = |kind: &str| changed.get(kind).cloned().unwrap_or_default();
    // The unit's inspections, and their findings.
    let inspections = Query::select()
        .column(inspection::Column::Id)
        .from(inspection::Entity)
        .and_where(inspection::Column::UnitId.in_subquery(subtree()))
        .to_owned();
    let findings = Query::select()
        .column(finding::Column::Id)
        .from(finding::Entity)
        .and_where(finding::Column::InspectionId.in_subquery(inspections.clone()))
        .to_owned();

    dump::<inspection::Entity>(
        db,
        &mut *out,
        "inspection",
        &ids("inspection"),
        inspection::Column::Id,
        Condition::all().add(inspection::Column::UnitId.in_subquery(subtree())),
        |_| (),
    )
    .await?;
    dump::<category::Entity>(
        db,
        &mut *out,
        "category",
        &ids("category"),
        category::Column::Id,
        Condition::all().add(category::Column::InspectionId.in_subquery(inspections.clone())),
        |_| (),
    )
    .await?;
    let mut sent_findings = BTreeSet::new();
    dump::<finding::Entity>(
        db,
        &mut *out,
        "finding",
        &ids("finding"),
        finding::Column::Id,
        Condition::all().add(finding::Column::InspectionId.in_subquery(inspections.clone())),
        |f| {
            sent_findings.insert(f.id);
        },
    )
    .await?;
    // The departments the records name: the unit's subtree, and any other a measure or a
    // regulation names (the receiver maps them by code).
    let mut named: BTreeSet<i32> = departments.iter().copied().collect();
    dump::<measure::Entity>(
        db,
        &mut *out,
        "measure",
        &ids("measure"),
        measure::Column::Id,
        within(measure::Column::FindingId, &findings),
        |m| named.extend(m.department_id),
    )
    .await?;
    dump::<target::Entity>(
        db,
        &mut *out,
        "target",
        &ids("target"),
        target::Column::Id,
        within(target::Column::FindingId, &findings),
        |_| (),
    )
    .await?;
    dump::<stage::Entity>(
        db,
        &mut *out,
        "stage",
        &ids("stage"),
        stage::Column::Id,
        within(stage::Column::FindingId, &findings),
        |_| (),
    )
    .await?;
    let linked = Query::select()
        .column(finding_regulation::Column::RegulationId)
        .from(finding_regulation::Entity)
        .and_where(finding_regulation::Column::FindingId.in_subquery(findings.clone()))
        .to_owned();
    let mut sent_regulations = BTreeSet::new();
    dump::<regulation::Entity>(
        db,
        &mut *out,
        "regulation",
        &ids("regulation"),
        regulation::Column::Id,
        Condition::any()
            .add(regulation::Column::DepartmentId.in_subquery(subtree()))
            .add(regulation::Column::Id.in_subquery(linked)),
        |r| {
            sent_regulations.insert(r.id);
            named.extend(r.department_id);
        },
    )
    .await?;
    out.begin("records/department.jsonl").map_err(io)?;
    let named: Vec<i32> = named.into_iter().collect();
    for chunk in named.chunks(CHUNK) {
        let rows = department::Entity::find()
            .filter(department::Column::Id.is_in(chunk.iter().copied()))
            .order_by_asc(department::Column::Id)
            .all(db)
            .await?;
        for row in rows {
            out.line(&row).map_err(io)?;
        }
    }
    out.end().map_err(io)?;
    links(db, &mut *out, &sent_findings, &sent_regulations, &findings).await?;
    // The entries events name, and every entry of a finding an event names: the notes the
    // procedure writes into a ledger (a status move, a decision of the office applied here)
    // are recorded by the finding's event, not one of their own. The receiver keeps entries
    // it holds already (they never change).
    let mut entries = ids("progress_entry");
    let touched: Vec<i32> = sent_findings.iter().copied().collect();
    for chunk in touched.chunks(CHUNK) {
        let rows = progress_entry::Entity::find()
            .select_only()
            .column(progress_entry::Column::Id)
            .filter(progress_entry::Column::FindingId.is_in(chunk.iter().copied()))
            .into_tuple::<i32>()
            .all(db)
            .await?;
        entries.extend(rows);
    }
    let mut sent_entries = BTreeSet::new();
    dump::<progress_entry::Entity>(
        db,
        &mut *out,
        "progress_entry",
        &entries,
        progress_entry::Column::Id,
        within(progress_entry::Column::FindingId, &findings),
        |e| {
            sent_entries.insert(e.id);
        },
    )
    .await?;
    let mut blobs = BTreeSet::new();
    out.begin("records/evidence.jsonl").map_err(io)?;
    let entries: Vec<i32> = sent_entries.into_iter().collect();
    for chunk in entries.chunks(CHUNK) {
        let rows = evidence::Entity::find()
            .filter(evidence::Column::ProgressEntryId.is_in(chunk.iter().copied()))
            .order_by_asc(evidence::Column::Id)
            .all(db)
            .await?;
        for row in rows {
            if let Some(sha) = &row.sha256 {
                blobs.insert(sha.clone());
            }
            out.line(&row).map_err(io)?;
        }
    }
    out.end().map_err(io)?;
    dump::<report::Entity>(
        db,
        &mut *out,
        "report",
        &ids("report"),
        report::Column::Id,
        Condition::all()
            .add(report::Column::InspectionId.in_subquery(inspections.clone()))
            .add(report::Column::Status.ne(ReportStatus::Draft)),
        |_| (),
    )
    .await?;

    // The evidence files, streamed from the store and checked against their names.
    for sha in blobs {
        let path = evidence
            .path_of(&sha)
            .ok_or_else(|| AppError::internal(format!("evidence digest {sha} is not one")))?;
        let mut source = std::fs::File::open(&path).map_err(|err| {
            AppError::internal(format!("evidence file {}: {err}", path.display()))
        })?;
        let found = out.blob(&sha, &mut source).map_err(io)?;
        if found != sha {
            return Err(AppError::internal(format!(
                "evidence file {} does not match its digest",
                path.display()
            )));
        }
    }

    Ok(())
}

/// An audit event of the unit's, as the chain member carries it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ChainLine<'a> {
    id: i32,
    occurred_at: String,
    actor_sub: &'a str,
    actor_role: &'a str,
    action: &'a str,
    entity_type: &'a str,
    entity_id: &'a str,
    before: Option<&'a serde_json::Value>,
    after: Option<&'a serde_json::Value>,
    request_id: Option<&'a str>,
    department_id: Option<i32>,
    prev_hash: &'a str,
    hash: &'a str,
}

impl<'a> From<&'a entity::audit_event::Model> for ChainLine<'a> {
    fn from(e: &'a entity::audit_event::Model) -> Self {
        Self {
            id: e.id,
            // As the chain hashes it (microseconds, UTC).
            occurred_at: e
                .occurred_at
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            actor_sub: &e.actor_sub,
            actor_role: &e.actor_role,
            action: &e.action,
            entity_type: &e.entity_type,
            entity_id: &e.entity_id,
            before: e.before.as_ref(),
            after: e.after.as_ref(),
            request_id: e.request_id.as_deref(),
            department_id: e.department_id,
            prev_hash: &e.prev_hash,
            hash: &e.hash,
        }
    }
}

/// `column IN (query)`.
fn within<C: ColumnTrait>(column: C, query: &SelectStatement) -> Condition {
    Condition::all().add(column.in_subquery(query.clone()))
}

/// Writes `records/<table>.jsonl`: the rows of `E` whose ids are in `ids` and that satisfy
/// `within`, in id order, read a chunk of ids at a time.
#[allow(clippy::too_many_arguments)]
async fn dump<E>(
    db: &impl ConnectionTrait,
    out: &mut Writer,
    table: &str,
    ids: &BTreeSet<i32>,
    id: E::Column,
    within: Condition,
    mut seen: impl FnMut(&E::Model),
) -> AppResult<()>
where
    E: EntityTrait,
    E::Model: Serialize + Sync,
{
    let member = format!("records/{table}.jsonl");
    let io = |err: std::io::Error| AppError::internal(format!("exchange bundle {member}: {err}"));
    out.begin(&member).map_err(io)?;
    let ids: Vec<i32> = ids.iter().copied().collect();
    for chunk in ids.chunks(CHUNK) {
        let rows = E::find()
            .filter(id.is_in(chunk.iter().copied()))
            .filter(within.clone())
            .order_by_asc(id)
            .all(db)
            .await?;
        for row in &rows {
            out.line(row).map_err(io)?;
            seen(row);
        }
    }
    out.end().map_err(io)
}

/// Writes `records/finding_regulation.jsonl`: the links of the findings and regulations sent,
/// between the unit's findings and any regulation.
async fn links(
    db: &impl ConnectionTrait,
    out: &mut Writer,
    findings_sent: &BTreeSet<i32>,
    regulations_sent: &BTreeSet<i32>,
    unit_findings: &SelectStatement,
) -> AppResult<()> {
    let io = |err: std::io::Error| AppError::internal(format!("exchange bundle links: {err}"));
    out.begin("records/finding_regulation.jsonl").map_err(io)?;
    let mut written = HashSet::new();
    let by_finding: Vec<i32> = findings_sent.iter().copied().collect();
    let by_regulation: Vec<i32> = regulations_sent.iter().copied().collect();
    let chunks = by_finding
        .chunks(CHUNK)
        .map(|c| (finding_regulation::Column::FindingId, c))
        .chain(
            by_regulation
                .chunks(CHUNK)
                .map(|c| (finding_regulation::Column::RegulationId, c)),
        );
    for (column, chunk) in chunks {
        let rows = finding_regulation::Entity::find()
            .filter(column.is_in(chunk.iter().copied()))
            .filter(finding_regulation::Column::FindingId.in_subquery(unit_findings.clone()))
            .order_by_asc(finding_regulation::Column::FindingId)
            .order_by_asc(finding_regulation::Column::RegulationId)
            .all(db)
            .await?;
        for row in rows {
            if written.insert((row.finding_id, row.regulation_id)) {
                out.line(&row).map_err(io)?;
            }
        }
    }
    out.end().map_err(io)
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

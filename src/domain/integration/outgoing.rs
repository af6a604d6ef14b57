//! What a bundle to a peer carries (docs/EXCHANGE.md), read within one snapshot and handed
//! to a [`Sink`] (the bundle's writer) member by member, line by line: the segment of this
//! instance's audit chain after what the peer acknowledged, the events outside the peer's
//! unit redacted to their links, and the records of the unit that the segment's events
//! touched, as they are now. Which records belong to a unit (its subtree's inspections, their
//! findings and what hangs under them, the regulations it issued or they cite, the
//! departments they name) is decided here, once.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use entity::enums::ReportStatus;
use entity::{
    category, department, evidence, finding, finding_regulation, inspection, measure,
    progress_entry, regulation, report, stage, target,
};
use sea_orm::sea_query::{Query, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;
use serde_json::json;

use crate::audit;
use crate::domain::reads::scope;
use crate::error::AppResult;

/// Events and records read per statement.
const CHUNK: usize = 500;

/// Where what is read goes: members of lines of JSON, one member at a time.
pub trait Sink {
    /// Starts the member `name`.
    fn begin(&mut self, name: &str) -> AppResult<()>;
    /// Adds a line to the member begun.
    fn line(&mut self, value: &impl Serialize) -> AppResult<()>;
    /// Ends the member begun.
    fn end(&mut self) -> AppResult<()>;
}

/// The segment of this instance's chain after what the peer acknowledged.
pub struct Segment {
    /// The records of the peer's unit that its events name, by kind.
    pub changed: BTreeMap<String, BTreeSet<i32>>,
    pub after_hash: Option<String>,
    pub events: u64,
    pub last_id: i32,
    pub last_hash: String,
}

/// Writes the chain member: the events after the peer's acknowledged one, those outside the
/// unit's departments redacted to their links.
pub async fn chain(
    db: &impl ConnectionTrait,
    out: &mut impl Sink,
    peer: &entity::exchange_peer::Model,
    departments: &HashSet<i32>,
    member: &str,
) -> AppResult<Segment> {
    let (last_id, last_hash) = audit::end(db).await?;
    let mut changed: BTreeMap<String, BTreeSet<i32>> = BTreeMap::new();
    let mut after_hash = None;
    let mut events = 0u64;
    let mut cursor = peer.acked_event_id;
    out.begin(member)?;
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
                out.line(&ChainLine::from(&event))?;
            } else {
                out.line(&json!({
                    "id": event.id,
                    "prevHash": event.prev_hash,
                    "hash": event.hash,
                    "redacted": true,
                }))?;
            }
        }
    }
    out.end()?;

    Ok(Segment {
        changed,
        after_hash,
        events,
        last_id,
        last_hash,
    })
}

/// Writes the records of the unit that the segment's events touched (their current state);
/// answers the digests of the evidence files they name, which the bundle carries too.
pub async fn records(
    db: &impl ConnectionTrait,
    out: &mut impl Sink,
    unit: &department::Model,
    departments: &HashSet<i32>,
    changed: &BTreeMap<String, BTreeSet<i32>>,
) -> AppResult<BTreeSet<String>> {
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
    out.begin("records/department.jsonl")?;
    let named: Vec<i32> = named.into_iter().collect();
    for chunk in named.chunks(CHUNK) {
        let rows = department::Entity::find()
            .filter(department::Column::Id.is_in(chunk.iter().copied()))
            .order_by_asc(department::Column::Id)
            .all(db)
            .await?;
        for row in rows {
            out.line(&row)?;
        }
    }
    out.end()?;
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
    out.begin("records/evidence.jsonl")?;
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
            out.line(&row)?;
        }
    }
    out.end()?;
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

    Ok(blobs)
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
    out: &mut impl Sink,
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
    out.begin(&format!("records/{table}.jsonl"))?;
    let ids: Vec<i32> = ids.iter().copied().collect();
    for chunk in ids.chunks(CHUNK) {
        let rows = E::find()
            .filter(id.is_in(chunk.iter().copied()))
            .filter(within.clone())
            .order_by_asc(id)
            .all(db)
            .await?;
        for row in &rows {
            out.line(row)?;
            seen(row);
        }
    }
    out.end()
}

/// Writes `records/finding_regulation.jsonl`: the links of the findings and regulations sent,
/// between the unit's findings and any regulation.
async fn links(
    db: &impl ConnectionTrait,
    out: &mut impl Sink,
    findings_sent: &BTreeSet<i32>,
    regulations_sent: &BTreeSet<i32>,
    unit_findings: &SelectStatement,
) -> AppResult<()> {
    out.begin("records/finding_regulation.jsonl")?;
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
                out.line(&row)?;
            }
        }
    }
    out.end()
}

//! Records as they stood at a moment, rebuilt from the audit trail: what a report for a past
//! period shows, whenever it is generated.
//!
//! Every change of a record writes an audit event with the record as it was before and after.
//! So a record with no event since the moment is as it is now, and one that changed since was,
//! at the moment, what the first later event says it was before. Only events after the moment
//! are read: for a recent period they are few.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, Utc};
use entity::audit_event;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::de::DeserializeOwned;

use crate::error::AppResult;

/// The end of `day` in the zone of `offset` (the first instant of the next day), as UTC.
pub fn end_of_day(day: NaiveDate, offset: FixedOffset) -> DateTime<Utc> {
    let next = day.succ_opt().unwrap_or(day);
    next.and_time(NaiveTime::MIN)
        .and_local_timezone(offset)
        .single()
        .map_or_else(|| next.and_time(NaiveTime::MIN).and_utc(), |t| t.to_utc())
}

/// The audit events of `entity_type` about `ids` at or after `moment`, oldest first (read in
/// slices, so that neither database's limit on bound values is reached).
async fn events_since(
    db: &impl ConnectionTrait,
    entity_type: &str,
    ids: &[i32],
    moment: DateTime<Utc>,
) -> AppResult<Vec<audit_event::Model>> {
    let mut events = Vec::new();
    for slice in ids.chunks(1_000) {
        events.extend(
            audit_event::Entity::find()
                .filter(audit_event::Column::EntityType.eq(entity_type))
                .filter(audit_event::Column::EntityId.is_in(slice.iter().map(i32::to_string)))
                .filter(audit_event::Column::OccurredAt.gte(moment))
                .all(db)
                .await?,
        );
    }
    events.sort_by_key(|e| e.id);
    Ok(events)
}

/// The findings brought in by a historical import after `moment`: their measures and targets,
/// created by the same import, stand for what the unit's older ledger had.
pub async fn imported_after(
    db: &impl ConnectionTrait,
    findings: &[i32],
    moment: DateTime<Utc>,
) -> AppResult<std::collections::HashSet<i32>> {
    Ok(events_since(db, "finding", findings, moment)
        .await?
        .into_iter()
        .filter(|e| e.action == "finding.import_historical")
        .filter_map(|e| e.entity_id.parse().ok())
        .collect())
}

/// Whether an event is the system loading history (the demo's records, audited by the
/// commands that created them): like the ledger entries the system loaded (`report`), it
/// stands for what had been recorded at any moment it is asked about.
fn loaded_history(event: &audit_event::Model) -> bool {
    event.actor_role == crate::audit::SYSTEM_ROLE
}

/// What a record was at the moment, from the first later event that says.
enum Then<M> {
    Was(M),
    /// Created after the moment.
    Absent,
}

/// Rows of one kind (`entity_type` in the audit trail) as they stood at `moment`: `current`
/// holds every row now (archived ones included); rows created after the moment are left out,
/// rows changed since are replaced by their earlier state. Events whose payloads are not the
/// record itself (a link noted on a finding, say) say nothing and are passed over.
/// `imported` says which rows a historical import made (kept even though created later).
pub async fn rows<M: DeserializeOwned>(
    db: &impl ConnectionTrait,
    entity_type: &str,
    current: Vec<M>,
    id_of: impl Fn(&M) -> i32,
    imported: impl Fn(&M) -> bool,
    moment: DateTime<Utc>,
) -> AppResult<Vec<M>> {
    let ids: Vec<i32> = current.iter().map(&id_of).collect();
    let mut then: HashMap<String, Then<M>> = HashMap::new();
    for event in events_since(db, entity_type, &ids, moment).await? {
        if then.contains_key(&event.entity_id) {
            continue;
        }
        let history = loaded_history(&event);
        let before = event
            .before
            .and_then(|b| serde_json::from_value::<M>(b).ok());
        let state = match before {
            Some(model) => Then::Was(model),
            // History the system loaded (the demo's bulletin) is the record as it stood
            // before rectrack knew it, as a historical import's is: it counts as there.
            None if history => continue,
            // A record's creation after the moment; a historical import is the record as it
            // stood before rectrack knew it, so it counts as there.
            None if event.action.ends_with(".create") => Then::Absent,
            None => continue,
        };
        then.insert(event.entity_id, state);
    }
    Ok(current
        .into_iter()
        .filter_map(|row| match then.remove(&id_of(&row).to_string()) {
            Some(Then::Was(model)) => Some(model),
            Some(Then::Absent) if imported(&row) => Some(row),
            Some(Then::Absent) => None,
            None => Some(row),
        })
        .collect())
}

/// Whether each of `links` (finding, regulation: active now, or unlinked now) was active at
/// `moment`: the first link or unlink of the pair after the moment says the opposite of it.
pub async fn links(
    db: &impl ConnectionTrait,
    links: Vec<entity::finding_regulation::Model>,
    moment: DateTime<Utc>,
) -> AppResult<Vec<entity::finding_regulation::Model>> {
    let mut findings: Vec<i32> = links.iter().map(|l| l.finding_id).collect();
    findings.sort_unstable();
    findings.dedup();
    let mut then: HashMap<(i64, i64), bool> = HashMap::new();
    for event in events_since(db, "finding", &findings, moment).await? {
        if loaded_history(&event) {
            continue;
        }
        let linked = match event.action.as_str() {
            "regulation.link" => false,
            "regulation.unlink" => true,
            _ => continue,
        };
        let Some(after) = event.after else { continue };
        let pair = (
            after["finding_id"].as_i64().unwrap_or_default(),
            after["regulation_id"].as_i64().unwrap_or_default(),
        );
        then.entry(pair).or_insert(linked);
    }
    Ok(links
        .into_iter()
        .filter(|l| {
            then.get(&(l.finding_id.into(), l.regulation_id.into()))
                .copied()
                .unwrap_or(l.unlinked_at.is_none())
        })
        .collect())
}

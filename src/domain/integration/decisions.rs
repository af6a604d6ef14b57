//! The office's decisions on a unit's records, carried back to the unit (issue 43, office →
//! unit). A finding merged from a unit's instance is the unit's record: the office's review of
//! its close-out (approve, return, reopen) is recorded here as a decision, carried to the unit
//! in the office's next bundle, and applied there through the unit's own close-out command, as
//! the office. A decision that no longer fits (the unit moved the finding since the state it was
//! made on) is not forced: it is kept at the unit as a conflict for a person, audited on both
//! sides (the unit when it meets it, the office when the unit's acknowledgement says so), and
//! listed in the conflict report of both.
//!
//! - At the office: [`record`] (from the close-out command), [`to_send`] (the decisions a
//!   bundle carries: every one not yet answered), [`answered`] (outcomes from an acknowledgement).
//! - At the unit: [`super::applied::apply`] (one decision, once per peer and decision id).
//! - Both: [`conflicts`], the conflict report's rows.

use entity::{exchange_applied, exchange_decision, exchange_peer, finding};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::{Deserialize, Serialize};

use crate::auth::{Permission, Reach};
use crate::domain::Acting;
use crate::domain::integration::origin;
use crate::domain::reads::scope;
use crate::domain::records::change::{Record, audited};
use crate::domain::workflow::moves::Move;
use crate::error::AppResult;

/// A decision as a decision bundle carries it (`decisions/decision.jsonl`, one per line).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Line {
    /// The decision's id at the office.
    pub id: i32,
    /// The finding's id at the unit (its origin id).
    pub finding_id: i32,
    /// `approveCloseOut`, `returnFinding` or `reopenFinding`.
    #[serde(rename = "move")]
    pub step: String,
    /// The comment (approve) or reason (return, reopen).
    pub text: Option<String>,
    /// The finding's version and status as the office last received them.
    pub version: i32,
    pub from_status: String,
    pub decided_by_name: Option<String>,
    /// UTC, RFC 3339.
    pub decided_at: String,
}

impl From<&exchange_decision::Model> for Line {
    fn from(d: &exchange_decision::Model) -> Self {
        Self {
            id: d.id,
            finding_id: d.origin_id,
            step: d.step.clone(),
            text: d.text.clone(),
            version: d.version,
            from_status: d.from_status.clone(),
            decided_by_name: d.decided_by_name.clone(),
            decided_at: d.decided_at.to_rfc3339(),
        }
    }
}

/// What the unit answers for one decision, in its acknowledgement.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[schema(as = ExchangeDecisionOutcome)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Outcome {
    pub id: i32,
    /// `applied` or `conflict`.
    pub result: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// At the office: when `current` (before the move) is a finding kept under its origin, records
/// `step` as a decision for its unit and answers true: the caller then leaves the finding's
/// ledger to the unit, whose applying the decision writes it there (and comes back in its next
/// bundle). A unit's own moves (start, submit) are not the office's to make on its record.
pub async fn record(
    db: &impl ConnectionTrait,
    who: &Acting,
    current: &finding::Model,
    step: Move,
    text: Option<&str>,
) -> AppResult<bool> {
    let Some(kept) = origin::of(db, "finding", current.id).await? else {
        return Ok(false);
    };
    if !step.travels() {
        return origin::require_own(db, "finding", current.id)
            .await
            .map(|()| false);
    }
    exchange_decision::ActiveModel {
        id: NotSet,
        peer_id: Set(kept.peer_id),
        finding_id: Set(current.id),
        origin_id: Set(kept.origin_id),
        step: Set(step.name().to_owned()),
        text: Set(text.map(str::to_owned)),
        version: Set(current.version),
        from_status: Set(current.status.as_str().to_owned()),
        decided_by: Set(who.sub().to_owned()),
        decided_by_name: Set(who.author_name()),
        decided_at: Set(who.now()),
        first_sequence: Set(None),
        outcome: Set(None),
        outcome_code: Set(None),
        outcome_message: Set(None),
        answered_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(true)
}

/// At the office: the decisions for `peer` that its unit has not answered yet, oldest first
/// (each bundle carries them all until the unit's acknowledgement answers them; the unit
/// applies each once). Marks the bundle `sequence` as the first to carry the new ones.
pub async fn to_send(
    db: &impl ConnectionTrait,
    peer: i32,
    sequence: i32,
) -> AppResult<Vec<exchange_decision::Model>> {
    exchange_decision::Entity::update_many()
        .col_expr(
            exchange_decision::Column::FirstSequence,
            Expr::value(sequence),
        )
        .filter(exchange_decision::Column::PeerId.eq(peer))
        .filter(exchange_decision::Column::Outcome.is_null())
        .filter(exchange_decision::Column::FirstSequence.is_null())
        .exec(db)
        .await?;
    Ok(unanswered(peer).all(db).await?)
}

fn unanswered(peer: i32) -> sea_orm::Select<exchange_decision::Entity> {
    exchange_decision::Entity::find()
        .filter(exchange_decision::Column::PeerId.eq(peer))
        .filter(exchange_decision::Column::Outcome.is_null())
        .order_by_asc(exchange_decision::Column::Id)
}

/// At the office: whether any decision for `peer` waits for its unit's answer.
pub async fn waiting(db: &impl ConnectionTrait, peer: i32) -> AppResult<bool> {
    Ok(unanswered(peer).limit(1).one(db).await?.is_some())
}

/// At the office: records the unit's answers (from its acknowledgement). Each decision is
/// answered once; an answer for a decision of another peer, or already answered, changes
/// nothing. Answers how many were recorded. Each is audited: `exchange.decision.applied` or
/// `exchange.decision.conflict` (with the unit's reason).
pub async fn answered(
    db: &impl ConnectionTrait,
    who: &Acting,
    peer: &exchange_peer::Model,
    outcomes: &[Outcome],
) -> AppResult<u64> {
    let mut recorded = 0;
    for outcome in outcomes {
        if !matches!(outcome.result.as_str(), "applied" | "conflict") {
            continue;
        }
        let Some(before) = exchange_decision::Entity::find_by_id(outcome.id)
            .filter(exchange_decision::Column::PeerId.eq(peer.id))
            .filter(exchange_decision::Column::Outcome.is_null())
            .one(db)
            .await?
        else {
            continue;
        };
        let mut row: exchange_decision::ActiveModel = before.clone().into();
        row.outcome = Set(Some(outcome.result.clone()));
        row.outcome_code = Set(outcome.code.clone());
        row.outcome_message = Set(outcome.message.clone());
        row.answered_at = Set(Some(who.now()));
        let after = row.update(db).await?;
        let department = finding::Entity::find_by_id(after.finding_id)
            .one(db)
            .await?
            .map(|f| f.department_id);
        audited(
            db,
            who,
            &format!("exchange.decision.{}", outcome.result),
            Record {
                kind: "exchange_decision",
                id: after.id,
                department_id: department,
            },
            Some(&before),
            Some(&after),
        )
        .await?;
        recorded += 1;
    }
    Ok(recorded)
}

/// The most rows a conflict report lists (newest first).
pub const REPORT_LIMIT: u64 = 5_000;

/// One line of the conflict report: a decision of the office that the unit's records no longer
/// fitted, as either side recorded it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Conflict {
    /// `office` (a decision made here, refused by the unit) or `unit` (a decision received
    /// here that did not fit).
    pub side: &'static str,
    pub peer: String,
    pub unit_code: String,
    pub decision_id: i32,
    /// The finding at this instance.
    pub finding_id: i32,
    pub finding_title: Option<String>,
    #[serde(rename = "move")]
    pub step: String,
    /// The move as people name it.
    pub move_label: String,
    pub text: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: chrono::DateTime<chrono::Utc>,
    pub code: Option<String>,
    pub reason: Option<String>,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
}

/// The conflict report (administrators, and the managers of a peer's unit for its lines):
/// decisions made here that a unit refused, and decisions received here that did not fit,
/// newest first, at most [`REPORT_LIMIT`].
pub async fn conflicts(db: &impl ConnectionTrait, who: &Acting) -> AppResult<Vec<Conflict>> {
    who.require(Permission::ManageReports)?;
    let mut peers = exchange_peer::Entity::find();
    let reach = who.caller.write_reach();
    if reach != Reach::All {
        peers = peers.filter(scope::department_in(
            exchange_peer::Column::DepartmentId,
            &reach,
        ));
    }
    let peers: std::collections::HashMap<i32, exchange_peer::Model> = peers
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    if peers.is_empty() {
        return Ok(Vec::new());
    }
    let ids = || peers.keys().copied();
    let made = exchange_decision::Entity::find()
        .filter(exchange_decision::Column::PeerId.is_in(ids()))
        .filter(exchange_decision::Column::Outcome.eq("conflict"))
        .order_by_desc(exchange_decision::Column::Id)
        .limit(REPORT_LIMIT)
        .all(db)
        .await?;
    let met = exchange_applied::Entity::find()
        .filter(exchange_applied::Column::PeerId.is_in(ids()))
        .filter(exchange_applied::Column::Result.eq("conflict"))
        .order_by_desc(exchange_applied::Column::Id)
        .limit(REPORT_LIMIT)
        .all(db)
        .await?;
    let findings: Vec<i32> = made
        .iter()
        .map(|d| d.finding_id)
        .chain(met.iter().map(|a| a.finding_id))
        .collect();
    let mut titles = std::collections::HashMap::new();
    for chunk in findings.chunks(500) {
        for f in finding::Entity::find()
            .filter(finding::Column::Id.is_in(chunk.iter().copied()))
            .all(db)
            .await?
        {
            titles.insert(f.id, f.title);
        }
    }
    let units: std::collections::HashMap<i32, String> = entity::department::Entity::find()
        .filter(entity::department::Column::Id.is_in(peers.values().map(|p| p.department_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.id, d.code))
        .collect();
    let label = |step: &str| Move::named(step).map_or_else(|| step.to_owned(), Move::label);
    let peer_of = |id: i32| {
        let p = &peers[&id];
        (
            p.name.clone(),
            units.get(&p.department_id).cloned().unwrap_or_default(),
        )
    };
    let mut rows: Vec<Conflict> = made
        .into_iter()
        .map(|d| {
            let (peer, unit_code) = peer_of(d.peer_id);
            Conflict {
                side: "office",
                peer,
                unit_code,
                decision_id: d.id,
                finding_id: d.finding_id,
                finding_title: titles.get(&d.finding_id).cloned(),
                move_label: label(&d.step),
                step: d.step,
                text: d.text,
                decided_by: d.decided_by_name,
                decided_at: d.decided_at,
                code: d.outcome_code,
                reason: d.outcome_message,
                recorded_at: d.answered_at.unwrap_or(d.decided_at),
            }
        })
        .chain(met.into_iter().map(|a| {
            let (peer, unit_code) = peer_of(a.peer_id);
            Conflict {
                side: "unit",
                peer,
                unit_code,
                decision_id: a.decision_id,
                finding_id: a.finding_id,
                finding_title: titles.get(&a.finding_id).cloned(),
                move_label: label(&a.step),
                step: a.step,
                text: a.text,
                decided_by: a.decided_by_name,
                decided_at: a.decided_at,
                code: a.code,
                reason: a.message,
                recorded_at: a.created_at,
            }
        }))
        .collect();
    rows.sort_by_key(|c| std::cmp::Reverse(c.recorded_at));
    rows.truncate(REPORT_LIMIT as usize);
    Ok(rows)
}

//! What the acting caller may do with records it has read, for a page at once: the flags
//! behind GraphQL's `viewerCan` and `allowedTransitions`. Every flag is the verdict of the very
//! rule the command enforces ([`close_out::decide`], [`change::writable`]'s scope rule,
//! [`report::decide_advance`], ...), fed with facts read in a few statements for the whole
//! page, so that what a front end shows and what the server does cannot disagree. A flag says
//! whether the move is allowed now; the command may still refuse bad input.

use entity::{department, finding, measure, report};
use sea_orm::{ConnectionTrait, ModelTrait};
use serde::Serialize;

use crate::auth::Permission;
use crate::domain::integration::origin;
use crate::domain::records::change::{self, Kind};
use crate::domain::workflow::close_out::{self, Move};
use crate::domain::{Acting, documents::report as reports, reads::relations};
use crate::error::AppResult;
use entity::enums::ReportStatus;

/// What the caller may do with a finding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingCan {
    pub update: bool,
    pub archive: bool,
    pub start: bool,
    pub submit: bool,
    pub approve: bool,
    pub return_finding: bool,
    pub reopen: bool,
    pub recheck: bool,
    pub add_progress: bool,
    /// Add measures and targets, link regulations.
    pub add_measure: bool,
    /// The workflow moves allowed now.
    pub moves: Vec<Move>,
}

pub async fn findings(
    db: &impl ConnectionTrait,
    who: &Acting,
    models: &[finding::Model],
) -> AppResult<Vec<FindingCan>> {
    let mut facts = close_out::facts(db, who, models).await?;
    // A finding merged from a unit's instance is edited only by its bundles (its workflow
    // moves are the office's acts, as for any finding).
    let kept = origin::kept(db, "finding", models.iter().map(|f| f.id)).await?;
    Ok(models
        .iter()
        .map(|f| {
            let Some(facts) = facts.remove(&f.id) else {
                return FindingCan::default();
            };
            let own = !kept.contains(&f.id);
            // On a kept finding only the moves that travel back to its unit as decisions.
            let may = |step: Move| {
                (own || step.travels()) && close_out::decide(who, &facts, step).is_ok()
            };
            let manage = who.can(Permission::ManageFindings) && facts.writable && own;
            FindingCan {
                update: manage,
                archive: manage && !facts.archived,
                start: may(Move::Start),
                submit: may(Move::Submit),
                approve: may(Move::Approve),
                return_finding: may(Move::Return),
                reopen: may(Move::Reopen),
                recheck: close_out::decide_recheck(who, &facts, f.id).is_ok(),
                add_progress: who.can(Permission::AddProgress) && facts.writable && own,
                add_measure: manage,
                moves: close_out::allowed_moves(who, &facts)
                    .into_iter()
                    .filter(|step| own || step.travels())
                    .collect(),
            }
        })
        .collect())
}

/// What the caller may do with a record that is edited and archived.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordCan {
    pub update: bool,
    pub archive: bool,
    /// For measures: add ledger entries about it.
    pub add_progress: bool,
}

/// The flags of records whose update and archive both need the kind's `MANAGE` permission.
pub async fn records<K: Kind>(
    db: &impl ConnectionTrait,
    who: &Acting,
    models: &[K::Model],
) -> AppResult<Vec<RecordCan>>
where
    K::Model: Serialize,
{
    let mut reach = change::within_reach::<K>(db, who, models).await?;
    let id = |m: &K::Model| match m.get(K::COLUMNS.id) {
        sea_orm::Value::Int(Some(id)) => id,
        _ => 0,
    };
    let kept = origin::kept(db, K::NAME, models.iter().map(id)).await?;
    for (writable, m) in reach.iter_mut().zip(models) {
        *writable &= !kept.contains(&id(m));
    }
    let manage = who.can(K::MANAGE);
    Ok(models
        .iter()
        .zip(reach)
        .map(|(m, writable)| RecordCan {
            update: manage && writable,
            archive: manage && writable && !K::archived(m),
            add_progress: false,
        })
        .collect())
}

/// Measures: updated by those who update measures (officers too), archived by those who manage
/// findings, both within the reach of the department that governs the measure.
pub async fn measures(
    db: &impl ConnectionTrait,
    who: &Acting,
    models: &[measure::Model],
) -> AppResult<Vec<RecordCan>> {
    let mut reach = change::within_reach::<measure::Entity>(db, who, models).await?;
    let kept = origin::kept(db, "measure", models.iter().map(|m| m.id)).await?;
    for (writable, m) in reach.iter_mut().zip(models) {
        *writable &= !kept.contains(&m.id);
    }
    Ok(models
        .iter()
        .zip(reach)
        .map(|(m, writable)| RecordCan {
            update: who.can(Permission::UpdateMeasures) && writable,
            archive: who.can(Permission::ManageFindings) && writable && m.archived_at.is_none(),
            add_progress: who.can(Permission::AddProgress) && writable,
        })
        .collect())
}

/// Departments: archived only once none below them is active.
pub async fn departments(
    db: &impl ConnectionTrait,
    who: &Acting,
    models: &[department::Model],
) -> AppResult<Vec<RecordCan>> {
    let mut out = records::<department::Entity>(db, who, models).await?;
    let children = relations::child_departments(db, models.iter().map(|d| d.id)).await?;
    for (can, d) in out.iter_mut().zip(models) {
        can.archive &= !children.iter().any(|c| c.parent_id == Some(d.id));
    }
    Ok(out)
}

/// What the caller may do with a report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReportCan {
    pub submit: bool,
    pub publish: bool,
}

pub async fn reports(
    db: &impl ConnectionTrait,
    who: &Acting,
    models: &[report::Model],
) -> AppResult<Vec<ReportCan>> {
    let mut facts = reports::advance_facts(db, who, models).await?;
    Ok(models
        .iter()
        .map(|r| {
            let facts = facts.remove(&r.id).unwrap_or_default();
            let may = |to| reports::decide_advance(who, r, &facts, to).is_ok();
            ReportCan {
                submit: may(ReportStatus::Submitted),
                publish: may(ReportStatus::Published),
            }
        })
        .collect())
}

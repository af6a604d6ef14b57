//! At the unit: the office's decisions applied through the unit's own close-out command, as the
//! office ([`super::decisions`] records and carries them at the office). Apart from the
//! decisions' records so that the close-out command, which records a decision, and this, which
//! makes the command's move, do not depend on each other.

use entity::{exchange_applied, exchange_peer, finding};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, TransactionTrait,
};

use super::decisions::{Line, Outcome};
use crate::auth::{Caller, Identity};
use crate::domain::Acting;
use crate::domain::records::change::{Record, audited};
use crate::domain::workflow::close_out::{self, MoveInput};
use crate::domain::workflow::moves::Move;
use crate::error::{AppError, AppResult};

/// At the unit: who applies the office's decisions: the office, as an inspector reviewing the
/// unit's findings (the role that reviews close-outs), named by its registered name and the
/// person who decided.
fn office(peer: &exchange_peer::Model, line: &Line, zone: crate::config::TimeZone) -> Acting {
    let name = match &line.decided_by_name {
        Some(person) => format!("{}·{person}", peer.name),
        None => peer.name.clone(),
    };
    let caller = Caller::Authenticated(Identity {
        sub: format!("exchange:{}", peer.instance_id),
        name: Some(name),
        role: entity::enums::Role::Inspector,
        department: None,
        account_id: None,
    });
    Acting::new(&caller, None, zone)
}

/// At the unit: applies one decision of the office's bundle `sequence` through the unit's own
/// close-out command (inside the import's transaction, in a savepoint of its own), once per
/// peer and decision: a decision applied or refused before answers what it gave then. A
/// refusal of the command (the finding moved since the state the office decided on: another
/// version, another status, archived) is a conflict, kept and audited here, never forced.
pub async fn apply(
    db: &DatabaseTransaction,
    who: &Acting,
    peer: &exchange_peer::Model,
    sequence: i32,
    line: &Line,
) -> AppResult<Outcome> {
    let before = exchange_applied::Entity::find()
        .filter(exchange_applied::Column::PeerId.eq(peer.id))
        .filter(exchange_applied::Column::DecisionId.eq(line.id))
        .one(db)
        .await?;
    if let Some(before) = before {
        return Ok(outcome_of(&before));
    }
    let step = Move::named(&line.step).ok_or_else(|| AppError::Request {
        code: crate::error::codes::BUNDLE_UNREADABLE,
        message: t!(
            "exchange-bundle-unreadable",
            detail = format!("decision {}: move {}", line.id, line.step)
        ),
    })?;
    let office = office(peer, line, who.zone);
    let savepoint = db.begin().await?;
    let moved = close_out::transition(
        &savepoint,
        &office,
        line.finding_id,
        step,
        MoveInput {
            version: Some(line.version),
            text: line.text.clone(),
            no_evidence_reason: None,
        },
    )
    .await;
    let (result, code, message, department) = match moved {
        Ok(finding) => {
            savepoint.commit().await?;
            ("applied", None, None, Some(finding.department_id))
        }
        Err(err) if refusal(&err) => {
            savepoint.rollback().await?;
            let department = finding::Entity::find_by_id(line.finding_id)
                .one(db)
                .await?
                .map(|f| f.department_id);
            (
                "conflict",
                Some(err.code().to_owned()),
                Some(err.message().to_owned()),
                department,
            )
        }
        Err(err) => return Err(err),
    };
    let decided_at = chrono::DateTime::parse_from_rfc3339(&line.decided_at)
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_else(|_| who.now());
    let row = exchange_applied::ActiveModel {
        id: NotSet,
        peer_id: Set(peer.id),
        decision_id: Set(line.id),
        finding_id: Set(line.finding_id),
        step: Set(line.step.clone()),
        text: Set(line.text.clone()),
        decided_by_name: Set(line.decided_by_name.clone()),
        decided_at: Set(decided_at),
        sequence: Set(sequence),
        result: Set(result.to_owned()),
        code: Set(code),
        message: Set(message),
        created_at: Set(who.now()),
    }
    .insert(db)
    .await?;
    if result == "conflict" {
        audited(
            db,
            who,
            "exchange.decision.conflict",
            Record {
                kind: "exchange_applied",
                id: row.id,
                department_id: department,
            },
            None,
            Some(&row),
        )
        .await?;
    }
    Ok(outcome_of(&row))
}

/// The command refused the move (the finding is not where the office saw it): a conflict for a
/// person. Anything else (the database failing) fails the import.
fn refusal(err: &AppError) -> bool {
    matches!(
        err,
        AppError::BadUserInput { .. }
            | AppError::Forbidden(_)
            | AppError::NotFound(_)
            | AppError::Conflict(_)
            | AppError::InvalidTransition(_)
    )
}

fn outcome_of(row: &exchange_applied::Model) -> Outcome {
    Outcome {
        id: row.decision_id,
        result: row.result.clone(),
        code: row.code.clone(),
        message: row.message.clone(),
    }
}

/// At the unit: what was answered for these decisions of `peer` (a bundle received again).
pub async fn outcomes(
    db: &impl ConnectionTrait,
    peer: i32,
    ids: Vec<i32>,
) -> AppResult<Vec<Outcome>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let rows = exchange_applied::Entity::find()
            .filter(exchange_applied::Column::PeerId.eq(peer))
            .filter(exchange_applied::Column::DecisionId.is_in(chunk.iter().copied()))
            .order_by_asc(exchange_applied::Column::DecisionId)
            .all(db)
            .await?;
        out.extend(rows.iter().map(outcome_of));
    }
    Ok(out)
}

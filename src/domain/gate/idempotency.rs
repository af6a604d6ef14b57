//! Retries of scripted requests (`Idempotency-Key`): a retried mutation with the same key and
//! body gets the first attempt's stored answer instead of making its change twice. Keys are
//! per caller; the key row's primary key decides which of two concurrent attempts does the
//! work, across server processes too.
//!
//! An attempt holds its key for a lease. One that never finishes (its server died, or the
//! database went away before it could give the key back) is taken over once the lease is
//! over, unless its write committed, which the audit trail tells: every change's events carry
//! the request id of the attempt that made it.

use chrono::{DateTime, Utc};
use entity::{audit_event, idempotency_key as key_row};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};

use crate::error::AppResult;

/// A stored answer.
pub struct Stored {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: String,
}

pub enum Claim {
    /// This attempt does the work.
    Ours,
    /// The first attempt's stored answer.
    Replay(Stored),
    /// The key belongs to another request.
    Mismatch,
    /// The first attempt is still running.
    Running,
    /// The first attempt's write committed, but its answer was lost.
    Committed,
}

/// What one attempt asks for.
pub struct Attempt<'a> {
    pub caller: &'a str,
    pub key: &'a str,
    /// SHA-256 of the request (path and body).
    pub hash: &'a str,
    pub request_id: Option<&'a str>,
    pub now: DateTime<Utc>,
    /// How long a stored answer is kept.
    pub ttl: chrono::Duration,
    /// How long an attempt holds the key before another may take it over.
    pub lease: chrono::Duration,
}

/// Claims the key for an attempt, or says why not.
pub async fn claim(db: &impl ConnectionTrait, a: &Attempt<'_>) -> AppResult<Claim> {
    let inserted = key_row::ActiveModel {
        caller: Set(a.caller.to_owned()),
        key: Set(a.key.to_owned()),
        request_hash: Set(a.hash.to_owned()),
        state: Set("in_progress".to_owned()),
        response_status: Set(None),
        response_content_type: Set(None),
        response_body: Set(None),
        created_at: Set(a.now),
        expires_at: Set(a.now + a.ttl),
        request_id: Set(a.request_id.map(str::to_owned)),
    }
    .insert(db)
    .await;
    if inserted.is_ok() {
        // Forget expired keys now and then: whenever a new one is stored.
        key_row::Entity::delete_many()
            .filter(key_row::Column::ExpiresAt.lt(a.now))
            .exec(db)
            .await?;
        return Ok(Claim::Ours);
    }
    let Some(row) = key_row::Entity::find_by_id((a.caller.to_owned(), a.key.to_owned()))
        .one(db)
        .await?
    else {
        // It expired and was removed between the two statements: try again.
        return Ok(Claim::Running);
    };
    if row.expires_at < a.now {
        release(db, a.caller, a.key).await?;
        return Ok(Claim::Running);
    }
    if row.request_hash != a.hash {
        return Ok(Claim::Mismatch);
    }
    if row.state == "done" {
        return Ok(Claim::Replay(Stored {
            status: row
                .response_status
                .and_then(|s| u16::try_from(s).ok())
                .unwrap_or(200),
            content_type: row.response_content_type,
            body: row.response_body.unwrap_or_default(),
        }));
    }
    if row.created_at + a.lease > a.now {
        return Ok(Claim::Running);
    }
    if let Some(earlier) = &row.request_id {
        let wrote = audit_event::Entity::find()
            .filter(audit_event::Column::RequestId.eq(earlier.as_str()))
            .count(db)
            .await?;
        // A commit whose events are still waiting for the chain wrote too.
        let waiting = entity::audit_pending::Entity::find()
            .filter(entity::audit_pending::Column::RequestId.eq(earlier.as_str()))
            .count(db)
            .await?;
        if wrote + waiting > 0 {
            return Ok(Claim::Committed);
        }
    }
    // Take the abandoned key over, unless another retry just did.
    let taken = key_row::Entity::update_many()
        .col_expr(key_row::Column::CreatedAt, Expr::value(a.now))
        .col_expr(
            key_row::Column::RequestId,
            Expr::value(a.request_id.map(str::to_owned)),
        )
        .filter(key_row::Column::Caller.eq(a.caller))
        .filter(key_row::Column::Key.eq(a.key))
        .filter(key_row::Column::CreatedAt.eq(row.created_at))
        .exec(db)
        .await?;
    Ok(if taken.rows_affected == 1 {
        Claim::Ours
    } else {
        Claim::Running
    })
}

/// Stores the answer of the attempt that holds the key.
pub async fn finish(
    db: &impl ConnectionTrait,
    caller: &str,
    key: &str,
    answer: Stored,
) -> AppResult<()> {
    key_row::Entity::update_many()
        .col_expr(key_row::Column::State, Expr::value("done"))
        .col_expr(
            key_row::Column::ResponseStatus,
            Expr::value(i32::from(answer.status)),
        )
        .col_expr(
            key_row::Column::ResponseContentType,
            Expr::value(answer.content_type),
        )
        .col_expr(key_row::Column::ResponseBody, Expr::value(answer.body))
        .filter(key_row::Column::Caller.eq(caller))
        .filter(key_row::Column::Key.eq(key))
        .exec(db)
        .await?;
    Ok(())
}

/// Gives the key back: the attempt did no work (its transaction rolled back), so a retry may.
pub async fn release(db: &impl ConnectionTrait, caller: &str, key: &str) -> AppResult<()> {
    key_row::Entity::delete_by_id((caller.to_owned(), key.to_owned()))
        .exec(db)
        .await?;
    Ok(())
}

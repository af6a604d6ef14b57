//! The two steps every write ends with: an UPDATE guarded by the version the caller read
//! (optimistic concurrency), and the audit event committed with the change.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, UpdateMany,
};
use serde::Serialize;

use crate::audit::{self, Actor, Change};
use crate::error::{AppError, AppResult};

/// The columns every versioned table has.
pub struct Versioned<C> {
    /// The entity's name in messages, e.g. "finding".
    pub what: &'static str,
    pub id: C,
    pub version: C,
    pub updated_at: C,
    /// Set when the row is archived (soft-deleted).
    pub archived_at: C,
}

/// Applies `update` to row `id` if it is still at `version`, raising the version; returns the
/// row as it is now, or `CONFLICT` when someone changed it first.
pub async fn versioned_update<E>(
    db: &impl ConnectionTrait,
    update: UpdateMany<E>,
    columns: Versioned<E::Column>,
    id: i32,
    version: i32,
) -> AppResult<E::Model>
where
    E: EntityTrait,
    E::Column: ColumnTrait,
{
    let result = update
        .col_expr(columns.version, Expr::col(columns.version).add(1))
        .col_expr(columns.updated_at, Expr::value(chrono::Utc::now()))
        .filter(columns.id.eq(id))
        .filter(columns.version.eq(version))
        .exec(db)
        .await?;
    let now = E::find()
        .filter(columns.id.eq(id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found(columns.what, id))?;
    if result.rows_affected == 0 {
        return Err(AppError::Conflict(format!(
            "{} {id} changed since version {version} was read; read it again and retry",
            columns.what
        )));
    }
    Ok(now)
}

/// Archives (soft-deletes) `record` if it is still at `version`: sets its `archived_at`, raises
/// its version and commits the change with its `<kind>.archive` audit event; `CONFLICT` when it
/// is archived already or changed since it was read.
pub async fn archive_audited<E>(
    txn: DatabaseTransaction,
    actor: &Actor,
    columns: Versioned<E::Column>,
    record: Record<'_>,
    current: &E::Model,
    already_archived: bool,
    version: i32,
) -> AppResult<E::Model>
where
    E: EntityTrait,
    E::Column: ColumnTrait,
    E::Model: Serialize,
{
    let id = record.id;
    if already_archived {
        return Err(AppError::Conflict(format!(
            "{} {id} is already archived",
            columns.what
        )));
    }
    let update = E::update_many().col_expr(columns.archived_at, Expr::value(chrono::Utc::now()));
    let updated = versioned_update(&txn, update, columns, id, version).await?;
    let action = format!("{}.archive", record.kind);
    commit_audited(txn, actor, &action, record, Some(current), Some(&updated)).await?;
    Ok(updated)
}

/// The record a change is about.
pub struct Record<'a> {
    /// Its kind, e.g. "finding".
    pub kind: &'a str,
    pub id: i32,
    /// The department it belongs to (who may read the event).
    pub department_id: Option<i32>,
}

/// Records the audit event of a change inside the transaction that makes it.
pub async fn record_audited<M: Serialize>(
    txn: &DatabaseTransaction,
    actor: &Actor,
    action: &str,
    record: Record<'_>,
    before: Option<&M>,
    after: Option<&M>,
) -> AppResult<()> {
    let json = |m: Option<&M>| m.and_then(|m| serde_json::to_value(m).ok());
    audit::record(
        txn,
        actor,
        Change {
            action,
            entity_type: record.kind,
            entity_id: record.id.to_string(),
            department_id: record.department_id,
            before: json(before),
            after: json(after),
        },
    )
    .await
}

/// Records the audit event of a change and commits the transaction that made it.
pub async fn commit_audited<M: Serialize>(
    txn: DatabaseTransaction,
    actor: &Actor,
    action: &str,
    record: Record<'_>,
    before: Option<&M>,
    after: Option<&M>,
) -> AppResult<()> {
    record_audited(&txn, actor, action, record, before, after).await?;
    txn.commit().await?;
    Ok(())
}

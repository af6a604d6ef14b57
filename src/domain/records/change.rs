//! What every change of a record goes through: the record found for a caller who may change
//! it, an UPDATE guarded by the version the caller read (optimistic concurrency), and the
//! audit event written in the same transaction. Archiving (soft deletion) is one function for
//! every kind of record.

use std::future::Future;

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, UpdateMany};
use serde::Serialize;

use crate::audit::{self, Change};
use crate::auth::Permission;
use crate::domain::{Acting, reads::relations, reads::scope};
use crate::error::{AppError, AppResult};
use crate::i18n::kind_name;

/// The columns every versioned table has.
pub struct Versioned<C> {
    pub id: C,
    pub version: C,
    pub updated_at: C,
    /// Set when the row is archived (soft-deleted).
    pub archived_at: C,
}

/// A kind of record commands change: its name, its versioned columns, the permission that
/// managing one needs, and how to find one that a caller may change.
pub trait Kind: EntityTrait
where
    Self::Model: Serialize,
{
    /// Its name in messages and the audit trail, e.g. "finding".
    const NAME: &'static str;
    const COLUMNS: Versioned<Self::Column>;
    /// The permission that creating, editing and archiving one needs.
    const MANAGE: Permission;
    /// Whether managing one needs the write reach of its governing department (inspections
    /// are the inspection office's and departments the admins', by role alone).
    const SCOPED: bool = true;

    /// The record, if it exists within the caller's reach; `NOT_FOUND` otherwise.
    fn readable(
        db: &impl ConnectionTrait,
        who: &Acting,
        id: i32,
    ) -> impl Future<Output = AppResult<Self::Model>> + Send;

    /// The department whose write rule governs each record (and whose readers see its audit
    /// events), read for all of them at once; `None` where no department does (then only
    /// callers whose write reach is everything may change it).
    fn governing(
        db: &impl ConnectionTrait,
        models: &[Self::Model],
    ) -> impl Future<Output = AppResult<Vec<Option<i32>>>> + Send;

    /// Whether the record is archived.
    fn archived(model: &Self::Model) -> bool;
}

/// The record, if the caller may read it and manage it, with its governing department.
/// `NOT_FOUND` for one out of reach, `FORBIDDEN` for one the caller may read but not write.
pub async fn writable<K: Kind>(
    db: &impl ConnectionTrait,
    who: &Acting,
    id: i32,
) -> AppResult<(K::Model, Option<i32>)>
where
    K::Model: Serialize,
{
    let model = K::readable(db, who, id).await?;
    // A record merged from a unit's instance is written only by its bundles.
    crate::domain::integration::origin::require_own(db, K::NAME, id).await?;
    let department = K::governing(db, std::slice::from_ref(&model))
        .await?
        .pop()
        .flatten();
    if K::SCOPED {
        let path = match department {
            Some(id) => relations::departments(db, [id])
                .await?
                .remove(&id)
                .map(|d| d.path),
            None => None,
        };
        scope::writable_path(&who.caller, path.as_deref())?;
    }
    Ok((model, department))
}

/// Whether the caller's write reach covers each of `models` (which it has read): the scope
/// rule of [`writable`], for a page of records at once (the `viewerCan` flags).
pub async fn within_reach<K: Kind>(
    db: &impl ConnectionTrait,
    who: &Acting,
    models: &[K::Model],
) -> AppResult<Vec<bool>>
where
    K::Model: Serialize,
{
    if !K::SCOPED {
        return Ok(vec![true; models.len()]);
    }
    let governing = K::governing(db, models).await?;
    let paths = relations::departments(db, governing.iter().flatten().copied()).await?;
    Ok(governing
        .iter()
        .map(|d| {
            let path = d.and_then(|d| paths.get(&d)).map(|d| d.path.as_str());
            scope::writable_path(&who.caller, path).is_ok()
        })
        .collect())
}

/// Applies `update` to row `id` if it is still at `version`, raising the version; returns the
/// row as it is now, or `CONFLICT` when someone changed it first.
pub async fn versioned_update<K: Kind>(
    db: &impl ConnectionTrait,
    update: UpdateMany<K>,
    id: i32,
    version: i32,
) -> AppResult<K::Model>
where
    K::Model: Serialize,
{
    let columns = K::COLUMNS;
    let result = update
        .col_expr(columns.version, Expr::col(columns.version).add(1))
        .col_expr(columns.updated_at, Expr::value(chrono::Utc::now()))
        .filter(columns.id.eq(id))
        .filter(columns.version.eq(version))
        .exec(db)
        .await?;
    let now = K::find()
        .filter(columns.id.eq(id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found(K::NAME, id))?;
    if result.rows_affected == 0 {
        return Err(AppError::Conflict(t!(
            "stale-version",
            kind = kind_name(K::NAME),
            id = id,
            version = version
        )));
    }
    Ok(now)
}

/// Archives (soft-deletes) a record the caller may manage if it is still at `version`: sets
/// its `archived_at`, raises its version and writes its `<kind>.archive` audit event;
/// `CONFLICT` when it is archived already or changed since it was read.
pub async fn archive<K: Kind>(
    db: &impl ConnectionTrait,
    who: &Acting,
    id: i32,
    version: i32,
) -> AppResult<K::Model>
where
    K::Model: Serialize,
{
    who.require(K::MANAGE)?;
    let (current, department_id) = writable::<K>(db, who, id).await?;
    if K::archived(&current) {
        return Err(AppError::Conflict(t!(
            "already-archived",
            kind = kind_name(K::NAME),
            id = id
        )));
    }
    let update = K::update_many().col_expr(K::COLUMNS.archived_at, Expr::value(who.now()));
    let updated = versioned_update::<K>(db, update, id, version).await?;
    let record = Record {
        kind: K::NAME,
        id,
        department_id,
    };
    let action = format!("{}.archive", K::NAME);
    audited(db, who, &action, record, Some(&current), Some(&updated)).await?;
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

/// Records the audit event of a change, inside the transaction that makes it.
pub async fn audited<M: Serialize>(
    db: &impl ConnectionTrait,
    who: &Acting,
    action: &str,
    record: Record<'_>,
    before: Option<&M>,
    after: Option<&M>,
) -> AppResult<()> {
    let json = |m: Option<&M>| m.and_then(|m| serde_json::to_value(m).ok());
    audit::record(
        db,
        &who.actor,
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

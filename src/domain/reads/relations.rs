//! Relations of records a caller has already read, loaded by key in one statement per batch
//! (`WHERE key IN (...)`): what the GraphQL DataLoaders and REST's nested fields call. Reading
//! is scoped where the parents are read; a relation of a visible record is visible, except
//! that a department outside the caller's reach is shown by [`crate::domain::reads::scope::Seen`]: named,
//! nothing more.

use std::collections::HashMap;

use entity::{
    category, department, evidence, finding, finding_regulation, inspection, measure,
    progress_entry, regulation, target,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};

use crate::domain::reads::columns::Columns;
use crate::error::AppResult;

/// Batches' ids padded to a few lengths (the rule lives with the statements' texts).
pub use crate::domain::reads::page::padded;

/// Rows of `E` by their ids.
pub async fn by_ids<E>(
    db: &impl ConnectionTrait,
    id: E::Column,
    ids: impl IntoIterator<Item = i32>,
) -> AppResult<Vec<E::Model>>
where
    E: EntityTrait,
    E::Column: ColumnTrait,
{
    Ok(E::find().filter(id.is_in(padded(ids))).all(db).await?)
}

pub async fn departments(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i32>,
) -> AppResult<HashMap<i32, department::Model>> {
    let rows = by_ids::<department::Entity>(db, department::Column::Id, ids).await?;
    Ok(rows.into_iter().map(|d| (d.id, d)).collect())
}

pub async fn inspections(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i32>,
) -> AppResult<Vec<inspection::Model>> {
    by_ids::<inspection::Entity>(db, inspection::Column::Id, ids).await
}

pub async fn categories(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i32>,
) -> AppResult<Vec<category::Model>> {
    by_ids::<category::Entity>(db, category::Column::Id, ids).await
}

pub async fn findings(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i32>,
) -> AppResult<Vec<finding::Model>> {
    findings_shown(db, ids, Columns::ALL).await
}

/// Findings by their ids, reading only `columns` (decoded by position).
pub async fn findings_shown(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i32>,
    columns: Columns,
) -> AppResult<Vec<finding::Model>> {
    let columns = columns.list();
    let query = finding::Entity::find()
        .select_only()
        .columns(columns.iter().copied())
        .filter(finding::Column::Id.is_in(padded(ids)))
        .into_query();
    db.query_all(&query)
        .await?
        .iter()
        .map(|row| Ok(finding::Model::from_columns(row, &columns)?))
        .collect()
}

pub async fn measures(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i32>,
) -> AppResult<Vec<measure::Model>> {
    by_ids::<measure::Entity>(db, measure::Column::Id, ids).await
}

pub async fn entries(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i32>,
) -> AppResult<Vec<progress_entry::Model>> {
    by_ids::<progress_entry::Entity>(db, progress_entry::Column::Id, ids).await
}

/// The departments directly below these, not archived.
pub async fn child_departments(
    db: &impl ConnectionTrait,
    parents: impl IntoIterator<Item = i32>,
) -> AppResult<Vec<department::Model>> {
    Ok(department::Entity::find()
        .filter(department::Column::ParentId.is_in(padded(parents)))
        .filter(department::Column::ArchivedAt.is_null())
        .order_by_asc(department::Column::Id)
        .all(db)
        .await?)
}

/// The (not archived) categories of these inspections, by number.
pub async fn categories_of_inspections(
    db: &impl ConnectionTrait,
    inspections: impl IntoIterator<Item = i32>,
) -> AppResult<Vec<category::Model>> {
    Ok(category::Entity::find()
        .filter(category::Column::InspectionId.is_in(padded(inspections)))
        .filter(category::Column::ArchivedAt.is_null())
        .order_by_asc(category::Column::Ordinal)
        .order_by_asc(category::Column::Id)
        .all(db)
        .await?)
}

/// Whether archived children are included: lists leave them out; an incremental pull keeps
/// them as tombstones (`archived: true`) so that a mirror learns of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Archived {
    Left,
    Kept,
}

/// The measures of these findings by number, reading only `columns` (which must include
/// `FindingId`), grouped by finding.
pub async fn measures_of_findings(
    db: &impl ConnectionTrait,
    findings: &[i32],
    columns: &[measure::Column],
    archived: Archived,
) -> AppResult<HashMap<i32, Vec<measure::Model>>> {
    let mut query = measure::Entity::find()
        .select_only()
        .columns(columns.iter().copied())
        .filter(measure::Column::FindingId.is_in(padded(findings.iter().copied())));
    if archived == Archived::Left {
        query = query.filter(measure::Column::ArchivedAt.is_null());
    }
    let query = query
        .order_by_asc(measure::Column::FindingId)
        .order_by_asc(measure::Column::Ordinal)
        .into_query();
    let mut grouped: HashMap<i32, Vec<measure::Model>> = HashMap::new();
    for row in db.query_all(&query).await? {
        let measure = measure::Model::from_columns(&row, columns)?;
        grouped.entry(measure.finding_id).or_default().push(measure);
    }
    Ok(grouped)
}

/// The (not archived) targets of these findings.
pub async fn targets_of_findings(
    db: &impl ConnectionTrait,
    findings: impl IntoIterator<Item = i32>,
) -> AppResult<Vec<target::Model>> {
    Ok(target::Entity::find()
        .filter(target::Column::FindingId.is_in(padded(findings)))
        .filter(target::Column::ArchivedAt.is_null())
        .order_by_asc(target::Column::FindingId)
        .order_by_asc(target::Column::Id)
        .all(db)
        .await?)
}

/// The (not archived) stages of these findings, in order.
pub async fn stages_of_findings(
    db: &impl ConnectionTrait,
    findings: impl IntoIterator<Item = i32>,
) -> AppResult<Vec<entity::stage::Model>> {
    use entity::stage;
    Ok(stage::Entity::find()
        .filter(stage::Column::FindingId.is_in(padded(findings)))
        .filter(stage::Column::ArchivedAt.is_null())
        .order_by_asc(stage::Column::FindingId)
        .order_by_asc(stage::Column::Ordinal)
        .all(db)
        .await?)
}

/// The evidence attached to these ledger entries (never archived: the ledger is append-only).
pub async fn evidence_of_entries(
    db: &impl ConnectionTrait,
    entries: impl IntoIterator<Item = i32>,
) -> AppResult<Vec<evidence::Model>> {
    Ok(evidence::Entity::find()
        .filter(evidence::Column::ProgressEntryId.is_in(padded(entries)))
        .order_by_asc(evidence::Column::Id)
        .all(db)
        .await?)
}

/// The regulations linked to these findings (links not undone, regulations not archived),
/// as (finding id, regulation).
pub async fn regulations_of_findings(
    db: &impl ConnectionTrait,
    findings: impl IntoIterator<Item = i32>,
) -> AppResult<Vec<(i32, regulation::Model)>> {
    let rows: Vec<(finding_regulation::Model, Option<regulation::Model>)> =
        finding_regulation::Entity::find()
            .filter(finding_regulation::Column::FindingId.is_in(padded(findings)))
            .filter(finding_regulation::Column::UnlinkedAt.is_null())
            .find_also_related(regulation::Entity)
            .filter(regulation::Column::ArchivedAt.is_null())
            .order_by_asc(regulation::Column::Id)
            .all(db)
            .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(link, regulation)| Some((link.finding_id, regulation?)))
        .collect())
}

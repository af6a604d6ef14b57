//! DataLoaders: every relation between GraphQL types is loaded here, in batches (one query per
//! relation per batch, `WHERE key IN (...)`), so a page of N records costs a fixed number of
//! statements whatever N is.
//!
//! The loader is shared by all requests and caches nothing: values are never stale, and
//! nothing loaded for one caller is served to another. Scoping happens where the parent
//! records are read; a relation of a visible record is visible.

use std::collections::HashMap;

use async_graphql::dataloader::Loader as LoaderTrait;
use entity::{
    category, department, evidence, finding, finding_regulation, inspection, measure,
    progress_entry, regulation, target,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
};

use crate::error::AppError;

pub struct Loader {
    db: DatabaseConnection,
}

impl Loader {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

/// A failed batch; the cause is logged where it happened.
#[derive(Clone, Debug)]
pub struct LoadError;

impl From<LoadError> for AppError {
    fn from(_: LoadError) -> Self {
        AppError::Internal("internal server error".to_owned())
    }
}

impl From<LoadError> for async_graphql::Error {
    fn from(err: LoadError) -> Self {
        AppError::from(err).into()
    }
}

fn failed(err: sea_orm::DbErr) -> LoadError {
    tracing::error!(error = %err, "batch load failed");
    LoadError
}

/// A loader of single rows by primary key: `Key(id)` → model.
macro_rules! by_id {
    ($(#[$doc:meta])* $key:ident => $module:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $key(pub i32);

        impl LoaderTrait<$key> for Loader {
            type Value = $module::Model;
            type Error = LoadError;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, Self::Error> {
                let rows = $module::Entity::find()
                    .filter($module::Column::Id.is_in(keys.iter().map(|k| k.0)))
                    .all(&self.db)
                    .await
                    .map_err(failed)?;
                Ok(rows.into_iter().map(|row| ($key(row.id), row)).collect())
            }
        }
    };
}

/// A loader of the (not archived) children of a parent: `Key(parent_id)` → ordered models.
macro_rules! children {
    ($(#[$doc:meta])* $key:ident => $module:ident by $column:ident ($field:ident), ordered by $($order:ident),+) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $key(pub i32);

        impl LoaderTrait<$key> for Loader {
            type Value = Vec<$module::Model>;
            type Error = LoadError;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, Self::Error> {
                let mut query = $module::Entity::find()
                    .filter($module::Column::$column.is_in(keys.iter().map(|k| k.0)))
                    .filter($module::Column::ArchivedAt.is_null());
                $(query = query.order_by_asc($module::Column::$order);)+
                let rows = query.all(&self.db).await.map_err(failed)?;
                let mut grouped: HashMap<$key, Vec<$module::Model>> =
                    keys.iter().map(|k| (*k, Vec::new())).collect();
                for row in rows {
                    grouped.entry($key(row.$field.into_key())).or_default().push(row);
                }
                Ok(grouped)
            }
        }
    };
}

/// Foreign keys are `i32` or `Option<i32>`; a child found by its parent always has it.
trait IntoKey {
    fn into_key(self) -> i32;
}
impl IntoKey for i32 {
    fn into_key(self) -> i32 {
        self
    }
}
impl IntoKey for Option<i32> {
    fn into_key(self) -> i32 {
        self.unwrap_or_default()
    }
}

by_id!(
    /// A department by id.
    DepartmentById => department
);
by_id!(
    /// An inspection by id.
    InspectionById => inspection
);
by_id!(
    /// A category by id.
    CategoryById => category
);
by_id!(
    /// A finding by id.
    FindingById => finding
);
by_id!(
    /// A measure by id.
    MeasureById => measure
);
by_id!(
    /// A ledger entry by id.
    EntryById => progress_entry
);
children!(
    /// The departments directly below one.
    ChildrenOfDepartment => department by ParentId (parent_id), ordered by Id
);
children!(
    /// The categories of an inspection, by number.
    CategoriesOfInspection => category by InspectionId (inspection_id), ordered by Ordinal, Id
);
/// The measures of a finding, by number.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct MeasuresOfFinding(pub i32);

impl LoaderTrait<MeasuresOfFinding> for Loader {
    type Value = Vec<measure::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[MeasuresOfFinding],
    ) -> Result<HashMap<MeasuresOfFinding, Self::Value>, Self::Error> {
        let ids: Vec<i32> = keys.iter().map(|k| k.0).collect();
        let mut grouped = measures_of_findings(&self.db, &ids, &measure::COLUMNS)
            .await
            .map_err(failed)?;
        Ok(keys
            .iter()
            .map(|k| (*k, grouped.remove(&k.0).unwrap_or_default()))
            .collect())
    }
}

/// The (not archived) measures of these findings, by number, reading only `columns` (which
/// must include `FindingId`; the compiled reads ask for what a page shows).
pub async fn measures_of_findings(
    db: &DatabaseConnection,
    findings: &[i32],
    columns: &[measure::Column],
) -> Result<HashMap<i32, Vec<measure::Model>>, sea_orm::DbErr> {
    let query = measure::Entity::find()
        .select_only()
        .columns(columns.iter().copied())
        .filter(measure::Column::FindingId.is_in(findings.iter().copied()))
        .filter(measure::Column::ArchivedAt.is_null())
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
children!(
    /// The measurable targets of a finding.
    TargetsOfFinding => target by FindingId (finding_id), ordered by FindingId, Id
);

/// The evidence attached to a ledger entry (never archived: the ledger is append-only).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct EvidenceOfEntry(pub i32);

impl LoaderTrait<EvidenceOfEntry> for Loader {
    type Value = Vec<evidence::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[EvidenceOfEntry],
    ) -> Result<HashMap<EvidenceOfEntry, Self::Value>, Self::Error> {
        let rows = evidence::Entity::find()
            .filter(evidence::Column::ProgressEntryId.is_in(keys.iter().map(|k| k.0)))
            .order_by_asc(evidence::Column::Id)
            .all(&self.db)
            .await
            .map_err(failed)?;
        let mut grouped: HashMap<EvidenceOfEntry, Vec<evidence::Model>> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for row in rows {
            grouped
                .entry(EvidenceOfEntry(row.progress_entry_id))
                .or_default()
                .push(row);
        }
        Ok(grouped)
    }
}

/// The regulations linked to a finding (links not undone, regulations not archived).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RegulationsOfFinding(pub i32);

impl LoaderTrait<RegulationsOfFinding> for Loader {
    type Value = Vec<regulation::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[RegulationsOfFinding],
    ) -> Result<HashMap<RegulationsOfFinding, Self::Value>, Self::Error> {
        let rows: Vec<(finding_regulation::Model, Option<regulation::Model>)> =
            finding_regulation::Entity::find()
                .filter(finding_regulation::Column::FindingId.is_in(keys.iter().map(|k| k.0)))
                .filter(finding_regulation::Column::UnlinkedAt.is_null())
                .find_also_related(regulation::Entity)
                .filter(regulation::Column::ArchivedAt.is_null())
                .order_by_asc(regulation::Column::Id)
                .all(&self.db)
                .await
                .map_err(failed)?;
        let mut grouped: HashMap<RegulationsOfFinding, Vec<regulation::Model>> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for (link, regulation) in rows {
            if let Some(regulation) = regulation {
                grouped
                    .entry(RegulationsOfFinding(link.finding_id))
                    .or_default()
                    .push(regulation);
            }
        }
        Ok(grouped)
    }
}

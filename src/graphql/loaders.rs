//! DataLoaders: every relation between GraphQL types is loaded here, in batches (one query per
//! relation per batch), so a page of N records costs a fixed number of statements whatever N
//! is. The queries are the domain's ([`crate::domain::reads::relations`]); this module only groups
//! their rows by key.
//!
//! The loader is shared by all requests and caches nothing: values are never stale, and
//! nothing loaded for one caller is served to another. Scoping happens where the parent
//! records are read; a relation of a visible record is visible, except departments: one
//! outside the caller's reach is named, nothing more, and leads nowhere
//! (`domain::reads::scope::Seen`, applied by the `Department` type to every field it answers).

use std::collections::HashMap;
use std::hash::Hash;

use async_graphql::dataloader::Loader as LoaderTrait;
use entity::{category, department, evidence, finding, inspection, measure, progress_entry};
use sea_orm::DatabaseConnection;

use crate::domain::reads::columns::Columns;
use crate::domain::reads::relations::{self, Archived};
use crate::error::{AppError, AppResult};

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
        AppError::Internal(t!("internal-error"))
    }
}

impl From<LoadError> for async_graphql::Error {
    fn from(err: LoadError) -> Self {
        AppError::from(err).into()
    }
}

fn loaded<T>(result: AppResult<T>) -> Result<T, LoadError> {
    result.map_err(|err| {
        tracing::error!(
            code = err.code(),
            message = err.message(),
            "batch load failed"
        );
        LoadError
    })
}

/// Rows grouped under the keys asked for (every key present, with no rows if none matched).
fn grouped<K: Copy + Eq + Hash, M>(
    keys: &[K],
    rows: impl IntoIterator<Item = M>,
    key_of: impl Fn(&M) -> K,
) -> HashMap<K, Vec<M>> {
    let mut out: HashMap<K, Vec<M>> = keys.iter().map(|k| (*k, Vec::new())).collect();
    for row in rows {
        out.entry(key_of(&row)).or_default().push(row);
    }
    out
}

/// A loader of single rows by primary key: `Key(id)` → model.
macro_rules! by_id {
    ($(#[$doc:meta])* $key:ident => $module:ident, $read:path) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $key(pub i32);


        impl LoaderTrait<$key> for Loader {
            type Value = $module::Model;
            type Error = LoadError;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, Self::Error> {
                let rows = loaded($read(&self.db, keys.iter().map(|k| k.0)).await)?;
                Ok(rows.into_iter().map(|row| ($key(row.id), row)).collect())
            }
        }
    };
}

/// A loader of the children of a parent: `Key(parent_id)` → ordered models.
macro_rules! children {
    ($(#[$doc:meta])* $key:ident => $module:ident, $read:path, $parent:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $key(pub i32);


        impl LoaderTrait<$key> for Loader {
            type Value = Vec<$module::Model>;
            type Error = LoadError;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, Self::Error> {
                let rows = loaded($read(&self.db, keys.iter().map(|k| k.0)).await)?;
                Ok(grouped(keys, rows, |row| $key($parent(row))))
            }
        }
    };
}

async fn departments(
    db: &DatabaseConnection,
    ids: impl IntoIterator<Item = i32>,
) -> AppResult<Vec<department::Model>> {
    Ok(relations::departments(db, ids)
        .await?
        .into_values()
        .collect())
}

by_id!(
    /// A department by id.
    DepartmentById => department, departments
);
by_id!(
    /// An inspection by id.
    InspectionById => inspection, relations::inspections
);
by_id!(
    /// A category by id.
    CategoryById => category, relations::categories
);
by_id!(
    /// A measure by id.
    MeasureById => measure, relations::measures
);
by_id!(
    /// A ledger entry by id.
    EntryById => progress_entry, relations::entries
);
children!(
    /// The departments directly below one.
    ChildrenOfDepartment => department, relations::child_departments,
    |d: &department::Model| d.parent_id.unwrap_or_default()
);
children!(
    /// The categories of an inspection, by number.
    CategoriesOfInspection => category, relations::categories_of_inspections,
    |c: &category::Model| c.inspection_id
);
children!(
    /// The measurable targets of a finding.
    TargetsOfFinding => target, relations::targets_of_findings,
    |t: &entity::target::Model| t.finding_id
);
children!(
    /// The evidence attached to a ledger entry.
    EvidenceOfEntry => evidence, relations::evidence_of_entries,
    |e: &evidence::Model| e.progress_entry_id
);

children!(
    /// The stages (阶段目标) of a finding.
    StagesOfFinding => stage, relations::stages_of_findings,
    |s: &entity::stage::Model| s.finding_id
);

use entity::{stage, target};

/// A finding by id, with the columns a field shows (a batch is read once per set of columns).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FindingById(pub i32, pub Columns);

impl LoaderTrait<FindingById> for Loader {
    type Value = finding::Model;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[FindingById],
    ) -> Result<HashMap<FindingById, Self::Value>, Self::Error> {
        let mut out = HashMap::with_capacity(keys.len());
        let mut reads: HashMap<Columns, Vec<i32>> = HashMap::new();
        for key in keys {
            reads.entry(key.1).or_default().push(key.0);
        }
        for (columns, ids) in reads {
            let rows = loaded(relations::findings_shown(&self.db, ids, columns).await)?;
            out.extend(
                rows.into_iter()
                    .map(|row| (FindingById(row.id, columns), row)),
            );
        }
        Ok(out)
    }
}

/// The (not archived) measures of a finding, by number, read with the columns the fields shown
/// read (a bit each by the column's place in the model: `measure::selected`); a batch is read
/// once per set of columns.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct MeasuresOfFinding(pub i32, pub u64);

impl LoaderTrait<MeasuresOfFinding> for Loader {
    type Value = Vec<measure::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[MeasuresOfFinding],
    ) -> Result<HashMap<MeasuresOfFinding, Self::Value>, Self::Error> {
        let mut reads: HashMap<u64, Vec<i32>> = HashMap::new();
        for key in keys {
            reads.entry(key.1).or_default().push(key.0);
        }
        let mut out = HashMap::with_capacity(keys.len());
        for (set, ids) in reads {
            // The finding's id groups them.
            let columns = measure::selected(Some(set | 1 << measure::Column::FindingId as u32));
            let mut rows = loaded(
                relations::measures_of_findings(&self.db, &ids, &columns, Archived::Left).await,
            )?;
            out.extend(ids.into_iter().map(|id| {
                (
                    MeasuresOfFinding(id, set),
                    rows.remove(&id).unwrap_or_default(),
                )
            }));
        }
        Ok(out)
    }
}

/// The regulations linked to a finding (links not undone, regulations not archived).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RegulationsOfFinding(pub i32);

impl LoaderTrait<RegulationsOfFinding> for Loader {
    type Value = Vec<entity::regulation::Model>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[RegulationsOfFinding],
    ) -> Result<HashMap<RegulationsOfFinding, Self::Value>, Self::Error> {
        let rows =
            loaded(relations::regulations_of_findings(&self.db, keys.iter().map(|k| k.0)).await)?;
        let mut out = grouped(keys, rows, |(finding_id, _)| {
            RegulationsOfFinding(*finding_id)
        });
        Ok(out
            .drain()
            .map(|(k, v)| (k, v.into_iter().map(|(_, r)| r).collect()))
            .collect())
    }
}

/// What the look-back knows of a finding: relapses and the next scheduled re-check.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct LookBackOfFinding(pub i32);

impl LoaderTrait<LookBackOfFinding> for Loader {
    type Value = crate::domain::workflow::look_back::LookBack;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[LookBackOfFinding],
    ) -> Result<HashMap<LookBackOfFinding, Self::Value>, Self::Error> {
        let ids: Vec<i32> = keys.iter().map(|k| k.0).collect();
        let mut found =
            loaded(crate::domain::workflow::look_back::of_findings(&self.db, &ids).await)?;
        Ok(keys
            .iter()
            .map(|k| (*k, found.remove(&k.0).unwrap_or_default()))
            .collect())
    }
}

/// Runs a batch read keyed by parent ids and hands every key its rows (none if none matched).
macro_rules! of_parents {
    ($(#[$doc:meta])* $key:ident => $value:ty, $read:path) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $key(pub i32);

        impl LoaderTrait<$key> for Loader {
            type Value = Vec<$value>;
            type Error = LoadError;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, Self::Error> {
                let ids: Vec<i32> = keys.iter().map(|k| k.0).collect();
                let mut rows = loaded($read(&self.db, &ids).await)?;
                Ok(keys
                    .iter()
                    .map(|k| (*k, rows.remove(&k.0).unwrap_or_default()))
                    .collect())
            }
        }
    };
}

of_parents!(
    /// The supervision orders (督办单) about a finding, newest first (at most 20).
    OrdersOfFinding => entity::supervision_order::Model,
    supervision_relations::orders_of_findings
);
of_parents!(
    /// A supervision order's subjects (findings and measures), in the order issued.
    SubjectsOfOrder => entity::supervision_order_subject::Model,
    supervision_relations::subjects_of_orders
);
of_parents!(
    /// A supervision order's replies, oldest first.
    RepliesOfOrder => entity::supervision_reply::Model,
    supervision_relations::replies_of_orders
);
of_parents!(
    /// The supervision orders about a finding the office has not accepted yet.
    UnfinishedOrdersOfFinding => supervision_relations::Unfinished,
    supervision_relations::unfinished_of_findings
);
of_parents!(
    /// The evidence a supervision reply came with.
    EvidenceOfReply => evidence::Model,
    supervision_relations::evidence_of_replies
);

/// How many supervision orders are about a finding.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrderCountOfFinding(pub i32);

impl LoaderTrait<OrderCountOfFinding> for Loader {
    type Value = i64;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[OrderCountOfFinding],
    ) -> Result<HashMap<OrderCountOfFinding, Self::Value>, Self::Error> {
        let ids: Vec<i32> = keys.iter().map(|k| k.0).collect();
        let mut found =
            loaded(supervision_relations::order_counts_of_findings(&self.db, &ids).await)?;
        Ok(keys
            .iter()
            .map(|k| (*k, found.remove(&k.0).unwrap_or(0)))
            .collect())
    }
}

by_id!(
    /// A supervision order by id (the one a notice names).
    OrderById => supervision_order, supervision_relations::orders_by_id
);
by_id!(
    /// Public feedback by id (the one a notice names).
    FeedbackById => public_feedback, crate::domain::workflow::public_feedback::by_ids
);
of_parents!(
    /// The unit's replies to public feedback, oldest first.
    RepliesOfFeedback => entity::public_feedback_reply::Model,
    crate::domain::workflow::public_feedback::replies_of
);

use crate::domain::reads::supervision_relations;
use entity::{public_feedback, supervision_order};

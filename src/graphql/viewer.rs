//! `viewerCan` and `allowedTransitions`: what the caller may do with each record, so that a
//! front end shows the buttons that work. The flags come from [`crate::domain::workflow::can`] (the
//! rules the mutations enforce) through a DataLoader made for each request, since the answer
//! depends on the caller: a page of records costs a few statements whatever its size.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, Enum, Result};

use super::catalogue::{self, Fields};
use entity::{category, department, finding, inspection, measure, regulation, report, target};
use sea_orm::{DatabaseConnection, EntityTrait};

use super::loaders::LoadError;
use crate::domain::workflow::can::{self, FindingCan, RecordCan, ReportCan};
use crate::domain::workflow::close_out::Move;
use crate::domain::{Acting, reads::relations};
use crate::error::AppResult;

/// The per-request loader of the caller's flags.
pub struct Viewer {
    db: DatabaseConnection,
    who: Acting,
}

/// A loader for one request's caller.
pub fn loader(
    db: DatabaseConnection,
    who: Acting,
    delay: std::time::Duration,
) -> Arc<DataLoader<Viewer>> {
    Arc::new(DataLoader::new(Viewer { db, who }, tokio::spawn).delay(delay))
}

fn loaded<T>(result: AppResult<T>) -> Result<T, LoadError> {
    result.map_err(|err| {
        tracing::error!(
            code = err.code(),
            message = err.message(),
            "viewerCan batch failed"
        );
        LoadError
    })
}

/// Keys of the records whose flags are asked for, one type per kind of record.
macro_rules! keys {
    ($($key:ident),+) => {
        $(
            #[derive(Clone, Copy, PartialEq, Eq, Hash)]
            pub struct $key(pub i32);
        )+
    };
}
keys!(
    FindingKey,
    MeasureKey,
    ReportKey,
    TargetKey,
    RegulationKey,
    InspectionKey,
    CategoryKey,
    DepartmentKey
);

/// Reads the records of `ids`, asks `flags` for them, and keys the answers.
async fn by_id<K, E, V>(
    db: &DatabaseConnection,
    keys: &[K],
    id_of_key: impl Fn(&K) -> i32,
    id_column: E::Column,
    id_of: impl Fn(&E::Model) -> i32,
    flags: impl AsyncFnOnce(&[E::Model]) -> AppResult<Vec<V>>,
) -> Result<HashMap<K, V>, LoadError>
where
    K: Copy + Eq + Hash,
    V: Clone,
    E: EntityTrait,
    E::Column: sea_orm::ColumnTrait,
{
    let models = loaded(relations::by_ids::<E>(db, id_column, keys.iter().map(&id_of_key)).await)?;
    let values = loaded(flags(&models).await)?;
    let by_id: HashMap<i32, V> = models.iter().map(&id_of).zip(values).collect();
    let mut out = HashMap::new();
    for key in keys {
        if let Some(v) = by_id.get(&id_of_key(key)) {
            out.insert(*key, v.clone());
        }
    }
    Ok(out)
}

impl Loader<FindingKey> for Viewer {
    type Value = FindingCan;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[FindingKey],
    ) -> Result<HashMap<FindingKey, FindingCan>, LoadError> {
        by_id::<_, finding::Entity, _>(
            &self.db,
            keys,
            |k| k.0,
            finding::Column::Id,
            |m| m.id,
            async |models| can::findings(&self.db, &self.who, models).await,
        )
        .await
    }
}

impl Loader<MeasureKey> for Viewer {
    type Value = RecordCan;
    type Error = LoadError;

    async fn load(&self, keys: &[MeasureKey]) -> Result<HashMap<MeasureKey, RecordCan>, LoadError> {
        by_id::<_, measure::Entity, _>(
            &self.db,
            keys,
            |k| k.0,
            measure::Column::Id,
            |m| m.id,
            async |models| can::measures(&self.db, &self.who, models).await,
        )
        .await
    }
}

impl Loader<ReportKey> for Viewer {
    type Value = ReportCan;
    type Error = LoadError;

    async fn load(&self, keys: &[ReportKey]) -> Result<HashMap<ReportKey, ReportCan>, LoadError> {
        by_id::<_, report::Entity, _>(
            &self.db,
            keys,
            |k| k.0,
            report::Column::Id,
            |m| m.id,
            async |models| can::reports(&self.db, &self.who, models).await,
        )
        .await
    }
}

impl Loader<DepartmentKey> for Viewer {
    type Value = RecordCan;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[DepartmentKey],
    ) -> Result<HashMap<DepartmentKey, RecordCan>, LoadError> {
        by_id::<_, department::Entity, _>(
            &self.db,
            keys,
            |k| k.0,
            department::Column::Id,
            |m| m.id,
            async |models| can::departments(&self.db, &self.who, models).await,
        )
        .await
    }
}

/// The loaders of kinds whose flags are [`can::records`]'.
macro_rules! record_loader {
    ($key:ident => $module:ident) => {
        impl Loader<$key> for Viewer {
            type Value = RecordCan;
            type Error = LoadError;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, RecordCan>, LoadError> {
                by_id::<_, $module::Entity, _>(
                    &self.db,
                    keys,
                    |k| k.0,
                    $module::Column::Id,
                    |m| m.id,
                    async |models| {
                        can::records::<$module::Entity>(&self.db, &self.who, models).await
                    },
                )
                .await
            }
        }
    };
}
record_loader!(TargetKey => target);
record_loader!(RegulationKey => regulation);
record_loader!(InspectionKey => inspection);
record_loader!(CategoryKey => category);

/// The caller's loader from the context.
pub fn viewer<'a>(ctx: &'a Context<'_>) -> Result<&'a DataLoader<Viewer>> {
    Ok(ctx.data::<Arc<DataLoader<Viewer>>>()?.as_ref())
}

/// A move of the close-out workflow (销号流程).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum Transition {
    /// `startFinding`: NOT_STARTED → IN_PROGRESS.
    Start,
    /// `submitForCloseOut`: IN_PROGRESS → PENDING_REVIEW.
    Submit,
    /// `approveCloseOut`: PENDING_REVIEW → CLOSED.
    Approve,
    /// `returnFinding`: PENDING_REVIEW → IN_PROGRESS.
    Return,
    /// `reopenFinding`: CLOSED → IN_PROGRESS.
    Reopen,
}

impl From<Move> for Transition {
    fn from(m: Move) -> Self {
        match m {
            Move::Start => Transition::Start,
            Move::Submit => Transition::Submit,
            Move::Approve => Transition::Approve,
            Move::Return => Transition::Return,
            Move::Reopen => Transition::Reopen,
        }
    }
}

/// What the caller may do with a finding now: each flag says whether the mutation named is
/// allowed (by role, reach and the finding's state); input may still be refused.
#[derive(Clone, Default)]
pub struct FindingViewerCan {
    /// `updateFinding`.
    pub update: bool,
    /// `archiveFinding`.
    pub archive: bool,
    /// `startFinding`.
    pub start: bool,
    /// `submitForCloseOut` (every measure done, unless long-term).
    pub submit: bool,
    /// `approveCloseOut` (never by the submitter).
    pub approve: bool,
    /// `returnFinding`.
    pub return_finding: bool,
    /// `reopenFinding`.
    pub reopen: bool,
    /// `recordRecheck`.
    pub recheck: bool,
    /// `addProgressEntry` on the finding.
    pub add_progress: bool,
    /// `createMeasure`, `createTarget`, `linkRegulation`.
    pub add_measure: bool,
}

impl catalogue::Object for FindingViewerCan {
    const NAME: &'static str = "FindingViewerCan";
    const DOC: &'static str = "What the caller may do with a finding now: each flag says whether the mutation named is\nallowed (by role, reach and the finding's state); input may still be refused.";

    fn fields(f: &mut Fields<Self>) {
        f.value("update", "`updateFinding`.", |r, _| r.update);
        f.value("archive", "`archiveFinding`.", |r, _| r.archive);
        f.value("start", "`startFinding`.", |r, _| r.start);
        f.value(
            "submit",
            "`submitForCloseOut` (every measure done, unless long-term).",
            |r, _| r.submit,
        );
        f.value(
            "approve",
            "`approveCloseOut` (never by the submitter).",
            |r, _| r.approve,
        );
        f.value("return", "`returnFinding`.", |r, _| r.return_finding);
        f.value("reopen", "`reopenFinding`.", |r, _| r.reopen);
        f.value("recheck", "`recordRecheck`.", |r, _| r.recheck);
        f.value(
            "addProgress",
            "`addProgressEntry` on the finding.",
            |r, _| r.add_progress,
        );
        f.value(
            "addMeasure",
            "`createMeasure`, `createTarget`, `linkRegulation`.",
            |r, _| r.add_measure,
        );
    }
}

crate::object!(FindingViewerCan);

impl From<FindingCan> for FindingViewerCan {
    fn from(c: FindingCan) -> Self {
        Self {
            update: c.update,
            archive: c.archive,
            start: c.start,
            submit: c.submit,
            approve: c.approve,
            return_finding: c.return_finding,
            reopen: c.reopen,
            recheck: c.recheck,
            add_progress: c.add_progress,
            add_measure: c.add_measure,
        }
    }
}

/// What the caller may do with a record now: update it, archive it, and for a measure add
/// ledger entries about it.
#[derive(Clone, Copy, Default)]
pub struct ViewerCan {
    /// The record's update mutation.
    pub update: bool,
    /// The record's archive mutation.
    pub archive: bool,
    /// `addProgressEntry` with this measure (false for other records).
    pub add_progress: bool,
}

impl catalogue::Object for ViewerCan {
    const NAME: &'static str = "ViewerCan";
    const DOC: &'static str = "What the caller may do with a record now: update it, archive it, and for a measure add\nledger entries about it.";

    fn fields(f: &mut Fields<Self>) {
        f.value("update", "The record's update mutation.", |r, _| r.update);
        f.value("archive", "The record's archive mutation.", |r, _| {
            r.archive
        });
        f.value(
            "addProgress",
            "`addProgressEntry` with this measure (false for other records).",
            |r, _| r.add_progress,
        );
    }
}

crate::object!(ViewerCan);

impl From<RecordCan> for ViewerCan {
    fn from(c: RecordCan) -> Self {
        Self {
            update: c.update,
            archive: c.archive,
            add_progress: c.add_progress,
        }
    }
}

/// What the caller may do with a report now.
#[derive(Clone, Copy, Default)]
pub struct ReportViewerCan {
    /// `submitReport`.
    pub submit: bool,
    /// `publishBulletin`.
    pub publish: bool,
}

impl catalogue::Object for ReportViewerCan {
    const NAME: &'static str = "ReportViewerCan";
    const DOC: &'static str = "What the caller may do with a report now.";

    fn fields(f: &mut Fields<Self>) {
        f.value("submit", "`submitReport`.", |r, _| r.submit);
        f.value("publish", "`publishBulletin`.", |r, _| r.publish);
    }
}

crate::object!(ReportViewerCan);

impl From<ReportCan> for ReportViewerCan {
    fn from(c: ReportCan) -> Self {
        Self {
            submit: c.submit,
            publish: c.publish,
        }
    }
}

/// The flags of one finding.
pub async fn finding(ctx: &Context<'_>, id: i32) -> Result<FindingCan> {
    Ok(viewer(ctx)?
        .load_one(FindingKey(id))
        .await?
        .unwrap_or_default())
}

/// The flags of one record of the kinds loaded by `key`.
pub async fn record<K>(ctx: &Context<'_>, key: K) -> Result<ViewerCan>
where
    K: Copy + Eq + Hash + Send + Sync + 'static,
    Viewer: Loader<K, Value = RecordCan, Error = LoadError>,
{
    Ok(viewer(ctx)?
        .load_one(key)
        .await?
        .map(Into::into)
        .unwrap_or_default())
}

/// The flags of one report.
pub async fn report(ctx: &Context<'_>, id: i32) -> Result<ReportViewerCan> {
    Ok(viewer(ctx)?
        .load_one(ReportKey(id))
        .await?
        .map(Into::into)
        .unwrap_or_default())
}

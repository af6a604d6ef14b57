//! Findings (问题), their measures (整改措施) and ledger entries (台账记录).

use async_graphql::{
    ComplexObject, Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject,
};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{finding, measure, progress_entry};

use super::department::{self, Department};
use super::enums::{FindingStatus, MeasureStatus, ProgressKind, RectificationType};
use super::loaders::MeasuresOfFinding;
use super::{ContextExt, parse_id};
use crate::domain::finding::FindingPatch;
use crate::domain::measure::MeasurePatch;
use crate::domain::progress::NewEntry;
use crate::domain::{self, scope};

/// A problem found by an inspection (问题), with its rectification.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Finding {
    pub id: ID,
    /// Number within the inspection (序号).
    pub ordinal: i32,
    /// The problem in one line (问题).
    pub title: String,
    /// The problem in full.
    pub description: String,
    /// Rectification type (整改类型).
    pub rectification_type: RectificationType,
    /// Status (整改状态).
    pub status: FindingStatus,
    /// Rectification deadline (整改时限), if any.
    pub deadline: Option<NaiveDate>,
    /// Responsible leader (责任领导).
    pub responsible_leader: Option<String>,
    /// Responsible person (责任人).
    pub responsible_person: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When it was closed out (销号), if it is.
    pub closed_at: Option<DateTime<Utc>>,
    /// Pass this back with an update; the update fails with CONFLICT if the finding changed since.
    pub version: i32,
    #[graphql(skip)]
    pub row_id: i32,
    #[graphql(skip)]
    pub department_id: i32,
}

impl From<finding::Model> for Finding {
    fn from(f: finding::Model) -> Self {
        Self {
            id: ID(f.id.to_string()),
            ordinal: f.ordinal,
            title: f.title,
            description: f.description,
            rectification_type: f.rectification_type.into(),
            status: f.status.into(),
            deadline: f.deadline,
            responsible_leader: f.responsible_leader,
            responsible_person: f.responsible_person,
            created_at: f.created_at,
            updated_at: f.updated_at,
            closed_at: f.closed_at,
            version: f.version,
            row_id: f.id,
            department_id: f.department_id,
        }
    }
}

#[ComplexObject]
impl Finding {
    /// Responsible department (责任科室).
    async fn department(&self, ctx: &Context<'_>) -> Result<Option<Department>> {
        department::load(ctx, self.department_id).await
    }

    /// Rectification measures (整改措施), in order.
    async fn measures(&self, ctx: &Context<'_>) -> Result<Vec<Measure>> {
        let measures = ctx
            .loader()
            .load_one(MeasuresOfFinding(self.row_id))
            .await?;
        Ok(measures
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect())
    }
}

/// A rectification measure of a finding (整改措施).
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Measure {
    pub id: ID,
    /// Number within the finding (一是, 二是, ...).
    pub ordinal: i32,
    /// What is to be done.
    pub content: String,
    pub status: MeasureStatus,
    /// Deadline (整改时限), if any.
    pub deadline: Option<NaiveDate>,
    /// Completion date, once done.
    pub completed_on: Option<NaiveDate>,
    /// Responsible person (责任人).
    pub responsible_person: Option<String>,
    pub version: i32,
    #[graphql(skip)]
    pub department_id: Option<i32>,
}

impl From<measure::Model> for Measure {
    fn from(m: measure::Model) -> Self {
        Self {
            id: ID(m.id.to_string()),
            ordinal: m.ordinal,
            content: m.content,
            status: m.status.into(),
            deadline: m.deadline,
            completed_on: m.completed_on,
            responsible_person: m.responsible_person,
            version: m.version,
            department_id: m.department_id,
        }
    }
}

#[ComplexObject]
impl Measure {
    /// Responsible department (责任科室), when it differs from the finding's.
    async fn department(&self, ctx: &Context<'_>) -> Result<Option<Department>> {
        match self.department_id {
            Some(id) => department::load(ctx, id).await,
            None => Ok(None),
        }
    }
}

/// An entry of a finding's ledger (台账记录). Entries are never changed or removed.
#[derive(SimpleObject, Clone)]
pub struct ProgressEntry {
    pub id: ID,
    /// The date the entry speaks of.
    pub entry_date: NaiveDate,
    pub kind: ProgressKind,
    pub content: String,
    /// Who wrote it (the token's subject).
    pub author: String,
    /// When it was written.
    pub created_at: DateTime<Utc>,
}

impl From<progress_entry::Model> for ProgressEntry {
    fn from(p: progress_entry::Model) -> Self {
        Self {
            id: ID(p.id.to_string()),
            entry_date: p.entry_date,
            kind: p.kind.into(),
            content: p.content,
            author: p.author_name.unwrap_or(p.author_sub),
            created_at: p.created_at,
        }
    }
}

#[derive(Default)]
pub struct FindingQuery;

#[Object]
impl FindingQuery {
    /// A finding within the caller's reach, or null.
    async fn finding(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Finding>> {
        let id = parse_id("id", &id)?;
        match scope::finding(ctx.db(), ctx.caller(), id).await {
            Ok(found) => Ok(Some(found.into())),
            Err(crate::error::AppError::NotFound(_)) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }
}

/// Changes to a finding. Omitted fields stay as they are; null clears an optional field.
#[derive(InputObject)]
pub struct UpdateFindingInput {
    pub id: ID,
    /// The version the finding was read at.
    pub version: i32,
    pub title: Option<String>,
    pub description: Option<String>,
    pub rectification_type: Option<RectificationType>,
    pub deadline: MaybeUndefined<NaiveDate>,
    pub responsible_leader: MaybeUndefined<String>,
    pub responsible_person: MaybeUndefined<String>,
    /// Code of the new responsible department.
    pub department_code: Option<String>,
}

/// Changes to a measure. Moving back from DONE needs a `reason`.
#[derive(InputObject)]
pub struct UpdateMeasureInput {
    pub id: ID,
    /// The version the measure was read at.
    pub version: i32,
    pub content: Option<String>,
    pub status: Option<MeasureStatus>,
    /// Why a DONE measure is reopened (kept in the ledger).
    pub reason: Option<String>,
    /// Completion date when moving to DONE (default: today).
    pub completed_on: Option<NaiveDate>,
    pub deadline: MaybeUndefined<NaiveDate>,
    pub responsible_person: MaybeUndefined<String>,
}

/// A new ledger entry.
#[derive(InputObject)]
pub struct AddProgressEntryInput {
    pub finding_id: ID,
    /// The measure the entry is about, if any.
    pub measure_id: Option<ID>,
    /// The date it speaks of (default: today).
    pub entry_date: Option<NaiveDate>,
    /// PROGRESS (default), MEETING, RECHECK or COMMENT.
    pub kind: Option<ProgressKind>,
    pub content: String,
}

fn patch<T>(value: MaybeUndefined<T>) -> Option<Option<T>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v)),
    }
}

#[derive(Default)]
pub struct FindingMutation;

#[Object]
impl FindingMutation {
    /// Edits a finding (managers within their subtree, admins).
    async fn update_finding(
        &self,
        ctx: &Context<'_>,
        input: UpdateFindingInput,
    ) -> Result<Finding> {
        let id = parse_id("id", &input.id)?;
        let changes = FindingPatch {
            title: input.title,
            description: input.description,
            rectification_type: input.rectification_type.map(Into::into),
            deadline: patch(input.deadline),
            responsible_leader: patch(input.responsible_leader),
            responsible_person: patch(input.responsible_person),
            department_code: input.department_code,
        };
        let updated = domain::finding::update(
            ctx.db(),
            ctx.caller(),
            ctx.request_id(),
            id,
            input.version,
            changes,
        )
        .await?;
        Ok(updated.into())
    }

    /// Edits a measure (officers and managers within their subtree, admins).
    async fn update_measure(
        &self,
        ctx: &Context<'_>,
        input: UpdateMeasureInput,
    ) -> Result<Measure> {
        let id = parse_id("id", &input.id)?;
        let changes = MeasurePatch {
            content: input.content,
            status: input.status.map(Into::into),
            reason: input.reason,
            completed_on: input.completed_on,
            deadline: patch(input.deadline),
            responsible_person: patch(input.responsible_person),
        };
        let updated = domain::measure::update(
            ctx.db(),
            ctx.caller(),
            ctx.request_id(),
            id,
            input.version,
            changes,
        )
        .await?;
        Ok(updated.into())
    }

    /// Appends an entry to a finding's ledger (officers and managers within their subtree, admins).
    async fn add_progress_entry(
        &self,
        ctx: &Context<'_>,
        input: AddProgressEntryInput,
    ) -> Result<ProgressEntry> {
        let entry = NewEntry {
            finding_id: parse_id("findingId", &input.finding_id)?,
            measure_id: input
                .measure_id
                .as_ref()
                .map(|id| parse_id("measureId", id))
                .transpose()?,
            entry_date: input.entry_date,
            kind: input
                .kind
                .map_or(entity::enums::ProgressKind::Progress, Into::into),
            content: input.content,
        };
        let created =
            domain::progress::add(ctx.db(), ctx.caller(), ctx.request_id(), entry).await?;
        Ok(created.into())
    }
}

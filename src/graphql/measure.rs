//! Measures (整改措施) and targets (目标) of findings.

use super::scalars::{Date, Time, date, naive};
use async_graphql::{
    ComplexObject, Context, Enum, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject,
};
use entity::{measure, target};

use super::connection::{Conn, OrderDirection, args};
use super::department::Department;
use super::enums::MeasureStatus;
use super::finding::Finding;
use super::loaders::{DepartmentById, FindingById};
use super::siblings::{Siblings, related, share, shared};
use super::warning::{EarlyWarning, WarningLevel, warning};
use super::write;
use super::{ContextExt, overdue_days, parse_id, parse_opt_id, patch};
use crate::domain::finding_list::Columns;
use crate::domain::measure::{MeasurePatch, NewMeasure};
use crate::domain::measure_list::{MeasureFilter, MeasureOrder};
use crate::domain::target::{NewTarget, TargetPatch};
use crate::domain::{self};
use std::collections::HashMap;
use std::sync::Arc;

/// A rectification measure of a finding (整改措施).
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Measure {
    /// Opaque identifier.
    pub id: ID,
    /// Number within the finding (一是, 二是, ... as 1, 2, ...).
    pub ordinal: i32,
    /// What is to be done.
    pub content: String,
    /// Status (措施状态).
    pub status: MeasureStatus,
    /// Deadline (整改时限), if any.
    pub deadline: Option<Date>,
    /// Completion date, once done.
    pub completed_on: Option<Date>,
    /// Responsible person (责任人).
    pub responsible_person: Option<String>,
    /// Whether the measure is archived (left out of lists by default; its ledger entries stay).
    pub archived: bool,
    /// When the measure last changed.
    pub updated_at: Time,
    /// Version for optimistic locking: pass it back with an update or archive; a stale version fails with CONFLICT.
    pub version: i32,
    #[graphql(skip)]
    pub department_id: Option<i32>,
    #[graphql(skip)]
    pub finding_id: i32,
    /// The measures read with this one, when it was read in a page or with its finding's.
    #[graphql(skip)]
    pub siblings: Option<Arc<Siblings<MeasureKeys>>>,
}

/// What a measure's relations are loaded by.
#[derive(Clone, Copy)]
pub struct MeasureKeys {
    finding_id: i32,
    department_id: Option<i32>,
}

impl From<measure::Model> for Measure {
    fn from(m: measure::Model) -> Self {
        Self {
            id: ID(m.id.to_string()),
            ordinal: m.ordinal,
            content: m.content,
            status: m.status.into(),
            deadline: date(m.deadline),
            completed_on: date(m.completed_on),
            responsible_person: m.responsible_person,
            archived: m.archived_at.is_some(),
            updated_at: Time(m.updated_at),
            version: m.version,
            department_id: m.department_id,
            finding_id: m.finding_id,
            siblings: None,
        }
    }
}

impl Measure {
    /// Measures read together: each one's relations are read for all of them at once.
    pub fn many(rows: impl IntoIterator<Item = measure::Model>) -> Vec<Measure> {
        let keys = |m: &measure::Model| MeasureKeys {
            finding_id: m.finding_id,
            department_id: m.department_id,
        };
        share(rows, keys, |row, siblings| Measure {
            siblings: Some(siblings),
            ..row.into()
        })
    }

    /// The measures of several findings, loaded together, as siblings of each other.
    pub fn loaded<K: Eq + std::hash::Hash>(
        loaded: HashMap<K, Vec<measure::Model>>,
    ) -> HashMap<K, Arc<Vec<Measure>>> {
        let mut sizes = Vec::with_capacity(loaded.len());
        let mut rows = Vec::new();
        for (key, measures) in loaded {
            sizes.push((key, measures.len()));
            rows.extend(measures);
        }
        let mut all = Measure::many(rows).into_iter();
        sizes
            .into_iter()
            .map(|(key, n)| (key, Arc::new(all.by_ref().take(n).collect())))
            .collect()
    }

    /// The measure's finding with the columns the brief fields read.
    async fn brief_finding(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<Arc<entity::finding::Model>>> {
        related(
            ctx,
            self.siblings.as_ref(),
            FindingById(self.finding_id, Columns::Brief),
            |m| Some(FindingById(m.finding_id, Columns::Brief)),
            shared,
        )
        .await
    }

    /// Days past the deadline as of `today`, when overdue (never once done).
    pub fn overdue_days(&self, today: chrono::NaiveDate) -> Option<i64> {
        overdue_days(
            naive(self.deadline),
            self.status == MeasureStatus::Done,
            today,
        )
    }
}

/// Something worth telling about a record that is not wrong enough to refuse it.
#[derive(SimpleObject)]
pub struct Notice {
    /// A stable code: MEASURE_DUE_AFTER_FINDING.
    pub code: String,
    pub message: String,
}

impl From<domain::measure::Notice> for Notice {
    fn from(n: domain::measure::Notice) -> Self {
        Self {
            code: n.code.to_owned(),
            message: n.message,
        }
    }
}

#[ComplexObject]
impl Measure {
    /// What the caller may do with this measure now.
    async fn viewer_can(&self, ctx: &Context<'_>) -> Result<super::viewer::ViewerCan> {
        super::viewer::record(ctx, super::viewer::MeasureKey(super::row(&self.id))).await
    }

    /// Warnings about the measure, e.g. a deadline after its finding's (MEASURE_DUE_AFTER_FINDING).
    async fn notices(&self, ctx: &Context<'_>) -> Result<Vec<Notice>> {
        let finding = self.brief_finding(ctx).await?;
        Ok(
            domain::measure::notices(naive(self.deadline), finding.and_then(|f| f.deadline))
                .into_iter()
                .map(Into::into)
                .collect(),
        )
    }

    /// Past its deadline and not done, as of today in the configured time zone.
    async fn is_overdue(&self, ctx: &Context<'_>) -> bool {
        self.overdue_days(ctx.today()).is_some()
    }

    /// Days past the deadline, when overdue.
    async fn days_overdue(&self, ctx: &Context<'_>) -> Option<i64> {
        self.overdue_days(ctx.today())
    }

    /// Responsible department (责任科室), when the measure has its own.
    async fn department(&self, ctx: &Context<'_>) -> Result<Option<Arc<Department>>> {
        let Some(id) = self.department_id else {
            return Ok(None);
        };
        related(
            ctx,
            self.siblings.as_ref(),
            DepartmentById(id),
            |m| m.department_id.map(DepartmentById),
            shared,
        )
        .await
    }

    /// The finding the measure belongs to.
    async fn finding(&self, ctx: &Context<'_>) -> Result<Option<Arc<Finding>>> {
        let columns = super::finding::shown_here(ctx);
        related(
            ctx,
            self.siblings.as_ref(),
            FindingById(self.finding_id, columns),
            |m| Some(FindingById(m.finding_id, columns)),
            Finding::loaded,
        )
        .await
    }

    /// Early warning (逾期预警): the level as of today and who must be alerted (the measure's
    /// responsible person, or else its finding's).
    async fn warning(&self, ctx: &Context<'_>) -> Result<EarlyWarning> {
        let finding = self.brief_finding(ctx).await?;
        let (person, leader, inspection) = match finding {
            Some(f) => (
                self.responsible_person
                    .clone()
                    .or(f.responsible_person.clone()),
                f.responsible_leader.clone(),
                f.inspection_id,
            ),
            None => (self.responsible_person.clone(), None, 0),
        };
        warning(
            ctx,
            self.deadline,
            self.status == MeasureStatus::Done,
            person,
            leader,
            inspection,
        )
        .await
    }
}

/// A measurable target of a finding (目标), e.g. 12% against a required 25%.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Target {
    /// Opaque identifier.
    pub id: ID,
    /// What is measured.
    pub name: String,
    /// Unit of the values (%, 万元, 人, ...).
    pub unit: String,
    /// The value when the finding was made.
    pub baseline: Option<f64>,
    /// The value to reach.
    pub required_value: Option<f64>,
    /// The latest value.
    pub current_value: Option<f64>,
    /// The date of the latest value.
    pub as_of: Option<Date>,
    /// Whether higher or lower values are better.
    pub better: super::enums::TargetBetter,
    /// Whether the latest value meets the required one (达标); null while either is unknown.
    pub met: Option<bool>,
    /// Version for optimistic locking: pass it back with an update or archive; a stale version fails with CONFLICT.
    pub version: i32,
}

#[ComplexObject]
impl Target {
    /// What the caller may do with this target now.
    async fn viewer_can(&self, ctx: &Context<'_>) -> Result<super::viewer::ViewerCan> {
        super::viewer::record(ctx, super::viewer::TargetKey(super::row(&self.id))).await
    }
}

impl From<target::Model> for Target {
    fn from(t: target::Model) -> Self {
        Self {
            id: ID(t.id.to_string()),
            name: t.name,
            unit: t.unit,
            baseline: t.baseline,
            required_value: t.required_value,
            current_value: t.current_value,
            as_of: date(t.as_of),
            better: t.better.into(),
            met: domain::target::met(t.better, t.required_value, t.current_value),
            version: t.version,
        }
    }
}

/// Which measures to list.
#[derive(InputObject, Default)]
pub struct MeasureFilterInput {
    /// Measures of this finding.
    pub finding_id: Option<ID>,
    /// Measures of this department or below (their own, or their finding's when they have none).
    pub department_id: Option<ID>,
    /// Any of these statuses.
    pub status: Option<Vec<MeasureStatus>>,
    /// Past the deadline and not done (true), or not (false).
    pub overdue: Option<bool>,
    /// At any of these early-warning levels (预警等级).
    pub warning_level: Option<Vec<WarningLevel>>,
    /// Also list archived measures (default false: archived ones are left out).
    #[graphql(default)]
    pub include_archived: bool,
}

/// What measures are sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Default)]
pub enum MeasureOrderField {
    /// By finding, then number.
    #[default]
    Ordinal,
    /// By deadline; measures without one come last.
    Deadline,
    /// By last change.
    UpdatedAt,
}

/// How measures are sorted.
#[derive(InputObject, Default, Clone, Copy)]
pub struct MeasureOrderInput {
    /// What to sort by (default ORDINAL).
    #[graphql(default)]
    pub field: MeasureOrderField,
    /// Ascending (default) or descending.
    #[graphql(default)]
    pub direction: OrderDirection,
}

#[derive(Default)]
pub struct MeasureQuery;

#[Object]
impl MeasureQuery {
    /// A measure within the caller's reach, or null.
    async fn measure(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Measure>> {
        let id = parse_id("id", &id)?;
        super::found(domain::measure::get(ctx.db(), ctx.caller(), id).await)
    }

    /// The measures within the caller's reach.
    #[graphql(complexity = "super::connection::page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn measures(
        &self,
        ctx: &Context<'_>,
        filter: Option<MeasureFilterInput>,
        order_by: Option<MeasureOrderInput>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Measure>> {
        let filter = filter.unwrap_or_default();
        let order_by = order_by.unwrap_or_default();
        let filter = MeasureFilter {
            finding_id: parse_opt_id("filter.findingId", filter.finding_id.as_ref())?,
            department_id: parse_opt_id("filter.departmentId", filter.department_id.as_ref())?,
            status: filter
                .status
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            overdue: filter.overdue,
            warning: filter
                .warning_level
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            include_archived: filter.include_archived,
        };
        let field = match order_by.field {
            MeasureOrderField::Ordinal => MeasureOrder::Ordinal,
            MeasureOrderField::Deadline => MeasureOrder::Deadline,
            MeasureOrderField::UpdatedAt => MeasureOrder::UpdatedAt,
        };
        let page = domain::measure_list::list(
            ctx.db(),
            ctx.caller(),
            &filter,
            (field, order_by.direction.descending()),
            &ctx.thresholds(),
            &args(first, after, last, before),
        )
        .await?;
        Ok(super::connection::connection_of(page, Measure::many))
    }
}

/// A new measure (整改措施) of a finding.
#[derive(InputObject)]
pub struct CreateMeasureInput {
    /// The finding the measure belongs to.
    pub finding_id: ID,
    /// Number within the finding; the next free one when omitted.
    pub ordinal: Option<i32>,
    /// What is to be done.
    pub content: String,
    /// Code of the responsible department, when not the finding's.
    pub department_code: Option<String>,
    /// Responsible person (责任人).
    pub responsible_person: Option<String>,
    /// Deadline (整改时限), if any.
    pub deadline: Option<Date>,
}

/// Changes to a measure. Moving back from DONE needs a `reason`.
#[derive(InputObject)]
pub struct UpdateMeasureInput {
    /// The measure to change.
    pub id: ID,
    /// The version the measure was read at; if the measure has changed since, the update fails with CONFLICT.
    pub version: i32,
    /// New text; omit to keep.
    pub content: Option<String>,
    /// New status: PLANNED, IN_PROGRESS, DONE, forward only unless reopening from DONE with a `reason`; omit to keep.
    pub status: Option<MeasureStatus>,
    /// Why a DONE measure is reopened (kept in the ledger).
    pub reason: Option<String>,
    /// Completion date when moving to DONE (default: today).
    pub completed_on: Option<Date>,
    /// Deadline (整改时限); omit to keep, null to clear.
    pub deadline: MaybeUndefined<Date>,
    /// Responsible person (责任人); omit to keep, null to clear.
    pub responsible_person: MaybeUndefined<String>,
    /// Code of the responsible department (责任科室); omit to keep, null to return the measure to its finding's.
    pub department_code: MaybeUndefined<String>,
}

/// A new measurable target (目标) of a finding.
#[derive(InputObject)]
pub struct CreateTargetInput {
    /// The finding the target belongs to.
    pub finding_id: ID,
    /// What is measured.
    pub name: String,
    /// Unit of the values (%, 万元, 人, ...); default empty.
    #[graphql(default)]
    pub unit: String,
    /// The value when the finding was made.
    pub baseline: Option<f64>,
    /// The value to reach.
    pub required_value: Option<f64>,
    /// The latest value.
    pub current_value: Option<f64>,
    /// The date of the latest value.
    pub as_of: Option<Date>,
    /// Whether higher (default) or lower values are better.
    pub better: Option<super::enums::TargetBetter>,
}

/// Changes to a target. A new current value without `asOf` is as of today; the ledger records it.
#[derive(InputObject)]
pub struct UpdateTargetInput {
    /// The target to change.
    pub id: ID,
    /// The version the target was read at; if the target has changed since, the update fails with CONFLICT.
    pub version: i32,
    /// New name of what is measured; omit to keep.
    pub name: Option<String>,
    /// New unit of the values; omit to keep.
    pub unit: Option<String>,
    /// The value when the finding was made; omit to keep, null to clear.
    pub baseline: MaybeUndefined<f64>,
    /// The value to reach; omit to keep, null to clear.
    pub required_value: MaybeUndefined<f64>,
    /// The latest value; omit to keep, null to clear.
    pub current_value: MaybeUndefined<f64>,
    /// The date of the latest value; omit to keep (today if `currentValue` is set), null to clear.
    pub as_of: MaybeUndefined<Date>,
    /// Whether higher or lower values are better; omit to keep.
    pub better: Option<super::enums::TargetBetter>,
}

#[derive(Default)]
pub struct MeasureMutation;

#[Object]
impl MeasureMutation {
    /// Adds a measure to a finding (managers within their subtree, admins).
    async fn create_measure(
        &self,
        ctx: &Context<'_>,
        input: CreateMeasureInput,
    ) -> Result<Measure> {
        let created = write(ctx, async |txn, who| {
            domain::measure::create(
                txn,
                who,
                NewMeasure {
                    finding_id: parse_id("findingId", &input.finding_id)?,
                    ordinal: input.ordinal,
                    content: input.content,
                    department_code: input.department_code,
                    responsible_person: input.responsible_person,
                    deadline: naive(input.deadline),
                },
            )
            .await
        })
        .await?;
        Ok(created.into())
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
            completed_on: naive(input.completed_on),
            deadline: patch(input.deadline),
            responsible_person: patch(input.responsible_person),
            department_code: patch(input.department_code),
        };
        let updated = write(ctx, async |txn, who| {
            domain::measure::update(txn, who, id, input.version, changes).await
        })
        .await?;
        Ok(updated.into())
    }

    /// Archives a measure; its ledger entries stay (managers within their subtree, admins).
    async fn archive_measure(&self, ctx: &Context<'_>, id: ID, version: i32) -> Result<Measure> {
        let id = parse_id("id", &id)?;
        Ok(write(ctx, async |txn, who| {
            domain::change::archive::<entity::measure::Entity>(txn, who, id, version).await
        })
        .await?
        .into())
    }

    /// Adds a measurable target to a finding (managers within their subtree, admins).
    async fn create_target(&self, ctx: &Context<'_>, input: CreateTargetInput) -> Result<Target> {
        let created = write(ctx, async |txn, who| {
            domain::target::create(
                txn,
                who,
                NewTarget {
                    finding_id: parse_id("findingId", &input.finding_id)?,
                    name: input.name,
                    unit: input.unit,
                    baseline: input.baseline,
                    required_value: input.required_value,
                    current_value: input.current_value,
                    as_of: naive(input.as_of),
                    better: input.better.map(Into::into),
                },
            )
            .await
        })
        .await?;
        Ok(created.into())
    }

    /// Edits a target, e.g. sets its current value (managers within their subtree, admins).
    async fn update_target(&self, ctx: &Context<'_>, input: UpdateTargetInput) -> Result<Target> {
        let id = parse_id("id", &input.id)?;
        let changes = TargetPatch {
            name: input.name,
            unit: input.unit,
            baseline: patch(input.baseline),
            required_value: patch(input.required_value),
            current_value: patch(input.current_value),
            as_of: patch(input.as_of),
            better: input.better.map(Into::into),
        };
        let updated = write(ctx, async |txn, who| {
            domain::target::update(txn, who, id, input.version, changes).await
        })
        .await?;
        Ok(updated.into())
    }

    /// Archives a target.
    async fn archive_target(&self, ctx: &Context<'_>, id: ID, version: i32) -> Result<Target> {
        let id = parse_id("id", &id)?;
        Ok(write(ctx, async |txn, who| {
            domain::change::archive::<entity::target::Entity>(txn, who, id, version).await
        })
        .await?
        .into())
    }
}

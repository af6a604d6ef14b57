//! Findings (问题): the heart of the ledger.

use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object, Result, ServerResult};
use entity::enums::FindingStatus as Status;
use entity::finding;
use entity::finding::Column as C;
use futures_util::future::BoxFuture;

use super::catalogue::{
    self, Arg, Conn, Env, Fields, Level, Loads, Nested, PageSource, Preload, Shown, Under,
    distinct, in_order, times,
};
use super::connection::{OrderDirection, args};
use super::enums::{FindingStatus, RectificationType};
use super::loaders::{
    CategoryById, DepartmentById, FindingById, InspectionById, LookBackOfFinding,
    MeasuresOfFinding, RegulationsOfFinding, TargetsOfFinding,
};
use super::scalars::{Date, Time, date, naive, time};
use super::warning::{WarningLevel, warning};
use super::write;
use super::{ContextExt, VERSION, id, overdue_days, parse_id, parse_opt_id, patch};
use crate::domain::finding::{FindingPatch, NewFinding};
use crate::domain::finding_list::{Columns, FindingFilter, FindingOrder, Parent};
use crate::domain::page::{Page, PageArgs};
use crate::domain::{self};
use crate::error::AppError;

/// A problem found by an inspection (问题), with its rectification.
#[derive(Clone)]
pub struct Finding(pub finding::Model);

impl From<finding::Model> for Finding {
    fn from(f: finding::Model) -> Self {
        Self(f)
    }
}

impl Finding {
    /// Days past the deadline as of `today`, when overdue (never once closed).
    pub fn overdue_days(&self, today: chrono::NaiveDate) -> Option<i64> {
        overdue_days(self.0.deadline, self.0.status == Status::Closed, today)
    }
}

impl catalogue::Object for Finding {
    const NAME: &'static str = "Finding";
    const DOC: &'static str = "A problem found by an inspection (问题), with its rectification.";

    fn fields(f: &mut Fields<Self>) {
        f.value("id", "Opaque identifier.", |r, _| id(r.0.id))
            .reads(reads(&[]));
        f.value(
            "ordinal",
            "Number within the inspection (序号).",
            |r, _| r.0.ordinal,
        )
        .reads(reads(&[C::Ordinal]));
        f.value("title", "The problem in one line (问题).", |r, _| {
            r.0.title.clone()
        })
        .reads(reads(&[C::Title]));
        f.value("description", "The problem in full.", |r, _| {
            r.0.description.clone()
        })
        .reads(reads(&[C::Description]));
        f.value(
            "rectificationType",
            "Rectification type (整改类型).",
            |r, _| RectificationType::from(r.0.rectification_type),
        )
        .reads(reads(&[C::RectificationType]));
        f.value("status", "Status (整改状态).", |r, _| {
            FindingStatus::from(r.0.status)
        })
        .reads(reads(&[C::Status]));
        f.value(
            "deadline",
            "Rectification deadline (整改时限), if any.",
            |r, _| date(r.0.deadline),
        )
        .reads(reads(&[C::Deadline]));
        f.value(
            "responsibleLeader",
            "Responsible leader (责任领导).",
            |r, _| r.0.responsible_leader.clone(),
        )
        .reads(reads(&[C::ResponsibleLeader]));
        f.value(
            "responsiblePerson",
            "Responsible person (责任人).",
            |r, _| r.0.responsible_person.clone(),
        )
        .reads(reads(&[C::ResponsiblePerson]));
        f.value(
            "disclosed",
            "Printed in the public bulletin (通报公开); counted in its figures either way.",
            |r, _| r.0.disclosed,
        )
        .reads(reads(&[C::Disclosed]));
        f.value("createdAt", "When the finding was recorded.", |r, _| {
            Time(r.0.created_at)
        })
        .reads(reads(&[C::CreatedAt]));
        f.value("updatedAt", "When the finding last changed.", |r, _| {
            Time(r.0.updated_at)
        })
        .reads(reads(&[C::UpdatedAt]));
        f.value(
            "closedAt",
            "When it was closed out (销号), if it is.",
            |r, _| time(r.0.closed_at),
        )
        .reads(reads(&[C::ClosedAt]));
        f.value(
            "archived",
            "Whether the finding is archived (left out of lists by default; its ledger stays).",
            |r, _| r.0.archived_at.is_some(),
        )
        .reads(reads(&[C::ArchivedAt]));
        f.value("version", VERSION, |r, _| r.0.version)
            .reads(reads(&[C::Version]));
        f.each(
            "viewerCan",
            "What the caller may do with this finding now (the same rules the mutations enforce).",
            |r, ctx| {
                Box::pin(async move {
                    Ok(super::viewer::FindingViewerCan::from(
                        super::viewer::finding(ctx, r.0.id).await?,
                    ))
                })
            },
        )
        .reads(reads(&[]));
        f.each(
            "allowedTransitions",
            "The moves of the close-out workflow the caller may make now.",
            |r, ctx| {
                Box::pin(async move {
                    let can = super::viewer::finding(ctx, r.0.id).await?;
                    Ok(can
                        .moves
                        .into_iter()
                        .map(super::viewer::Transition::from)
                        .collect::<Vec<_>>())
                })
            },
        )
        .reads(reads(&[]));
        f.value(
            "isOverdue",
            "Past its deadline and not closed (逾期), as of today in the configured time zone.",
            |r, env| r.overdue_days(env.today()).is_some(),
        )
        .reads(reads(&[C::Deadline, C::Status]));
        f.value(
            "daysOverdue",
            "Days past the deadline, when overdue.",
            |r, env| r.overdue_days(env.today()),
        )
        .reads(reads(&[C::Deadline, C::Status]));
        f.one(
            "department",
            "Responsible department (责任科室).",
            |r, _| Some(DepartmentById(r.0.department_id)),
        )
        .reads(reads(&[C::DepartmentId]));
        f.each(
            "warning",
            "Early warning (逾期预警): the level as of today and who must be alerted.",
            |r, ctx| {
                Box::pin(warning(
                    ctx,
                    date(r.0.deadline),
                    r.0.status == Status::Closed,
                    r.0.responsible_person.clone(),
                    r.0.responsible_leader.clone(),
                    r.0.inspection_id,
                ))
            },
        )
        .reads(reads(&[
            C::Deadline,
            C::Status,
            C::ResponsiblePerson,
            C::ResponsibleLeader,
            C::InspectionId,
        ]));
        f.each(
            "notices",
            "Warnings about the finding that do not refuse it, e.g. a deadline before its inspection's feedback date (FINDING_DUE_BEFORE_FEEDBACK).",
            |r, ctx| {
                Box::pin(async move {
                    let inspection = ctx
                        .loader()
                        .load_one(InspectionById(r.0.inspection_id))
                        .await?;
                    let notice = domain::inspection::due_before_feedback(
                        r.0.deadline,
                        inspection.and_then(|i| i.feedback_on),
                    );
                    Ok(notice
                        .into_iter()
                        .map(|(code, message)| super::measure::Notice {
                            code: code.to_owned(),
                            message,
                        })
                        .collect::<Vec<_>>())
                })
            },
        )
        .reads(reads(&[C::Deadline, C::InspectionId]));
        f.one(
            "category",
            "The feedback heading (方面) the finding sits under.",
            |r, _| r.0.category_id.map(CategoryById),
        )
        .reads(reads(&[C::CategoryId]));
        f.one("inspection", "The inspection that found it.", |r, _| {
            Some(InspectionById(r.0.inspection_id))
        })
        .reads(reads(&[C::InspectionId]));
        f.many(
            "measures",
            "Rectification measures (整改措施), in order (not archived).",
            |r| MeasuresOfFinding(r.0.id),
        )
        .cost(times::<10>)
        .reads(reads(&[]));
        f.many(
            "targets",
            "Measurable targets (目标), e.g. a share to reach.",
            |r| TargetsOfFinding(r.0.id),
        )
        .cost(times::<5>)
        .reads(reads(&[]));
        f.many(
            "regulations",
            "Regulations (规章制度) made or revised in answer to this finding.",
            |r| RegulationsOfFinding(r.0.id),
        )
        .cost(times::<10>)
        .reads(reads(&[]));
        f.loaded(
            "relapseCount",
            "How often the finding relapsed (问题反弹) after it was closed: failed re-checks and reopens, one per closing.",
            |r| Some(LookBackOfFinding(r.0.id)),
            |_, found, _| found.map_or(0, |l| l.relapses),
        )
            .reads(reads(&[]));
        f.loaded(
            "lastRelapsedOn",
            "The day of its latest relapse, if it relapsed.",
            |r| Some(LookBackOfFinding(r.0.id)),
            |_, found, _| found.and_then(|l| date(l.last_relapsed_on)),
        )
        .reads(reads(&[]));
        f.one_via(
            "nextRecheck",
            "The scheduled re-check (回头看) not done yet, the earliest due.",
            |r| LookBackOfFinding(r.0.id),
            |l| l.next_recheck.map(super::look_back::Recheck),
        )
        .reads(reads(&[]));
        f.page(
            "progress",
            "The finding's ledger (台账), oldest entry first.",
            super::progress::Ledgers,
        )
        .reads(reads(&[]));
    }
}

crate::object!(Finding);

impl Loads for FindingById {
    type Record = Finding;
}

/// Which findings to list. Every condition given must hold.
#[derive(InputObject, Default, Clone)]
pub struct FindingFilterInput {
    /// Findings of this inspection.
    pub inspection_id: Option<ID>,
    /// Findings under this feedback heading (方面).
    pub category_id: Option<ID>,
    /// Findings of this department or any department below it.
    pub department_id: Option<ID>,
    /// Findings answered by this regulation.
    pub regulation_id: Option<ID>,
    /// Changed at or after this time (for incremental pulls).
    pub updated_since: Option<Time>,
    /// Any of these statuses.
    pub status: Option<Vec<FindingStatus>>,
    /// Any of these types.
    pub rectification_type: Option<Vec<RectificationType>>,
    /// Past the deadline and not closed (true), or not (false).
    pub overdue: Option<bool>,
    /// At any of these early-warning levels (预警等级).
    pub warning_level: Option<Vec<WarningLevel>>,
    /// Deadline on or after this date.
    pub deadline_from: Option<Date>,
    /// Deadline on or before this date.
    pub deadline_to: Option<Date>,
    /// Words separated by spaces (full-width too), each in the title, the description or a
    /// measure (Chinese works as typed).
    pub search: Option<String>,
    /// Findings that relapsed (问题反弹: a failed re-check or a reopen) at least once (true), or never (false).
    pub relapsed: Option<bool>,
    /// Findings with a scheduled re-check (回头看) due by today and not done (true), or without (false).
    pub recheck_due: Option<bool>,
    /// Also list archived findings (default false: archived ones are left out).
    #[graphql(default)]
    pub include_archived: bool,
}

/// What findings are sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Default)]
pub enum FindingOrderField {
    /// By inspection, then number (序号).
    #[default]
    Ordinal,
    /// By deadline; findings without one come last.
    Deadline,
    /// By last change.
    UpdatedAt,
}

/// How findings are sorted.
#[derive(InputObject, Default, Clone, Copy)]
pub struct FindingOrderInput {
    /// What to sort by (default ORDINAL).
    #[graphql(default)]
    pub field: FindingOrderField,
    /// Ascending (default) or descending.
    #[graphql(default)]
    pub direction: OrderDirection,
}

/// The findings nested under the records of a level (an inspection's, a heading's, a
/// regulation's): every record's page in one read, with the same filter, scope and order as
/// the root list ([`crate::domain::finding_list::list_each`]).
pub struct FindingsUnder<T> {
    pub parent: Parent,
    pub id: fn(&T) -> i32,
}

impl<T: catalogue::Catalogued> PageSource<T> for FindingsUnder<T> {
    type Node = Finding;

    fn args() -> Vec<Arg> {
        vec![
            Arg::new::<Option<FindingFilterInput>>("filter", ""),
            Arg::new::<Option<FindingOrderInput>>("orderBy", ""),
        ]
    }

    fn pages<'a>(
        &'a self,
        level: &'a Level<'a, T>,
        field: &'a Context<'a>,
        args: PageArgs,
        shown: Shown,
    ) -> BoxFuture<'a, ServerResult<Vec<Page<Finding>>>> {
        Box::pin(async move {
            let failed = |err: AppError| {
                async_graphql::Error::from(err).into_server_error(catalogue::pos(field))
            };
            let (filter, sort) = self.terms(field)?;
            let ids: Vec<i32> = level.items.iter().map(|row| (self.id)(row)).collect();
            let env = level.env;
            let pages = domain::finding_list::list_each(
                env.db,
                env.caller,
                &filter,
                self.parent,
                &distinct(&ids),
                sort,
                &env.thresholds,
                &args,
                columns(&shown),
            )
            .await
            .map_err(failed)?;
            in_order(&ids, pages).map_err(failed)
        })
    }

    fn lateral<'a>(
        &'a self,
        env: &'a Env<'a>,
        field: &'a Context<'a>,
        args: PageArgs,
        shown: Shown,
    ) -> BoxFuture<'a, Option<Box<dyn Preload<T>>>> {
        Box::pin(async move {
            let (filter, sort) = self.terms(field).ok()?;
            let read = domain::finding_list::each(
                env.db,
                env.caller,
                &filter,
                self.parent,
                sort,
                &env.thresholds,
                &args,
                columns(&shown),
            )
            .await
            .ok()?;
            Some(Under::<T, Finding>::boxed(read, self.id))
        })
    }
}

impl<T> FindingsUnder<T> {
    /// The field's filter and order, as given (the parent's own, whatever the filter names).
    fn terms(&self, field: &Context<'_>) -> ServerResult<(FindingFilter, (FindingOrder, bool))> {
        let mut filter =
            catalogue::argument::<Option<FindingFilterInput>>(field, "filter")?.unwrap_or_default();
        let order_by = catalogue::argument::<Option<FindingOrderInput>>(field, "orderBy")?;
        match self.parent {
            Parent::Inspection => filter.inspection_id = None,
            Parent::Category => filter.category_id = None,
            Parent::Regulation => filter.regulation_id = None,
        }
        list_terms(filter, order_by)
            .map_err(|err| async_graphql::Error::from(err).into_server_error(catalogue::pos(field)))
    }
}

/// A catalogue entry's columns ([`catalogue::Field::reads`]), by their place in the model.
fn reads(columns: &[C]) -> u64 {
    Columns::of(columns).bits()
}

/// The columns a read of findings decodes: those the fields shown read.
pub fn columns(shown: &Shown) -> Columns {
    decoded(shown.reads::<Finding>())
}

/// [`columns`] for the nodes of a connection field (`edges { node }` and `nodes`), by
/// async-graphql's look-ahead (aliases and fragments seen through).
pub fn shown_in_page(ctx: &Context<'_>) -> Columns {
    let page = ctx.look_ahead();
    let mut nodes = page.field("edges").field("node").selection_fields();
    nodes.extend(page.field("nodes").selection_fields());
    let names = nodes
        .iter()
        .flat_map(|node| node.selection_set().map(|field| field.name()));
    decoded(<Finding as catalogue::Catalogued>::catalogue().reads(names))
}

/// [`columns`] for the finding the current field returns.
pub fn shown_here(ctx: &Context<'_>) -> Columns {
    let field = ctx.field();
    let names = field.selection_set().map(|field| field.name());
    decoded(<Finding as catalogue::Catalogued>::catalogue().reads(names))
}

/// The columns of [`catalogue::Catalogue::reads`]'s answer (`None`: all of them).
fn decoded(reads: Option<u64>) -> Columns {
    reads.map_or(Columns::ALL, Columns::from_bits)
}

/// A finding by id for a field that returns one (a relation of a visible record is visible).
pub async fn load(ctx: &Context<'_>, id: i32) -> Result<Option<Finding>> {
    let columns = shown_here(ctx);
    Ok(ctx
        .loader()
        .load_one(FindingById(id, columns))
        .await?
        .map(Finding))
}

/// Lists findings for the root field.
pub async fn list_findings(
    ctx: &Context<'_>,
    filter: FindingFilterInput,
    order_by: Option<FindingOrderInput>,
    page: PageArgs,
) -> Result<Conn<Finding>> {
    let (filter, sort) = list_terms(filter, order_by)?;
    let mut nested = Nested::of(ctx).await;
    let page = domain::finding_list::list_columns(
        ctx.db(),
        ctx.caller(),
        &filter,
        sort,
        &ctx.thresholds(),
        &page,
        shown_in_page(ctx),
        nested.as_mut().map(Nested::lateral),
    )
    .await?;
    Ok(Conn::with(page, nested)?)
}

/// The domain's filter and order for a list's arguments.
pub fn list_terms(
    filter: FindingFilterInput,
    order_by: Option<FindingOrderInput>,
) -> crate::error::AppResult<(FindingFilter, (FindingOrder, bool))> {
    let order_by = order_by.unwrap_or_default();
    let filter = FindingFilter {
        inspection_id: parse_opt_id("filter.inspectionId", filter.inspection_id.as_ref())?,
        category_id: parse_opt_id("filter.categoryId", filter.category_id.as_ref())?,
        department_id: parse_opt_id("filter.departmentId", filter.department_id.as_ref())?,
        regulation_id: parse_opt_id("filter.regulationId", filter.regulation_id.as_ref())?,
        updated_since: filter.updated_since.map(|t| t.0),
        status: filter
            .status
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect(),
        rectification_type: filter
            .rectification_type
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
        deadline_from: naive(filter.deadline_from),
        deadline_to: naive(filter.deadline_to),
        search: filter.search,
        relapsed: filter.relapsed,
        recheck_due: filter.recheck_due,
        include_archived: filter.include_archived,
    };
    let field = match order_by.field {
        FindingOrderField::Ordinal => FindingOrder::Ordinal,
        FindingOrderField::Deadline => FindingOrder::Deadline,
        FindingOrderField::UpdatedAt => FindingOrder::UpdatedAt,
    };
    Ok((filter, (field, order_by.direction.descending())))
}

#[derive(Default)]
pub struct FindingQuery;

#[Object]
impl FindingQuery {
    /// A finding within the caller's reach, or null.
    async fn finding(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Finding>> {
        let id = parse_id("id", &id)?;
        super::found(crate::domain::scope::finding(ctx.db(), ctx.caller(), id).await)
    }

    /// The findings within the caller's reach.
    #[graphql(complexity = "super::connection::page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn findings(
        &self,
        ctx: &Context<'_>,
        filter: Option<FindingFilterInput>,
        order_by: Option<FindingOrderInput>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Finding>> {
        list_findings(
            ctx,
            filter.unwrap_or_default(),
            order_by,
            args(first, after, last, before),
        )
        .await
    }
}

/// A new finding of an inspection.
#[derive(InputObject)]
pub struct CreateFindingInput {
    /// The inspection that found it.
    pub inspection_id: ID,
    /// The feedback heading (方面) it sits under; must belong to the inspection.
    pub category_id: Option<ID>,
    /// Number within the inspection; the next free one when omitted.
    pub ordinal: Option<i32>,
    /// The problem in one line (问题).
    pub title: String,
    /// The problem in full (default: empty).
    #[graphql(default)]
    pub description: String,
    /// Rectification type (整改类型).
    pub rectification_type: RectificationType,
    /// Rectification deadline (整改时限), if any.
    pub deadline: Option<Date>,
    /// Responsible leader (责任领导).
    pub responsible_leader: Option<String>,
    /// Code of the responsible department (责任科室).
    pub department_code: String,
    /// Responsible person (责任人).
    pub responsible_person: Option<String>,
    /// Printed in the public bulletin (default true); an undisclosed finding is still counted
    /// in the bulletin's figures and reported to the inspection office.
    #[graphql(default = true)]
    pub disclosed: bool,
}

/// Changes to a finding. Omitted fields stay as they are; null clears an optional field.
/// Statuses change through the workflow, not here.
#[derive(InputObject)]
pub struct UpdateFindingInput {
    /// The finding to change.
    pub id: ID,
    /// The version the finding was read at; if the finding has changed since, the update fails with CONFLICT.
    pub version: i32,
    /// New one-line title; omit to keep.
    pub title: Option<String>,
    /// New full description; omit to keep.
    pub description: Option<String>,
    /// New rectification type (整改类型); omit to keep.
    pub rectification_type: Option<RectificationType>,
    /// New number within the inspection (序号), if free; omit to keep.
    pub ordinal: Option<i32>,
    /// Feedback heading (方面), of the same inspection; omit to keep, null to clear.
    pub category_id: MaybeUndefined<ID>,
    /// Rectification deadline (整改时限); omit to keep, null to clear.
    pub deadline: MaybeUndefined<Date>,
    /// Responsible leader (责任领导); omit to keep, null to clear.
    pub responsible_leader: MaybeUndefined<String>,
    /// Responsible person (责任人); omit to keep, null to clear.
    pub responsible_person: MaybeUndefined<String>,
    /// Code of the new responsible department (责任科室); omit to keep.
    pub department_code: Option<String>,
    /// Whether the public bulletin prints it; omit to keep.
    pub disclosed: Option<bool>,
}

#[derive(Default)]
pub struct FindingMutation;

#[Object]
impl FindingMutation {
    /// Adds a finding to an inspection (managers within their subtree, admins).
    async fn create_finding(
        &self,
        ctx: &Context<'_>,
        input: CreateFindingInput,
    ) -> Result<Finding> {
        let created = write(ctx, async |txn, who| {
            domain::finding::create(
                txn,
                who,
                NewFinding {
                    inspection_id: parse_id("inspectionId", &input.inspection_id)?,
                    category_id: parse_opt_id("categoryId", input.category_id.as_ref())?,
                    ordinal: input.ordinal,
                    title: input.title,
                    description: input.description,
                    rectification_type: input.rectification_type.into(),
                    deadline: naive(input.deadline),
                    responsible_leader: input.responsible_leader,
                    department_code: input.department_code,
                    responsible_person: input.responsible_person,
                    disclosed: input.disclosed,
                },
            )
            .await
        })
        .await?;
        Ok(created.into())
    }

    /// Edits a finding (managers within their subtree, admins).
    async fn update_finding(
        &self,
        ctx: &Context<'_>,
        input: UpdateFindingInput,
    ) -> Result<Finding> {
        let id = parse_id("id", &input.id)?;
        let category_id = match patch(input.category_id) {
            Some(Some(id)) => Some(Some(parse_id("categoryId", &id)?)),
            Some(None) => Some(None),
            None => None,
        };
        let changes = FindingPatch {
            title: input.title,
            description: input.description,
            rectification_type: input.rectification_type.map(Into::into),
            category_id,
            ordinal: input.ordinal,
            deadline: patch(input.deadline),
            responsible_leader: patch(input.responsible_leader),
            responsible_person: patch(input.responsible_person),
            department_code: input.department_code,
            disclosed: input.disclosed,
        };
        let updated = write(ctx, async |txn, who| {
            domain::finding::update(txn, who, id, input.version, changes).await
        })
        .await?;
        Ok(updated.into())
    }

    /// Archives a finding; its ledger and history stay (managers within their subtree, admins).
    async fn archive_finding(&self, ctx: &Context<'_>, id: ID, version: i32) -> Result<Finding> {
        let id = parse_id("id", &id)?;
        Ok(write(ctx, async |txn, who| {
            domain::change::archive::<entity::finding::Entity>(txn, who, id, version).await
        })
        .await?
        .into())
    }
}

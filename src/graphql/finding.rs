//! Findings (问题): the heart of the ledger.

use super::scalars::{Date, Time, date, naive, time};
use async_graphql::{
    ComplexObject, Context, Enum, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject,
};
use entity::finding;

use super::connection::{Conn, OrderDirection, args};
use super::department::Department;
use super::enums::{FindingStatus, RectificationType};
use super::inspection::{Category, Inspection};
use super::loaders::{
    CategoryById, DepartmentById, FindingById, InspectionById, LookBackOfFinding,
    MeasuresOfFinding, RegulationsOfFinding, TargetsOfFinding,
};
use super::measure::{Measure, Target};
use super::progress::ProgressEntry;
use super::regulation::Regulation;
use super::siblings::{Siblings, each, related, share, shared};
use super::warning::{EarlyWarning, WarningLevel, warning};
use super::write;
use super::{ContextExt, overdue_days, parse_id, parse_opt_id, patch};
use crate::domain::finding::{FindingPatch, NewFinding};
use std::sync::Arc;

use super::pages::{FindingTerms, FindingsUnder, LedgerOf};
use crate::domain::finding_list::{Columns, FindingFilter, FindingOrder, Parent};
use crate::domain::page::PageArgs;
use crate::domain::{self};

/// A problem found by an inspection (问题), with its rectification.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Finding {
    /// Opaque identifier.
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
    pub deadline: Option<Date>,
    /// Responsible leader (责任领导).
    pub responsible_leader: Option<String>,
    /// Responsible person (责任人).
    pub responsible_person: Option<String>,
    /// Printed in the public bulletin (通报公开); counted in its figures either way.
    pub disclosed: bool,
    /// When the finding was recorded.
    pub created_at: Time,
    /// When the finding last changed.
    pub updated_at: Time,
    /// When it was closed out (销号), if it is.
    pub closed_at: Option<Time>,
    /// Whether the finding is archived (left out of lists by default; its ledger stays).
    pub archived: bool,
    /// Version for optimistic locking: pass it back with an update or archive; a stale version fails with CONFLICT.
    pub version: i32,
    #[graphql(skip)]
    pub row_id: i32,
    #[graphql(skip)]
    pub department_id: i32,
    #[graphql(skip)]
    pub category_id: Option<i32>,
    #[graphql(skip)]
    pub inspection_id: i32,
    /// The findings read with this one, when it was read in a page.
    #[graphql(skip)]
    pub siblings: Option<Arc<Siblings<FindingKeys>>>,
}

/// What a finding's relations are loaded by.
#[derive(Clone, Copy)]
pub struct FindingKeys {
    id: i32,
    department_id: i32,
    category_id: Option<i32>,
    inspection_id: i32,
}

impl FindingKeys {
    fn of(f: &finding::Model) -> Self {
        Self {
            id: f.id,
            department_id: f.department_id,
            category_id: f.category_id,
            inspection_id: f.inspection_id,
        }
    }
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
            deadline: date(f.deadline),
            responsible_leader: f.responsible_leader,
            responsible_person: f.responsible_person,
            disclosed: f.disclosed,
            created_at: Time(f.created_at),
            updated_at: Time(f.updated_at),
            closed_at: time(f.closed_at),
            archived: f.archived_at.is_some(),
            version: f.version,
            row_id: f.id,
            department_id: f.department_id,
            category_id: f.category_id,
            inspection_id: f.inspection_id,
            siblings: None,
        }
    }
}

impl Finding {
    /// Findings read together: each one's relations are read for all of them at once.
    pub fn many(rows: impl IntoIterator<Item = finding::Model>) -> Vec<Finding> {
        share(rows, FindingKeys::of, |row, siblings| Finding {
            siblings: Some(siblings),
            ..row.into()
        })
    }

    /// Findings loaded together for some key, as siblings of each other.
    pub fn loaded<K: Eq + std::hash::Hash>(
        loaded: std::collections::HashMap<K, finding::Model>,
    ) -> std::collections::HashMap<K, Arc<Finding>> {
        let (keys, rows): (Vec<K>, Vec<finding::Model>) = loaded.into_iter().unzip();
        keys.into_iter()
            .zip(Finding::many(rows).into_iter().map(Arc::new))
            .collect()
    }

    async fn look_back(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Arc<crate::domain::look_back::LookBack>> {
        let key = LookBackOfFinding(self.row_id);
        let found = related(
            ctx,
            self.siblings.as_ref(),
            key,
            |f| Some(LookBackOfFinding(f.id)),
            shared,
        )
        .await?;
        Ok(found.unwrap_or_default())
    }

    /// Days past the deadline as of `today`, when overdue (never once closed).
    pub fn overdue_days(&self, today: chrono::NaiveDate) -> Option<i64> {
        overdue_days(
            naive(self.deadline),
            self.status == FindingStatus::Closed,
            today,
        )
    }
}

#[ComplexObject]
impl Finding {
    /// What the caller may do with this finding now (the same rules the mutations enforce).
    async fn viewer_can(&self, ctx: &Context<'_>) -> Result<super::viewer::FindingViewerCan> {
        Ok(super::viewer::finding(ctx, self.row_id).await?.into())
    }

    /// The moves of the close-out workflow the caller may make now.
    async fn allowed_transitions(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<super::viewer::Transition>> {
        Ok(super::viewer::finding(ctx, self.row_id)
            .await?
            .moves
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Past its deadline and not closed (逾期), as of today in the configured time zone.
    async fn is_overdue(&self, ctx: &Context<'_>) -> bool {
        self.overdue_days(ctx.today()).is_some()
    }

    /// Days past the deadline, when overdue.
    async fn days_overdue(&self, ctx: &Context<'_>) -> Option<i64> {
        self.overdue_days(ctx.today())
    }

    /// Responsible department (责任科室).
    async fn department(&self, ctx: &Context<'_>) -> Result<Option<Arc<Department>>> {
        let key = DepartmentById(self.department_id);
        related(
            ctx,
            self.siblings.as_ref(),
            key,
            |f| Some(DepartmentById(f.department_id)),
            shared,
        )
        .await
    }

    /// Early warning (逾期预警): the level as of today and who must be alerted.
    async fn warning(&self, ctx: &Context<'_>) -> Result<EarlyWarning> {
        warning(
            ctx,
            self.deadline,
            self.status == FindingStatus::Closed,
            self.responsible_person.clone(),
            self.responsible_leader.clone(),
            self.inspection_id,
        )
        .await
    }

    /// The feedback heading (方面) the finding sits under.
    async fn category(&self, ctx: &Context<'_>) -> Result<Option<Arc<Category>>> {
        let Some(id) = self.category_id else {
            return Ok(None);
        };
        related(
            ctx,
            self.siblings.as_ref(),
            CategoryById(id),
            |f| f.category_id.map(CategoryById),
            shared,
        )
        .await
    }

    /// The inspection that found it.
    async fn inspection(&self, ctx: &Context<'_>) -> Result<Option<Arc<Inspection>>> {
        let key = InspectionById(self.inspection_id);
        related(
            ctx,
            self.siblings.as_ref(),
            key,
            |f| Some(InspectionById(f.inspection_id)),
            shared,
        )
        .await
    }

    /// Rectification measures (整改措施), in order (not archived).
    #[graphql(complexity = "10 * child_complexity + 1")]
    async fn measures(&self, ctx: &Context<'_>) -> Result<Arc<Vec<Measure>>> {
        let key = MeasuresOfFinding(self.row_id);
        let found = related(
            ctx,
            self.siblings.as_ref(),
            key,
            |f| Some(MeasuresOfFinding(f.id)),
            Measure::loaded,
        )
        .await?;
        Ok(found.unwrap_or_default())
    }

    /// Measurable targets (目标), e.g. a share to reach.
    #[graphql(complexity = "5 * child_complexity + 1")]
    async fn targets(&self, ctx: &Context<'_>) -> Result<Arc<Vec<Target>>> {
        let key = TargetsOfFinding(self.row_id);
        let found = related(
            ctx,
            self.siblings.as_ref(),
            key,
            |f| Some(TargetsOfFinding(f.id)),
            each,
        )
        .await?;
        Ok(found.unwrap_or_default())
    }

    /// Regulations (规章制度) made or revised in answer to this finding.
    #[graphql(complexity = "10 * child_complexity + 1")]
    async fn regulations(&self, ctx: &Context<'_>) -> Result<Arc<Vec<Regulation>>> {
        let key = RegulationsOfFinding(self.row_id);
        let found = related(
            ctx,
            self.siblings.as_ref(),
            key,
            |f| Some(RegulationsOfFinding(f.id)),
            each,
        )
        .await?;
        Ok(found.unwrap_or_default())
    }

    /// How often the finding relapsed (问题反弹) after it was closed: failed re-checks and reopens, one per closing.
    async fn relapse_count(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.look_back(ctx).await?.relapses)
    }

    /// The day of its latest relapse, if it relapsed.
    async fn last_relapsed_on(&self, ctx: &Context<'_>) -> Result<Option<Date>> {
        Ok(self.look_back(ctx).await?.last_relapsed_on.map(Date))
    }

    /// The scheduled re-check (回头看) not done yet, the earliest due.
    async fn next_recheck(&self, ctx: &Context<'_>) -> Result<Option<super::look_back::Recheck>> {
        Ok(self
            .look_back(ctx)
            .await?
            .next_recheck
            .clone()
            .map(Into::into))
    }

    /// The finding's ledger (台账), oldest entry first.
    #[graphql(complexity = "super::connection::page_cost(first, last, child_complexity)")]
    async fn progress(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<ProgressEntry>> {
        let key = LedgerOf {
            finding_id: self.row_id,
            args: Arc::new(args(first, after, last, before)),
        };
        super::pages::connection(ctx, key, ProgressEntry::from).await
    }
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
    /// Text in the title, the description or a measure (Chinese works as typed).
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

/// Lists findings nested under a record, with those of the record's siblings in the page
/// (see [`super::pages`]). The list is the parent's whatever the filter names as parent.
pub async fn findings_under(
    ctx: &Context<'_>,
    parent: Parent,
    id: i32,
    mut filter: FindingFilterInput,
    order_by: Option<FindingOrderInput>,
    args: PageArgs,
) -> Result<Conn<Finding>> {
    match parent {
        Parent::Inspection => filter.inspection_id = None,
        Parent::Category => filter.category_id = None,
        Parent::Regulation => filter.regulation_id = None,
    }
    let (filter, sort) = list_terms(filter, order_by)?;
    let terms = Arc::new(FindingTerms {
        filter,
        sort,
        args,
        columns: shown_in_page(ctx),
    });
    let key = FindingsUnder { parent, id, terms };
    super::pages::connection(ctx, key, std::convert::identity).await
}

/// The columns a finding field must read: all of them when its selection shows the
/// description, otherwise all but that long text. Aliases and fragments are seen through.
fn shown(finding: &async_graphql::Lookahead<'_>) -> Columns {
    if finding.field("description").exists() {
        Columns::All
    } else {
        Columns::Brief
    }
}

/// [`shown`] for the nodes of a connection field (`edges { node }` and `nodes`).
pub fn shown_in_page(ctx: &Context<'_>) -> Columns {
    let page = ctx.look_ahead();
    match (
        shown(&page.field("edges").field("node")),
        shown(&page.field("nodes")),
    ) {
        (Columns::Brief, Columns::Brief) => Columns::Brief,
        _ => Columns::All,
    }
}

/// [`shown`] for the finding the current field returns.
pub fn shown_here(ctx: &Context<'_>) -> Columns {
    shown(&ctx.look_ahead())
}

/// A finding by id for a field that returns one (a relation of a visible record is visible).
pub async fn load(ctx: &Context<'_>, id: i32) -> Result<Option<Finding>> {
    let columns = shown_here(ctx);
    Ok(ctx
        .loader()
        .load_one(FindingById(id, columns))
        .await?
        .map(Into::into))
}

/// Lists findings for the root field.
pub async fn list_findings(
    ctx: &Context<'_>,
    filter: FindingFilterInput,
    order_by: Option<FindingOrderInput>,
    page: PageArgs,
) -> Result<Conn<Finding>> {
    let (filter, sort) = list_terms(filter, order_by)?;
    let page = domain::finding_list::list_columns(
        ctx.db(),
        ctx.caller(),
        &filter,
        sort,
        &ctx.thresholds(),
        &page,
        shown_in_page(ctx).list(),
    )
    .await?;
    Ok(super::connection::connection_of(page, Finding::many))
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

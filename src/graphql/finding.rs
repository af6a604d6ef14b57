//! Findings (问题): the heart of the ledger.

use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Result, ServerResult};
use entity::enums::FindingStatus as Status;
use entity::finding;
use futures_util::future::BoxFuture;

use super::catalogue::{
    self, Arg, Conn, Env, Fields, Level, Loads, Nested, PageSource, Preload, Shown, Under,
    distinct, in_order, times,
};
use super::enums::OrderDirection;
use super::enums::{FindingStatus, RectificationType};
use super::loaders::{
    CategoryById, DepartmentById, FindingById, InspectionById, LookBackOfFinding,
    MeasuresOfFinding, RegulationsOfFinding, StagesOfFinding, TargetsOfFinding,
};
use super::scalars::{Date, Time, date, naive, time};
use super::warning::{WarningLevel, finding_warning};
use super::write;
use super::{ContextExt, VERSION, id, overdue_days, parse_id, parse_opt_id, patch};
use crate::domain::reads::columns::Columns;
use crate::domain::reads::finding_list::{FindingFilter, FindingOrder, Parent};
use crate::domain::reads::page::{Page, PageArgs};
use crate::domain::records::finding::{FindingPatch, NewFinding};
use crate::domain::{self};
use crate::error::AppError;

/// A problem found by an inspection (问题), with its rectification: its fields read through
/// [`finding::Projected`], so that a column the read left out is refused, never served.
#[derive(Clone)]
pub struct Finding(pub finding::Projected);

impl Finding {
    /// Days past the deadline as of `today`, when overdue (never once closed).
    pub fn overdue_days(&self, today: chrono::NaiveDate) -> Option<i64> {
        overdue_days(self.deadline(), self.status() == Status::Closed, today)
    }
}

// Which columns a read of findings selects: derived from the fields themselves, and checked.
//
// Each field below is declared with the functions that read its row (a value read off it, a
// relation's key, what a field awaited per row takes of it), and the columns it reads are
// found by running those functions once, when the catalogue is built, on a row that holds no
// column and records each one touched (`catalogue::touched`; `catalogue::Projection` declares
// the helpers). There is no list of columns to keep in step with the code: a field that starts
// reading another column selects it. That alone is
// not enough, because a run on one row follows one path (a column read only in a branch the
// placeholders do not take is not recorded), and fields declared otherwise (`progress`, whose
// key is its page source's) are not run. So the row also knows which columns it holds
// (`entity::Unread`) and its accessors refuse the others: a projection that is wrong anyway
// is an INTERNAL_SERVER_ERROR, logged, never a placeholder served as data. The derivation
// removes the lists that could be wrong; the check catches what derivation cannot see.
// (tests/api/reads.rs reads every field alone against all of them, on every surface and for
// every role, on data where every column varies: a missed column fails it.)

impl catalogue::Object for Finding {
    const NAME: &'static str = "Finding";
    const DOC: &'static str = "A problem found by an inspection (问题), with its rectification.";

    fn fields(f: &mut Fields<Self>) {
        f.projected("id", "Opaque identifier.", |r| id(r.id()));
        f.projected("ordinal", "Number within the inspection (序号).", |r| {
            r.ordinal()
        });
        f.projected("title", "The problem in one line (问题).", |r| r.title());
        f.projected("description", "The problem in full.", |r| r.description());
        f.projected(
            "rectificationType",
            "Rectification type (整改类型).",
            |r| RectificationType::from(r.rectification_type()),
        );
        f.projected("status", "Status (整改状态).", |r| {
            FindingStatus::from(r.status())
        });
        f.projected(
            "deadline",
            "Rectification deadline (整改时限), if any.",
            |r| date(r.deadline()),
        );
        f.projected(
            "responsibleLeader",
            "Responsible leader (责任领导).",
            |r| r.responsible_leader(),
        );
        f.projected(
            "responsiblePerson",
            "Responsible person (责任人).",
            |r| r.responsible_person(),
        );
        f.projected(
            "disclosed",
            "Printed in the public bulletin (通报公开); counted in its figures either way.",
            |r| r.disclosed(),
        );
        f.projected("createdAt", "When the finding was recorded.", |r| {
            Time(r.created_at())
        });
        f.projected("updatedAt", "When the finding last changed.", |r| {
            Time(r.updated_at())
        });
        f.projected(
            "closedAt",
            "When it was closed out (销号), if it is.",
            |r| time(r.closed_at()),
        );
        f.projected(
            "archived",
            "Whether the finding is archived (left out of lists by default; its ledger stays).",
            |r| r.archived_at().is_some(),
        );
        f.projected("version", VERSION, |r| r.version());
        f.awaited(
            "viewerCan",
            "What the caller may do with this finding now (the same rules the mutations enforce).",
            |r| r.id(),
            |id, ctx| {
                Box::pin(async move {
                    Ok(super::viewer::FindingViewerCan::from(
                        super::viewer::finding(ctx, id).await?,
                    ))
                })
            },
        );
        f.awaited(
            "allowedTransitions",
            "The moves of the close-out workflow the caller may make now.",
            |r| r.id(),
            |id, ctx| {
                Box::pin(async move {
                    let can = super::viewer::finding(ctx, id).await?;
                    Ok(can
                        .moves
                        .into_iter()
                        .map(super::viewer::Transition::from)
                        .collect::<Vec<_>>())
                })
            },
        );
        f.dated(
            "isOverdue",
            "Past its deadline and not closed (逾期), as of today in the configured time zone.",
            |r, today| r.overdue_days(today).is_some(),
        );
        f.dated(
            "daysOverdue",
            "Days past the deadline, when overdue.",
            |r, today| r.overdue_days(today),
        );
        f.refers(
            "department",
            "Responsible department (责任科室).",
            |r| Some(DepartmentById(r.department_id())),
        );
        f.awaited("warning",
            "Early warning (逾期预警): the level as of today and who must be alerted; RED while a supervision order about it is unanswered past its reply deadline (逾期未复).",
            |r| {
                (
                    r.id(),
                    date(r.deadline()),
                    r.status() == Status::Closed,
                    r.responsible_person(),
                    r.responsible_leader(),
                    r.inspection_id(),
                )
            },
            |(id, deadline, closed, person, leader, inspection), ctx| {
                Box::pin(finding_warning(
                    ctx, id, deadline, closed, person, leader, inspection,
                ))
            },
        );
        f.awaited("notices",
            "Warnings about the finding that do not refuse it: a deadline before its inspection's feedback date (FINDING_DUE_BEFORE_FEEDBACK); supervision orders about it not accepted yet, which its close-out review must see (FINDING_OPEN_SUPERVISION).",
            |r| (r.id(), r.deadline(), r.inspection_id()),
            |(id, deadline, inspection), ctx| {
                Box::pin(async move {
                    let inspection = ctx.loader().load_one(InspectionById(inspection)).await?;
                    let mut notice: Vec<(&str, String)> =
                        domain::records::inspection::due_before_feedback(
                            deadline,
                            inspection.and_then(|i| i.feedback_on),
                        )
                        .into_iter()
                        .collect();
                    let unfinished = ctx
                        .loader()
                        .load_one(super::loaders::UnfinishedOrdersOfFinding(id))
                        .await?
                        .unwrap_or_default();
                    notice.extend(domain::workflow::supervision::open_notice(
                        &unfinished,
                        ctx.today(),
                    ));
                    Ok(notice
                        .into_iter()
                        .map(|(code, message)| super::measure::Notice {
                            code: code.to_owned(),
                            message,
                        })
                        .collect::<Vec<_>>())
                })
            },
        );
        f.refers(
            "category",
            "The feedback heading (方面) the finding sits under.",
            |r| r.category_id().map(CategoryById),
        );
        f.refers("inspection", "The inspection that found it.", |r| {
            Some(InspectionById(r.inspection_id()))
        });
        // Read with the columns the measures' fields shown read.
        f.many(
            "measures",
            "Rectification measures (整改措施), in order (not archived).",
            |r, shown, _| Some(MeasuresOfFinding(r.id(), super::measure::reads(shown))),
        )
        .reads_id()
        .cost(times::<10>);
        f.holds(
            "targets",
            "Measurable targets (目标), e.g. a share to reach.",
            |r| TargetsOfFinding(r.id()),
        )
        .cost(times::<5>);
        f.holds(
            "stages",
            "Stages (阶段目标) of a long-term finding, in order: what is to be reached by when.",
            |r| StagesOfFinding(r.id()),
        )
        .cost(times::<5>);
        f.holds(
            "regulations",
            "Regulations (规章制度) made or revised in answer to this finding.",
            |r| RegulationsOfFinding(r.id()),
        )
        .cost(times::<10>);
        f.loaded_by("relapseCount",
            "How often the finding relapsed (问题反弹) after it was closed: failed re-checks and reopens, one per closing.",
            |r| LookBackOfFinding(r.id()),
            |found| found.map_or(0, |l| l.relapses),
        );
        f.loaded_by(
            "lastRelapsedOn",
            "The day of its latest relapse, if it relapsed.",
            |r| LookBackOfFinding(r.id()),
            |found| found.and_then(|l| date(l.last_relapsed_on)),
        );
        let key = |r: &Finding| LookBackOfFinding(r.id());
        let reads = catalogue::touched(|row: &Finding| {
            key(row);
        });
        f.one_via(
            "nextRecheck",
            "The scheduled re-check (回头看) not done yet, the earliest due.",
            key,
            |l| l.next_recheck.map(super::look_back::Recheck),
        )
        .reads(reads);
        // The ledgers are read by the finding's id (`progress::Ledgers`), which every read
        // selects: no other column, and the id's accessor checks that too.
        f.page(
            "progress",
            "The finding's ledger (台账), oldest entry first.",
            super::progress::Ledgers,
        )
        .reads_id();
        f.loaded_by("supervisionOrderCount",
            "How many supervision orders (督办单) are about this finding, all of them (whoever reads the finding reads its orders).",
            |r| super::loaders::OrderCountOfFinding(r.id()),
            |found| found.copied().unwrap_or(0),
        );
        // A list, not a connection: a finding has a handful of orders, and a page of findings
        // priced with a nested page of orders each cost more than the documents' limit.
        f.awaited("supervisionOrders",
            "The supervision orders (督办单) about this finding, newest first: the newest 20 (`supervisionOrderCount` says how many there are; `supervisionOrders(filter: {findingId})` pages through all). Closing the finding does not close them.",
            |r| r.id(),
            |id, ctx| {
                Box::pin(async move {
                    let rows = ctx
                        .loader()
                        .load_one(super::loaders::OrdersOfFinding(id))
                        .await?;
                    Ok(rows
                        .unwrap_or_default()
                        .into_iter()
                        .map(super::supervision::SupervisionOrder)
                        .collect::<Vec<_>>())
                })
            },
        );
    }
}

crate::object!(Finding over finding);

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
/// the root list ([`crate::domain::reads::finding_list::list_each`]).
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
            let pages = domain::reads::finding_list::list_each(
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
            let read = domain::reads::finding_list::each(
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

/// The columns a read of findings decodes: those the fields shown read.
pub fn columns(shown: &Shown) -> Columns {
    decoded(shown.reads::<Finding>())
}

/// [`columns`] for the nodes of a connection field ([`catalogue::shown_in_page`]).
pub fn shown_in_page(ctx: &Context<'_>) -> Columns {
    decoded(catalogue::shown_in_page::<Finding>(ctx))
}

/// The columns of [`catalogue::Catalogue::reads`]'s answer (`None`: all of them).
fn decoded(reads: Option<u64>) -> Columns {
    reads.map_or(Columns::ALL, Columns::from_bits)
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
    let page = domain::reads::finding_list::list_columns(
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
        status: super::converted(filter.status),
        rectification_type: super::converted(filter.rectification_type),
        overdue: filter.overdue,
        warning: super::converted(filter.warning_level),
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

impl catalogue::Root for FindingQuery {
    const NAME: &'static str = "FindingQuery";

    fn fields(f: &mut catalogue::Roots) {
        use catalogue::param;
        f.field(
            "finding",
            "A finding within the caller's reach, or null.",
            param::<ID>("id"),
            |ctx, id| Box::pin(Self::finding(ctx, id)),
        );
        f.field(
            "findings",
            "The findings within the caller's reach.",
            (
                param::<Option<FindingFilterInput>>("filter"),
                param::<Option<FindingOrderInput>>("orderBy"),
                catalogue::Pages,
            ),
            |ctx, (filter, order_by, pages)| Box::pin(Self::findings(ctx, filter, order_by, pages)),
        )
        .cost(catalogue::page_cost);
    }
}

crate::root!(FindingQuery);

impl FindingQuery {
    async fn finding(ctx: &Context<'_>, id: ID) -> Result<Option<Finding>> {
        let id = parse_id("id", &id)?;
        super::found(crate::domain::reads::scope::finding(ctx.db(), ctx.caller(), id).await)
    }

    #[allow(clippy::too_many_arguments)]
    async fn findings(
        ctx: &Context<'_>,
        filter: Option<FindingFilterInput>,
        order_by: Option<FindingOrderInput>,
        pages: PageArgs,
    ) -> Result<Conn<Finding>> {
        list_findings(ctx, filter.unwrap_or_default(), order_by, pages).await
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

impl catalogue::Root for FindingMutation {
    const NAME: &'static str = "FindingMutation";

    fn fields(f: &mut catalogue::Roots) {
        use catalogue::param;
        f.field(
            "createFinding",
            "Adds a finding to an inspection (managers within their subtree, admins).",
            param::<CreateFindingInput>("input"),
            |ctx, input| Box::pin(Self::create_finding(ctx, input)),
        );
        f.field(
            "updateFinding",
            "Edits a finding (managers within their subtree, admins).",
            param::<UpdateFindingInput>("input"),
            |ctx, input| Box::pin(Self::update_finding(ctx, input)),
        );
        f.field(
            "archiveFinding",
            "Archives a finding; its ledger and history stay (managers within their subtree, admins).",
            (param::<ID>("id"), param::<i32>("version")),
            |ctx, (id, version)| Box::pin(Self::archive_finding(ctx, id, version)),
        );
    }
}

crate::root!(FindingMutation);

impl FindingMutation {
    async fn create_finding(ctx: &Context<'_>, input: CreateFindingInput) -> Result<Finding> {
        let created = write(ctx, async |txn, who| {
            domain::records::finding::create(
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

    async fn update_finding(ctx: &Context<'_>, input: UpdateFindingInput) -> Result<Finding> {
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
            domain::records::finding::update(txn, who, id, input.version, changes).await
        })
        .await?;
        Ok(updated.into())
    }

    async fn archive_finding(ctx: &Context<'_>, id: ID, version: i32) -> Result<Finding> {
        let id = parse_id("id", &id)?;
        Ok(write(ctx, async |txn, who| {
            domain::records::change::archive::<entity::finding::Entity>(txn, who, id, version).await
        })
        .await?
        .into())
    }
}

#[cfg(test)]
mod tests {
    use std::panic::AssertUnwindSafe;

    use entity::finding::Column as C;
    use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

    use super::*;

    /// The columns the catalogue selects for `field` shown alone.
    fn selected(field: &str) -> Columns {
        decoded(<Finding as catalogue::Catalogued>::catalogue().reads([field]))
    }

    #[test]
    fn every_field_selects_the_columns_the_hand_written_lists_selected() {
        // The lists the catalogue declared by hand before its columns were derived: the
        // derivation must select the same columns for the same selection (the benchmark and
        // the statement counts depend on it), and no field may read every column.
        let before: &[(&str, &[C])] = &[
            ("id", &[]),
            ("ordinal", &[C::Ordinal]),
            ("title", &[C::Title]),
            ("description", &[C::Description]),
            ("rectificationType", &[C::RectificationType]),
            ("status", &[C::Status]),
            ("deadline", &[C::Deadline]),
            ("responsibleLeader", &[C::ResponsibleLeader]),
            ("responsiblePerson", &[C::ResponsiblePerson]),
            ("disclosed", &[C::Disclosed]),
            ("createdAt", &[C::CreatedAt]),
            ("updatedAt", &[C::UpdatedAt]),
            ("closedAt", &[C::ClosedAt]),
            ("archived", &[C::ArchivedAt]),
            ("version", &[C::Version]),
            ("viewerCan", &[]),
            ("allowedTransitions", &[]),
            ("isOverdue", &[C::Deadline, C::Status]),
            ("daysOverdue", &[C::Deadline, C::Status]),
            ("department", &[C::DepartmentId]),
            (
                "warning",
                &[
                    C::Deadline,
                    C::Status,
                    C::ResponsiblePerson,
                    C::ResponsibleLeader,
                    C::InspectionId,
                ],
            ),
            ("notices", &[C::Deadline, C::InspectionId]),
            ("category", &[C::CategoryId]),
            ("inspection", &[C::InspectionId]),
            ("measures", &[]),
            ("targets", &[]),
            ("stages", &[]),
            ("regulations", &[]),
            ("relapseCount", &[]),
            ("lastRelapsedOn", &[]),
            ("nextRecheck", &[]),
            ("progress", &[]),
            ("supervisionOrderCount", &[]),
            ("supervisionOrders", &[]),
        ];
        let catalogue = <Finding as catalogue::Catalogued>::catalogue();
        assert_eq!(
            catalogue.fields().len(),
            before.len(),
            "a field without its row here"
        );
        for (field, columns) in before {
            assert_eq!(selected(field), Columns::of(columns), "{field}");
        }
        // Together: the union, as before.
        assert_eq!(
            decoded(catalogue.reads(["title", "isOverdue", "department"])),
            Columns::of(&[C::Title, C::Deadline, C::Status, C::DepartmentId])
        );
    }

    /// A finding read by a statement that selected `columns` (in the model's order) as `sql`.
    async fn read(sql: &str, columns: Columns) -> Finding {
        let db = Database::connect("sqlite::memory:")
            .await
            .expect("SQLite in memory");
        let row = db
            .query_one_raw(Statement::from_string(DbBackend::Sqlite, sql))
            .await
            .expect("the statement runs")
            .expect("one row");
        Finding::from(finding::Model::from_columns(&row, &columns.list()).expect("decoded"))
    }

    /// What a read-off panicked with, if it did.
    fn refusal<V>(read_off: impl FnOnce() -> V) -> Option<String> {
        let panic = std::panic::catch_unwind(AssertUnwindSafe(read_off)).err()?;
        panic.downcast_ref::<String>().cloned()
    }

    #[tokio::test]
    async fn a_column_a_read_did_not_select_is_refused_not_served_as_its_placeholder() {
        // A wrong declaration: `status` read by a statement that selected the title instead.
        let finding = read("SELECT 7, 'a title'", Columns::of(&[C::Title])).await;
        assert_eq!(finding.id(), 7);
        assert_eq!(finding.title(), "a title");
        let refused = refusal(|| FindingStatus::from(finding.status()))
            .expect("NOT_STARTED, the placeholder, is not answered");
        assert!(refused.contains("finding.status"), "{refused}");
        let refused = refusal(|| finding.department_id()).expect("department 0 is not answered");
        assert!(refused.contains("finding.department_id"), "{refused}");
        assert!(refusal(|| finding.overdue_days(chrono::NaiveDate::MIN)).is_some());
    }

    #[tokio::test]
    async fn a_column_read_on_a_path_the_recording_did_not_take_is_refused_at_the_read() {
        // A field that reads `closedAt` only once the finding is closed: its recording runs on
        // NOT_STARTED placeholders, never takes that branch, and derives the status alone.
        let closed_at = |r: &Finding| {
            if r.status() == Status::Closed {
                time(r.closed_at())
            } else {
                None
            }
        };
        let derived = Columns::from_bits(catalogue::touched(|r: &Finding| {
            closed_at(r);
        }));
        assert_eq!(derived, Columns::of(&[C::Status]));
        // A closed finding read with those columns takes the branch, and is refused there.
        let finding = read("SELECT 7, 'closed'", derived).await;
        assert_eq!(finding.status(), Status::Closed);
        let refused = refusal(|| closed_at(&finding)).expect("no placeholder time is answered");
        assert!(refused.contains("finding.closed_at"), "{refused}");
    }

    #[test]
    fn a_recording_that_panics_leaves_the_thread_refusing_again() {
        let panicked = std::panic::catch_unwind(|| {
            catalogue::touched::<Finding>(|_| panic!("a read-off that fails while it is recorded"))
        });
        assert!(panicked.is_err());
        let unselected = Finding(finding::Projected::recording());
        assert!(refusal(|| unselected.title()).is_some());
    }
}

//! Inspections (巡察), their feedback headings (方面) and status summaries.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Result};
use entity::{category, inspection};

use super::catalogue::{
    self, Arg, Conn, Fields, Loads, Nested, page_args, page_cost, page_of, times,
};
use super::enums::OrderDirection;
use super::finding::FindingsUnder;
use super::loaders::{CategoriesOfInspection, CategoryById, DepartmentById, InspectionById};
use super::scalars::{Date, date, naive};
use super::summary::StatusSummary;
use super::write;
use super::{ContextExt, VERSION, id, parse_id, parse_opt_id, patch};
use crate::domain::reads::finding_list::Parent;
use crate::domain::reads::page::PageArgs;
use crate::domain::reads::summary::Over;
use crate::domain::records::inspection::{InspectionFilter, InspectionPatch, NewInspection};
use crate::domain::{self};

/// An inspection of a unit by an inspection group (巡察).
#[derive(Clone)]
pub struct Inspection(pub inspection::Model);

impl From<inspection::Model> for Inspection {
    fn from(i: inspection::Model) -> Self {
        Self(i)
    }
}

impl catalogue::Object for Inspection {
    const NAME: &'static str = "Inspection";
    const DOC: &'static str = "An inspection of a unit by an inspection group (巡察).";

    fn fields(f: &mut Fields<Self>) {
        f.value("id", "Opaque identifier.", |i, _| id(i.0.id));
        f.value("title", "Title (标题).", |i, _| i.0.title.clone());
        f.value(
            "inspectionGroup",
            "The inspection group (巡察组), e.g. 市委第五巡察组.",
            |i, _| i.0.inspection_group.clone(),
        );
        f.value("startedOn", "First day on site.", |i, _| {
            Date(i.0.started_on)
        });
        f.value("endedOn", "Last day on site.", |i, _| date(i.0.ended_on));
        f.value(
            "feedbackOn",
            "The day feedback (反馈意见) was given.",
            |i, _| date(i.0.feedback_on),
        );
        f.value("dueOn", "Rectification due date (整改期限).", |i, _| {
            date(i.0.due_on)
        });
        f.value(
            "archived",
            "Whether the inspection is archived (left out of lists by default).",
            |i, _| i.0.archived_at.is_some(),
        );
        f.value("version", VERSION, |i, _| i.0.version);
        f.each(
            "viewerCan",
            "What the caller may do with this record now.",
            |i, ctx| {
                Box::pin(super::viewer::record(
                    ctx,
                    super::viewer::InspectionKey(i.0.id),
                ))
            },
        );
        f.one(
            "unit",
            "The inspected unit (被巡察单位).",
            |i, _, _| Some(DepartmentById(i.0.unit_id)),
        );
        f.many(
            "categories",
            "The feedback headings (方面), in order.",
            |i, _, _| Some(CategoriesOfInspection(i.0.id)),
        )
        .cost(times::<10>);
        f.page(
            "findings",
            "The inspection's findings the caller may read.",
            FindingsUnder {
                parent: Parent::Inspection,
                id: |i: &Inspection| i.0.id,
            },
        );
        f.each(
            "bulletinContent",
            "The prose of its public bulletin (通报), as the unit entered it (the wording of a problem outside the caller's reach left out).",
            |i, ctx| {
                Box::pin(async move {
                    let p = crate::domain::documents::bulletin::readable(ctx.db(), ctx.caller(), &i.0).await?;
                    Ok(super::bulletin::BulletinContent::from(p))
                })
            },
        );
        f.value(
            "bulletinFigures",
            "The figures bulletin prose may name in braces ({问题数} ...).",
            |_, _| super::bulletin::figure_names(),
        );
        f.each(
            "statusSummary",
            "Progress in numbers over the findings the caller may read.",
            |i, ctx| {
                Box::pin(
                    async move { Ok(StatusSummary::over(ctx, Over::Inspection(i.0.id)).await?) },
                )
            },
        );
        f.each(
            "problemList",
            "问题清单: the findings the caller may read, under the feedback's headings in order (findings under none, held back from the bulletin, last as 其他问题), with type, deadline, who answers for each, status and progress.",
            |i, ctx| {
                Box::pin(async move {
                    let plan = super::lists::plan(ctx, i.0.id).await?;
                    Ok(super::lists::ProblemList::from(
                        crate::domain::reads::lists::problems::build(&plan),
                    ))
                })
            },
        );
        f.each(
            "taskList",
            "任务清单: each measure of the findings the caller may read as a task (what, who, by when, done when, evidence, warning), filtered.",
            |i, ctx| {
                Box::pin(async move {
                    let filter = catalogue::argument::<Option<super::lists::TaskFilterInput>>(
                        ctx, "filter",
                    )?;
                    let filter = filter.unwrap_or_default().into_domain()?;
                    let within =
                        crate::domain::reads::lists::tasks::path_of(ctx.db(), &filter).await?;
                    let plan = super::lists::plan(ctx, i.0.id).await?;
                    Ok(super::lists::TaskList::from(
                        crate::domain::reads::lists::tasks::build(&plan, &filter, within.as_deref()),
                    ))
                })
            },
        )
        .args(vec![Arg::new::<Option<super::lists::TaskFilterInput>>(
            "filter", "",
        )]);
        f.each(
            "responsibilityList",
            "责任清单: per responsible leader, department and person (names as written), what they answer for, done, overdue and the warning level; with `mine`, only the caller's own rows (its name as leader or person, its department).",
            |i, ctx| {
                Box::pin(async move {
                    let mine = catalogue::argument::<Option<bool>>(ctx, "mine")?.unwrap_or(false);
                    let plan = super::lists::plan(ctx, i.0.id).await?;
                    let list = crate::domain::reads::lists::responsibilities::build(&plan);
                    let list = if mine {
                        crate::domain::reads::lists::responsibilities::mine(list, ctx.caller())
                    } else {
                        list
                    };
                    Ok(super::lists::ResponsibilityList::from(list))
                })
            },
        )
        .args(vec![Arg::new::<Option<bool>>(
            "mine",
            "Only what the caller answers for: rows under its name and its department.",
        )]);
        f.each(
            "timetable",
            "时间表: the half-month reporting periods (ending on the 15th and the month's end) and what falls due in each: done on time, late, overdue or open.",
            |i, ctx| {
                Box::pin(async move {
                    let plan = super::lists::plan(ctx, i.0.id).await?;
                    Ok(super::lists::Timetable::from(
                        crate::domain::reads::lists::timetable::build(&plan),
                    ))
                })
            },
        );
        f.each(
            "roadmap",
            "路线图: each finding's road from feedback to close-out, its measures as steps by deadline, planned against done.",
            |i, ctx| {
                Box::pin(async move {
                    let plan = super::lists::plan(ctx, i.0.id).await?;
                    let title = plan.inspection.title.clone();
                    Ok(super::lists::Roadmap::of(
                        crate::domain::reads::lists::roadmap::build(&plan),
                        &title,
                    ))
                })
            },
        );
        f.each(
            "rechecks",
            "The look-back re-check schedule (回头看), of findings the caller may read, by due date.",
            |i, ctx| {
                Box::pin(async move {
                    let filter = catalogue::argument::<Option<super::look_back::RecheckFilterInput>>(
                        ctx, "filter",
                    )?;
                    let page = crate::domain::workflow::look_back::list(
                        ctx.db(),
                        ctx.caller(),
                        i.0.id,
                        filter.unwrap_or_default().into(),
                        &page_of(ctx)?,
                    )
                    .await?;
                    Ok(Conn::<super::look_back::Recheck>::of(page))
                })
            },
        )
        .args(
            [Arg::new::<Option<super::look_back::RecheckFilterInput>>("filter", "")]
                .into_iter()
                .chain(page_args())
                .collect(),
        )
        .cost(page_cost);
    }
}

crate::object!(Inspection);

impl Loads for InspectionById {
    type Record = Inspection;
}

/// A feedback heading (方面) that findings are grouped under.
#[derive(Clone)]
pub struct Category(pub category::Model);

impl From<category::Model> for Category {
    fn from(c: category::Model) -> Self {
        Self(c)
    }
}

impl catalogue::Object for Category {
    const NAME: &'static str = "Category";
    const DOC: &'static str = "A feedback heading (方面) that findings are grouped under.";

    fn fields(f: &mut Fields<Self>) {
        f.value("id", "Opaque identifier.", |c, _| id(c.0.id));
        f.value(
            "ordinal",
            "Number within the inspection (一, 二, 三 as 1, 2, 3).",
            |c, _| c.0.ordinal,
        );
        f.value("title", "Heading text (方面).", |c, _| c.0.title.clone());
        f.value("version", VERSION, |c, _| c.0.version);
        f.each(
            "viewerCan",
            "What the caller may do with this record now.",
            |c, ctx| {
                Box::pin(super::viewer::record(
                    ctx,
                    super::viewer::CategoryKey(c.0.id),
                ))
            },
        );
        f.one(
            "inspection",
            "The inspection the heading belongs to.",
            |c, _, _| Some(InspectionById(c.0.inspection_id)),
        );
        f.page(
            "findings",
            "The findings under this heading that the caller may read.",
            FindingsUnder {
                parent: Parent::Category,
                id: |c: &Category| c.0.id,
            },
        );
    }
}

crate::object!(Category);

impl Loads for CategoryById {
    type Record = Category;
}

impl Loads for CategoriesOfInspection {
    type Record = Category;
}

/// Which inspections to list.
#[derive(InputObject, Default)]
pub struct InspectionFilterInput {
    /// Inspections of this unit or any department below it.
    pub unit_id: Option<ID>,
    /// Text in the title or the inspection group.
    pub search: Option<String>,
    /// Also list archived inspections (default false: archived ones are left out).
    #[graphql(default)]
    pub include_archived: bool,
}

#[derive(Default)]
pub struct InspectionQuery;

impl catalogue::Root for InspectionQuery {
    const NAME: &'static str = "InspectionQuery";

    fn fields(f: &mut catalogue::Roots) {
        use catalogue::param;
        f.field(
            "inspection",
            "An inspection within the caller's reach, or null.",
            param::<ID>("id"),
            |ctx, id| Box::pin(Self::inspection(ctx, id)),
        );
        f.field(
            "inspections",
            "The inspections within the caller's reach, by start date (newest last unless DESC).",
            (
                param::<Option<InspectionFilterInput>>("filter"),
                param::<OrderDirection>("direction").or(Default::default),
                catalogue::Pages,
            ),
            |ctx, (filter, direction, pages)| {
                Box::pin(Self::inspections(ctx, filter, direction, pages))
            },
        )
        .cost(catalogue::page_cost);
        f.field(
            "statusSummary",
            "Progress in numbers over every finding the caller may read.",
            (),
            |ctx, ()| Box::pin(Self::status_summary(ctx)),
        );
    }
}

crate::root!(InspectionQuery);

impl InspectionQuery {
    async fn inspection(ctx: &Context<'_>, id: ID) -> Result<Option<Inspection>> {
        let id = parse_id("id", &id)?;
        super::found(domain::records::inspection::get(ctx.db(), ctx.caller(), id).await)
    }

    #[allow(clippy::too_many_arguments)]
    async fn inspections(
        ctx: &Context<'_>,
        filter: Option<InspectionFilterInput>,
        direction: OrderDirection,
        pages: PageArgs,
    ) -> Result<Conn<Inspection>> {
        let filter = filter.unwrap_or_default();
        let filter = InspectionFilter {
            unit_id: parse_opt_id("filter.unitId", filter.unit_id.as_ref())?,
            search: filter.search,
            include_archived: filter.include_archived,
        };
        let mut nested = Nested::of(ctx).await;
        let page = domain::records::inspection::list(
            ctx.db(),
            ctx.caller(),
            &filter,
            direction.descending(),
            &pages,
            nested.as_mut().map(Nested::lateral),
        )
        .await?;
        Ok(Conn::with(page, nested)?)
    }

    async fn status_summary(ctx: &Context<'_>) -> Result<StatusSummary> {
        Ok(StatusSummary::over(ctx, Over::Everything).await?)
    }
}

/// A new inspection. Dates must be in order: started ≤ ended ≤ feedback ≤ due.
#[derive(InputObject)]
pub struct CreateInspectionInput {
    /// Title (标题).
    pub title: String,
    /// The inspection group (巡察组), e.g. 市委第五巡察组.
    pub inspection_group: String,
    /// Code of the inspected unit.
    pub unit_code: String,
    /// First day on site.
    pub started_on: Date,
    /// Last day on site, if known.
    pub ended_on: Option<Date>,
    /// The day feedback (反馈意见) was given, if it has been.
    pub feedback_on: Option<Date>,
    /// Rectification due date (整改期限), if set.
    pub due_on: Option<Date>,
}

/// Changes to an inspection; dates stay in order.
#[derive(InputObject)]
pub struct UpdateInspectionInput {
    /// The inspection to change.
    pub id: ID,
    /// The version the inspection was read at; if the inspection has changed since, the update fails with CONFLICT.
    pub version: i32,
    /// New title (标题); omit to keep.
    pub title: Option<String>,
    /// New inspection group (巡察组); omit to keep.
    pub inspection_group: Option<String>,
    /// New first day on site; omit to keep.
    pub started_on: Option<Date>,
    /// Last day on site; omit to keep, null to clear.
    pub ended_on: MaybeUndefined<Date>,
    /// Feedback (反馈意见) date; omit to keep, null to clear.
    pub feedback_on: MaybeUndefined<Date>,
    /// Rectification due date (整改期限); omit to keep, null to clear.
    pub due_on: MaybeUndefined<Date>,
}

#[derive(Default)]
pub struct InspectionMutation;

impl catalogue::Root for InspectionMutation {
    const NAME: &'static str = "InspectionMutation";

    fn fields(f: &mut catalogue::Roots) {
        use catalogue::param;
        f.field(
            "createInspection",
            "Creates an inspection (inspectors and admins).",
            param::<CreateInspectionInput>("input"),
            |ctx, input| Box::pin(Self::create_inspection(ctx, input)),
        );
        f.field(
            "updateInspection",
            "Edits an inspection (inspectors and admins).",
            param::<UpdateInspectionInput>("input"),
            |ctx, input| Box::pin(Self::update_inspection(ctx, input)),
        );
        f.field(
            "archiveInspection",
            "Archives an inspection (inspectors and admins).",
            (param::<ID>("id"), param::<i32>("version")),
            |ctx, (id, version)| Box::pin(Self::archive_inspection(ctx, id, version)),
        );
        f.field(
            "createCategory",
            "Adds a feedback heading to an inspection (the unit's managers, admins).",
            (
                param::<ID>("inspectionId"),
                param::<String>("title"),
                param::<Option<i32>>("ordinal"),
            ),
            |ctx, (inspection_id, title, ordinal)| {
                Box::pin(Self::create_category(ctx, inspection_id, title, ordinal))
            },
        );
        f.field(
            "updateCategory",
            "Renames a feedback heading.",
            (
                param::<ID>("id"),
                param::<i32>("version"),
                param::<String>("title"),
            ),
            |ctx, (id, version, title)| Box::pin(Self::update_category(ctx, id, version, title)),
        );
        f.field(
            "archiveCategory",
            "Archives a feedback heading.",
            (param::<ID>("id"), param::<i32>("version")),
            |ctx, (id, version)| Box::pin(Self::archive_category(ctx, id, version)),
        );
    }
}

crate::root!(InspectionMutation);

impl InspectionMutation {
    async fn create_inspection(
        ctx: &Context<'_>,
        input: CreateInspectionInput,
    ) -> Result<Inspection> {
        let created = write(ctx, async |txn, who| {
            domain::records::inspection::create(
                txn,
                who,
                NewInspection {
                    title: input.title,
                    inspection_group: input.inspection_group,
                    unit_code: input.unit_code,
                    started_on: input.started_on.0,
                    ended_on: naive(input.ended_on),
                    feedback_on: naive(input.feedback_on),
                    due_on: naive(input.due_on),
                },
            )
            .await
        })
        .await?;
        Ok(created.into())
    }

    async fn update_inspection(
        ctx: &Context<'_>,
        input: UpdateInspectionInput,
    ) -> Result<Inspection> {
        let id = parse_id("id", &input.id)?;
        let changes = InspectionPatch {
            title: input.title,
            inspection_group: input.inspection_group,
            started_on: naive(input.started_on),
            ended_on: patch(input.ended_on),
            feedback_on: patch(input.feedback_on),
            due_on: patch(input.due_on),
        };
        let updated = write(ctx, async |txn, who| {
            domain::records::inspection::update(txn, who, id, input.version, changes).await
        })
        .await?;
        Ok(updated.into())
    }

    async fn archive_inspection(ctx: &Context<'_>, id: ID, version: i32) -> Result<Inspection> {
        let id = parse_id("id", &id)?;
        Ok(write(ctx, async |txn, who| {
            domain::records::change::archive::<entity::inspection::Entity>(txn, who, id, version)
                .await
        })
        .await?
        .into())
    }

    async fn create_category(
        ctx: &Context<'_>,
        inspection_id: ID,
        title: String,
        ordinal: Option<i32>,
    ) -> Result<Category> {
        let inspection_id = parse_id("inspectionId", &inspection_id)?;
        let created = write(ctx, async |txn, who| {
            domain::records::category::create(txn, who, inspection_id, ordinal, &title).await
        })
        .await?;
        Ok(created.into())
    }

    async fn update_category(
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        title: String,
    ) -> Result<Category> {
        let id = parse_id("id", &id)?;
        Ok(write(ctx, async |txn, who| {
            domain::records::category::update(txn, who, id, version, &title).await
        })
        .await?
        .into())
    }

    async fn archive_category(ctx: &Context<'_>, id: ID, version: i32) -> Result<Category> {
        let id = parse_id("id", &id)?;
        Ok(write(ctx, async |txn, who| {
            domain::records::change::archive::<entity::category::Entity>(txn, who, id, version)
                .await
        })
        .await?
        .into())
    }
}

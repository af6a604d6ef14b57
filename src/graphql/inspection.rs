//! Inspections (巡察), their feedback headings (方面) and status summaries.

use super::scalars::{Date, date, naive};
use async_graphql::{
    ComplexObject, Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject,
};
use entity::{category, inspection};

use super::connection::{Conn, OrderDirection, args, connection};
use super::department::{self, Department};
use super::finding::{Finding, FindingFilterInput, FindingOrderInput};
use super::loaders::CategoriesOfInspection;
use super::summary::StatusSummary;
use super::write;
use super::{ContextExt, parse_id, parse_opt_id, patch};
use crate::domain::finding_list::Parent;
use crate::domain::inspection::{InspectionFilter, InspectionPatch, NewInspection};
use crate::domain::summary::Over;
use crate::domain::{self};

/// An inspection of a unit by an inspection group (巡察).
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Inspection {
    /// Opaque identifier.
    pub id: ID,
    /// Title (标题).
    pub title: String,
    /// The inspection group (巡察组), e.g. 市委第五巡察组.
    pub inspection_group: String,
    /// First day on site.
    pub started_on: Date,
    /// Last day on site.
    pub ended_on: Option<Date>,
    /// The day feedback (反馈意见) was given.
    pub feedback_on: Option<Date>,
    /// Rectification due date (整改期限).
    pub due_on: Option<Date>,
    /// Whether the inspection is archived (left out of lists by default).
    pub archived: bool,
    /// Version for optimistic locking: pass it back with an update or archive; a stale version fails with CONFLICT.
    pub version: i32,
    #[graphql(skip)]
    pub row_id: i32,
    #[graphql(skip)]
    pub unit_id: i32,
    /// The stored bulletin prose, read only when asked for.
    #[graphql(skip)]
    pub publicity: Option<serde_json::Value>,
}

impl From<inspection::Model> for Inspection {
    fn from(i: inspection::Model) -> Self {
        Self {
            id: ID(i.id.to_string()),
            title: i.title,
            inspection_group: i.inspection_group,
            started_on: Date(i.started_on),
            ended_on: date(i.ended_on),
            feedback_on: date(i.feedback_on),
            due_on: date(i.due_on),
            archived: i.archived_at.is_some(),
            version: i.version,
            publicity: i.publicity,
            row_id: i.id,
            unit_id: i.unit_id,
        }
    }
}

#[ComplexObject]
impl Inspection {
    /// What the caller may do with this record now.
    async fn viewer_can(&self, ctx: &Context<'_>) -> Result<super::viewer::ViewerCan> {
        super::viewer::record(ctx, super::viewer::InspectionKey(super::row(&self.id))).await
    }

    /// The inspected unit (被巡察单位).
    async fn unit(&self, ctx: &Context<'_>) -> Result<Option<Department>> {
        department::load(ctx, self.unit_id).await
    }

    /// The feedback headings (方面), in order.
    #[graphql(complexity = "10 * child_complexity + 1")]
    async fn categories(&self, ctx: &Context<'_>) -> Result<Vec<Category>> {
        let categories = ctx
            .loader()
            .load_one(CategoriesOfInspection(self.row_id))
            .await?;
        Ok(categories
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// The inspection's findings the caller may read.
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
        super::finding::findings_under(
            ctx,
            Parent::Inspection,
            self.row_id,
            filter.unwrap_or_default(),
            order_by,
            args(first, after, last, before),
        )
        .await
    }

    /// The prose of its public bulletin (通报), as the unit entered it.
    async fn bulletin_content(&self) -> super::bulletin::BulletinContent {
        crate::domain::bulletin::parse(self.publicity.clone()).into()
    }

    /// The figures bulletin prose may name in braces ({问题数} ...).
    async fn bulletin_figures(&self) -> Vec<String> {
        super::bulletin::figure_names()
    }

    /// Progress in numbers over the findings the caller may read.
    async fn status_summary(&self, ctx: &Context<'_>) -> Result<StatusSummary> {
        Ok(StatusSummary::over(ctx, Over::Inspection(self.row_id)).await?)
    }

    /// The look-back re-check schedule (回头看), of findings the caller may read, by due date.
    #[graphql(complexity = "super::connection::page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn rechecks(
        &self,
        ctx: &Context<'_>,
        filter: Option<super::look_back::RecheckFilterInput>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<super::look_back::Recheck>> {
        let page = crate::domain::look_back::list(
            ctx.db(),
            ctx.caller(),
            self.row_id,
            filter.unwrap_or_default().into(),
            &args(first, after, last, before),
        )
        .await?;
        Ok(super::connection::connection(page, Into::into))
    }
}

/// A feedback heading (方面) that findings are grouped under.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Category {
    /// Opaque identifier.
    pub id: ID,
    /// Number within the inspection (一, 二, 三 as 1, 2, 3).
    pub ordinal: i32,
    /// Heading text (方面).
    pub title: String,
    /// Version for optimistic locking: pass it back with an update or archive; a stale version fails with CONFLICT.
    pub version: i32,
    #[graphql(skip)]
    pub inspection_id: i32,
}

impl From<category::Model> for Category {
    fn from(c: category::Model) -> Self {
        Self {
            id: ID(c.id.to_string()),
            ordinal: c.ordinal,
            title: c.title,
            version: c.version,
            inspection_id: c.inspection_id,
        }
    }
}

#[ComplexObject]
impl Category {
    /// What the caller may do with this record now.
    async fn viewer_can(&self, ctx: &Context<'_>) -> Result<super::viewer::ViewerCan> {
        super::viewer::record(ctx, super::viewer::CategoryKey(super::row(&self.id))).await
    }

    /// The inspection the heading belongs to.
    async fn inspection(&self, ctx: &Context<'_>) -> Result<Option<Inspection>> {
        Ok(ctx
            .loader()
            .load_one(super::loaders::InspectionById(self.inspection_id))
            .await?
            .map(Into::into))
    }

    /// The findings under this heading that the caller may read.
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
        super::finding::findings_under(
            ctx,
            Parent::Category,
            super::row(&self.id),
            filter.unwrap_or_default(),
            order_by,
            args(first, after, last, before),
        )
        .await
    }
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

#[Object]
impl InspectionQuery {
    /// An inspection within the caller's reach, or null.
    async fn inspection(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Inspection>> {
        let id = parse_id("id", &id)?;
        super::found(domain::inspection::get(ctx.db(), ctx.caller(), id).await)
    }

    /// The inspections within the caller's reach, by start date (newest last unless DESC).
    #[graphql(complexity = "super::connection::page_cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn inspections(
        &self,
        ctx: &Context<'_>,
        filter: Option<InspectionFilterInput>,
        #[graphql(default)] direction: OrderDirection,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Inspection>> {
        let filter = filter.unwrap_or_default();
        let filter = InspectionFilter {
            unit_id: parse_opt_id("filter.unitId", filter.unit_id.as_ref())?,
            search: filter.search,
            include_archived: filter.include_archived,
        };
        let page = domain::inspection::list(
            ctx.db(),
            ctx.caller(),
            &filter,
            direction.descending(),
            &args(first, after, last, before),
        )
        .await?;
        Ok(connection(page, Inspection::from))
    }

    /// Progress in numbers over every finding the caller may read.
    async fn status_summary(&self, ctx: &Context<'_>) -> Result<StatusSummary> {
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

#[Object]
impl InspectionMutation {
    /// Creates an inspection (inspectors and admins).
    async fn create_inspection(
        &self,
        ctx: &Context<'_>,
        input: CreateInspectionInput,
    ) -> Result<Inspection> {
        let created = write(ctx, async |txn, who| {
            domain::inspection::create(
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

    /// Edits an inspection (inspectors and admins).
    async fn update_inspection(
        &self,
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
            domain::inspection::update(txn, who, id, input.version, changes).await
        })
        .await?;
        Ok(updated.into())
    }

    /// Archives an inspection (inspectors and admins).
    async fn archive_inspection(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
    ) -> Result<Inspection> {
        let id = parse_id("id", &id)?;
        Ok(write(ctx, async |txn, who| {
            domain::change::archive::<entity::inspection::Entity>(txn, who, id, version).await
        })
        .await?
        .into())
    }

    /// Adds a feedback heading to an inspection (the unit's managers, admins).
    async fn create_category(
        &self,
        ctx: &Context<'_>,
        inspection_id: ID,
        title: String,
        ordinal: Option<i32>,
    ) -> Result<Category> {
        let inspection_id = parse_id("inspectionId", &inspection_id)?;
        let created = write(ctx, async |txn, who| {
            domain::category::create(txn, who, inspection_id, ordinal, &title).await
        })
        .await?;
        Ok(created.into())
    }

    /// Renames a feedback heading.
    async fn update_category(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: i32,
        title: String,
    ) -> Result<Category> {
        let id = parse_id("id", &id)?;
        Ok(write(ctx, async |txn, who| {
            domain::category::update(txn, who, id, version, &title).await
        })
        .await?
        .into())
    }

    /// Archives a feedback heading.
    async fn archive_category(&self, ctx: &Context<'_>, id: ID, version: i32) -> Result<Category> {
        let id = parse_id("id", &id)?;
        Ok(write(ctx, async |txn, who| {
            domain::change::archive::<entity::category::Entity>(txn, who, id, version).await
        })
        .await?
        .into())
    }
}

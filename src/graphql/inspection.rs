//! Inspections (巡察).

use async_graphql::{ComplexObject, Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::NaiveDate;
use entity::inspection;

use super::ContextExt;
use super::department::{self, Department};
use crate::domain::{self, inspection::NewInspection};

/// An inspection of a unit by an inspection group (巡察).
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Inspection {
    pub id: ID,
    /// Title (标题).
    pub title: String,
    /// The inspection group (巡察组), e.g. 市委第五巡察组.
    pub inspection_group: String,
    /// First day on site.
    pub started_on: NaiveDate,
    /// Last day on site.
    pub ended_on: Option<NaiveDate>,
    /// The day feedback (反馈意见) was given.
    pub feedback_on: Option<NaiveDate>,
    /// Rectification due date (整改期限).
    pub due_on: Option<NaiveDate>,
    pub version: i32,
    #[graphql(skip)]
    pub unit_id: i32,
}

impl From<inspection::Model> for Inspection {
    fn from(i: inspection::Model) -> Self {
        Self {
            id: ID(i.id.to_string()),
            title: i.title,
            inspection_group: i.inspection_group,
            started_on: i.started_on,
            ended_on: i.ended_on,
            feedback_on: i.feedback_on,
            due_on: i.due_on,
            version: i.version,
            unit_id: i.unit_id,
        }
    }
}

#[ComplexObject]
impl Inspection {
    /// The inspected unit (被巡察单位).
    async fn unit(&self, ctx: &Context<'_>) -> Result<Option<Department>> {
        department::load(ctx, self.unit_id).await
    }
}

/// A new inspection. Dates must be in order: started ≤ ended ≤ feedback ≤ due.
#[derive(InputObject)]
pub struct CreateInspectionInput {
    pub title: String,
    pub inspection_group: String,
    /// Code of the inspected unit.
    pub unit_code: String,
    pub started_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
    pub feedback_on: Option<NaiveDate>,
    pub due_on: Option<NaiveDate>,
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
        let created = domain::inspection::create(
            ctx.db(),
            ctx.caller(),
            ctx.request_id(),
            NewInspection {
                title: input.title,
                inspection_group: input.inspection_group,
                unit_code: input.unit_code,
                started_on: input.started_on,
                ended_on: input.ended_on,
                feedback_on: input.feedback_on,
                due_on: input.due_on,
            },
        )
        .await?;
        Ok(created.into())
    }
}

//! The look-back (回头看): scheduled re-checks and what a finding's relapses are.

use async_graphql::{ComplexObject, Context, ID, InputObject, Object, Result, SimpleObject};
use entity::recheck;

use super::finding::Finding;
use super::scalars::{Date, Time, naive, time};
use super::{parse_id, write};
use crate::domain::look_back::{self, NewRechecks};

/// A scheduled look-back re-check of a closed finding.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Recheck {
    /// Opaque identifier.
    pub id: ID,
    /// The day it is due by.
    pub due_on: Date,
    /// Who is to make it (a person or a section).
    pub assignee: String,
    /// Who scheduled it (token subject).
    pub scheduled_by: String,
    pub created_at: Time,
    /// When the re-check was recorded, if it was.
    pub done_at: Option<Time>,
    /// Whether it passed, once done.
    pub passed: Option<bool>,
    #[graphql(skip)]
    pub finding_id: i32,
}

impl From<recheck::Model> for Recheck {
    fn from(r: recheck::Model) -> Self {
        Self {
            id: ID(r.id.to_string()),
            due_on: Date(r.due_on),
            assignee: r.assignee,
            scheduled_by: r.scheduled_by,
            created_at: Time(r.created_at),
            done_at: time(r.done_at),
            passed: r.passed,
            finding_id: r.finding_id,
        }
    }
}

#[ComplexObject]
impl Recheck {
    /// The finding to re-check.
    async fn finding(&self, ctx: &Context<'_>) -> Result<Option<Finding>> {
        super::finding::load(ctx, self.finding_id).await
    }
}

/// Which scheduled re-checks to list.
#[derive(InputObject, Default, Clone, Copy)]
pub struct RecheckFilterInput {
    /// Only those not done yet (true) or only those done (false).
    pub open: Option<bool>,
    /// Only those due on or before this day.
    pub due_by: Option<Date>,
}

impl From<RecheckFilterInput> for look_back::RecheckFilter {
    fn from(f: RecheckFilterInput) -> Self {
        Self {
            open: f.open,
            due_by: naive(f.due_by),
        }
    }
}

/// Re-checks to schedule.
#[derive(InputObject)]
pub struct ScheduleRechecksInput {
    pub inspection_id: ID,
    /// These closed findings; none: every closed finding of the inspection within reach that
    /// has no re-check scheduled yet.
    #[graphql(default)]
    pub finding_ids: Vec<ID>,
    /// The day the re-checks are due by (today or later).
    pub due_on: Date,
    /// Who is to make them.
    pub assignee: String,
}

#[derive(Default)]
pub struct LookBackMutation;

#[Object]
impl LookBackMutation {
    /// Schedules look-back re-checks (回头看) of closed findings. Managers within their subtree,
    /// inspectors and admins.
    async fn schedule_rechecks(
        &self,
        ctx: &Context<'_>,
        input: ScheduleRechecksInput,
    ) -> Result<Vec<Recheck>> {
        let input = NewRechecks {
            inspection_id: parse_id("inspectionId", &input.inspection_id)?,
            finding_ids: input
                .finding_ids
                .iter()
                .map(|id| parse_id("findingIds", id))
                .collect::<crate::error::AppResult<_>>()?,
            due_on: input.due_on.0,
            assignee: input.assignee,
        };
        let created = write(ctx, async |txn, who| {
            look_back::schedule(txn, who, input).await
        })
        .await?;
        Ok(created.into_iter().map(Into::into).collect())
    }
}

//! The look-back (回头看): scheduled re-checks and what a finding's relapses are.

use async_graphql::{Context, ID, InputObject, Result};
use entity::recheck;

use super::catalogue::{self, Fields};
use super::loaders::FindingById;
use super::scalars::{Date, Time, naive, time};
use super::{parse_id, write};
use crate::domain::workflow::look_back::{self, NewRechecks};

/// A scheduled look-back re-check of a closed finding.
#[derive(Clone)]
pub struct Recheck(pub recheck::Model);

impl From<recheck::Model> for Recheck {
    fn from(r: recheck::Model) -> Self {
        Self(r)
    }
}

impl catalogue::Object for Recheck {
    const NAME: &'static str = "Recheck";
    const DOC: &'static str = "A scheduled look-back re-check of a closed finding.";

    fn fields(f: &mut Fields<Self>) {
        f.value("id", "Opaque identifier.", |r, _| super::id(r.0.id));
        f.value("dueOn", "The day it is due by.", |r, _| Date(r.0.due_on));
        f.value(
            "assignee",
            "Who is to make it (a person or a section).",
            |r, _| r.0.assignee.clone(),
        );
        f.value(
            "scheduledBy",
            "Who scheduled it (token subject).",
            |r, _| r.0.scheduled_by.clone(),
        );
        f.value("createdAt", "", |r, _| Time(r.0.created_at));
        f.value(
            "doneAt",
            "When the re-check was recorded, if it was.",
            |r, _| time(r.0.done_at),
        );
        f.value("passed", "Whether it passed, once done.", |r, _| r.0.passed);
        f.one("finding", "The finding to re-check.", |r, shown, _| {
            Some(FindingById(r.0.finding_id, super::finding::columns(shown)))
        });
    }
}

crate::object!(Recheck);

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

impl catalogue::Root for LookBackMutation {
    const NAME: &'static str = "LookBackMutation";

    fn fields(f: &mut catalogue::Roots) {
        use catalogue::param;
        f.field(
            "scheduleRechecks",
            "Schedules look-back re-checks (回头看) of closed findings. Managers within their subtree,\n\
            inspectors and admins.",
            param::<ScheduleRechecksInput>("input"),
            |ctx, input| Box::pin(Self::schedule_rechecks(ctx, input)),
        );
    }
}

crate::root!(LookBackMutation);

impl LookBackMutation {
    async fn schedule_rechecks(
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

//! 路线图: each finding's path from feedback to close-out: its measures as steps ordered by
//! deadline, each planned from the previous step's deadline (the feedback day for the first)
//! to its own, against what happened (done on a day, or still open today).

use chrono::NaiveDate;
use entity::enums::{FindingStatus, RectificationType};

use super::{Plan, finding_done, finding_done_on, level, measure_deadline, measure_done};
use crate::domain::workflow::warning::Level;

pub struct Roadmap {
    /// The first day drawn: the feedback day (or the first day on site).
    pub starts_on: NaiveDate,
    /// The last day drawn: the latest deadline, completion or due date, or today.
    pub ends_on: NaiveDate,
    pub today: NaiveDate,
    pub rows: Vec<Row>,
    pub truncated: bool,
}

/// One finding's road.
pub struct Row {
    pub finding_id: i32,
    pub ordinal: i32,
    pub title: String,
    pub rectification_type: RectificationType,
    pub status: FindingStatus,
    pub deadline: Option<NaiveDate>,
    pub closed_on: Option<NaiveDate>,
    pub warning: Level,
    pub steps: Vec<Step>,
    /// Stages (阶段目标) of a long-term finding, in order.
    pub stages: Vec<Milestone>,
}

/// A stage of a long-term finding: its target date against the day it was reached.
pub struct Milestone {
    pub stage_id: i32,
    pub ordinal: i32,
    pub content: String,
    pub target_on: NaiveDate,
    pub achieved_on: Option<NaiveDate>,
    pub warning: Level,
}

/// A measure as a step of the road.
pub struct Step {
    pub measure_id: i32,
    pub ordinal: i32,
    pub content: String,
    /// Planned: from the previous step's deadline (or the feedback day) ...
    pub planned_from: NaiveDate,
    /// ... to its own deadline (none: no deadline, drawn to the finding's end).
    pub planned_to: Option<NaiveDate>,
    /// Done on this day.
    pub done_on: Option<NaiveDate>,
    pub done: bool,
    pub warning: Level,
}

pub fn build(plan: &Plan) -> Roadmap {
    let today = plan.thresholds.today;
    let i = &plan.inspection;
    let start = i.feedback_on.unwrap_or(i.started_on);
    let by_finding = plan.measures_by_finding();
    let mut end = i.due_on.unwrap_or(today).max(today).max(start);
    let rows: Vec<Row> = plan
        .findings
        .iter()
        .map(|f| {
            let mut measures = by_finding.get(&f.id).cloned().unwrap_or_default();
            measures.sort_by_key(|m| {
                (
                    measure_deadline(m, Some(f)).unwrap_or(NaiveDate::MAX),
                    m.ordinal,
                )
            });
            let mut from = start;
            let steps = measures
                .into_iter()
                .map(|m| {
                    let deadline = measure_deadline(m, Some(f));
                    let done = measure_done(m);
                    let step = Step {
                        measure_id: m.id,
                        ordinal: m.ordinal,
                        content: m.content.clone(),
                        planned_from: from,
                        planned_to: deadline,
                        // A done measure of a closed finding without its own day was done
                        // by the close-out.
                        done_on: if done {
                            m.completed_on.or(finding_done_on(f))
                        } else {
                            None
                        },
                        done,
                        warning: level(&plan.thresholds, deadline, done),
                    };
                    if let Some(d) = deadline {
                        from = from.max(d);
                    }
                    step
                })
                .collect();
            let closed = finding_done(f);
            let stages = plan
                .stages
                .iter()
                .filter(|s| s.finding_id == f.id)
                .map(|s| Milestone {
                    stage_id: s.id,
                    ordinal: s.ordinal,
                    content: s.content.clone(),
                    target_on: s.target_on,
                    achieved_on: s.achieved_on,
                    warning: level(&plan.thresholds, Some(s.target_on), s.achieved_on.is_some()),
                })
                .collect();
            Row {
                finding_id: f.id,
                ordinal: f.ordinal,
                title: f.title.clone(),
                rectification_type: f.rectification_type,
                status: f.status,
                deadline: f.deadline,
                closed_on: finding_done_on(f),
                warning: level(&plan.thresholds, f.deadline, closed),
                steps,
                stages,
            }
        })
        .collect();
    for r in &rows {
        for d in r
            .deadline
            .iter()
            .chain(r.closed_on.iter())
            .chain(r.steps.iter().filter_map(|s| s.planned_to.as_ref()))
            .chain(r.steps.iter().filter_map(|s| s.done_on.as_ref()))
            .chain(r.stages.iter().map(|s| &s.target_on))
            .chain(r.stages.iter().filter_map(|s| s.achieved_on.as_ref()))
        {
            end = end.max(*d);
        }
    }
    Roadmap {
        starts_on: start,
        ends_on: end,
        today,
        rows,
        truncated: plan.truncated,
    }
}

//! The three lists, the timetable and the road map of an inspection (问题清单、任务清单、责任清单、
//! 时间表、路线图) as value objects: computed per request from `domain::reads::lists`, not
//! records (they have no id of their own and are not looked up alone).

use async_graphql::{Context, ID, InputObject, SimpleObject};

use super::enums::{FindingStatus, MeasureStatus, RectificationType};
use super::scalars::{Date, date};
use super::warning::WarningLevel;
use super::{ContextExt, id, parse_opt_id};
use crate::domain::reads::lists::{Plan, problems, responsibilities, roadmap, tasks, timetable};
use crate::error::AppResult;

/// The plan of inspection `inspection_id` as the caller may read it.
pub async fn plan(ctx: &Context<'_>, inspection_id: i32) -> AppResult<Plan> {
    Plan::load(ctx.db(), ctx.caller(), inspection_id, ctx.thresholds()).await
}

/// 问题清单: the findings of an inspection the caller may read, under the feedback's headings.
#[derive(SimpleObject)]
pub struct ProblemList {
    /// The headings in order; findings under none (held back from the bulletin) last, as 其他问题.
    pub groups: Vec<ProblemGroup>,
    /// The inspection has more findings than a list shows (5,000): the first ones are listed.
    pub truncated: bool,
}

/// Findings under one feedback heading (方面).
#[derive(SimpleObject)]
pub struct ProblemGroup {
    /// The heading's number (一、二、三 as 1, 2, 3); null for findings under no heading.
    pub ordinal: Option<i32>,
    /// The heading's text.
    pub heading: String,
    pub problems: Vec<Problem>,
}

/// A finding as the problem list shows it.
#[derive(SimpleObject)]
pub struct Problem {
    pub finding_id: ID,
    /// Number within the inspection (序号).
    pub ordinal: i32,
    pub title: String,
    pub description: String,
    pub rectification_type: RectificationType,
    pub deadline: Option<Date>,
    /// Responsible leader (责任领导), as written, trimmed.
    pub responsible_leader: Option<String>,
    pub department_id: ID,
    /// Responsible department (责任科室).
    pub department: String,
    /// Responsible person (责任人), as written, trimmed.
    pub responsible_person: Option<String>,
    pub status: FindingStatus,
    /// Published in the bulletin (false: counted but held back).
    pub disclosed: bool,
    pub measures: i64,
    pub measures_done: i64,
    /// Share of measures done, in whole percent (100 once closed out).
    pub progress: i32,
    pub overdue: bool,
    pub warning_level: WarningLevel,
}

impl From<problems::ProblemList> for ProblemList {
    fn from(l: problems::ProblemList) -> Self {
        Self {
            truncated: l.truncated,
            groups: l
                .groups
                .into_iter()
                .map(|g| ProblemGroup {
                    ordinal: g.ordinal,
                    heading: g.heading,
                    problems: g
                        .problems
                        .into_iter()
                        .map(|p| Problem {
                            finding_id: id(p.finding_id),
                            ordinal: p.ordinal,
                            title: p.title,
                            description: p.description,
                            rectification_type: p.rectification_type.into(),
                            deadline: date(p.deadline),
                            responsible_leader: p.responsible_leader,
                            department_id: id(p.department_id),
                            department: p.department,
                            responsible_person: p.responsible_person,
                            status: p.status.into(),
                            disclosed: p.disclosed,
                            measures: p.measures,
                            measures_done: p.measures_done,
                            progress: p.progress,
                            overdue: p.overdue,
                            warning_level: p.warning.into(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// Which tasks to list.
#[derive(InputObject, Default)]
pub struct TaskFilterInput {
    /// Tasks of this department or any below it (the measure's own, else its finding's).
    pub department_id: Option<ID>,
    /// Tasks of this responsible person, as written (surrounding spaces ignored).
    pub person: Option<String>,
    /// Any of these statuses.
    pub status: Option<Vec<MeasureStatus>>,
    /// Due on or after this day.
    pub due_from: Option<Date>,
    /// Due on or before this day.
    pub due_to: Option<Date>,
}

impl TaskFilterInput {
    pub fn into_domain(self) -> AppResult<tasks::TaskFilter> {
        tasks::TaskFilter {
            department_id: parse_opt_id("filter.departmentId", self.department_id.as_ref())?,
            person: self.person,
            status: self
                .status
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            due_from: self.due_from.map(|d| d.0),
            due_to: self.due_to.map(|d| d.0),
        }
        .checked()
    }
}

/// 任务清单: each measure as a task.
#[derive(SimpleObject)]
pub struct TaskList {
    pub tasks: Vec<Task>,
    /// The inspection has more findings or measures than a list shows: the first ones are listed.
    pub truncated: bool,
}

/// A measure as a task: what, who, by when, done when.
#[derive(SimpleObject)]
pub struct Task {
    pub measure_id: ID,
    pub finding_id: ID,
    /// The finding's number (序号).
    pub finding_ordinal: i32,
    pub finding_title: String,
    /// The measure's number within its finding (一是、二是 as 1, 2).
    pub ordinal: i32,
    pub content: String,
    pub department_id: ID,
    /// Its department: its own, else its finding's.
    pub department: String,
    /// Its responsible person: its own, else its finding's.
    pub responsible_person: Option<String>,
    /// Its deadline: its own, else its finding's.
    pub deadline: Option<Date>,
    pub completed_on: Option<Date>,
    pub status: MeasureStatus,
    /// Evidence items recorded against it.
    pub evidence_count: i64,
    pub overdue: bool,
    pub warning_level: WarningLevel,
}

impl From<tasks::TaskList> for TaskList {
    fn from(l: tasks::TaskList) -> Self {
        Self {
            truncated: l.truncated,
            tasks: l
                .tasks
                .into_iter()
                .map(|t| Task {
                    measure_id: id(t.measure_id),
                    finding_id: id(t.finding_id),
                    finding_ordinal: t.finding_ordinal,
                    finding_title: t.finding_title,
                    ordinal: t.ordinal,
                    content: t.content,
                    department_id: id(t.department_id),
                    department: t.department,
                    responsible_person: t.responsible_person,
                    deadline: date(t.deadline),
                    completed_on: date(t.completed_on),
                    status: t.status.into(),
                    evidence_count: t.evidence,
                    overdue: t.overdue,
                    warning_level: t.warning.into(),
                })
                .collect(),
        }
    }
}

/// 责任清单: what each responsible leader, department and person answers for.
#[derive(SimpleObject)]
pub struct ResponsibilityList {
    /// 责任领导.
    pub leaders: Vec<Responsibility>,
    /// 责任科室.
    pub departments: Vec<Responsibility>,
    /// 责任人.
    pub people: Vec<Responsibility>,
    pub truncated: bool,
}

/// What one leader, department or person answers for.
#[derive(SimpleObject)]
pub struct Responsibility {
    /// The name as written on the records (trimmed); a department's name.
    pub name: String,
    /// The department, for department rows.
    pub department_id: Option<ID>,
    pub findings: i64,
    pub findings_closed: i64,
    pub findings_overdue: i64,
    pub measures: i64,
    pub measures_done: i64,
    pub measures_overdue: i64,
    /// The highest warning level of their open work.
    pub warning_level: WarningLevel,
    /// The numbers (序号) of the findings they answer for.
    pub finding_ordinals: Vec<i32>,
}

impl From<responsibilities::ResponsibilityList> for ResponsibilityList {
    fn from(l: responsibilities::ResponsibilityList) -> Self {
        let rows = |rows: Vec<responsibilities::Responsibility>| {
            rows.into_iter()
                .map(|r| Responsibility {
                    name: r.name,
                    department_id: r.department_id.map(id),
                    findings: r.findings,
                    findings_closed: r.findings_closed,
                    findings_overdue: r.findings_overdue,
                    measures: r.measures,
                    measures_done: r.measures_done,
                    measures_overdue: r.measures_overdue,
                    warning_level: r
                        .warning
                        .unwrap_or(crate::domain::workflow::warning::Level::None)
                        .into(),
                    finding_ordinals: r.finding_ordinals,
                })
                .collect()
        };
        Self {
            leaders: rows(l.leaders),
            departments: rows(l.departments),
            people: rows(l.people),
            truncated: l.truncated,
        }
    }
}

/// 时间表: the half-month reporting periods and what falls due in each.
#[derive(SimpleObject)]
pub struct Timetable {
    pub periods: Vec<TimetablePeriod>,
    pub truncated: bool,
}

/// A half-month period, ending on a reporting day (每月15日、月末).
#[derive(SimpleObject)]
pub struct TimetablePeriod {
    pub starts_on: Date,
    /// The reporting day that ends it.
    pub ends_on: Date,
    pub findings: DueTally,
    pub measures: DueTally,
}

/// What fell due in a period and how it stands.
#[derive(SimpleObject)]
pub struct DueTally {
    /// Falling due in the period.
    pub due: i64,
    /// Done by the deadline.
    pub on_time: i64,
    /// Done after the deadline.
    pub late: i64,
    /// Open, the deadline passed.
    pub overdue: i64,
    /// Open, the deadline still ahead.
    pub open: i64,
}

impl From<timetable::Tally> for DueTally {
    fn from(t: timetable::Tally) -> Self {
        Self {
            due: t.due,
            on_time: t.on_time,
            late: t.late,
            overdue: t.overdue,
            open: t.open,
        }
    }
}

impl From<timetable::Timetable> for Timetable {
    fn from(t: timetable::Timetable) -> Self {
        Self {
            truncated: t.truncated,
            periods: t
                .periods
                .into_iter()
                .map(|p| TimetablePeriod {
                    starts_on: Date(p.starts_on),
                    ends_on: Date(p.ends_on),
                    findings: p.findings.into(),
                    measures: p.measures.into(),
                })
                .collect(),
        }
    }
}

/// 路线图: each finding's road from feedback to close-out.
#[derive(SimpleObject)]
pub struct Roadmap {
    pub starts_on: Date,
    pub ends_on: Date,
    pub today: Date,
    pub rows: Vec<RoadmapRow>,
    pub truncated: bool,
    /// The road map drawn as SVG (what `/api/v1/inspections/{id}/roadmap.svg` serves).
    pub svg: String,
}

/// One finding's road.
#[derive(SimpleObject)]
pub struct RoadmapRow {
    pub finding_id: ID,
    pub ordinal: i32,
    pub title: String,
    pub rectification_type: RectificationType,
    pub status: FindingStatus,
    pub deadline: Option<Date>,
    pub closed_on: Option<Date>,
    pub warning_level: WarningLevel,
    pub steps: Vec<RoadmapStep>,
    /// Stages (阶段目标) of a long-term finding.
    pub stages: Vec<RoadmapStage>,
}

/// A stage on the road: its target date against the day it was reached.
#[derive(SimpleObject)]
pub struct RoadmapStage {
    pub stage_id: ID,
    pub ordinal: i32,
    pub content: String,
    pub target_on: Date,
    pub achieved_on: Option<Date>,
    pub warning_level: WarningLevel,
}

/// A measure as a step of the road: planned against done.
#[derive(SimpleObject)]
pub struct RoadmapStep {
    pub measure_id: ID,
    pub ordinal: i32,
    pub content: String,
    pub planned_from: Date,
    pub planned_to: Option<Date>,
    pub done_on: Option<Date>,
    pub done: bool,
    pub warning_level: WarningLevel,
}

impl Roadmap {
    pub fn of(r: roadmap::Roadmap, title: &str) -> Self {
        let svg = crate::report::roadmap::svg(&r, title);
        Self {
            starts_on: Date(r.starts_on),
            ends_on: Date(r.ends_on),
            today: Date(r.today),
            truncated: r.truncated,
            svg,
            rows: r
                .rows
                .into_iter()
                .map(|row| RoadmapRow {
                    finding_id: id(row.finding_id),
                    ordinal: row.ordinal,
                    title: row.title,
                    rectification_type: row.rectification_type.into(),
                    status: row.status.into(),
                    deadline: date(row.deadline),
                    closed_on: date(row.closed_on),
                    warning_level: row.warning.into(),
                    steps: row
                        .steps
                        .into_iter()
                        .map(|s| RoadmapStep {
                            measure_id: id(s.measure_id),
                            ordinal: s.ordinal,
                            content: s.content,
                            planned_from: Date(s.planned_from),
                            planned_to: date(s.planned_to),
                            done_on: date(s.done_on),
                            done: s.done,
                            warning_level: s.warning.into(),
                        })
                        .collect(),
                    stages: row
                        .stages
                        .into_iter()
                        .map(|s| RoadmapStage {
                            stage_id: id(s.stage_id),
                            ordinal: s.ordinal,
                            content: s.content,
                            target_on: Date(s.target_on),
                            achieved_on: date(s.achieved_on),
                            warning_level: s.warning.into(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

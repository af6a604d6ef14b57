//! The three lists, the timetable and the road map of an inspection (问题清单、任务清单、责任清单、
//! 时间表、路线图) as value objects: computed per request from `domain::reads::lists`, not
//! records (they have no id of their own and are not looked up alone).

use async_graphql::{Context, ID, InputObject};

use super::catalogue::{self, Fields};

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
pub struct ProblemList {
    /// The headings in order; findings under none (held back from the bulletin) last, as 其他问题.
    pub groups: Vec<ProblemGroup>,
    /// The inspection has more findings than a list shows (5,000): the first ones are listed.
    pub truncated: bool,
}

impl catalogue::Object for ProblemList {
    const NAME: &'static str = "ProblemList";
    const DOC: &'static str = "问题清单: the findings of an inspection the caller may read, under the feedback's headings.";

    fn fields(f: &mut Fields<Self>) {
        f.nested("groups", "The headings in order; findings under none (held back from the bulletin) last, as 其他问题.", |r| &r.groups);
        f.value("truncated", "The inspection has more findings than a list shows (5,000): the first ones are listed.", |r, _| r.truncated);
    }
}

crate::object!(ProblemList);

/// Findings under one feedback heading (方面).
pub struct ProblemGroup {
    /// The heading's number (一、二、三 as 1, 2, 3); null for findings under no heading.
    pub ordinal: Option<i32>,
    /// The heading's text.
    pub heading: String,
    pub problems: Vec<Problem>,
}

impl catalogue::Object for ProblemGroup {
    const NAME: &'static str = "ProblemGroup";
    const DOC: &'static str = "Findings under one feedback heading (方面).";

    fn fields(f: &mut Fields<Self>) {
        f.value(
            "ordinal",
            "The heading's number (一、二、三 as 1, 2, 3); null for findings under no heading.",
            |r, _| r.ordinal,
        );
        f.value("heading", "The heading's text.", |r, _| r.heading.clone());
        f.nested("problems", "", |r| &r.problems);
    }
}

crate::object!(ProblemGroup);

/// A finding as the problem list shows it.
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

impl catalogue::Object for Problem {
    const NAME: &'static str = "Problem";
    const DOC: &'static str = "A finding as the problem list shows it.";

    fn fields(f: &mut Fields<Self>) {
        f.value("findingId", "", |r, _| r.finding_id.clone());
        f.value(
            "ordinal",
            "Number within the inspection (序号).",
            |r, _| r.ordinal,
        );
        f.value("title", "", |r, _| r.title.clone());
        f.value("description", "", |r, _| r.description.clone());
        f.value("rectificationType", "", |r, _| r.rectification_type);
        f.value("deadline", "", |r, _| r.deadline);
        f.value(
            "responsibleLeader",
            "Responsible leader (责任领导), as written, trimmed.",
            |r, _| r.responsible_leader.clone(),
        );
        f.value("departmentId", "", |r, _| r.department_id.clone());
        f.value(
            "department",
            "Responsible department (责任科室).",
            |r, _| r.department.clone(),
        );
        f.value(
            "responsiblePerson",
            "Responsible person (责任人), as written, trimmed.",
            |r, _| r.responsible_person.clone(),
        );
        f.value("status", "", |r, _| r.status);
        f.value(
            "disclosed",
            "Published in the bulletin (false: counted but held back).",
            |r, _| r.disclosed,
        );
        f.value("measures", "", |r, _| r.measures);
        f.value("measuresDone", "", |r, _| r.measures_done);
        f.value(
            "progress",
            "Share of measures done, in whole percent (100 once closed out).",
            |r, _| r.progress,
        );
        f.value("overdue", "", |r, _| r.overdue);
        f.value("warningLevel", "", |r, _| r.warning_level);
    }
}

crate::object!(Problem);

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
            status: super::converted(self.status),
            due_from: self.due_from.map(|d| d.0),
            due_to: self.due_to.map(|d| d.0),
        }
        .checked()
    }
}

/// 任务清单: each measure as a task.
pub struct TaskList {
    pub tasks: Vec<Task>,
    /// The inspection has more findings or measures than a list shows: the first ones are listed.
    pub truncated: bool,
}

impl catalogue::Object for TaskList {
    const NAME: &'static str = "TaskList";
    const DOC: &'static str = "任务清单: each measure as a task.";

    fn fields(f: &mut Fields<Self>) {
        f.nested("tasks", "", |r| &r.tasks);
        f.value("truncated", "The inspection has more findings or measures than a list shows: the first ones are listed.", |r, _| r.truncated);
    }
}

crate::object!(TaskList);

/// A measure as a task: what, who, by when, done when.
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

impl catalogue::Object for Task {
    const NAME: &'static str = "Task";
    const DOC: &'static str = "A measure as a task: what, who, by when, done when.";

    fn fields(f: &mut Fields<Self>) {
        f.value("measureId", "", |r, _| r.measure_id.clone());
        f.value("findingId", "", |r, _| r.finding_id.clone());
        f.value(
            "findingOrdinal",
            "The finding's number (序号).",
            |r, _| r.finding_ordinal,
        );
        f.value("findingTitle", "", |r, _| r.finding_title.clone());
        f.value(
            "ordinal",
            "The measure's number within its finding (一是、二是 as 1, 2).",
            |r, _| r.ordinal,
        );
        f.value("content", "", |r, _| r.content.clone());
        f.value("departmentId", "", |r, _| r.department_id.clone());
        f.value(
            "department",
            "Its department: its own, else its finding's.",
            |r, _| r.department.clone(),
        );
        f.value(
            "responsiblePerson",
            "Its responsible person: its own, else its finding's.",
            |r, _| r.responsible_person.clone(),
        );
        f.value(
            "deadline",
            "Its deadline: its own, else its finding's.",
            |r, _| r.deadline,
        );
        f.value("completedOn", "", |r, _| r.completed_on);
        f.value("status", "", |r, _| r.status);
        f.value(
            "evidenceCount",
            "Evidence items recorded against it.",
            |r, _| r.evidence_count,
        );
        f.value("overdue", "", |r, _| r.overdue);
        f.value("warningLevel", "", |r, _| r.warning_level);
    }
}

crate::object!(Task);

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
pub struct ResponsibilityList {
    /// 责任领导.
    pub leaders: Vec<Responsibility>,
    /// 责任科室.
    pub departments: Vec<Responsibility>,
    /// 责任人.
    pub people: Vec<Responsibility>,
    pub truncated: bool,
}

impl catalogue::Object for ResponsibilityList {
    const NAME: &'static str = "ResponsibilityList";
    const DOC: &'static str =
        "责任清单: what each responsible leader, department and person answers for.";

    fn fields(f: &mut Fields<Self>) {
        f.nested("leaders", "责任领导.", |r| &r.leaders);
        f.nested("departments", "责任科室.", |r| &r.departments);
        f.nested("people", "责任人.", |r| &r.people);
        f.value("truncated", "", |r, _| r.truncated);
    }
}

crate::object!(ResponsibilityList);

/// What one leader, department or person answers for.
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

impl catalogue::Object for Responsibility {
    const NAME: &'static str = "Responsibility";
    const DOC: &'static str = "What one leader, department or person answers for.";

    fn fields(f: &mut Fields<Self>) {
        f.value(
            "name",
            "The name as written on the records (trimmed); a department's name.",
            |r, _| r.name.clone(),
        );
        f.value(
            "departmentId",
            "The department, for department rows.",
            |r, _| r.department_id.clone(),
        );
        f.value("findings", "", |r, _| r.findings);
        f.value("findingsClosed", "", |r, _| r.findings_closed);
        f.value("findingsOverdue", "", |r, _| r.findings_overdue);
        f.value("measures", "", |r, _| r.measures);
        f.value("measuresDone", "", |r, _| r.measures_done);
        f.value("measuresOverdue", "", |r, _| r.measures_overdue);
        f.value(
            "warningLevel",
            "The highest warning level of their open work.",
            |r, _| r.warning_level,
        );
        f.value(
            "findingOrdinals",
            "The numbers (序号) of the findings they answer for.",
            |r, _| r.finding_ordinals.clone(),
        );
    }
}

crate::object!(Responsibility);

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
pub struct Timetable {
    pub periods: Vec<TimetablePeriod>,
    pub truncated: bool,
}

impl catalogue::Object for Timetable {
    const NAME: &'static str = "Timetable";
    const DOC: &'static str =
        "时间表: the half-month reporting periods and what falls due in each.";

    fn fields(f: &mut Fields<Self>) {
        f.nested("periods", "", |r| &r.periods);
        f.value("truncated", "", |r, _| r.truncated);
    }
}

crate::object!(Timetable);

/// A half-month period, ending on a reporting day (每月15日、月末).
pub struct TimetablePeriod {
    pub starts_on: Date,
    /// The reporting day that ends it.
    pub ends_on: Date,
    pub findings: DueTally,
    pub measures: DueTally,
}

impl catalogue::Object for TimetablePeriod {
    const NAME: &'static str = "TimetablePeriod";
    const DOC: &'static str = "A half-month period, ending on a reporting day (每月15日、月末).";

    fn fields(f: &mut Fields<Self>) {
        f.value("startsOn", "", |r, _| r.starts_on);
        f.value("endsOn", "The reporting day that ends it.", |r, _| {
            r.ends_on
        });
        f.nested("findings", "", |r| &r.findings);
        f.nested("measures", "", |r| &r.measures);
    }
}

crate::object!(TimetablePeriod);

/// What fell due in a period and how it stands.
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

impl catalogue::Object for DueTally {
    const NAME: &'static str = "DueTally";
    const DOC: &'static str = "What fell due in a period and how it stands.";

    fn fields(f: &mut Fields<Self>) {
        f.value("due", "Falling due in the period.", |r, _| r.due);
        f.value("onTime", "Done by the deadline.", |r, _| r.on_time);
        f.value("late", "Done after the deadline.", |r, _| r.late);
        f.value("overdue", "Open, the deadline passed.", |r, _| r.overdue);
        f.value("open", "Open, the deadline still ahead.", |r, _| r.open);
    }
}

crate::object!(DueTally);

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
pub struct Roadmap {
    pub starts_on: Date,
    pub ends_on: Date,
    pub today: Date,
    pub rows: Vec<RoadmapRow>,
    pub truncated: bool,
    /// The road map drawn as SVG (what `/api/v1/inspections/{id}/roadmap.svg` serves).
    pub svg: String,
}

impl catalogue::Object for Roadmap {
    const NAME: &'static str = "Roadmap";
    const DOC: &'static str = "路线图: each finding's road from feedback to close-out.";

    fn fields(f: &mut Fields<Self>) {
        f.value("startsOn", "", |r, _| r.starts_on);
        f.value("endsOn", "", |r, _| r.ends_on);
        f.value("today", "", |r, _| r.today);
        f.nested("rows", "", |r| &r.rows);
        f.value("truncated", "", |r, _| r.truncated);
        f.value(
            "svg",
            "The road map drawn as SVG (what `/api/v1/inspections/{id}/roadmap.svg` serves).",
            |r, _| r.svg.clone(),
        );
    }
}

crate::object!(Roadmap);

/// One finding's road.
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

impl catalogue::Object for RoadmapRow {
    const NAME: &'static str = "RoadmapRow";
    const DOC: &'static str = "One finding's road.";

    fn fields(f: &mut Fields<Self>) {
        f.value("findingId", "", |r, _| r.finding_id.clone());
        f.value("ordinal", "", |r, _| r.ordinal);
        f.value("title", "", |r, _| r.title.clone());
        f.value("rectificationType", "", |r, _| r.rectification_type);
        f.value("status", "", |r, _| r.status);
        f.value("deadline", "", |r, _| r.deadline);
        f.value("closedOn", "", |r, _| r.closed_on);
        f.value("warningLevel", "", |r, _| r.warning_level);
        f.nested("steps", "", |r| &r.steps);
        f.nested(
            "stages",
            "Stages (阶段目标) of a long-term finding.",
            |r| &r.stages,
        );
    }
}

crate::object!(RoadmapRow);

/// A stage on the road: its target date against the day it was reached.
pub struct RoadmapStage {
    pub stage_id: ID,
    pub ordinal: i32,
    pub content: String,
    pub target_on: Date,
    pub achieved_on: Option<Date>,
    pub warning_level: WarningLevel,
}

impl catalogue::Object for RoadmapStage {
    const NAME: &'static str = "RoadmapStage";
    const DOC: &'static str =
        "A stage on the road: its target date against the day it was reached.";

    fn fields(f: &mut Fields<Self>) {
        f.value("stageId", "", |r, _| r.stage_id.clone());
        f.value("ordinal", "", |r, _| r.ordinal);
        f.value("content", "", |r, _| r.content.clone());
        f.value("targetOn", "", |r, _| r.target_on);
        f.value("achievedOn", "", |r, _| r.achieved_on);
        f.value("warningLevel", "", |r, _| r.warning_level);
    }
}

crate::object!(RoadmapStage);

/// A measure as a step of the road: planned against done.
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

impl catalogue::Object for RoadmapStep {
    const NAME: &'static str = "RoadmapStep";
    const DOC: &'static str = "A measure as a step of the road: planned against done.";

    fn fields(f: &mut Fields<Self>) {
        f.value("measureId", "", |r, _| r.measure_id.clone());
        f.value("ordinal", "", |r, _| r.ordinal);
        f.value("content", "", |r, _| r.content.clone());
        f.value("plannedFrom", "", |r, _| r.planned_from);
        f.value("plannedTo", "", |r, _| r.planned_to);
        f.value("doneOn", "", |r, _| r.done_on);
        f.value("done", "", |r, _| r.done);
        f.value("warningLevel", "", |r, _| r.warning_level);
    }
}

crate::object!(RoadmapStep);

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

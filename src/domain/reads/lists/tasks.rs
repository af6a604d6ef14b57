//! 任务清单: each measure as a task (what, who, by when, done when, status, evidence, warning),
//! filtered by department (its subtree), person (as written, trimmed), status and due period.

use chrono::NaiveDate;
use entity::enums::MeasureStatus;

use super::{Plan, level, measure_deadline, measure_done, name, overdue};
use crate::domain::workflow::warning::Level;
use crate::error::{AppError, AppResult};

#[derive(Debug, Default, Clone)]
pub struct TaskFilter {
    /// Tasks of this department or below (the measure's own department, else its finding's).
    pub department_id: Option<i32>,
    /// Tasks of this person, as written (the measure's, else its finding's responsible person).
    pub person: Option<String>,
    /// Any of these statuses.
    pub status: Vec<MeasureStatus>,
    /// Due on or after this day.
    pub due_from: Option<NaiveDate>,
    /// Due on or before this day.
    pub due_to: Option<NaiveDate>,
}

impl TaskFilter {
    /// Checks the filter: a due period that ends before it starts is refused.
    pub fn checked(mut self) -> AppResult<Self> {
        if let Some(department) = self.department_id
            && department < 1
        {
            return Err(AppError::bad_input(
                "departmentId",
                t!("path-id-invalid", value = department.to_string()),
            ));
        }
        if let (Some(from), Some(to)) = (self.due_from, self.due_to)
            && to < from
        {
            return Err(AppError::bad_input(
                "filter.dueTo",
                t!(
                    "list-due-period",
                    from = from.to_string(),
                    to = to.to_string()
                ),
            ));
        }
        self.person = name(self.person.as_deref());
        Ok(self)
    }
}

pub struct TaskList {
    pub tasks: Vec<Task>,
    pub truncated: bool,
}

pub struct Task {
    pub measure_id: i32,
    pub finding_id: i32,
    pub finding_ordinal: i32,
    pub finding_title: String,
    pub ordinal: i32,
    pub content: String,
    pub department_id: i32,
    pub department: String,
    pub responsible_person: Option<String>,
    pub deadline: Option<NaiveDate>,
    pub completed_on: Option<NaiveDate>,
    pub status: MeasureStatus,
    pub evidence: i64,
    pub overdue: bool,
    pub warning: Level,
}

/// The task list of `plan`; `within` is the path of the filter's department (see [`path_of`]).
pub fn build(plan: &Plan, filter: &TaskFilter, within: Option<&str>) -> TaskList {
    let findings = plan.findings_by_id();
    let today = plan.thresholds.today;
    let tasks = plan
        .measures
        .iter()
        .filter_map(|m| {
            let f = findings.get(&m.finding_id).copied()?;
            let department_id = m.department_id.unwrap_or(f.department_id);
            let person = name(m.responsible_person.as_deref())
                .or_else(|| name(f.responsible_person.as_deref()));
            let deadline = measure_deadline(m, Some(f));
            let done = measure_done(m);
            Some(Task {
                measure_id: m.id,
                finding_id: f.id,
                finding_ordinal: f.ordinal,
                finding_title: f.title.clone(),
                ordinal: m.ordinal,
                content: m.content.clone(),
                department_id,
                department: plan.department_name(department_id).to_owned(),
                responsible_person: person,
                deadline,
                completed_on: m.completed_on,
                status: m.status,
                evidence: plan.evidence.get(&m.id).copied().unwrap_or(0),
                overdue: overdue(deadline, done, today),
                warning: level(&plan.thresholds, deadline, done),
            })
        })
        .filter(|t| {
            within.is_none_or(|prefix| {
                plan.departments
                    .get(&t.department_id)
                    .is_some_and(|d| d.path.starts_with(prefix))
            })
        })
        .filter(|t| {
            filter
                .person
                .as_ref()
                .is_none_or(|p| t.responsible_person.as_ref() == Some(p))
        })
        .filter(|t| filter.status.is_empty() || filter.status.contains(&t.status))
        .filter(|t| {
            filter
                .due_from
                .is_none_or(|from| t.deadline.is_some_and(|d| d >= from))
        })
        .filter(|t| {
            filter
                .due_to
                .is_none_or(|to| t.deadline.is_some_and(|d| d <= to))
        })
        .collect();
    TaskList {
        tasks,
        truncated: plan.truncated,
    }
}

/// The path of the filter's department, or `NOT_FOUND` for a department that does not exist.
pub async fn path_of(
    db: &impl sea_orm::ConnectionTrait,
    filter: &TaskFilter,
) -> AppResult<Option<String>> {
    use sea_orm::EntityTrait;
    let Some(id) = filter.department_id else {
        return Ok(None);
    };
    entity::department::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|d| Some(d.path))
        .ok_or_else(|| AppError::not_found("department", id))
}

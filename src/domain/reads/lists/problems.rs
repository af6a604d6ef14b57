//! 问题清单: every finding of an inspection the caller may read, under the feedback's headings
//! in their order; findings under no heading (the demo's fourteen held back from the bulletin)
//! come last, as one group.

use chrono::NaiveDate;
use entity::enums::{FindingStatus, RectificationType};

use super::{Plan, finding_done, level, measure_done, name, overdue};
use crate::domain::workflow::warning::Level;

pub struct ProblemList {
    pub groups: Vec<ProblemGroup>,
    pub truncated: bool,
}

/// Findings under one heading.
pub struct ProblemGroup {
    /// The heading's number (一、二、三 as 1, 2, 3); none for findings under no heading.
    pub ordinal: Option<i32>,
    /// The heading's text, or 其他问题 for findings under none.
    pub heading: String,
    pub problems: Vec<Problem>,
}

pub struct Problem {
    pub finding_id: i32,
    pub ordinal: i32,
    pub title: String,
    pub description: String,
    pub rectification_type: RectificationType,
    pub deadline: Option<NaiveDate>,
    pub responsible_leader: Option<String>,
    pub department_id: i32,
    pub department: String,
    pub responsible_person: Option<String>,
    pub status: FindingStatus,
    /// Published in the bulletin (false: counted but held back).
    pub disclosed: bool,
    pub measures: i64,
    pub measures_done: i64,
    /// Share of measures done, in whole percent (100 once closed out).
    pub progress: i32,
    pub overdue: bool,
    pub warning: Level,
}

/// The heading of findings under none.
pub const OTHER: &str = "其他问题";

pub fn build(plan: &Plan) -> ProblemList {
    let by_finding = plan.measures_by_finding();
    let today = plan.thresholds.today;
    let problem = |f: &entity::finding::Model| {
        let measures = by_finding.get(&f.id).map(Vec::as_slice).unwrap_or(&[]);
        let done = measures.iter().filter(|m| measure_done(m)).count() as i64;
        let total = measures.len() as i64;
        let closed = finding_done(f);
        Problem {
            finding_id: f.id,
            ordinal: f.ordinal,
            title: f.title.clone(),
            description: f.description.clone(),
            rectification_type: f.rectification_type,
            deadline: f.deadline,
            responsible_leader: name(f.responsible_leader.as_deref()),
            department_id: f.department_id,
            department: plan.department_name(f.department_id).to_owned(),
            responsible_person: name(f.responsible_person.as_deref()),
            status: f.status,
            disclosed: f.disclosed,
            measures: total,
            measures_done: done,
            progress: if closed {
                100
            } else if total == 0 {
                0
            } else {
                (done * 100 / total) as i32
            },
            overdue: overdue(f.deadline, closed, today),
            warning: level(&plan.thresholds, f.deadline, closed),
        }
    };
    let mut groups: Vec<ProblemGroup> = plan
        .categories
        .iter()
        .map(|c| ProblemGroup {
            ordinal: Some(c.ordinal),
            heading: c.title.clone(),
            problems: plan
                .findings
                .iter()
                .filter(|f| f.category_id == Some(c.id))
                .map(problem)
                .collect(),
        })
        .filter(|g| !g.problems.is_empty())
        .collect();
    let known: std::collections::HashSet<i32> = plan.categories.iter().map(|c| c.id).collect();
    let rest: Vec<Problem> = plan
        .findings
        .iter()
        .filter(|f| !f.category_id.is_some_and(|c| known.contains(&c)))
        .map(problem)
        .collect();
    if !rest.is_empty() {
        groups.push(ProblemGroup {
            ordinal: None,
            heading: OTHER.to_owned(),
            problems: rest,
        });
    }
    ProblemList {
        groups,
        truncated: plan.truncated,
    }
}

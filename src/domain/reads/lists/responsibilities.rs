//! 责任清单: per responsible leader, per department and per person, what each answers for
//! (findings, measures), how much is done, how much is overdue and the highest warning level
//! of their open work. Names are matched as written on the records, trimmed, so the same
//! person written the same way is one row.

use std::collections::HashMap;

use super::{Plan, finding_done, level, measure_deadline, measure_done, name, overdue};
use crate::domain::workflow::warning::Level;

pub struct ResponsibilityList {
    /// 责任领导: the findings each leads, and their measures.
    pub leaders: Vec<Responsibility>,
    /// 责任科室: findings of the department, and measures assigned to it (or, without a
    /// department of their own, their finding's).
    pub departments: Vec<Responsibility>,
    /// 责任人: findings the person is named on, and measures (theirs, or their finding's).
    pub people: Vec<Responsibility>,
    pub truncated: bool,
}

#[derive(Default)]
pub struct Responsibility {
    /// The name as written (a department's name for departments).
    pub name: String,
    /// The department's id, for the department rows.
    pub department_id: Option<i32>,
    pub findings: i64,
    pub findings_closed: i64,
    pub findings_overdue: i64,
    pub measures: i64,
    pub measures_done: i64,
    pub measures_overdue: i64,
    /// The highest warning level among their open findings and measures.
    pub warning: Option<Level>,
    /// Finding numbers (序号) they answer for, in order.
    pub finding_ordinals: Vec<i32>,
}

/// Rows keyed by name, in the order first met.
#[derive(Default)]
struct Tally {
    order: Vec<String>,
    rows: HashMap<String, Responsibility>,
}

impl Tally {
    fn row(&mut self, key: &str) -> &mut Responsibility {
        if !self.rows.contains_key(key) {
            self.order.push(key.to_owned());
            self.rows.insert(
                key.to_owned(),
                Responsibility {
                    name: key.to_owned(),
                    ..Default::default()
                },
            );
        }
        self.rows.get_mut(key).expect("inserted above")
    }

    fn finding(&mut self, key: &str, ordinal: i32, closed: bool, late: bool, l: Level) {
        let r = self.row(key);
        r.findings += 1;
        r.findings_closed += i64::from(closed);
        r.findings_overdue += i64::from(late);
        if !r.finding_ordinals.contains(&ordinal) {
            r.finding_ordinals.push(ordinal);
        }
        r.warning = r.warning.max(Some(l));
    }

    fn measure(&mut self, key: &str, ordinal: i32, done: bool, late: bool, l: Level) {
        let r = self.row(key);
        r.measures += 1;
        r.measures_done += i64::from(done);
        r.measures_overdue += i64::from(late);
        if !r.finding_ordinals.contains(&ordinal) {
            r.finding_ordinals.push(ordinal);
        }
        r.warning = r.warning.max(Some(l));
    }

    fn rows(mut self) -> Vec<Responsibility> {
        self.order
            .iter()
            .filter_map(|k| self.rows.remove(k))
            .map(|mut r| {
                r.finding_ordinals.sort_unstable();
                r
            })
            .collect()
    }
}

pub fn build(plan: &Plan) -> ResponsibilityList {
    let today = plan.thresholds.today;
    let findings = plan.findings_by_id();
    let (mut leaders, mut departments, mut people) =
        (Tally::default(), Tally::default(), Tally::default());
    let mut department_ids: HashMap<String, i32> = HashMap::new();
    for f in &plan.findings {
        let closed = finding_done(f);
        let late = overdue(f.deadline, closed, today);
        let l = level(&plan.thresholds, f.deadline, closed);
        if let Some(leader) = name(f.responsible_leader.as_deref()) {
            leaders.finding(&leader, f.ordinal, closed, late, l);
        }
        let department = plan.department_name(f.department_id).to_owned();
        department_ids.insert(department.clone(), f.department_id);
        departments.finding(&department, f.ordinal, closed, late, l);
        if let Some(person) = name(f.responsible_person.as_deref()) {
            people.finding(&person, f.ordinal, closed, late, l);
        }
    }
    for m in &plan.measures {
        let Some(f) = findings.get(&m.finding_id).copied() else {
            continue;
        };
        let deadline = measure_deadline(m, Some(f));
        let done = measure_done(m);
        let late = overdue(deadline, done, today);
        let l = level(&plan.thresholds, deadline, done);
        if let Some(leader) = name(f.responsible_leader.as_deref()) {
            leaders.measure(&leader, f.ordinal, done, late, l);
        }
        let id = m.department_id.unwrap_or(f.department_id);
        let department = plan.department_name(id).to_owned();
        department_ids.insert(department.clone(), id);
        departments.measure(&department, f.ordinal, done, late, l);
        let person =
            name(m.responsible_person.as_deref()).or_else(|| name(f.responsible_person.as_deref()));
        if let Some(person) = person {
            people.measure(&person, f.ordinal, done, late, l);
        }
    }
    let departments = departments
        .rows()
        .into_iter()
        .map(|mut r| {
            r.department_id = department_ids.get(&r.name).copied();
            r
        })
        .collect();
    ResponsibilityList {
        leaders: leaders.rows(),
        departments,
        people: people.rows(),
        truncated: plan.truncated,
    }
}

/// What the caller answers for: the leader and person rows under the caller's name (the
/// token's `name`, as records write it) and the caller's own department's row; nothing for a
/// caller without a name or department.
pub fn mine(list: ResponsibilityList, caller: &crate::auth::Caller) -> ResponsibilityList {
    let identity = caller.identity();
    let person = identity.and_then(|i| name(i.name.as_deref()));
    let department = identity.and_then(|i| i.department.as_ref().map(|d| d.id));
    let named = |rows: Vec<Responsibility>| -> Vec<Responsibility> {
        rows.into_iter()
            .filter(|r| person.as_deref() == Some(r.name.as_str()))
            .collect()
    };
    ResponsibilityList {
        leaders: named(list.leaders),
        people: named(list.people),
        departments: list
            .departments
            .into_iter()
            .filter(|r| department.is_some() && r.department_id == department)
            .collect(),
        truncated: list.truncated,
    }
}

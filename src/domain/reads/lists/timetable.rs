//! 时间表: the half-month reporting periods of an inspection (ending on the 15th and on the
//! month's last day, the days `reportSchedule` counts), and in each what falls due: findings
//! and measures due within it, done on time, done late, overdue (open past the deadline) or
//! still open. Work without a deadline falls in no period; work due before the first period
//! is counted in it, work due after the last in the last.

use chrono::{Datelike, NaiveDate};

use super::{Plan, finding_done, finding_done_on, measure_deadline, measure_done};

/// The most periods a timetable shows (ten years of half months).
pub const MAX_PERIODS: usize = 240;

pub struct Timetable {
    pub periods: Vec<Period>,
    pub truncated: bool,
}

pub struct Period {
    /// The first day of the period.
    pub starts_on: NaiveDate,
    /// Its last day: the reporting day (每月15日、月末).
    pub ends_on: NaiveDate,
    pub findings: Tally,
    pub measures: Tally,
}

#[derive(Default, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tally {
    /// Falling due in the period.
    pub due: i64,
    /// Done by their deadline.
    pub on_time: i64,
    /// Done after their deadline.
    pub late: i64,
    /// Open with the deadline passed.
    pub overdue: i64,
    /// Open, the deadline still ahead.
    pub open: i64,
}

impl Tally {
    fn add(
        &mut self,
        deadline: NaiveDate,
        done_on: Option<NaiveDate>,
        done: bool,
        today: NaiveDate,
    ) {
        self.due += 1;
        match done_on {
            Some(day) if day <= deadline => self.on_time += 1,
            Some(_) => self.late += 1,
            // Done with no day recorded: counted on time, as nothing says otherwise.
            None if done => self.on_time += 1,
            None if deadline < today => self.overdue += 1,
            None => self.open += 1,
        }
    }
}

pub fn build(plan: &Plan) -> Timetable {
    let today = plan.thresholds.today;
    let i = &plan.inspection;
    let from = i.feedback_on.unwrap_or(i.started_on);
    let findings = plan.findings_by_id();
    let deadlines = plan.findings.iter().filter_map(|f| f.deadline).chain(
        plan.measures
            .iter()
            .filter_map(|m| measure_deadline(m, findings.get(&m.finding_id).copied())),
    );
    let last = deadlines.chain(i.due_on).max().unwrap_or(today).max(from);
    // One more period past the last deadline, so that the last day falls in one.
    let to = last.checked_add_days(chrono::Days::new(16)).unwrap_or(last);
    let mut ends = due_dates(from, to);
    let mut truncated = plan.truncated;
    if let Some(k) = ends.iter().position(|d| *d >= last) {
        ends.truncate(k + 1);
    }
    if ends.len() > MAX_PERIODS {
        ends.truncate(MAX_PERIODS);
        truncated = true;
    }
    let mut periods: Vec<Period> = Vec::with_capacity(ends.len());
    let mut start = from;
    for end in ends {
        periods.push(Period {
            starts_on: start,
            ends_on: end,
            findings: Tally::default(),
            measures: Tally::default(),
        });
        start = end.succ_opt().unwrap_or(end);
    }
    let slot = |d: NaiveDate| -> Option<usize> {
        if periods.is_empty() {
            return None;
        }
        Some(
            periods
                .iter()
                .position(|p| d <= p.ends_on)
                .unwrap_or(periods.len() - 1),
        )
    };
    let mut finding_slots = Vec::new();
    for f in &plan.findings {
        if let Some(d) = f.deadline
            && let Some(k) = slot(d)
        {
            finding_slots.push((k, d, finding_done_on(f), finding_done(f)));
        }
    }
    let mut measure_slots = Vec::new();
    for m in &plan.measures {
        if let Some(d) = measure_deadline(m, findings.get(&m.finding_id).copied())
            && let Some(k) = slot(d)
        {
            measure_slots.push((k, d, m.completed_on, measure_done(m)));
        }
    }
    for (k, d, on, done) in finding_slots {
        periods[k].findings.add(d, on, done, today);
    }
    for (k, d, on, done) in measure_slots {
        periods[k]
            .measures
            .add(d, if done { on } else { None }, done, today);
    }
    Timetable { periods, truncated }
}

/// The reporting days (每月15日、月末) strictly after `from`, up to and including `to`.
pub fn due_dates(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    let mut dates = Vec::new();
    let mut month = NaiveDate::from_ymd_opt(from.year(), from.month(), 1);
    while let Some(first) = month {
        if first > to {
            break;
        }
        let mid = first.with_day(15);
        let next = first.checked_add_months(chrono::Months::new(1));
        let last = next.and_then(|n| n.pred_opt());
        for date in [mid, last].into_iter().flatten() {
            if date > from && date <= to {
                dates.push(date);
            }
        }
        month = next;
    }
    dates
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reporting_days_are_the_fifteenth_and_the_last_day_of_each_month() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(
            due_dates(d(2020, 9, 5), d(2020, 11, 15)),
            [
                d(2020, 9, 15),
                d(2020, 9, 30),
                d(2020, 10, 15),
                d(2020, 10, 31),
                d(2020, 11, 15)
            ]
        );
        assert_eq!(due_dates(d(2021, 2, 15), d(2021, 3, 1)), [d(2021, 2, 28)]);
        assert_eq!(
            due_dates(d(2024, 2, 1), d(2024, 2, 29)),
            [d(2024, 2, 15), d(2024, 2, 29)]
        );
    }
}

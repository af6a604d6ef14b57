//! What a finding's rows together say. An export repeats a finding's cells on each of its
//! measure rows; a person editing the sheet changes one of them, or all. So, per column: a
//! value the database already holds changes nothing (on any row); one new value, on one row or
//! on many, is the change; two different new values are a disagreement, reported at the row
//! of the second. A new finding has no stored values: its rows must agree.

use std::collections::HashSet;

use entity::finding;

use super::parse::RowFinding;
use crate::ledger_file::Col;

/// What the database holds for a finding the rows update.
pub struct Stored<'a> {
    pub finding: &'a finding::Model,
    /// Its category's title.
    pub category: Option<&'a str>,
    /// The text of every entry in its ledger (the export writes the latest work).
    pub progress: &'a HashSet<String>,
    /// The department a cell names (by name or code), if any.
    pub department_of: &'a dyn Fn(&str) -> Option<i32>,
}

/// A disagreement: the row and column, and the row of the value it disagrees with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disagreement {
    pub row: usize,
    pub col: Col,
    pub first: usize,
}

/// The one new value of a column over the finding's rows (`values[0]` its first row), or the
/// first row's value when none is new.
fn pick<T: Clone + PartialEq>(
    values: &[(usize, Option<T>)],
    stored: impl Fn(&T) -> bool,
) -> Result<Option<T>, (usize, usize)> {
    let mut new: Option<(usize, &T)> = None;
    for (row, value) in values {
        let Some(value) = value else { continue };
        if stored(value) {
            continue;
        }
        match new {
            None => new = Some((*row, value)),
            Some((_, v)) if v == value => {}
            Some((first, _)) => return Err((*row, first)),
        }
    }
    Ok(match new {
        Some((_, v)) => Some(v.clone()),
        None => values.first().and_then(|(_, v)| v.clone()),
    })
}

/// The finding its rows describe, and every disagreement among them.
pub fn resolve(first: &RowFinding, stored: Option<&Stored<'_>>) -> (RowFinding, Vec<Disagreement>) {
    let mut out = first.clone();
    out.repeats = Vec::new();
    let mut disagreements = Vec::new();
    let rows = || std::iter::once(first).chain(&first.repeats);
    macro_rules! column {
        ($field:ident, $col:expr, $is_stored:expr) => {{
            let values: Vec<_> = rows().map(|f| (f.row, f.$field.clone())).collect();
            match pick(&values, $is_stored) {
                Ok(value) => out.$field = value,
                Err((row, first)) => disagreements.push(Disagreement {
                    row,
                    col: $col,
                    first,
                }),
            }
        }};
    }
    let f = stored.map(|s| s.finding);
    column!(ordinal, Col::Ordinal, |v: &i32| f
        .is_some_and(|f| f.ordinal == *v));
    // The version the sheet was read at is no value to change: every row must give the same.
    column!(version, Col::FindingVersion, |_: &i32| false);
    column!(description, Col::Description, |v: &String| f
        .is_some_and(|f| f.description == *v));
    column!(kind, Col::Kind, |v: &_| f
        .is_some_and(|f| f.rectification_type == *v));
    column!(disclosed, Col::Disclosed, |v: &bool| f
        .is_some_and(|f| f.disclosed == *v));
    column!(status, Col::Status, |v: &_| f
        .is_some_and(|f| f.status == *v));
    column!(deadline, Col::Deadline, |v: &_| f
        .is_some_and(|f| f.deadline == Some(*v)));
    column!(leader, Col::Leader, |v: &String| f
        .is_some_and(|f| f.responsible_leader.as_ref() == Some(v)));
    column!(person, Col::Person, |v: &String| f
        .is_some_and(|f| f.responsible_person.as_ref() == Some(v)));
    column!(department, Col::Department, |v: &String| stored
        .is_some_and(
            |s| (s.department_of)(v) == Some(s.finding.department_id)
        ));
    column!(category, Col::Category, |v: &String| stored
        .is_some_and(|s| s.category == Some(v.as_str())));
    column!(progress, Col::Progress, |v: &String| stored
        .is_some_and(|s| s.progress.contains(v)));
    // The title: a continuing row's blank is a merged cell.
    let titles: Vec<_> = rows()
        .map(|r| (r.row, Some(r.title.clone()).filter(|t| !t.is_empty())))
        .collect();
    match pick(&titles, |v: &String| f.is_some_and(|f| f.title == *v)) {
        Ok(title) => out.title = title.unwrap_or_default(),
        Err((row, first)) => disagreements.push(Disagreement {
            row,
            col: Col::Title,
            first,
        }),
    }
    (out, disagreements)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(row: usize, progress: &str, deadline: Option<(i32, u32, u32)>) -> RowFinding {
        RowFinding {
            row,
            title: "问题一".to_owned(),
            progress: Some(progress.to_owned()).filter(|p| !p.is_empty()),
            deadline: deadline.and_then(|(y, m, d)| chrono::NaiveDate::from_ymd_opt(y, m, d)),
            ..Default::default()
        }
    }

    #[test]
    fn a_new_findings_rows_must_agree() {
        let mut first = row(2, "进展", Some((2020, 12, 31)));
        first.repeats = vec![
            row(3, "", None),
            row(4, "进展", Some((2020, 12, 31))),
            row(5, "另一进展", Some((2021, 1, 31))),
        ];
        let (_, found) = resolve(&first, None);
        assert_eq!(
            found,
            [
                Disagreement {
                    row: 5,
                    col: Col::Deadline,
                    first: 2
                },
                Disagreement {
                    row: 5,
                    col: Col::Progress,
                    first: 2
                },
            ]
        );
    }
}

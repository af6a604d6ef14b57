//! Checking what a sheet says against what the database holds: departments named or coded,
//! rows that name existing findings and measures (at the versions the sheet was read at),
//! numbers already taken, and whether the caller may make the status moves the sheet asks
//! for. Reads only; every problem is reported by row and column.

use std::collections::{HashMap, HashSet};

use entity::enums::FindingStatus;
use entity::{category, department, finding, inspection, measure, progress_entry};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use super::parse::{RowFinding, RowMeasure};
use super::resolve::{Stored, resolve};
use super::{Options, Problem};
use crate::auth::Reach;
use crate::domain::Acting;
use crate::domain::records::measure::check_move;
use crate::domain::workflow::close_out::{self, Move};
use crate::error::{AppResult, codes};
use crate::ledger_file::{Col, heading};

/// A finding of the sheet, checked, with what it refers to.
pub struct Planned<'a> {
    /// What the finding's rows together say (see `resolve`): its 整改进展 only when new.
    pub row: RowFinding,
    /// The finding the row updates, as it was read now.
    pub existing: Option<finding::Model>,
    /// The title of its category now.
    pub category: Option<String>,
    /// The department the row names: its id and code.
    pub department: Option<(i32, String)>,
    /// The status the row asks for when it is not the finding's status already (a
    /// historical import creates new findings with it).
    pub target: Option<FindingStatus>,
    pub measures: Vec<PlannedMeasure<'a>>,
}

pub struct PlannedMeasure<'a> {
    pub row: &'a RowMeasure,
    pub existing: Option<measure::Model>,
}

/// The moves of the close-out workflow that lead from `from` to `to`, or `None` when none
/// do: forward along start, submit and approve; back by return or reopen.
pub fn path(from: FindingStatus, to: FindingStatus) -> Option<Vec<Move>> {
    use FindingStatus::*;
    let forward = [Move::Start, Move::Submit, Move::Approve];
    let rank = |s: FindingStatus| match s {
        NotStarted => 0,
        InProgress => 1,
        PendingReview => 2,
        Closed => 3,
    };
    match (from, to) {
        _ if from == to => Some(Vec::new()),
        (_, NotStarted) => None,
        (PendingReview, InProgress) => Some(vec![Move::Return]),
        (Closed, InProgress) => Some(vec![Move::Reopen]),
        (Closed, PendingReview) => Some(vec![Move::Reopen, Move::Submit]),
        _ => Some(forward[rank(from)..rank(to)].to_vec()),
    }
}

struct Checker<'a> {
    sheet: &'a str,
    problems: Vec<Problem>,
    warnings: Vec<Problem>,
}

impl Checker<'_> {
    fn problem(&mut self, row: usize, col: Col, code: &'static str, message: impl Into<String>) {
        self.problems.push(Problem {
            sheet: self.sheet.to_owned(),
            row,
            column: heading(col).to_owned(),
            code,
            message: message.into(),
        });
    }
}

/// Resolves a department named by name or code, preferring the inspection's own unit's tree
/// when a name is used by several departments.
fn resolve_department<'d>(
    departments: &'d [department::Model],
    unit_path: &str,
    text: &str,
) -> Result<&'d department::Model, String> {
    if let Some(d) = departments.iter().find(|d| d.code == text) {
        return Ok(d);
    }
    let named: Vec<&department::Model> = departments.iter().filter(|d| d.name == text).collect();
    let inside: Vec<&department::Model> = named
        .iter()
        .copied()
        .filter(|d| d.path.starts_with(unit_path))
        .collect();
    match (named.len(), inside.len()) {
        (0, _) => Err(t!("import-no-department", text = text)),
        (1, _) => Ok(named[0]),
        (_, 1) => Ok(inside[0]),
        _ => Err(t!("import-department-ambiguous", text = text)),
    }
}

/// What checking found: the plan, the problems that stop it, and warnings that do not.
pub struct Checked<'a> {
    pub plan: Vec<Planned<'a>>,
    pub problems: Vec<Problem>,
    pub warnings: Vec<Problem>,
}

/// Checks the sheet's findings against the database.
pub async fn check<'a>(
    db: &impl ConnectionTrait,
    who: &Acting,
    inspection: &inspection::Model,
    sheet: &str,
    rows: &'a [RowFinding],
    options: Options,
) -> AppResult<Checked<'a>> {
    let mut checker = Checker {
        sheet,
        problems: Vec::new(),
        warnings: Vec::new(),
    };
    let departments = department::Entity::find()
        .filter(department::Column::ArchivedAt.is_null())
        .all(db)
        .await?;
    let unit_path = departments
        .iter()
        .find(|d| d.id == inspection.unit_id)
        .map(|d| d.path.clone())
        .unwrap_or_default();
    let write_reach = who.caller.write_reach();
    let existing: HashMap<i32, finding::Model> = finding::Entity::find()
        .filter(finding::Column::InspectionId.eq(inspection.id))
        .all(db)
        .await?
        .into_iter()
        .map(|f| (f.id, f))
        .collect();
    let existing_measures: HashMap<i32, measure::Model> = measure::Entity::find()
        .filter(measure::Column::FindingId.is_in(existing.keys().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();

    let categories: HashMap<i32, String> = category::Entity::find()
        .filter(category::Column::InspectionId.eq(inspection.id))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.title))
        .collect();
    // What each finding's ledger already says, every entry (the machine export writes the
    // latest work, a report every entry of its period): the 整改进展 cell is compared with it.
    let mut progress: HashMap<i32, HashSet<String>> = HashMap::new();
    let entries: Vec<(i32, String)> = progress_entry::Entity::find()
        .select_only()
        .column(progress_entry::Column::FindingId)
        .column(progress_entry::Column::Content)
        .filter(progress_entry::Column::FindingId.is_in(existing.keys().copied()))
        .into_tuple()
        .all(db)
        .await?;
    for (finding_id, content) in entries {
        progress
            .entry(finding_id)
            .or_default()
            .insert(content.trim().to_owned());
    }
    let no_progress = HashSet::new();
    let department_of = |text: &str| {
        resolve_department(&departments, &unit_path, text)
            .ok()
            .map(|d| d.id)
    };

    let mut ordinals_seen: HashMap<i32, usize> = HashMap::new();
    let mut seen_ids: HashMap<i32, usize> = HashMap::new();
    let mut planned = Vec::with_capacity(rows.len());
    for source in rows {
        // A row without ids (a printed ledger, a unit's own) names the finding that has its
        // number and its text.
        let named = || {
            existing.values().find(|f| {
                !options.as_new && Some(f.ordinal) == source.ordinal && f.title == source.title
            })
        };
        let current = match source.id {
            Some(id) => existing.get(&id),
            None => named(),
        }
        .cloned();
        let category_now = current
            .as_ref()
            .and_then(|f| f.category_id)
            .and_then(|id| categories.get(&id))
            .cloned();
        let stored = current.as_ref().map(|f| Stored {
            finding: f,
            category: category_now.as_deref(),
            progress: progress.get(&f.id).unwrap_or(&no_progress),
            department_of: &department_of,
        });
        let (mut row, disagreements) = resolve(source, stored.as_ref());
        row.id = row.id.or(current.as_ref().map(|f| f.id));
        // A printed finding's deadline is not printed (each measure row shows its own).
        if row.due_by_measures && current.is_some() {
            row.deadline = None;
        }
        for d in disagreements {
            let message = if current.is_some() {
                t!("import-values-differ", first = d.first)
            } else {
                t!("import-differs-from-first", first = d.first)
            };
            checker.problem(d.row, d.col, codes::BAD_USER_INPUT, message);
        }
        // 整改进展 the ledger already holds is no new work.
        if let Some(p) = &row.progress
            && stored
                .as_ref()
                .is_some_and(|s| s.progress.contains(p.trim()))
        {
            row.progress = None;
        }
        let row = row;
        if let Some(id) = row.id {
            match &current {
                None => checker.problem(
                    row.row,
                    Col::FindingId,
                    codes::NOT_FOUND,
                    t!("import-no-finding", inspection = inspection.id, id = id),
                ),
                Some(f) if row.version.is_some_and(|v| v != f.version) => checker.problem(
                    row.row,
                    Col::FindingVersion,
                    codes::CONFLICT,
                    t!("import-stale-finding", id = id, version = f.version),
                ),
                Some(_) => {}
            }
        }
        let department = match &row.department {
            None => None,
            Some(text) => match resolve_department(&departments, &unit_path, text) {
                Ok(d) if write_reach.contains(&d.path) && write_reach != Reach::Nothing => {
                    Some((d.id, d.code.clone()))
                }
                Ok(_) => {
                    checker.problem(
                        row.row,
                        Col::Department,
                        codes::FORBIDDEN,
                        t!("import-outside-department", text = text),
                    );
                    None
                }
                Err(message) => {
                    checker.problem(row.row, Col::Department, codes::BAD_USER_INPUT, message);
                    None
                }
            },
        };
        if let Some(id) = row.id
            && let Some(first) = seen_ids.insert(id, row.row)
        {
            // Two updates of one finding from one sheet: the second would overwrite the first.
            checker.problem(
                row.row,
                Col::FindingId,
                codes::CONFLICT,
                t!("import-finding-twice", id = id, first = first),
            );
        }
        if row.id.is_none() && row.department.is_none() {
            checker.problem(
                row.row,
                Col::Department,
                codes::BAD_USER_INPUT,
                t!("import-new-needs-department"),
            );
        }
        if let Some(ordinal) = row.ordinal {
            if let Some(first) = ordinals_seen.insert(ordinal, row.row) {
                checker.problem(
                    row.row,
                    Col::Ordinal,
                    codes::CONFLICT,
                    t!("import-duplicate-ordinal", ordinal = ordinal, first = first),
                );
            }
            let taken_by_other = existing
                .values()
                .any(|f| f.ordinal == ordinal && Some(f.id) != row.id);
            if taken_by_other && current.as_ref().is_none_or(|f| f.ordinal != ordinal) {
                checker.problem(
                    row.row,
                    Col::Ordinal,
                    codes::CONFLICT,
                    t!(
                        "import-ordinal-taken",
                        inspection = inspection.id,
                        ordinal = ordinal
                    ),
                );
            }
        }
        let mut measures = Vec::with_capacity(source.measures.len());
        let mut named_measures = Vec::new();
        let finding_deadline = row
            .deadline
            .or_else(|| current.as_ref().and_then(|f| f.deadline));
        for m in &source.measures {
            for notice in crate::domain::records::measure::notices(m.deadline, finding_deadline) {
                checker.warnings.push(Problem {
                    sheet: sheet.to_owned(),
                    row: m.row,
                    column: heading(Col::MeasureDeadline).to_owned(),
                    code: notice.code,
                    message: notice.message,
                });
            }
            // Without its id, a measure of a named finding is the one with its text, or else
            // its number.
            let named = || {
                let of_finding = |x: &&measure::Model| {
                    Some(x.finding_id) == row.id && !named_measures.contains(&x.id)
                };
                let mine: Vec<&measure::Model> =
                    existing_measures.values().filter(of_finding).collect();
                mine.iter()
                    .find(|x| x.content == m.content)
                    .or_else(|| mine.iter().find(|x| Some(x.ordinal) == m.ordinal))
                    .map(|x| (*x).clone())
            };
            let found = match m.id {
                Some(id) => existing_measures.get(&id).cloned(),
                None if source.id.is_none() && current.is_some() => named(),
                None => None,
            };
            if let Some(x) = &found {
                named_measures.push(x.id);
            }
            match &found {
                Some(x) if Some(x.finding_id) == row.id => {
                    if m.version.is_some_and(|v| v != x.version) {
                        checker.problem(
                            m.row,
                            Col::MeasureVersion,
                            codes::CONFLICT,
                            t!("import-stale-measure", id = x.id, version = x.version),
                        );
                    }
                    if let Some(to) = m.status.filter(|s| *s != x.status)
                        && let Err(err) = check_move(x.status, to, None)
                    {
                        checker.problem(
                            m.row,
                            Col::MeasureStatus,
                            err.code(),
                            err.message().to_owned(),
                        );
                    }
                }
                _ => {
                    if let Some(id) = m.id {
                        checker.problem(
                            m.row,
                            Col::MeasureId,
                            codes::NOT_FOUND,
                            t!("import-no-measure", id = id),
                        )
                    }
                }
            }
            measures.push(PlannedMeasure {
                row: m,
                existing: found,
            });
        }
        // The status the row asks for: reached through the workflow's own moves, each of
        // which the caller must be allowed to make; new findings of a historical import are
        // created with it instead.
        let historical_new = options.historical && row.id.is_none();
        let from = current
            .as_ref()
            .map_or(FindingStatus::NotStarted, |f| f.status);
        // An untouched 状态 is no move (the row's new 整改进展 may start the finding first).
        let target = row.status.filter(|to| historical_new || *to != from);
        if let Some(to) = target
            && !historical_new
            && let Err(message) = moves_allowed(who, from, to)
        {
            checker.problem(row.row, Col::Status, codes::INVALID_TRANSITION, message);
        }
        // No new work on a closed finding, unless the row reopens it.
        if from == FindingStatus::Closed
            && row.progress.is_some()
            && target.is_none_or(|to| to == FindingStatus::Closed)
            && let Some(f) = &current
        {
            checker.problem(
                row.row,
                Col::Progress,
                codes::INVALID_TRANSITION,
                t!("import-progress-on-closed", ordinal = f.ordinal),
            );
        }
        planned.push(Planned {
            row,
            existing: current,
            category: category_now,
            department,
            target,
            measures,
        });
    }
    Ok(Checked {
        plan: planned,
        problems: checker.problems,
        warnings: checker.warnings,
    })
}

/// Whether the caller may take the finding from `from` to `to` through the workflow.
fn moves_allowed(who: &Acting, from: FindingStatus, to: FindingStatus) -> Result<(), String> {
    let name = crate::i18n::finding_status;
    let Some(moves) = path(from, to) else {
        let allowed = close_out::allowed_from(from);
        return Err(t!(
            "import-no-path",
            from = name(from),
            to = name(to),
            allowed = if allowed.is_empty() {
                t!("none")
            } else {
                allowed.join(t!("list-separator").as_str())
            }
        ));
    };
    if moves.contains(&Move::Submit) && moves.contains(&Move::Approve) {
        return Err(t!("import-needs-review", from = name(from), to = name(to)));
    }
    if let Some(step) = moves.iter().find(|m| !who.can(m.permission())) {
        return Err(t!(
            "import-role-may-not",
            from = name(from),
            to = name(to),
            role = who
                .caller
                .role()
                .map(crate::i18n::role_label)
                .unwrap_or_default(),
            action = step.permission().action()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use FindingStatus::*;

    #[test]
    fn paths_follow_the_workflow() {
        assert_eq!(
            path(NotStarted, Closed),
            Some(vec![Move::Start, Move::Submit, Move::Approve])
        );
        assert_eq!(path(InProgress, PendingReview), Some(vec![Move::Submit]));
        assert_eq!(path(PendingReview, InProgress), Some(vec![Move::Return]));
        assert_eq!(path(Closed, InProgress), Some(vec![Move::Reopen]));
        assert_eq!(path(InProgress, NotStarted), None);
        assert_eq!(path(Closed, Closed), Some(vec![]));
    }
}

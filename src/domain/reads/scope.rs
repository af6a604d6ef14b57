//! Department scoping in the data layer. Every scoped query starts from a function here, so a
//! resolver cannot forget the caller's reach: what lies outside it is simply not found.

use entity::{department, finding, measure};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait,
    Select,
};

use crate::auth::{Caller, Reach};
use crate::error::{AppError, AppResult};

/// `SELECT id FROM department WHERE path` starts with `prefix`: the range from the prefix to
/// the prefix with its last byte raised (`/1/` up to `/10`), which the path's index answers
/// (paths compare byte by byte on both databases; see the migration of 2026-12-03).
pub fn subtree_ids(prefix: &str) -> SelectStatement {
    Query::select()
        .column(department::Column::Id)
        .from(department::Entity)
        .and_where(department::Column::Path.gte(prefix))
        .and_where(department::Column::Path.lt(past(prefix)))
        .to_owned()
}

/// The least string greater than every string that starts with `prefix` (its last byte
/// raised). Paths end with '/', whose successor is '0'.
fn past(prefix: &str) -> String {
    let mut end = prefix.to_owned();
    match end.pop() {
        Some(last) => end.push(char::from_u32(last as u32 + 1).unwrap_or(char::MAX)),
        None => end.push(char::MAX),
    }
    end
}

/// A condition: `column` names a department within `reach`.
pub fn department_in<C: ColumnTrait>(column: C, reach: &Reach) -> Condition {
    match reach {
        Reach::All => Condition::all(),
        Reach::Subtree(prefix) => Condition::all().add(column.in_subquery(subtree_ids(prefix))),
        Reach::Nothing => Condition::all().add(Expr::cust("1 = 0")),
    }
}

/// Findings the caller may read: those whose responsible department is within reach, and
/// those with a measure assigned to a department within reach (a section sees the findings it
/// works on).
pub fn findings(caller: &Caller) -> Select<finding::Entity> {
    findings_within(&caller.read_reach())
}

/// Findings within a reach, by the rule of [`findings`].
pub fn findings_within(reach: &Reach) -> Select<finding::Entity> {
    let condition = match reach {
        Reach::All => Condition::all(),
        Reach::Subtree(prefix) => Condition::any()
            .add(finding::Column::DepartmentId.in_subquery(subtree_ids(prefix)))
            // Correlated, so that a list walks its order index and checks each finding's
            // measures by index; `id IN (SELECT finding_id ...)` made SQLite build the set of
            // a whole subtree's measures first (200 ms against 1 ms for a page).
            .add(Expr::exists(
                Query::select()
                    .expr(Expr::val(1))
                    .from(measure::Entity)
                    .and_where(
                        Expr::col((measure::Entity, measure::Column::FindingId))
                            .equals((finding::Entity, finding::Column::Id)),
                    )
                    .and_where(measure::Column::DepartmentId.in_subquery(subtree_ids(prefix)))
                    .to_owned(),
            )),
        Reach::Nothing => Condition::all().add(Expr::cust("1 = 0")),
    };
    finding::Entity::find().filter(condition)
}

/// `column` (a finding id) names a finding the caller may read, by the rule of [`findings`].
/// Whole reach is no condition at all: `IN (SELECT id FROM finding)` would make SQLite read
/// every finding id for every page of measures or entries.
pub fn readable_finding<C: ColumnTrait>(column: C, caller: &Caller) -> Condition {
    match caller.read_reach() {
        Reach::All => Condition::all(),
        reach => Condition::all().add(
            column.in_subquery(
                findings_within(&reach)
                    .select_only()
                    .column(finding::Column::Id)
                    .into_query(),
            ),
        ),
    }
}

/// Departments the caller may read.
pub fn departments(caller: &Caller) -> Select<department::Entity> {
    department::Entity::find().filter(department_in(department::Column::Id, &caller.read_reach()))
}

/// What a caller is shown of a department: the one rule of every department surface.
///
/// A department within the caller's reach is shown whole. A department outside it is looked
/// up by nothing (`department(id)` and the lists answer by [`departments`]: not found), and
/// where a record the caller may read refers to it (a finding's or a measure's department, an
/// inspection's unit, a department's parent or ancestors, a summary's row) it is *named,
/// nothing more*: its id and its name. Every other field of it is withheld: code, kind,
/// principal leader, archived, version and what the caller may do are null; its parent,
/// children and ancestors are null or empty; its summary is null. Nothing of it leads further
/// (its relations are empty), so an officer of a section cannot walk from its own unit's
/// parent to the sibling sections, their codes and their leaders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen<'a> {
    /// Within reach: every field.
    Whole(&'a department::Model),
    /// Outside reach, referred to by a readable record: its id and name only.
    Named { id: i32, name: &'a str },
}

impl<'a> Seen<'a> {
    /// The whole record, when the caller may see it.
    pub fn whole(self) -> Option<&'a department::Model> {
        match self {
            Seen::Whole(d) => Some(d),
            Seen::Named { .. } => None,
        }
    }

    pub fn id(self) -> i32 {
        match self {
            Seen::Whole(d) => d.id,
            Seen::Named { id, .. } => id,
        }
    }

    pub fn name(self) -> &'a str {
        match self {
            Seen::Whole(d) => &d.name,
            Seen::Named { name, .. } => name,
        }
    }

    /// The external code, shown only within reach.
    pub fn code(self) -> Option<&'a str> {
        self.whole().map(|d| d.code.as_str())
    }
}

/// What `reach` shows of department `d`, by the rule of [`Seen`].
pub fn seen<'a>(reach: &Reach, d: &'a department::Model) -> Seen<'a> {
    if reach.contains(&d.path) {
        Seen::Whole(d)
    } else {
        Seen::Named {
            id: d.id,
            name: &d.name,
        }
    }
}

/// What the caller is shown of department `d`, by the rule of [`Seen`].
pub fn department<'a>(caller: &Caller, d: &'a department::Model) -> Seen<'a> {
    seen(&caller.read_reach(), d)
}

/// One finding the caller may read, or `NOT_FOUND`.
pub async fn finding(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: i32,
) -> AppResult<finding::Model> {
    caller.require_identity()?;
    findings(caller)
        .filter(finding::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("finding", id))
}

/// Whether the caller reads everything of department `department_id` and below it (a unit-wide
/// document, such as a report of the unit's inspection, is for such callers only).
pub async fn reads_whole(
    db: &impl ConnectionTrait,
    caller: &Caller,
    department_id: i32,
) -> AppResult<bool> {
    Ok(match caller.read_reach() {
        Reach::All => true,
        Reach::Nothing => false,
        reach => department::Entity::find_by_id(department_id)
            .one(db)
            .await?
            .is_some_and(|d| reach.contains(&d.path)),
    })
}

/// The reach of one department's subtree.
pub async fn subtree_reach(db: &impl ConnectionTrait, department_id: i32) -> AppResult<Reach> {
    Ok(department::Entity::find_by_id(department_id)
        .one(db)
        .await?
        .map_or(Reach::Nothing, |d| Reach::Subtree(d.path)))
}

/// Checks that the caller may write records of department `department_id`.
pub async fn require_writable(
    db: &impl ConnectionTrait,
    caller: &Caller,
    department_id: i32,
) -> AppResult<()> {
    if caller.write_reach() == Reach::All {
        return Ok(());
    }
    let path = department::Entity::find_by_id(department_id)
        .one(db)
        .await?
        .map(|d| d.path);
    writable_path(caller, path.as_deref())
}

/// The write rule on a department's materialised path (`None`: no such department), for
/// callers that have the path already (the batched `viewerCan` flags).
pub fn writable_path(caller: &Caller, path: Option<&str>) -> AppResult<()> {
    let reach = caller.write_reach();
    let ok = reach == Reach::All || path.is_some_and(|p| !p.is_empty() && reach.contains(p));
    if ok { Ok(()) } else { Err(outside()) }
}

/// The refusal of a write outside the caller's department subtree.
pub fn outside() -> AppError {
    AppError::Forbidden(t!("outside-department"))
}

#[cfg(test)]
mod tests {
    use super::past;

    /// The range `[prefix, past(prefix))` holds exactly the paths that start with the prefix.
    #[test]
    fn a_subtree_range_holds_exactly_the_paths_below_its_root() {
        let prefix = "/1/";
        let end = past(prefix);
        assert_eq!(end, "/10");
        let within = |path: &str| path >= prefix && path < end.as_str();
        for path in ["/1/", "/1/4/", "/1/4/17/", "/1/99/"] {
            assert!(within(path), "{path}");
        }
        for path in ["/", "/10/", "/2/", "/10/1/", "/0/1/", "/1"] {
            assert!(!within(path), "{path}");
        }
    }
}

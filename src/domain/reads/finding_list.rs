//! Listing findings: filters and orders shared by GraphQL and REST.

use chrono::NaiveDate;
use entity::enums::{FindingStatus, RectificationType};
use entity::{finding, finding_regulation};
use sea_orm::sea_query::{Expr, ExprTrait, Func, Query};
use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, JoinType, QueryFilter, QuerySelect, QueryTrait,
};

use crate::auth::Caller;
use crate::domain::reads::columns::Columns;
use crate::domain::reads::listing::{finding_search, search_words, subtree_of};
use crate::domain::reads::page::{self, EachRead, Key, Order, Page, PageArgs};
use crate::domain::workflow::warning::{Level, Thresholds};
use crate::domain::{reads::scope, workflow::look_back};
use crate::error::AppResult;

#[derive(Debug, Default, Clone, PartialEq, Eq, Hash)]
pub struct FindingFilter {
    pub inspection_id: Option<i32>,
    pub category_id: Option<i32>,
    /// Findings of this department and every department below it.
    pub department_id: Option<i32>,
    /// Any of these statuses.
    pub status: Vec<FindingStatus>,
    pub rectification_type: Vec<RectificationType>,
    /// Past the deadline and not closed (as of `today`).
    pub overdue: Option<bool>,
    /// At any of these early-warning levels.
    pub warning: Vec<Level>,
    pub deadline_from: Option<NaiveDate>,
    pub deadline_to: Option<NaiveDate>,
    /// Findings this regulation answers.
    pub regulation_id: Option<i32>,
    /// Changed at or after this time (for incremental pulls).
    pub updated_since: Option<chrono::DateTime<chrono::Utc>>,
    /// Text in the title, the description or a measure's content.
    pub search: Option<String>,
    /// Ever relapsed (a failed re-check or a reopen), or never.
    pub relapsed: Option<bool>,
    /// With a scheduled re-check due by `today` and not done, or without.
    pub recheck_due: Option<bool>,
    pub include_archived: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FindingOrder {
    /// By inspection, then number (序号).
    #[default]
    Ordinal,
    Deadline,
    UpdatedAt,
}

/// Deadlines sort after every real date when missing. (Not `NaiveDate::MAX`: SQLite compares
/// dates as text, and `+262143-12-31` sorts before `2020-...`.)
pub const NO_DEADLINE: NaiveDate = match NaiveDate::from_ymd_opt(9999, 12, 31) {
    Some(date) => date,
    None => NaiveDate::MIN,
};

/// A missing deadline as the deadline orders sort it: [`NO_DEADLINE`] as an SQL literal, not a
/// bound value, so that the order's expression is the one the deadline-order indexes are built
/// on (migration `m20261207_000021_list_order_indexes`); neither database matches an
/// expression index against an expression holding a placeholder.
pub fn deadline_or_last<C: sea_orm::sea_query::IntoColumnRef>(column: C) -> Expr {
    Func::coalesce([Expr::col(column), Expr::cust(NO_DEADLINE_SQL)]).into()
}

const NO_DEADLINE_SQL: &str = "'9999-12-31'";

pub fn order(by: FindingOrder, descending: bool) -> Order<finding::Model> {
    use finding::Column as C;
    match by {
        FindingOrder::Ordinal => Order {
            name: "finding.ordinal",
            exprs: vec![
                Expr::col(C::InspectionId),
                Expr::col(C::Ordinal),
                Expr::col(C::Id),
            ],
            keys: |f| {
                vec![
                    Key::I(f.inspection_id.into()),
                    Key::I(f.ordinal.into()),
                    Key::I(f.id.into()),
                ]
            },
            descending,
        },
        FindingOrder::Deadline => Order {
            name: "finding.deadline",
            exprs: vec![deadline_or_last(C::Deadline), Expr::col(C::Id)],
            keys: |f| {
                vec![
                    Key::D(f.deadline.unwrap_or(NO_DEADLINE)),
                    Key::I(f.id.into()),
                ]
            },
            descending,
        },
        FindingOrder::UpdatedAt => Order {
            name: "finding.updated_at",
            exprs: vec![Expr::col(C::UpdatedAt), Expr::col(C::Id)],
            keys: |f| vec![Key::T(f.updated_at), Key::I(f.id.into())],
            descending,
        },
    }
}

/// Days past the deadline as of `today`, when overdue: the deadline has passed and the work is
/// not finished (a finding closed, a measure done). The rule [`overdue`] states in SQL.
pub fn overdue_days(deadline: Option<NaiveDate>, finished: bool, today: NaiveDate) -> Option<i64> {
    match deadline {
        Some(deadline) if !finished && deadline < today => Some((today - deadline).num_days()),
        _ => None,
    }
}

/// The condition for "overdue as of `today`".
pub fn overdue(today: NaiveDate) -> Condition {
    Condition::all()
        .add(finding::Column::Deadline.lt(today))
        .add(finding::Column::Status.ne(FindingStatus::Closed))
}

/// The complement of [`overdue`], spelled out: `NOT (deadline < today ...)` would drop the rows
/// without a deadline, since SQL compares NULL to nothing.
pub fn not_overdue(today: NaiveDate) -> Condition {
    Condition::any()
        .add(finding::Column::Deadline.is_null())
        .add(finding::Column::Deadline.gte(today))
        .add(finding::Column::Status.eq(FindingStatus::Closed))
}

/// One page of the findings the caller may read that match `filter`.
pub async fn list(
    db: &impl ConnectionTrait,
    caller: &Caller,
    filter: &FindingFilter,
    sort: (FindingOrder, bool),
    thresholds: &Thresholds,
    args: &PageArgs,
) -> AppResult<Page<finding::Model>> {
    list_columns(
        db,
        caller,
        filter,
        sort,
        thresholds,
        args,
        Columns::ALL,
        None,
    )
    .await
}

/// [`list`] reading only `columns` (and the order's keys); the other fields of the models
/// hold placeholders that the models know are unread (`entity::Unread`): read them through
/// `finding::Projected`, which refuses those. With `nested`, the list under each finding is
/// read in the same statement ([`page::fetch_under`]).
#[allow(clippy::too_many_arguments)]
pub async fn list_columns(
    db: &impl ConnectionTrait,
    caller: &Caller,
    filter: &FindingFilter,
    sort: (FindingOrder, bool),
    thresholds: &Thresholds,
    args: &PageArgs,
    columns: Columns,
    nested: Option<&mut dyn page::Lateral>,
) -> AppResult<Page<finding::Model>> {
    let columns = columns.with(order_columns(sort.0)).list();
    let select = matching(db, caller, filter, thresholds)
        .await?
        .select_only()
        .columns(columns.iter().copied());
    let decode =
        |row: &sea_orm::QueryResult, at| finding::Model::from_columns_at(row, &columns, at);
    let order = order(sort.0, sort.1);
    let page = page::fetch_under(db, select, &order, args, decode, nested).await?;
    // Every change to a finding, its links and its measures is audited.
    Ok(page.audited())
}

/// The columns an order's keys are read from (a page's cursors are written from them).
fn order_columns(by: FindingOrder) -> Columns {
    use finding::Column as C;
    Columns::of(match by {
        FindingOrder::Ordinal => &[C::InspectionId, C::Ordinal],
        FindingOrder::Deadline => &[C::Deadline],
        FindingOrder::UpdatedAt => &[C::UpdatedAt],
    })
}

/// What a list of findings nested under another record hangs from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Parent {
    Inspection,
    Category,
    /// The regulations that answer them (links not undone).
    Regulation,
}

/// The pages of findings under each of `parents` (all of one kind), with the same filter,
/// order and page for each: what [`list`] answers for one parent, for a page of parents in one
/// statement.
#[allow(clippy::too_many_arguments)]
pub async fn list_each(
    db: &impl ConnectionTrait,
    caller: &Caller,
    filter: &FindingFilter,
    parent: Parent,
    parents: &[i32],
    sort: (FindingOrder, bool),
    thresholds: &Thresholds,
    args: &PageArgs,
    columns: Columns,
) -> AppResult<HashMap<i32, Page<finding::Model>>> {
    each(db, caller, filter, parent, sort, thresholds, args, columns)
        .await?
        .fetch(db, parents)
        .await
}

/// [`list_each`] to be read, for parents not yet read: with their page, in its statement
/// ([`page::fetch_under`]).
#[allow(clippy::too_many_arguments)]
pub async fn each(
    db: &impl ConnectionTrait,
    caller: &Caller,
    filter: &FindingFilter,
    parent: Parent,
    sort: (FindingOrder, bool),
    thresholds: &Thresholds,
    args: &PageArgs,
    columns: Columns,
) -> AppResult<EachRead<finding::Entity>> {
    let columns = columns.with(order_columns(sort.0)).list();
    let mut select = matching(db, caller, filter, thresholds)
        .await?
        .select_only()
        .columns(columns.iter().copied());
    let parent = match parent {
        Parent::Inspection => Expr::col((finding::Entity, finding::Column::InspectionId)),
        Parent::Category => Expr::col((finding::Entity, finding::Column::CategoryId)),
        Parent::Regulation => {
            use finding_regulation::{Column as L, Entity as Link};
            QueryTrait::query(&mut select).join(
                JoinType::InnerJoin,
                Link,
                Condition::all()
                    .add(
                        Expr::col((Link, L::FindingId))
                            .equals((finding::Entity, finding::Column::Id)),
                    )
                    .add(Expr::col((Link, L::UnlinkedAt)).is_null()),
            );
            Expr::col((
                finding_regulation::Entity,
                finding_regulation::Column::RegulationId,
            ))
        }
    };
    Ok(EachRead::new(
        select,
        parent,
        order(sort.0, sort.1),
        args,
        &columns,
        finding::Model::from_columns,
    )?
    .audited())
}

/// Those of findings `ids` that the caller may read and that match `filter`: the rule a list
/// applies, for records a caller is told of (subscriptions) rather than asked for.
pub async fn among(
    db: &impl ConnectionTrait,
    caller: &Caller,
    filter: &FindingFilter,
    thresholds: &Thresholds,
    ids: &[i32],
) -> AppResult<Vec<finding::Model>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(matching(db, caller, filter, thresholds)
        .await?
        .filter(finding::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// The findings the caller may read that match `filter`, in no order.
async fn matching(
    db: &impl ConnectionTrait,
    caller: &Caller,
    filter: &FindingFilter,
    thresholds: &Thresholds,
) -> AppResult<sea_orm::Select<finding::Entity>> {
    let today = thresholds.today;
    caller.require_identity()?;
    let mut select = scope::findings(caller);
    if !filter.include_archived {
        select = select.filter(finding::Column::ArchivedAt.is_null());
    }
    if let Some(id) = filter.inspection_id {
        select = select.filter(finding::Column::InspectionId.eq(id));
    }
    if let Some(id) = filter.category_id {
        select = select.filter(finding::Column::CategoryId.eq(id));
    }
    if let Some(id) = filter.department_id {
        select =
            select.filter(finding::Column::DepartmentId.in_subquery(subtree_of(db, id).await?));
    }
    if !filter.status.is_empty() {
        select = select.filter(finding::Column::Status.is_in(filter.status.iter().copied()));
    }
    if !filter.rectification_type.is_empty() {
        select = select.filter(
            finding::Column::RectificationType.is_in(filter.rectification_type.iter().copied()),
        );
    }
    match filter.overdue {
        Some(true) => select = select.filter(overdue(today)),
        Some(false) => select = select.filter(not_overdue(today)),
        None => {}
    }
    if !filter.warning.is_empty() {
        let closed = Condition::all().add(finding::Column::Status.eq(FindingStatus::Closed));
        let by_deadline = thresholds.condition(&filter.warning, finding::Column::Deadline, closed);
        // A finding with a supervision order unanswered past its deadline (逾期未复) is RED
        // whatever its deadline says, as its `warning` shows it.
        let pressed = finding::Column::Id
            .in_subquery(crate::domain::workflow::supervision::findings_with_overdue_orders(today));
        select = select.filter(if filter.warning.contains(&Level::Red) {
            Condition::any().add(by_deadline).add(pressed)
        } else {
            Condition::all().add(by_deadline).add(pressed.not())
        });
    }
    if let Some(from) = filter.deadline_from {
        select = select.filter(finding::Column::Deadline.gte(from));
    }
    if let Some(to) = filter.deadline_to {
        select = select.filter(finding::Column::Deadline.lte(to));
    }
    if let Some(since) = filter.updated_since {
        select = select.filter(finding::Column::UpdatedAt.gte(since));
    }
    if let Some(regulation_id) = filter.regulation_id {
        let linked = Query::select()
            .column(finding_regulation::Column::FindingId)
            .from(finding_regulation::Entity)
            .and_where(finding_regulation::Column::RegulationId.eq(regulation_id))
            .and_where(finding_regulation::Column::UnlinkedAt.is_null())
            .to_owned();
        select = select.filter(finding::Column::Id.in_subquery(linked));
    }
    match filter.relapsed {
        Some(true) => {
            select = select.filter(finding::Column::Id.in_subquery(look_back::relapsed_findings()))
        }
        Some(false) => {
            select =
                select.filter(finding::Column::Id.not_in_subquery(look_back::relapsed_findings()))
        }
        None => {}
    }
    // Due: scheduled, not done, and closed (a reopened finding is rectified again first).
    let due = || {
        Condition::all()
            .add(finding::Column::Id.in_subquery(look_back::due_findings(today)))
            .add(finding::Column::Status.eq(FindingStatus::Closed))
    };
    match filter.recheck_due {
        Some(true) => select = select.filter(due()),
        Some(false) => select = select.filter(due().not()),
        None => {}
    }
    if let Some(words) = search_words(filter.search.as_deref())? {
        select = select.filter(finding_search(&words));
    }
    Ok(select)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deadline_orders_literal_is_the_missing_deadline_their_cursors_carry() {
        assert_eq!(NO_DEADLINE_SQL, format!("'{NO_DEADLINE}'"));
    }
}

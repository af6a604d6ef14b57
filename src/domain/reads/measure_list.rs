//! Listing measures: filters and orders shared by GraphQL and REST.

use chrono::NaiveDate;
use entity::enums::MeasureStatus;
use entity::{finding, measure};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::auth::Caller;
use crate::domain::reads::finding_list::{NO_DEADLINE, deadline_or_last};
use crate::domain::reads::listing::{measure_search, search_words, subtree_of};
use crate::domain::reads::page::{self, Key, Order, Page, PageArgs};
use crate::domain::reads::scope;
use crate::domain::workflow::warning::{Level, Thresholds};
use crate::error::AppResult;

#[derive(Debug, Default, Clone)]
pub struct MeasureFilter {
    pub finding_id: Option<i32>,
    /// Measures of this department or below: their own department, or, for measures without
    /// one, their finding's.
    pub department_id: Option<i32>,
    pub status: Vec<MeasureStatus>,
    /// Past the deadline and not done (as of `today`).
    pub overdue: Option<bool>,
    /// At any of these early-warning levels.
    pub warning: Vec<Level>,
    pub include_archived: bool,
    /// Words each in the measure's content or its finding's title or description.
    pub search: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MeasureOrder {
    #[default]
    Ordinal,
    Deadline,
    UpdatedAt,
}

pub fn order(by: MeasureOrder, descending: bool) -> Order<measure::Model> {
    use measure::Column as C;
    match by {
        MeasureOrder::Ordinal => Order {
            name: "measure.ordinal",
            exprs: vec![
                Expr::col(C::FindingId),
                Expr::col(C::Ordinal),
                Expr::col(C::Id),
            ],
            keys: |m| {
                vec![
                    Key::I(m.finding_id.into()),
                    Key::I(m.ordinal.into()),
                    Key::I(m.id.into()),
                ]
            },
            descending,
        },
        MeasureOrder::Deadline => Order {
            name: "measure.deadline",
            exprs: vec![deadline_or_last(C::Deadline), Expr::col(C::Id)],
            keys: |m| {
                vec![
                    Key::D(m.deadline.unwrap_or(NO_DEADLINE)),
                    Key::I(m.id.into()),
                ]
            },
            descending,
        },
        MeasureOrder::UpdatedAt => Order {
            name: "measure.updated_at",
            exprs: vec![Expr::col(C::UpdatedAt), Expr::col(C::Id)],
            keys: |m| vec![Key::T(m.updated_at), Key::I(m.id.into())],
            descending,
        },
    }
}

/// The columns an order's keys are read from (a page's cursors are written from them), a bit
/// each by place.
fn order_columns(by: MeasureOrder) -> u64 {
    use measure::Column as C;
    let columns: &[C] = match by {
        MeasureOrder::Ordinal => &[C::FindingId, C::Ordinal],
        MeasureOrder::Deadline => &[C::Deadline],
        MeasureOrder::UpdatedAt => &[C::UpdatedAt],
    };
    columns.iter().fold(0, |set, &c| set | 1 << c as u32)
}

pub fn overdue(today: NaiveDate) -> Condition {
    Condition::all()
        .add(measure::Column::Deadline.lt(today))
        .add(measure::Column::Status.ne(MeasureStatus::Done))
}

/// The complement of [`overdue`], spelled out: `NOT (deadline < today ...)` would drop the rows
/// without a deadline, since SQL compares NULL to nothing.
pub fn not_overdue(today: NaiveDate) -> Condition {
    Condition::any()
        .add(measure::Column::Deadline.is_null())
        .add(measure::Column::Deadline.gte(today))
        .add(measure::Column::Status.eq(MeasureStatus::Done))
}

/// The page of measures the caller may read, by `filter`, reading the columns `reads` names (a
/// bit each by the column's place in the model, as the catalogue derives them from the fields
/// shown; `None`: every one), the id and the order's keys; the others are left unread
/// (`measure::Projected` refuses them).
pub async fn list(
    db: &impl ConnectionTrait,
    caller: &Caller,
    filter: &MeasureFilter,
    sort: (MeasureOrder, bool),
    thresholds: &Thresholds,
    args: &PageArgs,
    reads: Option<u64>,
) -> AppResult<Page<measure::Model>> {
    let today = thresholds.today;
    caller.require_identity()?;
    let mut select =
        measure::Entity::find().filter(scope::readable_finding(measure::Column::FindingId, caller));
    if !filter.include_archived {
        select = select.filter(measure::Column::ArchivedAt.is_null());
    }
    if let Some(id) = filter.finding_id {
        select = select.filter(measure::Column::FindingId.eq(id));
    }
    if let Some(id) = filter.department_id {
        let subtree = subtree_of(db, id).await?;
        let findings_there = Query::select()
            .column(finding::Column::Id)
            .from(finding::Entity)
            .and_where(finding::Column::DepartmentId.in_subquery(subtree.clone()))
            .to_owned();
        select = select.filter(
            Condition::any()
                .add(measure::Column::DepartmentId.in_subquery(subtree))
                .add(
                    Condition::all()
                        .add(measure::Column::DepartmentId.is_null())
                        .add(measure::Column::FindingId.in_subquery(findings_there)),
                ),
        );
    }
    if !filter.status.is_empty() {
        select = select.filter(measure::Column::Status.is_in(filter.status.iter().copied()));
    }
    match filter.overdue {
        Some(true) => select = select.filter(overdue(today)),
        Some(false) => select = select.filter(not_overdue(today)),
        None => {}
    }
    if !filter.warning.is_empty() {
        let done = Condition::all().add(measure::Column::Status.eq(MeasureStatus::Done));
        select =
            select.filter(thresholds.condition(&filter.warning, measure::Column::Deadline, done));
    }
    if let Some(words) = search_words(filter.search.as_deref())? {
        select = select.filter(measure_search(&words));
    }
    let columns = measure::selected(reads.map(|set| set | order_columns(sort.0)));
    let select = select.select_only().columns(columns.iter().copied());
    let page = page::fetch_decoded(db, select, &order(sort.0, sort.1), args, |row| {
        measure::Model::from_columns(row, &columns)
    })
    .await?;
    // Every change to a measure (and to the findings its scope reads) is audited.
    Ok(page.audited())
}

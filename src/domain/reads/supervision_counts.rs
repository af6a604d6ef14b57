//! The office's figures on supervision orders (督办单): 督办件数 (orders issued), 逾期未复
//! (open past the reply deadline) and 按期回复率 (replies in time as a share of the orders
//! that are due). One grouped aggregate over the orders about a set of findings, so that the
//! status summary, `/api/v1/status`, reports and the bulletin count the same way.
//!
//! An order is *answered in time* when it has been replied to (replied or accepted) and was
//! never found unanswered past its deadline (`overdue_at`); it is *late* when it was so found,
//! or is open past its deadline now. The rate is in-time over in-time plus late: orders not
//! yet due count neither way, and with none due there is no rate.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::enums::SupervisionStatus;
use entity::{finding, supervision_order, supervision_order_subject};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait,
    Select,
};

use crate::error::AppResult;

/// Orders counted one way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderCounts {
    /// 督办件数: orders issued.
    pub issued: i64,
    /// Awaiting the unit's reply (including returned ones).
    pub open: i64,
    /// Replied, awaiting the office (待办结).
    pub replied: i64,
    /// Accepted (已办结).
    pub accepted: i64,
    /// 逾期未复: open past the reply deadline.
    pub overdue: i64,
    /// Replied without ever being overdue.
    pub on_time: i64,
    /// Found unanswered past a deadline, or open past it now.
    pub late: i64,
}

impl OrderCounts {
    /// 按期回复率, 0 to 1; none while no order is due.
    pub fn on_time_rate(&self) -> Option<f64> {
        let due = self.on_time + self.late;
        (due > 0).then(|| self.on_time as f64 / due as f64)
    }

    fn add(&mut self, other: &OrderCounts) {
        self.issued += other.issued;
        self.open += other.open;
        self.replied += other.replied;
        self.accepted += other.accepted;
        self.overdue += other.overdue;
        self.on_time += other.on_time;
        self.late += other.late;
    }
}

/// The conditions the figures sum, as of `today`.
fn open_past(today: NaiveDate) -> Condition {
    Condition::all()
        .add(supervision_order::Column::Status.eq(SupervisionStatus::Open))
        .add(supervision_order::Column::ReplyDeadline.lt(today))
}

fn answered() -> Condition {
    Condition::all().add(
        supervision_order::Column::Status
            .is_in([SupervisionStatus::Replied, SupervisionStatus::Accepted]),
    )
}

fn sum_of(condition: Condition) -> Expr {
    Func::coalesce([
        Func::sum(Expr::case(condition, Expr::val(1)).finally(Expr::val(0))).into(),
        Expr::val(0),
    ])
    .into()
}

/// The orders about any of `findings` (a scoped selection), counted per inspection.
pub async fn by_inspection(
    db: &impl ConnectionTrait,
    findings: &Select<finding::Entity>,
    today: NaiveDate,
) -> AppResult<BTreeMap<i32, OrderCounts>> {
    let ids = findings
        .clone()
        .select_only()
        .column(finding::Column::Id)
        .into_query();
    let about = supervision_order_subject::Entity::find()
        .select_only()
        .column(supervision_order_subject::Column::OrderId)
        .filter(supervision_order_subject::Column::FindingId.in_subquery(ids))
        .into_query();
    grouped(
        db,
        Condition::all().add(supervision_order::Column::Id.in_subquery(about)),
        today,
    )
    .await
}

/// The orders about an inspection issued before `moment`, as they stand, counted as of
/// `today` (a report's figures: the office's orders are about the unit's whole rectification).
pub async fn of_inspection(
    db: &impl ConnectionTrait,
    inspection_id: i32,
    moment: DateTime<Utc>,
    today: NaiveDate,
) -> AppResult<OrderCounts> {
    let which = Condition::all()
        .add(supervision_order::Column::InspectionId.eq(inspection_id))
        .add(supervision_order::Column::CreatedAt.lt(moment));
    Ok(sum(grouped(db, which, today).await?.values()))
}

/// A row of [`grouped`]: the inspection, then the figures in [`OrderCounts`]' order.
type Grouped = (i32, i64, i64, i64, i64, i64, i64, i64);

/// The figures of the orders `which` selects, per inspection.
async fn grouped(
    db: &impl ConnectionTrait,
    which: Condition,
    today: NaiveDate,
) -> AppResult<BTreeMap<i32, OrderCounts>> {
    let late = Condition::any()
        .add(supervision_order::Column::OverdueAt.is_not_null())
        .add(open_past(today));
    let on_time = answered().add(supervision_order::Column::OverdueAt.is_null());
    let rows: Vec<Grouped> = supervision_order::Entity::find()
        .select_only()
        .column(supervision_order::Column::InspectionId)
        .column_as(supervision_order::Column::Id.count(), "issued")
        .column_as(
            sum_of(
                Condition::all().add(supervision_order::Column::Status.eq(SupervisionStatus::Open)),
            ),
            "open",
        )
        .column_as(
            sum_of(
                Condition::all()
                    .add(supervision_order::Column::Status.eq(SupervisionStatus::Replied)),
            ),
            "replied",
        )
        .column_as(
            sum_of(
                Condition::all()
                    .add(supervision_order::Column::Status.eq(SupervisionStatus::Accepted)),
            ),
            "accepted",
        )
        .column_as(sum_of(open_past(today)), "overdue")
        .column_as(sum_of(on_time), "on_time")
        .column_as(sum_of(late), "late")
        .filter(which)
        .group_by(supervision_order::Column::InspectionId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(inspection, issued, open, replied, accepted, overdue, on_time, late)| {
                (
                    inspection,
                    OrderCounts {
                        issued,
                        open,
                        replied,
                        accepted,
                        overdue,
                        on_time,
                        late,
                    },
                )
            },
        )
        .collect())
}

/// Counts added up.
pub fn sum<'a>(counts: impl IntoIterator<Item = &'a OrderCounts>) -> OrderCounts {
    let mut total = OrderCounts::default();
    for c in counts {
        total.add(c);
    }
    total
}

/// The orders about any of `findings`, counted together.
pub async fn totals(
    db: &impl ConnectionTrait,
    findings: &Select<finding::Entity>,
    today: NaiveDate,
) -> AppResult<OrderCounts> {
    Ok(sum(by_inspection(db, findings, today).await?.values()))
}

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

use crate::domain::reads::as_of;
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

/// The orders about an inspection as they stood at `moment` (the end of a report's day),
/// counted as of `today`: an order issued later is left out; one replied to, returned,
/// accepted or escalated later counts as it was then (its state rebuilt from the audit trail,
/// as the report's findings are: [`as_of::rows`]). So a report says what was so on its date,
/// however late it is generated.
pub async fn of_inspection(
    db: &impl ConnectionTrait,
    inspection_id: i32,
    moment: DateTime<Utc>,
    today: NaiveDate,
) -> AppResult<OrderCounts> {
    let current = supervision_order::Entity::find()
        .filter(supervision_order::Column::InspectionId.eq(inspection_id))
        .filter(supervision_order::Column::CreatedAt.lt(moment))
        .all(db)
        .await?;
    let then = as_of::rows(
        db,
        "supervision_order",
        current,
        |o| o.id,
        |_| false,
        moment,
    )
    .await?;
    let counted: Vec<OrderCounts> = then.iter().map(|o| counted(o, today)).collect();
    Ok(sum(&counted))
}

/// One order in hand counted as of `today`: the conditions [`grouped`] sums in the database
/// (open past its deadline is overdue and late; replied or accepted without ever having been
/// found overdue is in time).
pub fn counted(order: &supervision_order::Model, today: NaiveDate) -> OrderCounts {
    let open = order.status == SupervisionStatus::Open;
    let answered = matches!(
        order.status,
        SupervisionStatus::Replied | SupervisionStatus::Accepted
    );
    let open_past = open && order.reply_deadline < today;
    OrderCounts {
        issued: 1,
        open: i64::from(open),
        replied: i64::from(order.status == SupervisionStatus::Replied),
        accepted: i64::from(order.status == SupervisionStatus::Accepted),
        overdue: i64::from(open_past),
        on_time: i64::from(answered && order.overdue_at.is_none()),
        late: i64::from(order.overdue_at.is_some() || open_past),
    }
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

//! Supervision orders' relations read for many parents at once (the GraphQL loaders' queries):
//! the orders about each of a set of findings, each order's subjects and replies, and the
//! orders each finding still has open. A parent visible to the caller makes these visible: an
//! order is read by whoever may read one of its findings ([`orders`], the one rule), and so is
//! the evidence its replies brought.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use entity::enums::SupervisionStatus;
use entity::{
    evidence, supervision_order, supervision_order_subject, supervision_reply,
    supervision_reply_evidence,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    Select,
};

use crate::auth::{Caller, Permission};
use crate::domain::reads::scope;
use crate::error::AppResult;

/// Most orders `Finding.supervisionOrders` lists (newest first).
pub const PER_FINDING: i32 = 20;
/// Most subjects (findings and measures) one order names.
pub const SUBJECTS_MAX: usize = 100;
/// Most replies an order takes: a reply follows the issue or a return, so the office may
/// return an order 19 times; after that it accepts, or issues a new order. Every read of an
/// order's replies is bounded by this, and none leaves one out.
pub const REPLIES_MAX: usize = 20;

/// Orders the caller may read: those with a subject finding the caller may read.
pub fn orders(caller: &Caller) -> Select<supervision_order::Entity> {
    let select = supervision_order::Entity::find();
    if caller.can(Permission::ReadAll) {
        return select;
    }
    select.filter(
        supervision_order::Column::Id.in_subquery(
            supervision_order_subject::Entity::find()
                .select_only()
                .column(supervision_order_subject::Column::OrderId)
                .filter(scope::readable_finding(
                    supervision_order_subject::Column::FindingId,
                    caller,
                ))
                .into_query(),
        ),
    )
}

/// Whether the caller may read an order a piece of evidence came with (a reply's evidence is
/// downloadable by whoever reads its order, as its text is).
pub async fn reply_evidence_readable(
    db: &impl ConnectionTrait,
    caller: &Caller,
    evidence_id: i32,
) -> AppResult<bool> {
    let replies = supervision_reply_evidence::Entity::find()
        .filter(supervision_reply_evidence::Column::EvidenceId.eq(evidence_id))
        .select_only()
        .column(supervision_reply_evidence::Column::ReplyId)
        .into_query();
    let orders = supervision_reply::Entity::find()
        .filter(supervision_reply::Column::Id.in_subquery(replies))
        .select_only()
        .column(supervision_reply::Column::OrderId)
        .into_query();
    Ok(self::orders(caller)
        .filter(supervision_order::Column::Id.in_subquery(orders))
        .one(db)
        .await?
        .is_some())
}

/// The orders about each finding, newest first, at most [`PER_FINDING`] each: the (finding,
/// order) pairs numbered per finding by the database, then the orders those name.
pub async fn orders_of_findings(
    db: &impl ConnectionTrait,
    finding_ids: &[i32],
) -> AppResult<HashMap<i32, Vec<supervision_order::Model>>> {
    let mut out: HashMap<i32, Vec<supervision_order::Model>> = HashMap::new();
    let ids: BTreeSet<i32> = finding_ids.iter().copied().collect();
    if ids.is_empty() {
        return Ok(out);
    }
    // Ids are whole numbers, written into the statement as such.
    let list = ids
        .iter()
        .map(i32::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT finding_id, order_id FROM (\
           SELECT finding_id, order_id, ROW_NUMBER() OVER (PARTITION BY finding_id ORDER BY order_id DESC) AS rt_n \
           FROM (SELECT DISTINCT finding_id, order_id FROM supervision_order_subject WHERE finding_id IN ({list})) AS pairs\
         ) AS numbered WHERE rt_n <= {PER_FINDING} ORDER BY finding_id, order_id DESC"
    );
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql,
        ))
        .await?;
    let mut pairs = Vec::with_capacity(rows.len());
    for row in rows {
        let finding: i32 = row.try_get("", "finding_id")?;
        let order: i32 = row.try_get("", "order_id")?;
        pairs.push((finding, order));
    }
    let orders: HashMap<i32, supervision_order::Model> = supervision_order::Entity::find()
        .filter(
            supervision_order::Column::Id
                .is_in(pairs.iter().map(|(_, o)| *o).collect::<BTreeSet<_>>()),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    for (finding, order) in pairs {
        if let Some(o) = orders.get(&order) {
            out.entry(finding).or_default().push(o.clone());
        }
    }
    Ok(out)
}

/// How many orders are about each finding (all of them: `Finding.supervisionOrders` lists the
/// newest [`PER_FINDING`], this says whether there are more).
pub async fn order_counts_of_findings(
    db: &impl ConnectionTrait,
    finding_ids: &[i32],
) -> AppResult<HashMap<i32, i64>> {
    let ids: BTreeSet<i32> = finding_ids.iter().copied().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    // Ids are whole numbers, written into the statement as such.
    let list = ids
        .iter()
        .map(i32::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT finding_id, COUNT(DISTINCT order_id) AS n FROM supervision_order_subject \
         WHERE finding_id IN ({list}) GROUP BY finding_id"
    );
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql,
        ))
        .await?;
    let mut out = HashMap::with_capacity(rows.len());
    for row in rows {
        let finding: i32 = row.try_get("", "finding_id")?;
        let n: i64 = row.try_get("", "n")?;
        out.insert(finding, n);
    }
    Ok(out)
}

/// Each order's subjects, in the order issued.
pub async fn subjects_of_orders(
    db: &impl ConnectionTrait,
    order_ids: &[i32],
) -> AppResult<HashMap<i32, Vec<supervision_order_subject::Model>>> {
    let mut out: HashMap<i32, Vec<supervision_order_subject::Model>> = HashMap::new();
    // An order names at most SUBJECTS_MAX subjects: the read is bounded by its parents.
    let rows = supervision_order_subject::Entity::find()
        .filter(supervision_order_subject::Column::OrderId.is_in(order_ids.iter().copied()))
        .order_by_asc(supervision_order_subject::Column::Id)
        .limit((order_ids.len() * SUBJECTS_MAX) as u64)
        .all(db)
        .await?;
    for row in rows {
        out.entry(row.order_id).or_default().push(row);
    }
    Ok(out)
}

/// Each order's replies, oldest first: all of them (an order takes at most
/// [`REPLIES_MAX`], which bounds the read by its parents).
pub async fn replies_of_orders(
    db: &impl ConnectionTrait,
    order_ids: &[i32],
) -> AppResult<HashMap<i32, Vec<supervision_reply::Model>>> {
    let mut out: HashMap<i32, Vec<supervision_reply::Model>> = HashMap::new();
    let rows = supervision_reply::Entity::find()
        .filter(supervision_reply::Column::OrderId.is_in(order_ids.iter().copied()))
        .order_by_asc(supervision_reply::Column::Id)
        .limit((order_ids.len() * REPLIES_MAX) as u64)
        .all(db)
        .await?;
    for row in rows {
        out.entry(row.order_id).or_default().push(row);
    }
    Ok(out)
}

/// Orders by id, for the notices that name one (a notice is filed under one of its order's
/// findings and shown to those who read that finding, who read the order too).
pub async fn orders_by_id(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i32>,
) -> AppResult<Vec<supervision_order::Model>> {
    Ok(supervision_order::Entity::find()
        .filter(supervision_order::Column::Id.is_in(ids))
        .all(db)
        .await?)
}

/// An order not yet accepted (办结), as a finding's warning and close-out review see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unfinished {
    pub id: i32,
    pub status: SupervisionStatus,
    pub reply_deadline: NaiveDate,
}

impl Unfinished {
    /// Open past its deadline (逾期未复) on `today`.
    pub fn overdue(&self, today: NaiveDate) -> bool {
        self.status == SupervisionStatus::Open && self.reply_deadline < today
    }
}

/// The orders each finding has that the office has not accepted yet, by order id.
pub async fn unfinished_of_findings(
    db: &impl ConnectionTrait,
    finding_ids: &[i32],
) -> AppResult<HashMap<i32, Vec<Unfinished>>> {
    let about = supervision_order_subject::Entity::find()
        .select_only()
        .column(supervision_order_subject::Column::OrderId)
        .filter(supervision_order_subject::Column::FindingId.is_in(finding_ids.iter().copied()));
    let pairs: Vec<(i32, i32)> = about
        .column(supervision_order_subject::Column::FindingId)
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    let orders: HashMap<i32, Unfinished> = supervision_order::Entity::find()
        .filter(
            supervision_order::Column::Id
                .is_in(pairs.iter().map(|(o, _)| *o).collect::<BTreeSet<_>>()),
        )
        .filter(supervision_order::Column::Status.ne(SupervisionStatus::Accepted))
        .all(db)
        .await?
        .into_iter()
        .map(|o| {
            (
                o.id,
                Unfinished {
                    id: o.id,
                    status: o.status,
                    reply_deadline: o.reply_deadline,
                },
            )
        })
        .collect();
    let mut out: HashMap<i32, Vec<Unfinished>> = HashMap::new();
    for (order, finding) in pairs {
        if let Some(u) = orders.get(&order) {
            out.entry(finding).or_default().push(*u);
        }
    }
    for list in out.values_mut() {
        list.sort_by_key(|u| u.id);
    }
    Ok(out)
}

/// The evidence each reply came with, in the order attached.
pub async fn evidence_of_replies(
    db: &impl ConnectionTrait,
    reply_ids: &[i32],
) -> AppResult<HashMap<i32, Vec<evidence::Model>>> {
    let links = supervision_reply_evidence::Entity::find()
        .filter(supervision_reply_evidence::Column::ReplyId.is_in(reply_ids.iter().copied()))
        .order_by_asc(supervision_reply_evidence::Column::EvidenceId)
        .all(db)
        .await?;
    let mut rows: HashMap<i32, evidence::Model> = evidence::Entity::find()
        .filter(evidence::Column::Id.is_in(links.iter().map(|l| l.evidence_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    let mut out: HashMap<i32, Vec<evidence::Model>> = HashMap::new();
    for link in links {
        if let Some(e) = rows.remove(&link.evidence_id) {
            out.entry(link.reply_id).or_default().push(e);
        }
    }
    Ok(out)
}

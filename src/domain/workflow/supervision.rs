//! Supervision orders (督办单): the inspection office presses an inspected unit on some of its
//! findings (or their measures) with a level, a requirement and a reply deadline.
//!
//! ```text
//! issue ──▶ OPEN ──reply──▶ REPLIED ──accept (办结)──▶ ACCEPTED
//!             ▲                 │
//!             └──return (reason, new deadline)──┘
//! ```
//!
//! The office (inspectors, admins: `ReviewCloseOut`) issues, accepts and returns; the managers
//! who may write every subject finding's department reply. Each move is one transaction: the
//! order's version-guarded update, a note in each subject finding's ledger, an audit event (the
//! outbox carries it as `supervision.issued` / `.replied` / `.accepted` / `.returned`) and
//! notices in the inbox of the unit's managers and leaders. An order is read by whoever may
//! read one of its findings: a unit sees its own, a section those about findings it works on.
//! Closing a finding does not close its orders.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use entity::enums::{ProgressKind, Role, SupervisionLevel, SupervisionStatus};
use entity::{
    account, department, finding, measure, notification, supervision_order,
    supervision_order_subject, supervision_reply, supervision_reply_evidence,
};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};
use serde::Serialize;
use serde_json::json;

use crate::auth::{Caller, Permission};
use crate::domain::Acting;
use crate::domain::reads::page::{self, Key, Order, Page, PageArgs};
use crate::domain::reads::scope;
pub use crate::domain::reads::supervision_relations::{
    PER_FINDING, REPLIES_MAX, SUBJECTS_MAX, orders, reply_evidence_readable,
};
use crate::domain::records::change::{Record, audited};
use crate::domain::records::ledger::{self, Note};
use crate::domain::records::progress;
use crate::domain::records::text;
use crate::error::{AppError, AppResult};
use crate::i18n::{Language, message_in};

/// Longest requirement, reply or reason, in characters.
pub const TEXT_MAX: usize = 5_000;
/// What an order is issued with.
pub struct NewOrder {
    pub finding_ids: Vec<i32>,
    pub measure_ids: Vec<i32>,
    pub level: SupervisionLevel,
    pub requirement: String,
    pub reply_deadline: NaiveDate,
}

/// Which orders to list.
#[derive(Debug, Default, Clone, Copy)]
pub struct OrderFilter {
    pub status: Option<SupervisionStatus>,
    pub level: Option<SupervisionLevel>,
    /// Only those past their deadline without a reply (true), or the others (false).
    pub overdue: Option<bool>,
}

/// The order as audited: its row and the findings it is about (so the outbox names one).
#[derive(Serialize)]
struct Audited<'a> {
    #[serde(flatten)]
    order: &'a supervision_order::Model,
    finding_id: Option<i32>,
    finding_ids: &'a [i32],
}

/// One order the caller may read, or `NOT_FOUND`.
pub async fn get(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: i32,
) -> AppResult<supervision_order::Model> {
    caller.require_identity()?;
    orders(caller)
        .filter(supervision_order::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("supervisionOrder", id))
}

/// The findings an order is about, in id order.
pub async fn finding_ids(db: &impl ConnectionTrait, order_id: i32) -> AppResult<Vec<i32>> {
    let ids: Vec<i32> = supervision_order_subject::Entity::find()
        .filter(supervision_order_subject::Column::OrderId.eq(order_id))
        .select_only()
        .column(supervision_order_subject::Column::FindingId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(ids
        .into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect())
}

/// The measures an order names, in id order.
pub async fn measure_ids(db: &impl ConnectionTrait, order_id: i32) -> AppResult<Vec<i32>> {
    let ids: Vec<Option<i32>> = supervision_order_subject::Entity::find()
        .filter(supervision_order_subject::Column::OrderId.eq(order_id))
        .select_only()
        .column(supervision_order_subject::Column::MeasureId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(ids.into_iter().flatten().collect())
}

/// What an order is about (findings, and measures of them), in the order issued.
pub async fn subjects(
    db: &impl ConnectionTrait,
    order_id: i32,
) -> AppResult<Vec<supervision_order_subject::Model>> {
    Ok(supervision_order_subject::Entity::find()
        .filter(supervision_order_subject::Column::OrderId.eq(order_id))
        .order_by_asc(supervision_order_subject::Column::Id)
        .limit(SUBJECTS_MAX as u64)
        .all(db)
        .await?)
}

/// The replies to an order, oldest first.
pub async fn replies(
    db: &impl ConnectionTrait,
    order_id: i32,
) -> AppResult<Vec<supervision_reply::Model>> {
    Ok(supervision_reply::Entity::find()
        .filter(supervision_reply::Column::OrderId.eq(order_id))
        .order_by_asc(supervision_reply::Column::Id)
        .limit(REPLIES_MAX as u64)
        .all(db)
        .await?)
}

/// Whether the order is past its deadline without a reply (逾期未复) on `today`.
pub fn is_overdue(order: &supervision_order::Model, today: NaiveDate) -> bool {
    order.status == SupervisionStatus::Open && order.reply_deadline < today
}

/// The ids of findings with an order open past its reply deadline on `today` (逾期未复): a
/// subquery for the lists' warning filter.
pub fn findings_with_overdue_orders(today: NaiveDate) -> sea_orm::sea_query::SelectStatement {
    supervision_order_subject::Entity::find()
        .select_only()
        .column(supervision_order_subject::Column::FindingId)
        .filter(
            supervision_order_subject::Column::OrderId.in_subquery(
                supervision_order::Entity::find()
                    .select_only()
                    .column(supervision_order::Column::Id)
                    .filter(supervision_order::Column::Status.eq(SupervisionStatus::Open))
                    .filter(supervision_order::Column::ReplyDeadline.lt(today))
                    .into_query(),
            ),
        )
        .into_query()
}

/// The orders the caller may read, newest first; `finding_id`: only those about it.
pub async fn list(
    db: &impl ConnectionTrait,
    caller: &Caller,
    finding_id: Option<i32>,
    filter: OrderFilter,
    today: NaiveDate,
    args: &PageArgs,
) -> AppResult<Page<supervision_order::Model>> {
    caller.require_identity()?;
    let mut select = orders(caller);
    if let Some(id) = finding_id {
        select = select.filter(
            supervision_order::Column::Id.in_subquery(
                supervision_order_subject::Entity::find()
                    .select_only()
                    .column(supervision_order_subject::Column::OrderId)
                    .filter(supervision_order_subject::Column::FindingId.eq(id))
                    .into_query(),
            ),
        );
    }
    if let Some(status) = filter.status {
        select = select.filter(supervision_order::Column::Status.eq(status));
    }
    if let Some(level) = filter.level {
        select = select.filter(supervision_order::Column::Level.eq(level));
    }
    match filter.overdue {
        Some(true) => {
            select = select
                .filter(supervision_order::Column::Status.eq(SupervisionStatus::Open))
                .filter(supervision_order::Column::ReplyDeadline.lt(today))
        }
        Some(false) => {
            select = select.filter(
                Condition::any()
                    .add(supervision_order::Column::Status.ne(SupervisionStatus::Open))
                    .add(supervision_order::Column::ReplyDeadline.gte(today)),
            )
        }
        None => {}
    }
    let order = Order {
        name: "supervision_order.id",
        exprs: vec![Expr::col(supervision_order::Column::Id)],
        keys: |o: &supervision_order::Model| vec![Key::I(o.id.into())],
        descending: true,
    };
    page::fetch(db, select, &order, args).await
}

fn require_office(who: &Acting) -> AppResult<()> {
    who.require(Permission::ReviewCloseOut)
}

fn deadline(field: &str, day: NaiveDate, who: &Acting) -> AppResult<NaiveDate> {
    let day = text::date(field, day)?;
    if day < who.today() {
        return Err(AppError::bad_input(field, t!("supervision-deadline-past")));
    }
    Ok(day)
}

/// Issues an order (inspectors, admins) about findings and measures of one inspected unit,
/// all within the issuer's reach.
pub async fn issue(
    db: &impl ConnectionTrait,
    who: &Acting,
    input: NewOrder,
) -> AppResult<supervision_order::Model> {
    require_office(who)?;
    let requirement = text::required("requirement", &input.requirement, TEXT_MAX)?;
    let reply_deadline = deadline("replyDeadline", input.reply_deadline, who)?;
    if input.finding_ids.is_empty() && input.measure_ids.is_empty() {
        return Err(AppError::bad_input(
            "findingIds",
            t!("supervision-no-subject"),
        ));
    }
    if input.finding_ids.len() + input.measure_ids.len() > SUBJECTS_MAX {
        return Err(AppError::bad_input(
            "findingIds",
            t!("supervision-too-many", max = SUBJECTS_MAX),
        ));
    }
    // (finding, measure) pairs, each finding read within the issuer's reach.
    let mut subjects: Vec<(i32, Option<i32>)> = Vec::new();
    if !input.measure_ids.is_empty() {
        let measures = measure::Entity::find()
            .filter(measure::Column::Id.is_in(input.measure_ids.iter().copied()))
            .filter(measure::Column::ArchivedAt.is_null())
            .all(db)
            .await?;
        for id in &input.measure_ids {
            let m = measures
                .iter()
                .find(|m| m.id == *id)
                .ok_or_else(|| AppError::not_found("measure", *id))?;
            if !subjects.contains(&(m.finding_id, Some(m.id))) {
                subjects.push((m.finding_id, Some(m.id)));
            }
        }
    }
    for id in &input.finding_ids {
        if !subjects.contains(&(*id, None)) {
            subjects.push((*id, None));
        }
    }
    let wanted: BTreeSet<i32> = subjects.iter().map(|(f, _)| *f).collect();
    let found = scope::findings(&who.caller)
        .filter(finding::Column::Id.is_in(wanted.iter().copied()))
        .filter(finding::Column::ArchivedAt.is_null())
        .all(db)
        .await?;
    if let Some(missing) = wanted.iter().find(|id| !found.iter().any(|f| f.id == **id)) {
        return Err(AppError::not_found("finding", *missing));
    }
    let inspection_id = found[0].inspection_id;
    if found.iter().any(|f| f.inspection_id != inspection_id) {
        return Err(AppError::bad_input(
            "findingIds",
            t!("supervision-one-unit"),
        ));
    }
    let inspection =
        crate::domain::records::inspection::get(db, &who.caller, inspection_id).await?;
    let now = who.now();
    let order = supervision_order::ActiveModel {
        id: NotSet,
        inspection_id: Set(inspection.id),
        unit_id: Set(inspection.unit_id),
        level: Set(input.level),
        requirement: Set(requirement),
        reply_deadline: Set(reply_deadline),
        status: Set(SupervisionStatus::Open),
        issued_by: Set(who.sub().to_owned()),
        issued_by_name: Set(who.author_name()),
        accepted_by: Set(None),
        accepted_at: Set(None),
        overdue_at: Set(None),
        reminded_at: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    for (finding_id, measure_id) in &subjects {
        supervision_order_subject::ActiveModel {
            id: NotSet,
            order_id: Set(order.id),
            finding_id: Set(*finding_id),
            measure_id: Set(*measure_id),
        }
        .insert(db)
        .await?;
    }
    let ids: Vec<i32> = wanted.into_iter().collect();
    let level = crate::i18n::supervision_level(order.level);
    let note = format!(
        "督办：{level}，要求：{}；回复期限{}",
        order.requirement,
        crate::report::chinese_date(order.reply_deadline)
    );
    finish(db, who, "issue", None, &order, &ids, &note).await?;
    Ok(order)
}

/// The unit's written reply (书面回复): by a manager who may write every subject finding's
/// department, to an open order.
pub async fn reply(
    db: &impl ConnectionTrait,
    who: &Acting,
    id: i32,
    content: &str,
    evidence: &ReplyEvidence,
) -> AppResult<supervision_order::Model> {
    who.require(Permission::SubmitCloseOut)?;
    let content = text::required("content", content, TEXT_MAX)?;
    let current = get(db, &who.caller, id).await?;
    let ids = finding_ids(db, id).await?;
    let departments: Vec<i32> = finding::Entity::find()
        .filter(finding::Column::Id.is_in(ids.iter().copied()))
        .select_only()
        .column(finding::Column::DepartmentId)
        .into_tuple()
        .all(db)
        .await?;
    for d in departments {
        scope::require_writable(db, &who.caller, d).await?;
    }
    require_status(&current, SupervisionStatus::Open, "reply")?;
    let now = who.now();
    if evidence.links.len() + evidence.files.len() > progress::MAX_EVIDENCE {
        return Err(AppError::bad_input(
            "files",
            t!("evidence-too-many", max = progress::MAX_EVIDENCE),
        ));
    }
    let row = supervision_reply::ActiveModel {
        id: NotSet,
        order_id: Set(id),
        content: Set(content.clone()),
        author_sub: Set(who.sub().to_owned()),
        author_name: Set(who.author_name()),
        created_at: Set(now),
        returned_at: Set(None),
        returned_by: Set(None),
        return_reason: Set(None),
        new_deadline: Set(None),
    }
    .insert(db)
    .await?;
    let updated = moved(db, who, &current, SupervisionStatus::Replied, None).await?;
    let note = format!("督办回复：{content}");
    let extra = json!({"reply_id": row.id});
    let notes = finish(
        db,
        who,
        "reply",
        Some((&current, extra)),
        &updated,
        &ids,
        &note,
    )
    .await?;
    // The evidence goes into every subject finding's ledger with the reply's note, as a
    // progress entry's does; the reply names the rows of the first finding's note (whoever
    // reads the order may download them: `reply_evidence_readable`).
    for (n, entry) in notes.iter().enumerate() {
        let rows = progress::attach(db, entry.id, &evidence.links, &evidence.files, now).await?;
        if n == 0 {
            for e in rows {
                supervision_reply_evidence::ActiveModel {
                    id: NotSet,
                    reply_id: Set(row.id),
                    evidence_id: Set(e.id),
                }
                .insert(db)
                .await?;
            }
        }
    }
    Ok(updated)
}

/// Evidence (佐证材料) with a reply: checked links and stored files
/// ([`progress::evidence_stored`]).
#[derive(Default)]
pub struct ReplyEvidence {
    pub links: Vec<(String, String)>,
    pub files: Vec<(String, crate::evidence::Stored)>,
}

/// Replies with evidence files, as a progress entry is added: the files are stored first
/// (within the same budgets: count, size, media types), the reply written in one transaction,
/// and the files it brought removed again if it does not commit.
pub async fn reply_with_evidence(
    db: &sea_orm::DatabaseConnection,
    store: &crate::evidence::Store,
    who: &Acting,
    id: i32,
    content: &str,
    links: &[progress::NewLink],
    files: Vec<progress::NewFile>,
) -> AppResult<supervision_order::Model> {
    // Refusals that need no file stored come before any is.
    who.require(Permission::SubmitCloseOut)?;
    text::required("content", content, TEXT_MAX)?;
    let (links, files) = progress::evidence_stored(store, links, files).await?;
    let evidence = ReplyEvidence { links, files };
    let result = crate::domain::write(db, who, async |txn| {
        reply(txn, who, id, content, &evidence).await
    })
    .await;
    if result.is_err() || who.dry_run {
        evidence.files.iter().for_each(|(_, s)| s.discard());
    }
    result
}

/// Accepts the latest reply (办结): the office, never the person who wrote the reply. Of two
/// accepting at once, one wins and the other is a `CONFLICT`.
pub async fn accept(
    db: &impl ConnectionTrait,
    who: &Acting,
    id: i32,
) -> AppResult<supervision_order::Model> {
    require_office(who)?;
    let current = get(db, &who.caller, id).await?;
    if current.status == SupervisionStatus::Accepted {
        // Two accepting at once: the one that came second finds it done.
        return Err(AppError::Conflict(t!(
            "supervision-already-accepted",
            id = id
        )));
    }
    require_status(&current, SupervisionStatus::Replied, "accept")?;
    let last = latest_reply(db, id).await?;
    if last.author_sub == who.sub() {
        return Err(AppError::Forbidden(t!("supervision-own-reply")));
    }
    let updated = moved(db, who, &current, SupervisionStatus::Accepted, None).await?;
    let ids = finding_ids(db, id).await?;
    let note = "督办办结：回复已审核通过".to_owned();
    let extra = json!({"reply_id": last.id});
    finish(
        db,
        who,
        "accept",
        Some((&current, extra)),
        &updated,
        &ids,
        &note,
    )
    .await?;
    Ok(updated)
}

/// Returns the latest reply with a reason and a new deadline: the order is open again.
pub async fn send_back(
    db: &impl ConnectionTrait,
    who: &Acting,
    id: i32,
    reason: &str,
    new_deadline: NaiveDate,
) -> AppResult<supervision_order::Model> {
    require_office(who)?;
    let reason = text::required("reason", reason, TEXT_MAX)?;
    let new_deadline = deadline("newDeadline", new_deadline, who)?;
    let current = get(db, &who.caller, id).await?;
    require_status(&current, SupervisionStatus::Replied, "return")?;
    let replied = supervision_reply::Entity::find()
        .filter(supervision_reply::Column::OrderId.eq(id))
        .count(db)
        .await?;
    if replied >= REPLIES_MAX as u64 {
        return Err(AppError::InvalidTransition(t!(
            "supervision-replies-full",
            id = id,
            max = REPLIES_MAX
        )));
    }
    let last = latest_reply(db, id).await?;
    let updated = moved(
        db,
        who,
        &current,
        SupervisionStatus::Open,
        Some(new_deadline),
    )
    .await?;
    let stamped = supervision_reply::Entity::update_many()
        .col_expr(
            supervision_reply::Column::ReturnedAt,
            Expr::value(who.now()),
        )
        .col_expr(
            supervision_reply::Column::ReturnedBy,
            Expr::value(who.sub().to_owned()),
        )
        .col_expr(
            supervision_reply::Column::ReturnReason,
            Expr::value(reason.clone()),
        )
        .col_expr(
            supervision_reply::Column::NewDeadline,
            Expr::value(new_deadline),
        )
        .filter(supervision_reply::Column::Id.eq(last.id))
        .filter(supervision_reply::Column::ReturnedAt.is_null())
        .exec(db)
        .await?;
    if stamped.rows_affected == 0 {
        return Err(AppError::Conflict(t!("supervision-raced", id = id)));
    }
    let ids = finding_ids(db, id).await?;
    let note = format!(
        "督办回复被退回：{reason}；新的回复期限{}",
        crate::report::chinese_date(new_deadline)
    );
    let extra = json!({"reply_id": last.id, "reason": reason});
    finish(
        db,
        who,
        "return",
        Some((&current, extra)),
        &updated,
        &ids,
        &note,
    )
    .await?;
    Ok(updated)
}

async fn latest_reply(db: &impl ConnectionTrait, id: i32) -> AppResult<supervision_reply::Model> {
    supervision_reply::Entity::find()
        .filter(supervision_reply::Column::OrderId.eq(id))
        .order_by_desc(supervision_reply::Column::Id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("supervisionReply", id))
}

fn require_status(
    order: &supervision_order::Model,
    wanted: SupervisionStatus,
    attempted: &str,
) -> AppResult<()> {
    if order.status == wanted {
        return Ok(());
    }
    Err(AppError::InvalidTransition(t!(
        "supervision-not-allowed",
        attempted = crate::i18n::message(&format!("supervision-move-{attempted}"), &[]),
        status = crate::i18n::supervision_status(order.status)
    )))
}

/// Moves the order to `to` (and a new deadline), guarded by its status and version: of two
/// concurrent moves one updates the row, the other finds nothing to update (`CONFLICT`).
async fn moved(
    db: &impl ConnectionTrait,
    who: &Acting,
    current: &supervision_order::Model,
    to: SupervisionStatus,
    new_deadline: Option<NaiveDate>,
) -> AppResult<supervision_order::Model> {
    let now = who.now();
    let mut update = supervision_order::Entity::update_many()
        .col_expr(supervision_order::Column::Status, Expr::value(to.as_str()))
        .col_expr(
            supervision_order::Column::Version,
            Expr::col(supervision_order::Column::Version).add(1),
        )
        .col_expr(supervision_order::Column::UpdatedAt, Expr::value(now))
        .filter(supervision_order::Column::Id.eq(current.id))
        .filter(supervision_order::Column::Status.eq(current.status))
        .filter(supervision_order::Column::Version.eq(current.version));
    if to == SupervisionStatus::Accepted {
        update = update
            .col_expr(supervision_order::Column::AcceptedAt, Expr::value(now))
            .col_expr(
                supervision_order::Column::AcceptedBy,
                Expr::value(who.sub().to_owned()),
            );
    }
    if let Some(day) = new_deadline {
        update = update.col_expr(supervision_order::Column::ReplyDeadline, Expr::value(day));
    }
    if update.exec(db).await?.rows_affected == 0 {
        return Err(AppError::Conflict(t!("supervision-raced", id = current.id)));
    }
    supervision_order::Entity::find_by_id(current.id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("supervisionOrder", current.id))
}

/// What every move writes besides the order: a note in each subject finding's ledger, the
/// audit event (and so the outbox's `supervision.*` event), and the inbox notices.
async fn finish(
    db: &impl ConnectionTrait,
    who: &Acting,
    step: &str,
    before: Option<(&supervision_order::Model, serde_json::Value)>,
    after: &supervision_order::Model,
    finding_ids: &[i32],
    note: &str,
) -> AppResult<Vec<entity::progress_entry::Model>> {
    let mut details = json!({"supervision_order": after.id, "move": step});
    if let Some((_, extra)) = &before
        && let (Some(d), Some(e)) = (details.as_object_mut(), extra.as_object())
    {
        d.extend(e.clone());
    }
    let mut notes = Vec::with_capacity(finding_ids.len());
    for finding_id in finding_ids {
        notes.push(
            ledger::note(
                db,
                who,
                Note {
                    finding_id: *finding_id,
                    measure_id: None,
                    entry_date: who.today(),
                    kind: ProgressKind::Comment,
                    content: note.to_owned(),
                    details: Some(details.clone()),
                },
            )
            .await?,
        );
    }
    let record = Record {
        kind: "supervision_order",
        id: after.id,
        department_id: Some(after.unit_id),
    };
    let first = finding_ids.first().copied();
    let before = before.map(|(order, _)| Audited {
        order,
        finding_id: first,
        finding_ids,
    });
    let shown = Audited {
        order: after,
        finding_id: first,
        finding_ids,
    };
    audited(
        db,
        who,
        &format!("supervision.{step}"),
        record,
        before.as_ref(),
        Some(&shown),
    )
    .await?;
    notify(db, who, step, after, finding_ids).await?;
    Ok(notes)
}

/// The people a move tells: the unit's managers (its manager accounts' names), its principal
/// leader and the subject findings' responsible leaders; the office's own moves tell the unit,
/// a reply tells the same people (the unit's record of what it answered). One notice each.
pub async fn notify(
    db: &impl ConnectionTrait,
    who: &Acting,
    step: &str,
    order: &supervision_order::Model,
    finding_ids: &[i32],
) -> AppResult<()> {
    let Some(first) = finding_ids.first().copied() else {
        return Ok(());
    };
    let mut recipients: Vec<(&'static str, String)> = Vec::new();
    let mut add = |role: &'static str, name: Option<String>| {
        if let Some(name) = name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty())
            && !recipients.iter().any(|(_, n)| *n == name)
        {
            recipients.push((role, name));
        }
    };
    let unit = department::Entity::find_by_id(order.unit_id)
        .one(db)
        .await?;
    if step == "overdue" {
        // Escalation (逾期未复): the unit's principal leader first.
        add(
            "principal_leader",
            unit.as_ref().and_then(|u| u.principal_leader.clone()),
        );
    }
    let managers = account::Entity::find()
        .filter(account::Column::Role.eq(Role::Manager))
        .filter(account::Column::DepartmentId.eq(order.unit_id))
        .filter(account::Column::Disabled.eq(false))
        .order_by_asc(account::Column::Id)
        .limit(50)
        .all(db)
        .await?;
    for m in managers {
        add("manager", Some(m.display_name.unwrap_or(m.username)));
    }
    add("principal_leader", unit.and_then(|u| u.principal_leader));
    if step != "overdue" {
        let leaders: Vec<Option<String>> = finding::Entity::find()
            .filter(finding::Column::Id.is_in(finding_ids.iter().copied()))
            .order_by_asc(finding::Column::Id)
            .select_only()
            .column(finding::Column::ResponsibleLeader)
            .into_tuple()
            .all(db)
            .await?;
        for l in leaders {
            add("responsible_leader", l);
        }
    }
    let zh = |id: &str, args: &[(&str, crate::i18n::Arg)]| message_in(Language::Chinese, id, args);
    let level_name = zh(&format!("supervision-level-{}", order.level.as_str()), &[]);
    let title = zh(
        &format!("supervision-notice-{step}"),
        &[("level", level_name.into()), ("id", order.id.into())],
    );
    let body = zh(
        "supervision-notice-body",
        &[
            ("requirement", order.requirement.clone().into()),
            (
                "deadline",
                crate::report::chinese_date(order.reply_deadline).into(),
            ),
        ],
    );
    let level = match order.level {
        SupervisionLevel::General => "green",
        SupervisionLevel::Key => "yellow",
        SupervisionLevel::Listed => "red",
    };
    for (role, name) in recipients {
        notification::ActiveModel {
            id: NotSet,
            crossing_id: Set(None),
            finding_id: Set(Some(first)),
            role: Set(role.to_owned()),
            recipient: Set(Some(name)),
            level: Set(level.to_owned()),
            title: Set(title.clone()),
            body: Set(body.clone()),
            created_at: Set(who.now()),
            read_at: Set(None),
            supervision_order_id: Set(Some(order.id)),
            public_feedback_id: Set(None),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// The notice code of a finding with orders the office has not accepted yet.
pub const OPEN_SUPERVISION: &str = "FINDING_OPEN_SUPERVISION";

/// The notice a finding's close-out review shows while orders about it are not accepted
/// (办结): closing the finding leaves them open.
pub fn open_notice(
    unfinished: &[crate::domain::reads::supervision_relations::Unfinished],
    today: NaiveDate,
) -> Option<(&'static str, String)> {
    if unfinished.is_empty() {
        return None;
    }
    let overdue = unfinished.iter().filter(|u| u.overdue(today)).count();
    Some((
        OPEN_SUPERVISION,
        t!(
            "finding-open-supervision",
            count = unfinished.len(),
            overdue = overdue
        ),
    ))
}

/// What the caller may do with an order now (its `viewerCan`).
#[derive(Debug, Default, Clone, Copy)]
pub struct Can {
    pub reply: bool,
    pub accept: bool,
    pub send_back: bool,
}

/// The moves the caller may make on `order`, by the rules the commands apply.
pub async fn can(
    db: &impl ConnectionTrait,
    caller: &Caller,
    order: &supervision_order::Model,
) -> AppResult<Can> {
    let ids = finding_ids(db, order.id).await?;
    let departments: Vec<i32> = finding::Entity::find()
        .filter(finding::Column::Id.is_in(ids))
        .select_only()
        .column(finding::Column::DepartmentId)
        .into_tuple()
        .all(db)
        .await?;
    let paths: Vec<Option<String>> = department::Entity::find()
        .filter(department::Column::Id.is_in(departments.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|d| Some(d.path))
        .collect();
    let last = latest_reply(db, order.id).await.ok();
    Ok(can_on(
        caller,
        order,
        &paths,
        last.as_ref().map(|r| r.author_sub.as_str()),
    ))
}

/// The rule of [`can`] on what it reads, for readers that batch the reads (GraphQL's
/// `viewerCan` over a page): the paths of the subject findings' departments, and the author
/// of the latest reply. A manager may reply to an open order when it may write every one of
/// those departments (as [`reply`] requires); the office returns a replied order, and accepts
/// it unless it wrote the reply itself (as [`accept`] refuses).
pub fn can_on(
    caller: &Caller,
    order: &supervision_order::Model,
    department_paths: &[Option<String>],
    last_reply_author: Option<&str>,
) -> Can {
    let office = caller.can(Permission::ReviewCloseOut);
    let mut can = Can::default();
    match order.status {
        SupervisionStatus::Open if caller.can(Permission::SubmitCloseOut) => {
            can.reply = department_paths
                .iter()
                .all(|p| scope::writable_path(caller, p.as_deref()).is_ok());
        }
        SupervisionStatus::Replied if office => {
            can.send_back = true;
            let sub = caller.identity().map(|i| i.sub.as_str());
            can.accept = last_reply_author.is_some_and(|a| Some(a) != sub);
        }
        _ => {}
    }
    can
}

/// Days before the reply deadline the unit is reminded (催办).
pub const REMIND_DAYS: u64 = 2;
/// Orders handled per transaction by the sweep (each move audited).
const SWEEP_PAGE: u64 = 20;

/// The level an overdue order rises to (once): 一般 → 重点 → 挂牌, which stays.
fn raised(level: SupervisionLevel) -> SupervisionLevel {
    match level {
        SupervisionLevel::General => SupervisionLevel::Key,
        SupervisionLevel::Key | SupervisionLevel::Listed => SupervisionLevel::Listed,
    }
}

/// The sweep's work on orders, `today` in the unit's zone: an open order within
/// [`REMIND_DAYS`] of its deadline is reminded once (催办); one past it without a reply is
/// overdue (逾期未复): it rises one level, once, and its principal leader is told. Each order
/// is marked by a guarded update, so sweeps on several instances act once. Returns how many
/// orders were reminded or escalated.
pub async fn sweep(
    db: &sea_orm::DatabaseConnection,
    who: &Acting,
    today: NaiveDate,
) -> AppResult<usize> {
    let soon = today
        .checked_add_days(chrono::Days::new(REMIND_DAYS))
        .unwrap_or(NaiveDate::MAX);
    let mut moved = 0;
    for overdue in [true, false] {
        loop {
            let mut select = supervision_order::Entity::find()
                .filter(supervision_order::Column::Status.eq(SupervisionStatus::Open));
            select = if overdue {
                select
                    .filter(supervision_order::Column::ReplyDeadline.lt(today))
                    .filter(supervision_order::Column::OverdueAt.is_null())
            } else {
                select
                    .filter(supervision_order::Column::ReplyDeadline.gte(today))
                    .filter(supervision_order::Column::ReplyDeadline.lte(soon))
                    .filter(supervision_order::Column::RemindedAt.is_null())
            };
            let due = select
                .order_by_asc(supervision_order::Column::Id)
                .limit(SWEEP_PAGE)
                .all(db)
                .await?;
            if due.is_empty() {
                break;
            }
            let done = crate::domain::write(db, who, async |txn| {
                let mut n = 0;
                for order in &due {
                    n += usize::from(mark(txn, who, order, overdue).await?);
                }
                Ok(n)
            })
            .await?;
            moved += done;
            if done == 0 {
                // Every one was marked by another instance meanwhile, or cannot be: stop.
                break;
            }
        }
    }
    Ok(moved)
}

/// Marks one order reminded or overdue (raising its level), if no one has yet.
async fn mark(
    db: &impl ConnectionTrait,
    who: &Acting,
    order: &supervision_order::Model,
    overdue: bool,
) -> AppResult<bool> {
    let now = who.now();
    let mut update = supervision_order::Entity::update_many()
        .col_expr(
            supervision_order::Column::Version,
            Expr::col(supervision_order::Column::Version).add(1),
        )
        .col_expr(supervision_order::Column::UpdatedAt, Expr::value(now))
        .filter(supervision_order::Column::Id.eq(order.id))
        .filter(supervision_order::Column::Version.eq(order.version))
        .filter(supervision_order::Column::Status.eq(SupervisionStatus::Open));
    update = if overdue {
        update
            .col_expr(supervision_order::Column::OverdueAt, Expr::value(now))
            .col_expr(
                supervision_order::Column::Level,
                Expr::value(raised(order.level).as_str()),
            )
            .filter(supervision_order::Column::OverdueAt.is_null())
    } else {
        update
            .col_expr(supervision_order::Column::RemindedAt, Expr::value(now))
            .filter(supervision_order::Column::RemindedAt.is_null())
    };
    if update.exec(db).await?.rows_affected == 0 {
        return Ok(false);
    }
    let after = supervision_order::Entity::find_by_id(order.id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("supervisionOrder", order.id))?;
    let ids = finding_ids(db, order.id).await?;
    let note = if overdue {
        format!(
            "督办单逾期未复，由{}提级为{}",
            crate::i18n::message_in(
                Language::Chinese,
                &format!("supervision-level-{}", order.level.as_str()),
                &[]
            ),
            crate::i18n::message_in(
                Language::Chinese,
                &format!("supervision-level-{}", after.level.as_str()),
                &[]
            )
        )
    } else {
        format!(
            "督办催办：回复期限{}",
            crate::report::chinese_date(after.reply_deadline)
        )
    };
    let step = if overdue { "overdue" } else { "remind" };
    finish(db, who, step, Some((order, json!({}))), &after, &ids, &note).await?;
    Ok(true)
}

//! Public supervision (公众监督): what the public sends about a published bulletin (通报), and
//! what the unit does with it.
//!
//! ```text
//! receive ──▶ RECEIVED ──answer──▶ ANSWERED ──answer (more)──┐
//!                │                    │  ▲───────────────────┘
//!                └──────close─────────┴──close──▶ CLOSED
//! ```
//!
//! Anyone may send feedback about a published bulletin ([`receive`], behind the form's
//! challenge and the per-address rate limit); the same text about the same bulletin is folded
//! into the first one (its `duplicates` counted) and answers with the same receipt code
//! (查询码). The unit's managers and admins (`ManageReports`, within the unit) link it to a
//! finding or open a new finding from it, answer it (append-only replies, published or not) and
//! close it. Those who may read the unit's reports read its feedback; the sender's name and
//! contact only those who may manage them ([`contact_visible`]). The audit trail records every
//! move without the name or contact, and no event, webhook, export, report or public page
//! carries them.

use chrono::{DateTime, Utc};
use entity::enums::{FeedbackStatus, ProgressKind, RectificationType};
use entity::{finding, public_feedback, public_feedback_reply, report};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Select,
};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::auth::{Caller, Permission};
use crate::domain::Acting;
use crate::domain::reads::page::{self, Key, Order, Page, PageArgs};
use crate::domain::reads::scope;
use crate::domain::records::change::{Record, audited};
use crate::domain::records::ledger::{self, Note};
use crate::domain::records::text;
use crate::error::{AppError, AppResult};
use crate::report::Snapshot;

/// Longest feedback text, in characters (about two pages).
pub const CONTENT_MAX: usize = 2_000;
/// Longest sender's name.
pub const NAME_MAX: usize = 50;
/// Longest phone number or e-mail address.
pub const CONTACT_MAX: usize = 100;
/// Longest reply.
pub const REPLY_MAX: usize = 5_000;
/// Most answered feedback a bulletin's page shows (the newest).
pub const ON_PAGE: u64 = 20;
/// Most replies one feedback takes (then it is closed): every read of its replies is bounded
/// by this and leaves none out.
pub const REPLIES_MAX: u64 = 20;
/// Characters of a receipt code (查询码): 20 of Crockford's base 32, 100 random bits.
pub const CODE_LEN: usize = 20;
const CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// What the public sends.
#[derive(Debug, Default, Clone)]
pub struct NewFeedback {
    pub content: String,
    /// The bulletin's number (序号) of the problem it concerns.
    pub problem_no: Option<i32>,
    pub name: Option<String>,
    /// A phone number or an e-mail address.
    pub contact: Option<String>,
}

/// The answer to a sender: the receipt code, and whether the text had been sent before.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    /// 查询码: the key to the reply at `/public/feedback/{code}`.
    pub code: String,
    /// The same text had been sent about this bulletin before; this is its code.
    pub folded: bool,
    /// Where the reply will be found.
    pub url: String,
}

/// Which feedback to list.
#[derive(Debug, Default, Clone, Copy)]
pub struct FeedbackFilter {
    pub status: Option<FeedbackStatus>,
    pub report_id: Option<i32>,
    /// Only those linked to a finding (true), or the others (false).
    pub linked: Option<bool>,
}

/// Feedback counted: received, answered (a reply written), linked to a finding.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeedbackCounts {
    pub received: i64,
    pub answered: i64,
    pub linked: i64,
}

/// Feedback as the audit trail records it: never the sender's name or contact, nor the text
/// (which a sender may have filled with them): its digest stands for it.
#[derive(Serialize)]
struct Audited {
    id: i32,
    report_id: i32,
    inspection_id: i32,
    unit_id: i32,
    problem_no: Option<i32>,
    digest: String,
    status: FeedbackStatus,
    finding_id: Option<i32>,
    duplicates: i32,
    version: i32,
}

impl From<&public_feedback::Model> for Audited {
    fn from(f: &public_feedback::Model) -> Self {
        Self {
            id: f.id,
            report_id: f.report_id,
            inspection_id: f.inspection_id,
            unit_id: f.unit_id,
            problem_no: f.problem_no,
            digest: f.digest.clone(),
            status: f.status,
            finding_id: f.finding_id,
            duplicates: f.duplicates,
            version: f.version,
        }
    }
}

/// The text as folded for duplicates: white space runs collapsed, so a resend with other
/// line breaks is the same text.
fn digest(content: &str) -> String {
    let folded = content.split_whitespace().collect::<Vec<_>>().join(" ");
    Sha256::digest(folded.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn receipt_code() -> AppResult<String> {
    let mut bytes = [0u8; CODE_LEN];
    getrandom::fill(&mut bytes).map_err(AppError::internal)?;
    Ok(bytes
        .iter()
        .map(|b| char::from(CODE_ALPHABET[usize::from(b % 32)]))
        .collect())
}

/// A receipt code as typed: trimmed, upper case, without the hyphens a person may group it
/// with; `None` when it cannot be one.
pub fn normalised_code(code: &str) -> Option<String> {
    let code: String = code
        .trim()
        .chars()
        .filter(|c| *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == CODE_LEN && code.bytes().all(|b| CODE_ALPHABET.contains(&b))).then_some(code)
}

/// A phone number (digits, with `+`, `-`, spaces, parentheses; 5 to 20 digits) or an e-mail
/// address (one `@` with text on both sides and a dot after it).
fn contact(value: Option<&str>) -> AppResult<Option<String>> {
    let Some(value) = text::maybe("contact", value, CONTACT_MAX)? else {
        return Ok(None);
    };
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let phone = (5..=20).contains(&digits)
        && value
            .chars()
            .all(|c| c.is_ascii_digit() || "+-() ".contains(c));
    let email = match value.split_once('@') {
        Some((user, host)) => {
            !user.is_empty()
                && !host.contains('@')
                && host.contains('.')
                && !host.starts_with('.')
                && !host.ends_with('.')
                && !value.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if phone || email {
        Ok(Some(value))
    } else {
        Err(AppError::bad_input(
            "contact",
            t!("feedback-contact-invalid"),
        ))
    }
}

/// Receives feedback about a published bulletin (anyone; the HTTP layer has checked the
/// challenge). The same text about the same bulletin folds into the first.
pub async fn receive(
    db: &impl ConnectionTrait,
    who: &Acting,
    bulletin: &report::Model,
    snapshot: &Snapshot,
    input: NewFeedback,
) -> AppResult<Receipt> {
    let content = text::required("content", &input.content, CONTENT_MAX)?;
    let name = text::maybe("senderName", input.name.as_deref(), NAME_MAX)?;
    let contact = contact(input.contact.as_deref())?;
    if let Some(n) = input.problem_no
        && !crate::report::bulletin::numbers(snapshot).contains(&n)
    {
        return Err(AppError::bad_input(
            "problemNo",
            t!("feedback-problem-unknown", number = n),
        ));
    }
    let unit_id = entity::inspection::Entity::find_by_id(bulletin.inspection_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("bulletin", bulletin.id))?
        .unit_id;
    let digest = digest(&content);
    let now = who.now();
    let inserted = public_feedback::Entity::insert(public_feedback::ActiveModel {
        id: NotSet,
        report_id: Set(bulletin.id),
        inspection_id: Set(bulletin.inspection_id),
        unit_id: Set(unit_id),
        problem_no: Set(input.problem_no),
        content: Set(content),
        digest: Set(digest.clone()),
        name: Set(name),
        contact: Set(contact),
        receipt_code: Set(receipt_code()?),
        status: Set(FeedbackStatus::Received),
        finding_id: Set(None),
        duplicates: Set(0),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        answered_at: Set(None),
        linked_at: Set(None),
        closed_at: Set(None),
    })
    // The same text sent twice at once: one row, the other folds into it below.
    .on_conflict(
        OnConflict::columns([
            public_feedback::Column::ReportId,
            public_feedback::Column::Digest,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    let folded = inserted == 0;
    if folded {
        public_feedback::Entity::update_many()
            .col_expr(
                public_feedback::Column::Duplicates,
                Expr::col(public_feedback::Column::Duplicates).add(1),
            )
            .col_expr(public_feedback::Column::UpdatedAt, Expr::value(now))
            .filter(public_feedback::Column::ReportId.eq(bulletin.id))
            .filter(public_feedback::Column::Digest.eq(&digest))
            .exec(db)
            .await?;
    }
    let row = public_feedback::Entity::find()
        .filter(public_feedback::Column::ReportId.eq(bulletin.id))
        .filter(public_feedback::Column::Digest.eq(&digest))
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal("feedback row vanished after its insert"))?;
    let action = if folded {
        "public_feedback.fold"
    } else {
        "public_feedback.receive"
    };
    audit(db, who, action, None, &row, json!({})).await?;
    if !folded {
        notify(db, who, bulletin, &row).await?;
    }
    Ok(Receipt {
        url: format!("/public/feedback/{}", row.receipt_code),
        code: row.receipt_code,
        folded,
    })
}

/// Tells the unit's managers (their manager accounts, by name, as supervision notices do) that
/// feedback arrived: which bulletin and which problem, never the text, the sender's name or
/// contact (a sender may have typed them into the text, as the audit trail's digest assumes).
/// A resend of the same text (folded) tells nobody again.
async fn notify(
    db: &impl ConnectionTrait,
    who: &Acting,
    bulletin: &report::Model,
    row: &public_feedback::Model,
) -> AppResult<()> {
    let managers = entity::account::Entity::find()
        .filter(entity::account::Column::Role.eq(entity::enums::Role::Manager))
        .filter(entity::account::Column::DepartmentId.eq(row.unit_id))
        .filter(entity::account::Column::Disabled.eq(false))
        .order_by_asc(entity::account::Column::Id)
        .limit(50)
        .all(db)
        .await?;
    let mut names: Vec<String> = Vec::new();
    for m in managers {
        let name = m.display_name.unwrap_or(m.username).trim().to_owned();
        if !name.is_empty() && !names.contains(&name) {
            names.push(name);
        }
    }
    let zh = |id: &str, args: &[(&str, crate::i18n::Arg)]| {
        crate::i18n::message_in(crate::i18n::Language::Chinese, id, args)
    };
    let title = zh("feedback-notice-title", &[("id", row.id.into())]);
    let problem = match row.problem_no {
        Some(n) => zh("feedback-notice-problem", &[("number", n.into())]),
        None => zh("feedback-notice-no-problem", &[]),
    };
    let body = zh(
        "feedback-notice-body",
        &[
            ("bulletin", bulletin.id.into()),
            ("problem", problem.into()),
        ],
    );
    for name in names {
        entity::notification::ActiveModel {
            id: NotSet,
            crossing_id: Set(None),
            finding_id: Set(None),
            role: Set("manager".to_owned()),
            recipient: Set(Some(name)),
            level: Set("yellow".to_owned()),
            title: Set(title.clone()),
            body: Set(body.clone()),
            created_at: Set(who.now()),
            read_at: Set(None),
            supervision_order_id: Set(None),
            public_feedback_id: Set(Some(row.id)),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

async fn audit(
    db: &impl ConnectionTrait,
    who: &Acting,
    action: &str,
    before: Option<&public_feedback::Model>,
    after: &public_feedback::Model,
    extra: serde_json::Value,
) -> AppResult<()> {
    let with = |f: &public_feedback::Model| {
        let mut value = serde_json::to_value(Audited::from(f)).unwrap_or_default();
        if let (Some(v), Some(e)) = (value.as_object_mut(), extra.as_object()) {
            v.extend(e.clone());
        }
        value
    };
    let record = Record {
        kind: "public_feedback",
        id: after.id,
        department_id: Some(after.unit_id),
    };
    audited(
        db,
        who,
        action,
        record,
        before.map(with).as_ref(),
        Some(&with(after)),
    )
    .await
}

/// Feedback by id, unscoped: for the notices that name one (the inbox shows a notice only to
/// those who read its feedback).
pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i32>,
) -> AppResult<Vec<public_feedback::Model>> {
    Ok(public_feedback::Entity::find()
        .filter(public_feedback::Column::Id.is_in(ids))
        .all(db)
        .await?)
}

/// Feedback the caller may read: that of the bulletins of units within its read reach (as
/// the unit's reports are read: admins, the office, the unit's managers and leaders).
pub fn readable(caller: &Caller) -> Select<public_feedback::Entity> {
    public_feedback::Entity::find().filter(scope::department_in(
        public_feedback::Column::UnitId,
        &caller.read_reach(),
    ))
}

/// Whether the caller sees senders' names and contacts of the feedback it reads: admins and
/// the unit's managers (whose read reach is the unit they manage), nobody else.
pub fn contact_visible(caller: &Caller) -> bool {
    caller.can(Permission::ManageReports)
}

/// One feedback the caller may read, or `NOT_FOUND`.
pub async fn get(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: i32,
) -> AppResult<public_feedback::Model> {
    caller.require_identity()?;
    readable(caller)
        .filter(public_feedback::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("publicFeedback", id))
}

/// The feedback the caller may read, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    caller: &Caller,
    filter: FeedbackFilter,
    args: &PageArgs,
) -> AppResult<Page<public_feedback::Model>> {
    caller.require_identity()?;
    let mut select = readable(caller);
    if let Some(status) = filter.status {
        select = select.filter(public_feedback::Column::Status.eq(status));
    }
    if let Some(id) = filter.report_id {
        select = select.filter(public_feedback::Column::ReportId.eq(id));
    }
    match filter.linked {
        Some(true) => select = select.filter(public_feedback::Column::FindingId.is_not_null()),
        Some(false) => select = select.filter(public_feedback::Column::FindingId.is_null()),
        None => {}
    }
    let order = Order {
        name: "public_feedback.id",
        exprs: vec![Expr::col(public_feedback::Column::Id)],
        keys: |f: &public_feedback::Model| vec![Key::I(f.id.into())],
        descending: true,
    };
    page::fetch(db, select, &order, args).await
}

/// The replies to one feedback, oldest first; `published_only` for the public.
pub async fn replies(
    db: &impl ConnectionTrait,
    feedback_id: i32,
    published_only: bool,
) -> AppResult<Vec<public_feedback_reply::Model>> {
    let mut select = public_feedback_reply::Entity::find()
        .filter(public_feedback_reply::Column::FeedbackId.eq(feedback_id));
    if published_only {
        select = select.filter(public_feedback_reply::Column::Published.eq(true));
    }
    Ok(select
        .order_by_asc(public_feedback_reply::Column::Id)
        .limit(REPLIES_MAX)
        .all(db)
        .await?)
}

/// The replies to each of many feedback, oldest first, all of them (at most [`REPLIES_MAX`]
/// each): one read for a page (GraphQL's `PublicFeedback.replies`).
pub async fn replies_of(
    db: &impl ConnectionTrait,
    feedback_ids: &[i32],
) -> AppResult<std::collections::HashMap<i32, Vec<public_feedback_reply::Model>>> {
    let mut out: std::collections::HashMap<i32, Vec<public_feedback_reply::Model>> =
        std::collections::HashMap::new();
    let rows = public_feedback_reply::Entity::find()
        .filter(public_feedback_reply::Column::FeedbackId.is_in(feedback_ids.iter().copied()))
        .order_by_asc(public_feedback_reply::Column::Id)
        .limit(feedback_ids.len() as u64 * REPLIES_MAX)
        .all(db)
        .await?;
    for row in rows {
        out.entry(row.feedback_id).or_default().push(row);
    }
    Ok(out)
}

/// What the sender sees by the receipt code: the feedback's status and the published replies.
pub async fn by_receipt(
    db: &impl ConnectionTrait,
    code: &str,
) -> AppResult<(public_feedback::Model, Vec<public_feedback_reply::Model>)> {
    let not_found = || AppError::NotFound(t!("feedback-receipt-unknown"));
    let code = normalised_code(code).ok_or_else(not_found)?;
    let row = public_feedback::Entity::find()
        .filter(public_feedback::Column::ReceiptCode.eq(code))
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let replies = replies(db, row.id, true).await?;
    Ok((row, replies))
}

/// The feedback about a bulletin that has published replies, newest reply first, with those
/// replies: what the bulletin's page shows.
pub async fn published(
    db: &impl ConnectionTrait,
    report_id: i32,
) -> AppResult<Vec<(public_feedback::Model, Vec<public_feedback_reply::Model>)>> {
    let ids: Vec<i32> = public_feedback_reply::Entity::find()
        .filter(public_feedback_reply::Column::Published.eq(true))
        .filter(
            public_feedback_reply::Column::FeedbackId.in_subquery(sea_orm::QueryTrait::into_query(
                public_feedback::Entity::find()
                    .select_only()
                    .column(public_feedback::Column::Id)
                    .filter(public_feedback::Column::ReportId.eq(report_id)),
            )),
        )
        .order_by_desc(public_feedback_reply::Column::Id)
        .select_only()
        .column(public_feedback_reply::Column::FeedbackId)
        .limit(ON_PAGE * 5)
        .into_tuple()
        .all(db)
        .await?;
    let mut order: Vec<i32> = Vec::new();
    for id in ids {
        if !order.contains(&id) && order.len() < ON_PAGE as usize {
            order.push(id);
        }
    }
    let rows = public_feedback::Entity::find()
        .filter(public_feedback::Column::Id.is_in(order.iter().copied()))
        .all(db)
        .await?;
    let replies = public_feedback_reply::Entity::find()
        .filter(public_feedback_reply::Column::FeedbackId.is_in(order.iter().copied()))
        .filter(public_feedback_reply::Column::Published.eq(true))
        .order_by_asc(public_feedback_reply::Column::Id)
        .limit(order.len() as u64 * REPLIES_MAX)
        .all(db)
        .await?;
    Ok(order
        .iter()
        .filter_map(|id| rows.iter().find(|r| r.id == *id))
        .map(|row| {
            let own = replies
                .iter()
                .filter(|r| r.feedback_id == row.id)
                .cloned()
                .collect();
            (row.clone(), own)
        })
        .collect())
}

/// The feedback a caller may change: readable, and of a unit the caller manages.
async fn managed(
    db: &impl ConnectionTrait,
    who: &Acting,
    id: i32,
) -> AppResult<public_feedback::Model> {
    who.require(Permission::ManageReports)?;
    let row = get(db, &who.caller, id).await?;
    scope::require_writable(db, &who.caller, row.unit_id).await?;
    Ok(row)
}

fn require_open(row: &public_feedback::Model, attempted: &str) -> AppResult<()> {
    if row.status == FeedbackStatus::Closed {
        return Err(AppError::InvalidTransition(t!(
            "feedback-closed",
            attempted = crate::i18n::message(&format!("feedback-move-{attempted}"), &[])
        )));
    }
    Ok(())
}

/// Applies a version-guarded change to the row: of two at once, one wins, the other is a
/// `CONFLICT`.
async fn moved(
    db: &impl ConnectionTrait,
    who: &Acting,
    current: &public_feedback::Model,
    change: impl FnOnce(
        sea_orm::UpdateMany<public_feedback::Entity>,
    ) -> sea_orm::UpdateMany<public_feedback::Entity>,
) -> AppResult<public_feedback::Model> {
    let update = public_feedback::Entity::update_many()
        .col_expr(
            public_feedback::Column::Version,
            Expr::col(public_feedback::Column::Version).add(1),
        )
        .col_expr(public_feedback::Column::UpdatedAt, Expr::value(who.now()))
        .filter(public_feedback::Column::Id.eq(current.id))
        .filter(public_feedback::Column::Version.eq(current.version));
    if change(update).exec(db).await?.rows_affected == 0 {
        return Err(AppError::Conflict(t!("feedback-raced", id = current.id)));
    }
    public_feedback::Entity::find_by_id(current.id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("publicFeedback", current.id))
}

/// Links feedback to a finding of the same inspection within the caller's reach; the
/// finding's ledger notes it (without the sender).
pub async fn link(
    db: &impl ConnectionTrait,
    who: &Acting,
    id: i32,
    finding_id: i32,
) -> AppResult<public_feedback::Model> {
    let current = managed(db, who, id).await?;
    require_open(&current, "link")?;
    let target = scope::findings(&who.caller)
        .filter(finding::Column::Id.eq(finding_id))
        .filter(finding::Column::ArchivedAt.is_null())
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("finding", finding_id))?;
    if target.inspection_id != current.inspection_id {
        return Err(AppError::bad_input(
            "findingId",
            t!("feedback-other-inspection"),
        ));
    }
    scope::require_writable(db, &who.caller, target.department_id).await?;
    let now = who.now();
    // `linked_at` is when it was first linked: linked to another finding later, it was still
    // linked at every moment since (a report's count as of its date depends on it).
    let first = current.linked_at.is_none();
    let updated = moved(db, who, &current, |u| {
        let u = u.col_expr(public_feedback::Column::FindingId, Expr::value(target.id));
        if first {
            u.col_expr(public_feedback::Column::LinkedAt, Expr::value(now))
        } else {
            u
        }
    })
    .await?;
    ledger::note(
        db,
        who,
        Note {
            finding_id: target.id,
            measure_id: None,
            entry_date: who.today(),
            kind: ProgressKind::Comment,
            content: format!(
                "关联公众监督反馈（第 {} 号）：{}",
                current.id, current.content
            ),
            details: Some(json!({"public_feedback": current.id})),
        },
    )
    .await?;
    audit(
        db,
        who,
        "public_feedback.link",
        Some(&current),
        &updated,
        json!({}),
    )
    .await?;
    Ok(updated)
}

/// A finding opened from feedback: its title, department and type; the feedback's text is its
/// description.
pub struct FindingFromFeedback {
    pub title: String,
    pub department_code: String,
    pub category_id: Option<i32>,
    pub rectification_type: RectificationType,
    pub deadline: Option<chrono::NaiveDate>,
}

/// Opens a new finding of the feedback's inspection from it (through the finding's own
/// command and rules) and links the two. The finding is not printed in bulletins until the
/// unit decides to disclose it.
pub async fn open_finding(
    db: &impl ConnectionTrait,
    who: &Acting,
    id: i32,
    input: FindingFromFeedback,
) -> AppResult<(public_feedback::Model, finding::Model)> {
    let current = managed(db, who, id).await?;
    require_open(&current, "link")?;
    let created = crate::domain::records::finding::create(
        db,
        who,
        crate::domain::records::finding::NewFinding {
            inspection_id: current.inspection_id,
            category_id: input.category_id,
            ordinal: None,
            title: input.title,
            description: current.content.clone(),
            rectification_type: input.rectification_type,
            deadline: input.deadline,
            responsible_leader: None,
            department_code: input.department_code,
            responsible_person: None,
            disclosed: false,
        },
    )
    .await?;
    let linked = link(db, who, id, created.id).await?;
    Ok((linked, created))
}

/// Answers feedback (append-only): `publish` shows the reply to the sender by the receipt code
/// and on the bulletin's page.
pub async fn answer(
    db: &impl ConnectionTrait,
    who: &Acting,
    id: i32,
    reply: &str,
    publish: bool,
) -> AppResult<public_feedback::Model> {
    let content = text::required("reply", reply, REPLY_MAX)?;
    let current = managed(db, who, id).await?;
    require_open(&current, "answer")?;
    let written = public_feedback_reply::Entity::find()
        .filter(public_feedback_reply::Column::FeedbackId.eq(current.id))
        .count(db)
        .await?;
    if written >= REPLIES_MAX {
        return Err(AppError::InvalidTransition(t!(
            "feedback-replies-full",
            max = REPLIES_MAX
        )));
    }
    let now = who.now();
    let row = public_feedback_reply::Entity::insert(public_feedback_reply::ActiveModel {
        id: NotSet,
        feedback_id: Set(current.id),
        content: Set(content),
        published: Set(publish),
        author_sub: Set(who.sub().to_owned()),
        author_name: Set(who.author_name()),
        created_at: Set(now),
    })
    .exec(db)
    .await?;
    let first = current.answered_at.is_none();
    let updated = moved(db, who, &current, |u| {
        let u = u.col_expr(
            public_feedback::Column::Status,
            Expr::value(FeedbackStatus::Answered.as_str()),
        );
        if first {
            u.col_expr(public_feedback::Column::AnsweredAt, Expr::value(now))
        } else {
            u
        }
    })
    .await?;
    audit(
        db,
        who,
        "public_feedback.answer",
        Some(&current),
        &updated,
        json!({"reply_id": row.last_insert_id, "published": publish}),
    )
    .await?;
    Ok(updated)
}

/// Closes feedback: nothing more is done with it.
pub async fn close(
    db: &impl ConnectionTrait,
    who: &Acting,
    id: i32,
) -> AppResult<public_feedback::Model> {
    let current = managed(db, who, id).await?;
    require_open(&current, "close")?;
    let now = who.now();
    let updated = moved(db, who, &current, |u| {
        u.col_expr(
            public_feedback::Column::Status,
            Expr::value(FeedbackStatus::Closed.as_str()),
        )
        .col_expr(public_feedback::Column::ClosedAt, Expr::value(now))
    })
    .await?;
    audit(
        db,
        who,
        "public_feedback.close",
        Some(&current),
        &updated,
        json!({}),
    )
    .await?;
    Ok(updated)
}

/// What the caller may do with a feedback now (its `viewerCan`).
pub fn can(caller: &Caller, row: &public_feedback::Model) -> bool {
    // Rows are read within reach; a manager's read reach is the one it writes in.
    caller.can(Permission::ManageReports) && row.status != FeedbackStatus::Closed
}

/// Counts of one inspection's feedback as of `until` (the end of a report's day), or now:
/// received before it, first answered before it, first linked before it (a reply or a link
/// is never undone, so these times say what was so at any moment).
pub async fn counts_of_inspection(
    db: &impl ConnectionTrait,
    inspection_id: i32,
    until: Option<DateTime<Utc>>,
) -> AppResult<FeedbackCounts> {
    let base = || {
        let select = public_feedback::Entity::find()
            .filter(public_feedback::Column::InspectionId.eq(inspection_id));
        match until {
            Some(t) => select.filter(public_feedback::Column::CreatedAt.lt(t)),
            None => select,
        }
    };
    let at = |c: public_feedback::Column| match until {
        Some(t) => sea_orm::Condition::all().add(c.is_not_null()).add(c.lt(t)),
        None => sea_orm::Condition::all().add(c.is_not_null()),
    };
    Ok(FeedbackCounts {
        received: base().count(db).await? as i64,
        answered: base()
            .filter(at(public_feedback::Column::AnsweredAt))
            .count(db)
            .await? as i64,
        linked: base()
            .filter(at(public_feedback::Column::LinkedAt))
            .count(db)
            .await? as i64,
    })
}

/// Counts of the feedback the caller may read (the status summary).
pub async fn counts(db: &impl ConnectionTrait, caller: &Caller) -> AppResult<FeedbackCounts> {
    Ok(FeedbackCounts {
        received: readable(caller).count(db).await? as i64,
        answered: readable(caller)
            .filter(public_feedback::Column::AnsweredAt.is_not_null())
            .count(db)
            .await? as i64,
        linked: readable(caller)
            .filter(public_feedback::Column::LinkedAt.is_not_null())
            .count(db)
            .await? as i64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_text_with_other_spacing_folds_and_another_does_not() {
        assert_eq!(digest("问题 一\n  没改"), digest(" 问题 一 没改 "));
        assert_ne!(digest("问题一没改"), digest("问题二没改"));
    }

    #[test]
    fn receipt_codes_are_long_random_and_read_back_as_typed() {
        let a = receipt_code().unwrap();
        let b = receipt_code().unwrap();
        assert_eq!(a.len(), CODE_LEN);
        assert_ne!(a, b);
        let typed = format!(" {}-{} ", &a[..10], &a[10..]).to_lowercase();
        assert_eq!(normalised_code(&typed).as_deref(), Some(a.as_str()));
        assert_eq!(normalised_code("short"), None);
        assert_eq!(normalised_code(&"I".repeat(CODE_LEN)), None);
    }

    #[test]
    fn contacts_are_a_phone_or_an_e_mail() {
        assert!(contact(Some("0759-3333333")).unwrap().is_some());
        assert!(contact(Some("someone@example.cn")).unwrap().is_some());
        assert!(contact(Some("")).unwrap().is_none());
        assert!(contact(Some("<script>")).is_err());
        assert!(contact(Some("a@b")).is_err());
    }
}

//! REST for supervision orders (督办单), for the office's pulling systems:
//! `GET /api/v1/supervision-orders` (a page, newest first, filtered as the GraphQL list is) and
//! `GET /api/v1/supervision-orders/{id}`. Scoped by the same rule: an order is read by whoever
//! may read one of its findings, and a subject finding outside the caller's reach is left out
//! of what the order shows. Subjects and replies are read for a whole page at once.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, NaiveDate, Utc};
use entity::enums::{SupervisionLevel, SupervisionStatus};
use entity::{finding, supervision_order, supervision_order_subject, supervision_reply};
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::query::{self, Query};
use super::shared::{ErrorBody, Id, Identified, PageOut};
use crate::auth::Caller;
use crate::domain::reads::page::PageArgs;
use crate::domain::reads::{scope, supervision_relations};
use crate::domain::workflow::supervision::{self as rules, OrderFilter};
use crate::error::{AppError, AppResult};
use crate::http::state::AppState;

/// Which orders, and which page of them.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct OrderParams {
    /// OPEN (待回复), REPLIED (待办结) or ACCEPTED (已办结); empty is none.
    #[param(pattern = "^(OPEN|REPLIED|ACCEPTED)?$")]
    pub status: Option<String>,
    /// GENERAL (一般督办), KEY (重点督办) or LISTED (挂牌督办); empty is none.
    #[param(pattern = "^(GENERAL|KEY|LISTED)?$")]
    pub level: Option<String>,
    /// `true`: only those open past their reply deadline (逾期未复); `false`: the others; empty
    /// is none.
    #[param(pattern = "^(true|false)?$")]
    pub overdue: Option<String>,
    /// Only those about this finding.
    #[param(minimum = 1)]
    pub finding_id: Option<i32>,
    /// Items per page, 1 to 100 (default 100).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i32>,
    /// `nextCursor` of the previous page (an opaque token rectrack hands out).
    #[param(pattern = r"^[A-Za-z0-9_-]*$")]
    pub cursor: Option<String>,
}

/// What an order is about.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubjectOut {
    pub finding_id: i32,
    /// The measure, when the order names one.
    pub measure_id: Option<i32>,
}

/// A written reply (书面回复).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplyOut {
    pub id: i32,
    pub content: String,
    pub author_name: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When the office returned it (退回), if it did; then why, and the new deadline.
    pub returned_at: Option<DateTime<Utc>>,
    pub return_reason: Option<String>,
    pub new_deadline: Option<NaiveDate>,
}

/// A supervision order (督办单).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SupervisionOrderOut {
    pub id: i32,
    pub inspection_id: i32,
    /// GENERAL (一般督办), KEY (重点督办) or LISTED (挂牌督办); empty is none.
    pub level: String,
    /// What the office requires (督办要求).
    pub requirement: String,
    pub reply_deadline: NaiveDate,
    /// OPEN, REPLIED or ACCEPTED.
    pub status: String,
    /// Open past its reply deadline (逾期未复), as of today in the configured zone.
    pub overdue: bool,
    pub issued_by_name: Option<String>,
    pub accepted_at: Option<DateTime<Utc>>,
    /// When the unit was reminded before the deadline (催办), and when it was found overdue
    /// and raised a level.
    pub reminded_at: Option<DateTime<Utc>>,
    pub overdue_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
    /// The findings (and measures) it is about that the caller may read.
    pub subjects: Vec<SubjectOut>,
    /// The unit's replies, oldest first.
    pub replies: Vec<ReplyOut>,
}

/// A parameter that takes one of a few words: its value, or `BAD_USER_INPUT` naming them.
fn one_of<T: Copy>(
    name: &str,
    given: &Option<String>,
    words: &[(&str, T)],
) -> AppResult<Option<T>> {
    let Some(value) = query::given(given) else {
        return Ok(None);
    };
    match words.iter().find(|(w, _)| *w == value) {
        Some((_, v)) => Ok(Some(*v)),
        None => {
            let allowed: Vec<&str> = words.iter().map(|(w, _)| *w).collect();
            Err(AppError::bad_input(
                name,
                t!(
                    "param-not-one-of",
                    name = name,
                    value = value,
                    allowed = allowed.join(", ")
                ),
            ))
        }
    }
}

/// Orders with their subjects (those within reach) and replies, read for all at once.
async fn shown(
    db: &impl ConnectionTrait,
    caller: &Caller,
    orders: Vec<supervision_order::Model>,
    today: NaiveDate,
) -> AppResult<Vec<SupervisionOrderOut>> {
    let ids: Vec<i32> = orders.iter().map(|o| o.id).collect();
    let mut subjects = supervision_relations::subjects_of_orders(db, &ids).await?;
    let mut replies = supervision_relations::replies_of_orders(db, &ids).await?;
    let named: BTreeSet<i32> = subjects.values().flatten().map(|s| s.finding_id).collect();
    let readable: BTreeSet<i32> = scope::findings(caller)
        .filter(finding::Column::Id.is_in(named))
        .select_only()
        .column(finding::Column::Id)
        .into_tuple::<i32>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(orders
        .into_iter()
        .map(|o| {
            let subjects: Vec<supervision_order_subject::Model> =
                subjects.remove(&o.id).unwrap_or_default();
            let replies: Vec<supervision_reply::Model> = replies.remove(&o.id).unwrap_or_default();
            SupervisionOrderOut {
                overdue: rules::is_overdue(&o, today),
                id: o.id,
                inspection_id: o.inspection_id,
                level: o.level.as_str().to_uppercase(),
                requirement: o.requirement,
                reply_deadline: o.reply_deadline,
                status: o.status.as_str().to_uppercase(),
                issued_by_name: o.issued_by_name,
                accepted_at: o.accepted_at,
                reminded_at: o.reminded_at,
                overdue_at: o.overdue_at,
                created_at: o.created_at,
                updated_at: o.updated_at,
                version: o.version,
                subjects: subjects
                    .into_iter()
                    .filter(|s| readable.contains(&s.finding_id))
                    .map(|s| SubjectOut {
                        finding_id: s.finding_id,
                        measure_id: s.measure_id,
                    })
                    .collect(),
                replies: replies
                    .into_iter()
                    .map(|r| ReplyOut {
                        id: r.id,
                        content: r.content,
                        author_name: r.author_name,
                        created_at: r.created_at,
                        returned_at: r.returned_at,
                        return_reason: r.return_reason,
                        new_deadline: r.new_deadline,
                    })
                    .collect(),
            }
        })
        .collect())
}

/// The supervision orders the caller may read, newest first: a unit's about its findings, a
/// section's about findings it works on, the office's all.
#[utoipa::path(
    get,
    path = "/api/v1/supervision-orders",
    tag = "supervision",
    params(OrderParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of supervision orders", body = PageOut<SupervisionOrderOut>),
        (status = 400, description = "Bad parameters", body = ErrorBody),
        (status = 401, description = "No or an invalid token", body = ErrorBody),
    )
)]
pub async fn supervision_orders(
    State(state): State<AppState>,
    Identified(caller): Identified,
    Query(params): Query<OrderParams>,
) -> AppResult<Json<PageOut<SupervisionOrderOut>>> {
    let overdue = one_of(
        "overdue",
        &params.overdue,
        &[("true", true), ("false", false)],
    )?;
    let status = one_of(
        "status",
        &params.status,
        &[
            ("OPEN", SupervisionStatus::Open),
            ("REPLIED", SupervisionStatus::Replied),
            ("ACCEPTED", SupervisionStatus::Accepted),
        ],
    )?;
    let level = one_of(
        "level",
        &params.level,
        &[
            ("GENERAL", SupervisionLevel::General),
            ("KEY", SupervisionLevel::Key),
            ("LISTED", SupervisionLevel::Listed),
        ],
    )?;
    if let Some(finding) = params.finding_id.filter(|id| *id < 1) {
        return Err(AppError::bad_input(
            "findingId",
            t!("path-id-invalid", value = finding),
        ));
    }
    let limit = params.limit.unwrap_or(100);
    if !(1..=100).contains(&limit) {
        return Err(AppError::bad_input(
            "limit",
            t!("param-limit", limit = limit),
        ));
    }
    let filter = OrderFilter {
        status,
        level,
        overdue,
    };
    let today = state.config.timezone.today();
    let args = PageArgs {
        first: Some(limit),
        after: query::given(&params.cursor).map(str::to_owned),
        ..Default::default()
    };
    let page = rules::list(&state.db, &caller, params.finding_id, filter, today, &args).await?;
    let next_cursor = page
        .has_next
        .then(|| page.rows.last().map(|(c, _)| c.to_string()))
        .flatten();
    let orders = page.rows.into_iter().map(|(_, o)| o).collect();
    let items = shown(&state.db, &caller, orders, today).await?;
    Ok(Json(PageOut { items, next_cursor }))
}

/// One supervision order the caller may read, with its subjects and replies.
#[utoipa::path(
    get,
    path = "/api/v1/supervision-orders/{id}",
    tag = "supervision",
    params(Id),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The supervision order", body = SupervisionOrderOut),
        (status = 400, description = "Not an id", body = ErrorBody),
        (status = 401, description = "No or an invalid token", body = ErrorBody),
        (status = 404, description = "No such order within reach", body = ErrorBody),
    )
)]
pub async fn supervision_order(
    State(state): State<AppState>,
    Identified(caller): Identified,
    Id { id }: Id,
) -> AppResult<Json<SupervisionOrderOut>> {
    let order = rules::get(&state.db, &caller, id).await?;
    let today = state.config.timezone.today();
    let mut out = shown(&state.db, &caller, vec![order], today).await?;
    out.pop()
        .map(Json)
        .ok_or_else(|| AppError::not_found("supervisionOrder", id))
}

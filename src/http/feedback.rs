//! Public supervision (公众监督) over HTTP, for anyone: the form's challenge, the post of
//! feedback about a published bulletin (JSON or an HTML form, which answers with a page), and
//! the receipt page (查询码). The rules are `domain::workflow::public_feedback`'s; the body is
//! bounded before it is read, and the post counts against its own rate limit
//! (`guard::FEEDBACK_PER_MINUTE`) as well as the public one.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::auth::Caller;
use crate::domain::documents::report as reports;
use crate::domain::gate::feedback_challenge::{self, Challenge};
use crate::domain::workflow::public_feedback::{self as rules, NewFeedback, Receipt};
use crate::domain::{self, Acting};
use crate::error::{AppError, AppResult, codes};
use crate::http::state::AppState;
use crate::report::feedback::{PublicAnswer, PublicReply};
use crate::report::render::Format;

use super::query::Query;
use super::shared::{ErrorBody, Id};

/// Largest feedback body read (a text of 2,000 characters is at most 6 KB of UTF-8, 18 KB
/// percent-encoded).
pub const BODY_MAX: usize = 32 * 1024;
/// Most fields a body may carry.
const FIELDS_MAX: usize = 16;

/// A question for the feedback form of a published bulletin, for clients that post JSON.
#[utoipa::path(
    get,
    path = "/public/bulletins/{id}/feedback/challenge",
    tag = "public",
    params(Id),
    responses(
        (status = 200, description = "The question and the token to post back with its answer", body = Challenge),
        (status = 400, description = "Not an id", body = ErrorBody),
        (status = 404, description = "No such published bulletin", body = ErrorBody),
        (status = 429, description = "Too many requests from this address", body = ErrorBody),
    )
)]
pub async fn feedback_challenge(
    State(state): State<AppState>,
    Id { id }: Id,
) -> AppResult<Json<Challenge>> {
    let bulletin = reports::published_bulletin(&state.db, id).await?;
    Ok(Json(
        feedback_challenge::issue(&state.db, bulletin.id, chrono::Utc::now()).await?,
    ))
}

/// The fields of a feedback post, as text, from JSON (numbers read as text) or a form.
fn fields(form: bool, bytes: &[u8]) -> AppResult<Vec<(String, String)>> {
    let pairs: Vec<(String, String)> = if form {
        url::form_urlencoded::parse(bytes)
            .take(FIELDS_MAX + 1)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    } else {
        let value: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|_| AppError::bad_input("body", t!("feedback-body-invalid")))?;
        let object = value
            .as_object()
            .ok_or_else(|| AppError::bad_input("body", t!("feedback-body-invalid")))?;
        object
            .iter()
            .take(FIELDS_MAX + 1)
            .filter_map(|(k, v)| match v {
                serde_json::Value::String(s) => Some((k.clone(), s.clone())),
                serde_json::Value::Number(n) => Some((k.clone(), n.to_string())),
                _ => None,
            })
            .collect()
    };
    if pairs.len() > FIELDS_MAX {
        return Err(AppError::bad_input("body", t!("feedback-body-invalid")));
    }
    Ok(pairs)
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Reads, checks and stores one post; its receipt and the bulletin's id.
async fn receive(
    state: &AppState,
    headers: &HeaderMap,
    id: i32,
    form: bool,
    body: Body,
) -> AppResult<Receipt> {
    let too_large = || AppError::PayloadTooLarge(t!("feedback-too-large", max = BODY_MAX / 1024));
    // A declared length over the bound is refused before a byte is read.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > BODY_MAX as u64) {
        return Err(too_large());
    }
    let bytes = axum::body::to_bytes(body, BODY_MAX)
        .await
        .map_err(|_| too_large())?;
    let pairs = fields(form, &bytes)?;
    let bulletin = reports::published_bulletin(&state.db, id).await?;
    feedback_challenge::verify(
        &state.db,
        bulletin.id,
        field(&pairs, "challenge").unwrap_or(""),
        field(&pairs, "answer").unwrap_or(""),
        chrono::Utc::now(),
    )
    .await?;
    let problem_no = match field(&pairs, "problemNo").map(str::trim) {
        None | Some("") => None,
        Some(n) => Some(n.parse::<i32>().map_err(|_| {
            AppError::bad_input("problemNo", t!("feedback-problem-unknown", number = n))
        })?),
    };
    let input = NewFeedback {
        content: field(&pairs, "content").unwrap_or("").to_owned(),
        problem_no,
        name: field(&pairs, "senderName").map(str::to_owned),
        contact: field(&pairs, "contact").map(str::to_owned),
    };
    let snapshot = reports::snapshot_of(&bulletin)?;
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let who = Acting::new(&Caller::Anonymous, request_id, state.config.timezone);
    domain::write(&state.db, &who, async |txn| {
        rules::receive(txn, &who, &bulletin, &snapshot, input).await
    })
    .await
}

/// Sends feedback about a published bulletin (公众监督): the text (`content`), optionally the
/// number of the problem it concerns (`problemNo`), a name (`senderName`) and a phone or e-mail
/// (`contact`), with the form's `challenge` token and its `answer`. JSON answers `201` with the
/// receipt code (查询码); an HTML form (`application/x-www-form-urlencoded`) gets a page with it.
/// The same text about the same bulletin answers with the first one's code (`folded`).
#[utoipa::path(
    post,
    path = "/public/bulletins/{id}/feedback",
    tag = "public",
    params(Id),
    request_body(description = "content, problemNo, senderName, contact, challenge, answer", content(
        (serde_json::Value = "application/json"),
        (serde_json::Value = "application/x-www-form-urlencoded")
    )),
    // A form (a browser without JavaScript) is answered with a page whatever the outcome.
    responses(
        (status = 201, description = "Received: the receipt code (a page with it, for a form)", content(
            (Receipt = "application/json"), (String = "text/html")
        )),
        (status = 400, description = "Bad input (empty, NUL, too long, a wrong answer, an expired challenge)", content(
            (ErrorBody = "application/json"), (String = "text/html")
        )),
        (status = 404, description = "No such published bulletin", content(
            (ErrorBody = "application/json"), (String = "text/html")
        )),
        (status = 413, description = "A body over 32 KiB", content(
            (ErrorBody = "application/json"), (String = "text/html")
        )),
        (status = 415, description = "Neither JSON nor a form", body = ErrorBody),
        (status = 429, description = "Too many posts from this address", content(
            (ErrorBody = "application/json"), (String = "text/html")
        )),
    )
)]
pub async fn post_feedback(
    State(state): State<AppState>,
    Id { id }: Id,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let form = match media.as_str() {
        "application/x-www-form-urlencoded" => true,
        "application/json" => false,
        _ => {
            return AppError::request(codes::UNSUPPORTED_MEDIA_TYPE, t!("feedback-media-type"))
                .into_response();
        }
    };
    let outcome = receive(&state, &headers, id, form, body).await;
    match (outcome, form) {
        (Ok(receipt), false) => (StatusCode::CREATED, Json(receipt)).into_response(),
        (Ok(receipt), true) => (
            StatusCode::CREATED,
            [(header::CONTENT_TYPE, Format::Html.media_type())],
            crate::report::feedback::posted_html(id, Some(&receipt.code), None),
        )
            .into_response(),
        (Err(err), false) => err.into_response(),
        (Err(err), true) => {
            let status = err.status();
            let page = crate::report::feedback::posted_html(id, None, Some(err.message()));
            (
                status,
                [(header::CONTENT_TYPE, Format::Html.media_type())],
                page,
            )
                .into_response()
        }
    }
}

/// The receipt page's rendering.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReceiptFormatParams {
    /// html (default) or json.
    #[param(value_type = Option<super::shared::IndexFormat>)]
    pub format: Option<String>,
}

/// What the sender reads by the receipt code.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptOut {
    pub code: String,
    pub bulletin_id: i32,
    /// received, answered or closed.
    pub status: String,
    pub problem_no: Option<i32>,
    /// The replies the unit published, oldest first.
    pub replies: Vec<ReplyOut>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplyOut {
    pub content: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The status of feedback and the replies the unit published, by its receipt code (查询码):
/// an HTML page, or JSON with `?format=json`. Nothing of the sender is shown.
#[utoipa::path(
    get,
    path = "/public/feedback/{code}",
    tag = "public",
    params(("code" = String, Path, description = "The receipt code (查询码)"), ReceiptFormatParams),
    responses(
        (status = 200, description = "The feedback's status and published replies"),
        (status = 400, description = "An unknown format", body = ErrorBody),
        (status = 404, description = "No feedback with this code", body = ErrorBody),
        (status = 429, description = "Too many requests from this address", body = ErrorBody),
    )
)]
pub async fn receipt(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(params): Query<ReceiptFormatParams>,
) -> AppResult<Response> {
    let format = Format::choose(params.format.as_deref(), &[Format::Html, Format::Json])?;
    let (row, replies) = rules::by_receipt(&state.db, &code).await?;
    if format == Format::Json {
        return Ok(Json(ReceiptOut {
            code: row.receipt_code,
            bulletin_id: row.report_id,
            status: row.status.as_str().to_owned(),
            problem_no: row.problem_no,
            replies: replies
                .into_iter()
                .map(|r| ReplyOut {
                    content: r.content,
                    created_at: r.created_at,
                })
                .collect(),
        })
        .into_response());
    }
    let zone = state.config.timezone;
    let answer = public_answer(&row, &replies, zone);
    let status = crate::i18n::message_in(
        crate::i18n::Language::Chinese,
        &format!("feedback-status-{}", row.status.as_str()),
        &[],
    );
    Ok((
        [(header::CONTENT_TYPE, Format::Html.media_type())],
        crate::report::feedback::receipt_html(&row.receipt_code, &status, &answer, row.report_id),
    )
        .into_response())
}

fn public_answer(
    row: &entity::public_feedback::Model,
    replies: &[entity::public_feedback_reply::Model],
    zone: crate::config::TimeZone,
) -> PublicAnswer {
    PublicAnswer {
        problem_no: row.problem_no,
        content: row.content.clone(),
        replies: replies
            .iter()
            .map(|r| PublicReply {
                on: r.created_at.with_timezone(&zone.0).date_naive(),
                text: r.content.clone(),
            })
            .collect(),
    }
}

/// The feedback link of a bulletin and the QR code (二维码) that prints it. The link is the
/// configured public address's (`RECTRACK_PUBLIC_URL`), never the request's `Host`: a page
/// asked for with a forged `Host` would otherwise print a code that sends phones elsewhere.
/// Without the setting the link is relative (it works on the page, not on paper) and there is
/// no code.
pub fn feedback_link(public_url: Option<&str>, bulletin_id: i32) -> (String, Option<String>) {
    let path = format!("/public/bulletins/{bulletin_id}#feedback");
    match public_url {
        Some(base) => {
            let link = format!("{base}{path}");
            let svg = crate::report::feedback::qr_svg(&link);
            (link, svg)
        }
        None => (path, None),
    }
}

/// The public page of a bulletin with public supervision: the form with a fresh challenge,
/// the QR code of the form's link, the answers the unit published.
pub async fn bulletin_page(
    state: &AppState,
    bulletin: &entity::report::Model,
    snapshot: &crate::report::Snapshot,
) -> AppResult<String> {
    let challenge = feedback_challenge::issue(&state.db, bulletin.id, chrono::Utc::now()).await?;
    let zone = state.config.timezone;
    let answers = rules::published(&state.db, bulletin.id)
        .await?
        .iter()
        .map(|(row, replies)| public_answer(row, replies, zone))
        .collect();
    let (link, qr_svg) = feedback_link(state.config.public_url.as_deref(), bulletin.id);
    let extras = crate::report::feedback::BulletinExtras {
        bulletin_id: bulletin.id,
        question: challenge.question,
        token: challenge.token,
        numbers: crate::report::bulletin::numbers(snapshot),
        qr_svg,
        link,
        answers,
    };
    Ok(crate::report::feedback::public_html(snapshot, &extras))
}

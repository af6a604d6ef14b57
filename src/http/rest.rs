//! REST for integration, under `/api/v1`: what the upstream inspection office and other
//! systems pull. The same JWT auth and scoping as GraphQL, the same domain functions, JSON
//! field names in camelCase as in GraphQL, errors as `{ "error": { "code", "message" } }`.
//! Every route is declared once, with its OpenAPI description, through utoipa-axum, so the
//! served document and the routes cannot disagree.

use std::collections::HashMap;

use axum::Extension;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{department, finding, inspection, measure};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::domain::finding_list::{FindingFilter, FindingOrder};
use crate::domain::page::PageArgs;
use crate::domain::summary::{self, Counts, Over};
use crate::domain::warning::Thresholds;
use crate::domain::{self, report as reports};
use crate::error::{AppError, AppResult};
use crate::report::{bulletin, ledger, markdown, xlsx};
use crate::state::AppState;

/// The REST routes and their OpenAPI document.
pub fn routes() -> (axum::Router<AppState>, OpenApi) {
    let (router, mut api) = OpenApiRouter::new()
        .routes(routes!(status))
        .routes(routes!(inspections))
        .routes(routes!(findings))
        .routes(routes!(ledger_file))
        .routes(routes!(report_file))
        .routes(routes!(evidence_file))
        .routes(routes!(public_bulletin))
        .split_for_parts();
    api.info.title = "rectrack REST API".to_owned();
    api.info.version = env!("CARGO_PKG_VERSION").to_owned();
    api.info.description = Some(
        "Status, incremental pulls and report downloads for the inspection office and other systems. \
         Send `Authorization: Bearer <JWT>`; records outside the caller's department subtree are not found. \
         Every GET answers an `ETag` and `304 Not Modified` to a matching `If-None-Match`."
            .to_owned(),
    );
    let components = api.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build(),
        ),
    );
    (router, api)
}

/// A REST error.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine code: BAD_USER_INPUT, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, CONFLICT, ...
    pub code: String,
    pub message: String,
}

/// Finding counts.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CountsOut {
    pub total: i64,
    pub not_started: i64,
    pub in_progress: i64,
    pub pending_review: i64,
    pub closed: i64,
    pub overdue: i64,
    pub immediate: i64,
    pub by_deadline: i64,
    pub long_term: i64,
    pub measures_total: i64,
    pub measures_done: i64,
    /// Closed findings as a share of all, 0 to 1.
    pub completion_rate: f64,
}

impl From<Counts> for CountsOut {
    fn from(c: Counts) -> Self {
        Self {
            completion_rate: c.completion_rate(),
            total: c.total,
            not_started: c.not_started,
            in_progress: c.in_progress,
            pending_review: c.pending_review,
            closed: c.closed,
            overdue: c.overdue,
            immediate: c.immediate,
            by_deadline: c.by_deadline,
            long_term: c.long_term,
            measures_total: c.measures_total,
            measures_done: c.measures_done,
        }
    }
}

/// Status overall and per inspection.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusOut {
    pub overall: CountsOut,
    pub inspections: Vec<InspectionStatusOut>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InspectionStatusOut {
    pub id: i32,
    pub title: String,
    pub unit_code: String,
    pub counts: CountsOut,
}

/// Maps a query-string problem to a JSON error.
fn bad_query<T>(
    result: Result<Query<T>, axum::extract::rejection::QueryRejection>,
) -> AppResult<T> {
    result
        .map(|Query(q)| q)
        .map_err(|err| AppError::BadUserInput {
            message: format!("bad query parameters: {}", err.body_text()),
            field: None,
        })
}

/// Status overall and for each inspection the caller may read (counts by status and type,
/// overdue, measures, completion rate).
#[utoipa::path(
    get,
    path = "/api/v1/status",
    tag = "status",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Counts over the findings the caller may read", body = StatusOut),
        (status = 401, description = "No or an invalid token", body = ErrorBody),
    )
)]
async fn status(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> AppResult<Json<StatusOut>> {
    caller.require_identity()?;
    let today = state.config.timezone.today();
    let everything = summary::findings(&state.db, &caller, Over::Everything).await?;
    let overall = summary::totals(&state.db, &everything, today).await?;
    let by_inspection = summary::counts_by_inspection(&state.db, &everything, today).await?;
    let ids: Vec<i32> = by_inspection.keys().copied().collect();
    let found = inspection::Entity::find()
        .filter(inspection::Column::Id.is_in(ids))
        .order_by_asc(inspection::Column::Id)
        .all(&state.db)
        .await?;
    let units: HashMap<i32, String> = department::Entity::find()
        .filter(department::Column::Id.is_in(found.iter().map(|i| i.unit_id)))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|d| (d.id, d.code))
        .collect();
    let mut by_inspection = by_inspection;
    let inspections = found
        .into_iter()
        .map(|i| InspectionStatusOut {
            id: i.id,
            unit_code: units.get(&i.unit_id).cloned().unwrap_or_default(),
            title: i.title,
            counts: by_inspection.remove(&i.id).unwrap_or_default().into(),
        })
        .collect();
    Ok(Json(StatusOut {
        overall: overall.into(),
        inspections,
    }))
}

/// Paging parameters.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1 to 100 (default 100).
    pub limit: Option<i32>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

fn page(limit: Option<i32>, cursor: Option<String>) -> PageArgs {
    PageArgs {
        first: Some(limit.unwrap_or(100)),
        after: cursor,
        ..Default::default()
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InspectionOut {
    pub id: i32,
    pub title: String,
    pub inspection_group: String,
    pub unit_code: String,
    pub started_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
    pub feedback_on: Option<NaiveDate>,
    pub due_on: Option<NaiveDate>,
    pub archived: bool,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

/// A page of items and the cursor of the next (null on the last page).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PageOut<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

async fn department_codes(
    state: &AppState,
    ids: impl IntoIterator<Item = i32>,
) -> AppResult<HashMap<i32, (String, String)>> {
    Ok(department::Entity::find()
        .filter(department::Column::Id.is_in(ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|d| (d.id, (d.code, d.name)))
        .collect())
}

/// The inspections the caller may read.
#[utoipa::path(
    get,
    path = "/api/v1/inspections",
    tag = "inspections",
    params(PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of inspections", body = PageOut<InspectionOut>),
        (status = 400, description = "Bad parameters", body = ErrorBody),
        (status = 401, description = "No or an invalid token", body = ErrorBody),
    )
)]
async fn inspections(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    params: Result<Query<PageParams>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<PageOut<InspectionOut>>> {
    let params = bad_query(params)?;
    let filter = domain::inspection::InspectionFilter {
        include_archived: true,
        ..Default::default()
    };
    let page = domain::inspection::list(
        &state.db,
        &caller,
        &filter,
        false,
        &page(params.limit, params.cursor),
    )
    .await?;
    let units = department_codes(&state, page.rows.iter().map(|(_, i)| i.unit_id)).await?;
    let next_cursor = page
        .has_next
        .then(|| page.rows.last().map(|(c, _)| c.clone()))
        .flatten();
    let items = page
        .rows
        .into_iter()
        .map(|(_, i)| InspectionOut {
            id: i.id,
            unit_code: units
                .get(&i.unit_id)
                .map(|u| u.0.clone())
                .unwrap_or_default(),
            title: i.title,
            inspection_group: i.inspection_group,
            started_on: i.started_on,
            ended_on: i.ended_on,
            feedback_on: i.feedback_on,
            due_on: i.due_on,
            archived: i.archived_at.is_some(),
            version: i.version,
            updated_at: i.updated_at,
        })
        .collect();
    Ok(Json(PageOut { items, next_cursor }))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MeasureOut {
    pub id: i32,
    pub ordinal: i32,
    pub content: String,
    /// planned, in_progress or done... in GraphQL's spelling: PLANNED, IN_PROGRESS, DONE.
    pub status: String,
    pub deadline: Option<NaiveDate>,
    pub completed_on: Option<NaiveDate>,
    pub department_code: Option<String>,
    pub responsible_person: Option<String>,
    pub archived: bool,
    pub version: i32,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FindingOut {
    pub id: i32,
    pub inspection_id: i32,
    pub ordinal: i32,
    pub title: String,
    pub description: String,
    /// IMMEDIATE, BY_DEADLINE or LONG_TERM.
    pub rectification_type: String,
    /// NOT_STARTED, IN_PROGRESS, PENDING_REVIEW or CLOSED.
    pub status: String,
    pub deadline: Option<NaiveDate>,
    pub responsible_leader: Option<String>,
    pub department_code: String,
    pub department_name: String,
    pub responsible_person: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub archived: bool,
    pub version: i32,
    pub measures: Vec<MeasureOut>,
}

/// Parameters of an incremental pull.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PullParams {
    /// Only findings changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
    /// Items per page, 1 to 100 (default 100).
    pub limit: Option<i32>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

fn upper(text: impl std::fmt::Display) -> String {
    text.to_string().to_uppercase()
}

/// Incremental pull: the inspection's findings changed since a time, with their measures,
/// oldest change first and newest last, archived ones included (so that a mirror learns of
/// them); follow `nextCursor` until it is null, then keep the last `updatedAt` for next time.
#[utoipa::path(
    get,
    path = "/api/v1/inspections/{id}/findings",
    tag = "findings",
    params(("id" = i32, Path, description = "Inspection id"), PullParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of changed findings", body = PageOut<FindingOut>),
        (status = 400, description = "Bad parameters", body = ErrorBody),
        (status = 401, description = "No or an invalid token", body = ErrorBody),
        (status = 404, description = "No such inspection within reach", body = ErrorBody),
    )
)]
async fn findings(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i32>,
    params: Result<Query<PullParams>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<PageOut<FindingOut>>> {
    let params = bad_query(params)?;
    domain::inspection::get(&state.db, &caller, id).await?;
    let filter = FindingFilter {
        inspection_id: Some(id),
        updated_since: params.updated_since,
        include_archived: true,
        ..Default::default()
    };
    let thresholds = Thresholds::from_config(&state.config);
    let page = domain::finding_list::list(
        &state.db,
        &caller,
        &filter,
        (FindingOrder::UpdatedAt, false),
        &thresholds,
        &page(params.limit, params.cursor),
    )
    .await?;
    let ids: Vec<i32> = page.rows.iter().map(|(_, f)| f.id).collect();
    let measures = measure::Entity::find()
        .filter(measure::Column::FindingId.is_in(ids))
        .order_by_asc(measure::Column::FindingId)
        .order_by_asc(measure::Column::Ordinal)
        .all(&state.db)
        .await?;
    let departments = department_codes(
        &state,
        page.rows
            .iter()
            .map(|(_, f)| f.department_id)
            .chain(measures.iter().filter_map(|m| m.department_id)),
    )
    .await?;
    let next_cursor = page
        .has_next
        .then(|| page.rows.last().map(|(c, _)| c.clone()))
        .flatten();
    let code = |id: i32| departments.get(&id).cloned().unwrap_or_default();
    let items = page
        .rows
        .into_iter()
        .map(|(_, f): (String, finding::Model)| FindingOut {
            measures: measures
                .iter()
                .filter(|m| m.finding_id == f.id)
                .map(|m| MeasureOut {
                    id: m.id,
                    ordinal: m.ordinal,
                    content: m.content.clone(),
                    status: upper(m.status),
                    deadline: m.deadline,
                    completed_on: m.completed_on,
                    department_code: m.department_id.map(|d| code(d).0),
                    responsible_person: m.responsible_person.clone(),
                    archived: m.archived_at.is_some(),
                    version: m.version,
                })
                .collect(),
            id: f.id,
            inspection_id: f.inspection_id,
            ordinal: f.ordinal,
            title: f.title,
            description: f.description,
            rectification_type: upper(f.rectification_type),
            status: upper(f.status),
            deadline: f.deadline,
            responsible_leader: f.responsible_leader,
            department_code: code(f.department_id).0,
            department_name: code(f.department_id).1,
            responsible_person: f.responsible_person,
            created_at: f.created_at,
            updated_at: f.updated_at,
            closed_at: f.closed_at,
            archived: f.archived_at.is_some(),
            version: f.version,
        })
        .collect();
    Ok(Json(PageOut { items, next_cursor }))
}

/// The ledger of an inspection as a spreadsheet: one row per finding and measure with the
/// unit's columns (序号, 问题, 整改措施, 责任领导, 责任科室, 责任人, 整改时限, 整改进展, 状态), then
/// what a re-import needs (ids and versions).
#[utoipa::path(
    get,
    path = "/api/v1/inspections/{id}/ledger",
    tag = "ledger",
    params(("id" = i32, Path, description = "Inspection id"), FormatParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The ledger as XLSX (default), CSV or JSON"),
        (status = 400, description = "Unknown format", body = ErrorBody),
        (status = 401, description = "No or an invalid token", body = ErrorBody),
        (status = 404, description = "No such inspection within reach", body = ErrorBody),
    )
)]
async fn ledger_file(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i32>,
    params: Result<Query<FormatParams>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Response> {
    let params = bad_query(params)?;
    let rows = domain::ledger_export::rows(&state.db, &caller, id).await?;
    let (media_type, extension, body): (&str, &str, Vec<u8>) =
        match params.format.as_deref().unwrap_or("xlsx") {
            "xlsx" => (
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "xlsx",
                domain::ledger_export::xlsx(&rows)?,
            ),
            "csv" => (
                "text/csv; charset=utf-8",
                "csv",
                domain::ledger_export::csv(&rows).into_bytes(),
            ),
            "json" => (
                "application/json",
                "json",
                serde_json::to_vec_pretty(&domain::ledger_export::json(&rows))
                    .map_err(AppError::internal)?,
            ),
            other => {
                return Err(AppError::bad_input(
                    "format",
                    format!("unknown format '{other}': xlsx, csv or json"),
                ));
            }
        };
    Ok((
        [
            (header::CONTENT_TYPE, media_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"ledger-{id}.{extension}\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// A report rendering.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatParams {
    /// json (default), csv, xlsx or md.
    pub format: Option<String>,
}

/// A report in one of its renderings: the stored JSON snapshot, the ledger as CSV or XLSX
/// (with a summary sheet), or Markdown.
#[utoipa::path(
    get,
    path = "/api/v1/reports/{id}",
    tag = "reports",
    params(("id" = i32, Path, description = "Report id"), FormatParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The report in the asked format"),
        (status = 400, description = "Unknown format", body = ErrorBody),
        (status = 401, description = "No or an invalid token", body = ErrorBody),
        (status = 404, description = "No such report within reach", body = ErrorBody),
    )
)]
async fn report_file(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i32>,
    params: Result<Query<FormatParams>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Response> {
    let params = bad_query(params)?;
    let report = reports::get(&state.db, &caller, id).await?;
    let snapshot = reports::snapshot_of(&report)?;
    let name = format!("report-{id}-{}", report.period_end);
    let bulletin = report.kind == entity::enums::ReportKind::Bulletin;
    let (media_type, extension, body): (&str, &str, Vec<u8>) =
        match params.format.as_deref().unwrap_or("json") {
            "json" => (
                "application/json",
                "json",
                serde_json::to_vec_pretty(&snapshot).map_err(AppError::internal)?,
            ),
            "csv" => (
                "text/csv; charset=utf-8",
                "csv",
                ledger::csv(&snapshot).into_bytes(),
            ),
            "md" | "markdown" => (
                "text/markdown; charset=utf-8",
                "md",
                if bulletin {
                    bulletin::markdown(&snapshot)
                } else {
                    markdown::render(&snapshot)
                }
                .into_bytes(),
            ),
            "xlsx" => (
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "xlsx",
                xlsx::render(&snapshot).map_err(AppError::internal)?,
            ),
            other => {
                return Err(AppError::bad_input(
                    "format",
                    format!("unknown format '{other}': json, csv, xlsx or md"),
                ));
            }
        };
    Ok((
        [
            (header::CONTENT_TYPE, media_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{name}.{extension}\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// An evidence file, to callers who may read its finding.
#[utoipa::path(
    get,
    path = "/api/v1/evidence/{id}",
    tag = "evidence",
    params(("id" = i32, Path, description = "Evidence id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The file, with its media type"),
        (status = 401, description = "No or an invalid token", body = ErrorBody),
        (status = 404, description = "No such file within reach", body = ErrorBody),
    )
)]
async fn evidence_file(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i32>,
) -> AppResult<Response> {
    let item = domain::progress::downloadable(&state.db, &caller, id).await?;
    let sha256 = item.sha256.clone().unwrap_or_default();
    let path = state
        .evidence
        .path_of(&sha256)
        .ok_or_else(|| AppError::internal(format!("evidence {id} has a malformed digest")))?;
    let bytes = tokio::fs::read(&path).await.map_err(|err| {
        AppError::internal(format!("evidence {id} file {}: {err}", path.display()))
    })?;
    let media_type = item
        .media_type
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    // RFC 6266/5987: a UTF-8 file name for browsers that save the file.
    let encoded: String = item
        .title
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, media_type),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename*=UTF-8''{encoded}"),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (header::CACHE_CONTROL, "private, max-age=0".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

/// A published bulletin (通报), for the public: HTML, or Markdown with `?format=md`.
#[utoipa::path(
    get,
    path = "/public/bulletins/{id}",
    tag = "public",
    params(("id" = i32, Path, description = "Bulletin id"), FormatParams),
    responses(
        (status = 200, description = "The bulletin"),
        (status = 404, description = "No such published bulletin", body = ErrorBody),
    )
)]
async fn public_bulletin(
    State(state): State<AppState>,
    Path(id): Path<i32>,
    params: Result<Query<FormatParams>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Response> {
    let params = bad_query(params)?;
    let report = reports::published_bulletin(&state.db, id).await?;
    let snapshot = reports::snapshot_of(&report)?;
    Ok(match params.format.as_deref() {
        Some("md") | Some("markdown") => (
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            bulletin::markdown(&snapshot),
        )
            .into_response(),
        None | Some("html") => Html(bulletin::html(&snapshot)).into_response(),
        Some(other) => {
            return Err(AppError::bad_input(
                "format",
                format!("unknown format '{other}': html or md"),
            ));
        }
    })
}

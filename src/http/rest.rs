//! REST for integration, under `/api/v1`: what the upstream inspection office and other
//! systems pull. The same JWT auth and scoping as GraphQL, the same domain functions, JSON
//! field names in camelCase as in GraphQL, errors as `{ "error": { "code", "message" } }`.
//! Every route is declared once, with its OpenAPI description, through utoipa-axum, so the
//! served document and the routes cannot disagree.

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{department, finding, measure};
use serde::{Deserialize, Serialize};
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::domain::reads::page::PageArgs;
use crate::domain::reads::scope;
use crate::domain::reads::summary::{self, Counts};
use crate::domain::reads::supervision_counts::{self, OrderCounts};
use crate::domain::workflow::warning::Thresholds;
use crate::domain::{self, Acting, documents::report as reports, reads::relations};
use crate::error::{AppError, AppResult};
use crate::http::state::AppState;
use crate::report::render::{self, Document, Format};

use super::query::{self, Query};
use super::shared::{ErrorBody, Id, Identified, IndexFormat, PageOut};

/// The REST routes and their OpenAPI document.
pub fn routes(config: &crate::config::Config) -> (axum::Router<AppState>, OpenApi) {
    let (router, mut api) = OpenApiRouter::new()
        .routes(routes!(status))
        .routes(routes!(inspections))
        .routes(routes!(inspection))
        .routes(routes!(findings))
        .routes(routes!(ledger_file))
        .routes(routes!(report_file))
        .routes(routes!(evidence_file))
        .routes(routes!(public_bulletins))
        .routes(routes!(public_bulletin))
        .routes(routes!(super::feedback::post_feedback))
        .routes(routes!(super::feedback::feedback_challenge))
        .routes(routes!(super::feedback::receipt))
        .routes(routes!(super::lists::list_file))
        .routes(routes!(super::exchange::export_bundle))
        .routes(routes!(super::exchange::import_bundle))
        .routes(routes!(super::exchange::conflict_report))
        .routes(routes!(super::exchange_peer::peer_bundles))
        .routes(routes!(super::exchange_peer::peer_bundle))
        .routes(routes!(super::exchange_peer::peer_acks))
        .routes(routes!(super::lists::roadmap_svg))
        .routes(routes!(super::lists::plan_file))
        .routes(routes!(super::supervision::supervision_orders))
        .routes(routes!(super::supervision::supervision_order))
        .split_for_parts();
    api.info.title = "rectrack REST API".to_owned();
    api.info.version = env!("CARGO_PKG_VERSION").to_owned();
    api.info.description = Some(
        "Status, incremental pulls and report downloads for the inspection office and other systems. \
         Send `Authorization: Bearer <JWT>`; records outside the caller's department subtree are not found. \
         Every GET answers an `ETag` and `304 Not Modified` to a matching `If-None-Match`."
            .to_owned(),
    );
    // The document names who runs this API (the deploying unit), never a library's author.
    let mut contact = utoipa::openapi::Contact::new();
    contact.name = Some(
        config
            .contact_name
            .clone()
            .unwrap_or_else(|| "rectrack".to_owned()),
    );
    contact.email = config.contact_email.clone();
    contact.url = config.contact_url.clone();
    api.info.contact = Some(contact);
    api.info.license = Some(utoipa::openapi::License::new(env!("CARGO_PKG_LICENSE")));
    let components = api.components.get_or_insert_with(Default::default);
    // The enumerations of query parameters: utoipa refers to them by name but registers only
    // the schemas of bodies, so each is registered here (a test checks that every `$ref` of
    // the document resolves).
    register::<LedgerFormat>(components);
    register::<LedgerLayout>(components);
    register::<ReportFormat>(components);
    register::<PageFormat>(components);
    register::<IndexFormat>(components);
    register::<super::lists::ListName>(components);
    register::<super::lists::ListFormat>(components);
    register::<super::exchange::ConflictFormat>(components);
    register::<super::lists::PlanFormat>(components);
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

/// Adds a type's schema to the document's components under its name.
fn register<T: ToSchema>(components: &mut utoipa::openapi::Components) {
    components.schemas.insert(
        T::name().into_owned(),
        <T as utoipa::PartialSchema>::schema(),
    );
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

/// Supervision orders (督办单) about the findings counted.
#[derive(Serialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub struct SupervisionCountsOut {
    /// Orders issued (督办件数).
    pub issued: i64,
    /// Awaiting the unit's reply (待回复), returned ones included.
    pub open: i64,
    /// Replied, awaiting the office (待办结).
    pub replied: i64,
    /// Accepted (已办结).
    pub accepted: i64,
    /// Open past the reply deadline (逾期未复).
    pub overdue: i64,
    /// Replied without ever going unanswered past the deadline.
    pub replied_on_time: i64,
    /// Replies in time as a share of the orders due, 0 to 1 (按期回复率); null while none is due.
    pub on_time_rate: Option<f64>,
}

impl From<OrderCounts> for SupervisionCountsOut {
    fn from(c: OrderCounts) -> Self {
        Self {
            on_time_rate: c.on_time_rate(),
            issued: c.issued,
            open: c.open,
            replied: c.replied,
            accepted: c.accepted,
            overdue: c.overdue,
            replied_on_time: c.on_time,
        }
    }
}

/// Status overall and per inspection.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusOut {
    pub overall: CountsOut,
    /// Supervision orders about the findings counted overall.
    pub supervision: SupervisionCountsOut,
    pub inspections: Vec<InspectionStatusOut>,
    /// Public feedback (公众监督) on the bulletins of units within reach: received, answered,
    /// linked to a finding.
    pub public_feedback: crate::domain::workflow::public_feedback::FeedbackCounts,
    /// The units counted whose records come from their own instance by bundles (报送 across
    /// networks): what their figures stand on. Empty when none is.
    pub exchanged_units: Vec<ExchangedUnitOut>,
}

/// A unit fed by bundles: the last bundle merged from it, when, and its age now.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExchangedUnitOut {
    /// The unit's code; null where the unit is outside the caller's reach (named only).
    pub unit_code: Option<String>,
    pub unit_name: String,
    /// The sending instance's name as registered.
    pub peer: String,
    /// The last bundle merged; null while none has arrived.
    pub sequence: Option<i32>,
    pub received_at: Option<DateTime<Utc>>,
    pub age_hours: Option<i64>,
    pub age_days: Option<i64>,
    /// The sentence people read (市委统战部的数据截至其第 3 次报送（…收到，距今 2 天）).
    pub label: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InspectionStatusOut {
    pub id: i32,
    pub title: String,
    /// The unit's code; null where the unit is outside the caller's reach (named only).
    pub unit_code: Option<String>,
    pub counts: CountsOut,
    /// Supervision orders about this inspection's findings.
    pub supervision: SupervisionCountsOut,
}

/// Relay-style paging: `limit` (1 to 100, default 100) and `cursor` (empty is none).
fn page_args(limit: Option<i32>, cursor: &Option<String>) -> AppResult<PageArgs> {
    let limit = limit.unwrap_or(100);
    if !(1..=100).contains(&limit) {
        return Err(AppError::bad_input(
            "limit",
            t!("param-limit", limit = limit),
        ));
    }
    Ok(PageArgs {
        first: Some(limit),
        after: query::given(cursor).map(str::to_owned),
        ..Default::default()
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
        (status = 400, description = "Bad parameters", body = ErrorBody),
        (status = 401, description = "No or an invalid token", body = ErrorBody),
    )
)]
async fn status(
    State(state): State<AppState>,
    Identified(caller): Identified,
) -> AppResult<Json<StatusOut>> {
    let today = state.config.timezone.today();
    let overview = summary::overview(&state.db, &caller, today).await?;
    let everything = summary::findings(&state.db, &caller, summary::Over::Everything).await?;
    let mut orders = supervision_counts::by_inspection(&state.db, &everything, today).await?;
    let overall = supervision_counts::sum(orders.values());
    let reach = caller.read_reach();
    let public_feedback =
        crate::domain::workflow::public_feedback::counts(&state.db, &caller).await?;
    let now = Utc::now().with_timezone(&state.config.timezone.0);
    let exchanged_units = crate::domain::reads::exchanged::standings(
        &state.db,
        &reach,
        summary::Over::Everything,
        now.to_utc(),
    )
    .await?
    .into_iter()
    .map(|s| ExchangedUnitOut {
        unit_code: scope::seen(&reach, &s.unit).code().map(str::to_owned),
        label: s.sentence(crate::i18n::current(), *now.offset(), false),
        unit_name: s.unit.name.clone(),
        peer: s.peer.clone(),
        sequence: s.bundle.map(|b| b.sequence),
        received_at: s.bundle.map(|b| b.received_at),
        age_hours: s.age_hours(),
        age_days: s.age_days(),
    })
    .collect();
    Ok(Json(StatusOut {
        exchanged_units,
        public_feedback,
        overall: overview.overall.into(),
        supervision: overall.into(),
        inspections: overview
            .inspections
            .into_iter()
            .map(|(i, unit, counts)| InspectionStatusOut {
                id: i.id,
                title: i.title,
                unit_code: scope::seen(&reach, &unit).code().map(str::to_owned),
                counts: counts.into(),
                supervision: orders.remove(&i.id).unwrap_or_default().into(),
            })
            .collect(),
    }))
}

/// Paging parameters.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1 to 100 (default 100).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i32>,
    /// `nextCursor` of the previous page (an opaque token rectrack hands out).
    #[param(pattern = r"^[A-Za-z0-9_-]*$")]
    pub cursor: Option<String>,
}

impl PageParams {
    fn page(&self) -> AppResult<PageArgs> {
        page_args(self.limit, &self.cursor)
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InspectionOut {
    pub id: i32,
    pub title: String,
    pub inspection_group: String,
    /// The unit's code; null where the unit is outside the caller's reach (named only).
    pub unit_code: Option<String>,
    pub started_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
    pub feedback_on: Option<NaiveDate>,
    pub due_on: Option<NaiveDate>,
    pub archived: bool,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
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
    Identified(caller): Identified,
    Query(params): Query<PageParams>,
) -> AppResult<Json<PageOut<InspectionOut>>> {
    let filter = domain::records::inspection::InspectionFilter {
        include_archived: true,
        ..Default::default()
    };
    let page = domain::records::inspection::list(
        &state.db,
        &caller,
        &filter,
        false,
        &params.page()?,
        None,
    )
    .await?;
    let units = relations::departments(&state.db, page.rows.iter().map(|(_, i)| i.unit_id)).await?;
    let next_cursor = next_cursor(&page);
    let items = page
        .rows
        .into_iter()
        .map(|(_, i)| inspection_out(i, &units, &caller))
        .collect();
    Ok(Json(PageOut { items, next_cursor }))
}

fn inspection_out(
    i: entity::inspection::Model,
    units: &HashMap<i32, department::Model>,
    caller: &Caller,
) -> InspectionOut {
    InspectionOut {
        id: i.id,
        unit_code: units
            .get(&i.unit_id)
            .and_then(|u| scope::department(caller, u).code().map(str::to_owned)),
        title: i.title,
        inspection_group: i.inspection_group,
        started_on: i.started_on,
        ended_on: i.ended_on,
        feedback_on: i.feedback_on,
        due_on: i.due_on,
        archived: i.archived_at.is_some(),
        version: i.version,
        updated_at: i.updated_at,
    }
}

/// One inspection the caller may read.
#[utoipa::path(
    get,
    path = "/api/v1/inspections/{id}",
    tag = "inspections",
    params(Id),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The inspection", body = InspectionOut),
        (status = 400, description = "Not an id", body = ErrorBody),
        (status = 401, description = "No or an invalid token", body = ErrorBody),
        (status = 404, description = "No such inspection within reach", body = ErrorBody),
    )
)]
async fn inspection(
    State(state): State<AppState>,
    Identified(caller): Identified,
    Id { id }: Id,
) -> AppResult<Json<InspectionOut>> {
    let found = domain::records::inspection::get(&state.db, &caller, id).await?;
    let units = relations::departments(&state.db, [found.unit_id]).await?;
    Ok(Json(inspection_out(found, &units, &caller)))
}

/// The cursor of the page after this one, if there is one.
fn next_cursor<M>(page: &domain::reads::page::Page<M>) -> Option<String> {
    page.has_next
        .then(|| page.rows.last().map(|(c, _)| c.to_string()))
        .flatten()
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
    /// The assigned department's code; null where none is assigned or it is outside the
    /// caller's reach (named only).
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
    /// The responsible department's code; null where it is outside the caller's reach (a
    /// finding read through a measure of the caller's section: named only).
    pub department_code: Option<String>,
    pub department_name: String,
    pub responsible_person: Option<String>,
    /// Printed in the public bulletin; counted in its figures either way.
    pub disclosed: bool,
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
    #[serde(default, deserialize_with = "query::time")]
    pub updated_since: Option<DateTime<Utc>>,
    /// Only findings holding every word (separated by spaces) in the title, the description
    /// or a measure, as the GraphQL lists search.
    #[param(max_length = 200)]
    pub search: Option<String>,
    /// Items per page, 1 to 100 (default 100).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i32>,
    /// `nextCursor` of the previous page (an opaque token rectrack hands out).
    #[param(pattern = r"^[A-Za-z0-9_-]*$")]
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
    params(Id, PullParams),
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
    Identified(caller): Identified,
    Id { id }: Id,
    Query(params): Query<PullParams>,
) -> AppResult<Json<PageOut<FindingOut>>> {
    let thresholds = Thresholds::from_config(&state.config);
    let pulled = domain::reads::sync::pull(
        &state.db,
        &caller,
        &thresholds,
        id,
        params.updated_since,
        query::given(&params.search),
        &page_args(params.limit, &params.cursor)?,
    )
    .await?;
    let next_cursor = next_cursor(&pulled.page);
    let mut measures = pulled.measures;
    let reach = caller.read_reach();
    let department = |id: i32| pulled.departments.get(&id).map(|d| scope::seen(&reach, d));
    let items = pulled
        .page
        .rows
        .into_iter()
        .map(|(_, f): (domain::reads::page::Cursor, finding::Model)| {
            let (code, name) = department(f.department_id)
                .map(|d| (d.code().map(str::to_owned), d.name().to_owned()))
                .unwrap_or_default();
            FindingOut {
                measures: measures
                    .remove(&f.id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|m: measure::Model| MeasureOut {
                        id: m.id,
                        ordinal: m.ordinal,
                        content: m.content,
                        status: upper(m.status),
                        deadline: m.deadline,
                        completed_on: m.completed_on,
                        department_code: m
                            .department_id
                            .and_then(department)
                            .and_then(|d| d.code().map(str::to_owned)),
                        responsible_person: m.responsible_person,
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
                department_code: code,
                department_name: name,
                responsible_person: f.responsible_person,
                disclosed: f.disclosed,
                created_at: f.created_at,
                updated_at: f.updated_at,
                closed_at: f.closed_at,
                archived: f.archived_at.is_some(),
                version: f.version,
            }
        })
        .collect();
    Ok(Json(PageOut { items, next_cursor }))
}

/// A rendered document as a download (`attachment`) or for display (`inline`).
fn download(format: Format, disposition: &str, name: &str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, format.media_type().to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("{disposition}; filename=\"{name}.{}\"", format.name()),
            ),
        ],
        body,
    )
        .into_response()
}

/// The ledger of an inspection as a spreadsheet: one row per finding and measure with the
/// unit's columns (序号, 问题, 整改措施, 责任领导, 责任科室, 责任人, 整改时限, 整改进展, 状态), then
/// what a re-import needs (ids and versions); or, with `layout=printed`, the 整改台账 as units
/// print and file it (title, category rows, finding cells merged over their measures, dates as
/// dates, landscape A4).
#[utoipa::path(
    get,
    path = "/api/v1/inspections/{id}/ledger",
    tag = "ledger",
    params(Id, LedgerFormatParams),
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
    Identified(caller): Identified,
    Id { id }: Id,
    Query(params): Query<LedgerFormatParams>,
) -> AppResult<Response> {
    let who = Acting::new(&caller, None, state.config.timezone);
    let snapshot = reports::current_ledger(&state.db, &who, id).await?;
    let document = match params.layout.as_deref().map(str::trim) {
        None | Some("machine") => Document::Ledger(&snapshot),
        Some("printed") => Document::PrintedLedger(&snapshot),
        Some(other) => {
            return Err(AppError::bad_input(
                "layout",
                t!("layout-unknown", layout = other),
            ));
        }
    };
    let format = Format::choose(params.format.as_deref(), document.formats())?;
    let body = render::render(document, format)?;
    Ok(download(
        format,
        "attachment",
        &format!("ledger-{id}"),
        body,
    ))
}

/// The formats of a ledger export.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LedgerFormat {
    Xlsx,
    Csv,
    Json,
}

/// A ledger export's format. The format and the layout are read as named and chosen among
/// those the document comes in (`Format::choose`: a name in any case, `markdown` for `md`),
/// so that the refusal lists the document's own; the contract lists their names.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LedgerFormatParams {
    /// xlsx (default), csv or json.
    #[param(value_type = Option<LedgerFormat>)]
    pub format: Option<String>,
    /// machine (default): one row per finding and measure with ids and versions, which the
    /// import reads back; printed: the 整改台账 units print and file (XLSX laid out for
    /// printing; CSV and JSON give its table, one row per finding).
    #[param(value_type = Option<LedgerLayout>)]
    pub layout: Option<String>,
}

/// The layouts of a ledger export.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LedgerLayout {
    Machine,
    Printed,
}

/// The renderings of a report.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    Json,
    Csv,
    Xlsx,
    Md,
    Html,
    Docx,
}

/// A report rendering (a name chosen among the report's own formats, as for the ledger).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatParams {
    /// json (default), csv, xlsx, md or docx (a Word document laid out as an official
    /// document); html for bulletins.
    #[param(value_type = Option<ReportFormat>)]
    pub format: Option<String>,
}

/// The renderings of a public bulletin page.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PageFormat {
    Html,
    Md,
}

/// A public bulletin's rendering (a name, as for the ledger).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageFormatParams {
    /// html (default) or md.
    #[param(value_type = Option<PageFormat>)]
    pub format: Option<String>,
}

/// A report in one of its renderings: the stored JSON snapshot, the ledger as CSV or XLSX
/// (with a summary sheet), Markdown, or DOCX (the report or bulletin as offices file it: A4,
/// GB/T 9704's margins and fonts, page numbers, the issuing body and date at the end).
#[utoipa::path(
    get,
    path = "/api/v1/reports/{id}",
    tag = "reports",
    params(Id, FormatParams),
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
    Identified(caller): Identified,
    Id { id }: Id,
    Query(params): Query<FormatParams>,
) -> AppResult<Response> {
    let report = reports::get(&state.db, &caller, id).await?;
    let snapshot = reports::snapshot_of(&report)?;
    let document = reports::document(&report, &snapshot);
    let format = Format::choose(params.format.as_deref(), document.formats())?;
    let body = render::render(document, format)?;
    let name = format!("report-{id}-{}", report.period_end);
    // A Word document is saved, not shown in the browser.
    let disposition = if format == Format::Docx {
        "attachment"
    } else {
        "inline"
    };
    Ok(download(format, disposition, &name, body))
}

/// An evidence file, to callers who may read its finding.
#[utoipa::path(
    get,
    path = "/api/v1/evidence/{id}",
    tag = "evidence",
    params(Id),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The file, with its media type"),
        (status = 400, description = "Not an id", body = ErrorBody),
        (status = 401, description = "No or an invalid token", body = ErrorBody),
        (status = 404, description = "No such file within reach", body = ErrorBody),
    )
)]
async fn evidence_file(
    State(state): State<AppState>,
    Identified(caller): Identified,
    Id { id }: Id,
) -> AppResult<Response> {
    let item = domain::records::progress::downloadable(&state.db, &caller, id).await?;
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

/// The public index's rendering (a name, as for the ledger) and page.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IndexParams {
    /// html (default) or json.
    #[param(value_type = Option<IndexFormat>)]
    pub format: Option<String>,
    /// Items per page, 1 to 100 (default 100).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i32>,
    /// `nextCursor` of the previous page (an opaque token rectrack hands out).
    #[param(pattern = r"^[A-Za-z0-9_-]*$")]
    pub cursor: Option<String>,
}

/// The published bulletins (通报), for the public, the latest first: an HTML page with links,
/// or JSON with `?format=json`.
#[utoipa::path(
    get,
    path = "/public/bulletins",
    tag = "public",
    params(IndexParams),
    responses(
        (status = 200, description = "A page of published bulletins: an HTML page, or JSON with `?format=json`", content(
            (PageOut<crate::report::bulletin::IndexEntry> = "application/json"),
            (String = "text/html")
        )),
        (status = 400, description = "Bad parameters", body = ErrorBody),
        (status = 429, description = "Too many requests from this address", body = ErrorBody),
    )
)]
async fn public_bulletins(
    State(state): State<AppState>,
    Query(params): Query<IndexParams>,
) -> AppResult<Response> {
    let format = Format::choose(params.format.as_deref(), &[Format::Html, Format::Json])?;
    let page =
        reports::published_bulletins(&state.db, &page_args(params.limit, &params.cursor)?).await?;
    let next = next_cursor(&page);
    let items = reports::index_entries(&page)?;
    Ok(match format {
        Format::Json => Json(PageOut {
            items,
            next_cursor: next,
        })
        .into_response(),
        _ => (
            [(header::CONTENT_TYPE, format.media_type())],
            crate::report::bulletin::index_html(&items, next.as_deref(), params.limit),
        )
            .into_response(),
    })
}

/// A published bulletin (通报), for the public: HTML, or Markdown with `?format=md`.
#[utoipa::path(
    get,
    path = "/public/bulletins/{id}",
    tag = "public",
    params(Id, PageFormatParams),
    responses(
        (status = 200, description = "The bulletin"),
        (status = 400, description = "Not an id, or an unknown format", body = ErrorBody),
        (status = 429, description = "Too many requests from this address", body = ErrorBody),
        (status = 404, description = "No such published bulletin", body = ErrorBody),
    )
)]
async fn public_bulletin(
    State(state): State<AppState>,
    Id { id }: Id,
    Query(params): Query<PageFormatParams>,
) -> AppResult<Response> {
    let report = reports::published_bulletin(&state.db, id).await?;
    let snapshot = reports::snapshot_of(&report)?;
    let format = Format::choose(params.format.as_deref(), &[Format::Html, Format::Markdown])?;
    if format == Format::Html {
        // The page carries public supervision: the form, its QR code, published answers.
        let page = super::feedback::bulletin_page(&state, &report, &snapshot).await?;
        return Ok(([(header::CONTENT_TYPE, format.media_type())], page).into_response());
    }
    let body = render::render(Document::Bulletin(&snapshot), format)?;
    Ok(([(header::CONTENT_TYPE, format.media_type())], body).into_response())
}

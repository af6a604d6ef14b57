//! REST downloads of the three lists, the timetable and the road map of an inspection:
//! `GET /api/v1/inspections/{id}/lists/{problems|tasks|responsibilities|timetable}` as XLSX
//! (laid out for printing) or CSV, `GET /api/v1/inspections/{id}/roadmap.svg`, and the
//! rectification plan that prints them together, `GET /api/v1/inspections/{id}/plan` (DOCX).
//! Scoped as every read: an inspection outside reach is not found, a section sees its own part.

use axum::extract::{FromRequestParts, RawPathParams, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::query::Query;
use super::shared::{ErrorBody, Id, Identified};
use crate::domain::reads::lists::{
    Plan, problems, responsibilities, roadmap, tasks, timetable, unknown_list,
};
use crate::domain::workflow::warning::Thresholds;
use crate::error::{AppError, AppResult};
use crate::http::state::AppState;
use crate::report::lists::{self as tables, Table};
use crate::report::render::Format;

/// The lists an inspection has.
#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum ListName {
    /// 问题清单.
    Problems,
    /// 任务清单.
    Tasks,
    /// 责任清单.
    Responsibilities,
    /// 时间表.
    Timetable,
}

/// Which list of which inspection.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ListPath {
    /// The inspection's id: a positive whole number.
    #[param(minimum = 1)]
    pub id: i32,
    /// problems, tasks, responsibilities or timetable.
    pub list: ListName,
}

/// The list named in the path (`BAD_USER_INPUT` naming the four for any other).
pub struct Named(pub ListName);

impl<S: Send + Sync> FromRequestParts<S> for Named {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let raw = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| unknown_list(""))?;
        let name = raw
            .iter()
            .find(|(k, _)| *k == "list")
            .map(|(_, v)| v.to_owned())
            .unwrap_or_default();
        match name.trim().to_ascii_lowercase().as_str() {
            "problems" => Ok(Named(ListName::Problems)),
            "tasks" => Ok(Named(ListName::Tasks)),
            "responsibilities" => Ok(Named(ListName::Responsibilities)),
            "timetable" => Ok(Named(ListName::Timetable)),
            _ => Err(unknown_list(&name)),
        }
    }
}

/// The formats of a list.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ListFormat {
    Xlsx,
    Csv,
}

/// A list's format and, for tasks, its filter.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// xlsx (default) or csv.
    #[param(value_type = Option<ListFormat>)]
    pub format: Option<String>,
    /// Tasks only: of this department or below.
    #[param(minimum = 1)]
    pub department_id: Option<i32>,
    /// Tasks only: of this responsible person, as written.
    #[param(pattern = r"^[^\x00]*$")]
    pub person: Option<String>,
    /// Tasks only: due on or after this day (YYYY-MM-DD).
    #[serde(default, deserialize_with = "super::query::date")]
    #[param(value_type = Option<String>, format = Date)]
    pub due_from: Option<chrono::NaiveDate>,
    /// Tasks only: due on or before this day (YYYY-MM-DD).
    #[serde(default, deserialize_with = "super::query::date")]
    #[param(value_type = Option<String>, format = Date)]
    pub due_to: Option<chrono::NaiveDate>,
}

/// One of the three lists or the timetable of an inspection, as a workbook laid out for
/// printing (title, inspection and date, group headings merged across the row, the header
/// repeated on every page, landscape A4) or as CSV (the group in the first column).
#[utoipa::path(
    get,
    path = "/api/v1/inspections/{id}/lists/{list}",
    tag = "lists",
    params(ListPath, ListParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The list as XLSX (default) or CSV"),
        (status = 400, description = "Unknown list or format, or a bad filter", body = ErrorBody),
        (status = 401, description = "No or an invalid token", body = ErrorBody),
        (status = 404, description = "No such inspection within reach", body = ErrorBody),
    )
)]
pub async fn list_file(
    State(state): State<AppState>,
    Identified(caller): Identified,
    Id { id }: Id,
    Named(list): Named,
    Query(params): Query<ListParams>,
) -> AppResult<Response> {
    let csv = match params
        .format
        .as_deref()
        .map(|f| f.trim().to_ascii_lowercase())
    {
        None => false,
        Some(f) if f == "xlsx" => false,
        Some(f) if f == "csv" => true,
        Some(other) => {
            return Err(AppError::bad_input(
                "format",
                t!("format-unknown", asked = other, known = "xlsx, csv"),
            ));
        }
    };
    let filter = tasks::TaskFilter {
        department_id: params.department_id,
        person: params.person,
        status: Vec::new(),
        due_from: params.due_from,
        due_to: params.due_to,
    }
    .checked()?;
    let thresholds = Thresholds::from_config(&state.config);
    let plan = Plan::load(&state.db, &caller, id, thresholds).await?;
    let (table, name): (Table, &str) = match list {
        ListName::Problems => (tables::problems(&plan, &problems::build(&plan)), "problems"),
        ListName::Tasks => {
            let within = tasks::path_of(&state.db, &filter).await?;
            (
                tables::tasks(&plan, &tasks::build(&plan, &filter, within.as_deref())),
                "tasks",
            )
        }
        ListName::Responsibilities => (
            tables::responsibilities(&plan, &responsibilities::build(&plan)),
            "responsibilities",
        ),
        ListName::Timetable => (
            tables::timetable(&plan, &timetable::build(&plan)),
            "timetable",
        ),
    };
    let (body, media, ext) = if csv {
        (tables::csv(&table), "text/csv; charset=utf-8", "csv")
    } else {
        (
            tables::xlsx(&table)
                .map_err(|e| AppError::internal(format!("writing a workbook: {e}")))?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        )
    };
    Ok((
        [
            (header::CONTENT_TYPE, media.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}-{id}.{ext}\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// The road map (路线图) of an inspection as an SVG chart: a row per finding the caller may
/// read, a lane per measure (planned as an outline, done or under way as a bar), the finding's
/// deadline, today's line and the colours of the warning ladder.
#[utoipa::path(
    get,
    path = "/api/v1/inspections/{id}/roadmap.svg",
    tag = "lists",
    params(Id),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The road map as SVG", content_type = "image/svg+xml"),
        (status = 400, description = "A bad id", body = ErrorBody),
        (status = 401, description = "No or an invalid token", body = ErrorBody),
        (status = 404, description = "No such inspection within reach", body = ErrorBody),
    )
)]
pub async fn roadmap_svg(
    State(state): State<AppState>,
    Identified(caller): Identified,
    Id { id }: Id,
) -> AppResult<Response> {
    let plan = Plan::load(
        &state.db,
        &caller,
        id,
        Thresholds::from_config(&state.config),
    )
    .await?;
    let svg = crate::report::roadmap::svg(&roadmap::build(&plan), &plan.inspection.title);
    Ok((
        [(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")],
        svg,
    )
        .into_response())
}

/// The formats of the rectification plan.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PlanFormat {
    Docx,
}

/// The plan's format.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlanParams {
    /// docx (the default, and the one format).
    #[param(value_type = Option<PlanFormat>)]
    pub format: Option<String>,
}

/// The rectification plan (整改方案) of an inspection as a Word document laid out as an official
/// document (GB/T 9704): the problem, task and responsibility lists and the timetable as tables
/// with their header repeated on every page, the road map's steps and stages, the unit and the
/// day at the end. Of the findings the caller may read, as the lists are.
#[utoipa::path(
    get,
    path = "/api/v1/inspections/{id}/plan",
    tag = "lists",
    params(Id, PlanParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The plan as DOCX"),
        (status = 400, description = "A bad id or an unknown format", body = ErrorBody),
        (status = 401, description = "No or an invalid token", body = ErrorBody),
        (status = 404, description = "No such inspection within reach", body = ErrorBody),
    )
)]
pub async fn plan_file(
    State(state): State<AppState>,
    Identified(caller): Identified,
    Id { id }: Id,
    Query(params): Query<PlanParams>,
) -> AppResult<Response> {
    let format = Format::choose(params.format.as_deref(), &[Format::Docx])?;
    let plan = Plan::load(
        &state.db,
        &caller,
        id,
        Thresholds::from_config(&state.config),
    )
    .await?;
    // Thousands of findings make a document of megabytes: laid out off the request threads.
    let body = tokio::task::spawn_blocking(move || crate::report::docx::plan::render(&plan))
        .await
        .map_err(|e| AppError::internal(format!("laying out a plan: {e}")))??;
    Ok((
        [
            (header::CONTENT_TYPE, format.media_type().to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"plan-{id}.{}\"", format.name()),
            ),
        ],
        body,
    )
        .into_response())
}

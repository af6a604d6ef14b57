//! REST for exchange between instances: `POST /api/v1/exchange/export?to=INSTANCE` writes the
//! next signed bundle for a registered peer and answers it as a download (administrators and
//! the managers of the peer's unit); `POST /api/v1/exchange/bundles` imports one at the office
//! (administrators). The rules are `exchange::export`'s and `exchange::import`'s, as on the
//! command line.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use super::query::Query;
use super::shared::{ErrorBody, Identified};
use crate::domain::Acting;
use crate::error::{AppError, AppResult};
use crate::http::state::AppState;

/// Whom the bundle is for.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// The peer's instance id (32 hexadecimal digits).
    #[param(pattern = "^[0-9a-fA-F]{32}$")]
    pub to: String,
    /// Write bundle number N again (its file was lost): any number the peer has not
    /// acknowledged; the bundles written after it are abandoned.
    #[param(minimum = 1)]
    pub reissue: Option<i32>,
}

/// Blocks of the file sent at a time.
const BLOCK: usize = 64 * 1024;

/// Writes the next bundle for a peer and downloads it (a zip; docs/EXCHANGE.md).
#[utoipa::path(
    post,
    path = "/api/v1/exchange/export",
    tag = "exchange",
    params(ExportParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The bundle (application/zip)", content_type = "application/zip"),
        (status = 400, description = "No peer named (`to`), or a number that cannot be written again", body = ErrorBody),
        (status = 401, description = "No or an invalid token", body = ErrorBody),
        (status = 403, description = "The role may not make bundles", body = ErrorBody),
        (status = 404, description = "No such peer within reach", body = ErrorBody),
    )
)]
pub async fn export_bundle(
    State(state): State<AppState>,
    Identified(caller): Identified,
    Query(params): Query<ExportParams>,
) -> AppResult<Response> {
    let who = Acting::new(&caller, None, state.config.timezone);
    let dir = state.config.data_dir.join("exchange").join("outgoing");
    std::fs::create_dir_all(&dir)
        .map_err(|err| AppError::internal(format!("{}: {err}", dir.display())))?;
    let mut name = [0u8; 8];
    getrandom::fill(&mut name).map_err(AppError::internal)?;
    let file = dir.join(format!("{}.zip", crate::audit::hex(&name)));
    let (db, me, store) = (&state.db, &state.exchange, &state.evidence);
    let exported = match params.reissue {
        Some(n) => {
            crate::exchange::export::reissue(db, &who, me, store, &params.to, &file, n).await?
        }
        None => crate::exchange::export::export(db, &who, me, store, &params.to, &file).await?,
    };
    // Opened, then unlinked: the open file streams out and vanishes with its handle.
    let opened = tokio::fs::File::open(&file).await;
    let _ = std::fs::remove_file(&file);
    let opened = opened.map_err(|err| AppError::internal(format!("{}: {err}", file.display())))?;
    let m = &exported.manifest;
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (header::CONTENT_LENGTH, exported.bytes.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"rectrack-{}-{}.zip\"",
                    m.unit
                        .code
                        .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_"),
                    m.sequence
                ),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        file_body(opened),
    )
        .into_response())
}

/// An open file as a response body, a block at a time.
pub(crate) fn file_body(opened: tokio::fs::File) -> Body {
    let stream = futures_util::stream::unfold(opened, |mut f| async move {
        use tokio::io::AsyncReadExt;
        let mut buffer = vec![0u8; BLOCK];
        match f.read(&mut buffer).await {
            Ok(0) => None,
            Ok(n) => {
                buffer.truncate(n);
                Some((Ok::<_, std::io::Error>(buffer), f))
            }
            Err(err) => Some((Err(err), f)),
        }
    });
    Body::from_stream(stream)
}

/// The largest bundle the endpoint takes (the check's file budget).
fn upload_limit() -> u64 {
    crate::exchange::check::Budgets::default().file
}

/// Imports a bundle (the zip as the request body; administrators): checked, then merged in
/// one transaction. Answers what was done and the signed acknowledgement for the sender
/// (`rectrack exchange ack` at the unit records it).
#[utoipa::path(
    post,
    path = "/api/v1/exchange/bundles",
    tag = "exchange",
    security(("bearer" = [])),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The bundle: the zip file's bytes as they are"),
    responses(
        (status = 200, description = "Merged, or a duplicate of a bundle merged before (nothing done again); with the acknowledgement"),
        (status = 400, description = "The bundle is refused (BUNDLE_*): nothing was merged", body = ErrorBody),
        (status = 401, description = "No or an invalid token", body = ErrorBody),
        (status = 403, description = "Not an administrator", body = ErrorBody),
        (status = 409, description = "A number skipped (the missing one is named) or taken by another bundle", body = ErrorBody),
        (status = 413, description = "Larger than a bundle may be", body = ErrorBody),
    )
)]
pub async fn import_bundle(
    State(state): State<AppState>,
    Identified(caller): Identified,
    headers: HeaderMap,
    body: Body,
) -> AppResult<Response> {
    let who = Acting::new(&caller, None, state.config.timezone);
    // The role first: a caller who may not import costs no upload.
    who.require(crate::auth::Permission::ManageExchange)?;
    Ok(axum::Json(import_upload(&state, &who, &headers, body).await?).into_response())
}

/// Receives an uploaded bundle and imports it as `who` (an administrator here, a peer on
/// `POST /api/v1/exchange/peer/bundles`): the body streamed to a file under
/// `RECTRACK_DATA_DIR/exchange/incoming`, at most the bundle file budget (a larger declared
/// `Content-Length` is refused before anything is read), then `exchange::import` on the
/// blocking pool; the file is removed afterwards.
pub(crate) async fn import_upload(
    state: &AppState,
    who: &Acting,
    headers: &HeaderMap,
    body: Body,
) -> AppResult<crate::exchange::import::Imported> {
    let limit = upload_limit();
    let too_large =
        || AppError::PayloadTooLarge(t!("exchange-bundle-too-large", limit = limit.to_string()));
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let dir = state.config.data_dir.join("exchange").join("incoming");
    std::fs::create_dir_all(&dir)
        .map_err(|err| AppError::internal(format!("{}: {err}", dir.display())))?;
    let mut name = [0u8; 8];
    getrandom::fill(&mut name).map_err(AppError::internal)?;
    let file = dir.join(format!("{}.zip", crate::audit::hex(&name)));
    let received = receive(body, &file, limit).await;
    let outcome = match received {
        Ok(true) => {
            crate::exchange::connected::import_file(
                &state.db,
                who,
                &state.exchange,
                &state.evidence,
                &file,
            )
            .await
        }
        Ok(false) => Err(too_large()),
        Err(err) => Err(err),
    };
    let _ = std::fs::remove_file(&file);
    outcome
}

/// Streams the body into `file`, at most `limit` bytes; false when it is longer.
async fn receive(body: Body, file: &std::path::Path, limit: u64) -> AppResult<bool> {
    use futures_util::StreamExt;
    use tokio::io::AsyncWriteExt;
    let io = |err: std::io::Error| AppError::internal(format!("{}: {err}", file.display()));
    let mut out = tokio::fs::File::create_new(file).await.map_err(io)?;
    let mut stream = body.into_data_stream();
    let mut total = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| {
            AppError::request(
                crate::error::codes::BAD_REQUEST,
                t!(
                    "exchange-bundle-unreadable",
                    detail = "the upload broke off"
                ),
            )
        })?;
        total += chunk.len() as u64;
        if total > limit {
            return Ok(false);
        }
        out.write_all(&chunk).await.map_err(io)?;
    }
    out.flush().await.map_err(io)?;
    out.sync_all().await.map_err(io)?;
    Ok(true)
}

/// The formats of the conflict report.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ConflictFormat {
    Json,
    Xlsx,
}

/// The conflict report's format.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConflictParams {
    /// json (default) or xlsx.
    #[param(value_type = Option<ConflictFormat>)]
    pub format: Option<String>,
}

/// The conflict report: the office's decisions on a unit's findings that the unit's records no
/// longer fitted, as this instance recorded them (decisions made here that the unit could not
/// apply; decisions received here that did not fit), newest first. Administrators see all of
/// it, a unit's managers their unit's peers' lines.
#[utoipa::path(
    get,
    path = "/api/v1/exchange/conflicts",
    tag = "exchange",
    params(ConflictParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The report as JSON (default) or as a workbook (XLSX)"),
        (status = 400, description = "An unknown format", body = ErrorBody),
        (status = 401, description = "No or an invalid token", body = ErrorBody),
        (status = 403, description = "The role may not read the exchange", body = ErrorBody),
    )
)]
pub async fn conflict_report(
    State(state): State<AppState>,
    Identified(caller): Identified,
    Query(params): Query<ConflictParams>,
) -> AppResult<Response> {
    let xlsx = match params
        .format
        .as_deref()
        .map(|f| f.trim().to_ascii_lowercase())
    {
        None => false,
        Some(f) if f == "json" => false,
        Some(f) if f == "xlsx" => true,
        Some(other) => {
            return Err(AppError::bad_input(
                "format",
                t!("format-unknown", asked = other, known = "json, xlsx"),
            ));
        }
    };
    let who = Acting::new(&caller, None, state.config.timezone);
    let rows = crate::domain::integration::decisions::conflicts(&state.db, &who).await?;
    if !xlsx {
        return Ok(axum::Json(crate::exchange::conflicts::report(&rows)).into_response());
    }
    let table = crate::exchange::conflicts::table(&rows, state.config.timezone);
    let body = crate::report::lists::xlsx(&table)
        .map_err(|e| AppError::internal(format!("writing a workbook: {e}")))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"exchange-conflicts.xlsx\"".to_owned(),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        body,
    )
        .into_response())
}

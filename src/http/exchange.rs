//! REST for exchange between instances: `POST /api/v1/exchange/export?to=INSTANCE` writes the
//! next signed bundle for a registered peer and answers it as a download (administrators and
//! the managers of the peer's unit). The rules are `exchange::export`'s, as on the command line.

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use super::query::Query;
use super::rest::{ErrorBody, Identified};
use crate::domain::Acting;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Whom the bundle is for.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// The peer's instance id.
    pub to: String,
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
        (status = 400, description = "No peer named (`to`)", body = ErrorBody),
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
    let exported = crate::exchange::export::export(
        &state.db,
        &who,
        &state.exchange,
        &state.evidence,
        &params.to,
        &file,
    )
    .await?;
    // Opened, then unlinked: the open file streams out and vanishes with its handle.
    let opened = tokio::fs::File::open(&file).await;
    let _ = std::fs::remove_file(&file);
    let opened = opened.map_err(|err| AppError::internal(format!("{}: {err}", file.display())))?;
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
        Body::from_stream(stream),
    )
        .into_response())
}

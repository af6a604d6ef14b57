//! REST endpoints under `/api/v1`, for systems that pull rather than query. They call the same
//! domain functions as GraphQL and answer errors as `{ "error": { "code", "message" } }`.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::auth::Caller;
use crate::domain;
use crate::error::AppError;
use crate::state::AppState;

/// `GET /api/v1/evidence/{id}`: an evidence file, to callers who may read its finding.
pub async fn evidence_file(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i32>,
) -> Result<Response, AppError> {
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
            (header::ETAG, format!("\"{sha256}\"")),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (header::CACHE_CONTROL, "private, max-age=0".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

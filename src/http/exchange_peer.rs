//! Connected mode's endpoints (docs/EXCHANGE.md, "Connected mode"), called by a registered
//! peer's instance, not by a person: no token, but the peer's signature over the request
//! (`Rectrack-Peer`, `Rectrack-Date`, `Rectrack-Signature`), checked against its registered
//! key before any body is read (`exchange::connected::authenticate`). The peer acts as
//! `exchange:<its instance id>`, and only as these three handlers let it: its bundle is
//! imported with every check of an uploaded one (the bundle's own signature and sender
//! included), it takes only the bundle written for it, and an acknowledgement counts only
//! when the peer signed it.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::shared::ErrorBody;
use crate::domain::Acting;
use crate::error::{AppError, AppResult, codes};
use crate::exchange::connected::{self, ACK_LIMIT, ACKS_PATH, BUNDLE_PATH, BUNDLES_PATH};
use crate::exchange::import::Acknowledgement;
use crate::http::state::AppState;

/// The calling peer, checked by its signature; `who` acts for it.
async fn peer(
    state: &AppState,
    headers: &HeaderMap,
    method: &str,
    path: &str,
) -> AppResult<(entity::exchange_peer::Model, Acting)> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let peer = connected::authenticate(
        &state.db,
        &state.exchange,
        header,
        method,
        path,
        chrono::Utc::now(),
    )
    .await?;
    let who = Acting::peer(&peer.instance_id, state.config.timezone);
    Ok((peer, who))
}

/// Takes a bundle from the calling peer (the zip as the request body), as
/// `POST /api/v1/exchange/bundles` does: checked, then merged in one transaction. Answers
/// what was done and the signed acknowledgement.
#[utoipa::path(
    post,
    path = "/api/v1/exchange/peer/bundles",
    tag = "exchange",
    params(
        ("Rectrack-Peer" = String, Header, description = "The calling instance's id"),
        ("Rectrack-Date" = String, Header, description = "The time of the request (RFC 3339), within 5 minutes of this server's clock"),
        ("Rectrack-Signature" = String, Header, description = "Base64 Ed25519 signature, by the caller's instance key, of `POST\\n/api/v1/exchange/peer/bundles\\n<date>\\n<this instance's id>`"),
    ),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The bundle: the zip file's bytes as they are"),
    responses(
        (status = 200, description = "Merged, or a duplicate of a bundle merged before (nothing done again); with the acknowledgement"),
        (status = 400, description = "The bundle is refused (BUNDLE_*): nothing was merged", body = ErrorBody),
        (status = 401, description = "Not signed by a registered peer (PEER_*); nothing was read", body = ErrorBody),
        (status = 409, description = "A number skipped (the missing one is named) or taken by another bundle", body = ErrorBody),
        (status = 413, description = "Larger than a bundle may be", body = ErrorBody),
    )
)]
pub async fn peer_bundles(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> AppResult<Response> {
    let (_, who) = peer(&state, &headers, "POST", BUNDLES_PATH).await?;
    let imported = super::exchange::import_upload(&state, &who, &headers, body).await?;
    Ok(axum::Json(imported).into_response())
}

/// The next bundle this instance has for the calling peer: the oldest it has not
/// acknowledged yet (the same file until it does), else a new one when something is pending.
#[utoipa::path(
    get,
    path = "/api/v1/exchange/peer/bundle",
    tag = "exchange",
    params(
        ("Rectrack-Peer" = String, Header, description = "The calling instance's id"),
        ("Rectrack-Date" = String, Header, description = "The time of the request (RFC 3339), within 5 minutes of this server's clock"),
        ("Rectrack-Signature" = String, Header, description = "Base64 Ed25519 signature, by the caller's instance key, of `GET\\n/api/v1/exchange/peer/bundle\\n<date>\\n<this instance's id>`"),
    ),
    responses(
        (status = 200, description = "The bundle (application/zip); its number in `Rectrack-Sequence`", content_type = "application/zip"),
        (status = 204, description = "Nothing for the peer"),
        (status = 401, description = "Not signed by a registered peer (PEER_*)", body = ErrorBody),
    )
)]
pub async fn peer_bundle(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    let (peer, who) = peer(&state, &headers, "GET", BUNDLE_PATH).await?;
    let next = connected::next_bundle(
        &state.db,
        &who,
        &state.exchange,
        &state.evidence,
        &state.config.data_dir,
        &peer.instance_id,
    )
    .await?;
    let Some((sequence, file)) = next else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    let opened = tokio::fs::File::open(&file)
        .await
        .map_err(|err| AppError::internal(format!("{}: {err}", file.display())))?;
    let length = opened
        .metadata()
        .await
        .map_err(|err| AppError::internal(format!("{}: {err}", file.display())))?
        .len();
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (header::CONTENT_LENGTH, length.to_string()),
            (
                header::HeaderName::from_static("rectrack-sequence"),
                sequence.to_string(),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        super::exchange::file_body(opened),
    )
        .into_response())
}

/// What recording an acknowledgement did.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AckAnswer {
    /// Whether the peer's acknowledged position moved (false: it was not newer).
    pub moved: bool,
}

/// Records the calling peer's acknowledgement of a bundle this instance wrote for it (what
/// `rectrack exchange ack FILE` does with a file): the next bundle starts after it, and the
/// queued bundles it covers are removed.
#[utoipa::path(
    post,
    path = "/api/v1/exchange/peer/acks",
    tag = "exchange",
    params(
        ("Rectrack-Peer" = String, Header, description = "The calling instance's id"),
        ("Rectrack-Date" = String, Header, description = "The time of the request (RFC 3339), within 5 minutes of this server's clock"),
        ("Rectrack-Signature" = String, Header, description = "Base64 Ed25519 signature, by the caller's instance key, of `POST\\n/api/v1/exchange/peer/acks\\n<date>\\n<this instance's id>`"),
    ),
    request_body(content = crate::exchange::import::Acknowledgement, content_type = "application/json", description = "The acknowledgement, signed by the caller"),
    responses(
        (status = 200, description = "Recorded", body = AckAnswer),
        (status = 400, description = "Not an acknowledgement, not the caller's, or its signature does not verify (BUNDLE_*)", body = ErrorBody),
        (status = 401, description = "Not signed by a registered peer (PEER_*); nothing was read", body = ErrorBody),
        (status = 409, description = "It names a bundle that was not written, or an event this chain does not hold", body = ErrorBody),
    )
)]
pub async fn peer_acks(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> AppResult<Response> {
    let (peer, who) = peer(&state, &headers, "POST", ACKS_PATH).await?;
    let bytes = axum::body::to_bytes(body, ACK_LIMIT).await.map_err(|_| {
        AppError::PayloadTooLarge(t!(
            "exchange-bundle-too-large",
            limit = ACK_LIMIT.to_string()
        ))
    })?;
    let ack: Acknowledgement = serde_json::from_slice(&bytes).map_err(|err| {
        AppError::request(
            codes::BUNDLE_UNREADABLE,
            t!("exchange-bundle-unreadable", detail = err.to_string()),
        )
    })?;
    if ack.from != peer.instance_id {
        return Err(AppError::request(
            codes::BUNDLE_UNKNOWN_SENDER,
            t!(
                "exchange-peer-ack-other",
                from = ack.from.as_str(),
                peer = peer.instance_id.as_str()
            ),
        ));
    }
    let moved = crate::exchange::ack::record(&state.db, &who, &state.exchange, &ack).await?;
    connected::prune_queue(&state.db, &state.config.data_dir, &peer.instance_id).await?;
    Ok(axum::Json(AckAnswer { moved }).into_response())
}

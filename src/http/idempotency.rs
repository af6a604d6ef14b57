//! `Idempotency-Key` on mutation requests: a script that retries after a network error or a
//! `SERVICE_UNAVAILABLE` gets the stored answer of the first attempt instead of a second change
//! (the rules are [`crate::domain::gate::idempotency`]'s). The same key with a different request is
//! refused with CONFLICT.

use std::time::{Duration, Instant};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use sha2::{Digest, Sha256};

use super::refuse;
use crate::audit::hex;
use crate::auth::Caller;
use crate::domain::gate::idempotency::{self, Attempt, Claim, Stored};
use crate::error::codes;
use crate::http::state::AppState;

pub const HEADER: &str = "idempotency-key";

pub async fn idempotency(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(key) = request.headers().get(HEADER).cloned() else {
        return next.run(request).await;
    };
    // A dry run changes nothing, so there is nothing to make once; its answer is not stored.
    if request.headers().contains_key(super::graphql::DRY_RUN) {
        return next.run(request).await;
    }
    let key = match key.to_str() {
        Ok(k) if !k.trim().is_empty() && k.len() <= 255 => k.trim().to_owned(),
        _ => {
            return refuse(codes::BAD_USER_INPUT, &t!("idempotency-key-shape"));
        }
    };
    let caller = request
        .extensions()
        .get::<Caller>()
        .and_then(|c| c.identity().map(|i| i.sub.clone()))
        .unwrap_or_else(|| "anonymous".to_owned());
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (parts, body) = request.into_parts();
    let limit = state.evidence.max_size() + state.config.graphql.graphql_max_body;
    let Ok(bytes) = to_bytes(body, limit).await else {
        return refuse(
            codes::PAYLOAD_TOO_LARGE,
            &t!("body-too-large", limit = limit),
        );
    };
    let mut hasher = Sha256::new();
    hasher.update(parts.uri.path().as_bytes());
    hasher.update(b"\n");
    hasher.update(&bytes);
    let hash = hex(&hasher.finalize());

    let timeout = state.config.request_timeout;
    let seconds =
        |d: Duration| chrono::Duration::from_std(d).unwrap_or(chrono::Duration::hours(24));
    let deadline = Instant::now() + timeout;
    loop {
        let attempt = Attempt {
            caller: &caller,
            key: &key,
            hash: &hash,
            request_id: request_id.as_deref(),
            now: Utc::now(),
            ttl: seconds(state.config.idempotency_ttl),
            lease: seconds(timeout + Duration::from_secs(5)),
        };
        match idempotency::claim(&state.db, &attempt).await {
            Ok(Claim::Ours) => break,
            Ok(Claim::Replay(stored)) => return replay(stored),
            Ok(Claim::Mismatch) => {
                return refuse(codes::CONFLICT, &t!("idempotency-key-other-request"));
            }
            Ok(Claim::Committed) => {
                return refuse(codes::CONFLICT, &t!("idempotency-answer-lost"));
            }
            Ok(Claim::Running) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            Ok(Claim::Running) => {
                return refuse(codes::CONFLICT, &t!("idempotency-running"));
            }
            Err(err) => return err.into_response(),
        }
    }

    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let (parts, body) = response.into_parts();
    let body = to_bytes(body, usize::MAX).await.unwrap_or_default();
    if parts.status.is_server_error() {
        // The work did not happen (its transaction rolled back): give the key back so that a
        // retry may do it, even if the database is still away now.
        let db = state.db.clone();
        tokio::spawn(async move {
            for _ in 0..60 {
                if idempotency::release(&db, &caller, &key).await.is_ok() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    } else {
        let stored = Stored {
            status: parts.status.as_u16(),
            content_type: parts
                .headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            body: String::from_utf8_lossy(&body).into_owned(),
        };
        if let Err(err) = idempotency::finish(&state.db, &caller, &key, stored).await {
            tracing::error!(code = err.code(), "storing an idempotent response failed");
        }
    }
    Response::from_parts(parts, Body::from(body))
}

/// The first attempt's stored answer, marked as a replay.
fn replay(stored: Stored) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = (status, stored.body).into_response();
    if let Some(value) = stored
        .content_type
        .and_then(|c| HeaderValue::from_str(&c).ok())
    {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

//! `Idempotency-Key` on mutation requests: a script that retries after a network error gets
//! the stored response of the first attempt instead of a second change. The key is stored per
//! caller with a hash of the request; the database's primary key decides which of two
//! concurrent requests does the work (across processes too), and the other waits for its
//! response. The same key with a different request is refused with CONFLICT.

use std::time::{Duration, Instant};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use entity::idempotency_key as key_row;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::audit::hex;
use crate::auth::Caller;
use crate::state::AppState;

pub const HEADER: &str = "idempotency-key";

fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({ "errors": [ { "message": message, "extensions": { "code": code } } ] });
    (status, axum::Json(body)).into_response()
}

pub async fn idempotency(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(key) = request.headers().get(HEADER).cloned() else {
        return next.run(request).await;
    };
    let key = match key.to_str() {
        Ok(k) if !k.trim().is_empty() && k.len() <= 255 => k.trim().to_owned(),
        _ => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "BAD_USER_INPUT",
                "Idempotency-Key must be 1 to 255 visible characters",
            );
        }
    };
    let caller = request
        .extensions()
        .get::<Caller>()
        .and_then(|c| c.identity().map(|i| i.sub.clone()))
        .unwrap_or_else(|| "anonymous".to_owned());
    let (parts, body) = request.into_parts();
    let limit = state.evidence.max_size() + state.config.graphql.graphql_max_body;
    let Ok(bytes) = to_bytes(body, limit).await else {
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            &format!("the request body exceeds {limit} bytes"),
        );
    };
    let mut hasher = Sha256::new();
    hasher.update(parts.uri.path().as_bytes());
    hasher.update(b"\n");
    hasher.update(&bytes);
    let hash = hex(&hasher.finalize());

    let deadline = Instant::now() + state.config.request_timeout;
    loop {
        match claim(&state, &caller, &key, &hash).await {
            Ok(Claim::Ours) => break,
            Ok(Claim::Replay(response)) => return response,
            Ok(Claim::Mismatch) => {
                return refuse(
                    StatusCode::CONFLICT,
                    "CONFLICT",
                    "this Idempotency-Key was used for a different request",
                );
            }
            Ok(Claim::Running) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            Ok(Claim::Running) => {
                return refuse(
                    StatusCode::CONFLICT,
                    "CONFLICT",
                    "a request with this Idempotency-Key is still running",
                );
            }
            Err(err) => return err.into_response(),
        }
    }

    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let (parts, body) = response.into_parts();
    let body = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let done = if parts.status.is_server_error() {
        // The work did not happen (the transaction rolled back): let a retry do it.
        key_row::Entity::delete_by_id((caller.clone(), key.clone()))
            .exec(&state.db)
            .await
            .map(|_| ())
    } else {
        key_row::Entity::update_many()
            .col_expr(key_row::Column::State, Expr::value("done"))
            .col_expr(
                key_row::Column::ResponseStatus,
                Expr::value(i32::from(parts.status.as_u16())),
            )
            .col_expr(
                key_row::Column::ResponseContentType,
                Expr::value(
                    parts
                        .headers
                        .get(header::CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned),
                ),
            )
            .col_expr(
                key_row::Column::ResponseBody,
                Expr::value(String::from_utf8_lossy(&body).into_owned()),
            )
            .filter(key_row::Column::Caller.eq(caller.as_str()))
            .filter(key_row::Column::Key.eq(key.as_str()))
            .exec(&state.db)
            .await
            .map(|_| ())
    };
    if let Err(err) = done {
        tracing::error!(error = %err, "storing an idempotent response failed");
    }
    Response::from_parts(parts, Body::from(body))
}

enum Claim {
    /// This request does the work.
    Ours,
    /// The first request's stored response.
    Replay(Response),
    /// The key belongs to another request.
    Mismatch,
    /// The first request is still running.
    Running,
}

async fn claim(
    state: &AppState,
    caller: &str,
    key: &str,
    hash: &str,
) -> Result<Claim, crate::error::AppError> {
    let now = Utc::now();
    let ttl = chrono::Duration::from_std(state.config.idempotency_ttl)
        .unwrap_or(chrono::Duration::hours(24));
    let inserted = key_row::ActiveModel {
        caller: Set(caller.to_owned()),
        key: Set(key.to_owned()),
        request_hash: Set(hash.to_owned()),
        state: Set("in_progress".to_owned()),
        response_status: Set(None),
        response_content_type: Set(None),
        response_body: Set(None),
        created_at: Set(now),
        expires_at: Set(now + ttl),
    }
    .insert(&state.db)
    .await;
    if inserted.is_ok() {
        // Forget expired keys now and then: whenever a new one is stored.
        key_row::Entity::delete_many()
            .filter(key_row::Column::ExpiresAt.lt(now))
            .exec(&state.db)
            .await?;
        return Ok(Claim::Ours);
    }
    let Some(row) = key_row::Entity::find_by_id((caller.to_owned(), key.to_owned()))
        .one(&state.db)
        .await?
    else {
        // It expired and was removed between the two statements: try again.
        return Ok(Claim::Running);
    };
    if row.expires_at < now {
        key_row::Entity::delete_by_id((caller.to_owned(), key.to_owned()))
            .exec(&state.db)
            .await?;
        return Ok(Claim::Running);
    }
    if row.request_hash != hash {
        return Ok(Claim::Mismatch);
    }
    if row.state != "done" {
        return Ok(Claim::Running);
    }
    let status = row
        .response_status
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut response = (status, row.response_body.unwrap_or_default()).into_response();
    if let Some(value) = row
        .response_content_type
        .and_then(|c| HeaderValue::from_str(&c).ok())
    {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    Ok(Claim::Replay(response))
}

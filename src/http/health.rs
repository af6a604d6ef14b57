//! Liveness and readiness probes for load balancers and orchestrators.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::db;
use crate::http::state::AppState;

/// The process is alive and serving HTTP.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

/// The database answers; 503 when it does not, or not within two seconds (a database that is
/// away must not hold the probe for the pool's whole acquire timeout).
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let answered = tokio::time::timeout(std::time::Duration::from_secs(2), db::ping(&state.db))
        .await
        .unwrap_or(false);
    if answered {
        (
            StatusCode::OK,
            Json(json!({ "status": "ready", "database": "ok" })),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable", "database": "unreachable" })),
        )
    }
}

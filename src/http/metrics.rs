//! `GET /metrics`: the server's metrics in the Prometheus text format ([`crate::metrics`]),
//! with the sampled values (pools, outbox lag, webhook queue, subscriptions, backup age) read
//! at the scrape. Restricted by a bearer token when `RECTRACK_METRICS_TOKEN` is set, and served
//! only on its own address when `RECTRACK_METRICS_BIND` is.

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use sea_orm::{DatabaseConnection, DbBackend};

use crate::error::AppError;
use crate::http::state::AppState;
use crate::metrics::{
    BACKUP_AGE, DB_CONNECTIONS, DB_MAX_CONNECTIONS, OUTBOX_LAG, SQL_STATEMENTS, SUBSCRIPTIONS_OPEN,
};

pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.metrics_token
        && !bearer_is(&headers, token.expose())
    {
        return AppError::Unauthenticated(t!("metrics-token-required")).into_response();
    }
    sample(&state).await;
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

/// Whether the request carries `Authorization: Bearer <token>`, compared in constant time.
fn bearer_is(headers: &HeaderMap, token: &str) -> bool {
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    let (a, b) = (given.as_bytes(), token.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// Reads the values that are states, not events. A failed read leaves the last value (and is
/// logged): the scrape itself still answers.
async fn sample(state: &AppState) {
    let m = &state.metrics;
    m.record(|| {
        metrics::counter!(SQL_STATEMENTS).absolute(state.sql_statements.load(Ordering::Relaxed))
    });
    for (name, db) in [("request", &state.db), ("background", state.bus.db())] {
        let (size, idle, max) = pool(db);
        let pool = || ("pool", name.to_owned());
        m.set(
            DB_CONNECTIONS,
            &[pool(), ("state", "in_use".into())],
            f64::from(size.saturating_sub(idle)),
        );
        m.set(
            DB_CONNECTIONS,
            &[pool(), ("state", "idle".into())],
            f64::from(idle),
        );
        m.set(DB_MAX_CONNECTIONS, &[pool()], f64::from(max));
    }
    match crate::domain::integration::events::latest(state.bus.db()).await {
        Ok(newest) => m.set(
            OUTBOX_LAG,
            &[],
            f64::from(newest.saturating_sub(state.bus.delivered()).max(0)),
        ),
        Err(err) => tracing::warn!(code = err.code(), "sampling the outbox lag failed"),
    }
    match crate::domain::integration::webhook::queued(state.bus.db()).await {
        Ok(queued) => m.webhook_queue(&queued),
        Err(err) => tracing::warn!(code = err.code(), "sampling the webhook queue failed"),
    }
    m.set(
        SUBSCRIPTIONS_OPEN,
        &[],
        state.schema.subscriptions_open() as f64,
    );
    m.set(BACKUP_AGE, &[], m.backup_age());
}

/// Connections open, idle, and the most the pool may open.
fn pool(db: &DatabaseConnection) -> (u32, u32, u32) {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let p = db.get_postgres_connection_pool();
            (
                p.size(),
                p.num_idle() as u32,
                p.options().get_max_connections(),
            )
        }
        _ => {
            let p = db.get_sqlite_connection_pool();
            (
                p.size(),
                p.num_idle() as u32,
                p.options().get_max_connections(),
            )
        }
    }
}

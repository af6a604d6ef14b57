//! `GET /metrics`: counters in the Prometheus text format, for operations and benchmarks.

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::state::AppState;

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let body = format!(
        "# HELP rectrack_sql_statements_total SQL statements run since start-up.\n\
         # TYPE rectrack_sql_statements_total counter\n\
         rectrack_sql_statements_total {}\n\
         # HELP rectrack_http_requests_total HTTP requests answered since start-up.\n\
         # TYPE rectrack_http_requests_total counter\n\
         rectrack_http_requests_total {}\n",
        state.sql_statements.load(Ordering::Relaxed),
        state.requests.load(Ordering::Relaxed),
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}

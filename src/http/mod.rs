//! The HTTP surface: one route table, readable in one screen.

pub(crate) mod auth;
mod docs;
mod etag;
pub mod exchange;
pub mod exchange_peer;
mod feedback;
mod graphiql;
mod graphql;
pub mod guard;
mod health;
mod idempotency;
pub mod lists;
mod metrics;
mod query;
mod request_id;
pub mod rest;
pub mod shared;
pub mod socket;
pub mod state;
mod supervision;

use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::routing::get;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::error::AppError;
use crate::http::state::AppState;

/// The one refusal of the HTTP layer, for requests stopped before they run: GraphQL-shaped
/// (`{"errors": [...]}`) for `/graphql`, the REST error body (`{"error": {...}}`) elsewhere;
/// the code's HTTP status, and `Retry-After` where a retry may succeed.
pub(crate) fn refuse_at(path: &str, err: AppError) -> axum::response::Response {
    use axum::response::IntoResponse;
    if path.starts_with("/graphql") {
        err.graphql_response()
    } else {
        err.into_response()
    }
}

/// [`refuse_at`] for `/graphql`, by code and message.
pub(crate) fn refuse(code: &'static str, message: &str) -> axum::response::Response {
    AppError::request(code, message).graphql_response()
}

/// Counts and times each request by its route's template (`/api/v1/findings/{id}`, not the
/// address asked: the label set stays bounded), with the SQL statements it ran.
async fn count_requests(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    // Parameters written `:id`, not `{id}`: braces inside a label value are valid Prometheus
    // text, but some of its parsers (prometheus-parse among them) drop such a line.
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(
            || "unmatched".to_owned(),
            |p| p.as_str().replace('{', ":").replace('}', ""),
        );
    let method = request.method().as_str().to_owned();
    let started = std::time::Instant::now();
    let (response, statements) =
        crate::metrics::counting_statements(state.metrics.clone(), next.run(request)).await;
    state.metrics.http_request(
        &route,
        &method,
        response.status().as_u16(),
        started.elapsed(),
        statements,
    );
    response
}

/// `/metrics` alone, for its own address (`RECTRACK_METRICS_BIND`).
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics::metrics))
        .fallback(no_route)
        .with_state(state)
}

/// Serves the request with messages in the language its `Accept-Language` prefers (Chinese by
/// default), and says which in `Content-Language`.
async fn language(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let language = crate::i18n::negotiate(
        request
            .headers()
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let mut response = crate::i18n::scope(language, next.run(request)).await;
    let tag = match language {
        crate::i18n::Language::Chinese => "zh-CN",
        crate::i18n::Language::English => "en",
    };
    let headers = response.headers_mut();
    // Caches (and ETags) must keep the two languages' answers apart.
    headers.append(
        axum::http::header::VARY,
        axum::http::HeaderValue::from_static("accept-language"),
    );
    headers.insert(
        axum::http::header::CONTENT_LANGUAGE,
        axum::http::HeaderValue::from_static(tag),
    );
    response
}

/// An address that names nothing: the JSON error body, not an empty 404.
async fn no_route(uri: axum::http::Uri) -> axum::response::Response {
    refuse_at(
        uri.path(),
        AppError::NotFound(t!("no-route", path = uri.path())),
    )
}

/// The whole HTTP surface. `rest_routes` come from [`rest::routes`], built once at start-up
/// together with the OpenAPI document they describe.
/// `GET /graphql`: a WebSocket upgrade speaks graphql-transport-ws (subscriptions); anything
/// else is GraphiQL.
async fn graphql_get(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
) -> axum::response::Response {
    if socket::is_upgrade(&request) {
        socket::upgrade(state, request).await
    } else {
        graphiql::page(axum::extract::State(state)).await
    }
}

pub fn router(state: AppState, rest_routes: Router<AppState>) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let api = Router::new()
        .route("/graphql", get(graphql_get).post(graphql::execute))
        .merge(rest_routes.layer(axum::middleware::from_fn(etag::etag)))
        // Inside authentication: keys are per caller.
        .layer(from_fn_with_state(state.clone(), idempotency::idempotency))
        .layer(from_fn_with_state(state.clone(), auth::authenticate));
    let mut router = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz));
    if state.config.metrics_bind.is_none() {
        router = router.route("/metrics", get(metrics::metrics));
    }
    let router = router
        .route("/api/v1/openapi.json", get(docs::openapi))
        .route("/api/v1/docs", get(docs::page))
        .route("/graphql/assets/{name}", get(graphiql::asset))
        .merge(api)
        .fallback(no_route)
        // Outermost last: ids are set first, then counted, rate-limited, traced, then
        // time-limited (a backstop: GraphQL ends its own operations at the configured timeout
        // with a JSON error).
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            state.config.request_timeout + Duration::from_secs(5),
        ))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
                let id = request
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                let span = tracing::info_span!(
                    "request",
                    method = %request.method(),
                    path = %request.uri().path(),
                    request_id = %id,
                    caller = tracing::field::Empty,
                    role = tracing::field::Empty,
                    operation = tracing::field::Empty,
                    trace_id = tracing::field::Empty,
                );
                crate::telemetry::record_trace_id(&span);
                span
            }),
        )
        .layer(from_fn_with_state(state.clone(), guard::rate))
        // Outside the rate limits: a request they refuse is counted too (status 429).
        .layer(from_fn_with_state(state.clone(), count_requests))
        .layer(axum::middleware::from_fn(guard::headers))
        .layer(axum::middleware::from_fn(language))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(
            request_id,
            request_id::MakeId::new(),
        ))
        .with_state(state.clone());
    // Outermost: a browser's preflight is answered before anything else looks at it.
    match guard::cors(&state.config) {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

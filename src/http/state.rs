//! The state every request handler sees.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use sea_orm::DatabaseConnection;

use crate::auth::keys::Keys;
use crate::config::Config;

/// The state every request handler sees: one shared handle, so that the middleware layers
/// each extracting it copy a pointer, not every field.
#[derive(Clone)]
pub struct AppState(Arc<State>);

impl AppState {
    pub fn new(state: State) -> Self {
        Self(Arc::new(state))
    }
}

impl std::ops::Deref for AppState {
    type Target = State;

    fn deref(&self) -> &State {
        &self.0
    }
}

pub struct State {
    /// Connection pool to the one database (SQLite or PostgreSQL).
    pub db: DatabaseConnection,
    /// Validated configuration, shared read-only.
    pub config: Arc<Config>,
    /// Token verification and signing keys.
    pub keys: Arc<Keys>,
    /// Where evidence files are stored.
    pub evidence: crate::evidence::Store,
    /// SQL statements run since start-up (served at `/metrics`).
    pub sql_statements: Arc<AtomicU64>,
    /// This server's metrics registry (served at `/metrics`).
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The bearer token `/metrics` asks for, when set.
    pub metrics_token: Option<crate::config::Secret>,
    /// The event fan-out (its pool and cursor are sampled at `/metrics`).
    pub bus: crate::live::Bus,
    /// The REST API's OpenAPI document.
    pub openapi: Arc<utoipa::openapi::OpenApi>,
    /// The executable GraphQL schema (built once; it holds its own handles to the above).
    pub schema: crate::graphql::Served,
    /// One token per role when the server made up its own key (development): printed at
    /// start-up, and the admin's fills GraphiQL's headers in. Empty otherwise.
    pub dev_tokens: Arc<Vec<(entity::enums::Role, Option<&'static str>, String)>>,
    /// The per-address rate limits of anonymous and public requests.
    pub limits: Arc<crate::http::guard::Limits>,
    /// Open subscription sockets per caller (their limit).
    pub sockets: Arc<crate::http::socket::Sockets>,
    /// The departments tokens name, as last read (see the type).
    pub departments: Arc<crate::http::auth::KnownDepartments>,
    /// This instance's exchange identity (its id and signing key, from the data directory).
    pub exchange: Arc<crate::exchange::identity::Identity>,
}

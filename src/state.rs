//! The state every request handler sees.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::config::Config;

#[derive(Clone)]
pub struct AppState {
    /// Connection pool to the one database (SQLite or PostgreSQL).
    pub db: DatabaseConnection,
    /// Validated configuration, shared read-only.
    pub config: Arc<Config>,
    /// The executable GraphQL schema (built once; it holds its own handle to the pool).
    pub schema: crate::graphql::AppSchema,
}

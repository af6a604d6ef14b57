//! The state every request handler sees.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::auth::keys::Keys;
use crate::config::Config;

#[derive(Clone)]
pub struct AppState {
    /// Connection pool to the one database (SQLite or PostgreSQL).
    pub db: DatabaseConnection,
    /// Validated configuration, shared read-only.
    pub config: Arc<Config>,
    /// Token verification and signing keys.
    pub keys: Arc<Keys>,
    /// The executable GraphQL schema (built once; it holds its own handles to the above).
    pub schema: crate::graphql::AppSchema,
}

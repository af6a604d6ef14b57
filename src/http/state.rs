//! The state every request handler sees, with the small shared tables it holds (open sockets
//! per caller, the departments tokens name).

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::DatabaseConnection;

use crate::auth::CallerDepartment;
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
    pub sockets: Arc<Sockets>,
    /// The departments tokens name, as last read (see the type).
    pub departments: Arc<KnownDepartments>,
    /// This instance's exchange identity (its id and signing key, from the data directory).
    pub exchange: Arc<crate::exchange::identity::Identity>,
}

/// The rate limits' own state, for the guard (which needs nothing else of the state).
impl axum::extract::FromRef<AppState> for Arc<crate::http::guard::Limits> {
    fn from_ref(state: &AppState) -> Self {
        state.limits.clone()
    }
}

/// Open sockets per caller on this instance.
#[derive(Default)]
pub struct Sockets(Mutex<HashMap<String, usize>>);

/// One socket counted against its caller; uncounted when dropped.
pub struct Counted {
    sockets: Arc<Sockets>,
    sub: String,
}

impl Sockets {
    pub(super) fn open(self: &Arc<Self>, sub: &str, max: usize) -> Option<Counted> {
        let mut open = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(sub.to_owned()).or_default();
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(Counted {
            sockets: self.clone(),
            sub: sub.to_owned(),
        })
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        let mut open = self.sockets.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.sub) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.sub);
            }
        }
    }
}

/// The departments tokens name, as last read. Every request names one, and reading it afresh
/// was one statement of every scoped request. An entry serves while this instance has
/// committed nothing since it was read (a department archived or moved here is seen at once)
/// and for at most [`KNOWN_FOR`] (a change made by another instance or by the CLI is seen
/// within that). Unknown codes are not kept, so it holds at most one entry per department.
#[derive(Default)]
pub struct KnownDepartments(Mutex<HashMap<String, Known>>);

struct Known {
    department: CallerDepartment,
    commits: u64,
    at: Instant,
}

const KNOWN_FOR: Duration = Duration::from_secs(2);

impl KnownDepartments {
    pub(super) fn get(&self, code: &str) -> Option<CallerDepartment> {
        let known = self.0.lock().ok()?;
        let entry = known.get(code)?;
        (entry.commits == crate::db::commits() && entry.at.elapsed() < KNOWN_FOR)
            .then(|| entry.department.clone())
    }

    /// Keeps what was read when the commit count was `commits` (read before the statement, so
    /// that a commit during it makes the entry stale rather than hiding the change).
    pub(super) fn keep(&self, department: CallerDepartment, commits: u64) {
        if let Ok(mut known) = self.0.lock() {
            known.insert(
                department.code.clone(),
                Known {
                    department,
                    commits,
                    at: Instant::now(),
                },
            );
        }
    }
}

//! The one error type of rectrack. Every failure a caller can see is an [`AppError`], with a
//! stable machine-readable code: `extensions.code` in GraphQL, `error.code` in REST.
//!
//! `AppError` deliberately does not implement `Display`: async-graphql converts anything that
//! does into an error carrying its text, which would let a `?` on a database error leak SQL to
//! clients. Conversions go through [`AppError`] instead, and internal errors are logged once,
//! here, and reach the client as an opaque message.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sea_orm::{DbErr, SqlErr};
use serde_json::json;

#[derive(Debug)]
pub enum AppError {
    /// The input is wrong; `field` names the offending input field when there is one.
    BadUserInput {
        message: String,
        field: Option<String>,
    },
    /// No identity where one is needed, or a token that is present but invalid.
    Unauthenticated(String),
    /// The caller's role may not do this.
    Forbidden(String),
    /// No such record, or it lies outside the caller's scope (the two are indistinguishable).
    NotFound(String),
    /// The record changed since it was read, or a unique value is taken.
    Conflict(String),
    /// A status move the procedure does not allow from the current status.
    InvalidTransition(String),
    /// The request is too large.
    PayloadTooLarge(String),
    /// The request ran past its time limit; the database cancelled its statement.
    Timeout(String),
    /// The database cannot be reached for the moment (restarting, connections lost, the pool
    /// exhausted): nothing was written, and the same request may be sent again.
    Unavailable(String),
    /// A request refused by the transport before anything runs, with its own code
    /// (UNSUPPORTED_MEDIA_TYPE, BATCH_TOO_LARGE, BAD_REQUEST, ...).
    Request { code: &'static str, message: String },
    /// Too many requests from one client address; try again after the given seconds.
    RateLimited { message: String, retry_after: u64 },
    /// Anything else: logged with its detail, reported without it.
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

/// The stable codes clients switch on (GraphQL `extensions.code`, REST `error.code`). Every
/// code rectrack answers with is one of these; none is derived from a library's message text.
pub mod codes {
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const CONFLICT: &str = "CONFLICT";
    pub const INVALID_TRANSITION: &str = "INVALID_TRANSITION";
    pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "UNSUPPORTED_MEDIA_TYPE";
    pub const BATCH_TOO_LARGE: &str = "BATCH_TOO_LARGE";
    pub const QUERY_TOO_COMPLEX: &str = "QUERY_TOO_COMPLEX";
    pub const GRAPHQL_PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
    pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
    pub const TIMEOUT: &str = "TIMEOUT";
    /// A document named by an id or hash the server does not know (Apollo's code).
    pub const PERSISTED_QUERY_NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
    /// A document that is not among the trusted ones, on a server that runs only those.
    pub const PERSISTED_QUERY_NOT_IN_LIST: &str = "PERSISTED_QUERY_NOT_IN_LIST";
    pub const SERVICE_UNAVAILABLE: &str = "SERVICE_UNAVAILABLE";
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    /// A socket already runs the most subscriptions allowed.
    pub const TOO_MANY_SUBSCRIPTIONS: &str = "TOO_MANY_SUBSCRIPTIONS";
    pub const INTERNAL_SERVER_ERROR: &str = "INTERNAL_SERVER_ERROR";
    /// Exchange bundles refused (docs/EXCHANGE.md): not a complete bundle; a format version
    /// this build does not read; addressed to another instance; from an instance not
    /// registered; a signature that does not verify; a member that does not match the
    /// manifest; an audit chain segment whose links or hashes do not hold.
    pub const BUNDLE_UNREADABLE: &str = "BUNDLE_UNREADABLE";
    pub const BUNDLE_UNSUPPORTED: &str = "BUNDLE_UNSUPPORTED";
    pub const BUNDLE_MISADDRESSED: &str = "BUNDLE_MISADDRESSED";
    pub const BUNDLE_UNKNOWN_SENDER: &str = "BUNDLE_UNKNOWN_SENDER";
    pub const BUNDLE_BAD_SIGNATURE: &str = "BUNDLE_BAD_SIGNATURE";
    pub const BUNDLE_TAMPERED: &str = "BUNDLE_TAMPERED";
    pub const BUNDLE_CHAIN_BROKEN: &str = "BUNDLE_CHAIN_BROKEN";
    /// Importing a bundle: its number skips one (the missing number is named) or repeats a
    /// number already merged with other content; its chain segment does not continue the one
    /// received from the peer (the sender's history was changed since: the event is named); a
    /// department code of the sender's that this instance does not hold.
    pub const BUNDLE_OUT_OF_SEQUENCE: &str = "BUNDLE_OUT_OF_SEQUENCE";
    pub const BUNDLE_HISTORY_CHANGED: &str = "BUNDLE_HISTORY_CHANGED";
    pub const BUNDLE_UNKNOWN_DEPARTMENT: &str = "BUNDLE_UNKNOWN_DEPARTMENT";
    /// A record merged from a unit's instance, changed here: it is written only by bundles
    /// from its origin.
    pub const KEPT_BY_ORIGIN: &str = "KEPT_BY_ORIGIN";
    /// Connected mode's peer endpoints (`/api/v1/exchange/peer/...`), refused before any
    /// body is read (401): a request without the peer's signature headers; from an instance
    /// that is not a registered peer; a signature that does not verify with the peer's
    /// registered key; a date more than five minutes from this server's clock (or none).
    pub const PEER_UNSIGNED: &str = "PEER_UNSIGNED";
    pub const PEER_UNKNOWN: &str = "PEER_UNKNOWN";
    pub const PEER_BAD_SIGNATURE: &str = "PEER_BAD_SIGNATURE";
    pub const PEER_STALE_DATE: &str = "PEER_STALE_DATE";
    /// Connected mode's exchange log: a peer that could not be reached, or answered with a
    /// server error (tried again with a backoff). Never an answer of this server's.
    pub const PEER_UNREACHABLE: &str = "PEER_UNREACHABLE";
}

impl AppError {
    pub fn bad_input(field: &str, message: impl Into<String>) -> Self {
        Self::BadUserInput {
            message: message.into(),
            field: Some(field.to_owned()),
        }
    }

    /// `NOT_FOUND` for record `id` of kind `what` (`finding`, `progress entry`, ...).
    pub fn not_found(what: &str, id: impl std::fmt::Display) -> Self {
        let kind = crate::i18n::message(&format!("kind-{}", what.replace(' ', "-")), &[]);
        Self::NotFound(t!("not-found", kind = kind, id = id.to_string()))
    }

    /// Logs `detail` once and returns an opaque internal error.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::Internal(t!("internal-error"))
    }

    /// The stable code clients switch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadUserInput { .. } => codes::BAD_USER_INPUT,
            Self::Unauthenticated(_) => codes::UNAUTHENTICATED,
            Self::Forbidden(_) => codes::FORBIDDEN,
            Self::NotFound(_) => codes::NOT_FOUND,
            Self::Conflict(_) => codes::CONFLICT,
            Self::InvalidTransition(_) => codes::INVALID_TRANSITION,
            Self::PayloadTooLarge(_) => codes::PAYLOAD_TOO_LARGE,
            Self::Timeout(_) => codes::TIMEOUT,
            Self::Unavailable(_) => codes::SERVICE_UNAVAILABLE,
            Self::RateLimited { .. } => codes::RATE_LIMITED,
            Self::Request { code, .. } => code,
            Self::Internal(_) => codes::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            Self::BadUserInput { message, .. }
            | Self::RateLimited { message, .. }
            | Self::Request { message, .. } => message,
            Self::Unauthenticated(m)
            | Self::Forbidden(m)
            | Self::NotFound(m)
            | Self::Conflict(m)
            | Self::InvalidTransition(m)
            | Self::PayloadTooLarge(m)
            | Self::Timeout(m)
            | Self::Unavailable(m)
            | Self::Internal(m) => m,
        }
    }

    pub fn status(&self) -> StatusCode {
        status_of(self.code())
    }

    /// Seconds after which a retry may succeed, for the errors that say so (`Retry-After`).
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::Unavailable(_) | Self::Timeout(_) => Some(RETRY_AFTER_SECONDS),
            Self::RateLimited { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// The field a `BAD_USER_INPUT` names.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::BadUserInput { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    /// A refusal by the transport with its own code.
    pub fn request(code: &'static str, message: impl Into<String>) -> Self {
        Self::Request {
            code,
            message: message.into(),
        }
    }

    /// The GraphQL-shaped body (`{"errors":[...]}`) for failures that happen before a GraphQL
    /// request runs, such as an invalid token.
    pub fn graphql_body(&self) -> serde_json::Value {
        graphql_body(self.code(), self.message(), self.field())
    }

    /// The GraphQL-shaped refusal, with the code's HTTP status and `Retry-After` where a retry
    /// may succeed.
    pub fn graphql_response(self) -> Response {
        let mut response = (self.status(), axum::Json(self.graphql_body())).into_response();
        self.add_retry_after(&mut response);
        response
    }

    fn add_retry_after(&self, response: &mut Response) {
        if let Some(seconds) = self.retry_after() {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
    }
}

/// How long a client should wait before retrying a request the database could not serve.
pub const RETRY_AFTER_SECONDS: u64 = 2;

/// The HTTP status that goes with a code.
pub fn status_of(code: &str) -> StatusCode {
    match code {
        codes::BAD_USER_INPUT
        | codes::BAD_REQUEST
        | codes::BATCH_TOO_LARGE
        | codes::BUNDLE_UNREADABLE
        | codes::BUNDLE_UNSUPPORTED
        | codes::BUNDLE_MISADDRESSED
        | codes::BUNDLE_UNKNOWN_SENDER
        | codes::BUNDLE_BAD_SIGNATURE
        | codes::BUNDLE_TAMPERED
        | codes::BUNDLE_CHAIN_BROKEN
        | codes::BUNDLE_HISTORY_CHANGED
        | codes::BUNDLE_UNKNOWN_DEPARTMENT => StatusCode::BAD_REQUEST,
        codes::BUNDLE_OUT_OF_SEQUENCE | codes::KEPT_BY_ORIGIN => StatusCode::CONFLICT,
        codes::UNAUTHENTICATED
        | codes::PEER_UNSIGNED
        | codes::PEER_UNKNOWN
        | codes::PEER_BAD_SIGNATURE
        | codes::PEER_STALE_DATE => StatusCode::UNAUTHORIZED,
        codes::FORBIDDEN => StatusCode::FORBIDDEN,
        codes::NOT_FOUND => StatusCode::NOT_FOUND,
        codes::CONFLICT | codes::INVALID_TRANSITION => StatusCode::CONFLICT,
        codes::PAYLOAD_TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
        codes::UNSUPPORTED_MEDIA_TYPE => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        codes::RATE_LIMITED => StatusCode::TOO_MANY_REQUESTS,
        codes::TIMEOUT | codes::SERVICE_UNAVAILABLE => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// A GraphQL error body with one error: `{"errors": [{"message", "extensions": {"code"}}]}`.
pub fn graphql_body(code: &str, message: &str, field: Option<&str>) -> serde_json::Value {
    let mut extensions = json!({ "code": code });
    if let Some(field) = field {
        extensions["field"] = json!(field);
    }
    json!({ "errors": [ { "message": message, "extensions": extensions } ] })
}

/// The SQLSTATE of a database error, when the database gave one.
fn sqlstate(err: &DbErr) -> Option<String> {
    use sea_orm::RuntimeErr;
    match err {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => e
            .as_database_error()
            .and_then(|d| d.code())
            .map(|c| c.into_owned()),
        _ => None,
    }
}

/// PostgreSQL's "canceling statement due to statement timeout".
const QUERY_CANCELED: &str = "57014";
/// PostgreSQL's "invalid byte sequence" (a NUL in a text), should one get past the checks.
const CHARACTER_NOT_IN_REPERTOIRE: &str = "22021";

/// Whether a database error means the database is out of reach for now (connections lost,
/// the server restarting or refusing connections, the pool exhausted): by the error's type
/// and SQLSTATE class, never by its text.
fn unreachable(err: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error as Sqlx;
    let sqlx = match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        _ => return false,
    };
    match sqlx.as_ref() {
        Sqlx::Io(_)
        | Sqlx::Tls(_)
        | Sqlx::Protocol(_)
        | Sqlx::PoolTimedOut
        | Sqlx::PoolClosed
        | Sqlx::WorkerCrashed => true,
        Sqlx::Database(db) => db.code().is_some_and(|code| {
            // Class 08: connection exception; 57P01-57P03: the server is shutting down,
            // crashed, or not yet accepting connections; SQLite's 5 and 6: busy and locked.
            code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03" | "5" | "6")
        }),
        _ => false,
    }
}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        match sqlstate(&err).as_deref() {
            Some(QUERY_CANCELED) => {
                return Self::Timeout(t!("timeout"));
            }
            Some(CHARACTER_NOT_IN_REPERTOIRE) => {
                return Self::BadUserInput {
                    message: t!("text-unstorable"),
                    field: None,
                };
            }
            _ => {}
        }
        if unreachable(&err) {
            tracing::warn!(error = %err, "database unavailable");
            return Self::Unavailable(t!("database-unavailable"));
        }
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => Self::Conflict(t!("unique-taken")),
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => Self::BadUserInput {
                message: t!("reference-broken"),
                field: None,
            },
            _ => Self::internal(err),
        }
    }
}

/// REST: `{ "error": { "code", "message", "field"? } }` with the matching HTTP status, and
/// `Retry-After` on the errors a retry may cure.
impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut error = json!({ "code": self.code(), "message": self.message() });
        if let Some(field) = self.field() {
            error["field"] = json!(field);
        }
        let mut response = (self.status(), axum::Json(json!({ "error": error }))).into_response();
        self.add_retry_after(&mut response);
        response
    }
}

/// A GraphQL error raised around execution, where there is no [`AppError`] (limits, parsing,
/// a timeout), with its code in `extensions.code`.
pub fn coded(mut error: async_graphql::ServerError, code: &str) -> async_graphql::ServerError {
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
    error
}

/// GraphQL: the same code in `extensions.code`.
impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        Self::from(&err)
    }
}

impl From<&AppError> for async_graphql::Error {
    fn from(err: &AppError) -> Self {
        let mut gql = async_graphql::Error::new(err.message());
        let mut ext = async_graphql::ErrorExtensionValues::default();
        ext.set("code", err.code());
        if let Some(field) = err.field() {
            ext.set("field", field);
        }
        // An operation refused for its rate (a throttled login) says when to come back, as a
        // refused request says it in `Retry-After`.
        if let AppError::RateLimited { retry_after, .. } = err {
            ext.set("retryAfter", *retry_after);
        }
        gql.extensions = Some(ext);
        gql
    }
}

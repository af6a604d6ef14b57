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
    /// Anything else: logged with its detail, reported without it.
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn bad_input(field: &str, message: impl Into<String>) -> Self {
        Self::BadUserInput {
            message: message.into(),
            field: Some(field.to_owned()),
        }
    }

    pub fn not_found(what: &str, id: impl std::fmt::Display) -> Self {
        Self::NotFound(format!("{what} {id} not found"))
    }

    /// Logs `detail` once and returns an opaque internal error.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::Internal("internal server error".to_owned())
    }

    /// The stable code clients switch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadUserInput { .. } => "BAD_USER_INPUT",
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::NotFound(_) => "NOT_FOUND",
            Self::Conflict(_) => "CONFLICT",
            Self::InvalidTransition(_) => "INVALID_TRANSITION",
            Self::PayloadTooLarge(_) => "PAYLOAD_TOO_LARGE",
            Self::Timeout(_) => "TIMEOUT",
            Self::Internal(_) => "INTERNAL_SERVER_ERROR",
        }
    }

    pub fn message(&self) -> &str {
        match self {
            Self::BadUserInput { message, .. } => message,
            Self::Unauthenticated(m)
            | Self::Forbidden(m)
            | Self::NotFound(m)
            | Self::Conflict(m)
            | Self::InvalidTransition(m)
            | Self::PayloadTooLarge(m)
            | Self::Timeout(m)
            | Self::Internal(m) => m,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadUserInput { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) | Self::InvalidTransition(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Timeout(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The GraphQL-shaped body (`{"errors":[...]}`) for failures that happen before a GraphQL
    /// request runs, such as an invalid token.
    pub fn graphql_body(&self) -> serde_json::Value {
        json!({ "errors": [ { "message": self.message(), "extensions": self.extensions_json() } ] })
    }

    fn extensions_json(&self) -> serde_json::Value {
        match self {
            Self::BadUserInput {
                field: Some(field), ..
            } => json!({ "code": self.code(), "field": field }),
            _ => json!({ "code": self.code() }),
        }
    }
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

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        if sqlstate(&err).as_deref() == Some(QUERY_CANCELED) {
            return Self::Timeout("the request took too long and was stopped".to_owned());
        }
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                Self::Conflict("a record with the same unique value already exists".to_owned())
            }
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => Self::BadUserInput {
                message: "a referenced record does not exist or is still referenced".to_owned(),
                field: None,
            },
            _ => Self::internal(err),
        }
    }
}

/// REST: `{ "error": { "code", "message" } }` with the matching HTTP status.
impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut error = json!({ "code": self.code(), "message": self.message() });
        if let Self::BadUserInput {
            field: Some(field), ..
        } = &self
        {
            error["field"] = json!(field);
        }
        (self.status(), axum::Json(json!({ "error": error }))).into_response()
    }
}

/// GraphQL: the same code in `extensions.code`.
impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        let mut gql = async_graphql::Error::new(err.message());
        let mut ext = async_graphql::ErrorExtensionValues::default();
        ext.set("code", err.code());
        if let AppError::BadUserInput {
            field: Some(field), ..
        } = &err
        {
            ext.set("field", field.as_str());
        }
        gql.extensions = Some(ext);
        gql
    }
}

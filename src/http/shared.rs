//! What the REST routes share: the JSON error body, the identified caller, a record's id in
//! the path, a page of items, the public index's renderings. The route table (`rest.rs`) and
//! every module of routes import these from here, and nothing of each other's.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::AppError;

/// A REST error.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine code: BAD_USER_INPUT, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, CONFLICT, ...
    pub code: String,
    pub message: String,
    /// The input field or parameter at fault, with BAD_USER_INPUT when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub field: Option<String>,
}

/// The identified caller of a route that needs a token: anonymous callers are refused with
/// 401 before anything else about the request is looked at.
pub struct Identified(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for Identified {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        let caller = parts
            .extensions
            .get::<Caller>()
            .cloned()
            .unwrap_or_default();
        caller.require_identity()?;
        Ok(Identified(caller))
    }
}

/// A record's id in the path: described here for the OpenAPI document and read by the
/// extractor below, a positive whole number or `BAD_USER_INPUT` in the JSON error body (never
/// the router's plain-text rejection).
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct Id {
    /// The record's id: a positive whole number.
    #[param(minimum = 1)]
    pub id: i32,
}

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let raw = axum::extract::RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::bad_input("id", t!("path-no-id")))?;
        let (name, value) = raw
            .iter()
            .next()
            .ok_or_else(|| AppError::bad_input("id", t!("path-no-id")))?;
        value
            .parse::<i32>()
            .ok()
            .filter(|n| *n > 0)
            .map(|id| Id { id })
            .ok_or_else(|| AppError::bad_input(name, t!("path-id-invalid", value = value)))
    }
}

/// A page of items and the cursor of the next (null on the last page).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PageOut<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// The renderings of the public index.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum IndexFormat {
    Html,
    Json,
}

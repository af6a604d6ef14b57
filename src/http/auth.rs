//! Authentication middleware: reads `Authorization: Bearer ...` once per request and puts the
//! resulting [`Caller`] in the request's extensions. No header means anonymous; a header that
//! does not yield a valid identity is answered 401 here, and nothing else runs.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::auth::token::{self, VerifiedClaims};
use crate::auth::{Caller, CallerDepartment, Identity};
use crate::error::AppError;
use crate::http::state::AppState;

pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    match resolve(&state, request.headers()).await {
        Ok(caller) => {
            if let Some(identity) = caller.identity() {
                let span = tracing::Span::current();
                span.record("caller", identity.sub.as_str());
                span.record("role", tracing::field::debug(identity.role));
            }
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(err) => {
            let unauthenticated = matches!(err, AppError::Unauthenticated(_));
            let mut response = super::refuse_at(request.uri().path(), err);
            if unauthenticated {
                let challenge = HeaderValue::from_static("Bearer error=\"invalid_token\"");
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, challenge);
            }
            response
        }
    }
}

async fn resolve(state: &AppState, headers: &HeaderMap) -> Result<Caller, AppError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(Caller::Anonymous);
    };
    let invalid = |reason: &str| AppError::Unauthenticated(t!("token-invalid", reason = reason));
    let value = value
        .to_str()
        .map_err(|_| invalid(&t!("token-header-not-text")))?;
    bearer(state, value).await.map(|(caller, _)| caller)
}

/// The caller an `Authorization` value (`Bearer <token>`) names, and when its token expires
/// (seconds since the epoch): the rule of every request, for sockets too.
pub async fn bearer(state: &AppState, value: &str) -> Result<(Caller, u64), AppError> {
    let invalid = |reason: &str| AppError::Unauthenticated(t!("token-invalid", reason = reason));
    let (scheme, token) = value
        .trim()
        .split_once(' ')
        .ok_or_else(|| invalid("expected 'Bearer <token>'"))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(invalid("expected the Bearer scheme"));
    }
    let claims =
        token::verify(&state.keys, &state.config.jwt, token.trim()).map_err(|r| invalid(&r))?;
    let exp = claims.exp;
    let identity = identity(state, claims).await?;
    Ok((Caller::Authenticated(identity), exp))
}

/// Completes verified claims against the database: the department must exist (and not be
/// archived), and a local account's token must not have been revoked.
async fn identity(state: &AppState, claims: VerifiedClaims) -> Result<Identity, AppError> {
    let invalid = |reason: String| AppError::Unauthenticated(t!("token-invalid", reason = reason));
    let department = match &claims.dept {
        None => None,
        Some(code) => match state.departments.get(code) {
            Some(known) => Some(known),
            None => {
                let commits = crate::db::commits();
                let found = crate::domain::records::department::find_by_code(&state.db, code)
                    .await?
                    .filter(|d| d.archived_at.is_none())
                    .ok_or_else(|| invalid(format!("unknown department '{code}'")))?;
                let found = CallerDepartment {
                    id: found.id,
                    code: found.code,
                    name: found.name,
                    path: found.path,
                };
                state.departments.keep(found.clone(), commits);
                Some(found)
            }
        },
    };
    if let Some((account_id, version)) = claims.account {
        let account = crate::domain::records::account::find(&state.db, account_id).await?;
        match account {
            Some(a) if a.disabled => return Err(invalid(t!("account-disabled"))),
            Some(a) if a.token_version == version => {}
            _ => {
                return Err(invalid(t!("token-revoked")));
            }
        }
    }
    Ok(Identity {
        sub: claims.sub,
        name: claims.name,
        role: claims.role,
        department,
        account_id: claims.account.map(|(id, _)| id),
    })
}

//! `ETag` on every successful GET, and `304 Not Modified` when the client already has it: the
//! pulling systems poll, and most polls find nothing new.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::audit::hex;

/// Bodies larger than this are sent without an ETag rather than buffered.
const MAX_HASHED: usize = 64 * 1024 * 1024;

pub async fn etag(request: Request, next: Next) -> Response {
    if request.method() != Method::GET {
        return next.run(request).await;
    }
    let wanted = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let response = next.run(request).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_HASHED).await else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "response too large to tag",
        )
            .into_response();
    };
    let tag = format!("\"{}\"", &hex(&Sha256::digest(&bytes))[..32]);
    let matches = wanted.is_some_and(|w| {
        w == "*"
            || w.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == tag)
    });
    if let Ok(value) = HeaderValue::from_str(&tag) {
        parts.headers.insert(header::ETAG, value);
    }
    if matches {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::empty());
    }
    Response::from_parts(parts, Body::from(bytes))
}

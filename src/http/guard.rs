//! What guards the HTTP surface before anything runs:
//! - pages (GraphiQL, the API docs, public bulletins) carry a Content-Security-Policy that
//!   lets them load only from rectrack's own origin, may not be framed, and no response may be
//!   sniffed as another type;
//! - browsers on other origins may call the API only when their origin is allowed
//!   (`RECTRACK_CORS_ORIGINS`; none by default);
//! - anonymous requests (login among them) and the public pages are rate-limited per client
//!   address, with `429` and `Retry-After` (public feedback posts against a smaller quota too); this counts requests, and the login function counts
//!   each attempt however many one request carries (`domain::gate::login_throttle`), by the client
//!   address found here.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::auth::ClientAddress;
use crate::config::Config;
use crate::error::AppError;

/// The policy of every HTML page rectrack serves: its own origin only.
pub const PAGE_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; \
base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Adds the page policy to HTML answers, and `nosniff` to every answer.
pub async fn headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if html {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_POLICY),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
    }
    response
}

/// CORS for the allowed origins: preflights for `/graphql` and `/api/v1` answered, the
/// headers scripts send allowed, never credentials.
pub fn cors(config: &Config) -> Option<CorsLayer> {
    if config.cors_origins.is_empty() {
        return None;
    }
    let origins = if config.cors_origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            config
                .cors_origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok()),
        )
    };
    Some(
        CorsLayer::new()
            .allow_origin(origins)
            .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::IF_NONE_MATCH,
                HeaderName::from_static("idempotency-key"),
                HeaderName::from_static("rectrack-dry-run"),
                HeaderName::from_static("x-request-id"),
                HeaderName::from_static("sec-websocket-protocol"),
            ])
            .expose_headers([
                header::ETAG,
                header::RETRY_AFTER,
                header::CONTENT_DISPOSITION,
                HeaderName::from_static("x-request-id"),
                HeaderName::from_static("idempotent-replayed"),
            ])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// Feedback posts (公众监督) one client address may make per minute, and at once: a person
/// writes a few; a script is stopped here, before its body is read or anything is written.
pub const FEEDBACK_PER_MINUTE: u32 = 6;
pub const FEEDBACK_BURST: u32 = 6;

/// The per-address limiters.
pub struct Limits {
    anonymous: DefaultKeyedRateLimiter<IpAddr>,
    public: DefaultKeyedRateLimiter<IpAddr>,
    feedback: DefaultKeyedRateLimiter<IpAddr>,
    trusted: Vec<IpAddr>,
}

fn quota(per_minute: u32, burst: u32) -> Quota {
    let one = NonZeroU32::MIN;
    Quota::per_minute(NonZeroU32::new(per_minute).unwrap_or(one))
        .allow_burst(NonZeroU32::new(burst).unwrap_or(one))
}

impl Limits {
    pub fn new(config: &Config) -> Arc<Self> {
        Arc::new(Self {
            anonymous: RateLimiter::keyed(quota(
                config.rate_anonymous_per_minute,
                config.rate_anonymous_burst,
            )),
            public: RateLimiter::keyed(quota(
                config.rate_public_per_minute,
                config.rate_public_burst,
            )),
            feedback: RateLimiter::keyed(quota(FEEDBACK_PER_MINUTE, FEEDBACK_BURST)),
            trusted: config.trusted_proxies.clone(),
        })
    }

    /// The client's address: the peer's, or, behind a trusted proxy, the nearest address in
    /// `X-Forwarded-For` that is not itself a trusted proxy.
    fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusted.contains(&peer) {
            return peer;
        }
        let forwarded: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse().ok())
            .collect();
        forwarded
            .into_iter()
            .rev()
            .find(|a| !self.trusted.contains(a))
            .unwrap_or(peer)
    }
}

/// Refuses, with 429 and `Retry-After`, anonymous requests to /graphql and public requests
/// beyond their client address's rate; every request carries its [`ClientAddress`] on.
pub async fn rate(
    State(limits): State<Arc<Limits>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
    next: Next,
) -> Response {
    let client = limits.client(peer.ip(), request.headers());
    request.extensions_mut().insert(ClientAddress(client));
    let path = request.uri().path();
    // A feedback post counts against its own, smaller quota as well as the public one.
    if path.starts_with("/public/")
        && path.ends_with("/feedback")
        && request.method() == Method::POST
        && let Err(not_until) = limits.feedback.check_key(&client)
    {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        let err = AppError::RateLimited {
            message: t!("rate-limited", seconds = wait.as_secs().max(1)),
            retry_after: wait.as_secs().max(1),
        };
        return super::refuse_at(path, err);
    }
    let limiter = if path.starts_with("/public") {
        Some(&limits.public)
    } else if path == "/graphql"
        && request.method() == Method::POST
        && !request.headers().contains_key(header::AUTHORIZATION)
    {
        Some(&limits.anonymous)
    } else {
        None
    };
    if let Some(limiter) = limiter
        && let Err(not_until) = limiter.check_key(&client)
    {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        let err = AppError::RateLimited {
            message: t!("rate-limited", seconds = wait.as_secs().max(1)),
            retry_after: wait.as_secs().max(1),
        };
        return super::refuse_at(request.uri().path(), err);
    }
    next.run(request).await
}

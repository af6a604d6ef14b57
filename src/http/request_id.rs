//! Request ids: `x-request-id` from the client when it sends one, else a fresh one; echoed in
//! the response and recorded with every audit event.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::{HeaderValue, Request};
use tower_http::request_id::{MakeRequestId, RequestId};

#[derive(Clone, Default)]
pub struct MakeId {
    prefix: u32,
}

static NEXT: AtomicU64 = AtomicU64::new(1);

impl MakeId {
    pub fn new() -> Self {
        let mut bytes = [0u8; 4];
        // A random prefix tells apart the ids of server processes that share a database.
        let _ = getrandom::fill(&mut bytes);
        Self {
            prefix: u32::from_le_bytes(bytes),
        }
    }
}

impl MakeRequestId for MakeId {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        HeaderValue::from_str(&format!("{:08x}-{n:x}", self.prefix))
            .ok()
            .map(RequestId::new)
    }
}

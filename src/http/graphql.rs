//! GraphQL over HTTP: `POST /graphql` runs operations (JSON, or a batch of at most
//! `graphql_max_batch`), `GET /graphql` serves GraphiQL and never runs anything.
//!
//! The body is read here, not by an extractor, so that its size limit holds for chunked
//! bodies too and every refusal is a JSON error with a stable code and no internal text.

use super::refuse;
use crate::auth::Caller;
use crate::domain::Acting;
use crate::error::{RETRY_AFTER_SECONDS, codes};
use crate::graphql::{DryRun, RequestId, viewer};

/// The header that asks for a dry run: every mutation of the request is made and undone, and
/// the answer says what it would have done (what a form checks before it saves).
pub const DRY_RUN: &str = "rectrack-dry-run";
use crate::http::state::AppState;
use async_graphql::ParseRequestError;
use async_graphql::http::{MultipartOptions, receive_batch_body};
use async_graphql::{BatchRequest, BatchResponse};
use async_graphql_axum::GraphQLResponse;
use axum::Extension;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

fn timed_out() -> Response {
    refuse(codes::TIMEOUT, &t!("timeout"))
}

/// What the request body holds, by its content type.
#[derive(PartialEq)]
enum BodyKind {
    Json,
    /// The GraphQL multipart request spec (file uploads).
    Multipart,
}

fn body_kind(headers: &HeaderMap) -> Option<BodyKind> {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())?;
    match media.as_str() {
        "application/json" | "application/graphql+json" => Some(BodyKind::Json),
        "multipart/form-data" => Some(BodyKind::Multipart),
        _ => None,
    }
}

/// A request that names its document by id, as the GraphQL-over-HTTP persisted documents
/// proposal (`documentId`) and Relay (`doc_id`) send it; the id travels on as an extension.
#[derive(serde::Deserialize)]
struct Named {
    #[serde(flatten)]
    request: async_graphql::Request,
    #[serde(default, rename = "documentId", alias = "doc_id")]
    document_id: Option<String>,
}

impl From<Named> for async_graphql::Request {
    fn from(named: Named) -> Self {
        let mut request = named.request;
        if let Some(id) = named.document_id {
            request.extensions.insert(
                crate::graphql::documents::DOCUMENT_ID.to_owned(),
                async_graphql::Value::String(id),
            );
        }
        request
    }
}

/// A JSON body as one request or a batch; documents named by id are looked at only when the
/// body names one (the plain form is read directly).
fn json_batch(bytes: &[u8]) -> serde_json::Result<BatchRequest> {
    let names = |key: &[u8]| bytes.windows(key.len()).any(|w| w == key);
    if !names(b"\"documentId\"") && !names(b"\"doc_id\"") {
        return serde_json::from_slice::<BatchRequest>(bytes);
    }
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Batch {
        Single(Box<Named>),
        Batch(Vec<Named>),
    }
    Ok(match serde_json::from_slice::<Batch>(bytes)? {
        Batch::Single(named) => BatchRequest::Single((*named).into()),
        Batch::Batch(list) if !list.is_empty() => {
            BatchRequest::Batch(list.into_iter().map(Into::into).collect())
        }
        Batch::Batch(_) => return Err(serde::de::Error::custom("an empty batch")),
    })
}

pub async fn execute(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    client: Option<Extension<crate::auth::ClientAddress>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(kind) = body_kind(&headers) else {
        return refuse(codes::UNSUPPORTED_MEDIA_TYPE, &t!("graphql-media-type"));
    };
    // Uploads carry files, so their limit is the evidence size (plus room for the operation).
    let limit = match kind {
        BodyKind::Json => state.config.graphql.graphql_max_body,
        BodyKind::Multipart => state.evidence.max_size() + state.config.graphql.graphql_max_body,
    };
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => bytes,
        Err(err) => {
            let too_large = std::error::Error::source(&err)
                .is_some_and(|e| e.is::<http_body_util::LengthLimitError>());
            return if too_large {
                refuse(
                    codes::PAYLOAD_TOO_LARGE,
                    &t!("body-too-large", limit = limit),
                )
            } else {
                refuse(codes::BAD_REQUEST, &t!("body-unreadable"))
            };
        }
    };
    let parsed = match kind {
        BodyKind::Json => json_batch(&bytes).map_err(|_| None),
        BodyKind::Multipart => {
            let content_type = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok());
            let options = MultipartOptions::default()
                .max_file_size(state.evidence.max_size())
                .max_num_files(20);
            receive_batch_body(content_type, bytes.as_ref(), options)
                .await
                .map_err(Some)
        }
    };
    let batch = match parsed {
        Ok(batch) => batch,
        Err(Some(ParseRequestError::PayloadTooLarge)) => {
            return refuse(
                codes::PAYLOAD_TOO_LARGE,
                &t!("upload-too-large", limit = state.evidence.max_size()),
            );
        }
        Err(_) => {
            return refuse(codes::BAD_REQUEST, &t!("graphql-not-a-request"));
        }
    };
    let max_batch = state.config.graphql.graphql_max_batch;
    if let BatchRequest::Batch(requests) = &batch
        && requests.len() > max_batch
    {
        return refuse(
            codes::BATCH_TOO_LARGE,
            &t!("batch-too-large", max = max_batch, count = requests.len()),
        );
    }
    let deadline = tokio::time::Instant::now() + state.config.request_timeout;
    let mut batch = batch.data(caller.clone());
    if let Some(Extension(client)) = client {
        batch = batch.data(client);
    }
    if let Some(id) = headers.get("x-request-id").and_then(|v| v.to_str().ok()) {
        batch = batch.data(RequestId(id.to_owned()));
    }
    let dry_run = headers
        .get(DRY_RUN)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| matches!(v.trim(), "1" | "true"));
    if dry_run {
        batch = batch.data(DryRun);
    }
    let mut who = Acting::new(
        &caller,
        headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        state.config.timezone,
    );
    who.dry_run = dry_run;
    batch = batch.data(viewer::loader(
        state.db.clone(),
        who,
        state.config.graphql.dataloader_delay,
    ));
    let run = state.schema.execute_batch(batch);
    let response = match tokio::time::timeout_at(deadline, run).await {
        Ok(response) => response,
        Err(_) => return timed_out(),
    };
    // A single operation stopped by the database's statement timeout, or by the database
    // being away, answers like a request refused for that reason: 503 with Retry-After, so
    // that clients and the idempotency layer know a retry may succeed.
    let retryable = match &response {
        BatchResponse::Single(r) => r.errors.iter().find_map(|e| {
            let code = e.extensions.as_ref().and_then(|x| x.get("code"))?;
            [codes::TIMEOUT, codes::SERVICE_UNAVAILABLE]
                .into_iter()
                .find(|c| *code == async_graphql::Value::from(*c))
        }),
        BatchResponse::Batch(_) => None,
    };
    let mut http = GraphQLResponse::from(response).into_response();
    if retryable.is_some() {
        *http.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        http.headers_mut()
            .insert(header::RETRY_AFTER, RETRY_AFTER_SECONDS.into());
    }
    http
}

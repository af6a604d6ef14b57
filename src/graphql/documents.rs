//! Operation documents: parsed once per text, checked once per text and variables, and the
//! trusted documents front ends register.
//!
//! Parsing a document and checking it (limits, validation, cost) is a fixed part of every
//! request, whatever it asks for. Both depend only on the text (and, for the checks, the
//! variables and operation name), so a text seen before is not parsed again, and an operation
//! that passed with the same variables passes again without the checks: the checks are pure
//! functions of what is kept, so nothing is skipped, only not repeated.
//!
//! Front ends may also send documents by id instead of text:
//! - trusted documents registered at start-up (`RECTRACK_GRAPHQL_DOCUMENTS`): the manifest
//!   graphql-codegen's client preset and Relay emit (`{"<id>": "<document>"}`), or Apollo's
//!   persisted query manifest (`{"format": "apollo-persisted-query-manifest", "operations":
//!   [{"id", "body"}]}`), sent as `documentId` (`sha256:<hash>` or the bare id), Relay's
//!   `doc_id`, or `extensions.persistedQuery.sha256Hash`;
//! - automatic persisted queries (Apollo's protocol): a client sends the SHA-256 of its text;
//!   unknown, the server answers `PERSISTED_QUERY_NOT_FOUND`, and the client sends the text
//!   with its hash once.
//!
//! With `RECTRACK_GRAPHQL_TRUSTED_ONLY` (production) only trusted documents run: any other text
//! is refused with `PERSISTED_QUERY_NOT_IN_LIST`, before it is parsed.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Request, ServerError, Value};
use sha2::{Digest, Sha256};

use crate::error::{coded, codes};

/// The request extension that names a document by id (set from `documentId` or `doc_id`).
pub const DOCUMENT_ID: &str = "documentId";

/// What is kept at most, in estimated bytes of memory (then the store starts afresh): a few
/// thousand operations, more than any front end has, and a bounded cost when every request's
/// text is new (a client building texts with values inlined, or a random-shape benchmark).
const KEPT_BYTES: usize = 16 * 1024 * 1024;

/// A parsed document takes about this many times its text's bytes (positions, names and maps
/// per node): in the benchmark where every text is new, the server grew by 175 MB for about
/// 14,000 documents of 300 bytes.
const PARSED_PER_BYTE: usize = 40;

pub struct Documents {
    /// Trusted documents by id, and their texts parsed (kept for good, apart from `kept`).
    trusted: HashMap<String, Arc<str>>,
    trusted_texts: HashMap<Arc<str>, Arc<ExecutableDocument>>,
    trusted_only: bool,
    kept: Mutex<Kept>,
}

/// Documents seen since start-up, bounded by the memory they take.
#[derive(Default)]
struct Kept {
    bytes: usize,
    /// Parsed documents by text.
    parsed: HashMap<Arc<str>, Arc<ExecutableDocument>>,
    /// Texts registered by clients under their SHA-256 (automatic persisted queries).
    by_hash: HashMap<String, Arc<str>>,
    /// Operations that passed the checks: text, operation name and variables.
    passed: HashMap<String, ()>,
}

impl Kept {
    fn room(&mut self, bytes: usize) {
        self.bytes += bytes;
        if self.bytes > KEPT_BYTES {
            *self = Kept {
                bytes,
                ..Kept::default()
            };
        }
    }
}

fn refused(code: &str, message: String) -> Box<ServerError> {
    Box::new(crate::error::coded(ServerError::new(message, None), code))
}

/// Texts longer than this are scanned and parsed on the blocking pool rather than on a worker
/// of the async runtime (a front end's operations are a few kilobytes at most).
const OFF_RUNTIME_BYTES: usize = 16 * 1024;

/// The parsed document of a text: kept from an earlier request (then it was scanned, and is
/// not scanned again), or scanned and parsed now (on the blocking pool when it is long) and
/// kept.
pub async fn parsed(
    documents: &Arc<Documents>,
    bounds: &super::bounds::Bounds,
    text: &str,
) -> Result<Arc<ExecutableDocument>, ServerError> {
    if let Some(parsed) = documents.cached(text) {
        return Ok(parsed);
    }
    let parsed = if text.len() > OFF_RUNTIME_BYTES {
        let (owned, bounds) = (text.to_owned(), *bounds);
        tokio::task::spawn_blocking(move || super::bounds::scan_and_parse(&owned, &bounds))
            .await
            .map_err(|error| {
                tracing::error!(%error, "parsing a GraphQL document on the blocking pool failed");
                coded(
                    ServerError::new(t!("internal-error"), None),
                    codes::INTERNAL_SERVER_ERROR,
                )
            })??
    } else {
        super::bounds::scan_and_parse(text, bounds)?
    };
    Ok(documents.keep(text, parsed))
}

/// The hex SHA-256 of a text.
pub fn sha256(text: &str) -> String {
    crate::audit::hex(&Sha256::digest(text.as_bytes()))
}

impl Documents {
    /// No trusted documents: every text runs (development and most deployments).
    pub fn open() -> Self {
        Self {
            trusted: HashMap::new(),
            trusted_texts: HashMap::new(),
            trusted_only: false,
            kept: Mutex::default(),
        }
    }

    /// The trusted documents of a manifest; every one must keep the text bounds and parse.
    pub fn load(
        manifest: Option<&Path>,
        trusted_only: bool,
        bounds: &super::bounds::Bounds,
    ) -> anyhow::Result<Self> {
        let mut documents = Self::open();
        documents.trusted_only = trusted_only;
        let Some(path) = manifest else {
            anyhow::ensure!(
                !trusted_only,
                "RECTRACK_GRAPHQL_TRUSTED_ONLY needs RECTRACK_GRAPHQL_DOCUMENTS (the manifest of trusted documents)"
            );
            return Ok(documents);
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
        let manifest: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{} is not JSON: {e}", path.display()))?;
        for (id, body) in entries(&manifest).ok_or_else(|| {
            anyhow::anyhow!(
                "{} is neither an {{\"id\": \"document\"}} manifest nor an Apollo persisted query manifest",
                path.display()
            )
        })? {
            super::bounds::scan(&body, bounds)
                .map_err(|e| anyhow::anyhow!("trusted document {id}: {}", e.message))?;
            let parsed = async_graphql::parser::parse_query(&body)
                .map_err(|e| anyhow::anyhow!("trusted document {id} does not parse: {e}"))?;
            let body: Arc<str> = body.into();
            documents
                .trusted_texts
                .insert(body.clone(), Arc::new(parsed));
            documents.trusted.insert(sha256(&body), body.clone());
            documents.trusted.insert(id, body);
        }
        Ok(documents)
    }

    /// How many documents are trusted.
    pub fn trusted(&self) -> usize {
        self.trusted_texts.len()
    }

    /// Puts the request's document text in place when it names one by id or hash, and refuses
    /// what may not run (an unknown id, a hash that does not match, a text not trusted).
    pub fn resolve(&self, request: &mut Request) -> Result<(), Box<ServerError>> {
        let named = named(request);
        if let Some((id, hash_only)) = named {
            if request.query.is_empty() {
                let text = self.trusted.get(&id).cloned().or_else(|| {
                    let kept = self.kept.lock().ok()?;
                    kept.by_hash.get(&id).cloned()
                });
                let Some(text) = text else {
                    return Err(refused(
                        codes::PERSISTED_QUERY_NOT_FOUND,
                        t!("document-unknown", id = &id),
                    ));
                };
                request.query = text.to_string();
            } else if hash_only {
                // A text sent with its hash: registered under it once the hash is checked.
                if sha256(&request.query) != id {
                    return Err(refused(codes::BAD_REQUEST, t!("document-hash-mismatch")));
                }
                if !self.trusted_only
                    && let Ok(mut kept) = self.kept.lock()
                    && !kept.by_hash.contains_key(&id)
                {
                    kept.room(request.query.len());
                    kept.by_hash.insert(id, request.query.as_str().into());
                }
            }
        }
        if self.trusted_only && !self.trusted_texts.contains_key(request.query.as_str()) {
            return Err(refused(
                codes::PERSISTED_QUERY_NOT_IN_LIST,
                t!("document-not-trusted"),
            ));
        }
        Ok(())
    }

    /// The parsed document of a text seen before (trusted, or kept since an earlier request).
    pub fn cached(&self, text: &str) -> Option<Arc<ExecutableDocument>> {
        if let Some(parsed) = self.trusted_texts.get(text) {
            return Some(parsed.clone());
        }
        let kept = self.kept.lock().ok()?;
        kept.parsed.get(text).cloned()
    }

    /// Keeps a text's parsed document, so that the text is not scanned and parsed again.
    pub fn keep(&self, text: &str, parsed: ExecutableDocument) -> Arc<ExecutableDocument> {
        let parsed = Arc::new(parsed);
        if let Ok(mut kept) = self.kept.lock() {
            kept.room(text.len() * PARSED_PER_BYTE);
            kept.parsed.insert(text.into(), parsed.clone());
        }
        parsed
    }

    /// Whether this operation (text, name and variables) passed the checks before.
    pub fn seen(&self, request: &Request) -> Seen {
        let Some(key) = key(request) else {
            return Seen::New(None);
        };
        match self.kept.lock() {
            Ok(kept) if kept.passed.contains_key(&key) => Seen::Passed,
            _ => Seen::New(Some(key)),
        }
    }

    /// Notes that an operation passed the checks (its key from [`Documents::seen`]).
    pub fn pass(&self, key: String) {
        if let Ok(mut kept) = self.kept.lock() {
            kept.room(key.len());
            kept.passed.insert(key, ());
        }
    }
}

/// Whether an operation passed the checks before.
pub enum Seen {
    Passed,
    /// Not yet: the key to note it under once it passes (none for an operation never kept).
    New(Option<String>),
}

/// The id or hash a request names its document by, and whether it is a hash of the text
/// (automatic persisted queries) rather than a registered id.
fn named(request: &Request) -> Option<(String, bool)> {
    if let Some(Value::String(id)) = request.extensions.get(DOCUMENT_ID) {
        let id = id.strip_prefix("sha256:").unwrap_or(id);
        return Some((id.to_owned(), false));
    }
    match request.extensions.get("persistedQuery") {
        Some(Value::Object(apq)) => match apq.get("sha256Hash") {
            Some(Value::String(hash)) => Some((hash.to_ascii_lowercase(), true)),
            _ => None,
        },
        _ => None,
    }
}

/// An operation's key among those that passed: none for uploads (their variables hold files).
fn key(request: &Request) -> Option<String> {
    if !request.uploads.is_empty() {
        return None;
    }
    let variables = serde_json::to_string(&request.variables).ok()?;
    Some(format!(
        "{}\u{0}{}\u{0}{}",
        request.query,
        request.operation_name.as_deref().unwrap_or_default(),
        variables
    ))
}

/// The (id, document) pairs of a manifest, in either format.
fn entries(manifest: &serde_json::Value) -> Option<Vec<(String, String)>> {
    let object = manifest.as_object()?;
    if object.get("format").and_then(|f| f.as_str()) == Some("apollo-persisted-query-manifest") {
        return object
            .get("operations")?
            .as_array()?
            .iter()
            .map(|op| {
                let id = op.get("id")?.as_str()?.to_owned();
                let body = op.get("body")?.as_str()?.to_owned();
                Some((id, body))
            })
            .collect();
    }
    object
        .iter()
        .map(|(id, body)| Some((id.clone(), body.as_str()?.to_owned())))
        .collect()
}

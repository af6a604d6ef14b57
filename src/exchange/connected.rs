//! Connected mode (docs/EXCHANGE.md, "Connected mode"): when this instance and a peer can
//! reach each other, the bundles that otherwise travel as files are pushed and pulled over
//! HTTP(S) on a schedule (`RECTRACK_EXCHANGE_PEERS`, `RECTRACK_EXCHANGE_INTERVAL`), with the
//! same checks: a pushed bundle is imported by the peer's `exchange::import` as an uploaded
//! file is, a pulled one by this instance's, and each side records the other's signed
//! acknowledgement with `exchange::ack`.
//!
//! - **Requests between peers** carry no token: the caller signs
//!   `METHOD\nPATH\nDATE\nADDRESSEE` with its instance key ([`sign_request`]), and the receiver
//!   checks the signature against the registered key before it reads any body
//!   ([`authenticate`]). The body needs no signature of its own: a bundle's manifest and an
//!   acknowledgement are signed already.
//! - **The queue.** A bundle written for a peer waits as
//!   `RECTRACK_DATA_DIR/exchange/outgoing/<peer>/<sequence>.zip` until the peer acknowledges
//!   it; until then the same file is sent again, never written anew (a new one would take the
//!   next number and the peer would refuse the gap). Pushes and the answers to a peer's pulls
//!   take from the same queue ([`next_bundle`]).
//! - **Rounds.** Every interval, for each configured peer, on a task of its own: push (the
//!   oldest queued bundle, or a new one when something is [`pending`]), then pull. Transport
//!   failures and server errors are tried again within the round after 1 s, 2 s, 4 s, …, as
//!   long as the waits fit in the interval; a refusal (a 4xx with its code) is not: the file
//!   stays queued for a person to look at, and the next round sends it again. Every attempt
//!   is a line of the exchange log and of the server's log.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::exchange_peer;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::Deserialize;

use super::identity::Identity;
use super::import::{Acknowledgement, Imported};
use crate::config::{Config, ExchangePeer};
use crate::domain::Acting;
use crate::domain::integration::exchange::{self as peers, Entry};
use crate::domain::integration::signature;
use crate::domain::integration::{decisions, origin};
use crate::error::{AppError, AppResult, codes};

/// The headers of a request between peers: who calls, when, and its signature.
pub const PEER_HEADER: &str = "rectrack-peer";
pub const DATE_HEADER: &str = "rectrack-date";
pub const SIGNATURE_HEADER: &str = "rectrack-signature";

/// The peer endpoints, as both sides sign them (the route's path, whatever prefix a proxy
/// serves the peer under).
pub const BUNDLES_PATH: &str = "/api/v1/exchange/peer/bundles";
pub const BUNDLE_PATH: &str = "/api/v1/exchange/peer/bundle";
pub const ACKS_PATH: &str = "/api/v1/exchange/peer/acks";

/// How far a request's date may be from the receiver's clock.
pub const MAX_SKEW: Duration = Duration::from_secs(5 * 60);

/// The longest acknowledgement read from a request or an answer.
pub const ACK_LIMIT: usize = 64 * 1024;

/// What a request between peers signs: its method, its route's path, its date (RFC 3339, as
/// sent) and the addressee's instance id (so that it cannot be replayed at another instance).
pub fn signed_text(method: &str, path: &str, date: &str, addressee: &str) -> String {
    format!("{method}\n{path}\n{date}\n{addressee}")
}

/// The three headers of a request from `me` to the instance `addressee`.
pub fn sign_request(
    me: &Identity,
    method: &str,
    path: &str,
    addressee: &str,
    now: DateTime<Utc>,
) -> [(&'static str, String); 3] {
    let date = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let signature = me.sign(signed_text(method, path, &date, addressee).as_bytes());
    [
        (PEER_HEADER, me.instance_id.clone()),
        (DATE_HEADER, date),
        (SIGNATURE_HEADER, signature),
    ]
}

/// Checks a request between peers by its headers (the peer's id, the date and the signature)
/// and answers the registered peer: `PEER_UNSIGNED` without them, `PEER_STALE_DATE` for a date
/// more than [`MAX_SKEW`] from `now` (or not RFC 3339), `PEER_UNKNOWN` for an instance that is
/// not a registered peer, `PEER_BAD_SIGNATURE` when the signature does not verify with its
/// registered key. All are 401 and read nothing but the headers.
pub async fn authenticate(
    db: &impl ConnectionTrait,
    me: &Identity,
    header: impl Fn(&str) -> Option<String>,
    method: &str,
    path: &str,
    now: DateTime<Utc>,
) -> AppResult<exchange_peer::Model> {
    let (Some(caller), Some(date), Some(signature)) = (
        header(PEER_HEADER),
        header(DATE_HEADER),
        header(SIGNATURE_HEADER),
    ) else {
        return Err(AppError::request(
            codes::PEER_UNSIGNED,
            t!("exchange-peer-unsigned"),
        ));
    };
    let fresh = DateTime::parse_from_rfc3339(date.trim()).is_ok_and(|at| {
        let skew = (now - at.with_timezone(&Utc)).abs();
        skew.to_std().is_ok_and(|s| s <= MAX_SKEW)
    });
    if !fresh {
        return Err(AppError::request(
            codes::PEER_STALE_DATE,
            t!("exchange-peer-stale-date", date = date.trim()),
        ));
    }
    let caller = caller.trim().to_ascii_lowercase();
    let known = if caller.len() == 32 && caller.bytes().all(|b| b.is_ascii_hexdigit()) {
        peers::sender(db, &caller).await?
    } else {
        None
    };
    let Some(peer) = known else {
        return Err(AppError::request(
            codes::PEER_UNKNOWN,
            t!("exchange-peer-unknown", peer = caller.as_str()),
        ));
    };
    let key = signature::public_key(&peer.public_key)
        .ok_or_else(|| AppError::internal("a registered key does not parse"))?;
    let text = signed_text(method, path, date.trim(), &me.instance_id);
    if !signature::verify(&key, text.as_bytes(), &signature) {
        return Err(AppError::request(
            codes::PEER_BAD_SIGNATURE,
            t!("exchange-peer-bad-signature", name = peer.name.as_str()),
        ));
    }
    Ok(peer)
}

/// Whether this instance has something to send `peer`. At an instance that keeps records
/// merged from the peer (the office for the peer's unit), what it sends is its decisions on
/// them: something is pending while a decision waits for the unit's answer. Elsewhere (the
/// unit), a change of its audit trail since the peer's acknowledgement
/// ([`peers::unit_changed`]).
pub async fn pending(db: &impl ConnectionTrait, peer: &exchange_peer::Model) -> AppResult<bool> {
    if origin::holds_from(db, peer.id).await? {
        return decisions::waiting(db, peer.id).await;
    }
    let (head, _) = crate::audit::end(db).await?;
    if head <= peer.acked_event_id {
        return Ok(false);
    }
    peers::unit_changed(db, peer, head).await
}

/// Where the bundles written for a peer wait until it acknowledges them.
pub fn queue_dir(data_dir: &Path, instance_id: &str) -> PathBuf {
    data_dir
        .join("exchange")
        .join("outgoing")
        .join(instance_id.to_ascii_lowercase())
}

/// The oldest bundle queued for `peer`, its number and file. Files the peer acknowledged are
/// removed first, and so is a file whose number was never taken (an export that put its file
/// in place and then did not commit, as after a crash).
pub fn oldest_queued(data_dir: &Path, peer: &exchange_peer::Model) -> Option<(i32, PathBuf)> {
    let dir = queue_dir(data_dir, &peer.instance_id);
    let mut oldest: Option<(i32, PathBuf)> = None;
    for entry in std::fs::read_dir(&dir).ok()?.flatten() {
        let path = entry.path();
        let Some(sequence) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".zip"))
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        if sequence <= peer.acked_sequence || sequence > peer.sent_sequence {
            let _ = std::fs::remove_file(&path);
            continue;
        }
        if oldest.as_ref().is_none_or(|(s, _)| sequence < *s) {
            oldest = Some((sequence, path));
        }
    }
    oldest
}

/// One queue operation at a time in this process: two callers (a round and a peer's pull)
/// finding the queue empty together would each write a bundle. Held over local work only,
/// never across a request to a peer.
static QUEUE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The bundle to give the peer `instance_id` next: the oldest queued, else, when something is
/// [`pending`], a new one written into the queue (`exchange::export`, which takes its number);
/// `None` when there is nothing to give.
pub async fn next_bundle(
    db: &DatabaseConnection,
    who: &Acting,
    me: &Identity,
    evidence: &crate::evidence::Store,
    data_dir: &Path,
    instance_id: &str,
) -> AppResult<Option<(i32, PathBuf)>> {
    let _held = QUEUE.lock().await;
    let peer = peers::sender(db, instance_id)
        .await?
        .ok_or_else(|| AppError::not_found("exchange_peer", instance_id))?;
    if let Some(queued) = oldest_queued(data_dir, &peer) {
        return Ok(Some(queued));
    }
    if !pending(db, &peer).await? {
        return Ok(None);
    }
    let dir = queue_dir(data_dir, &peer.instance_id);
    std::fs::create_dir_all(&dir)
        .map_err(|err| AppError::internal(format!("{}: {err}", dir.display())))?;
    // Named by the number it will take: a file in place whose export did not commit then
    // carries a number above the peer's `sent_sequence`, and is removed above.
    let file = dir.join(format!("{}.zip", peer.sent_sequence + 1));
    let exported = super::export::export(db, who, me, evidence, &peer.instance_id, &file).await?;
    let sequence = exported.manifest.sequence;
    let named = dir.join(format!("{sequence}.zip"));
    if named != file {
        // Someone else (a person's export) took a number meanwhile.
        std::fs::rename(&file, &named)
            .map_err(|err| AppError::internal(format!("{}: {err}", named.display())))?;
    }
    Ok(Some((sequence, named)))
}

/// Removes the queued bundles the peer has acknowledged.
pub async fn prune_queue(
    db: &impl ConnectionTrait,
    data_dir: &Path,
    instance_id: &str,
) -> AppResult<()> {
    if let Some(peer) = peers::sender(db, instance_id).await? {
        let _ = oldest_queued(data_dir, &peer);
    }
    Ok(())
}

/// Imports `file` on a thread of the blocking pool (the checks and the merge read it with
/// blocking I/O), driving the import to its end there: what `POST /api/v1/exchange/bundles`,
/// the peer endpoint and a pull all do.
pub async fn import_file(
    db: &DatabaseConnection,
    who: &Acting,
    me: &Arc<Identity>,
    evidence: &crate::evidence::Store,
    file: &Path,
) -> AppResult<Imported> {
    let runtime = tokio::runtime::Handle::current();
    let (db, who, me, evidence, path) = (
        db.clone(),
        who.clone(),
        me.clone(),
        evidence.clone(),
        file.to_path_buf(),
    );
    tokio::task::spawn_blocking(move || {
        runtime.block_on(super::import::import(&db, &who, &me, &evidence, &path))
    })
    .await
    .map_err(AppError::internal)?
}

/// The waits between the attempts of one round: 1 s, doubling, each at most the interval, as
/// long as they add up to no more than the interval.
pub fn backoff(interval: Duration) -> impl Iterator<Item = Duration> {
    let mut next = Duration::from_secs(1);
    let mut total = Duration::ZERO;
    std::iter::from_fn(move || {
        let wait = next.min(interval);
        if total + wait > interval {
            return None;
        }
        total += wait;
        next = next.saturating_mul(2);
        Some(wait)
    })
}

/// The scheduler's tasks; stopped when dropped (with the server).
pub struct Running(Vec<tokio::task::JoinHandle<()>>);

impl Drop for Running {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// What a round works with.
struct Link {
    db: DatabaseConnection,
    me: Arc<Identity>,
    evidence: crate::evidence::Store,
    data_dir: PathBuf,
    interval: Duration,
    who: Acting,
    client: reqwest::Client,
    peer: ExchangePeer,
}

/// Starts a task per configured peer (none when none is configured); each runs a round at
/// once and then every interval.
pub fn start(
    db: DatabaseConnection,
    config: &Config,
    me: Arc<Identity>,
    evidence: crate::evidence::Store,
) -> anyhow::Result<Option<Running>> {
    if config.exchange_peers.is_empty() {
        return Ok(None);
    }
    // The peers' addresses are the operator's own setting (not a URL an administrator typed
    // into the API, as a webhook's is), so they are not held to the webhooks' allow-list: a
    // unit's office is typically on a private network. No redirect is followed.
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(Duration::from_secs(120))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("rectrack/", env!("CARGO_PKG_VERSION")))
        .build()?;
    let mut tasks = Vec::new();
    for peer in &config.exchange_peers {
        let link = Link {
            db: db.clone(),
            me: me.clone(),
            evidence: evidence.clone(),
            data_dir: config.data_dir.clone(),
            interval: config.exchange_interval,
            who: Acting::system("exchange", config.timezone),
            client: client.clone(),
            peer: peer.clone(),
        };
        tracing::info!(peer = %peer.instance_id, url = %peer.url, "connected exchange started");
        tasks.push(tokio::spawn(async move {
            loop {
                link.round().await;
                tokio::time::sleep(link.interval).await;
            }
        }));
    }
    Ok(Some(Running(tasks)))
}

/// Why an attempt did not succeed.
enum Failure {
    /// Not reached, or a server error: tried again.
    Transient { code: String, detail: String },
    /// Refused with a code (a 4xx), or refused here: not tried again this round.
    Refused { code: String, message: String },
}

/// The part of the peer's import answer a push reads.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    result: String,
    sequence: i32,
    sha256: Option<String>,
    acknowledgement: Acknowledgement,
}

/// A REST error answer's code and message.
#[derive(Deserialize)]
struct ErrorAnswer {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: String,
    message: String,
}

impl Link {
    async fn round(&self) {
        let peer = match peers::sender(&self.db, &self.peer.instance_id).await {
            Ok(Some(peer)) => peer,
            Ok(None) => {
                tracing::warn!(
                    peer = %self.peer.instance_id,
                    "an exchange peer in RECTRACK_EXCHANGE_PEERS is not registered here (registerExchangePeer); skipped"
                );
                return;
            }
            Err(err) => {
                tracing::warn!(
                    code = err.code(),
                    message = err.message(),
                    "connected exchange: the peer could not be read"
                );
                return;
            }
        };
        // The peer's bundles answer what this instance sent: pulled once nothing of this
        // instance's waits for the peer (an office that has received nothing from a unit yet
        // has no decisions about its records to give).
        if self.push(&peer).await {
            self.pull(&peer).await;
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.peer.url)
    }

    fn signed(
        &self,
        request: reqwest::RequestBuilder,
        method: &str,
        path: &str,
    ) -> reqwest::RequestBuilder {
        let mut request = request;
        for (name, value) in
            sign_request(&self.me, method, path, &self.peer.instance_id, Utc::now())
        {
            request = request.header(name, value);
        }
        request
    }

    /// Logs a pushed bundle refused (by the receiver, or its acknowledgement by this side): the
    /// file stays queued for a person, the message names it.
    async fn refused(
        &self,
        peer: &exchange_peer::Model,
        sequence: i32,
        file: &std::path::Path,
        code: &str,
        message: &str,
    ) {
        let detail = t!(
            "exchange-connected-refused",
            peer = peer.name.as_str(),
            sequence = sequence.to_string(),
            code = code,
            message = message,
            file = file.display().to_string()
        );
        self.log(
            peer,
            "push",
            Some(sequence),
            None,
            "failed",
            Some(code),
            detail,
        )
        .await;
    }

    /// Writes a line of the exchange log (and of the server's log).
    #[allow(clippy::too_many_arguments)]
    async fn log(
        &self,
        peer: &exchange_peer::Model,
        direction: &str,
        sequence: Option<i32>,
        sha256: Option<String>,
        result: &str,
        code: Option<&str>,
        detail: String,
    ) {
        if result == "failed" {
            tracing::warn!(peer = %peer.instance_id, direction, sequence, code, detail, "connected exchange: an attempt failed");
        } else {
            tracing::info!(peer = %peer.instance_id, direction, sequence, detail, "connected exchange: delivered");
        }
        let entry = Entry {
            peer_id: Some(peer.id),
            direction,
            sequence,
            bundle_sha256: sha256,
            result,
            code,
            detail: Some(detail),
            counts: None,
        };
        if let Err(err) = peers::log(&self.db, &self.who, entry).await {
            tracing::warn!(
                code = err.code(),
                "connected exchange: the exchange log was not written"
            );
        }
    }

    /// Sends the oldest queued bundle, or a new one when something is pending; whether
    /// nothing is left waiting for the peer.
    async fn push(&self, peer: &exchange_peer::Model) -> bool {
        let next = next_bundle(
            &self.db,
            &self.who,
            &self.me,
            &self.evidence,
            &self.data_dir,
            &peer.instance_id,
        )
        .await;
        let (sequence, file) = match next {
            Ok(Some(next)) => next,
            Ok(None) => return true,
            Err(err) => {
                let detail = t!(
                    "exchange-connected-failed",
                    code = err.code(),
                    message = err.message()
                );
                self.log(peer, "push", None, None, "failed", Some(err.code()), detail)
                    .await;
                return false;
            }
        };
        let mut waits = backoff(self.interval);
        loop {
            match self.send(&file).await {
                Ok(answer) => {
                    return match super::ack::record(
                        &self.db,
                        &self.who,
                        &self.me,
                        &answer.acknowledgement,
                    )
                    .await
                    {
                        Ok(_) => {
                            // Acknowledged: the file's work is done (an acknowledgement of an
                            // older number leaves it for the next round).
                            let done = answer.acknowledgement.sequence >= sequence;
                            if done {
                                let _ = std::fs::remove_file(&file);
                            }
                            let detail = t!(
                                "exchange-connected-delivered",
                                sequence = answer.sequence.to_string(),
                                result = answer.result.as_str()
                            );
                            self.log(
                                peer,
                                "push",
                                Some(sequence),
                                answer.sha256,
                                "delivered",
                                None,
                                detail,
                            )
                            .await;
                            done
                        }
                        Err(err) => {
                            self.refused(peer, sequence, &file, err.code(), err.message())
                                .await;
                            false
                        }
                    };
                }
                Err(Failure::Refused { code, message }) => {
                    self.refused(peer, sequence, &file, &code, &message).await;
                    return false;
                }
                Err(Failure::Transient { code, detail }) => {
                    let detail = t!(
                        "exchange-connected-unreachable",
                        peer = peer.name.as_str(),
                        url = self.peer.url.as_str(),
                        detail = detail.as_str()
                    );
                    self.log(
                        peer,
                        "push",
                        Some(sequence),
                        None,
                        "failed",
                        Some(&code),
                        detail,
                    )
                    .await;
                    match waits.next() {
                        Some(wait) => tokio::time::sleep(wait).await,
                        None => return false,
                    }
                }
            }
        }
    }

    /// POSTs the bundle `file` to the peer; its answer.
    async fn send(&self, file: &Path) -> Result<Answer, Failure> {
        let opened = tokio::fs::File::open(file).await;
        let opened = opened.map_err(|err| Failure::Refused {
            code: codes::INTERNAL_SERVER_ERROR.to_owned(),
            message: format!("{}: {err}", file.display()),
        })?;
        let length = opened.metadata().await.map(|m| m.len()).unwrap_or(0);
        let request = self
            .signed(
                self.client.post(self.url(BUNDLES_PATH)),
                "POST",
                BUNDLES_PATH,
            )
            .header(reqwest::header::CONTENT_TYPE, "application/zip")
            .header(reqwest::header::CONTENT_LENGTH, length)
            .body(reqwest::Body::wrap(FileBody::new(opened)));
        let response = request.send().await.map_err(unreachable)?;
        let body = answered(response, ACK_LIMIT).await?;
        serde_json::from_slice::<Answer>(&body).map_err(|err| Failure::Refused {
            code: codes::BUNDLE_UNREADABLE.to_owned(),
            message: err.to_string(),
        })
    }

    /// Takes the peer's next bundle for this instance, imports it and sends the
    /// acknowledgement back.
    async fn pull(&self, peer: &exchange_peer::Model) {
        let mut waits = backoff(self.interval);
        loop {
            match self.take().await {
                Ok(None) => return,
                Ok(Some(imported)) => {
                    let detail = t!(
                        "exchange-connected-pulled",
                        sequence = imported.sequence.to_string(),
                        result = imported.result
                    );
                    self.log(
                        peer,
                        "pull",
                        Some(imported.sequence),
                        Some(imported.sha256),
                        "delivered",
                        None,
                        detail,
                    )
                    .await;
                    return;
                }
                Err(Failure::Refused { code, message }) => {
                    let detail = t!(
                        "exchange-connected-pull-refused",
                        peer = peer.name.as_str(),
                        code = code.as_str(),
                        message = message.as_str()
                    );
                    self.log(peer, "pull", None, None, "failed", Some(&code), detail)
                        .await;
                    return;
                }
                Err(Failure::Transient { code, detail }) => {
                    let detail = t!(
                        "exchange-connected-unreachable",
                        peer = peer.name.as_str(),
                        url = self.peer.url.as_str(),
                        detail = detail.as_str()
                    );
                    self.log(peer, "pull", None, None, "failed", Some(&code), detail)
                        .await;
                    match waits.next() {
                        Some(wait) => tokio::time::sleep(wait).await,
                        None => return,
                    }
                }
            }
        }
    }

    /// One pull: `None` when the peer has nothing for this instance.
    async fn take(&self) -> Result<Option<Imported>, Failure> {
        let response = self
            .signed(self.client.get(self.url(BUNDLE_PATH)), "GET", BUNDLE_PATH)
            .send()
            .await
            .map_err(unreachable)?;
        if response.status() == reqwest::StatusCode::NO_CONTENT {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(answered(response, ACK_LIMIT)
                .await
                .err()
                .unwrap_or(Failure::Refused {
                    code: codes::BAD_REQUEST.to_owned(),
                    message: "unexpected answer".to_owned(),
                }));
        }
        let dir = self.data_dir.join("exchange").join("incoming");
        let local = |err: String| Failure::Refused {
            code: codes::INTERNAL_SERVER_ERROR.to_owned(),
            message: err,
        };
        std::fs::create_dir_all(&dir).map_err(|err| local(format!("{}: {err}", dir.display())))?;
        let mut name = [0u8; 8];
        getrandom::fill(&mut name).map_err(|err| local(err.to_string()))?;
        let file = dir.join(format!("{}.zip", crate::audit::hex(&name)));
        let saved = save(response, &file).await;
        let imported = match saved {
            Ok(()) => import_file(&self.db, &self.who, &self.me, &self.evidence, &file)
                .await
                .map_err(|err| Failure::Refused {
                    code: err.code().to_owned(),
                    message: err.message().to_owned(),
                }),
            Err(failure) => Err(failure),
        };
        let _ = std::fs::remove_file(&file);
        let imported = imported?;
        // The acknowledgement back: until it arrives, the peer offers the same bundle again,
        // which imports as a duplicate and answers the acknowledgement once more.
        let ack =
            serde_json::to_vec(&imported.acknowledgement).map_err(|err| local(err.to_string()))?;
        let response = self
            .signed(self.client.post(self.url(ACKS_PATH)), "POST", ACKS_PATH)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(ack)
            .send()
            .await
            .map_err(unreachable)?;
        answered(response, ACK_LIMIT).await?;
        Ok(Some(imported))
    }
}

/// A transport failure.
fn unreachable(err: reqwest::Error) -> Failure {
    Failure::Transient {
        code: codes::PEER_UNREACHABLE.to_owned(),
        detail: err.to_string(),
    }
}

/// A successful answer's body (at most `limit` bytes), or the failure it says.
async fn answered(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, Failure> {
    let status = response.status();
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > limit {
                    break;
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(err) => {
                if status.is_success() {
                    return Err(unreachable(err));
                }
                break;
            }
        }
    }
    if status.is_success() {
        return Ok(body);
    }
    let said = serde_json::from_slice::<ErrorAnswer>(&body).ok();
    if status.is_server_error() {
        let detail = match &said {
            Some(said) => format!(
                "HTTP {}, {}: {}",
                status.as_u16(),
                said.error.code,
                said.error.message
            ),
            None => format!("HTTP {}", status.as_u16()),
        };
        return Err(Failure::Transient {
            code: said.map_or_else(|| codes::PEER_UNREACHABLE.to_owned(), |s| s.error.code),
            detail,
        });
    }
    Err(match said {
        Some(said) => Failure::Refused {
            code: said.error.code,
            message: said.error.message,
        },
        None => Failure::Refused {
            code: format!("HTTP_{}", status.as_u16()),
            message: String::from_utf8_lossy(&body).chars().take(200).collect(),
        },
    })
}

/// Streams a bundle answered by the peer into `file`, within the bundle file budget.
async fn save(mut response: reqwest::Response, file: &Path) -> Result<(), Failure> {
    use tokio::io::AsyncWriteExt;
    let limit = super::check::Budgets::default().file;
    let local = |err: std::io::Error| Failure::Refused {
        code: codes::INTERNAL_SERVER_ERROR.to_owned(),
        message: format!("{}: {err}", file.display()),
    };
    let mut out = tokio::fs::File::create_new(file).await.map_err(local)?;
    let mut total = 0u64;
    while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
        total += chunk.len() as u64;
        if total > limit {
            return Err(Failure::Refused {
                code: codes::PAYLOAD_TOO_LARGE.to_owned(),
                message: t!("exchange-bundle-too-large", limit = limit.to_string()),
            });
        }
        out.write_all(&chunk).await.map_err(local)?;
    }
    out.flush().await.map_err(local)?;
    Ok(())
}

/// A file as a request body, read a block at a time.
struct FileBody {
    file: tokio::fs::File,
    buffer: Box<[u8]>,
}

impl FileBody {
    fn new(file: tokio::fs::File) -> Self {
        Self {
            file,
            buffer: vec![0u8; 64 * 1024].into_boxed_slice(),
        }
    }
}

impl http_body::Body for FileBody {
    type Data = axum::body::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        use std::task::Poll;
        use tokio::io::AsyncRead;
        let this = self.get_mut();
        let mut read = tokio::io::ReadBuf::new(&mut this.buffer);
        match std::pin::Pin::new(&mut this.file).poll_read(cx, &mut read) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(err)) => Poll::Ready(Some(Err(err))),
            Poll::Ready(Ok(())) if read.filled().is_empty() => Poll::Ready(None),
            Poll::Ready(Ok(())) => Poll::Ready(Some(Ok(http_body::Frame::data(
                axum::body::Bytes::copy_from_slice(read.filled()),
            )))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_waits_of_a_round_double_and_fit_in_the_interval() {
        let waits: Vec<u64> = backoff(Duration::from_secs(1))
            .map(|d| d.as_secs())
            .collect();
        assert_eq!(waits, [1]);
        let waits: Vec<u64> = backoff(Duration::from_secs(10))
            .map(|d| d.as_secs())
            .collect();
        assert_eq!(waits, [1, 2, 4]);
        let waits: Vec<u64> = backoff(Duration::from_secs(15 * 60))
            .map(|d| d.as_secs())
            .collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256]);
    }

    #[test]
    fn the_queue_gives_the_oldest_bundle_not_acknowledged_and_drops_the_rest() {
        let data = std::env::temp_dir().join(format!("rectrack_queue_{}", std::process::id()));
        let peer = exchange_peer::Model {
            id: 1,
            instance_id: "0123456789abcdef0123456789abcdef".to_owned(),
            public_key: String::new(),
            name: "市委巡察办".to_owned(),
            department_id: 1,
            sent_sequence: 4,
            acked_sequence: 1,
            acked_event_id: 0,
            created_by: String::new(),
            version: 1,
            archived_at: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        assert_eq!(oldest_queued(&data, &peer), None, "no queue yet");
        let dir = queue_dir(&data, &peer.instance_id);
        std::fs::create_dir_all(&dir).unwrap();
        // 1 was acknowledged; 5 never took its number (an export that did not commit).
        for name in [
            "1.zip",
            "3.zip",
            "2.zip",
            "5.zip",
            "4.zip.partial",
            "notes.txt",
        ] {
            std::fs::write(dir.join(name), b"x").unwrap();
        }
        assert_eq!(oldest_queued(&data, &peer), Some((2, dir.join("2.zip"))));
        assert!(!dir.join("1.zip").exists());
        assert!(!dir.join("5.zip").exists());
        assert!(dir.join("3.zip").exists() && dir.join("4.zip.partial").exists());
        std::fs::remove_dir_all(&data).unwrap();
    }

    #[test]
    fn a_signature_covers_the_method_the_path_the_date_and_the_addressee() {
        assert_eq!(
            signed_text("POST", BUNDLES_PATH, "2026-12-07T10:00:00Z", "ab"),
            "POST\n/api/v1/exchange/peer/bundles\n2026-12-07T10:00:00Z\nab"
        );
    }
}

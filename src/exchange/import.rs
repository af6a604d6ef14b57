//! The office's import of a bundle (docs/EXCHANGE.md): the checks of [`super::check`] (budgets,
//! signature, hashes, chain links), then, in one transaction, the sequence (a skipped number is
//! refused naming it; the same bundle again is a no-op that says so), the chain segment's
//! continuity with what was received from the peer (a changed history is refused naming the
//! first event that differs), and the merge of the records under their origin
//! (`domain::integration::incoming`), the evidence files stored by hash, the log line and the audit event.
//! A refusal writes a `refused` log line (and its audit event) and nothing else.

use std::collections::HashMap;
use std::io::{BufReader, Read};
use std::path::Path;

use entity::{exchange_peer, exchange_received};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};
use serde::Serialize;
use serde_json::{Value, json};

use super::bundle::{self, Manifest};
use super::check::{self, Budgets};
use super::identity::Identity;
use crate::audit;
use crate::auth::Permission;
use crate::domain::Acting;
use crate::domain::integration::exchange::{self as peers, Entry};
use crate::domain::integration::incoming::{self, Source};
use crate::domain::integration::{applied, decisions, received};
use crate::domain::records::change::{Record, audited};
use crate::error::{AppError, AppResult, codes};

/// What an import did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Imported {
    /// `merged`, or `duplicate` for a bundle merged before (nothing was done again).
    pub result: &'static str,
    pub sequence: i32,
    /// The sending unit's code and the peer's name.
    pub unit: String,
    pub peer: String,
    /// The SHA-256 of the bundle file.
    pub sha256: String,
    /// Rows read per table (merged bundles; empty for a duplicate).
    pub counts: HashMap<String, u64>,
    pub evidence_files: u64,
    pub events: u64,
    /// The acknowledgement for the sender: it names the bundle and the chain's end as
    /// received, signed by this instance. The unit's `rectrack exchange ack` records it, and
    /// its next bundle starts after that event.
    pub acknowledgement: Acknowledgement,
}

/// What the receiver tells the sender (`rectrack exchange ack` at the unit reads it;
/// docs/EXCHANGE.md, "Acknowledgements").
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, utoipa::ToSchema)]
#[schema(as = ExchangeAcknowledgement)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Acknowledgement {
    /// `rectrack-exchange-ack/1`
    pub format: String,
    /// The receiver (who signs) and the sender (whom it is for).
    pub from: String,
    pub to: String,
    pub sequence: i32,
    pub last_event_id: i32,
    pub last_hash: String,
    /// What applying each decision of a decision bundle gave (the unit answering the office).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub decisions: Vec<decisions::Outcome>,
    /// Base64 Ed25519 signature by `from` of the canonical JSON of the other fields.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub signature: String,
}

pub const ACK_FORMAT: &str = "rectrack-exchange-ack/1";

impl Acknowledgement {
    /// The bytes that are signed: the canonical JSON of every field but the signature.
    pub fn signed_bytes(&self) -> Vec<u8> {
        let mut value = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Some(map) = value.as_object_mut() {
            map.remove("signature");
        }
        audit::canonical(&value).into_bytes()
    }

    fn signed(mut self, me: &Identity) -> Self {
        self.signature = me.sign(&self.signed_bytes());
        self
    }
}

fn refused(code: &'static str, message: String) -> AppError {
    AppError::Request { code, message }
}

/// Imports `file` (administrators): checks it, then merges it in one transaction. A refusal
/// is logged (a `refused` line naming the code) and nothing else is written.
pub async fn import(
    db: &DatabaseConnection,
    who: &Acting,
    me: &Identity,
    evidence: &crate::evidence::Store,
    file: &Path,
) -> AppResult<Imported> {
    who.require(Permission::ManageExchange)?;
    let sha256 = digest(file)?;
    let checked = match check::check(db, me, file, Budgets::default()).await {
        Ok(checked) => checked,
        Err(err) => {
            record_refusal(db, who, None, None, &sha256, &err).await;
            return Err(err);
        }
    };
    let (manifest, sender) = (checked.manifest, checked.sender);
    let mut created = Vec::new();
    let outcome = merge_checked(
        db,
        who,
        me,
        evidence,
        file,
        &manifest,
        &sender,
        &sha256,
        &mut created,
    )
    .await;
    match outcome {
        Ok(imported) => Ok(imported),
        Err(err) => {
            // Evidence files this import put in the store belong to rows that did not commit.
            for path in created {
                let _ = std::fs::remove_file(path);
            }
            record_refusal(
                db,
                who,
                Some(&sender),
                Some(manifest.sequence),
                &sha256,
                &err,
            )
            .await;
            Err(err)
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn merge_checked(
    db: &DatabaseConnection,
    who: &Acting,
    me: &Identity,
    evidence: &crate::evidence::Store,
    file: &Path,
    manifest: &Manifest,
    sender: &exchange_peer::Model,
    sha256: &str,
    created: &mut Vec<std::path::PathBuf>,
) -> AppResult<Imported> {
    let txn = db
        .begin_with_options(TransactionOptions {
            isolation_level: None,
            access_mode: None,
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        })
        .await?;
    // One import per peer at a time: the peer's row is locked (PostgreSQL) or the database is
    // (SQLite's immediate transaction) until this one commits.
    received::lock_peer(&txn, sender.id).await?;
    let received = received::position(&txn, sender.id).await?;
    let have = received.as_ref().map_or(0, |r| r.sequence);
    let ack = |sequence: i32,
               last_event_id: i32,
               last_hash: String,
               decisions: Vec<decisions::Outcome>| {
        Acknowledgement {
            format: ACK_FORMAT.to_owned(),
            from: me.instance_id.clone(),
            to: sender.instance_id.clone(),
            sequence,
            last_event_id,
            last_hash,
            decisions,
            signature: String::new(),
        }
        .signed(me)
    };
    let decision_bundle = manifest.kind.as_deref() == Some(bundle::DECISIONS);
    if manifest.sequence <= have {
        let same = received::merged_file(&txn, sender.id, manifest.sequence)
            .await?
            .is_some_and(|merged| merged == sha256);
        if !same {
            return Err(refused(
                codes::BUNDLE_OUT_OF_SEQUENCE,
                t!(
                    "exchange-bundle-number-taken",
                    sequence = manifest.sequence.to_string(),
                    have = have.to_string()
                ),
            ));
        }
        finish(&txn, who, sender, manifest, sha256, "duplicate", None).await?;
        // The same decisions again: the answers given when they were applied.
        let outcomes = if decision_bundle {
            let mut archive = open(file)?;
            let ids = decision_lines(&mut archive)
                .await?
                .iter()
                .map(|l| l.id)
                .collect();
            applied::outcomes(&txn, sender.id, ids).await?
        } else {
            Vec::new()
        };
        crate::db::commit(db, txn).await?;
        let r = received
            .ok_or_else(|| AppError::internal("a bundle number was merged without a position"))?;
        return Ok(Imported {
            result: "duplicate",
            sequence: manifest.sequence,
            unit: manifest.unit.code.clone(),
            peer: sender.name.clone(),
            sha256: sha256.to_owned(),
            counts: HashMap::new(),
            evidence_files: 0,
            events: 0,
            acknowledgement: ack(r.sequence, r.event_id, r.hash, outcomes),
        });
    }
    if manifest.sequence > have + 1 {
        return Err(refused(
            codes::BUNDLE_OUT_OF_SEQUENCE,
            t!(
                "exchange-bundle-number-missing",
                sequence = manifest.sequence.to_string(),
                missing = (have + 1).to_string()
            ),
        ));
    }
    let (received_id, received_hash) = received
        .as_ref()
        .map_or((0, audit::GENESIS.to_owned()), |r| {
            (r.event_id, r.hash.clone())
        });
    let events = continuity(&txn, file, manifest, sender.id, received_id, &received_hash).await?;

    let mut archive = open(file)?;
    let (counts, evidence_files, outcomes) = if decision_bundle {
        let (counts, outcomes) = apply_decisions(&txn, who, &mut archive, manifest, sender).await?;
        (counts, 0, outcomes)
    } else {
        let counts = incoming::merge(&txn, who, &mut archive, &manifest.unit.code, sender).await?;
        let evidence_files = store_blobs(&mut archive, manifest, evidence, created)?;
        (counts, evidence_files, Vec::new())
    };

    let (last_id, last_hash) = if manifest.chain.last_event_id > received_id {
        (
            manifest.chain.last_event_id,
            manifest.chain.last_hash.clone(),
        )
    } else {
        (received_id, received_hash)
    };
    received::advance(
        &txn,
        received.as_ref(),
        exchange_received::Model {
            peer_id: sender.id,
            sequence: manifest.sequence,
            event_id: last_id,
            hash: last_hash.clone(),
            bundle_sha256: sha256.to_owned(),
            received_at: who.now(),
        },
    )
    .await?;
    let mut logged: serde_json::Map<String, Value> = counts
        .iter()
        .map(|(k, v)| match decision_bundle {
            true => (k.clone(), json!(v)),
            false => (format!("records/{k}.jsonl"), json!(v)),
        })
        .collect();
    logged.insert("blobs".to_owned(), json!(evidence_files));
    logged.insert("events".to_owned(), json!(events));
    finish(
        &txn,
        who,
        sender,
        manifest,
        sha256,
        "merged",
        Some(Value::Object(logged)),
    )
    .await?;
    crate::db::commit(db, txn).await?;
    Ok(Imported {
        result: "merged",
        sequence: manifest.sequence,
        unit: manifest.unit.code.clone(),
        peer: sender.name.clone(),
        sha256: sha256.to_owned(),
        counts,
        evidence_files,
        events,
        acknowledgement: ack(manifest.sequence, last_id, last_hash, outcomes),
    })
}

/// The decisions of a decision bundle, each line bounded.
async fn decision_lines(
    archive: &mut zip::ZipArchive<std::fs::File>,
) -> AppResult<Vec<decisions::Line>> {
    let mut lines = Vec::new();
    incoming::each_member_line(archive, bundle::DECISION_MEMBER, async |line| {
        lines.push(line);
        Ok(())
    })
    .await?;
    Ok(lines)
}

/// At the unit: applies the office's decisions, each through the unit's own close-out command
/// (a conflict is kept for a person, not forced); answers the counts and each one's outcome.
async fn apply_decisions(
    txn: &sea_orm::DatabaseTransaction,
    who: &Acting,
    archive: &mut zip::ZipArchive<std::fs::File>,
    manifest: &Manifest,
    sender: &exchange_peer::Model,
) -> AppResult<(HashMap<String, u64>, Vec<decisions::Outcome>)> {
    let lines = decision_lines(archive).await?;
    let mut outcomes = Vec::with_capacity(lines.len());
    for line in &lines {
        outcomes.push(applied::apply(txn, who, sender, manifest.sequence, line).await?);
    }
    let count = |result: &str| outcomes.iter().filter(|o| o.result == result).count() as u64;
    let counts = HashMap::from([
        ("decision".to_owned(), lines.len() as u64),
        ("applied".to_owned(), count("applied")),
        ("conflict".to_owned(), count("conflict")),
    ]);
    Ok((counts, outcomes))
}

/// The log line and the audit event of an import.
async fn finish(
    db: &impl ConnectionTrait,
    who: &Acting,
    sender: &exchange_peer::Model,
    manifest: &Manifest,
    sha256: &str,
    result: &str,
    counts: Option<Value>,
) -> AppResult<()> {
    let line = peers::log(
        db,
        who,
        Entry {
            peer_id: Some(sender.id),
            direction: "import",
            sequence: Some(manifest.sequence),
            bundle_sha256: Some(sha256.to_owned()),
            result,
            code: None,
            detail: None,
            counts,
        },
    )
    .await?;
    audited(
        db,
        who,
        "exchange.import",
        Record {
            kind: "exchange_log",
            id: line.id,
            department_id: Some(sender.department_id),
        },
        None,
        Some(&line),
    )
    .await
}

/// A `refused` log line and its audit event, in a transaction of their own; a failure to write
/// them is logged, not answered (the refusal is the answer).
async fn record_refusal(
    db: &DatabaseConnection,
    who: &Acting,
    sender: Option<&exchange_peer::Model>,
    sequence: Option<i32>,
    sha256: &str,
    err: &AppError,
) {
    // Only a refusal of the bundle is logged: a caller without the right, or a database that
    // is not answering, is not an exchange.
    let code = err.code();
    if !(code.starts_with("BUNDLE_") || code == codes::PAYLOAD_TOO_LARGE) {
        return;
    }
    let written: AppResult<()> = async {
        let txn = db.begin().await?;
        let line = peers::log(
            &txn,
            who,
            Entry {
                peer_id: sender.map(|s| s.id),
                direction: "import",
                sequence,
                bundle_sha256: Some(sha256.to_owned()),
                result: "refused",
                code: Some(code),
                detail: Some(err.message().to_owned()),
                counts: None,
            },
        )
        .await?;
        audited(
            &txn,
            who,
            "exchange.refuse",
            Record {
                kind: "exchange_log",
                id: line.id,
                department_id: sender.map(|s| s.department_id),
            },
            None,
            Some(&line),
        )
        .await?;
        crate::db::commit(db, txn).await
    }
    .await;
    if let Err(err) = written {
        tracing::warn!(
            code = err.code(),
            "logging a refused exchange bundle failed"
        );
    }
}

/// The chain segment against what was received from the peer: it must start at or before
/// the last event received and agree with every event received that it repeats; the events
/// after that are recorded as received. Answers how many events were new.
async fn continuity(
    db: &impl ConnectionTrait,
    file: &Path,
    manifest: &Manifest,
    peer: i32,
    received_id: i32,
    received_hash: &str,
) -> AppResult<u64> {
    let changed = |event: i32| {
        refused(
            codes::BUNDLE_HISTORY_CHANGED,
            t!(
                "exchange-bundle-history-changed",
                event = event.to_string(),
                received = received_id.to_string()
            ),
        )
    };
    let chain = &manifest.chain;
    if chain.after_event_id > received_id {
        return Err(refused(
            codes::BUNDLE_HISTORY_CHANGED,
            t!(
                "exchange-bundle-chain-gap",
                after = chain.after_event_id.to_string(),
                received = received_id.to_string()
            ),
        ));
    }
    if chain.after_event_id == received_id && chain.after_hash != received_hash {
        return Err(changed(received_id));
    }
    if chain.last_event_id < received_id {
        // The sender's chain is now shorter than what it sent before.
        return Err(changed(chain.last_event_id + 1));
    }
    if chain.after_event_id > 0 && chain.after_event_id < received_id {
        let known = received::chain_hashes(db, peer, [chain.after_event_id]).await?;
        if known
            .get(&chain.after_event_id)
            .is_some_and(|hash| *hash != chain.after_hash)
        {
            return Err(changed(chain.after_event_id));
        }
    }
    // Of each line, checked whole before, only the event's id and hash are read here.
    #[derive(serde::Deserialize)]
    struct Link {
        id: i32,
        hash: String,
    }
    let mut archive = open(file)?;
    let mut repeated: Vec<(i32, String)> = Vec::new();
    let mut fresh: Vec<(i32, String)> = Vec::new();
    let mut new_events = 0u64;
    incoming::each_member_line(&mut archive, bundle::CHAIN, async |event: Link| {
        if event.id <= received_id {
            repeated.push((event.id, event.hash));
            if repeated.len() >= 500 {
                compare(db, peer, &mut repeated, &changed).await?;
            }
        } else {
            new_events += 1;
            fresh.push((event.id, event.hash));
            if fresh.len() >= 500 {
                received::record_chain(db, peer, std::mem::take(&mut fresh)).await?;
            }
        }
        Ok(())
    })
    .await?;
    compare(db, peer, &mut repeated, &changed).await?;
    received::record_chain(db, peer, fresh).await?;
    Ok(new_events)
}

/// The repeated events against their hashes as received; the first that differs is named.
async fn compare(
    db: &impl ConnectionTrait,
    peer: i32,
    repeated: &mut Vec<(i32, String)>,
    changed: &impl Fn(i32) -> AppError,
) -> AppResult<()> {
    if repeated.is_empty() {
        return Ok(());
    }
    let known = received::chain_hashes(db, peer, repeated.iter().map(|(id, _)| *id)).await?;
    for (id, hash) in repeated.drain(..) {
        if known.get(&id).is_some_and(|k| *k != hash) {
            return Err(changed(id));
        }
    }
    Ok(())
}

/// The evidence files the bundle carries, put in the evidence store by hash (already checked
/// against the manifest); answers how many. Files this import created are pushed to `created`
/// so that they can be removed if its transaction does not commit.
fn store_blobs(
    archive: &mut zip::ZipArchive<std::fs::File>,
    manifest: &Manifest,
    evidence: &crate::evidence::Store,
    created: &mut Vec<std::path::PathBuf>,
) -> AppResult<u64> {
    let mut stored = 0u64;
    for member in manifest
        .members
        .iter()
        .filter(|m| m.name.starts_with("blobs/"))
    {
        let sha = &member.name["blobs/".len()..];
        // A blob is stored under its name: the name must be the hash the manifest states
        // (and the check found), or a signed manifest could file content under another hash.
        let path = evidence
            .path_of(sha)
            .filter(|_| member.sha256 == sha)
            .ok_or_else(|| {
                refused(
                    codes::BUNDLE_TAMPERED,
                    t!("exchange-bundle-tampered", member = member.name.as_str()),
                )
            })?;
        stored += 1;
        if path.exists() {
            continue;
        }
        let io = |e: std::io::Error| {
            AppError::internal(format!("evidence file {}: {e}", path.display()))
        };
        let dir = path.parent().expect("a store path has a directory");
        std::fs::create_dir_all(dir).map_err(io)?;
        let partial = dir.join(format!("{sha}.exchange-partial"));
        let mut out = std::fs::File::create(&partial).map_err(io)?;
        let entry = archive
            .by_name(&member.name)
            .map_err(|e| AppError::internal(format!("blob after the check: {e}")))?;
        let copied = std::io::copy(&mut entry.take(member.bytes), &mut out)
            .and_then(|_| out.sync_all())
            .and_then(|()| std::fs::rename(&partial, &path));
        if let Err(e) = copied {
            let _ = std::fs::remove_file(&partial);
            return Err(io(e));
        }
        created.push(path);
    }
    Ok(stored)
}

pub(super) fn open(file: &Path) -> AppResult<zip::ZipArchive<std::fs::File>> {
    let reopened = std::fs::File::open(file)
        .map_err(|e| AppError::internal(format!("{}: {e}", file.display())))?;
    zip::ZipArchive::new(reopened)
        .map_err(|e| AppError::internal(format!("{}: {e}", file.display())))
}

/// The SHA-256 of a file, read in blocks.
fn digest(file: &Path) -> AppResult<String> {
    use sha2::{Digest, Sha256};
    let mut f = std::fs::File::open(file).map_err(|e| {
        refused(
            codes::BUNDLE_UNREADABLE,
            t!("exchange-bundle-unreadable", detail = e.to_string()),
        )
    })?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = f
            .read(&mut buffer)
            .map_err(|e| AppError::internal(format!("{}: {e}", file.display())))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(audit::hex(&hasher.finalize()))
}

/// A bundle's file read as the domain's merge reads it: a member by name, its lines bounded by
/// the manifest's budget.
impl Source for zip::ZipArchive<std::fs::File> {
    type Member<'a> = BufReader<zip::read::ZipFile<'a, std::fs::File>>;
    const LINE_MAX: u64 = check::LINE_MAX;

    fn member(&mut self, name: &str) -> AppResult<Option<Self::Member<'_>>> {
        Ok(self.by_name(name).ok().map(BufReader::new))
    }
}

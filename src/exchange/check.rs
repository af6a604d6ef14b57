//! Checking a bundle as its addressee does, before any record is read: size budgets (a zip
//! bomb is refused from the central directory's numbers and by bounded reads), the format and
//! version, the addressee, the signature against the sender's registered key, every member's
//! size and hash (nothing unlisted), and the chain segment's links and hashes. Nothing is
//! written: the import builds on this; `rectrack exchange check` runs it alone.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use chrono::{DateTime, Utc};
use entity::exchange_peer;
use sea_orm::ConnectionTrait;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::bundle::{self, Manifest};
use super::identity::Identity;
use crate::audit::{self, Fields};
use crate::domain::integration::signature;
use crate::error::{AppError, AppResult, codes};

/// The longest `manifest.json`, and the longest line of a JSON Lines member, by default.
pub const LINE_MAX: u64 = 64 << 20;

/// The limits a bundle is read within.
#[derive(Debug, Clone, Copy)]
pub struct Budgets {
    /// The file.
    pub file: u64,
    /// Members of the zip.
    pub entries: usize,
    /// All members inflated, as the central directory declares them (and as read).
    pub inflated: u64,
    /// A member's inflated size over its compressed size (above 1 MiB inflated).
    pub ratio: u64,
    /// `manifest.json` and one line of a JSON Lines member.
    pub manifest: u64,
}

impl Default for Budgets {
    fn default() -> Self {
        Self {
            file: 8 << 30,
            entries: 200_000,
            inflated: 16 << 30,
            ratio: 200,
            manifest: LINE_MAX,
        }
    }
}

/// A bundle that passed every check.
#[derive(Debug)]
pub struct Checked {
    pub manifest: Manifest,
    pub sender: exchange_peer::Model,
}

fn refused(code: &'static str, message: String) -> AppError {
    AppError::Request { code, message }
}

fn unreadable(detail: impl std::fmt::Display) -> AppError {
    refused(
        codes::BUNDLE_UNREADABLE,
        t!("exchange-bundle-unreadable", detail = detail.to_string()),
    )
}

fn tampered(member: &str) -> AppError {
    refused(
        codes::BUNDLE_TAMPERED,
        t!("exchange-bundle-tampered", member = member),
    )
}

/// Checks `file` as addressed to `me`, with the senders registered in `db`.
pub async fn check(
    db: &impl ConnectionTrait,
    me: &Identity,
    file: &Path,
    budgets: Budgets,
) -> AppResult<Checked> {
    let size = std::fs::metadata(file).map_err(unreadable)?.len();
    if size > budgets.file {
        return Err(AppError::PayloadTooLarge(t!(
            "exchange-bundle-too-large",
            limit = budgets.file.to_string()
        )));
    }
    let mut archive =
        zip::ZipArchive::new(std::fs::File::open(file).map_err(unreadable)?).map_err(unreadable)?;
    measure(&mut archive, budgets)?;
    let manifest_bytes = read_small(&mut archive, bundle::MANIFEST, budgets.manifest)?;
    let signature = read_small(&mut archive, bundle::SIGNATURE, 1024)?;
    let value: Value = serde_json::from_slice(&manifest_bytes).map_err(unreadable)?;
    let known_kind = match value.get("kind") {
        None => true,
        Some(kind) => kind == bundle::DECISIONS,
    };
    if value["format"] != bundle::FORMAT || value["version"] != bundle::VERSION || !known_kind {
        return Err(refused(
            codes::BUNDLE_UNSUPPORTED,
            t!(
                "exchange-bundle-unsupported",
                version = value["version"].to_string(),
                supported = bundle::VERSION.to_string()
            ),
        ));
    }
    let manifest: Manifest = serde_json::from_value(value).map_err(unreadable)?;
    if manifest.to != me.instance_id {
        return Err(refused(
            codes::BUNDLE_MISADDRESSED,
            t!("exchange-bundle-misaddressed", to = manifest.to.as_str()),
        ));
    }
    let sender = crate::domain::integration::exchange::sender(db, &manifest.from.instance_id)
        .await?
        .ok_or_else(|| {
            refused(
                codes::BUNDLE_UNKNOWN_SENDER,
                t!(
                    "exchange-bundle-unknown-sender",
                    from = manifest.from.instance_id.as_str()
                ),
            )
        })?;
    let key = signature::public_key(&sender.public_key)
        .ok_or_else(|| AppError::internal("a registered key does not parse"))?;
    let text = String::from_utf8(signature).unwrap_or_default();
    // The signature covers the bytes as they came, and they must be the canonical form: no
    // second encoding of the same manifest is accepted.
    if !signature::verify(&key, &manifest_bytes, &text)
        || manifest.canonical_bytes() != manifest_bytes
    {
        return Err(refused(
            codes::BUNDLE_BAD_SIGNATURE,
            t!("exchange-bundle-bad-signature", name = sender.name.as_str()),
        ));
    }
    members(&mut archive, &manifest)?;
    chain(&mut archive, &manifest, budgets.manifest)?;
    Ok(Checked { manifest, sender })
}

/// The central directory's numbers against the budgets, before anything is inflated.
fn measure(archive: &mut zip::ZipArchive<std::fs::File>, budgets: Budgets) -> AppResult<()> {
    if archive.len() > budgets.entries {
        return Err(AppError::PayloadTooLarge(t!(
            "exchange-bundle-too-many-members",
            limit = budgets.entries.to_string()
        )));
    }
    let mut inflated = 0u64;
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(unreadable)?;
        let (size, packed) = (entry.size(), entry.compressed_size().max(1));
        inflated = inflated.saturating_add(size);
        if size > (1 << 20) && size / packed > budgets.ratio {
            return Err(AppError::PayloadTooLarge(t!(
                "exchange-bundle-bomb",
                member = entry.name().map(|n| n.to_string()).unwrap_or_default()
            )));
        }
    }
    if inflated > budgets.inflated {
        return Err(AppError::PayloadTooLarge(t!(
            "exchange-bundle-too-large",
            limit = budgets.inflated.to_string()
        )));
    }
    Ok(())
}

/// A small member read whole, at most `limit` bytes.
fn read_small(
    archive: &mut zip::ZipArchive<std::fs::File>,
    name: &str,
    limit: u64,
) -> AppResult<Vec<u8>> {
    let entry = archive.by_name(name).map_err(|_| tampered(name))?;
    let mut bytes = Vec::new();
    entry
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > limit {
        return Err(AppError::PayloadTooLarge(t!(
            "exchange-bundle-bomb",
            member = name
        )));
    }
    Ok(bytes)
}

/// Every member against the manifest, read no further than its stated size; nothing unlisted.
fn members(archive: &mut zip::ZipArchive<std::fs::File>, manifest: &Manifest) -> AppResult<()> {
    let listed: HashMap<&str, &bundle::Member> = manifest
        .members
        .iter()
        .map(|m| (m.name.as_str(), m))
        .collect();
    if listed.len() + 2 != archive.len() {
        return Err(tampered("manifest.json"));
    }
    for i in 0..archive.len() {
        let entry = archive.by_index(i).map_err(unreadable)?;
        let name = entry.name().map_err(unreadable)?.to_string();
        if name == bundle::MANIFEST || name == bundle::SIGNATURE {
            continue;
        }
        let member = listed.get(name.as_str()).ok_or_else(|| tampered(&name))?;
        let mut hasher = Sha256::new();
        let mut read = 0u64;
        let mut limited = entry.take(member.bytes + 1);
        let mut buffer = vec![0u8; 1 << 16];
        loop {
            let n = limited.read(&mut buffer).map_err(|_| tampered(&name))?;
            if n == 0 {
                break;
            }
            hasher.update(&buffer[..n]);
            read += n as u64;
        }
        if read != member.bytes || audit::hex(&hasher.finalize()) != member.sha256 {
            return Err(tampered(&name));
        }
    }
    Ok(())
}

/// The chain segment: each event links to the one before, from `afterHash` to `lastHash`, and
/// each unredacted event hashes to its `hash`.
fn chain(
    archive: &mut zip::ZipArchive<std::fs::File>,
    manifest: &Manifest,
    line_limit: u64,
) -> AppResult<()> {
    let entry = archive
        .by_name(bundle::CHAIN)
        .map_err(|_| tampered(bundle::CHAIN))?;
    let mut reader = BufReader::new(entry);
    let mut prev = manifest.chain.after_hash.clone();
    let mut events = 0u64;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = (&mut reader)
            .take(line_limit)
            .read_until(b'\n', &mut line)
            .map_err(unreadable)?;
        if n == 0 {
            break;
        }
        let event: Value = serde_json::from_slice(&line).map_err(unreadable)?;
        let id = event["id"].as_i64().unwrap_or_default();
        let broken = |what: &str| {
            refused(
                codes::BUNDLE_CHAIN_BROKEN,
                t!(
                    "exchange-bundle-chain-broken",
                    event = id.to_string(),
                    what = crate::i18n::message(&format!("exchange-chain-{what}"), &[])
                ),
            )
        };
        if event["prevHash"] != prev.as_str() {
            return Err(broken("link"));
        }
        let hash = event["hash"].as_str().ok_or_else(|| broken("hash"))?;
        if event["redacted"] != true && !hashes_to(&event, &prev, hash) {
            return Err(broken("hash"));
        }
        prev = hash.to_owned();
        events += 1;
    }
    if events != manifest.chain.events || prev != manifest.chain.last_hash {
        return Err(refused(
            codes::BUNDLE_CHAIN_BROKEN,
            t!(
                "exchange-bundle-chain-broken",
                event = manifest.chain.last_event_id.to_string(),
                what = crate::i18n::message("exchange-chain-end", &[])
            ),
        ));
    }
    Ok(())
}

fn hashes_to(event: &Value, prev: &str, hash: &str) -> bool {
    let Some(at) = event["occurredAt"]
        .as_str()
        .and_then(|t| t.parse::<DateTime<Utc>>().ok())
    else {
        return false;
    };
    let text = |k: &str| event[k].as_str().unwrap_or_default();
    let fields = Fields {
        occurred_at: &at,
        actor_sub: text("actorSub"),
        actor_role: text("actorRole"),
        action: text("action"),
        entity_type: text("entityType"),
        entity_id: text("entityId"),
        before: Some(&event["before"]).filter(|v| !v.is_null()),
        after: Some(&event["after"]).filter(|v| !v.is_null()),
        request_id: event["requestId"].as_str(),
        department_id: event["departmentId"]
            .as_i64()
            .and_then(|d| i32::try_from(d).ok()),
        prev_hash: prev,
    };
    audit::hash_of(&fields) == hash
}

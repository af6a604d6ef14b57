//! The bundle format, version 1 (docs/EXCHANGE.md): a zip of JSON Lines and blobs.
//!
//! - `records/<table>.jsonl`: one record per line, its columns by name, as the unit's database
//!   holds it (the unit's ids are the origin ids);
//! - `audit/chain.jsonl`: the segment of the unit's audit chain the bundle covers, in chain
//!   order; events of other departments as `{id, prevHash, hash, redacted: true}` (the links
//!   verify, their content stays at home);
//! - `blobs/<sha256>`: evidence files, named by the SHA-256 of their content;
//! - `manifest.json`: canonical JSON (compact, keys sorted) with the format and its version,
//!   the sender and the addressee, the sequence number, the chain segment's ends and every
//!   member's name, rows, size and SHA-256;
//! - `manifest.sig`: the base64 Ed25519 signature of `manifest.json`'s bytes by the sender.
//!
//! Signing the manifest signs every member through its hash.

use std::io::{BufWriter, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::identity::Identity;
use crate::backup::Hashing;

/// What the manifest says the file is.
pub const FORMAT: &str = "rectrack-exchange";
/// The version this build writes and reads.
pub const VERSION: u32 = 1;
pub const MANIFEST: &str = "manifest.json";
pub const SIGNATURE: &str = "manifest.sig";
pub const CHAIN: &str = "audit/chain.jsonl";
/// A decision bundle's `kind`, and the member that holds its decisions.
pub const DECISIONS: &str = "decisions";
pub const DECISION_MEMBER: &str = "decisions/decision.jsonl";

/// The manifest (`manifest.json`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    pub from: Party,
    /// The addressee's instance id.
    pub to: String,
    /// 1 for the first bundle to this addressee, then one more each time.
    pub sequence: i32,
    pub created_at: String,
    pub unit: Unit,
    pub chain: Chain,
    pub members: Vec<Member>,
    /// Absent for a unit's records; `decisions` for the office's decisions on them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Party {
    pub instance_id: String,
    pub public_key: String,
}

/// The unit whose records the bundle carries.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Unit {
    pub code: String,
    pub name: String,
}

/// The segment of the sender's audit chain: it continues the event `after_event_id` (whose
/// hash is `after_hash`, all zeros at the start) and ends at `last_event_id`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Chain {
    pub after_event_id: i32,
    pub after_hash: String,
    pub last_event_id: i32,
    pub last_hash: String,
    pub events: u64,
}

/// One member of the zip.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Member {
    pub name: String,
    /// Lines of a JSON Lines member; 0 for a blob.
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
}

impl Manifest {
    /// The bytes that are signed and stored as `manifest.json`.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let value = serde_json::to_value(self).unwrap_or(Value::Null);
        crate::audit::canonical(&value).into_bytes()
    }
}

/// A bundle being written to a file: members one after the other, each hashed as it is
/// written, then the signed manifest. Nothing is held in memory but the member being written.
pub struct Writer {
    zip: ZipWriter<BufWriter<std::fs::File>>,
    members: Vec<Member>,
    open: Option<Open>,
}

struct Open {
    name: String,
    rows: u64,
    hashing: Hashing<Sink>,
}

/// What a member's bytes pass through on their way into the zip: only counted and hashed
/// here; [`Writer`] copies them on.
struct Sink;

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn options() -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .large_file(true)
}

impl Writer {
    /// A bundle written to `file` (created new).
    pub fn create(file: &Path) -> std::io::Result<Self> {
        let out = std::fs::File::create_new(file)?;
        Ok(Self {
            zip: ZipWriter::new(BufWriter::with_capacity(1 << 20, out)),
            members: Vec::new(),
            open: None,
        })
    }

    /// Starts a JSON Lines member.
    pub fn begin(&mut self, name: &str) -> std::io::Result<()> {
        self.end()?;
        self.zip.start_file(name, options()).map_err(zip_io)?;
        self.open = Some(Open {
            name: name.to_owned(),
            rows: 0,
            hashing: Hashing::new(Sink),
        });
        Ok(())
    }

    /// Writes one line of the open member.
    pub fn line(&mut self, value: &impl Serialize) -> std::io::Result<()> {
        let mut text = serde_json::to_vec(value).map_err(std::io::Error::other)?;
        text.push(b'\n');
        let open = self
            .open
            .as_mut()
            .ok_or_else(|| std::io::Error::other("no member is open"))?;
        open.hashing.write_all(&text)?;
        open.rows += 1;
        self.zip.write_all(&text)
    }

    /// Ends the open member, if any.
    pub fn end(&mut self) -> std::io::Result<()> {
        if let Some(open) = self.open.take() {
            let (sha256, bytes, _) = open.hashing.finish();
            self.members.push(Member {
                name: open.name,
                rows: open.rows,
                bytes,
                sha256,
            });
        }
        Ok(())
    }

    /// Copies a blob in, streamed; answers its SHA-256 (the caller compares it with the name).
    pub fn blob(
        &mut self,
        sha256: &str,
        source: &mut impl std::io::Read,
    ) -> std::io::Result<String> {
        self.end()?;
        let name = format!("blobs/{sha256}");
        self.zip
            .start_file(name.as_str(), options())
            .map_err(zip_io)?;
        let mut out = Hashing::new(&mut self.zip);
        std::io::copy(source, &mut out)?;
        let (found, bytes, _) = out.finish();
        self.members.push(Member {
            name,
            rows: 0,
            bytes,
            sha256: found.clone(),
        });
        Ok(found)
    }

    /// The members written so far.
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// Writes the manifest with `members` filled in, signs it, and closes the file (synced).
    pub fn finish(
        mut self,
        mut manifest: Manifest,
        identity: &Identity,
    ) -> std::io::Result<Manifest> {
        self.end()?;
        manifest.members = std::mem::take(&mut self.members);
        let bytes = manifest.canonical_bytes();
        self.zip
            .start_file(MANIFEST, SimpleFileOptions::default())
            .map_err(zip_io)?;
        self.zip.write_all(&bytes)?;
        self.zip
            .start_file(SIGNATURE, SimpleFileOptions::default())
            .map_err(zip_io)?;
        self.zip.write_all(identity.sign(&bytes).as_bytes())?;
        let writer = self.zip.finish().map_err(zip_io)?;
        let file = writer.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        Ok(manifest)
    }
}

fn zip_io(err: zip::result::ZipError) -> std::io::Error {
    std::io::Error::other(err)
}

//! The instance's identity for exchange: an id and an Ed25519 signing key, made at first start
//! and kept in `<RECTRACK_DATA_DIR>/exchange/identity.json` (owner-only), never in the
//! database: a database dump or a backup's database part carries no key, and a database
//! restored elsewhere cannot sign as this instance.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer, SigningKey};
use serde::{Deserialize, Serialize};

use crate::audit::hex;

/// This instance: who it is and how it signs.
#[derive(Clone)]
pub struct Identity {
    pub instance_id: String,
    key: SigningKey,
}

impl std::fmt::Debug for Identity {
    // The key never prints.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("instance_id", &self.instance_id)
            .finish_non_exhaustive()
    }
}

/// The file's content.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct File {
    instance_id: String,
    /// The 32-byte Ed25519 seed, base64.
    secret_key: String,
    created_at: String,
}

/// Where the identity lives under a data directory.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join("exchange").join("identity.json")
}

impl Identity {
    /// Reads the identity under `data_dir`, making it first if there is none. Two processes
    /// starting together agree: the file is linked into place only if absent, and the loser
    /// reads the winner's.
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<Self> {
        let file = path(data_dir);
        if let Some(identity) = Self::read(&file)? {
            return Ok(identity);
        }
        let dir = file.parent().unwrap_or(data_dir);
        std::fs::create_dir_all(dir).map_err(|err| write_failed(dir, &err))?;
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|err| anyhow::anyhow!("{err}"))?;
        let mut id = [0u8; 16];
        getrandom::fill(&mut id).map_err(|err| anyhow::anyhow!("{err}"))?;
        let content = File {
            instance_id: hex(&id),
            secret_key: STANDARD.encode(seed),
            created_at: chrono::Utc::now().to_rfc3339(),
        };
        let text = serde_json::to_vec_pretty(&content)?;
        let temp = dir.join(format!("identity.{}.tmp", hex(&id[..4])));
        write_private(&temp, &text).map_err(|err| write_failed(&temp, &err))?;
        let linked = std::fs::hard_link(&temp, &file);
        let _ = std::fs::remove_file(&temp);
        match linked {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(err) => return Err(write_failed(&file, &err)),
        }
        Self::read(&file)?.ok_or_else(|| {
            anyhow::anyhow!(t!(
                "exchange-identity-unreadable",
                file = file.display().to_string()
            ))
        })
    }

    fn read(file: &Path) -> anyhow::Result<Option<Self>> {
        let bytes = match std::fs::read(file) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(_) => anyhow::bail!(t!(
                "exchange-identity-unreadable",
                file = file.display().to_string()
            )),
        };
        let unreadable = || {
            anyhow::anyhow!(t!(
                "exchange-identity-unreadable",
                file = file.display().to_string()
            ))
        };
        let content: File = serde_json::from_slice(&bytes).map_err(|_| unreadable())?;
        let seed: [u8; 32] = STANDARD
            .decode(content.secret_key.as_bytes())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(unreadable)?;
        if content.instance_id.len() != 32
            || !content.instance_id.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(unreadable());
        }
        Ok(Some(Self {
            instance_id: content.instance_id,
            key: SigningKey::from_bytes(&seed),
        }))
    }

    /// The public key, base64 (what a peer registers).
    pub fn public_key(&self) -> String {
        STANDARD.encode(self.key.verifying_key().as_bytes())
    }

    /// The Ed25519 signature of `message`, base64.
    pub fn sign(&self, message: &[u8]) -> String {
        STANDARD.encode(self.key.sign(message).to_bytes())
    }
}

/// Writes a file only its owner may read.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn write_failed(path: &Path, err: &std::io::Error) -> anyhow::Error {
    anyhow::anyhow!(t!(
        "cli-file-write",
        file = path.display().to_string(),
        detail = err.to_string()
    ))
}

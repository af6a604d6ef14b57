//! Evidence files, stored content-addressed: `<data_dir>/evidence/ab/abcdef…` named by the
//! SHA-256 of the content, so the same document uploaded twice is stored once and a file can
//! be checked against its recorded digest at any time.
//!
//! A file is written to a temporary name in the same directory and renamed into place, so a
//! failed upload never leaves a partial file under a real name; a new file whose database row
//! does not commit is removed again (see [`Stored::discard`]).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::audit::hex;
use crate::error::{AppError, AppResult};

#[derive(Clone)]
pub struct Store {
    root: PathBuf,
    max_size: u64,
    /// Shared: the store is cloned with the app state for every request.
    media_types: std::sync::Arc<[String]>,
}

/// A file now in the store.
#[derive(Debug, Clone)]
pub struct Stored {
    pub sha256: String,
    pub size: i64,
    pub media_type: String,
    /// Whether this upload created the file (rather than finding the same content there).
    pub created: bool,
    path: PathBuf,
}

impl Stored {
    /// Removes the file again if this upload created it: its row did not commit.
    pub fn discard(&self) {
        if self.created {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Best-effort check of a file's first bytes against the media type it claims, for the types
/// whose signatures are unambiguous.
fn content_matches(media_type: &str, head: &[u8]) -> bool {
    let starts = |sig: &[u8]| head.starts_with(sig);
    match media_type {
        "application/pdf" => starts(b"%PDF"),
        "image/png" => starts(b"\x89PNG\r\n\x1a\n"),
        "image/jpeg" => starts(b"\xFF\xD8\xFF"),
        "image/gif" => starts(b"GIF8"),
        "application/zip"
        | "application/ofd"
        | "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        | "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => {
            starts(b"PK\x03\x04")
        }
        _ => true,
    }
}

impl Store {
    pub fn new(data_dir: &Path, max_size: usize, media_types: &[String]) -> Self {
        Self {
            root: data_dir.join("evidence"),
            max_size: max_size as u64,
            media_types: media_types
                .iter()
                .map(|m| m.trim().to_ascii_lowercase())
                .collect(),
        }
    }

    pub fn max_size(&self) -> usize {
        self.max_size as usize
    }

    /// Where the file with this digest lives.
    pub fn path_of(&self, sha256: &str) -> Option<PathBuf> {
        let valid = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit());
        valid.then(|| self.root.join(&sha256[..2]).join(sha256))
    }

    /// Copies `file` into the store, checking its size and media type; blocking I/O, so it runs
    /// on the blocking pool.
    pub async fn put(
        &self,
        mut file: std::fs::File,
        media_type: Option<String>,
    ) -> AppResult<Stored> {
        let media_type = media_type
            .map(|m| {
                m.split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase()
            })
            .unwrap_or_default();
        if !self.media_types.contains(&media_type) {
            return Err(AppError::bad_input(
                "files",
                t!(
                    "evidence-media-type",
                    media_type = &media_type,
                    accepted = self.media_types.join(", ")
                ),
            ));
        }
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.put_blocking(&mut file, media_type))
            .await
            .map_err(AppError::internal)?
    }

    fn put_blocking(&self, file: &mut std::fs::File, media_type: String) -> AppResult<Stored> {
        std::fs::create_dir_all(&self.root).map_err(AppError::internal)?;
        let unique = format!(
            ".upload-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        );
        let temp = self.root.join(unique.replace(['(', ')'], ""));
        let result = self.copy(file, &temp, &media_type);
        let (sha256, size) = match result {
            Ok(done) => done,
            Err(err) => {
                let _ = std::fs::remove_file(&temp);
                return Err(err);
            }
        };
        let path = self
            .path_of(&sha256)
            .ok_or_else(|| AppError::internal("bad digest"))?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(AppError::internal)?;
        }
        let created = if path.exists() {
            std::fs::remove_file(&temp).map_err(AppError::internal)?;
            false
        } else {
            std::fs::rename(&temp, &path).map_err(AppError::internal)?;
            true
        };
        Ok(Stored {
            sha256,
            size: size as i64,
            media_type,
            created,
            path,
        })
    }

    /// Streams `file` into `temp`, hashing as it goes; refuses oversize and mislabelled files.
    fn copy(
        &self,
        file: &mut std::fs::File,
        temp: &Path,
        media_type: &str,
    ) -> AppResult<(String, u64)> {
        let mut out = std::fs::File::create(temp).map_err(AppError::internal)?;
        let mut hasher = Sha256::new();
        let mut buffer = vec![0u8; 64 * 1024];
        let mut size: u64 = 0;
        loop {
            let n = file.read(&mut buffer).map_err(AppError::internal)?;
            if n == 0 {
                break;
            }
            if size == 0 && !content_matches(media_type, &buffer[..n]) {
                return Err(AppError::bad_input(
                    "files",
                    t!("evidence-content-mismatch", media_type = media_type),
                ));
            }
            size += n as u64;
            if size > self.max_size {
                return Err(AppError::PayloadTooLarge(t!(
                    "evidence-too-large",
                    max = self.max_size
                )));
            }
            hasher.update(&buffer[..n]);
            out.write_all(&buffer[..n]).map_err(AppError::internal)?;
        }
        if size == 0 {
            return Err(AppError::bad_input("files", t!("evidence-empty")));
        }
        out.sync_all().map_err(AppError::internal)?;
        Ok((hex(&hasher.finalize()), size))
    }
}

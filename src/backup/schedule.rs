//! Backups the server takes by itself: with `RECTRACK_BACKUP_DIR` set, one every
//! `RECTRACK_BACKUP_EVERY` (24h) into that directory as `rectrack-<UTC time>.zip`, keeping the
//! newest `RECTRACK_BACKUP_KEEP` (7). The interval runs from the newest backup already there,
//! so a restart does not take one more. Each backup and each failure is logged.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use sea_orm::DatabaseConnection;

use crate::config::Config;
use crate::metrics::Metrics;

const PREFIX: &str = "rectrack-";
const SUFFIX: &str = ".zip";

/// Starts the schedule, if a directory is set.
/// Each backup taken or found is told to `metrics` (the backup's age on `/metrics`).
pub fn start(db: DatabaseConnection, config: &Config, metrics: Arc<Metrics>) {
    let Some(dir) = config.backup_dir.clone() else {
        return;
    };
    let every = config.backup_every.max(Duration::from_secs(60));
    let keep = config.backup_keep.max(1);
    let data_dir = config.data_dir.clone();
    tokio::spawn(async move {
        loop {
            let newest = backups(&dir).last().and_then(|(_, at)| *at);
            if let Some(at) = newest {
                metrics.backup_finished(at);
            }
            let wait = newest
                .and_then(|at| (at + every).duration_since(SystemTime::now()).ok())
                .unwrap_or_default();
            tokio::time::sleep(wait).await;
            if run_once(&db, &data_dir, &dir, keep).await {
                metrics.backup_finished(SystemTime::now());
            } else {
                // A failed backup is tried again after a while, not at once.
                tokio::time::sleep(every.min(Duration::from_secs(3600))).await;
            }
        }
    });
}

/// Takes one backup into `dir` and removes those beyond the newest `keep`; says whether the
/// backup was taken.
pub async fn run_once(db: &DatabaseConnection, data_dir: &Path, dir: &Path, keep: usize) -> bool {
    let started = std::time::Instant::now();
    let name = format!(
        "{PREFIX}{}{SUFFIX}",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
    );
    let target = dir.join(name);
    if let Err(err) = std::fs::create_dir_all(dir) {
        tracing::error!(dir = %dir.display(), error = %err, "scheduled backup failed: no directory");
        return false;
    }
    match super::take::take(db, data_dir, &target).await {
        Ok(manifest) => {
            let rows: u64 = manifest.tables.iter().map(|t| t.rows).sum();
            tracing::info!(
                file = %target.display(),
                rows,
                evidence = manifest.evidence.len(),
                seconds = started.elapsed().as_secs_f64(),
                "scheduled backup taken"
            );
            let all = backups(dir);
            for (old, _) in all.iter().take(all.len().saturating_sub(keep)) {
                match std::fs::remove_file(old) {
                    Ok(()) => tracing::info!(file = %old.display(), "old backup removed"),
                    Err(err) => {
                        tracing::warn!(file = %old.display(), error = %err, "old backup not removed")
                    }
                }
            }
            true
        }
        Err(err) => {
            tracing::error!(file = %target.display(), error = %format!("{err:#}"), "scheduled backup failed");
            false
        }
    }
}

/// The schedule's backups in `dir`, oldest first (their names sort by time), with their
/// modification times.
pub fn backups(dir: &Path) -> Vec<(PathBuf, Option<SystemTime>)> {
    let mut found: Vec<(PathBuf, Option<SystemTime>)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with(PREFIX) && name.ends_with(SUFFIX)
        })
        .map(|e| (e.path(), e.metadata().and_then(|m| m.modified()).ok()))
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

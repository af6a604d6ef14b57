//! The early-warning sweep: once a day in the configured zone (at start-up, then whenever the
//! local date changes), every open finding and measure due within the GREEN window is checked
//! and crossings not yet recorded are raised ([`crate::domain::workflow::alert`]). Between sweeps, each
//! finding change (a deadline moved, a measure added or reopened, ...) is checked as its event
//! arrives, so a crossing caused by a change is raised at once. Crossings are unique in the
//! database, so sweeps on several instances, or repeated after a restart, notify once.

use std::sync::Arc;

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};

use crate::config::Config;
use crate::domain::integration::events::FINDING_CHANGED;
use crate::domain::workflow::warning::Thresholds;
use crate::domain::{Acting, reads::kept, workflow::alert};
use crate::error::AppResult;

/// Findings (with their measures) checked per transaction. The crossings of a page are raised
/// together, a handful of statements for the page (`alert::raise_as`), so a page of 200 holds
/// the audit chain (one writer at a time) for milliseconds: requests' writes interleave with
/// the pages. (Raised one by one, four or five statements each, a page of 200 freshly
/// generated findings held it for seconds, and pages had to be of 20.)
const PAGE: u64 = 200;

/// Pages between the sweep's progress lines in the log.
const PROGRESS_EVERY: usize = 50;

/// Crossings a sweep raises between refreshes of the planner's statistics on them
/// (PostgreSQL). Each connection plans the foreign-key check of a notification's insert once
/// and keeps the plan until the crossings' statistics change: planned while the table was
/// empty it scans the table. The first sweep over `dev generate`'s data (126,666 crossings)
/// had raised 96,000 after twelve minutes where autovacuum was off; with this it took 150 s.
const RESTATE_EVERY: usize = 5_000;

/// Starts the daily sweep and the per-change checks.
pub fn start(
    db: DatabaseConnection,
    config: Arc<Config>,
    bus: &super::Bus,
    metrics: Arc<crate::metrics::Metrics>,
) {
    tokio::spawn(daily(db.clone(), config.clone(), metrics));
    tokio::spawn(on_change(db, config, bus.follow(&[FINDING_CHANGED], None)));
}

async fn daily(db: DatabaseConnection, config: Arc<Config>, metrics: Arc<crate::metrics::Metrics>) {
    let mut swept: Option<NaiveDate> = None;
    loop {
        let today = config.timezone.today();
        if swept != Some(today) {
            let started = std::time::Instant::now();
            match sweep(&db, &config, Some(&metrics)).await {
                Ok(raised) => {
                    metrics.sweep_finished(started.elapsed());
                    tracing::info!(
                        raised,
                        seconds = started.elapsed().as_secs_f64(),
                        "early-warning sweep done"
                    );
                    swept = Some(today);
                }
                Err(err) => {
                    tracing::warn!(
                        code = err.code(),
                        message = err.message(),
                        "early-warning sweep failed"
                    );
                }
            }
        }
        tokio::time::sleep(config.live.warning_sweep_check).await;
    }
}

/// Checks every open finding and measure once; returns how many crossings were new. Each page
/// done is told to `metrics` (crossings raised, findings checked up to).
pub async fn sweep(
    db: &DatabaseConnection,
    config: &Config,
    metrics: Option<&crate::metrics::Metrics>,
) -> AppResult<usize> {
    let thresholds = Thresholds::from_config(config);
    let who = Acting::system("warning-sweep", config.timezone);
    let mut after = 0;
    let mut raised = 0;
    let mut unstated = 0;
    let mut pages = 0usize;
    let started = std::time::Instant::now();
    loop {
        let (subjects, next, checked) = alert::due_subjects(db, &thresholds, after, PAGE).await?;
        pages += 1;
        let mut raised_on_page = 0;
        if !subjects.is_empty() {
            let now = crate::domain::write(db, &who, async |txn| {
                alert::raise(txn, &who, &thresholds, &subjects).await
            })
            .await?;
            raised += now;
            unstated += now;
            raised_on_page = now;
        }
        if unstated >= RESTATE_EVERY && db.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared("ANALYZE warning_crossing, notification")
                .await?;
            unstated = 0;
        }
        if pages.is_multiple_of(PROGRESS_EVERY) {
            tracing::info!(
                findings_checked_up_to = after,
                raised,
                seconds = started.elapsed().as_secs_f64(),
                "early-warning sweep in progress"
            );
        }
        if let Some(metrics) = metrics {
            metrics.sweep_page(raised_on_page, checked);
        }
        match next {
            Some(id) => after = id,
            None => break,
        }
        // Requests come first: the next page waits its turn on the runtime.
        tokio::task::yield_now().await;
    }
    // Supervision orders (督办单): reminders before the deadline, escalation past it.
    let who = Acting::system("supervision-sweep", config.timezone);
    let orders = crate::domain::workflow::supervision::sweep(db, &who, thresholds.today).await?;
    if let Some(metrics) = metrics {
        metrics.record_crossings(orders);
    }
    Ok(raised + orders)
}

async fn on_change(db: DatabaseConnection, config: Arc<Config>, mut follow: super::Follow) {
    while let Some(next) = follow.next().await {
        let batch = match next {
            Ok(batch) => batch,
            Err(err) => {
                tracing::warn!(
                    code = err.code(),
                    "reading finding changes for warnings failed"
                );
                continue;
            }
        };
        // Only changes that may write what the check reads: a ledger entry (most writes) or a
        // crossing raised cannot move a warning, and checking each costs a transaction.
        let mut ids: Vec<i32> = batch
            .iter()
            .filter(|e| kept::may_write(&e.entity_type, alert::RECHECK_READS))
            .filter_map(|e| e.finding_id)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            continue;
        }
        let thresholds = Thresholds::from_config(&config);
        let who = Acting::system("warning-check", config.timezone);
        let checked = crate::domain::write(&db, &who, async |txn| {
            for id in &ids {
                alert::recheck_finding(txn, &who, &thresholds, *id).await?;
            }
            Ok(())
        })
        .await;
        if let Err(err) = checked {
            tracing::warn!(
                code = err.code(),
                message = err.message(),
                "checking changed findings for warnings failed"
            );
        }
    }
}

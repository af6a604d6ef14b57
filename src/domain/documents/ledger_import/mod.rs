//! Importing a ledger spreadsheet (整改台账) into an inspection: rectrack's own export, or a
//! unit's own spreadsheet with the usual headings in any order. In three parts:
//! - [`parse`]: the sheet's cells into findings and measures, each cell checked by the rule
//!   that governs its field (pure: no database);
//! - [`check`]: against what the database holds (departments, existing records and their
//!   versions, numbers taken, the status moves the caller may make);
//! - [`apply`]: the domain commands every other surface uses, in one transaction.
//!
//! Every problem is reported by the sheet's own row number and column. A dry run applies and
//! rolls back, so that it reports exactly what an import would do; a real import with any
//! problem changes nothing. Statuses move through the close-out workflow, so an import never
//! closes a finding: only `approveCloseOut` by a second person does. Findings closed before
//! rectrack existed come in through the historical import (admins only), which creates them
//! with their statuses and says so in the ledger and the audit trail.

mod apply;
mod check;
pub mod parse;
mod resolve;

use entity::inspection;
use sea_orm::DatabaseConnection;

use crate::auth::Permission;
use crate::config::ImportLimits;
use crate::db;
use crate::domain::{Acting, reads::scope, records::inspection as inspections};
use crate::error::{AppError, AppResult};
use crate::ledger_file::{self, Format};

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Check and report, change nothing.
    pub dry_run: bool,
    /// Ignore ids and versions: create every row anew (importing an export elsewhere).
    pub as_new: bool,
    /// A unit's older ledger: new findings keep the statuses the sheet gives them, closed
    /// ones included (admins only). The early-warning crossings of what it brings are
    /// recorded as history with [`Options::warnings`]' thresholds: nobody is alerted about
    /// deadlines that passed before rectrack knew of them.
    pub historical: bool,
    /// The early-warning thresholds in force (today, the GREEN and YELLOW windows).
    pub warnings: Option<crate::domain::workflow::warning::Thresholds>,
}

/// One problem, where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub sheet: String,
    /// The sheet's own row number, from 1.
    pub row: usize,
    /// The column heading, or empty for the row as a whole.
    pub column: String,
    /// The code the same refusal has everywhere else (BAD_USER_INPUT, CONFLICT, ...).
    pub code: &'static str,
    pub message: String,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub dry_run: bool,
    pub applied: bool,
    pub findings_created: usize,
    pub findings_updated: usize,
    pub measures_created: usize,
    pub measures_updated: usize,
    pub entries_added: usize,
    pub problems: Vec<Problem>,
    /// What is worth telling but changes nothing (a measure due after its finding).
    pub warnings: Vec<Problem>,
}

/// Imports a ledger file into an inspection the caller manages.
pub async fn import(
    db: &DatabaseConnection,
    who: &Acting,
    inspection_id: i32,
    file_name: &str,
    bytes: Vec<u8>,
    options: Options,
    limits: &ImportLimits,
) -> AppResult<Report> {
    who.require(Permission::ManageFindings)?;
    if options.historical {
        who.require(Permission::ImportHistory)?;
    }
    let inspection: inspection::Model = inspections::get(db, &who.caller, inspection_id).await?;
    scope::require_writable(db, &who.caller, inspection.unit_id).await?;
    let parsed = read(file_name, bytes, options, limits).await?;
    let options = Options {
        dry_run: options.dry_run || who.dry_run,
        ..options
    };
    let mut report = Report {
        dry_run: options.dry_run,
        problems: parsed.problems,
        ..Default::default()
    };
    // The check reads; only the apply step below writes, so only it holds the write lock
    // (SQLite has one for the whole database). What changes between the two is caught by
    // the commands themselves: versions are guarded, numbers unique.
    let check::Checked {
        plan,
        problems,
        warnings,
    } = check::check(
        db,
        who,
        &inspection,
        &parsed.sheet,
        &parsed.findings,
        options,
    )
    .await?;
    report.problems.extend(problems);
    report.warnings = warnings;
    // The commands run only on a sheet without problems so far (each finding's refusal is
    // then its own problem); otherwise the counts say what the sheet would change.
    let counts = if report.problems.is_empty() {
        let txn = db::begin_write(db).await?;
        let events_before = crate::audit::mark(&txn).await?;
        let (counts, problems) = apply::apply(
            &txn,
            who,
            &inspection,
            &parsed.sheet,
            &plan,
            options.historical,
        )
        .await?;
        report.problems.extend(problems);
        if options.historical
            && report.problems.is_empty()
            && let Some(thresholds) = &options.warnings
        {
            let findings = touched_findings(&txn, &events_before).await?;
            let recorded =
                crate::domain::workflow::alert::record_historical(&txn, who, thresholds, &findings)
                    .await?;
            tracing::info!(
                findings = findings.len(),
                recorded,
                "historical import: early-warning crossings recorded as history, nobody alerted"
            );
        }
        if options.dry_run || !report.problems.is_empty() {
            txn.rollback().await?;
        } else {
            db::commit(db, txn).await?;
            report.applied = true;
        }
        counts
    } else {
        apply::planned_counts(&plan)
    };
    report
        .problems
        .sort_by(|a, b| (a.row, &a.column).cmp(&(b.row, &b.column)));
    report.findings_created = counts.findings_created;
    report.findings_updated = counts.findings_updated;
    report.measures_created = counts.measures_created;
    report.measures_updated = counts.measures_updated;
    report.entries_added = counts.entries_added;
    Ok(report)
}

/// Reads and parses the file within the limits, off the async runtime: it is CPU work that
/// the limits bound but that can still take a good part of a second on a large ledger.
async fn read(
    file_name: &str,
    bytes: Vec<u8>,
    options: Options,
    limits: &ImportLimits,
) -> AppResult<parse::Parsed> {
    let format = Format::guess(file_name, &bytes);
    let limits = limits.clone();
    tokio::task::spawn_blocking(move || {
        let sheets = ledger_file::read(format, &bytes, &limits)?;
        parse::parse(&sheets, options)
    })
    .await
    .map_err(AppError::internal)?
}

/// The findings the import's changes concern: those the outbox events of its audited changes
/// (of a finding, its measures and ledger) name, recorded after `mark`.
async fn touched_findings(
    db: &impl sea_orm::ConnectionTrait,
    mark: &crate::audit::Mark,
) -> AppResult<Vec<i32>> {
    let mut findings: Vec<i32> = crate::audit::recorded_since(db, mark)
        .await?
        .iter()
        .filter_map(crate::domain::integration::events::of_audit)
        .filter_map(|row| row.finding_id)
        .collect();
    findings.sort_unstable();
    findings.dedup();
    Ok(findings)
}

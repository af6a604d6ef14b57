//! Importing a ledger spreadsheet (整改台账).

use std::io::Read;

use async_graphql::{Context, ID, Result, Upload};

use super::catalogue::{self, Fields};

use super::{ContextExt, parse_id};
use crate::config::Config;
use crate::domain::documents::ledger_import::{self, Options};
use crate::error::AppError;
use crate::ledger_file;

/// A problem found in an imported file, where it is.
pub struct ImportProblem {
    /// The sheet (CSV and JSON files have one).
    pub sheet: String,
    /// The spreadsheet row, from 1.
    pub row: i32,
    /// The column heading, or empty for the row as a whole.
    pub column: String,
    /// The code the same refusal has everywhere: BAD_USER_INPUT, CONFLICT, NOT_FOUND,
    /// FORBIDDEN, INVALID_TRANSITION.
    pub code: String,
    pub message: String,
}

impl catalogue::Object for ImportProblem {
    const NAME: &'static str = "ImportProblem";
    const DOC: &'static str = "A problem found in an imported file, where it is.";

    fn fields(f: &mut Fields<Self>) {
        f.value(
            "sheet",
            "The sheet (CSV and JSON files have one).",
            |r, _| r.sheet.clone(),
        );
        f.value("row", "The spreadsheet row, from 1.", |r, _| r.row);
        f.value(
            "column",
            "The column heading, or empty for the row as a whole.",
            |r, _| r.column.clone(),
        );
        f.value("code", "The code the same refusal has everywhere: BAD_USER_INPUT, CONFLICT, NOT_FOUND,\nFORBIDDEN, INVALID_TRANSITION.", |r, _| r.code.clone());
        f.value("message", "", |r, _| r.message.clone());
    }
}

crate::object!(ImportProblem);

/// What an import did, or (dry run, or with problems) would do.
pub struct ImportReport {
    /// True for a dry run: nothing was changed.
    pub dry_run: bool,
    /// True when the changes were made (no problems, not a dry run).
    pub applied: bool,
    pub findings_created: i32,
    pub findings_updated: i32,
    pub measures_created: i32,
    pub measures_updated: i32,
    /// Ledger entries added from the 整改进展 column.
    pub entries_added: i32,
    /// Every problem found; with any, nothing is changed.
    pub problems: Vec<ImportProblem>,
    /// What is worth telling but changes nothing, e.g. a measure due after its finding's
    /// deadline (MEASURE_DUE_AFTER_FINDING).
    pub warnings: Vec<ImportProblem>,
}

impl catalogue::Object for ImportReport {
    const NAME: &'static str = "ImportReport";
    const DOC: &'static str = "What an import did, or (dry run, or with problems) would do.";

    fn fields(f: &mut Fields<Self>) {
        f.value(
            "dryRun",
            "True for a dry run: nothing was changed.",
            |r, _| r.dry_run,
        );
        f.value(
            "applied",
            "True when the changes were made (no problems, not a dry run).",
            |r, _| r.applied,
        );
        f.value("findingsCreated", "", |r, _| r.findings_created);
        f.value("findingsUpdated", "", |r, _| r.findings_updated);
        f.value("measuresCreated", "", |r, _| r.measures_created);
        f.value("measuresUpdated", "", |r, _| r.measures_updated);
        f.value(
            "entriesAdded",
            "Ledger entries added from the 整改进展 column.",
            |r, _| r.entries_added,
        );
        f.nested(
            "problems",
            "Every problem found; with any, nothing is changed.",
            |r| &r.problems,
        );
        f.nested("warnings", "What is worth telling but changes nothing, e.g. a measure due after its finding's\ndeadline (MEASURE_DUE_AFTER_FINDING).", |r| &r.warnings);
    }
}

crate::object!(ImportReport);

impl From<ledger_import::Problem> for ImportProblem {
    fn from(p: ledger_import::Problem) -> Self {
        Self {
            sheet: p.sheet,
            row: p.row as i32,
            column: p.column,
            code: p.code.to_owned(),
            message: p.message,
        }
    }
}

impl From<ledger_import::Report> for ImportReport {
    fn from(r: ledger_import::Report) -> Self {
        Self {
            dry_run: r.dry_run,
            applied: r.applied,
            findings_created: r.findings_created as i32,
            findings_updated: r.findings_updated as i32,
            measures_created: r.measures_created as i32,
            measures_updated: r.measures_updated as i32,
            entries_added: r.entries_added as i32,
            problems: r.problems.into_iter().map(Into::into).collect(),
            warnings: r.warnings.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Default)]
pub struct LedgerMutation;

impl catalogue::Root for LedgerMutation {
    const NAME: &'static str = "LedgerMutation";

    fn fields(f: &mut catalogue::Roots) {
        use catalogue::param;
        f.field(
            "importLedger",
            "Imports a ledger spreadsheet (XLSX, CSV or JSON, sent with the GraphQL multipart request\n\
            spec) into an inspection: rectrack's export, or a unit's own with the usual headings in\n\
            any order. Rows with ids update (checked against their versions), rows without create.\n\
            Every problem is reported by sheet, row and column, and with any (or with `dryRun`)\n\
            nothing changes; otherwise all changes are made in one transaction. `asNew` ignores ids\n\
            and versions (to copy an export into another inspection). Statuses move through the\n\
            close-out workflow (a status the caller may not reach is an INVALID_TRANSITION problem\n\
            of its row), so an import never closes a finding by itself; `historical` (admins only)\n\
            brings in a unit's older ledger, creating its new findings with the statuses it gives\n\
            them, closed ones included, marked as historical in the ledger and the audit trail.\n\
            Managers within their subtree, admins.",
            (
                param::<ID>("inspectionId"),
                param::<Upload>("file"),
                param::<bool>("dryRun").or(Default::default),
                param::<bool>("asNew").or(Default::default),
                param::<bool>("historical").or(Default::default),
            ),
            |ctx, (inspection_id, file, dry_run, as_new, historical)| {
                Box::pin(Self::import_ledger(ctx, inspection_id, file, dry_run, as_new, historical))
            },
        );
    }
}

crate::root!(LedgerMutation);

impl LedgerMutation {
    async fn import_ledger(
        ctx: &Context<'_>,
        inspection_id: ID,
        file: Upload,
        dry_run: bool,
        as_new: bool,
        historical: bool,
    ) -> Result<ImportReport> {
        let id = parse_id("inspectionId", &inspection_id)?;
        let mut upload = file
            .value(ctx)
            .map_err(|_| AppError::bad_input("file", t!("upload-missing")))?;
        let limits = &ctx.data_unchecked::<std::sync::Arc<Config>>().import;
        // The upload is on disk already (the body limit bounds it); its size is checked
        // against the import's own limit before it is read into memory.
        let size = upload.size().map_err(AppError::internal)?;
        ledger_file::Budget::new(limits).file(usize::try_from(size).unwrap_or(usize::MAX))?;
        let mut bytes = Vec::with_capacity(size as usize);
        upload
            .content
            .read_to_end(&mut bytes)
            .map_err(AppError::internal)?;
        let options = Options {
            dry_run,
            as_new,
            historical,
            warnings: Some(crate::domain::workflow::warning::Thresholds::from_config(
                ctx.data_unchecked::<std::sync::Arc<Config>>(),
            )),
        };
        let report = ledger_import::import(
            ctx.db(),
            &ctx.acting(),
            id,
            &upload.filename,
            bytes,
            options,
            limits,
        )
        .await?;
        Ok(report.into())
    }
}

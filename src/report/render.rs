//! The one switch from a document and a format to bytes: every surface that hands out a report,
//! a bulletin or a ledger (GraphQL fields, REST downloads, the public pages, the command line)
//! renders through [`render`], so a format means the same everywhere.

use super::{Snapshot, bulletin, docx, ledger, markdown, xlsx};
use crate::error::{AppError, AppResult};

/// What is rendered.
#[derive(Clone, Copy)]
pub enum Document<'a> {
    /// A semi-monthly progress report (整改情况报告).
    Report(&'a Snapshot),
    /// A public bulletin (通报).
    Bulletin(&'a Snapshot),
    /// An inspection's ledger as it stands, for export and re-import.
    Ledger(&'a Snapshot),
    /// The same ledger in the layout units print and file (整改台账).
    PrintedLedger(&'a Snapshot),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Xlsx,
    Markdown,
    Html,
    /// A Word document laid out as an official document (GB/T 9704).
    Docx,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Markdown => "md",
            Format::Html => "html",
            Format::Docx => "docx",
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Markdown => "text/markdown; charset=utf-8",
            Format::Html => "text/html; charset=utf-8",
            Format::Docx => docx::MEDIA_TYPE,
        }
    }

    /// The format named `asked` among `allowed` (the first is the default), or
    /// `BAD_USER_INPUT` naming them.
    pub fn choose(asked: Option<&str>, allowed: &[Format]) -> AppResult<Format> {
        let Some(asked) = asked else {
            return allowed
                .first()
                .copied()
                .ok_or_else(|| AppError::internal("a document without formats"));
        };
        let wanted = match asked.trim().to_ascii_lowercase().as_str() {
            "json" => Some(Format::Json),
            "csv" => Some(Format::Csv),
            "xlsx" => Some(Format::Xlsx),
            "md" | "markdown" => Some(Format::Markdown),
            "html" => Some(Format::Html),
            "docx" => Some(Format::Docx),
            _ => None,
        };
        match wanted.filter(|f| allowed.contains(f)) {
            Some(format) => Ok(format),
            None => {
                let names: Vec<&str> = allowed.iter().map(|f| f.name()).collect();
                Err(AppError::bad_input(
                    "format",
                    t!("format-unknown", asked = asked, known = names.join(", ")),
                ))
            }
        }
    }
}

impl Document<'_> {
    /// The formats a document comes in; the first is its default.
    pub fn formats(&self) -> &'static [Format] {
        match self {
            Document::Report(_) => &[
                Format::Json,
                Format::Csv,
                Format::Xlsx,
                Format::Markdown,
                Format::Docx,
            ],
            Document::Bulletin(_) => &[
                Format::Json,
                Format::Csv,
                Format::Xlsx,
                Format::Markdown,
                Format::Html,
                Format::Docx,
            ],
            Document::Ledger(_) => &[Format::Xlsx, Format::Csv, Format::Json],
            // The workbook is laid out for printing; CSV and JSON carry its table (one row per
            // finding), which the import reads back too. Every format the contract lists for
            // the ledger is served for both layouts.
            Document::PrintedLedger(_) => &[Format::Xlsx, Format::Csv, Format::Json],
        }
    }

    fn snapshot(&self) -> &Snapshot {
        match self {
            Document::Report(s)
            | Document::Bulletin(s)
            | Document::Ledger(s)
            | Document::PrintedLedger(s) => s,
        }
    }
}

/// The document in `format`, which must be one of its [`Document::formats`].
pub fn render(document: Document<'_>, format: Format) -> AppResult<Vec<u8>> {
    if !document.formats().contains(&format) {
        return Err(AppError::bad_input(
            "format",
            t!("format-not-offered", format = format.name()),
        ));
    }
    let snapshot = document.snapshot();
    let xlsx_failed = |e| AppError::internal(format!("writing a workbook: {e}"));
    Ok(match (document, format) {
        (Document::Ledger(_), Format::Json) => {
            serde_json::to_vec_pretty(&ledger::json(&ledger::machine_rows(snapshot)))
                .map_err(AppError::internal)?
        }
        (Document::Ledger(_), Format::Csv) => {
            ledger::write_csv(ledger::machine_rows(snapshot)).into_bytes()
        }
        (Document::PrintedLedger(_), Format::Json) => {
            serde_json::to_vec_pretty(&ledger::json(&ledger::report_rows(snapshot)))
                .map_err(AppError::internal)?
        }
        (Document::PrintedLedger(_), Format::Csv) => {
            ledger::write_csv(ledger::report_rows(snapshot)).into_bytes()
        }
        (Document::PrintedLedger(_), _) => xlsx::printed(snapshot).map_err(xlsx_failed)?,
        (Document::Ledger(_), _) => {
            xlsx::table(&ledger::machine_rows(snapshot)).map_err(xlsx_failed)?
        }
        (Document::Bulletin(_), Format::Docx) => docx::bulletin::render(snapshot)?,
        (_, Format::Docx) => docx::progress::render(snapshot)?,
        (_, Format::Json) => serde_json::to_vec_pretty(snapshot).map_err(AppError::internal)?,
        (_, Format::Csv) => ledger::write_csv(ledger::report_rows(snapshot)).into_bytes(),
        (_, Format::Xlsx) => xlsx::render(snapshot).map_err(xlsx_failed)?,
        (Document::Bulletin(_), Format::Markdown) => bulletin::markdown(snapshot).into_bytes(),
        (_, Format::Markdown) => markdown::render(snapshot).into_bytes(),
        (_, Format::Html) => bulletin::html(snapshot).into_bytes(),
    })
}

/// [`render`] as text (for the GraphQL fields that hand out a rendering inline).
pub fn render_text(document: Document<'_>, format: Format) -> AppResult<String> {
    String::from_utf8(render(document, format)?).map_err(AppError::internal)
}

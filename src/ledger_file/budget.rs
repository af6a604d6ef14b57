//! What reading one ledger file may cost, counted as the file is read and refused at the first
//! step past a limit, before that step allocates: the file's bytes before anything, an XLSX
//! archive's inflated bytes before calamine parses a part, then sheets, rows, columns, cells and
//! the length of each cell's text as they stream in. A sheet's declared dimension is never
//! trusted (a two-kilobyte workbook may declare A1:XFD1048576): rows are allocated only up to
//! the last value actually read, and that value has been checked against the limits first.

use std::io::{Read, Seek};

use crate::config::ImportLimits;
use crate::error::{AppError, AppResult};

/// The limits and what has been spent of them so far.
pub struct Budget<'a> {
    limits: &'a ImportLimits,
    rows: usize,
    cells: usize,
}

/// Most parts an XLSX archive may have: a workbook has a dozen, plus one or two per sheet.
const MAX_PARTS: usize = 1_000;

/// `BAD_USER_INPUT` on the file, naming the limit passed (its key in the messages), what the
/// file holds and the most allowed.
fn over(limit: &str, found: impl ToString, max: impl ToString) -> AppError {
    let what = crate::i18n::message(&format!("import-limit-{limit}"), &[]);
    AppError::bad_input(
        "file",
        t!(
            "import-over-limit",
            limit = what,
            found = found.to_string(),
            max = max.to_string()
        ),
    )
}

impl<'a> Budget<'a> {
    pub fn new(limits: &'a ImportLimits) -> Self {
        Self {
            limits,
            rows: 0,
            cells: 0,
        }
    }

    /// The file as sent.
    pub fn file(&self, bytes: usize) -> AppResult<()> {
        if bytes > self.limits.import_max_file_bytes {
            return Err(over("file-bytes", bytes, self.limits.import_max_file_bytes));
        }
        Ok(())
    }

    /// An XLSX archive: at most [`MAX_PARTS`] parts, which inflate to at most the limit
    /// together. Every part is inflated once into nothing and counted, because the sizes an
    /// archive declares can lie; the count stops at the limit, so a bomb costs at most that.
    pub fn archive<R: Read + Seek>(&self, reader: R) -> AppResult<()> {
        let unreadable = |e: calamine_zip::result::ZipError| {
            AppError::bad_input("file", t!("file-not-xlsx", detail = e.to_string()))
        };
        let mut archive = calamine_zip::ZipArchive::new(reader).map_err(unreadable)?;
        if archive.len() > MAX_PARTS {
            return Err(over("parts", archive.len(), MAX_PARTS));
        }
        let max = self.limits.import_max_inflated_bytes;
        // What the archive declares first: the cheap refusal of an honest bomb.
        let mut declared: u64 = 0;
        for index in 0..archive.len() {
            let part = archive.by_index_raw(index).map_err(unreadable)?;
            declared = declared.saturating_add(part.size());
        }
        if declared > max {
            return Err(over("inflated-bytes", declared, max));
        }
        let mut inflated: u64 = 0;
        for index in 0..archive.len() {
            let part = archive.by_index(index).map_err(unreadable)?;
            let room = max - inflated;
            let read =
                std::io::copy(&mut part.take(room + 1), &mut std::io::sink()).map_err(|e| {
                    AppError::bad_input("file", t!("file-not-xlsx", detail = e.to_string()))
                })?;
            if read > room {
                return Err(over("inflated-bytes", format!("> {max}"), max));
            }
            inflated += read;
        }
        Ok(())
    }

    pub fn sheets(&self, count: usize) -> AppResult<()> {
        if count > self.limits.import_max_sheets {
            return Err(over("sheets", count, self.limits.import_max_sheets));
        }
        Ok(())
    }

    /// A row at `index` (from 0) of a sheet that has used `used` rows so far: refused when the
    /// file's rows, all sheets together, would pass the limit.
    pub fn row(&self, index: usize, used: usize) -> AppResult<()> {
        let total = self.rows.saturating_add(index.max(used) + 1);
        if index >= self.limits.import_max_rows || total > self.limits.import_max_rows {
            return Err(over("rows", total, self.limits.import_max_rows));
        }
        Ok(())
    }

    /// A sheet's rows are spent once it has been read.
    pub fn sheet_read(&mut self, rows: usize) {
        self.rows = self.rows.saturating_add(rows);
    }

    /// A row of `count` columns.
    pub fn columns(&self, count: usize) -> AppResult<()> {
        if count > self.limits.import_max_columns {
            return Err(over("columns", count, self.limits.import_max_columns));
        }
        Ok(())
    }

    /// A value at column `column` (from 0) holding `text`.
    pub fn cell(&mut self, column: usize, text: &str) -> AppResult<()> {
        self.columns(column + 1)?;
        self.cells += 1;
        if self.cells > self.limits.import_max_cells {
            return Err(over("cells", self.cells, self.limits.import_max_cells));
        }
        // Bytes bound characters from above: count only when the bytes could be too many.
        if text.len() > self.limits.import_max_cell_chars {
            let chars = text.chars().count();
            if chars > self.limits.import_max_cell_chars {
                return Err(over("cell-chars", chars, self.limits.import_max_cell_chars));
            }
        }
        Ok(())
    }
}

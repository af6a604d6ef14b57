//! Reading ledger spreadsheets (整改台账) as they come: XLSX (merged cells read as blanks under
//! their first cell), CSV (with or without a byte-order mark) and JSON (an array of objects
//! keyed by column heading); and the small parsers for what units write in them — dates as
//! 2020年10月19日, 2020.10.19 or 2020-10-19 (or Excel date numbers), statuses in Chinese.

use std::io::Cursor;

use calamine::{DataRef, Reader, Xlsx};
use chrono::NaiveDate;

use crate::config::ImportLimits;
use crate::error::{AppError, AppResult};

mod budget;
mod encoding;
mod json;
pub use budget::Budget;

/// The columns of a ledger, as the import reads them and the export writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Col {
    Ordinal,
    Title,
    Measure,
    Leader,
    Department,
    Person,
    Deadline,
    Progress,
    Status,
    Category,
    Description,
    Kind,
    Disclosed,
    MeasureOrdinal,
    MeasureStatus,
    MeasureDeadline,
    CompletedOn,
    FindingId,
    FindingVersion,
    MeasureId,
    MeasureVersion,
}

/// Headings a unit may use for each column; the first is the one rectrack writes. The order is
/// the export's: the unit's columns first, then what a re-import needs (ids and versions).
pub const HEADINGS: [(Col, &[&str]); 21] = [
    (Col::Ordinal, &["序号", "编号", "序"]),
    (
        Col::Title,
        &["问题", "存在问题", "反馈问题", "问题清单", "巡察反馈问题"],
    ),
    (Col::Measure, &["整改措施", "措施"]),
    (Col::Leader, &["责任领导", "分管领导"]),
    (
        Col::Department,
        &["责任科室", "责任部门", "责任单位", "牵头科室"],
    ),
    (Col::Person, &["责任人"]),
    (Col::Deadline, &["整改时限", "完成时限", "时限"]),
    (
        Col::Progress,
        &["整改进展", "进展情况", "整改情况", "整改进度"],
    ),
    (Col::Status, &["状态", "整改状态", "完成情况"]),
    (Col::Category, &["方面", "问题类别", "类别"]),
    (Col::Description, &["问题描述", "具体表现"]),
    (Col::Kind, &["整改类型", "类型"]),
    (Col::Disclosed, &["通报公开", "是否公开"]),
    (Col::MeasureOrdinal, &["措施序号"]),
    (Col::MeasureStatus, &["措施状态"]),
    (Col::MeasureDeadline, &["措施时限"]),
    (Col::CompletedOn, &["完成日期", "完成时间"]),
    (Col::FindingId, &["问题ID", "问题id"]),
    (Col::FindingVersion, &["问题版本"]),
    (Col::MeasureId, &["措施ID", "措施id"]),
    (Col::MeasureVersion, &["措施版本"]),
];

/// The heading rectrack writes for a column (problems name columns by it).
pub fn heading(col: Col) -> &'static str {
    HEADINGS
        .iter()
        .find(|(c, _)| *c == col)
        .map_or("", |(_, names)| names[0])
}

/// One sheet of text cells; `rows[i]` is spreadsheet row `i + 1`.
pub struct Sheet {
    pub name: String,
    pub rows: Vec<Vec<String>>,
}

/// The format of a ledger file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xlsx,
    Csv,
    Json,
}

impl Format {
    /// By file name, then by content (XLSX files are ZIP archives; JSON starts with `[`).
    pub fn guess(name: &str, bytes: &[u8]) -> Format {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".xlsx") || bytes.starts_with(b"PK\x03\x04") {
            Format::Xlsx
        } else if lower.ends_with(".json")
            || bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[')
        {
            Format::Json
        } else {
            Format::Csv
        }
    }
}

fn cell_text(cell: &DataRef<'_>) -> String {
    match cell {
        DataRef::Empty => String::new(),
        // A text rectrack's CSV quoted (the file saved again as a workbook) reads as written.
        DataRef::String(s) => crate::spreadsheet::restore(s.trim()).to_owned(),
        DataRef::SharedString(s) => crate::spreadsheet::restore(s.trim()).to_owned(),
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        DataRef::Float(f) => f.to_string(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Bool(b) => b.to_string(),
        // An Excel date: its day number, which `parse_date` reads.
        DataRef::DateTime(d) => format!("{}", d.as_f64().floor() as i64),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::Error(e) => format!("#{e:?}"),
    }
}

/// Puts a value where the sheet has it, once the budget allows it; empty values take nothing.
fn place(
    rows: &mut Vec<Vec<String>>,
    budget: &mut Budget<'_>,
    row: usize,
    column: usize,
    text: String,
) -> AppResult<()> {
    if text.is_empty() {
        return Ok(());
    }
    budget.row(row, rows.len())?;
    budget.cell(column, &text)?;
    if rows.len() <= row {
        rows.resize_with(row + 1, Vec::new);
    }
    let cells = &mut rows[row];
    if cells.len() <= column {
        cells.resize_with(column + 1, String::new);
    }
    cells[column] = text;
    Ok(())
}

/// Reads every sheet of a file within the import limits. Parsing a file is CPU work bounded
/// by those limits; callers run it off the async runtime.
pub fn read(format: Format, bytes: &[u8], limits: &ImportLimits) -> AppResult<Vec<Sheet>> {
    let mut budget = Budget::new(limits);
    budget.file(bytes.len())?;
    match format {
        Format::Xlsx => read_xlsx(bytes, &mut budget),
        Format::Csv => read_csv(bytes, &mut budget),
        Format::Json => json::read(bytes, &mut budget),
    }
}

fn read_xlsx(bytes: &[u8], budget: &mut Budget<'_>) -> AppResult<Vec<Sheet>> {
    // Inflating every part once, into nothing, before calamine reads any: it keeps the
    // shared strings whole, so an archive's inflated size is its memory.
    budget.archive(Cursor::new(bytes))?;
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes))
        .map_err(|e| AppError::bad_input("file", t!("file-not-xlsx", detail = e.to_string())))?;
    let names = workbook.sheet_names();
    budget.sheets(names.len())?;
    let mut sheets = Vec::with_capacity(names.len());
    for name in names {
        let bad_sheet = |e: calamine::XlsxError| {
            AppError::bad_input(
                "file",
                t!("file-bad-sheet", sheet = &name, detail = e.to_string()),
            )
        };
        // Cell by cell, never the sheet's declared rectangle. A merged area's value is in
        // its first cell and the rest read as blanks.
        let mut cells = workbook.worksheet_cells_reader(&name).map_err(bad_sheet)?;
        let mut rows: Vec<Vec<String>> = Vec::new();
        while let Some(cell) = cells.next_cell().map_err(bad_sheet)? {
            let (row, column) = cell.get_position();
            let text = cell_text(cell.get_value());
            place(&mut rows, budget, row as usize, column as usize, text)?;
        }
        drop(cells);
        budget.sheet_read(rows.len());
        sheets.push(Sheet { name, rows });
    }
    Ok(sheets)
}

fn read_csv(bytes: &[u8], budget: &mut Budget<'_>) -> AppResult<Vec<Sheet>> {
    let text = encoding::decode(bytes)?;
    let text = text.trim_start_matches('\u{FEFF}');
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(encoding::delimiter(text))
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        let more = reader
            .read_record(&mut record)
            .map_err(|e| AppError::bad_input("file", t!("file-not-csv", detail = e.to_string())))?;
        if !more {
            break;
        }
        let row = rows.len();
        budget.row(row, row)?;
        // Every field counts for the columns, empty ones too: a line of commas is wide.
        budget.columns(record.len())?;
        let mut cells = Vec::with_capacity(record.len().min(64));
        for (column, cell) in record.iter().enumerate() {
            let cell = crate::spreadsheet::restore(cell.trim());
            if !cell.is_empty() {
                budget.cell(column, cell)?;
            }
            cells.push(cell.to_owned());
        }
        rows.push(cells);
    }
    budget.sheet_read(rows.len());
    Ok(vec![Sheet {
        name: "CSV".to_owned(),
        rows,
    }])
}

/// Full-width digits, letters and punctuation (０-９, ．, ／, －, the ideographic space) as
/// their half-width forms: what a Chinese input method types in a number or a date.
pub fn half_width(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .collect()
}

/// A date as units write it: 2020-10-19, 2020/10/19, 2020.10.19, 2020年10月19日 (in full-width
/// digits too), or an Excel date number. `Ok(None)` for an empty cell.
pub fn parse_date(text: &str) -> Result<Option<NaiveDate>, String> {
    let original = text.trim();
    if original.is_empty() {
        return Ok(None);
    }
    let half = half_width(original);
    let t = half.trim();
    if let Ok(serial) = t.parse::<f64>()
        && (20_000.0..80_000.0).contains(&serial)
    {
        // Excel's day 1 is 1900-01-01, and it counts a 29 February 1900 that never was.
        let base = NaiveDate::from_ymd_opt(1899, 12, 30).ok_or("1899-12-30")?;
        return Ok(base.checked_add_days(chrono::Days::new(serial as u64)));
    }
    let cleaned: String = t
        .replace(['年', '月', '.', '/'], "-")
        .replace('日', "")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let parts: Vec<&str> = cleaned.split('-').filter(|p| !p.is_empty()).collect();
    if let [y, m, d] = parts.as_slice()
        && let (Ok(y), Ok(m), Ok(d)) = (y.parse::<i32>(), m.parse::<u32>(), d.parse::<u32>())
        && let Some(date) = NaiveDate::from_ymd_opt(y, m, d)
    {
        return Ok(Some(date));
    }
    Err(t!("not-a-date", text = original))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_read_as_units_write_them() {
        let d = NaiveDate::from_ymd_opt(2020, 10, 19);
        assert_eq!(parse_date("2020年10月19日"), Ok(d));
        assert_eq!(parse_date("2020.10.19"), Ok(d));
        assert_eq!(parse_date("2020-10-19"), Ok(d));
        assert_eq!(parse_date("2020/10/19"), Ok(d));
        assert_eq!(parse_date(" 2020 年 10 月 19 日 "), Ok(d));
        assert_eq!(parse_date("44123"), Ok(d));
        assert_eq!(parse_date("２０２０年１０月１９日"), Ok(d));
        assert_eq!(parse_date("２０２０．１０．１９"), Ok(d));
        assert_eq!(parse_date("２０２０／１０／１９"), Ok(d));
        assert_eq!(parse_date(""), Ok(None));
        assert!(parse_date("2020-02-30").is_err());
        assert!(parse_date("下月底").is_err());
    }
}

//! Workbooks: the report's (the ledger sheet 整改台账 with the unit's columns, and a summary
//! sheet 汇总), and the export's (one sheet of rows, read back by the import).

use rust_xlsxwriter::{Format, FormatAlign, Workbook, XlsxError};

use super::Snapshot;
use super::ledger::report_rows;

pub const LEDGER_SHEET: &str = "整改台账";
pub const SUMMARY_SHEET: &str = "汇总";

/// Rows of text (the first one the header, bold) on one sheet.
pub fn table(rows: &[Vec<String>]) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap();
    let sheet = workbook.add_worksheet().set_name(LEDGER_SHEET)?;
    for (r, row) in rows.iter().enumerate() {
        for (c, value) in row.iter().enumerate() {
            let format = if r == 0 { &bold } else { &wrap };
            sheet.write_string_with_format(r as u32, c as u16, value, format)?;
        }
    }
    workbook.save_to_buffer()
}

pub fn render(s: &Snapshot) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let header = Format::new()
        .set_bold()
        .set_align(FormatAlign::Center)
        .set_text_wrap();
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);

    let sheet = workbook.add_worksheet().set_name(LEDGER_SHEET)?;
    for (col, width) in [6.0, 40.0, 60.0, 12.0, 14.0, 12.0, 12.0, 50.0, 10.0]
        .into_iter()
        .enumerate()
    {
        sheet.set_column_width(col as u16, width)?;
    }
    for (r, row) in report_rows(s).iter().enumerate() {
        let format = if r == 0 { &header } else { &wrap };
        for (col, value) in row.iter().enumerate() {
            sheet.write_string_with_format(r as u32, col as u16, value, format)?;
        }
    }
    sheet.set_freeze_panes(1, 0)?;

    let m = &s.summary;
    let summary = workbook.add_worksheet().set_name(SUMMARY_SHEET)?;
    summary.write_string_with_format(0, 0, "项目", &header)?;
    summary.write_string_with_format(0, 1, "数值", &header)?;
    summary.set_column_width(0, 24.0)?;
    summary.set_column_width(1, 14.0)?;
    let lines: [(&str, f64); 10] = [
        ("问题总数", m.total as f64),
        ("已销号", m.closed as f64),
        ("待审核", m.pending_review as f64),
        ("整改中", m.in_progress as f64),
        ("未开始", m.not_started as f64),
        ("逾期", m.overdue as f64),
        ("整改措施总数", m.measures_total as f64),
        ("已完成措施", m.measures_done as f64),
        ("完成率", m.completion_rate),
        ("建立完善制度", m.regulations as f64),
    ];
    for (r, (label, value)) in lines.iter().enumerate() {
        summary.write_string(r as u32 + 1, 0, *label)?;
        summary.write_number(r as u32 + 1, 1, *value)?;
    }
    summary.write_string(lines.len() as u32 + 2, 0, "报告期截至")?;
    summary.write_string(lines.len() as u32 + 2, 1, s.period_end.to_string())?;
    workbook.save_to_buffer()
}

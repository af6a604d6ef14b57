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
            let value = crate::spreadsheet::for_workbook(value);
            sheet.write_string_with_format(r as u32, c as u16, value.as_ref(), format)?;
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
            let value = crate::spreadsheet::for_workbook(value);
            sheet.write_string_with_format(r as u32, col as u16, value.as_ref(), format)?;
        }
    }
    sheet.set_freeze_panes(1, 0)?;

    let m = &s.summary;
    let summary = workbook.add_worksheet().set_name(SUMMARY_SHEET)?;
    summary.write_string_with_format(0, 0, "项目", &header)?;
    summary.write_string_with_format(0, 1, "数值", &header)?;
    summary.set_column_width(0, 24.0)?;
    summary.set_column_width(1, 14.0)?;
    let lines: [(&str, f64); 19] = [
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
        ("召开会议", m.meetings as f64),
        ("目标总数", m.targets_total as f64),
        ("目标达标", m.targets_met as f64),
        ("问题反弹", m.relapsed as f64),
        ("公众反馈", m.feedback_received as f64),
        ("已答复反馈", m.feedback_answered as f64),
        ("已关联问题的反馈", m.feedback_linked as f64),
        ("督办件数", m.supervision_issued as f64),
        ("逾期未复", m.supervision_overdue as f64),
    ];
    for (r, (label, value)) in lines.iter().enumerate() {
        summary.write_string(r as u32 + 1, 0, *label)?;
        summary.write_number(r as u32 + 1, 1, *value)?;
    }
    // 按期回复率 is blank while no order is due (a 0 would read as none replied in time).
    let rate_row = lines.len() as u32 + 1;
    summary.write_string(rate_row, 0, "按期回复率")?;
    if let Some(rate) = m.supervision_on_time_rate {
        summary.write_number(rate_row, 1, rate)?;
    }
    summary.write_string(lines.len() as u32 + 3, 0, "报告期截至")?;
    summary.write_string(lines.len() as u32 + 3, 1, s.period_end.to_string())?;
    // What an exchanged unit's figures stand on (its last bundle as of the report).
    for (n, sentence) in s.exchanged_sentences().enumerate() {
        let row = lines.len() as u32 + 4 + n as u32;
        summary.write_string(row, 0, "数据来源")?;
        summary.write_string(row, 1, crate::spreadsheet::for_workbook(sentence).as_ref())?;
    }
    workbook.save_to_buffer()
}

/// The columns of the printed ledger, with their widths.
pub const PRINTED_COLUMNS: [(&str, f64); 9] = [
    ("序号", 6.0),
    ("问题", 36.0),
    ("整改措施", 48.0),
    ("责任领导", 10.0),
    ("责任单位", 12.0),
    ("责任人", 10.0),
    ("整改时限", 14.0),
    ("完成情况", 20.0),
    ("佐证材料", 22.0),
];

/// What a cell holds at most (Excel refuses more than 32,767 characters).
const CELL_CHARS: usize = 32_000;

/// `text` cut to what a cell holds, saying so.
fn cell_text(text: String) -> String {
    if text.chars().count() <= CELL_CHARS {
        text
    } else {
        text.chars().take(CELL_CHARS).collect::<String>() + "……（余略）"
    }
}

/// Rows above the header: the title and the inspection line.
const PRINTED_TOP: u32 = 2;

fn excel_date(date: chrono::NaiveDate) -> Result<rust_xlsxwriter::ExcelDateTime, XlsxError> {
    use chrono::Datelike;
    rust_xlsxwriter::ExcelDateTime::from_ymd(
        date.year() as u16,
        date.month() as u8,
        date.day() as u8,
    )
}

/// The formats of a printed table (the ledger's and the lists'): bordered cells wrapped at the
/// top, a centred bold shaded header, bold grey group rows, a large centred title and a plain
/// line under it.
pub struct Printed {
    pub cell: Format,
    pub header: Format,
    pub group: Format,
    pub title: Format,
    pub line: Format,
}

impl Default for Printed {
    fn default() -> Self {
        use rust_xlsxwriter::{Color, FormatBorder};
        let cell = Format::new()
            .set_text_wrap()
            .set_align(FormatAlign::Top)
            .set_border(FormatBorder::Thin);
        Self {
            header: cell
                .clone()
                .set_align(FormatAlign::Center)
                .set_bold()
                .set_background_color(Color::RGB(0xD9E1F2)),
            group: cell
                .clone()
                .set_bold()
                .set_background_color(Color::RGB(0xF2F2F2)),
            title: Format::new()
                .set_bold()
                .set_font_size(16)
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter),
            line: Format::new().set_align(FormatAlign::Left),
            cell,
        }
    }
}

/// The printed ledger (整改台账) as units file it: a title row, the inspection and unit, the
/// header (frozen, repeated on every printed page), then under each heading's group row one row
/// per measure, the finding's cells merged over its measures; deadlines and completion dates
/// as real dates; landscape A4, fitted to the page width.
pub fn printed(s: &Snapshot) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let Printed {
        cell,
        header,
        group,
        title,
        line,
    } = Printed::default();
    let centred = cell.clone().set_align(FormatAlign::Center);
    let date = cell.clone().set_num_format("yyyy\"年\"m\"月\"d\"日\"");
    let last_col = PRINTED_COLUMNS.len() as u16 - 1;

    let sheet = workbook.add_worksheet().set_name(LEDGER_SHEET)?;
    for (col, (_, width)) in PRINTED_COLUMNS.iter().enumerate() {
        sheet.set_column_width(col as u16, *width)?;
    }
    let i = &s.inspection;
    sheet.set_row_height(0, 30)?;
    sheet.merge_range(
        0,
        0,
        0,
        last_col,
        &format!("{}巡察整改台账", i.unit_name),
        &title,
    )?;
    sheet.merge_range(
        1,
        0,
        1,
        last_col,
        &s.exchanged_sentences().fold(
            format!(
                "巡察：{}（{}）　　被巡察单位：{}　　截至：{}",
                i.title,
                i.inspection_group,
                i.unit_name,
                super::chinese_date(s.period_end)
            ),
            |line, sentence| format!("{line}　　{sentence}"),
        ),
        &line,
    )?;
    for (col, (name, _)) in PRINTED_COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(PRINTED_TOP, col as u16, *name, &header)?;
    }
    let mut row = PRINTED_TOP + 1;
    for (n, category) in s.categories.iter().enumerate() {
        let heading = match &category.title {
            Some(t) => format!("{}、{t}", super::chinese_number(n as i32 + 1)),
            None => "其他问题".to_owned(),
        };
        sheet.merge_range(row, 0, row, last_col, &heading, &group)?;
        row += 1;
        for f in &category.findings {
            let span = f.measures.len().max(1) as u32;
            let (first, last) = (row, row + span - 1);
            let finding_cell = |sheet: &mut rust_xlsxwriter::Worksheet,
                                col: u16,
                                text: &str,
                                format: &Format|
             -> Result<(), XlsxError> {
                if first == last {
                    sheet.write_string_with_format(first, col, text, format)?;
                } else {
                    sheet.merge_range(first, col, last, col, text, format)?;
                }
                Ok(())
            };
            finding_cell(sheet, 0, &f.ordinal.to_string(), &centred)?;
            let problem = if f.description.is_empty() {
                f.title.clone()
            } else {
                format!("{}\n{}", f.title, f.description)
            };
            finding_cell(sheet, 1, &cell_text(problem), &cell)?;
            finding_cell(
                sheet,
                3,
                f.responsible_leader.as_deref().unwrap_or(""),
                &centred,
            )?;
            // Evidence recorded on the finding rather than on one measure, with its first row.
            let loose: Vec<&str> = f
                .progress
                .iter()
                .filter(|e| e.measure_id.is_none())
                .flat_map(|e| e.evidence.iter().map(String::as_str))
                .collect();
            if f.measures.is_empty() {
                sheet.write_string_with_format(row, 2, "", &cell)?;
                sheet.write_string_with_format(row, 4, &f.department, &centred)?;
                sheet.write_string_with_format(
                    row,
                    5,
                    f.responsible_person.as_deref().unwrap_or(""),
                    &centred,
                )?;
                match f.deadline {
                    Some(d) => sheet.write_date_with_format(row, 6, excel_date(d)?, &date)?,
                    None => sheet.write_string_with_format(row, 6, "", &cell)?,
                };
                sheet.write_string_with_format(row, 7, super::status_zh(&f.status), &cell)?;
                sheet.write_string_with_format(row, 8, cell_text(loose.join("\n")), &cell)?;
            }
            for (k, m) in f.measures.iter().enumerate() {
                let r = row + k as u32;
                sheet.write_string_with_format(
                    r,
                    2,
                    super::ledger::measure_line(m.ordinal, &m.content),
                    &cell,
                )?;
                sheet.write_string_with_format(
                    r,
                    4,
                    m.department.as_deref().unwrap_or(&f.department),
                    &centred,
                )?;
                sheet.write_string_with_format(
                    r,
                    5,
                    f.responsible_person.as_deref().unwrap_or(""),
                    &centred,
                )?;
                match m.deadline.or(f.deadline) {
                    Some(d) => sheet.write_date_with_format(r, 6, excel_date(d)?, &date)?,
                    None => sheet.write_string_with_format(r, 6, "", &cell)?,
                };
                let done = match m.completed_on {
                    Some(d) => format!(
                        "{}（{}）",
                        super::measure_status_zh(&m.status),
                        super::chinese_date(d)
                    ),
                    None => super::measure_status_zh(&m.status),
                };
                sheet.write_string_with_format(r, 7, done, &cell)?;
                let mut evidence: Vec<&str> = f
                    .progress
                    .iter()
                    .filter(|e| m.id.is_some() && e.measure_id == m.id)
                    .flat_map(|e| e.evidence.iter().map(String::as_str))
                    .collect();
                if k == 0 {
                    evidence.extend(&loose);
                }
                sheet.write_string_with_format(r, 8, cell_text(evidence.join("\n")), &cell)?;
            }
            row += span;
        }
    }
    sheet.set_freeze_panes(PRINTED_TOP + 1, 0)?;
    sheet.set_repeat_rows(PRINTED_TOP, PRINTED_TOP)?;
    sheet.set_print_area(0, 0, row.saturating_sub(1).max(PRINTED_TOP), last_col)?;
    sheet.set_landscape();
    sheet.set_paper_size(9);
    sheet.set_print_fit_to_pages(1, 0);
    sheet.set_print_center_horizontally(true);
    sheet.set_footer("&C第 &P 页，共 &N 页");
    workbook.save_to_buffer()
}

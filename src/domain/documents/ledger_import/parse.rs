//! Reading a ledger sheet into findings and measures: pure (no database), so that every rule
//! about cells can be tested on a sheet built in code.
//!
//! A row names a finding by its id, its number (序号) or its text (问题); a row that names the
//! same finding as the row above, or none, continues it (merged cells read as blanks) and adds
//! its measure. A continuing row's finding cells are kept with the finding
//! ([`RowFinding::repeats`]): whether they agree is decided against what the database holds
//! (see `resolve`), since a continuing row still holding the stored value changes nothing.
//!
//! A group row ("一、政治建设方面" alone in the row, merged across it) names the category of
//! the findings below it. rectrack's own printed 整改台账 (its header as printed) is read as
//! printed: 问题 is the title and, after its first line, the description; each 整改措施 may
//! begin with its number ("1. "); 整改时限 and 完成情况 (a status, and in brackets the day it
//! was done) are the measure's on a measure's row. A report's 整改台账 table (one row per
//! finding) is read as written: its 整改措施 one numbered measure a line, its 整改进展 the
//! period's work a line ("2021-01-05 …"), of which the last is the finding's latest.

use std::collections::HashMap;

use chrono::NaiveDate;
use entity::enums::{FindingStatus, MeasureStatus, RectificationType};

use super::{Options, Problem};
use crate::domain::{records::finding, records::measure, records::progress, records::text};
use crate::error::{AppError, codes};
use crate::ledger_file::{Col, HEADINGS, Sheet, half_width, heading, parse_date};

fn normalise(heading: &str) -> String {
    heading
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '*' | '＊'))
        .collect::<String>()
        .replace("（必填）", "")
        .replace("(必填)", "")
}

/// Whether a header row is rectrack's printed 整改台账's, column for column.
fn is_printed(row: &[String]) -> bool {
    let names = crate::report::xlsx::PRINTED_COLUMNS;
    row.len() >= names.len()
        && names
            .iter()
            .zip(row)
            .all(|((name, _), cell)| normalise(cell) == *name)
}

/// Whether a header row is a report's 整改台账 table's, column for column.
fn is_report(row: &[String]) -> bool {
    let names = crate::report::ledger::REPORT_COLUMNS;
    row.len() == names.len()
        && names
            .iter()
            .zip(row)
            .all(|(name, cell)| normalise(cell) == *name)
}

/// A report's line of work, "2021-01-05 召开会议", without its day.
fn undated(line: &str) -> &str {
    match line.split_once(' ') {
        Some((day, rest)) if parse_date(day).is_ok_and(|d| d.is_some()) => rest.trim(),
        _ => line.trim(),
    }
}

/// A status as a printed ledger writes it, "已完成（2021年4月13日）": the status, and the day
/// in its brackets.
pub fn dated(text: &str) -> (&str, Option<&str>) {
    let t = text.trim();
    for (open, close) in [('（', '）'), ('(', ')')] {
        if let Some(body) = t.strip_suffix(close)
            && let Some((status, day)) = body.split_once(open)
        {
            return (status.trim(), Some(day.trim()));
        }
    }
    (t, None)
}

/// A group row's category: a row whose only text (in one cell, or repeated over a merge) is
/// a heading such as "一、政治建设方面", or stands in its first column, which is not the
/// problem column. `Some(None)` for the printed ledger's "其他问题" (findings of no category).
fn group_row(row: &[String], title_column: Option<usize>) -> Option<Option<String>> {
    let mut texts = row
        .iter()
        .enumerate()
        .map(|(c, t)| (c, t.trim()))
        .filter(|(_, t)| !t.is_empty());
    let (column, text) = texts.next()?;
    if texts.any(|(_, t)| t != text) {
        return None;
    }
    let numerals = "一二三四五六七八九十百零〇";
    let rest = text.trim_start_matches(|c| numerals.contains(c));
    let headed = rest.len() < text.len() && rest.starts_with(['、', '.', '．']);
    if headed {
        let title = rest.trim_start_matches(['、', '.', '．']).trim();
        return Some(Some(title.to_owned()));
    }
    let numeric = half_width(text)
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.' || c.is_whitespace());
    if column == 0 && title_column != Some(0) && !numeric {
        // rectrack prints findings of no category under "其他问题".
        return Some(Some(text.to_owned()).filter(|t| t != "其他问题"));
    }
    None
}

/// Finds the header row (within the first ten) of the first sheet that has a 问题 column.
fn header(sheets: &[Sheet]) -> Option<(usize, usize, HashMap<Col, usize>)> {
    for (s, sheet) in sheets.iter().enumerate() {
        for (r, row) in sheet.rows.iter().take(10).enumerate() {
            let mut map = HashMap::new();
            for (c, cell) in row.iter().enumerate() {
                let cell = normalise(cell);
                if let Some((col, _)) = HEADINGS
                    .iter()
                    .find(|(_, names)| names.contains(&cell.as_str()))
                {
                    map.entry(*col).or_insert(c);
                }
            }
            if map.contains_key(&Col::Title)
                && (map.contains_key(&Col::Measure) || map.contains_key(&Col::Ordinal))
            {
                return Some((s, r, map));
            }
        }
    }
    None
}

pub fn finding_status(text: &str) -> Option<FindingStatus> {
    match dated(text).0 {
        "未开始" | "未启动" | "not_started" | "NOT_STARTED" => {
            Some(FindingStatus::NotStarted)
        }
        "整改中" | "推进中" | "正在整改" | "进行中" | "持续推进" | "in_progress"
        | "IN_PROGRESS" => Some(FindingStatus::InProgress),
        "待审核" | "待审核销号" | "待销号" | "申请销号" | "pending_review" | "PENDING_REVIEW" => {
            Some(FindingStatus::PendingReview)
        }
        "已销号" | "已完成" | "已整改" | "完成" | "整改完成" | "已办结" | "closed" | "CLOSED" => {
            Some(FindingStatus::Closed)
        }
        _ => None,
    }
}

pub fn measure_status(text: &str) -> Option<MeasureStatus> {
    match dated(text).0 {
        "计划" | "未开始" | "计划中" | "未启动" | "planned" | "PLANNED" => {
            Some(MeasureStatus::Planned)
        }
        "推进中" | "整改中" | "进行中" | "正在推进" | "in_progress" | "IN_PROGRESS" => {
            Some(MeasureStatus::InProgress)
        }
        "已完成" | "完成" | "已整改" | "已落实" | "done" | "DONE" => {
            Some(MeasureStatus::Done)
        }
        _ => None,
    }
}

/// Whether the bulletin prints a finding: 是 or 否 (or yes/no, true/false).
pub fn disclosed(text: &str) -> Option<bool> {
    match text.trim() {
        "是" | "公开" | "yes" | "true" | "TRUE" => Some(true),
        "否" | "不公开" | "no" | "false" | "FALSE" => Some(false),
        _ => None,
    }
}

pub fn rectification_type(text: &str) -> Option<RectificationType> {
    match text.trim() {
        "立行立改" | "immediate" | "IMMEDIATE" => Some(RectificationType::Immediate),
        "限期整改" | "by_deadline" | "BY_DEADLINE" => Some(RectificationType::ByDeadline),
        "长期坚持" | "长期整改" | "long_term" | "LONG_TERM" => {
            Some(RectificationType::LongTerm)
        }
        _ => None,
    }
}

/// A finding as its rows describe it, each cell checked by the rule that governs the field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowFinding {
    /// The sheet's own row number of the finding's first row.
    pub row: usize,
    pub id: Option<i32>,
    pub version: Option<i32>,
    pub ordinal: Option<i32>,
    pub title: String,
    pub description: Option<String>,
    pub kind: Option<RectificationType>,
    pub disclosed: Option<bool>,
    pub status: Option<FindingStatus>,
    pub deadline: Option<NaiveDate>,
    pub leader: Option<String>,
    /// As written: a department's name or code (resolved against the database later).
    pub department: Option<String>,
    pub person: Option<String>,
    pub category: Option<String>,
    pub progress: Option<String>,
    pub measures: Vec<RowMeasure>,
    /// The finding's cells as its continuing rows write them (each with its own row).
    pub repeats: Vec<RowFinding>,
    /// Printed: the deadline is the last of its measures' (a new finding's only).
    pub due_by_measures: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowMeasure {
    /// The sheet's own row number.
    pub row: usize,
    pub id: Option<i32>,
    pub version: Option<i32>,
    pub ordinal: Option<i32>,
    pub content: String,
    pub status: Option<MeasureStatus>,
    pub deadline: Option<NaiveDate>,
    pub completed_on: Option<NaiveDate>,
}

/// What a sheet says, and every problem found in its cells.
pub struct Parsed {
    pub sheet: String,
    pub findings: Vec<RowFinding>,
    pub problems: Vec<Problem>,
}

/// Reads the ledger sheet of a workbook: the first sheet with a header row naming 问题 and
/// 整改措施 (or 序号).
pub fn parse(sheets: &[Sheet], options: Options) -> Result<Parsed, AppError> {
    let (sheet_index, header_row, map) =
        header(sheets).ok_or_else(|| AppError::bad_input("file", t!("import-no-header")))?;
    let sheet = &sheets[sheet_index];
    let title_column = map.get(&Col::Title).copied();
    let mut reader = Reader {
        sheet,
        map,
        options,
        printed: is_printed(&sheet.rows[header_row]),
        report: is_report(&sheet.rows[header_row]),
        problems: Vec::new(),
    };
    let mut findings: Vec<RowFinding> = Vec::new();
    // The category a group row names, for the findings below it.
    let mut group: Option<String> = None;
    for r in header_row + 1..reader.sheet.rows.len() {
        if reader.sheet.rows[r].iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if let Some(category) = group_row(&reader.sheet.rows[r], title_column) {
            group = category.and_then(|c| {
                reader.checked(
                    r,
                    Col::Category,
                    crate::domain::records::category::title(&c),
                )
            });
            continue;
        }
        let id_text = if options.as_new {
            String::new()
        } else {
            reader.cell(r, Col::FindingId)
        };
        let ordinal_text = reader.cell(r, Col::Ordinal);
        let title_text = reader.cell(r, Col::Title);
        let names_a_finding =
            !(id_text.is_empty() && ordinal_text.is_empty() && title_text.is_empty());
        let continues = findings.last().is_some_and(|f| {
            if !id_text.is_empty() {
                f.id.map(|i| i.to_string()) == Some(id_text.clone())
            } else {
                f.id.is_none()
                    && f.title == title_text
                    && (ordinal_text.is_empty()
                        || f.ordinal.map(|o| o.to_string()) == Some(ordinal_text.clone()))
            }
        });
        if names_a_finding && !continues {
            let mut finding = reader.finding(r);
            if finding.category.is_none() && reader.cell(r, Col::Category).is_empty() {
                finding.category = group.clone();
            }
            findings.push(finding);
        } else if !findings.is_empty() {
            let again = reader.finding_quietly(r);
            if let Some(first) = findings.last_mut() {
                first.repeats.push(again);
            }
        } else {
            reader.problem(
                r,
                None,
                codes::BAD_USER_INPUT,
                t!("import-measure-before-finding"),
            );
            continue;
        }
        let cell = reader.cell(r, Col::Measure);
        if !cell.is_empty() {
            // A report's row holds all the finding's measures, a line each.
            let texts: Vec<String> = if reader.report {
                cell.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned)
                    .collect()
            } else {
                vec![cell]
            };
            for text in texts {
                let m = reader.measure(r, text);
                if let Some(f) = findings.last_mut() {
                    f.measures.push(m);
                }
            }
        } else {
            reader.measure_cells_need_a_measure(r);
        }
    }
    if reader.printed {
        // A printed finding is due when its last measure is.
        for f in &mut findings {
            if let Some(last) = f.measures.iter().filter_map(|m| m.deadline).max() {
                f.deadline = Some(last);
                f.due_by_measures = true;
            }
        }
    }
    Ok(Parsed {
        sheet: reader.sheet.name.clone(),
        findings,
        problems: reader.problems,
    })
}

/// Reads cells by column, noting every problem at its sheet row.
struct Reader<'a> {
    sheet: &'a Sheet,
    map: HashMap<Col, usize>,
    options: Options,
    /// rectrack's printed 整改台账: see the module's comment.
    printed: bool,
    /// A report's 整改台账 table: see the module's comment.
    report: bool,
    problems: Vec<Problem>,
}

impl Reader<'_> {
    fn cell(&self, row: usize, col: Col) -> String {
        self.map
            .get(&col)
            .and_then(|c| self.sheet.rows.get(row).and_then(|r| r.get(*c)))
            .map(|s| s.trim().to_owned())
            .unwrap_or_default()
    }

    /// `row` is the index into the sheet's rows; the problem names the sheet's row number.
    fn problem(
        &mut self,
        row: usize,
        col: Option<Col>,
        code: &'static str,
        message: impl Into<String>,
    ) {
        self.problems.push(Problem {
            sheet: self.sheet.name.clone(),
            row: row + 1,
            column: col.map(heading).unwrap_or_default().to_owned(),
            code,
            message: message.into(),
        });
    }

    /// A rule's verdict on a cell: the value, or the rule's message at the cell.
    fn checked<T>(&mut self, row: usize, col: Col, result: Result<T, AppError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(err) => {
                self.problem(row, Some(col), err.code(), err.message().to_owned());
                None
            }
        }
    }

    fn optional(&self, row: usize, col: Col) -> Option<String> {
        Some(self.cell(row, col)).filter(|s| !s.is_empty())
    }

    fn number(&mut self, row: usize, col: Col) -> Option<i32> {
        let text = self.cell(row, col);
        if text.is_empty() {
            return None;
        }
        let half = half_width(&text);
        let digits = half.trim_matches(|c: char| !c.is_ascii_digit() && c != '.');
        match digits.parse::<f64>() {
            Ok(n) if n >= 1.0 && n.fract() == 0.0 && n < 1e9 => Some(n as i32),
            _ => {
                self.problem(
                    row,
                    Some(col),
                    codes::BAD_USER_INPUT,
                    t!("import-not-whole-number", text = text),
                );
                None
            }
        }
    }

    fn date(&mut self, row: usize, col: Col) -> Option<NaiveDate> {
        self.date_of(row, col, &self.cell(row, col))
    }

    fn date_of(&mut self, row: usize, col: Col, text: &str) -> Option<NaiveDate> {
        match parse_date(text) {
            Ok(None) => None,
            Ok(Some(date)) => {
                let field = match col {
                    Col::CompletedOn => "completedOn",
                    _ => "deadline",
                };
                self.checked(row, col, text::date(field, date))
            }
            Err(message) => {
                self.problem(row, Some(col), codes::BAD_USER_INPUT, message);
                None
            }
        }
    }

    fn enumerated<T>(
        &mut self,
        row: usize,
        col: Col,
        read: fn(&str) -> Option<T>,
        known: &str,
    ) -> Option<T> {
        let text = self.optional(row, col)?;
        let value = read(&text);
        if value.is_none() {
            self.problem(
                row,
                Some(col),
                codes::BAD_USER_INPUT,
                t!("import-unknown-value", text = text, known = known),
            );
        }
        value
    }

    /// The finding's cells of row `r`, each checked.
    fn finding(&mut self, r: usize) -> RowFinding {
        let cell = self.cell(r, Col::Title);
        // Printed, the problem's cell is its title, then its description.
        let (title, printed_description) = match cell.split_once('\n') {
            Some((title, description)) if self.printed => {
                (title.trim().to_owned(), Some(description.trim().to_owned()))
            }
            _ => (cell, None),
        };
        // Printed, a measure's row has the measure's deadline and status.
        let measure_row = self.printed && !self.cell(r, Col::Measure).is_empty();
        let title = self
            .checked(r, Col::Title, finding::title(&title))
            .unwrap_or(title);
        let (id, version) = if self.options.as_new {
            (None, None)
        } else {
            (
                self.number(r, Col::FindingId),
                self.number(r, Col::FindingVersion),
            )
        };
        let description = self
            .optional(r, Col::Description)
            .or(printed_description)
            .filter(|d| !d.is_empty());
        let description =
            description.and_then(|d| self.checked(r, Col::Description, finding::description(&d)));
        let leader = self.optional(r, Col::Leader);
        let leader = self
            .checked(
                r,
                Col::Leader,
                finding::person("responsibleLeader", leader.as_deref()),
            )
            .flatten();
        let person = self.optional(r, Col::Person);
        let person = self
            .checked(
                r,
                Col::Person,
                finding::person("responsiblePerson", person.as_deref()),
            )
            .flatten();
        let department = self.optional(r, Col::Department);
        let department = department.and_then(|d| {
            self.checked(
                r,
                Col::Department,
                text::required("departmentCode", &d, 200),
            )
        });
        let category = self.optional(r, Col::Category);
        let category = category.and_then(|c| {
            self.checked(
                r,
                Col::Category,
                crate::domain::records::category::title(&c),
            )
        });
        let progress = self.optional(r, Col::Progress).map(|p| {
            if self.report {
                p.lines()
                    .rev()
                    .map(undated)
                    .find(|l| !l.is_empty())
                    .unwrap_or_default()
                    .to_owned()
            } else {
                p
            }
        });
        let progress = progress.and_then(|p| self.checked(r, Col::Progress, progress::content(&p)));
        RowFinding {
            row: r + 1,
            id,
            version,
            ordinal: self.number(r, Col::Ordinal),
            title,
            description,
            kind: self.enumerated(
                r,
                Col::Kind,
                rectification_type,
                "立行立改, 限期整改, 长期坚持",
            ),
            disclosed: self.enumerated(r, Col::Disclosed, disclosed, "是, 否"),
            status: if measure_row {
                None
            } else {
                self.enumerated(
                    r,
                    Col::Status,
                    finding_status,
                    "未开始, 整改中, 待审核, 已销号",
                )
            },
            deadline: if measure_row {
                None
            } else {
                self.date(r, Col::Deadline)
            },
            leader,
            department,
            person,
            category,
            progress,
            measures: Vec::new(),
            repeats: Vec::new(),
            due_by_measures: false,
        }
    }

    /// The finding's cells of a continuing row: read like a first row, problems kept apart so
    /// that a blank cell (a merged one) raises none.
    fn finding_quietly(&mut self, r: usize) -> RowFinding {
        let before = self.problems.len();
        let mut cells = self.finding(r);
        // Printed, a continuing row's 责任单位 is its measure's.
        if self.printed {
            cells.department = None;
        }
        // A blank title on a continuing row is a merged cell, not an empty problem text.
        let title_heading = heading(Col::Title);
        let mut kept = self.problems.split_off(before);
        kept.retain(|p| !(p.column == title_heading && self.cell(r, Col::Title).is_empty()));
        self.problems.extend(kept);
        cells
    }

    /// The measure of row `r` whose text is `cell` (a report's row holds several), each cell
    /// checked.
    fn measure(&mut self, r: usize, cell: String) -> RowMeasure {
        // Printed, a measure may begin with its number ("1. "), or with its own ordinal.
        let (printed_ordinal, content) = match numbered(&cell) {
            Some((n, rest)) if self.printed || self.report => (Some(n), rest.to_owned()),
            _ => (None, cell),
        };
        let content = self
            .checked(r, Col::Measure, measure::content(&content))
            .unwrap_or(content);
        let (id, version) = if self.options.as_new {
            (None, None)
        } else {
            (
                self.number(r, Col::MeasureId),
                self.number(r, Col::MeasureVersion),
            )
        };
        let (status_col, deadline_col) = if self.printed {
            (Col::Status, Col::Deadline)
        } else {
            (Col::MeasureStatus, Col::MeasureDeadline)
        };
        let status = self.enumerated(r, status_col, measure_status, "计划, 进行中, 已完成");
        // "已完成（2021年4月13日）": the day it was done, unless a column of its own says.
        let status_text = self.cell(r, status_col);
        let completed_on = match (self.date(r, Col::CompletedOn), dated(&status_text).1) {
            (None, Some(day)) if status.is_some() => self.date_of(r, status_col, day),
            (date, _) => date,
        };
        RowMeasure {
            row: r + 1,
            id,
            version,
            ordinal: self.number(r, Col::MeasureOrdinal).or(printed_ordinal),
            content,
            status,
            deadline: self.date(r, deadline_col),
            completed_on,
        }
    }

    /// A row without a measure text may not carry a measure's other cells: they would be lost.
    fn measure_cells_need_a_measure(&mut self, r: usize) {
        for col in [
            Col::MeasureOrdinal,
            Col::MeasureStatus,
            Col::MeasureDeadline,
            Col::CompletedOn,
            Col::MeasureId,
            Col::MeasureVersion,
        ] {
            if !(self.cell(r, col).is_empty() || self.options.as_new && is_id(col)) {
                self.problem(
                    r,
                    Some(col),
                    codes::BAD_USER_INPUT,
                    t!("import-measure-cell-without-measure"),
                );
            }
        }
    }
}

/// "1. 内容" as its number and its text (a printed measure).
fn numbered(text: &str) -> Option<(i32, &str)> {
    let (number, rest) = text.split_once(". ")?;
    let n = number.parse::<i32>().ok().filter(|n| *n >= 1)?;
    Some((n, rest.trim_start()))
}

fn is_id(col: Col) -> bool {
    matches!(col, Col::MeasureId | Col::MeasureVersion)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet(rows: &[&[&str]]) -> Vec<Sheet> {
        vec![Sheet {
            name: "台账".to_owned(),
            rows: rows
                .iter()
                .map(|r| r.iter().map(|c| (*c).to_owned()).collect())
                .collect(),
        }]
    }

    const HEAD: &[&str] = &["序号", "问题", "整改措施", "整改时限", "问题版本", "状态"];

    #[test]
    fn merged_rows_make_one_finding_and_rows_are_the_sheets_own() {
        let sheets = sheet(&[
            &["某单位整改台账", "", "", "", "", ""],
            HEAD,
            &["1", "问题一", "措施一", "2020年12月31日", "", "整改中"],
            &["", "", "措施二", "", "", ""],
            &["2", "问题二", "措施三", "2020-13-45", "", "已销号"],
        ]);
        let parsed = parse(&sheets, Options::default()).unwrap();
        assert_eq!(parsed.findings.len(), 2);
        assert_eq!(parsed.findings[0].row, 3);
        assert_eq!(
            parsed.findings[0]
                .measures
                .iter()
                .map(|m| m.row)
                .collect::<Vec<_>>(),
            [3, 4]
        );
        assert_eq!(parsed.findings[0].status, Some(FindingStatus::InProgress));
        assert_eq!(parsed.problems.len(), 1, "{:?}", parsed.problems);
        assert_eq!(
            (parsed.problems[0].row, parsed.problems[0].column.as_str()),
            (5, "整改时限")
        );
    }

    #[test]
    fn group_rows_name_the_category_of_the_rows_below() {
        let sheets = sheet(&[
            HEAD,
            &["一、政治建设方面", "", "", "", "", ""],
            &["１", "问题一", "措施一", "２０２６年３月５日", "", "整改中"],
            &[
                "二、作风建设方面",
                "二、作风建设方面",
                "二、作风建设方面",
                "",
                "",
                "",
            ],
            &[
                "2",
                "问题二",
                "措施二",
                "2026/3/5",
                "",
                "已完成（2021年4月13日）",
            ],
        ]);
        let parsed = parse(&sheets, Options::default()).unwrap();
        assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
        let read: Vec<_> = parsed
            .findings
            .iter()
            .map(|f| (f.ordinal, f.category.as_deref(), f.deadline, f.status))
            .collect();
        let day = NaiveDate::from_ymd_opt(2026, 3, 5);
        assert_eq!(
            read,
            [
                (
                    Some(1),
                    Some("政治建设方面"),
                    day,
                    Some(FindingStatus::InProgress)
                ),
                (
                    Some(2),
                    Some("作风建设方面"),
                    day,
                    Some(FindingStatus::Closed)
                ),
            ]
        );
    }

    #[test]
    fn text_rules_are_the_domains() {
        let long = "长".repeat(501);
        let sheets = sheet(&[HEAD, &["1", long.as_str(), "措施\u{0}一", "", "", "不知道"]]);
        let parsed = parse(&sheets, Options::default()).unwrap();
        let found: Vec<(&str, &str)> = parsed
            .problems
            .iter()
            .map(|p| (p.column.as_str(), p.code))
            .collect();
        assert_eq!(
            found,
            [
                ("问题", "BAD_USER_INPUT"),
                ("状态", "BAD_USER_INPUT"),
                ("整改措施", "BAD_USER_INPUT")
            ]
        );
    }
}

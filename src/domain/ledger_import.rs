//! Importing a ledger spreadsheet (整改台账) into an inspection: rectrack's own export, or a
//! unit's own spreadsheet with the usual headings in any order. Every problem is found first
//! and reported by sheet, row and column; a dry run stops there, and a real import with any
//! problem changes nothing. A clean import is one transaction: rows with ids update their
//! records (checked against their versions), rows without create them, and every changed
//! record gets a ledger entry and an audit event.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use entity::enums::{FindingStatus, MeasureStatus, ProgressKind, RectificationType};
use entity::{category, department, finding, measure, progress_entry};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder, Set,
};

use crate::audit::Actor;
use crate::auth::{Caller, Permission, Reach};
use crate::db;
use crate::domain::change::{Record, record_audited};
use crate::domain::inspection as inspections;
use crate::domain::measure::check_move;
use crate::domain::scope;
use crate::error::{AppError, AppResult};
use crate::ledger_file::{self, Format, Sheet, parse_date};

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Check and report, change nothing.
    pub dry_run: bool,
    /// Ignore ids and versions: create every row anew (importing an export elsewhere).
    pub as_new: bool,
}

/// One problem, where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub sheet: String,
    /// Spreadsheet row number, from 1.
    pub row: usize,
    /// The column heading, or empty for the row as a whole.
    pub column: String,
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Col {
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
    MeasureOrdinal,
    MeasureStatus,
    MeasureDeadline,
    CompletedOn,
    FindingId,
    FindingVersion,
    MeasureId,
    MeasureVersion,
}

/// Headings a unit may use for each column.
const HEADINGS: [(Col, &[&str]); 20] = [
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
    (Col::MeasureOrdinal, &["措施序号"]),
    (Col::MeasureStatus, &["措施状态"]),
    (Col::MeasureDeadline, &["措施时限"]),
    (Col::CompletedOn, &["完成日期", "完成时间"]),
    (Col::FindingId, &["问题ID", "问题id"]),
    (Col::FindingVersion, &["问题版本"]),
    (Col::MeasureId, &["措施ID", "措施id"]),
    (Col::MeasureVersion, &["措施版本"]),
];

fn normalise(heading: &str) -> String {
    heading
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '*' | '＊'))
        .collect::<String>()
        .replace("（必填）", "")
        .replace("(必填)", "")
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
    match text.trim() {
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
    match text.trim() {
        "未开始" | "计划中" | "未启动" | "planned" | "PLANNED" => {
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

/// A finding as its rows describe it, checked.
struct FindingRow {
    row: usize,
    id: Option<i32>,
    version: Option<i32>,
    ordinal: Option<i32>,
    title: String,
    description: Option<String>,
    kind: Option<RectificationType>,
    status: Option<FindingStatus>,
    deadline: Option<NaiveDate>,
    leader: Option<String>,
    department_id: Option<i32>,
    person: Option<String>,
    category: Option<String>,
    progress: Option<String>,
    measures: Vec<MeasureRow>,
}

struct MeasureRow {
    id: Option<i32>,
    version: Option<i32>,
    ordinal: Option<i32>,
    content: String,
    status: Option<MeasureStatus>,
    deadline: Option<NaiveDate>,
    completed_on: Option<NaiveDate>,
}

fn heading(col: Col) -> String {
    HEADINGS
        .iter()
        .find(|(c, _)| *c == col)
        .map(|(_, names)| names[0].to_owned())
        .unwrap_or_default()
}

/// Reads the rows into findings, noting every problem.
struct Reader<'a> {
    sheet: &'a Sheet,
    map: HashMap<Col, usize>,
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

    fn problem(&mut self, row: usize, col: Option<Col>, message: impl Into<String>) {
        self.problems.push(Problem {
            sheet: self.sheet.name.clone(),
            row: row + 1,
            column: col.map(heading).unwrap_or_default(),
            message: message.into(),
        });
    }

    fn optional(&self, row: usize, col: Col) -> Option<String> {
        Some(self.cell(row, col)).filter(|s| !s.is_empty())
    }

    fn number(&mut self, row: usize, col: Col) -> Option<i32> {
        let text = self.cell(row, col);
        let digits = text.trim_matches(|c: char| !c.is_ascii_digit() && c != '.');
        if text.is_empty() {
            return None;
        }
        match digits.parse::<f64>() {
            Ok(n) if n >= 1.0 && n.fract() == 0.0 && n < 1e9 => Some(n as i32),
            _ => {
                self.problem(
                    row,
                    Some(col),
                    format!("'{text}' is not a positive whole number"),
                );
                None
            }
        }
    }

    fn date(&mut self, row: usize, col: Col) -> Option<NaiveDate> {
        match parse_date(&self.cell(row, col)) {
            Ok(date) => date,
            Err(message) => {
                self.problem(row, Some(col), message);
                None
            }
        }
    }

    fn text(&mut self, row: usize, col: Col, max: usize) -> Option<String> {
        let text = self.optional(row, col)?;
        if text.chars().count() > max {
            self.problem(row, Some(col), format!("at most {max} characters"));
        }
        Some(text)
    }
}

/// Resolves a department named by name or code, preferring the inspection's own unit's tree
/// when a name is used by several departments.
fn resolve_department(
    departments: &[department::Model],
    unit_path: &str,
    text: &str,
) -> Result<i32, String> {
    if let Some(d) = departments.iter().find(|d| d.code == text) {
        return Ok(d.id);
    }
    let named: Vec<&department::Model> = departments.iter().filter(|d| d.name == text).collect();
    let inside: Vec<&&department::Model> = named
        .iter()
        .filter(|d| d.path.starts_with(unit_path))
        .collect();
    match (named.len(), inside.len()) {
        (0, _) => Err(format!("no department named or coded '{text}'")),
        (1, _) => Ok(named[0].id),
        (_, 1) => Ok(inside[0].id),
        _ => Err(format!(
            "several departments are named '{text}': use its code"
        )),
    }
}

/// Imports a ledger file into an inspection the caller manages.
pub async fn import(
    db: &DatabaseConnection,
    caller: &Caller,
    request_id: Option<String>,
    inspection_id: i32,
    file_name: &str,
    bytes: &[u8],
    options: Options,
) -> AppResult<Report> {
    caller.require(Permission::ManageFindings)?;
    let inspection = inspections::get(db, caller, inspection_id).await?;
    scope::require_writable(db, caller, inspection.unit_id).await?;
    let sheets = ledger_file::read(Format::guess(file_name, bytes), bytes)?;
    let (sheet_index, header_row, map) = header(&sheets).ok_or_else(|| {
        AppError::bad_input(
            "file",
            "no sheet has a header row with 问题 and 整改措施 (or 序号) columns",
        )
    })?;
    let mut reader = Reader {
        sheet: &sheets[sheet_index],
        map,
        problems: Vec::new(),
    };

    let departments = department::Entity::find()
        .filter(department::Column::ArchivedAt.is_null())
        .all(db)
        .await?;
    let unit_path = departments
        .iter()
        .find(|d| d.id == inspection.unit_id)
        .map(|d| d.path.clone())
        .unwrap_or_default();
    let write_reach = caller.write_reach();
    let existing = finding::Entity::find()
        .filter(finding::Column::InspectionId.eq(inspection_id))
        .all(db)
        .await?;
    let existing_measures = measure::Entity::find()
        .filter(measure::Column::FindingId.is_in(existing.iter().map(|f| f.id)))
        .all(db)
        .await?;

    // Group rows into findings: a row names a finding by its id, number or text; a row that
    // names none continues the one above (merged cells read as blanks).
    let mut groups: Vec<FindingRow> = Vec::new();
    for r in header_row + 1..reader.sheet.rows.len() {
        if reader.sheet.rows[r].iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let id_text = if options.as_new {
            String::new()
        } else {
            reader.cell(r, Col::FindingId)
        };
        let ordinal_text = reader.cell(r, Col::Ordinal);
        let title_text = reader.cell(r, Col::Title);
        let same_as_last = groups.last().is_some_and(|g| {
            (!id_text.is_empty() && g.id.map(|i| i.to_string()) == Some(id_text.clone()))
                || (id_text.is_empty()
                    && g.title == title_text
                    && (ordinal_text.is_empty()
                        || g.ordinal.map(|o| o.to_string()) == Some(ordinal_text.clone())))
        });
        let names_a_finding =
            !(id_text.is_empty() && ordinal_text.is_empty() && title_text.is_empty());
        if names_a_finding && !same_as_last {
            let group = read_finding(
                &mut reader,
                r,
                options,
                &departments,
                &unit_path,
                &write_reach,
            );
            groups.push(group);
        } else if groups.is_empty() {
            reader.problem(r, None, "a measure row before any finding");
            continue;
        }
        let measure_text = reader.cell(r, Col::Measure);
        if !measure_text.is_empty() {
            let m = read_measure(&mut reader, r, options);
            if let Some(group) = groups.last_mut() {
                group.measures.push(m);
            }
        }
    }

    // Checks across rows and against the database.
    let mut ordinals_seen: HashMap<i32, usize> = HashMap::new();
    for g in &groups {
        let current = g.id.and_then(|id| existing.iter().find(|f| f.id == id));
        if let Some(id) = g.id {
            match current {
                None => reader.problem(
                    g.row - 1,
                    Some(Col::FindingId),
                    format!("inspection {inspection_id} has no finding {id}"),
                ),
                Some(f) => {
                    if g.version.is_some_and(|v| v != f.version) {
                        reader.problem(
                            g.row - 1,
                            Some(Col::FindingVersion),
                            format!(
                                "stale version: finding {id} is now at version {}",
                                f.version
                            ),
                        );
                    }
                    if let Some(status) = g.status.filter(|s| *s != f.status) {
                        reader.problem(
                            g.row - 1,
                            Some(Col::Status),
                            format!(
                                "{} → {status}: status changes go through the close-out workflow",
                                f.status
                            ),
                        );
                    }
                }
            }
        }
        if let Some(ordinal) = g.ordinal {
            if let Some(first) = ordinals_seen.insert(ordinal, g.row) {
                reader.problem(
                    g.row - 1,
                    Some(Col::Ordinal),
                    format!("duplicate ordinal {ordinal} (also on row {first})"),
                );
            }
            let clash = existing
                .iter()
                .any(|f| f.ordinal == ordinal && Some(f.id) != g.id);
            if clash && g.id.is_none() {
                reader.problem(
                    g.row - 1,
                    Some(Col::Ordinal),
                    format!("inspection {inspection_id} already has a finding numbered {ordinal}"),
                );
            }
        }
        if g.id.is_none() && g.department_id.is_none() {
            reader.problem(
                g.row - 1,
                Some(Col::Department),
                "a new finding needs its responsible department",
            );
        }
        for m in &g.measures {
            if let Some(mid) = m.id {
                match existing_measures
                    .iter()
                    .find(|x| x.id == mid && Some(x.finding_id) == g.id)
                {
                    None => reader.problem(
                        g.row - 1,
                        Some(Col::MeasureId),
                        format!("finding {:?} has no measure {mid}", g.id),
                    ),
                    Some(x) => {
                        if m.version.is_some_and(|v| v != x.version) {
                            reader.problem(
                                g.row - 1,
                                Some(Col::MeasureVersion),
                                format!(
                                    "stale version: measure {mid} is now at version {}",
                                    x.version
                                ),
                            );
                        }
                        if let Some(to) = m.status.filter(|s| *s != x.status)
                            && let Err(err) = check_move(x.status, to, None)
                        {
                            reader.problem(
                                g.row - 1,
                                Some(Col::MeasureStatus),
                                err.message().to_owned(),
                            );
                        }
                    }
                }
            }
        }
    }

    let mut report = Report {
        dry_run: options.dry_run,
        problems: std::mem::take(&mut reader.problems),
        ..Default::default()
    };
    report
        .problems
        .sort_by(|a, b| (a.row, &a.column).cmp(&(b.row, &b.column)));
    if !report.problems.is_empty() {
        count_plan(&groups, &mut report);
        return Ok(report);
    }
    // A dry run makes the changes and rolls them back, so that it reports exactly what an
    // import would do.
    let txn = db::begin_write(db).await?;
    apply(
        &txn,
        caller,
        &caller.actor(request_id),
        inspection_id,
        &groups,
        &existing,
        &existing_measures,
        &mut report,
    )
    .await?;
    if options.dry_run {
        txn.rollback().await?;
    } else {
        txn.commit().await?;
        report.applied = true;
    }
    Ok(report)
}

fn read_finding(
    reader: &mut Reader<'_>,
    r: usize,
    options: Options,
    departments: &[department::Model],
    unit_path: &str,
    write_reach: &Reach,
) -> FindingRow {
    let title = reader.cell(r, Col::Title);
    if title.is_empty() {
        reader.problem(r, Some(Col::Title), "the problem text is empty");
    } else if title.chars().count() > 500 {
        reader.problem(r, Some(Col::Title), "at most 500 characters");
    }
    let (id, version) = if options.as_new {
        (None, None)
    } else {
        (
            reader.number(r, Col::FindingId),
            reader.number(r, Col::FindingVersion),
        )
    };
    let department_id = match reader.optional(r, Col::Department) {
        None => None,
        Some(text) => match resolve_department(departments, unit_path, &text) {
            Ok(id) => {
                let path = departments
                    .iter()
                    .find(|d| d.id == id)
                    .map(|d| d.path.as_str())
                    .unwrap_or("");
                if !write_reach.contains(path) {
                    reader.problem(
                        r,
                        Some(Col::Department),
                        format!("'{text}' is outside your department"),
                    );
                }
                Some(id)
            }
            Err(message) => {
                reader.problem(r, Some(Col::Department), message);
                None
            }
        },
    };
    let status = reader.optional(r, Col::Status).and_then(|t| {
        let s = finding_status(&t);
        if s.is_none() {
            reader.problem(
                r,
                Some(Col::Status),
                format!("unknown status '{t}' (未开始, 整改中, 待审核销号, 已销号)"),
            );
        }
        s
    });
    let kind = reader.optional(r, Col::Kind).and_then(|t| {
        let k = rectification_type(&t);
        if k.is_none() {
            reader.problem(
                r,
                Some(Col::Kind),
                format!("unknown type '{t}' (立行立改, 限期整改, 长期坚持)"),
            );
        }
        k
    });
    FindingRow {
        row: r + 1,
        id,
        version,
        ordinal: reader.number(r, Col::Ordinal),
        title,
        description: reader.text(r, Col::Description, 20_000),
        kind,
        status,
        deadline: reader.date(r, Col::Deadline),
        leader: reader.text(r, Col::Leader, 100),
        department_id,
        person: reader.text(r, Col::Person, 100),
        category: reader.text(r, Col::Category, 300),
        progress: reader.text(r, Col::Progress, 10_000),
        measures: Vec::new(),
    }
}

fn read_measure(reader: &mut Reader<'_>, r: usize, options: Options) -> MeasureRow {
    let content = reader.cell(r, Col::Measure);
    if content.chars().count() > 5_000 {
        reader.problem(r, Some(Col::Measure), "at most 5000 characters");
    }
    let status = reader.optional(r, Col::MeasureStatus).and_then(|t| {
        let s = measure_status(&t);
        if s.is_none() {
            reader.problem(
                r,
                Some(Col::MeasureStatus),
                format!("unknown status '{t}' (未开始, 推进中, 已完成)"),
            );
        }
        s
    });
    let (id, version) = if options.as_new {
        (None, None)
    } else {
        (
            reader.number(r, Col::MeasureId),
            reader.number(r, Col::MeasureVersion),
        )
    };
    MeasureRow {
        id,
        version,
        ordinal: reader.number(r, Col::MeasureOrdinal),
        content,
        status,
        deadline: reader.date(r, Col::MeasureDeadline),
        completed_on: reader.date(r, Col::CompletedOn),
    }
}

fn count_plan(groups: &[FindingRow], report: &mut Report) {
    for g in groups {
        if g.id.is_some() {
            report.findings_updated += 1;
        } else {
            report.findings_created += 1;
        }
        for m in &g.measures {
            if m.id.is_some() {
                report.measures_updated += 1;
            } else {
                report.measures_created += 1;
            }
        }
    }
}

/// Writes the ledger entry that records an imported change.
async fn note(
    txn: &DatabaseTransaction,
    caller: &Caller,
    actor: &Actor,
    finding_id: i32,
    measure_id: Option<i32>,
    content: String,
) -> AppResult<()> {
    progress_entry::ActiveModel {
        finding_id: Set(finding_id),
        measure_id: Set(measure_id),
        entry_date: Set(Utc::now().date_naive()),
        kind: Set(ProgressKind::Comment),
        content: Set(content),
        author_sub: Set(actor.sub.clone()),
        author_name: Set(caller.identity().and_then(|i| i.name.clone())),
        author_role: Set(Some(actor.role.clone())),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn apply(
    txn: &DatabaseTransaction,
    caller: &Caller,
    actor: &Actor,
    inspection_id: i32,
    groups: &[FindingRow],
    existing: &[finding::Model],
    existing_measures: &[measure::Model],
    report: &mut Report,
) -> AppResult<()> {
    let now = Utc::now();
    let mut categories: HashMap<String, i32> = category::Entity::find()
        .filter(category::Column::InspectionId.eq(inspection_id))
        .all(txn)
        .await?
        .into_iter()
        .map(|c| (c.title, c.id))
        .collect();
    let mut next_ordinal = existing.iter().map(|f| f.ordinal).max().unwrap_or(0);
    let mut next_category = category::Entity::find()
        .filter(category::Column::InspectionId.eq(inspection_id))
        .order_by_desc(category::Column::Ordinal)
        .one(txn)
        .await?
        .map_or(0, |c| c.ordinal);
    for g in groups {
        let category_id = match &g.category {
            None => None,
            Some(title) => match categories.get(title) {
                Some(id) => Some(*id),
                None => {
                    next_category += 1;
                    let created = category::ActiveModel {
                        inspection_id: Set(inspection_id),
                        ordinal: Set(next_category),
                        title: Set(title.clone()),
                        version: Set(1),
                        created_at: Set(now),
                        updated_at: Set(now),
                        ..Default::default()
                    }
                    .insert(txn)
                    .await?;
                    categories.insert(title.clone(), created.id);
                    Some(created.id)
                }
            },
        };
        let (finding_id, department_id) =
            match g.id.and_then(|id| existing.iter().find(|f| f.id == id)) {
                None => {
                    let ordinal = g.ordinal.unwrap_or(next_ordinal + 1);
                    next_ordinal = Ord::max(next_ordinal, ordinal);
                    let status = g.status.unwrap_or(FindingStatus::NotStarted);
                    let department_id = g
                        .department_id
                        .ok_or_else(|| AppError::internal("checked above"))?;
                    let created = finding::ActiveModel {
                        inspection_id: Set(inspection_id),
                        category_id: Set(category_id),
                        ordinal: Set(ordinal),
                        title: Set(g.title.clone()),
                        description: Set(g.description.clone().unwrap_or_default()),
                        rectification_type: Set(g.kind.unwrap_or(RectificationType::ByDeadline)),
                        status: Set(status),
                        deadline: Set(g.deadline),
                        responsible_leader: Set(g.leader.clone()),
                        department_id: Set(department_id),
                        responsible_person: Set(g.person.clone()),
                        created_at: Set(now),
                        updated_at: Set(now),
                        closed_at: Set((status == FindingStatus::Closed).then_some(now)),
                        version: Set(1),
                        ..Default::default()
                    }
                    .insert(txn)
                    .await?;
                    note(
                        txn,
                        caller,
                        actor,
                        created.id,
                        None,
                        format!("台账导入：新增问题{}", created.ordinal),
                    )
                    .await?;
                    let record = Record {
                        kind: "finding",
                        id: created.id,
                        department_id: Some(department_id),
                    };
                    record_audited(txn, actor, "finding.import", record, None, Some(&created))
                        .await?;
                    report.findings_created += 1;
                    (created.id, department_id)
                }
                Some(current) => {
                    let mut active: finding::ActiveModel = current.clone().into();
                    let mut changed = false;
                    macro_rules! set_if {
                        ($field:ident, $value:expr) => {
                            if let Some(value) = $value {
                                if current.$field != value {
                                    active.$field = Set(value);
                                    changed = true;
                                }
                            }
                        };
                    }
                    set_if!(title, Some(g.title.clone()));
                    set_if!(description, g.description.clone());
                    set_if!(rectification_type, g.kind);
                    set_if!(deadline, g.deadline.map(Some));
                    set_if!(responsible_leader, g.leader.clone().map(Some));
                    set_if!(responsible_person, g.person.clone().map(Some));
                    set_if!(department_id, g.department_id);
                    set_if!(category_id, category_id.map(Some));
                    set_if!(ordinal, g.ordinal);
                    if changed {
                        active.version = Set(current.version + 1);
                        active.updated_at = Set(now);
                        let updated = active.update(txn).await?;
                        note(
                            txn,
                            caller,
                            actor,
                            updated.id,
                            None,
                            format!("台账导入：更新问题{}", updated.ordinal),
                        )
                        .await?;
                        let record = Record {
                            kind: "finding",
                            id: updated.id,
                            department_id: Some(updated.department_id),
                        };
                        record_audited(
                            txn,
                            actor,
                            "finding.import",
                            record,
                            Some(current),
                            Some(&updated),
                        )
                        .await?;
                        report.findings_updated += 1;
                    }
                    (current.id, current.department_id)
                }
            };
        let mut next_measure = existing_measures
            .iter()
            .filter(|m| m.finding_id == finding_id)
            .map(|m| m.ordinal)
            .max()
            .unwrap_or(0);
        for m in &g.measures {
            match m
                .id
                .and_then(|id| existing_measures.iter().find(|x| x.id == id))
            {
                None => {
                    let ordinal = m.ordinal.unwrap_or(next_measure + 1);
                    next_measure = Ord::max(next_measure, ordinal);
                    let status = m.status.unwrap_or(MeasureStatus::Planned);
                    let created = measure::ActiveModel {
                        finding_id: Set(finding_id),
                        ordinal: Set(ordinal),
                        content: Set(m.content.clone()),
                        deadline: Set(m.deadline),
                        status: Set(status),
                        completed_on: Set(if status == MeasureStatus::Done {
                            m.completed_on.or(Some(now.date_naive()))
                        } else {
                            None
                        }),
                        version: Set(1),
                        created_at: Set(now),
                        updated_at: Set(now),
                        ..Default::default()
                    }
                    .insert(txn)
                    .await?;
                    note(
                        txn,
                        caller,
                        actor,
                        finding_id,
                        Some(created.id),
                        format!("台账导入：新增措施{ordinal}"),
                    )
                    .await?;
                    let record = Record {
                        kind: "measure",
                        id: created.id,
                        department_id: Some(department_id),
                    };
                    record_audited(txn, actor, "measure.import", record, None, Some(&created))
                        .await?;
                    report.measures_created += 1;
                }
                Some(current) => {
                    let status = m.status.unwrap_or(current.status);
                    let completed_on = match status {
                        MeasureStatus::Done => m
                            .completed_on
                            .or(current.completed_on)
                            .or(Some(now.date_naive())),
                        _ => None,
                    };
                    let changed = current.content != m.content
                        || current.status != status
                        || current.completed_on != completed_on
                        || (m.deadline.is_some() && current.deadline != m.deadline);
                    if changed {
                        let updated = measure::Entity::update_many()
                            .col_expr(measure::Column::Content, Expr::value(m.content.clone()))
                            .col_expr(measure::Column::Status, Expr::value(status.as_str()))
                            .col_expr(measure::Column::CompletedOn, Expr::value(completed_on))
                            .col_expr(
                                measure::Column::Deadline,
                                Expr::value(m.deadline.or(current.deadline)),
                            )
                            .col_expr(
                                measure::Column::Version,
                                Expr::col(measure::Column::Version).add(1),
                            )
                            .col_expr(measure::Column::UpdatedAt, Expr::value(now))
                            .filter(measure::Column::Id.eq(current.id))
                            .filter(measure::Column::Version.eq(current.version))
                            .exec(txn)
                            .await?;
                        if updated.rows_affected == 0 {
                            return Err(AppError::Conflict(format!(
                                "measure {} changed during the import",
                                current.id
                            )));
                        }
                        let after = measure::Entity::find_by_id(current.id).one(txn).await?;
                        note(
                            txn,
                            caller,
                            actor,
                            finding_id,
                            Some(current.id),
                            format!("台账导入：更新措施{}", current.ordinal),
                        )
                        .await?;
                        let record = Record {
                            kind: "measure",
                            id: current.id,
                            department_id: Some(department_id),
                        };
                        record_audited(
                            txn,
                            actor,
                            "measure.import",
                            record,
                            Some(current),
                            after.as_ref(),
                        )
                        .await?;
                        report.measures_updated += 1;
                    }
                }
            }
        }
        if let Some(text) = &g.progress {
            let latest = progress_entry::Entity::find()
                .filter(progress_entry::Column::FindingId.eq(finding_id))
                .filter(
                    progress_entry::Column::Kind
                        .is_in(crate::domain::ledger_export::PROGRESS_KINDS),
                )
                .order_by_desc(progress_entry::Column::Id)
                .one(txn)
                .await?;
            if latest.as_ref().map(|e| e.content.as_str()) != Some(text.as_str()) {
                let entry = progress_entry::ActiveModel {
                    finding_id: Set(finding_id),
                    entry_date: Set(now.date_naive()),
                    kind: Set(ProgressKind::Progress),
                    content: Set(text.clone()),
                    author_sub: Set(actor.sub.clone()),
                    author_name: Set(caller.identity().and_then(|i| i.name.clone())),
                    author_role: Set(Some(actor.role.clone())),
                    created_at: Set(now),
                    ..Default::default()
                }
                .insert(txn)
                .await?;
                let record = Record {
                    kind: "progress_entry",
                    id: entry.id,
                    department_id: Some(department_id),
                };
                record_audited(
                    txn,
                    actor,
                    "progress_entry.import",
                    record,
                    None,
                    Some(&entry),
                )
                .await?;
                report.entries_added += 1;
            }
        }
    }
    Ok(())
}

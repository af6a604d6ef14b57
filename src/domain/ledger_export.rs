//! Exporting an inspection's ledger (整改台账) as a unit's spreadsheet: one row per finding and
//! measure, with the unit's columns first and then what a re-import needs (ids and versions).

use std::collections::HashMap;

use entity::{category, department, finding, measure, progress_entry};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::auth::Caller;
use crate::domain::{inspection as inspections, summary};
use crate::error::{AppError, AppResult};
use crate::report::{measure_status_zh, status_zh};

pub const COLUMNS: [&str; 20] = [
    "序号",
    "问题",
    "整改措施",
    "责任领导",
    "责任科室",
    "责任人",
    "整改时限",
    "整改进展",
    "状态",
    "方面",
    "问题描述",
    "整改类型",
    "措施序号",
    "措施状态",
    "措施时限",
    "完成日期",
    "问题ID",
    "问题版本",
    "措施ID",
    "措施版本",
];

/// The entries whose latest one is a finding's 整改进展: what was done, not the system's notes.
pub const PROGRESS_KINDS: [entity::enums::ProgressKind; 3] = [
    entity::enums::ProgressKind::Progress,
    entity::enums::ProgressKind::Meeting,
    entity::enums::ProgressKind::Recheck,
];

pub fn type_zh(kind: &str) -> &'static str {
    match kind {
        "immediate" => "立行立改",
        "long_term" => "长期坚持",
        _ => "限期整改",
    }
}

/// The ledger rows of an inspection the caller may read (archived records left out).
pub async fn rows(
    db: &impl ConnectionTrait,
    caller: &Caller,
    inspection_id: i32,
) -> AppResult<Vec<Vec<String>>> {
    inspections::get(db, caller, inspection_id).await?;
    let findings = summary::findings(db, caller, summary::Over::Inspection(inspection_id))
        .await?
        .order_by_asc(finding::Column::Ordinal)
        .all(db)
        .await?;
    let ids: Vec<i32> = findings.iter().map(|f| f.id).collect();
    let measures = measure::Entity::find()
        .filter(measure::Column::FindingId.is_in(ids.clone()))
        .filter(measure::Column::ArchivedAt.is_null())
        .order_by_asc(measure::Column::Ordinal)
        .all(db)
        .await?;
    let latest: HashMap<i32, String> = progress_entry::Entity::find()
        .filter(progress_entry::Column::FindingId.is_in(ids))
        .filter(progress_entry::Column::Kind.is_in(PROGRESS_KINDS))
        .order_by_asc(progress_entry::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.finding_id, e.content))
        .collect();
    let departments: HashMap<i32, String> = department::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.id, d.name))
        .collect();
    let categories: HashMap<i32, String> = category::Entity::find()
        .filter(category::Column::InspectionId.eq(inspection_id))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.title))
        .collect();
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    let mut rows = vec![COLUMNS.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>()];
    for f in &findings {
        let own: Vec<&measure::Model> = measures.iter().filter(|m| m.finding_id == f.id).collect();
        let finding_cells = |m: Option<&measure::Model>| -> Vec<String> {
            vec![
                f.ordinal.to_string(),
                f.title.clone(),
                m.map(|m| m.content.clone()).unwrap_or_default(),
                f.responsible_leader.clone().unwrap_or_default(),
                departments
                    .get(&f.department_id)
                    .cloned()
                    .unwrap_or_default(),
                f.responsible_person.clone().unwrap_or_default(),
                date(f.deadline),
                latest.get(&f.id).cloned().unwrap_or_default(),
                status_zh(f.status.as_str()).to_owned(),
                f.category_id
                    .and_then(|c| categories.get(&c).cloned())
                    .unwrap_or_default(),
                f.description.clone(),
                type_zh(f.rectification_type.as_str()).to_owned(),
                m.map(|m| m.ordinal.to_string()).unwrap_or_default(),
                m.map(|m| measure_status_zh(m.status.as_str()).to_owned())
                    .unwrap_or_default(),
                m.map(|m| date(m.deadline)).unwrap_or_default(),
                m.map(|m| date(m.completed_on)).unwrap_or_default(),
                f.id.to_string(),
                f.version.to_string(),
                m.map(|m| m.id.to_string()).unwrap_or_default(),
                m.map(|m| m.version.to_string()).unwrap_or_default(),
            ]
        };
        if own.is_empty() {
            rows.push(finding_cells(None));
        }
        for m in own {
            rows.push(finding_cells(Some(m)));
        }
    }
    Ok(rows)
}

/// The rows as CSV with a byte-order mark (for spreadsheet programs).
pub fn csv(rows: &[Vec<String>]) -> String {
    crate::report::ledger::write_csv(rows)
}

/// The rows as JSON: an array of objects keyed by heading.
pub fn json(rows: &[Vec<String>]) -> serde_json::Value {
    let header = &rows[0];
    serde_json::Value::Array(
        rows[1..]
            .iter()
            .map(|row| {
                serde_json::Value::Object(
                    header
                        .iter()
                        .cloned()
                        .zip(row.iter().map(|c| serde_json::Value::String(c.clone())))
                        .collect(),
                )
            })
            .collect(),
    )
}

/// The rows as an XLSX workbook with one sheet, 整改台账.
pub fn xlsx(rows: &[Vec<String>]) -> AppResult<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap();
    let sheet = workbook
        .add_worksheet()
        .set_name(crate::report::xlsx::LEDGER_SHEET)
        .map_err(AppError::internal)?;
    for (r, row) in rows.iter().enumerate() {
        for (c, value) in row.iter().enumerate() {
            let format = if r == 0 { &bold } else { &wrap };
            sheet
                .write_string_with_format(r as u32, c as u16, value, format)
                .map_err(AppError::internal)?;
        }
    }
    workbook.save_to_buffer().map_err(AppError::internal)
}

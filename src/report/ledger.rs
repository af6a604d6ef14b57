//! The ledger (整改台账) as rows of text, built from a snapshot, in two layouts: the report's
//! table (one row per finding, with the period's progress) and the machine-readable export
//! (one row per finding and measure, with ids and versions, which the import reads back).
//! The CSV and XLSX renderings of both are written from these rows, so they always agree.

use super::{FindingFacts, Snapshot, measure_status_zh, status_zh, type_zh};
use crate::ledger_file::{Col, HEADINGS};
use crate::spreadsheet::neutralise;

/// The columns of a report's ledger table.
pub const REPORT_COLUMNS: [&str; 9] = [
    "序号",
    "问题",
    "整改措施",
    "责任领导",
    "责任科室",
    "责任人",
    "整改时限",
    "整改进展",
    "状态",
];

/// One row per finding, in the order of the bulletin, with its measures and the period's
/// progress joined into cells.
pub fn report_rows(snapshot: &Snapshot) -> Vec<Vec<String>> {
    let mut rows = vec![REPORT_COLUMNS.map(str::to_owned).to_vec()];
    for f in snapshot.findings() {
        let measures = f
            .measures
            .iter()
            .map(|m| measure_line(m.ordinal, &m.content))
            .collect::<Vec<_>>()
            .join("\n");
        let progress = f
            .progress
            .iter()
            .map(|e| format!("{} {}", e.entry_date, e.content))
            .collect::<Vec<_>>()
            .join("\n");
        rows.push(vec![
            f.ordinal.to_string(),
            f.title.clone(),
            measures,
            f.responsible_leader.clone().unwrap_or_default(),
            f.department.clone(),
            f.responsible_person.clone().unwrap_or_default(),
            f.deadline.map(|d| d.to_string()).unwrap_or_default(),
            progress,
            status_zh(&f.status),
        ]);
    }
    rows
}

/// A measure as a printed ledger lists it: `N. content`, or the content alone when the unit
/// wrote its own number (一是…, （一）…, 1.…), so that nothing is numbered twice.
pub fn measure_line(ordinal: i32, content: &str) -> String {
    if super::bulletin::numbered(content) {
        content.to_owned()
    } else {
        format!("{ordinal}. {content}")
    }
}

/// The latest work recorded for a finding (the 整改进展 cell).
fn latest_progress(f: &FindingFacts) -> String {
    f.progress
        .iter()
        .rev()
        .find(|e| {
            entity::enums::ProgressKind::parse(&e.kind)
                .is_some_and(|k| entity::enums::ProgressKind::WORK.contains(&k))
        })
        .map(|e| e.content.clone())
        .unwrap_or_default()
}

/// The export: a header row of [`HEADINGS`], then one row per finding and measure (a finding
/// without measures has one row), which the ledger import reads back.
pub fn machine_rows(snapshot: &Snapshot) -> Vec<Vec<String>> {
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    let number = |n: Option<i32>| n.map(|n| n.to_string()).unwrap_or_default();
    let mut rows = vec![HEADINGS.iter().map(|(_, h)| h[0].to_owned()).collect()];
    for category in &snapshot.categories {
        for f in &category.findings {
            let progress = latest_progress(f);
            let measures: Vec<Option<&super::MeasureFacts>> = if f.measures.is_empty() {
                vec![None]
            } else {
                f.measures.iter().map(Some).collect()
            };
            for m in measures {
                let cell = |col: Col| -> String {
                    match col {
                        Col::Ordinal => f.ordinal.to_string(),
                        Col::Title => f.title.clone(),
                        Col::Measure => m.map(|m| m.content.clone()).unwrap_or_default(),
                        Col::Leader => f.responsible_leader.clone().unwrap_or_default(),
                        Col::Department => f.department.clone(),
                        Col::Person => f.responsible_person.clone().unwrap_or_default(),
                        Col::Deadline => date(f.deadline),
                        Col::Progress => progress.clone(),
                        Col::Status => status_zh(&f.status),
                        Col::Category => category.title.clone().unwrap_or_default(),
                        Col::Description => f.description.clone(),
                        Col::Kind => type_zh(&f.rectification_type).to_owned(),
                        Col::Disclosed => if f.disclosed { "是" } else { "否" }.to_owned(),
                        Col::MeasureOrdinal => number(m.map(|m| m.ordinal)),
                        Col::MeasureStatus => {
                            m.map(|m| measure_status_zh(&m.status)).unwrap_or_default()
                        }
                        Col::MeasureDeadline => date(m.and_then(|m| m.deadline)),
                        Col::CompletedOn => date(m.and_then(|m| m.completed_on)),
                        Col::FindingId => f.id.to_string(),
                        Col::FindingVersion => f.version.to_string(),
                        Col::MeasureId => number(m.and_then(|m| m.id)),
                        Col::MeasureVersion => number(m.and_then(|m| m.version)),
                    }
                };
                rows.push(HEADINGS.iter().map(|(col, _)| cell(*col)).collect());
            }
        }
    }
    rows
}

/// Records as CSV in UTF-8 with a byte-order mark, so that spreadsheet programs read the
/// Chinese text correctly; every cell [neutralised](crate::spreadsheet::neutralise), so that
/// they show a text that looks like a formula rather than run it.
pub fn write_csv<R: AsRef<[String]>>(records: impl IntoIterator<Item = R>) -> String {
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    for record in records {
        let cells = record
            .as_ref()
            .iter()
            .map(|cell| neutralise(cell).into_owned());
        let _ = writer.write_record(cells);
    }
    let bytes = writer.into_inner().unwrap_or_default();
    format!("\u{FEFF}{}", String::from_utf8_lossy(&bytes))
}

/// Rows (the first one the header) as JSON: an array of objects keyed by heading.
pub fn json(rows: &[Vec<String>]) -> serde_json::Value {
    let Some((header, body)) = rows.split_first() else {
        return serde_json::Value::Array(Vec::new());
    };
    serde_json::Value::Array(
        body.iter()
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

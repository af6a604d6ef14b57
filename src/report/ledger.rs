//! The ledger table (整改台账) with the columns a unit's spreadsheet uses, as rows of text;
//! shared by the CSV and XLSX renderings so the two always agree.

use super::{Snapshot, status_zh};

pub const COLUMNS: [&str; 9] = [
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

/// One row per finding, in the order of the bulletin.
pub fn rows(snapshot: &Snapshot) -> Vec<[String; 9]> {
    let mut rows = Vec::new();
    for category in &snapshot.categories {
        for f in &category.findings {
            let measures = f
                .measures
                .iter()
                .map(|m| format!("{}. {}", m.ordinal, m.content))
                .collect::<Vec<_>>()
                .join("\n");
            let progress = f
                .progress
                .iter()
                .map(|e| format!("{} {}", e.entry_date, e.content))
                .collect::<Vec<_>>()
                .join("\n");
            rows.push([
                f.ordinal.to_string(),
                f.title.clone(),
                measures,
                f.responsible_leader.clone().unwrap_or_default(),
                f.department.clone(),
                f.responsible_person.clone().unwrap_or_default(),
                f.deadline.map(|d| d.to_string()).unwrap_or_default(),
                progress,
                status_zh(&f.status).to_owned(),
            ]);
        }
    }
    rows
}

/// The ledger as CSV: a header row, then one row per finding.
pub fn csv(snapshot: &Snapshot) -> String {
    let header = COLUMNS.map(str::to_owned);
    write_csv(std::iter::once(header).chain(rows(snapshot)))
}

/// Records as CSV in UTF-8 with a byte-order mark, so that spreadsheet programs read the
/// Chinese text correctly.
pub fn write_csv<R: AsRef<[String]>>(records: impl IntoIterator<Item = R>) -> String {
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    for record in records {
        let _ = writer.write_record(record.as_ref());
    }
    let bytes = writer.into_inner().unwrap_or_default();
    format!("\u{FEFF}{}", String::from_utf8_lossy(&bytes))
}

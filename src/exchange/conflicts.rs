//! The conflict report: the office's decisions on a unit's findings that the unit's records no
//! longer fitted (the unit had moved the finding since), as either side recorded them, for a
//! person to settle. The rows are `domain::integration::decisions::conflicts`; this is their
//! printed form (a workbook laid out like the three lists) and their JSON.

use chrono::Utc;
use serde::Serialize;

use crate::config::TimeZone;
use crate::domain::integration::decisions::Conflict;
use crate::report::lists::{Group, Table};

/// The report as JSON: when it was drawn up, and its rows.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report<'a> {
    pub title: String,
    pub generated_at: chrono::DateTime<Utc>,
    pub conflicts: Vec<Line<'a>>,
}

/// A row with the side as people name it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Line<'a> {
    #[serde(flatten)]
    pub conflict: &'a Conflict,
    pub side_label: String,
}

fn side_label(side: &str) -> String {
    match side {
        "office" => t!("exchange-conflict-side-office"),
        _ => t!("exchange-conflict-side-unit"),
    }
}

pub fn report(rows: &[Conflict]) -> Report<'_> {
    Report {
        title: t!("exchange-conflict-title"),
        generated_at: Utc::now(),
        conflicts: rows
            .iter()
            .map(|c| Line {
                conflict: c,
                side_label: side_label(c.side),
            })
            .collect(),
    }
}

/// The report as a printed table (the rows grouped by side).
pub fn table(rows: &[Conflict], zone: TimeZone) -> Table {
    let time = |t: chrono::DateTime<Utc>| {
        t.with_timezone(&zone.0)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    };
    let mut groups = Vec::new();
    for side in ["office", "unit"] {
        let rows: Vec<Vec<String>> = rows
            .iter()
            .filter(|c| c.side == side)
            .map(|c| {
                vec![
                    c.peer.clone(),
                    c.unit_code.clone(),
                    c.decision_id.to_string(),
                    c.finding_id.to_string(),
                    c.finding_title.clone().unwrap_or_default(),
                    c.move_label.clone(),
                    c.text.clone().unwrap_or_default(),
                    c.decided_by.clone().unwrap_or_default(),
                    time(c.decided_at),
                    c.reason.clone().unwrap_or_default(),
                    time(c.recorded_at),
                ]
            })
            .collect();
        if !rows.is_empty() {
            groups.push(Group {
                heading: Some(side_label(side)),
                rows,
            });
        }
    }
    Table {
        title: t!("exchange-conflict-title"),
        sheet: "冲突报告",
        line: t!(
            "exchange-conflict-line",
            date = Utc::now()
                .with_timezone(&zone.0)
                .format("%Y-%m-%d %H:%M")
                .to_string(),
            count = rows.len().to_string()
        ),
        columns: vec![
            ("交换对方", 16.0),
            ("单位代码", 10.0),
            ("决定编号", 8.0),
            ("问题编号", 8.0),
            ("问题", 36.0),
            ("决定", 10.0),
            ("意见或理由", 30.0),
            ("决定人", 12.0),
            ("决定时间", 16.0),
            ("未执行原因", 40.0),
            ("记录时间", 16.0),
        ],
        groups,
    }
}

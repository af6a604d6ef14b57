//! The three lists and the timetable as tables people print and file: a title, the inspection
//! and the date, the header (repeated on every printed page), each group's heading merged
//! across the row, landscape A4 (XLSX); or the same rows as CSV, the group in the first column.

use rust_xlsxwriter::{Workbook, XlsxError};

use super::{chinese_date, chinese_number, measure_status_zh, status_zh, type_zh};
use crate::domain::reads::lists::Plan;
use crate::domain::reads::lists::problems::ProblemList;
use crate::domain::reads::lists::responsibilities::{Responsibility, ResponsibilityList};
use crate::domain::reads::lists::tasks::TaskList;
use crate::domain::reads::lists::timetable::{Tally, Timetable};
use crate::domain::workflow::warning::Level;

/// A list laid out as a table.
pub struct Table {
    /// 问题清单, 任务清单, ...
    pub title: String,
    /// The sheet's name.
    pub sheet: &'static str,
    /// The inspection, the unit and the day it was drawn up.
    pub line: String,
    /// Column headings and widths (characters).
    pub columns: Vec<(&'static str, f64)>,
    pub groups: Vec<Group>,
}

/// Rows under a heading (none: the table has no groups).
pub struct Group {
    pub heading: Option<String>,
    pub rows: Vec<Vec<String>>,
}

fn day(d: Option<chrono::NaiveDate>) -> String {
    d.map(chinese_date).unwrap_or_default()
}

fn warning_zh(level: Level) -> &'static str {
    match level {
        Level::None => "",
        Level::Green => "绿色预警",
        Level::Yellow => "黄色预警",
        Level::Red => "红色预警",
    }
}

fn line(plan: &Plan, truncated: bool) -> String {
    let i = &plan.inspection;
    let mut line = format!(
        "巡察：{}（{}）　　被巡察单位：{}　　制表日期：{}",
        i.title,
        i.inspection_group,
        plan.unit_name,
        chinese_date(plan.thresholds.today)
    );
    if truncated {
        line.push_str("　　（问题过多，仅列前 5000 个）");
    }
    line
}

/// 问题清单.
pub fn problems(plan: &Plan, list: &ProblemList) -> Table {
    Table {
        title: format!("{}巡察反馈问题清单", plan.unit_name),
        sheet: "问题清单",
        line: line(plan, list.truncated),
        columns: vec![
            ("序号", 6.0),
            ("问题", 48.0),
            ("整改类型", 10.0),
            ("整改时限", 14.0),
            ("责任领导", 10.0),
            ("责任科室", 14.0),
            ("责任人", 10.0),
            ("整改状态", 10.0),
            ("整改进度", 12.0),
            ("预警", 10.0),
            ("是否公开", 8.0),
        ],
        groups: list
            .groups
            .iter()
            .map(|g| Group {
                heading: Some(match g.ordinal {
                    Some(n) => format!("{}、{}", chinese_number(n), g.heading),
                    None => g.heading.clone(),
                }),
                rows: g
                    .problems
                    .iter()
                    .map(|p| {
                        vec![
                            p.ordinal.to_string(),
                            if p.description.is_empty() {
                                p.title.clone()
                            } else {
                                format!("{}\n{}", p.title, p.description)
                            },
                            type_zh(p.rectification_type.as_str()).to_owned(),
                            day(p.deadline),
                            p.responsible_leader.clone().unwrap_or_default(),
                            p.department.clone(),
                            p.responsible_person.clone().unwrap_or_default(),
                            status_zh(p.status.as_str()),
                            format!("{}%（措施{}/{}）", p.progress, p.measures_done, p.measures),
                            if p.overdue {
                                "逾期".to_owned()
                            } else {
                                warning_zh(p.warning).to_owned()
                            },
                            if p.disclosed { "是" } else { "否" }.to_owned(),
                        ]
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// 任务清单, grouped by finding.
pub fn tasks(plan: &Plan, list: &TaskList) -> Table {
    let mut groups: Vec<Group> = Vec::new();
    let mut current: Option<i32> = None;
    for t in &list.tasks {
        if current != Some(t.finding_id) {
            current = Some(t.finding_id);
            groups.push(Group {
                heading: Some(format!("{}. {}", t.finding_ordinal, t.finding_title)),
                rows: Vec::new(),
            });
        }
        if let Some(g) = groups.last_mut() {
            g.rows.push(vec![
                format!("{}-{}", t.finding_ordinal, t.ordinal),
                t.content.clone(),
                t.department.clone(),
                t.responsible_person.clone().unwrap_or_default(),
                day(t.deadline),
                day(t.completed_on),
                measure_status_zh(t.status.as_str()),
                t.evidence.to_string(),
                if t.overdue {
                    "逾期".to_owned()
                } else {
                    warning_zh(t.warning).to_owned()
                },
            ]);
        }
    }
    Table {
        title: format!("{}巡察整改任务清单", plan.unit_name),
        sheet: "任务清单",
        line: line(plan, list.truncated),
        columns: vec![
            ("编号", 8.0),
            ("整改任务（措施）", 50.0),
            ("责任科室", 14.0),
            ("责任人", 10.0),
            ("完成时限", 14.0),
            ("完成日期", 14.0),
            ("状态", 10.0),
            ("佐证材料", 8.0),
            ("预警", 10.0),
        ],
        groups,
    }
}

/// 责任清单: leaders, departments, people.
pub fn responsibilities(plan: &Plan, list: &ResponsibilityList) -> Table {
    let rows = |rows: &[Responsibility]| {
        rows.iter()
            .map(|r| {
                vec![
                    r.name.clone(),
                    r.finding_ordinals
                        .iter()
                        .map(i32::to_string)
                        .collect::<Vec<_>>()
                        .join("、"),
                    r.findings.to_string(),
                    r.findings_closed.to_string(),
                    r.measures.to_string(),
                    r.measures_done.to_string(),
                    (r.findings_overdue + r.measures_overdue).to_string(),
                    warning_zh(r.warning.unwrap_or(Level::None)).to_owned(),
                ]
            })
            .collect()
    };
    Table {
        title: format!("{}巡察整改责任清单", plan.unit_name),
        sheet: "责任清单",
        line: line(plan, list.truncated),
        columns: vec![
            ("责任主体", 16.0),
            ("负责问题（序号）", 30.0),
            ("问题数", 8.0),
            ("已销号", 8.0),
            ("措施数", 8.0),
            ("措施完成", 8.0),
            ("逾期", 8.0),
            ("最高预警", 10.0),
        ],
        groups: vec![
            Group {
                heading: Some("一、责任领导".to_owned()),
                rows: rows(&list.leaders),
            },
            Group {
                heading: Some("二、责任科室".to_owned()),
                rows: rows(&list.departments),
            },
            Group {
                heading: Some("三、责任人".to_owned()),
                rows: rows(&list.people),
            },
        ],
    }
}

/// 时间表: one row per half-month period.
pub fn timetable(plan: &Plan, table: &Timetable) -> Table {
    let cells = |t: &Tally| {
        [t.due, t.on_time, t.late, t.overdue, t.open]
            .into_iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
    };
    Table {
        title: format!("{}巡察整改时间表", plan.unit_name),
        sheet: "时间表",
        line: line(plan, table.truncated),
        columns: vec![
            ("时段", 26.0),
            ("报送日", 14.0),
            ("到期问题", 8.0),
            ("问题按期完成", 10.0),
            ("问题逾期完成", 10.0),
            ("问题逾期未完成", 10.0),
            ("问题未到期", 10.0),
            ("到期措施", 8.0),
            ("措施按期完成", 10.0),
            ("措施逾期完成", 10.0),
            ("措施逾期未完成", 10.0),
            ("措施未到期", 10.0),
        ],
        groups: vec![Group {
            heading: None,
            rows: table
                .periods
                .iter()
                .map(|p| {
                    let mut row = vec![
                        format!("{}至{}", chinese_date(p.starts_on), chinese_date(p.ends_on)),
                        chinese_date(p.ends_on),
                    ];
                    row.extend(cells(&p.findings));
                    row.extend(cells(&p.measures));
                    row
                })
                .collect(),
        }],
    }
}

/// The table as CSV: the header, then every row with its group's heading first.
pub fn csv(table: &Table) -> Vec<u8> {
    let mut rows: Vec<Vec<String>> = Vec::new();
    let grouped = table.groups.iter().any(|g| g.heading.is_some());
    let mut header: Vec<String> = Vec::new();
    if grouped {
        header.push("分组".to_owned());
    }
    header.extend(table.columns.iter().map(|(n, _)| (*n).to_owned()));
    rows.push(header);
    for g in &table.groups {
        for r in &g.rows {
            let mut row = Vec::with_capacity(r.len() + 1);
            if grouped {
                row.push(g.heading.clone().unwrap_or_default());
            }
            row.extend(r.iter().cloned());
            rows.push(row);
        }
    }
    super::ledger::write_csv(rows).into_bytes()
}

/// Rows above the header: the title and the inspection line.
const TOP: u32 = 2;

/// The table as a workbook laid out for printing.
pub fn xlsx(table: &Table) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let super::xlsx::Printed {
        cell,
        header,
        group,
        title,
        line: left,
    } = super::xlsx::Printed::default();
    let last = table.columns.len().max(1) as u16 - 1;
    let sheet = workbook.add_worksheet();
    sheet.set_name(table.sheet)?;
    for (col, (_, width)) in table.columns.iter().enumerate() {
        sheet.set_column_width(col as u16, *width)?;
    }
    sheet.set_row_height(0, 30)?;
    sheet.merge_range(0, 0, 0, last, &table.title, &title)?;
    sheet.merge_range(1, 0, 1, last, &table.line, &left)?;
    for (col, (name, _)) in table.columns.iter().enumerate() {
        sheet.write_string_with_format(TOP, col as u16, *name, &header)?;
    }
    let mut row = TOP + 1;
    for g in &table.groups {
        if let Some(heading) = &g.heading {
            sheet.merge_range(row, 0, row, last, heading, &group)?;
            row += 1;
        }
        for r in &g.rows {
            for (col, text) in r.iter().enumerate() {
                // Excel refuses a cell of more than 32,767 characters.
                let text: String = text.chars().take(32_000).collect();
                sheet.write_string_with_format(row, col as u16, text, &cell)?;
            }
            row += 1;
        }
    }
    sheet.set_freeze_panes(TOP + 1, 0)?;
    sheet.set_repeat_rows(TOP, TOP)?;
    sheet.set_print_area(0, 0, row.saturating_sub(1).max(TOP), last)?;
    sheet.set_landscape();
    sheet.set_paper_size(9);
    sheet.set_print_fit_to_pages(1, 0);
    sheet.set_print_center_horizontally(true);
    sheet.set_footer("&C第 &P 页，共 &N 页");
    workbook.save_to_buffer()
}

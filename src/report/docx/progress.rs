//! The semi-monthly progress report (整改情况报告) as a Word document: the period, 一、 the
//! figures, 二、 each heading's findings (（一）, then 1. each finding with its responsibility,
//! measures, targets and the period's progress), 三、 the ledger as a table; the unit and the
//! period's last day at the end.

use super::Official;
use crate::error::AppResult;
use crate::report::lists::{Group, Table};
use crate::report::{
    Snapshot, chinese_date, chinese_number, ledger, measure_status_zh, status_zh, type_zh,
};

/// 0.571 → 57.1%.
fn percent(rate: f64) -> String {
    format!("{:.1}%", rate * 100.0)
}

/// The report of `snapshot` as DOCX.
pub fn render(s: &Snapshot) -> AppResult<Vec<u8>> {
    let i = &s.inspection;
    let mut doc = Official::new();
    doc.title(&format!("{}关于巡察整改进展情况的报告", i.unit_name));
    let period = match s.period_start {
        Some(start) => format!(
            "（报告期：{}至{}）",
            chinese_date(start),
            chinese_date(s.period_end)
        ),
        None => format!("（截至{}）", chinese_date(s.period_end)),
    };
    doc.centred(&period);
    doc.paragraph(&format!(
        "根据{}“{}”反馈意见，现将截至{}的巡察整改进展情况报告如下。",
        i.inspection_group,
        i.title,
        chinese_date(s.period_end)
    ));

    let m = &s.summary;
    doc.heading("一、总体情况");
    let mut figures = format!(
        "巡察反馈问题共{}个，已销号{}个，待审核{}个，整改中{}个，未开始{}个，逾期{}个；整改措施{}项，已完成{}项，整改完成率{}。建立完善制度{}项，召开会议{}次；量化目标{}个，已达标{}个。",
        m.total,
        m.closed,
        m.pending_review,
        m.in_progress,
        m.not_started,
        m.overdue,
        m.measures_total,
        m.measures_done,
        percent(m.completion_rate),
        m.regulations,
        m.meetings,
        m.targets_total,
        m.targets_met,
    );
    if m.relapsed > 0 {
        figures.push_str(&format!("回头看发现{}个已销号问题出现反弹。", m.relapsed));
    }
    doc.paragraph(&figures);
    // What an exchanged unit's figures stand on (its last bundle as of the report).
    for sentence in s.exchanged_sentences() {
        doc.paragraph(&format!("{sentence}。"));
    }

    doc.heading("二、问题整改情况");
    for (n, category) in s.categories.iter().enumerate() {
        let heading = category.title.as_deref().unwrap_or("其他问题");
        doc.subheading(&format!("（{}）{}", chinese_number(n as i32 + 1), heading));
        for f in &category.findings {
            doc.item(
                &format!("{}. {}（{}）", f.ordinal, f.title, status_zh(&f.status)),
                "",
            );
            if !f.description.trim().is_empty() {
                doc.paragraph(f.description.trim());
            }
            let or_dash = |v: Option<&str>| v.unwrap_or("—").to_owned();
            doc.paragraph(&format!(
                "责任领导：{}；责任科室：{}；责任人：{}；整改类型：{}；整改时限：{}。",
                or_dash(f.responsible_leader.as_deref()),
                f.department,
                or_dash(f.responsible_person.as_deref()),
                type_zh(&f.rectification_type),
                f.deadline.map_or("—".to_owned(), chinese_date),
            ));
            if !f.measures.is_empty() {
                let measures: Vec<String> = f
                    .measures
                    .iter()
                    .map(|m| {
                        format!(
                            "{}（{}）",
                            ledger::measure_line(m.ordinal, m.content.trim()),
                            measure_status_zh(&m.status)
                        )
                    })
                    .collect();
                doc.paragraph(&format!("整改措施：{}", measures.join("；")));
            }
            for t in &f.targets {
                let show =
                    |v: Option<f64>| v.map_or("—".to_owned(), |v| format!("{v}{}", t.unit));
                doc.paragraph(&format!(
                    "目标“{}”：基数{}，要求{}，当前{}。",
                    t.name,
                    show(t.baseline),
                    show(t.required_value),
                    show(t.current_value)
                ));
            }
            if !f.progress.is_empty() {
                let entries: Vec<String> = f
                    .progress
                    .iter()
                    .map(|e| format!("{}，{}", chinese_date(e.entry_date), e.content.trim()))
                    .collect();
                doc.paragraph(&format!("本期进展：{}", entries.join("；")));
            }
        }
    }

    doc.heading("三、整改台账");
    doc.table(&ledger_table(s))?;
    doc.signature(&i.unit_name, &chinese_date(s.period_end));
    doc.finish()
}

/// The report's ledger (one row per finding) as a table.
fn ledger_table(s: &Snapshot) -> Table {
    let widths = [5.0, 22.0, 34.0, 8.0, 10.0, 8.0, 11.0, 26.0, 8.0];
    let mut rows = ledger::report_rows(s);
    let body = if rows.is_empty() {
        Vec::new()
    } else {
        rows.split_off(1)
    };
    Table {
        title: String::new(),
        sheet: "整改台账",
        line: String::new(),
        columns: ledger::REPORT_COLUMNS.iter().copied().zip(widths).collect(),
        groups: vec![Group {
            heading: None,
            rows: body,
        }],
    }
}

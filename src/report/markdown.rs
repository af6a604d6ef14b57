//! The progress report (整改情况报告) as Markdown, for reading and for pasting into documents.
//! Every text from the data is written through [`md`], so that it reads as typed.

use std::fmt::Write;

use super::md::{self, line};
use super::{Snapshot, chinese_number, measure_status_zh, status_zh};

pub fn render(s: &Snapshot) -> String {
    let mut out = String::new();
    let i = &s.inspection;
    let _ = writeln!(out, "# {}巡察整改情况报告", line(&i.unit_name));
    let _ = writeln!(out);
    let period = match s.period_start {
        Some(start) => format!("{start} 至 {}", s.period_end),
        None => format!("截至 {}", s.period_end),
    };
    let _ = writeln!(
        out,
        "- 巡察：{}（{}）",
        line(&i.title),
        line(&i.inspection_group)
    );
    let _ = writeln!(out, "- 报告期：{period}");
    let _ = writeln!(
        out,
        "- 生成时间：{}",
        s.generated_at.format("%Y-%m-%d %H:%M（UTC%:z）")
    );
    let _ = writeln!(out);
    let m = &s.summary;
    let _ = writeln!(out, "## 总体情况");
    let _ = writeln!(out);
    let _ = writeln!(out, "| 项目 | 数量 |");
    let _ = writeln!(out, "| --- | --- |");
    for (label, value) in [
        ("问题总数", m.total.to_string()),
        ("已销号", m.closed.to_string()),
        ("待审核", m.pending_review.to_string()),
        ("整改中", m.in_progress.to_string()),
        ("未开始", m.not_started.to_string()),
        ("逾期", m.overdue.to_string()),
        (
            "整改措施（已完成/总数）",
            format!("{}/{}", m.measures_done, m.measures_total),
        ),
        ("完成率", format!("{:.1}%", m.completion_rate * 100.0)),
        ("建立完善制度", m.regulations.to_string()),
        ("召开会议", m.meetings.to_string()),
        (
            "目标（达标/总数）",
            format!("{}/{}", m.targets_met, m.targets_total),
        ),
        ("问题反弹", m.relapsed.to_string()),
        (
            "公众反馈（收到/已答复/已关联问题）",
            format!(
                "{}/{}/{}",
                m.feedback_received, m.feedback_answered, m.feedback_linked
            ),
        ),
        ("督办件数", m.supervision_issued.to_string()),
        ("逾期未复", m.supervision_overdue.to_string()),
        (
            "按期回复率",
            m.supervision_on_time_rate
                .map_or_else(|| "—".to_owned(), |r| format!("{:.1}%", r * 100.0)),
        ),
    ] {
        let _ = writeln!(out, "| {label} | {value} |");
    }
    // What an exchanged unit's figures stand on (its last bundle as of the report).
    for sentence in s.exchanged_sentences() {
        let _ = writeln!(out);
        let _ = writeln!(out, "{}", md::paragraph(sentence));
    }
    for (n, category) in s.categories.iter().enumerate() {
        let _ = writeln!(out);
        let heading = category.title.as_deref().unwrap_or("其他问题");
        let _ = writeln!(
            out,
            "## {}、{}",
            chinese_number(n as i32 + 1),
            line(heading)
        );
        for f in &category.findings {
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "### {}. {}（{}）",
                f.ordinal,
                line(&f.title),
                status_zh(&f.status)
            );
            let _ = writeln!(out);
            if !f.description.is_empty() {
                let _ = writeln!(out, "{}", md::paragraph(&f.description));
                let _ = writeln!(out);
            }
            let deadline = f
                .deadline
                .map(|d| d.to_string())
                .unwrap_or_else(|| "—".to_owned());
            let _ = writeln!(
                out,
                "责任科室：{}；责任领导：{}；责任人：{}；整改时限：{deadline}",
                line(&f.department),
                line(f.responsible_leader.as_deref().unwrap_or("—")),
                line(f.responsible_person.as_deref().unwrap_or("—")),
            );
            let _ = writeln!(out);
            for m in &f.measures {
                // A measure with its own number (一是…) is listed without another one.
                let number = if super::bulletin::numbered(&m.content) {
                    "-".to_owned()
                } else {
                    format!("{}.", m.ordinal)
                };
                let _ = writeln!(
                    out,
                    "{number} {}（{}）",
                    line(&m.content),
                    measure_status_zh(&m.status)
                );
            }
            for t in &f.targets {
                let show = |v: Option<f64>| {
                    v.map_or("—".to_owned(), |v| format!("{v}{}", line(&t.unit)))
                };
                let _ = writeln!(
                    out,
                    "- 目标“{}”：基数 {}，要求 {}，当前 {}",
                    line(&t.name),
                    show(t.baseline),
                    show(t.required_value),
                    show(t.current_value)
                );
            }
            if !f.progress.is_empty() {
                let _ = writeln!(out);
                let _ = writeln!(out, "本期进展：");
                for e in &f.progress {
                    let _ = writeln!(out, "- {} {}", e.entry_date, line(&e.content));
                }
            }
        }
    }
    out
}

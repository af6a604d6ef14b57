//! The rectification plan (整改方案) as a Word document: the inspection's facts, then 一、问题清单,
//! 二、任务清单, 三、责任清单, 四、时间表 as tables (the same tables as the lists' downloads) and
//! 五、路线图 as each finding's steps and stages in order; the unit and the day at the end.
//!
//! The road map goes in as a table, not as its chart: `docx-rs` embeds PNG pictures only, and
//! the server draws the chart as SVG (a PNG is made by headless Chromium, a development tool,
//! not something a server has); the section names the chart's address instead.

use super::Official;
use crate::domain::reads::lists::roadmap::{self, Roadmap};
use crate::domain::reads::lists::{Plan, problems, responsibilities, tasks, timetable};
use crate::error::AppResult;
use crate::report::lists::{self as tables, Group, Table};
use crate::report::{chinese_date, status_zh};

/// The plan of `plan` (the findings the caller reads) as DOCX.
pub fn render(plan: &Plan) -> AppResult<Vec<u8>> {
    let i = &plan.inspection;
    let mut doc = Official::new();
    doc.title(&format!(
        "{}关于{}巡察反馈意见的整改方案",
        plan.unit_name, i.inspection_group
    ));
    let problem_list = problems::build(plan);
    let task_list = tasks::build(plan, &tasks::TaskFilter::default(), None);
    let findings: usize = problem_list.groups.iter().map(|g| g.problems.len()).sum();
    let mut opening = format!(
        "为认真落实{}“{}”反馈意见，对照问题清单、任务清单、责任清单和时间表、路线图，抓紧分步推进，特制定本方案。反馈问题共{}个，整改措施{}项。",
        i.inspection_group,
        i.title,
        findings,
        task_list.tasks.len()
    );
    if plan.truncated {
        opening.push_str("（问题过多，本方案仅列前5000个问题。）");
    }
    doc.paragraph(&opening);

    let list = |name: &str| format!("/api/v1/inspections/{}/lists/{name}", i.id);
    doc.heading("一、问题清单");
    doc.table(&tables::problems(plan, &problem_list), &list("problems"));
    doc.heading("二、任务清单");
    doc.table(&tables::tasks(plan, &task_list), &list("tasks"));
    doc.heading("三、责任清单");
    doc.table(
        &tables::responsibilities(plan, &responsibilities::build(plan)),
        &list("responsibilities"),
    );
    doc.heading("四、时间表");
    doc.paragraph("按每月15日和月末两个报送日划分时段，列明各时段到期的问题和措施及其完成情况。");
    doc.table(
        &tables::timetable(plan, &timetable::build(plan)),
        &list("timetable"),
    );
    doc.heading("五、路线图");
    doc.paragraph(&format!(
        "每个问题从反馈到销号的整改步骤（措施按完成时限排序）和长期坚持问题的阶段目标如下；路线图图示见 /api/v1/inspections/{}/roadmap.svg。",
        i.id
    ));
    doc.table(
        &steps(&roadmap::build(plan)),
        &format!("/api/v1/inspections/{}/roadmap.svg", i.id),
    );
    doc.signature(&plan.unit_name, &chinese_date(plan.thresholds.today));
    doc.finish()
}

/// The road map as a table: a row per finding, its steps in order, planned against done, and
/// its stages with their target days.
fn steps(map: &Roadmap) -> Table {
    let day = chinese_date;
    let rows = map
        .rows
        .iter()
        .map(|r| {
            let steps: Vec<String> = r
                .steps
                .iter()
                .enumerate()
                .map(|(k, s)| {
                    let planned = s
                        .planned_to
                        .map_or("无时限".to_owned(), |d| format!("计划{}前", day(d)));
                    let done = match (s.done, s.done_on) {
                        (true, Some(d)) => format!("，{}完成", day(d)),
                        (true, None) => "，已完成".to_owned(),
                        (false, _) => String::new(),
                    };
                    format!("{}. {}（{planned}{done}）", k + 1, s.content.trim())
                })
                .collect();
            let stages: Vec<String> = r
                .stages
                .iter()
                .map(|s| {
                    let achieved = s
                        .achieved_on
                        .map_or(String::new(), |d| format!("，{}实现", day(d)));
                    format!(
                        "阶段{}：{}（目标{}{achieved}）",
                        s.ordinal,
                        s.content.trim(),
                        day(s.target_on)
                    )
                })
                .collect();
            vec![
                r.ordinal.to_string(),
                r.title.clone(),
                steps.join("\n"),
                stages.join("\n"),
                r.deadline.map(day).unwrap_or_default(),
                status_zh(r.status.as_str()),
            ]
        })
        .collect();
    Table {
        title: String::new(),
        sheet: "路线图",
        line: String::new(),
        columns: vec![
            ("序号", 5.0),
            ("问题", 22.0),
            ("整改步骤", 40.0),
            ("阶段目标", 20.0),
            ("整改时限", 11.0),
            ("状态", 8.0),
        ],
        groups: vec![Group {
            heading: None,
            rows,
        }],
    }
}

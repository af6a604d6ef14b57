//! The rectification plan (整改方案) as a Word document: the inspection's facts, then 一、问题清单,
//! 二、任务清单, 三、责任清单, 四、时间表 as tables (the same tables as the lists' downloads, every
//! row) and 五、路线图: the chart, as pictures of a page each, then each finding's steps and
//! stages in order as a table; the unit and the day at the end.
//!
//! The chart is the one the API serves as SVG, in its print layout, drawn to PNG in-process
//! (`report::roadmap::raster`, resvg) since docx-rs embeds PNG. On a machine without a Chinese
//! font the section says it has no picture and why, and keeps the table.

use super::Official;
use crate::domain::reads::lists::roadmap::{self, Roadmap};
use crate::domain::reads::lists::{Plan, problems, responsibilities, tasks, timetable};
use crate::error::AppResult;
use crate::report::lists::{self as tables, Group, Table};
use crate::report::roadmap::{page, pages, raster};
use crate::report::{chinese_date, status_zh};

/// Pixels per SVG pixel of the chart's pictures: 960 drawn as 1,920, printed 156 mm wide
/// (about 310 dpi).
const PICTURE_SCALE: f32 = 2.0;

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

    doc.heading("一、问题清单");
    doc.table(&tables::problems(plan, &problem_list))?;
    doc.heading("二、任务清单");
    doc.table(&tables::tasks(plan, &task_list))?;
    doc.heading("三、责任清单");
    doc.table(&tables::responsibilities(
        plan,
        &responsibilities::build(plan),
    ))?;
    doc.heading("四、时间表");
    doc.paragraph("按每月15日和月末两个报送日划分时段，列明各时段到期的问题和措施及其完成情况。");
    doc.table(&tables::timetable(plan, &timetable::build(plan)))?;
    doc.heading("五、路线图");
    let map = roadmap::build(plan);
    if raster::chinese_font().is_some() {
        doc.paragraph(
            "路线图以问题为行：框为措施的计划时段（自上一措施时限至本措施时限），实条为实际进度，◆为问题整改时限，旗为长期坚持问题的阶段目标，虚线为今天；颜色依预警等级。",
        );
        let cut = pages(&map);
        let count = cut.len();
        // A page at a time: its drawing, then its picture, then the next.
        for (k, rows) in cut.into_iter().enumerate() {
            let svg = page(&map, &i.title, rows, k + 1, count);
            let picture = raster::png(&svg, PICTURE_SCALE)?;
            doc.picture(picture.png, picture.width, picture.height);
        }
    } else {
        doc.paragraph(&format!(
            "（本机未安装中文字体，路线图未能绘成图片；图示见 /api/v1/inspections/{}/roadmap.svg。）",
            i.id
        ));
    }
    doc.paragraph("各问题的整改步骤（措施按完成时限排序）和阶段目标如下。");
    doc.table(&steps(&map))?;
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

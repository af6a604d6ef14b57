//! The road map (路线图) drawn as SVG: a row per finding, a lane per measure (planned as an
//! outline from the previous step's deadline to its own, what happened as a bar to the day it
//! was done or to today), the finding's deadline as a diamond, today's line, the colours of the
//! early-warning ladder and Chinese labels. Written by hand (a few shapes, no drawing crate);
//! every text a user wrote is escaped.
//!
//! One chart in two layouts: [`SCREEN`] (the API's SVG, the CLI's picture), all rows in one
//! drawing; [`PRINT`] for the plan's pages, narrower with larger text (the picture is 156 mm
//! wide on A4), cut by [`pages`] into drawings that each fit a page, every one with the whole
//! time axis. [`raster`] turns a drawing into a PNG in-process.

pub mod raster;

use std::fmt::Write;
use std::ops::Range;

use chrono::NaiveDate;

use crate::domain::reads::lists::roadmap::{Milestone, Roadmap, Row, Step};
use crate::domain::workflow::warning::Level;

/// Sizes of a drawing, in SVG pixels.
pub struct Layout {
    width: f64,
    /// The labels' column.
    label: f64,
    /// The labels' and legend's text.
    font: f64,
}

/// On screen: 1,200 wide, 12 px text.
pub const SCREEN: Layout = Layout {
    width: 1200.0,
    label: 380.0,
    font: 12.0,
};

/// On an A4 page: 960 wide, 13 px text (printed 156 mm wide, text about 6 pt).
pub const PRINT: Layout = Layout {
    width: 960.0,
    label: 330.0,
    font: 13.0,
};

/// The tallest a [`PRINT`] page's drawing is made (its rows cut to fit): at 960 wide, the
/// height a picture 156 mm wide may take on A4 below a line of text.
pub const PRINT_HEIGHT: f64 = 1_240.0;

const RIGHT: f64 = 20.0;
const TOP: f64 = 70.0;
/// Below the rows: today's label and two lines of legend.
const BOTTOM: f64 = 82.0;
const LANE: f64 = 8.0;
const PAD: f64 = 6.0;
/// Fonts by name, CJK first; a renderer without any of them uses its sans-serif, which
/// [`raster`] points at the Chinese font it found.
const FONT: &str = "'Noto Sans CJK SC','Source Han Sans SC','WenQuanYi Zen Hei','Microsoft YaHei','PingFang SC','SimHei',sans-serif";

/// Text for SVG: `&`, `<`, `>`, quotes escaped, control characters dropped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The colour of the warning ladder: red overdue, yellow and green nearing, blue otherwise.
fn colour(level: Level) -> &'static str {
    match level {
        Level::Red => "#c00000",
        Level::Yellow => "#e6a700",
        Level::Green => "#4e9a2f",
        Level::None => "#4472c4",
    }
}

/// Done work.
const DONE: &str = "#8c8c8c";

fn cut(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        text.to_owned()
    } else {
        text.chars().take(chars).collect::<String>() + "…"
    }
}

fn row_height(r: &Row) -> f64 {
    (r.steps.len().max(1) as f64 * LANE + 2.0 * PAD).max(26.0)
}

/// The road map of an inspection titled `title`, as one SVG document (the screen layout).
pub fn svg(map: &Roadmap, title: &str) -> String {
    draw(
        map,
        0..map.rows.len(),
        &format!("{title} 整改路线图"),
        &SCREEN,
    )
}

/// The rows of `map` cut into pages of the [`PRINT`] layout, each at most [`PRINT_HEIGHT`]
/// tall (a row taller than a page alone on its own). No rows: one empty page.
pub fn pages(map: &Roadmap) -> Vec<Range<usize>> {
    let room = PRINT_HEIGHT - TOP - BOTTOM;
    let mut pages = Vec::new();
    let (mut from, mut used) = (0, 0.0);
    for (k, r) in map.rows.iter().enumerate() {
        let h = row_height(r);
        if k > from && used + h > room {
            pages.push(from..k);
            (from, used) = (k, 0.0);
        }
        used += h;
    }
    pages.push(from..map.rows.len());
    pages
}

/// Page `number` of `count` of the printed road map: the rows `rows` of `map`, in the
/// [`PRINT`] layout.
pub fn page(map: &Roadmap, title: &str, rows: Range<usize>, number: usize, count: usize) -> String {
    let heading = if count > 1 {
        format!("{title} 整改路线图（{number}/{count}）")
    } else {
        format!("{title} 整改路线图")
    };
    draw(map, rows, &heading, &PRINT)
}

/// The drawing of the rows `rows` of `map` under `heading`: the whole time axis, those rows,
/// today's line and the legend.
fn draw(map: &Roadmap, rows: Range<usize>, heading: &str, l: &Layout) -> String {
    let rows = &map.rows[rows];
    let (start, end) = (map.starts_on, map.ends_on.max(map.starts_on));
    let days = (end - start).num_days().max(1) as f64;
    let span = l.width - l.label - RIGHT;
    let x = |d: NaiveDate| {
        let k = ((d - start).num_days() as f64 / days).clamp(0.0, 1.0);
        l.label + k * span
    };
    let body: f64 = rows.iter().map(row_height).sum();
    let height = TOP + body + BOTTOM;
    let width = l.width;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="{FONT}" font-size="{}">"#,
        l.font
    );
    let _ = write!(
        s,
        r##"<rect width="100%" height="100%" fill="#ffffff"/><text x="{}" y="26" font-size="18" font-weight="bold" text-anchor="middle">{}</text>"##,
        width / 2.0,
        escape(heading)
    );
    // Month ticks along the top, labelled every few months so that labels do not touch.
    let months = ((end - start).num_days() / 30).max(1) as f64;
    let wanted = (months * 80.0 / span).ceil() as u32;
    // A divisor of twelve, so that the labelled months are the same each year.
    let every = [1, 2, 3, 4, 6, 12]
        .into_iter()
        .find(|n| *n >= wanted)
        .unwrap_or(12);
    let mut month = NaiveDate::from_ymd_opt(
        chrono::Datelike::year(&start),
        chrono::Datelike::month(&start),
        1,
    );
    let mut ticks = 0u32;
    while let Some(m) = month {
        if m > end || ticks > 1_200 {
            break;
        }
        if m >= start {
            let labelled = chrono::Datelike::month0(&m) % every == 0;
            let _ = write!(
                s,
                r##"<line x1="{0:.1}" y1="{1}" x2="{0:.1}" y2="{2}" stroke="{3}"/>"##,
                x(m),
                TOP - 8.0,
                TOP + body,
                if labelled { "#d0d0d0" } else { "#f0f0f0" },
            );
            if labelled {
                let _ = write!(
                    s,
                    r##"<text x="{:.1}" y="{}" fill="#555" text-anchor="middle">{}</text>"##,
                    x(m),
                    TOP - 14.0,
                    format_args!(
                        "{}年{}月",
                        chrono::Datelike::year(&m),
                        chrono::Datelike::month(&m)
                    )
                );
            }
        }
        ticks += 1;
        month = m.checked_add_months(chrono::Months::new(1));
    }
    // As many characters of a title as the labels' column holds after its number.
    let chars = ((l.label - 50.0) / l.font).max(4.0) as usize;
    let mut y = TOP;
    for (n, r) in rows.iter().enumerate() {
        let h = row_height(r);
        if n % 2 == 0 {
            let _ = write!(
                s,
                r##"<rect x="0" y="{y:.1}" width="{width}" height="{h:.1}" fill="#f6f8fb"/>"##
            );
        }
        let label = format!("{}. {}", r.ordinal, cut(&r.title, chars));
        let _ = write!(
            s,
            r##"<g class="finding" data-finding="{}"><text x="8" y="{:.1}" fill="{}">{}</text>"##,
            r.finding_id,
            y + h / 2.0 + l.font / 3.0,
            if r.closed_on.is_some() { DONE } else { "#222" },
            escape(&label)
        );
        for (k, step) in r.steps.iter().enumerate() {
            draw_step(&mut s, step, y + PAD + k as f64 * LANE, map, &x);
        }
        for stage in &r.stages {
            draw_stage(&mut s, stage, y + h / 2.0, &x);
        }
        if let Some(d) = r.deadline {
            let (cx, cy) = (x(d), y + h / 2.0);
            let _ = write!(
                s,
                r#"<path d="M{:.1} {:.1} l5 5 l-5 5 l-5 -5 z" fill="{}"><title>{}</title></path>"#,
                cx,
                cy - 5.0,
                colour(r.warning),
                escape(&format!("整改时限 {d}"))
            );
        }
        s.push_str("</g>");
        y += h;
    }
    if map.today >= start && map.today <= end {
        let tx = x(map.today);
        let _ = write!(
            s,
            r##"<line x1="{tx:.1}" y1="{}" x2="{tx:.1}" y2="{:.1}" stroke="#c00000" stroke-width="1.5" stroke-dasharray="4 3"/><text x="{tx:.1}" y="{:.1}" fill="#c00000" text-anchor="{}">今天 {}</text>"##,
            TOP - 6.0,
            TOP + body,
            TOP + body + 16.0,
            if tx > width - 120.0 { "end" } else { "middle" },
            map.today
        );
    }
    legend(&mut s, TOP + body + 40.0, l);
    if map.truncated {
        let _ = write!(
            s,
            r##"<text x="{}" y="{:.1}" fill="#c00000" text-anchor="end">仅显示前 5000 个问题</text>"##,
            width - RIGHT,
            TOP + body + 62.0
        );
    }
    s.push_str("</svg>");
    s
}

fn draw_step(s: &mut String, step: &Step, y: f64, map: &Roadmap, x: &impl Fn(NaiveDate) -> f64) {
    let from = x(step.planned_from);
    let planned_to = step.planned_to.unwrap_or(map.ends_on);
    let to = x(planned_to).max(from + 2.0);
    let tip = escape(&format!(
        "措施{}：{}（计划 {} 至 {}{}）",
        step.ordinal,
        cut(&step.content, 60),
        step.planned_from,
        step.planned_to
            .map_or("无时限".to_owned(), |d| d.to_string()),
        match step.done_on {
            Some(d) => format!("，{d} 完成"),
            None if step.done => "，已完成".to_owned(),
            None => String::new(),
        }
    ));
    let fill = if step.done {
        DONE
    } else {
        colour(step.warning)
    };
    let _ = write!(
        s,
        r##"<g class="step"><title>{tip}</title><rect x="{from:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="none" stroke="{fill}" stroke-width="1"/>"##,
        to - from,
        LANE - 2.0
    );
    // Done on a day: to that day; done on no known day: nothing drawn but the outline.
    let actual_to = match (step.done, step.done_on) {
        (true, Some(d)) => Some(d),
        (true, None) => None,
        (false, _) => Some(map.today),
    };
    if let Some(d) = actual_to {
        let ax = x(d.max(step.planned_from));
        let _ = write!(
            s,
            r#"<rect x="{from:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{fill}" opacity="0.85"/>"#,
            y + 1.5,
            (ax - from).max(2.0),
            LANE - 5.0
        );
    }
    s.push_str("</g>");
}

/// A stage: a flag at its target date (filled once reached, at the day it was).
fn draw_stage(s: &mut String, stage: &Milestone, cy: f64, x: &impl Fn(NaiveDate) -> f64) {
    let tip = escape(&format!(
        "阶段目标{}：{}（目标 {}{}）",
        stage.ordinal,
        cut(&stage.content, 60),
        stage.target_on,
        stage
            .achieved_on
            .map_or(String::new(), |d| format!("，{d} 实现"))
    ));
    let tx = x(stage.target_on);
    let fill = if stage.achieved_on.is_some() {
        DONE
    } else {
        colour(stage.warning)
    };
    let _ = write!(
        s,
        r##"<g class="stage"><title>{tip}</title><path d="M{tx:.1} {:.1} v14 M{tx:.1} {:.1} l9 3.5 l-9 3.5 z" stroke="{fill}" fill="#ffffff" stroke-width="1.5"/>"##,
        cy - 7.0,
        cy - 7.0
    );
    if let Some(d) = stage.achieved_on {
        let _ = write!(
            s,
            r#"<circle cx="{:.1}" cy="{cy:.1}" r="3.5" fill="{DONE}"/>"#,
            x(d)
        );
    }
    s.push_str("</g>");
}

/// The colours on one line, what the shapes mean on the next.
fn legend(s: &mut String, y: f64, l: &Layout) {
    let items = [
        ("#4472c4", "按计划推进"),
        ("#4e9a2f", "临近时限（绿色预警）"),
        ("#e6a700", "临近时限（黄色预警）"),
        ("#c00000", "逾期（红色预警）"),
        (DONE, "已完成"),
    ];
    let step = (l.width - 16.0) / items.len() as f64;
    let mut lx = 8.0;
    for (fill, text) in items {
        let _ = write!(
            s,
            r#"<rect x="{lx:.1}" y="{:.1}" width="14" height="8" fill="{fill}"/><text x="{:.1}" y="{y:.1}">{text}</text>"#,
            y - 8.0,
            lx + 18.0
        );
        lx += step;
    }
    let _ = write!(
        s,
        r#"<text x="8" y="{:.1}">框：计划；实条：实际；◆：问题整改时限；旗：阶段目标</text>"#,
        y + 22.0
    );
}

/// The drawing's height in pixels, as its root element states it.
pub fn height(svg: &str) -> u32 {
    svg.split("height=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|h| h.parse::<f64>().ok())
        .map_or(800, |h| h.ceil() as u32)
}

/// Writes `svg` (the screen layout) as a PNG at `output`, as headless Chromium (`chromium`)
/// shows it: a browser's rendering, to compare with [`raster`]'s by eye.
pub fn chromium_png(svg: &str, output: &std::path::Path, chromium: &str) -> anyhow::Result<()> {
    let source = output.with_extension("svg.tmp.svg");
    std::fs::write(&source, svg)?;
    let absolute = std::fs::canonicalize(&source)?;
    let result = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            &format!("--screenshot={}", output.display()),
            &format!("--window-size={},{}", SCREEN.width as u32, height(svg)),
            &format!("file://{}", absolute.display()),
        ])
        .output();
    let _ = std::fs::remove_file(&source);
    let done = result?;
    anyhow::ensure!(
        done.status.success() && output.exists(),
        "chromium drew no picture: {}",
        String::from_utf8_lossy(&done.stderr)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn text_a_user_wrote_cannot_open_markup() {
        assert_eq!(escape("<script>&\"'"), "&lt;script&gt;&amp;&quot;&#39;");
    }
}

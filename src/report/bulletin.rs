//! The public bulletin (通报) of progress, in the structure of the unit's published bulletins:
//! title, the inspection's facts, the organisational measures, then each heading's numbered
//! findings with their measures (一是…二是…), then the contact for public supervision.

use std::fmt::Write;

use super::{Snapshot, chinese_date, chinese_number};

/// The bulletin's paragraphs: (kind, text) where kind is `title`, `h2`, `h3` or `p`.
fn blocks(s: &Snapshot) -> Vec<(&'static str, String)> {
    let i = &s.inspection;
    let issuer = s
        .publicity
        .issuer
        .clone()
        .unwrap_or_else(|| i.unit_name.clone());
    let mut out = vec![("title", format!("{issuer}关于巡察整改阶段性进展情况的通报"))];
    let mut facts = format!(
        "{}，{}对{}进行了巡察。",
        period(s),
        i.inspection_group,
        i.unit_name
    );
    if let Some(feedback) = i.feedback_on {
        let _ = write!(
            facts,
            "{}，{}向{}反馈了巡察意见。",
            chinese_date(feedback),
            i.inspection_group,
            i.unit_name
        );
    }
    facts.push_str("按照党务公开原则和巡察工作有关要求，现将巡察整改阶段性进展情况予以公布。");
    out.push(("p", facts));

    let mut section = 0;
    let mut next_section = |title: &str| {
        section += 1;
        ("h2", format!("{}、{title}", chinese_number(section)))
    };
    if !s.publicity.organisational_measures.is_empty() {
        out.push(next_section("加强组织领导，压实整改责任"));
        for (n, m) in s.publicity.organisational_measures.iter().enumerate() {
            out.push((
                "p",
                format!(
                    "（{}）{}。{}",
                    chinese_number(n as i32 + 1),
                    m.title,
                    m.content
                ),
            ));
        }
    }
    out.push(next_section("对巡察反馈意见所指出问题的整改落实情况"));
    for (n, category) in s.categories.iter().enumerate() {
        let heading = match &category.title {
            Some(title) => format!("对“{title}”方面问题的整改情况"),
            None => "其他问题的整改情况".to_owned(),
        };
        out.push((
            "h3",
            format!("（{}）{heading}", chinese_number(n as i32 + 1)),
        ));
        for f in &category.findings {
            let mut problem = format!("{}. {}。", f.ordinal, f.title.trim_end_matches('。'));
            if !f.description.is_empty() {
                problem.push_str(&f.description);
            }
            out.push(("p", problem));
            let measures: Vec<String> = f
                .measures
                .iter()
                .enumerate()
                .map(|(k, m)| {
                    if f.measures.len() == 1 {
                        m.content.clone()
                    } else {
                        format!("{}是{}", chinese_number(k as i32 + 1), m.content)
                    }
                })
                .collect();
            if !measures.is_empty() {
                out.push(("p", measures.join("")));
            }
        }
    }
    let mut closing =
        "欢迎广大干部群众对巡察整改落实情况进行监督。如有意见建议，请及时向我们反映。".to_owned();
    if let Some(contact) = &s.publicity.contact {
        let _ = write!(closing, "联系方式：{contact}。");
    }
    out.push(("p", closing));
    out.push(("sign", issuer));
    out.push(("sign", chinese_date(s.period_end)));
    out
}

fn period(s: &Snapshot) -> String {
    let i = &s.inspection;
    match i.ended_on {
        Some(end) => format!(
            "根据统一部署，{}至{}",
            chinese_date(i.started_on),
            chinese_date(end)
        ),
        None => format!("根据统一部署，自{}起", chinese_date(i.started_on)),
    }
}

pub fn markdown(s: &Snapshot) -> String {
    let mut out = String::new();
    for (kind, text) in blocks(s) {
        let _ = match kind {
            "title" => writeln!(out, "# {text}\n"),
            "h2" => writeln!(out, "## {text}\n"),
            "h3" => writeln!(out, "### {text}\n"),
            "sign" => writeln!(out, "<p align=\"right\">{text}</p>\n"),
            _ => writeln!(out, "{text}\n"),
        };
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

pub fn html(s: &Snapshot) -> String {
    let blocks = blocks(s);
    let title = escape(&blocks[0].1);
    let mut out = format!(
        "<!doctype html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title>\n\
         <style>body{{max-width:46em;margin:2em auto;padding:0 1em;font:17px/1.8 \"Songti SC\",\"SimSun\",serif;color:#222}}\
         h1{{text-align:center;font-size:1.5em}}h2{{font-size:1.2em}}h3{{font-size:1.05em}}p{{text-indent:2em}}\
         .sign{{text-align:right;text-indent:0}}</style>\n</head>\n<body>\n"
    );
    for (kind, text) in &blocks {
        let text = escape(text);
        let _ = match *kind {
            "title" => writeln!(out, "<h1>{text}</h1>"),
            "h2" => writeln!(out, "<h2>{text}</h2>"),
            "h3" => writeln!(out, "<h3>{text}</h3>"),
            "sign" => writeln!(out, "<p class=\"sign\">{text}</p>"),
            _ => writeln!(out, "<p>{text}</p>"),
        };
    }
    out.push_str("</body>\n</html>\n");
    out
}

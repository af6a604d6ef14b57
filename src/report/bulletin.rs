//! The public bulletin (通报) of progress, in the structure of the unit's published bulletins
//! (the seed's): title; the inspection's facts; 一、 the organisational measures; 二、 each
//! heading's numbered findings with their measures (一是…；二是…。); 三、 consolidation and
//! next steps; the contact for public supervision; the issuer and date.
//!
//! The prose is the unit's (`Publicity`); every figure it states is computed here from the
//! snapshot ([`FIGURES`]), so the text and the ledger cannot disagree.
//!
//! [`blocks`] is the bulletin as plain text; each rendering escapes that text for itself:
//! Markdown through [`super::md`], HTML through maud's templates, which escape every value.

use std::fmt::Write;

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::md;
use super::{Snapshot, chinese_date, chinese_number};

/// A figure prose may name: its name and how it is computed from the snapshot.
pub type Figure = (&'static str, fn(&Snapshot) -> String);

/// The figures prose may name, as `{name}`.
pub const FIGURES: [Figure; 16] = [
    ("问题数", |s| s.summary.total.to_string()),
    ("已销号数", |s| s.summary.closed.to_string()),
    ("未销号数", |s| {
        (s.summary.total - s.summary.closed).to_string()
    }),
    ("整改完成率", |s| percent(s.summary.completion_rate)),
    ("整改措施数", |s| s.summary.measures_total.to_string()),
    ("已完成措施数", |s| {
        s.summary.measures_done.to_string()
    }),
    ("会议数", |s| s.summary.meetings.to_string()),
    ("制度数", |s| s.summary.regulations.to_string()),
    ("目标达标数", |s| s.summary.targets_met.to_string()),
    ("反弹问题数", |s| s.summary.relapsed.to_string()),
    ("公众反馈数", |s| {
        s.summary.feedback_received.to_string()
    }),
    ("已答复反馈数", |s| {
        s.summary.feedback_answered.to_string()
    }),
    ("已关联反馈数", |s| {
        s.summary.feedback_linked.to_string()
    }),
    // Supervision orders (督办单) about the inspection: how many, how many unanswered past
    // the deadline, and the share replied in time (100% while none is due: none is late).
    ("督办件数", |s| s.summary.supervision_issued.to_string()),
    ("逾期未复数", |s| {
        s.summary.supervision_overdue.to_string()
    }),
    ("按期回复率", |s| {
        percent(s.summary.supervision_on_time_rate.unwrap_or(1.0))
    }),
];

/// 0.571 → 57.1%.
fn percent(rate: f64) -> String {
    let tenths = (rate * 1000.0).round() / 10.0;
    if tenths.fract() == 0.0 {
        format!("{tenths:.0}%")
    } else {
        format!("{tenths:.1}%")
    }
}

/// The names in `{…}` that `text` uses and [`FIGURES`] does not know.
pub fn unknown_figures(text: &str) -> Vec<String> {
    let mut unknown = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        let name = &after[..close];
        if !FIGURES.iter().any(|(known, _)| *known == name) {
            unknown.push(name.to_owned());
        }
        rest = &after[close + 1..];
    }
    unknown
}

/// `text` with every figure it names computed.
fn fill(text: &str, s: &Snapshot) -> String {
    let mut out = text.to_owned();
    for (name, value) in FIGURES {
        let placeholder = format!("{{{name}}}");
        if out.contains(&placeholder) {
            out = out.replace(&placeholder, &value(s));
        }
    }
    out
}

/// Punctuation that ends a clause or a sentence.
const ENDINGS: [char; 8] = ['。', '；', ';', '，', ',', '.', '、', '：'];

/// Punctuation that ends a sentence.
const STOPS: [char; 7] = ['。', '！', '？', '!', '?', '…', '.'];

/// Text without the numbering a writer may have typed (一是, 二是, （一）, 1., 1、, ①) and
/// without trailing clause punctuation: the bulletin numbers and separates itself.
pub fn bare(text: &str) -> &str {
    unnumbered(text).trim_end_matches(|c: char| ENDINGS.contains(&c) || c.is_whitespace())
}

/// Text without the numbering a writer may have typed at its start (一是, （一）, (二), 三、,
/// 1., 1、, ①), trimmed.
pub fn unnumbered(text: &str) -> &str {
    let mut t = text.trim();
    loop {
        let before = t;
        for prefix in [
            "一是", "二是", "三是", "四是", "五是", "六是", "七是", "八是", "九是", "十是",
        ] {
            t = t.strip_prefix(prefix).unwrap_or(t);
        }
        // （一） or (1): a number in brackets, nothing else (a bracketed remark stays).
        if let Some(rest) = t.strip_prefix('（').or_else(|| t.strip_prefix('('))
            && let Some(close) = rest.find(['）', ')'])
            && (1..=3).contains(&rest[..close].chars().count())
            && rest[..close].chars().all(is_numeral)
        {
            t = rest[close..].trim_start_matches(['）', ')']);
        }
        // 1. or 1、 (but not 1.5万元: a decimal is content), and 一、 as a section is numbered.
        let digits = t.trim_start_matches(|c: char| c.is_ascii_digit());
        if digits.len() < t.len()
            && let Some(rest) = digits.strip_prefix(['.', '、', '．'])
            && !rest.starts_with(|c: char| c.is_ascii_digit())
        {
            t = rest;
        }
        let numerals = t.trim_start_matches(|c: char| "一二三四五六七八九十".contains(c));
        if numerals.len() < t.len()
            && t.len() - numerals.len() <= 3 * '十'.len_utf8()
            && let Some(rest) = numerals.strip_prefix('、')
        {
            t = rest;
        }
        t = t.trim_start_matches(['①', '②', '③', '④', '⑤', '⑥', '⑦', '⑧', '⑨', '⑩']);
        t = t.trim();
        if t == before {
            break;
        }
    }
    t
}

/// Whether `text` begins with a number of its own (一是…, （一）…, 1.…): printed as written,
/// it is not numbered again.
pub fn numbered(text: &str) -> bool {
    unnumbered(text).len() < text.trim().len()
}

/// A digit or a Chinese numeral (一 … 十, 百).
fn is_numeral(c: char) -> bool {
    c.is_ascii_digit() || "一二三四五六七八九十百".contains(c)
}

/// Whether `text` ends as a sentence does (a stop, or a closing quote or bracket after one).
fn ends_sentence(text: &str) -> bool {
    let mut back = text.trim_end().chars().rev();
    match back.next() {
        Some(c) if STOPS.contains(&c) => true,
        Some('”' | '’' | '）' | ')' | '」' | '』') => {
            back.next().is_some_and(|c| STOPS.contains(&c))
        }
        _ => false,
    }
}

/// A paragraph that ends as a paragraph does: as written when it ends a sentence, else with a
/// final 。 (in place of a trailing comma, semicolon or colon). Rendering only: what the unit
/// stored stays as it wrote it.
pub fn closed(text: &str) -> String {
    let t = text.trim_end();
    if t.is_empty() || ends_sentence(t) {
        return t.to_owned();
    }
    let open = t.trim_end_matches(['，', ',', '；', ';', '、', '：', ':']);
    format!("{open}。")
}

/// A sentence within a paragraph: as written when it ends in punctuation, else closed with 。.
fn sentence(text: &str) -> String {
    let t = text.trim();
    if t.ends_with(|c: char| STOPS.contains(&c) || ENDINGS.contains(&c)) || ends_sentence(t) {
        t.to_owned()
    } else {
        format!("{t}。")
    }
}

/// Text put inside “”: its own double quotes become single ones, as Chinese typesetting nests
/// them (“…‘…’…”).
pub fn nested(text: &str) -> String {
    text.replace('“', "‘").replace('”', "’")
}

/// The measures of a finding as the unit's sentences, each as written (closed with 。 where it
/// lacks an ending), in one paragraph, or one paragraph each when `apart`; `intro` opens the
/// first. Numbered 一是、二是… only when there are several and none carries its own number,
/// so that nothing is numbered twice. Every paragraph ends as a paragraph does.
pub fn measures_paragraphs<'a>(
    contents: impl IntoIterator<Item = &'a str>,
    intro: Option<&str>,
    apart: bool,
) -> Vec<String> {
    let parts: Vec<&str> = contents
        .into_iter()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    let number = parts.len() > 1 && !parts.iter().any(|c| numbered(c));
    let sentences = parts.iter().enumerate().map(|(k, c)| {
        if number {
            format!("{}是{}", chinese_number(k as i32 + 1), sentence(c))
        } else {
            sentence(c)
        }
    });
    let mut paragraphs: Vec<String> = if apart {
        sentences.collect()
    } else {
        let joined: String = sentences.collect();
        vec![joined]
    };
    if let Some(intro) = intro.map(str::trim).filter(|i| !i.is_empty()) {
        let intro = if intro.ends_with(|c: char| STOPS.contains(&c) || ENDINGS.contains(&c)) {
            intro.to_owned()
        } else {
            format!("{intro}：")
        };
        match paragraphs.first_mut() {
            Some(first) if !first.is_empty() => first.insert_str(0, &intro),
            _ => paragraphs = vec![intro],
        }
    }
    paragraphs
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| closed(p))
        .collect()
}

/// A feedback heading named once: 对“…”方面问题的整改情况, whether or not its title already
/// ends in 方面 (or 方面问题) or carries quotation marks; quotation marks within it nested.
pub fn category_heading(title: &str) -> String {
    let mut t = bare(title);
    for suffix in ["方面的问题", "方面问题", "方面"] {
        t = t.strip_suffix(suffix).unwrap_or(t);
    }
    // Quotation marks around the whole title go (the heading adds its own); quotes within it
    // become single ones inside the heading's.
    let inner = t
        .strip_prefix('“')
        .and_then(|x| x.strip_suffix('”'))
        .filter(|x| !x.contains(['“', '”']));
    let t = inner.unwrap_or(t);
    format!("对“{}”方面问题的整改情况", nested(t))
}

/// 2020年3月19日至7月15日 (the year written once when both days share it).
fn date_range(from: chrono::NaiveDate, to: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    if from.year() == to.year() {
        format!("{}至{}月{}日", chinese_date(from), to.month(), to.day())
    } else {
        format!("{}至{}", chinese_date(from), chinese_date(to))
    }
}

/// A numbered item: （一）title。content
fn item(n: usize, title: &str, content: &str, s: &Snapshot) -> String {
    let title = bare(&fill(title, s)).to_owned();
    let content = fill(content, s);
    let content = content.trim();
    closed(&format!(
        "（{}）{title}。{content}",
        chinese_number(n as i32 + 1)
    ))
}

/// Who issues a bulletin: the prose's issuer, or the unit.
pub fn issuer(s: &Snapshot) -> String {
    fill(
        s.publicity
            .issuer
            .as_deref()
            .unwrap_or(&s.inspection.unit_name),
        s,
    )
}

/// The bulletin's title.
pub fn title(s: &Snapshot) -> String {
    format!("{}关于巡察整改阶段性进展情况的通报", issuer(s))
}

/// The day a bulletin is dated: the prose's date, or the period's end.
pub fn dated(s: &Snapshot) -> chrono::NaiveDate {
    s.publicity.issued_on.unwrap_or(s.period_end)
}

/// One paragraph of a bulletin, as plain text (each rendering escapes it).
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// `title`, `h2`, `h3`, `p` or `sign`.
    pub kind: &'static str,
    /// The number a problem is listed under: its 序号 in the ledger.
    pub number: Option<usize>,
    pub text: String,
}

impl Block {
    fn new(kind: &'static str, text: String) -> Self {
        Self {
            kind,
            number: None,
            text,
        }
    }
}

/// The bulletin's paragraphs, in order.
pub fn blocks(s: &Snapshot) -> Vec<Block> {
    let i = &s.inspection;
    let p = &s.publicity;
    let issuer = issuer(s);
    let unit = fill(p.unit_short_name.as_deref().unwrap_or(&i.unit_name), s);
    let mut out = vec![Block::new("title", title(s))];
    let deployed = format!(
        "根据{}统一部署",
        fill(p.deployed_by.as_deref().unwrap_or(""), s)
    );
    let when = match i.ended_on {
        Some(end) => date_range(i.started_on, end),
        None => format!("自{}起", chinese_date(i.started_on)),
    };
    let mut facts = format!(
        "{deployed}，{when}，{}对{unit}进行了巡察。",
        i.inspection_group
    );
    if let Some(feedback) = i.feedback_on {
        let _ = write!(
            facts,
            "{}，{}向{unit}反馈了巡察意见。",
            chinese_date(feedback),
            i.inspection_group
        );
    }
    facts.push_str("按照党务公开原则和巡察工作有关要求，现将巡察整改阶段性进展情况予以公布。");
    out.push(Block::new("p", facts));

    let mut section = 0;
    let mut next_section = |title: &str| {
        section += 1;
        Block::new(
            "h2",
            format!("{}、{}", chinese_number(section), bare(title)),
        )
    };
    if p.lead_heading.is_some() || p.lead.is_some() || !p.organisational_measures.is_empty() {
        let heading = p
            .lead_heading
            .as_deref()
            .map_or_else(|| "加强组织领导，压实整改责任".to_owned(), |h| fill(h, s));
        out.push(next_section(&heading));
        if let Some(lead) = &p.lead {
            out.push(Block::new("p", closed(&fill(lead, s))));
        }
        for (n, m) in p.organisational_measures.iter().enumerate() {
            out.push(Block::new("p", item(n, &m.title, &m.content, s)));
        }
    }
    out.push(next_section("对巡察反馈意见所指出问题的整改落实情况"));
    // The look-back is part of the account once it has found a problem back.
    if s.summary.relapsed > 0 {
        out.push(Block::new(
            "p",
            format!(
                "截至{}，回头看发现{}个已销号问题出现反弹。",
                chinese_date(s.period_end),
                s.summary.relapsed
            ),
        ));
    }
    // Each problem under its 序号 in the ledger, so that the public and the office cite one
    // number for it (a problem the unit does not publish leaves its number out: the bulletin
    // says how many it counts).
    for (n, category) in s.categories.iter().enumerate() {
        let worded = p
            .headings
            .iter()
            .find(|h| category.ordinal == Some(h.category));
        let heading = match (worded, &category.title) {
            (Some(h), _) if numbered(&h.text) => h.text.trim().to_owned(),
            (Some(h), _) => format!("（{}）{}", chinese_number(n as i32 + 1), h.text.trim()),
            (None, Some(title)) => format!(
                "（{}）{}",
                chinese_number(n as i32 + 1),
                category_heading(title)
            ),
            (None, None) => format!("（{}）其他问题的整改情况", chinese_number(n as i32 + 1)),
        };
        out.push(Block::new("h3", heading));
        for f in &category.findings {
            let wording = p.problems.iter().find(|w| w.finding_id == f.id);
            let mut problem = match wording.and_then(|w| w.title.as_deref()) {
                Some(title) => sentence(unnumbered(title)),
                None => format!("{}。", bare(&f.title)),
            };
            problem.push_str(f.description.trim());
            out.push(Block {
                kind: "p",
                number: Some(f.ordinal.max(0) as usize),
                text: closed(&problem),
            });
            let measures = measures_paragraphs(
                f.measures.iter().map(|m| m.content.as_str()),
                wording.and_then(|w| w.intro.as_deref()),
                wording.is_some_and(|w| w.measures_apart),
            );
            for paragraph in measures {
                out.push(Block::new("p", paragraph));
            }
        }
    }
    if p.closing_heading.is_some() || p.closing_lead.is_some() || !p.closing_commitments.is_empty()
    {
        let heading = p.closing_heading.as_deref().map_or_else(
            || "持之以恒巩固和深化巡察整改成果".to_owned(),
            |h| fill(h, s),
        );
        out.push(next_section(&heading));
        if let Some(lead) = &p.closing_lead {
            out.push(Block::new("p", closed(&fill(lead, s))));
        }
        for (n, c) in p.closing_commitments.iter().enumerate() {
            out.push(Block::new("p", item(n, &c.title, &c.content, s)));
        }
    }
    let mut closing =
        "欢迎广大干部群众对巡察整改落实情况进行监督。如有意见建议，请及时向我们反映。".to_owned();
    if let Some(contact) = &p.contact {
        let _ = write!(closing, "联系方式：{}。", bare(&contact.text()));
    }
    out.push(Block::new("p", closing));
    out.push(Block::new("sign", issuer));
    out.push(Block::new("sign", chinese_date(dated(s))));
    out
}

pub fn markdown(s: &Snapshot) -> String {
    let mut out = String::new();
    for block in blocks(s) {
        let text = &block.text;
        let _ = match (block.kind, block.number) {
            ("title", _) => writeln!(out, "# {}\n", md::line(text)),
            ("h2", _) => writeln!(out, "## {}\n", md::line(text)),
            ("h3", _) => writeln!(out, "### {}\n", md::line(text)),
            ("sign", _) => writeln!(out, "<p align=\"right\">{}</p>\n", md::in_html(text)),
            (_, Some(n)) => writeln!(out, "{n}. {}\n", md::paragraph(text)),
            _ => writeln!(out, "{}\n", md::paragraph(text)),
        };
    }
    out
}

/// The style of the public pages: a document to read on a screen, and to print on A4 as the
/// unit files it (no external fonts or assets: the pages are served under a strict CSP).
const STYLE: &str = "body{max-width:46em;margin:2em auto;padding:0 1em;font:17px/1.8 \"Songti SC\",\"SimSun\",\"Noto Serif CJK SC\",serif;color:#222}\
h1{text-align:center;font-size:1.5em}h2{font-size:1.2em}h3{font-size:1.05em}p{text-indent:2em}\
.sign{text-align:right;text-indent:0}nav{text-indent:0}ol.index{padding-left:1.5em}ol.index li{margin:.6em 0}\
.meta{color:#555;font-size:.9em}a{color:#0b4f9c}\
@page{size:A4 portrait;margin:2.5cm 2.2cm}\
form label{display:block;margin-top:.8em;text-indent:0}form textarea,form input,form select{width:100%;font:inherit;box-sizing:border-box}\
form button{margin-top:1em;font:inherit;padding:.3em 2em}.qr{text-align:center;margin:1em 0}.qr svg{width:160px;height:160px}\
.supervision{font-weight:bold;text-indent:0;margin-top:1.5em}.answer{border-top:1px solid #ccc;margin-top:1em}.answer p{text-indent:0}.reply{color:#0b4f9c}\
@media print{body{max-width:none;margin:0;padding:0;font-size:12pt;color:#000}nav,.noprint{display:none}\
h1,h2,h3{break-after:avoid}p{orphans:3;widows:3}a{color:#000;text-decoration:none}}";

pub(crate) fn page(title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body { (body) }
        }
    }
    .into_string()
}

pub fn html(s: &Snapshot) -> String {
    page(&title(s), body(s))
}

/// The numbers (序号) the bulletin prints its problems under.
pub fn numbers(s: &Snapshot) -> Vec<i32> {
    blocks(s)
        .iter()
        .filter_map(|b| b.number)
        .filter_map(|n| i32::try_from(n).ok())
        .collect()
}

pub(crate) fn body(s: &Snapshot) -> Markup {
    let blocks = blocks(s);
    html! {
        nav class="noprint" { a href="/public/bulletins" { "全部通报" } }
        @for block in &blocks {
            @let text = &block.text;
            @match (block.kind, block.number) {
                ("title", _) => { h1 { (text) } }
                ("h2", _) => { h2 { (text) } }
                ("h3", _) => { h3 { (text) } }
                ("sign", _) => { p class="sign" { (text) } }
                (_, Some(n)) => { p { (n) ". " (text) } }
                _ => { p { (text) } }
            }
        }
    }
}

/// One published bulletin in the public index.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IndexEntry {
    pub id: i32,
    pub title: String,
    pub issuer: String,
    /// The day it is dated.
    pub issued_on: chrono::NaiveDate,
    pub unit_name: String,
    pub inspection_title: String,
    /// Its page.
    pub url: String,
}

impl IndexEntry {
    pub fn of(id: i32, s: &Snapshot) -> Self {
        Self {
            id,
            title: title(s),
            issuer: issuer(s),
            issued_on: dated(s),
            unit_name: s.inspection.unit_name.clone(),
            inspection_title: s.inspection.title.clone(),
            url: format!("/public/bulletins/{id}"),
        }
    }
}

/// The public index of published bulletins, newest first, with a link to the next page.
pub fn index_html(entries: &[IndexEntry], next: Option<&str>, limit: Option<i32>) -> String {
    let next = next.map(|cursor| {
        let limit = limit.map(|l| format!("&limit={l}")).unwrap_or_default();
        format!("/public/bulletins?cursor={cursor}{limit}")
    });
    let body = html! {
        h1 { "巡察整改情况通报" }
        @if entries.is_empty() {
            p { "暂无已公布的通报。" }
        } @else {
            ol class="index" {
                @for e in entries {
                    li {
                        a href=(e.url) { (e.title) }
                        br;
                        span class="meta" { (e.unit_name) " · " (chinese_date(e.issued_on)) }
                    }
                }
            }
        }
        @if let Some(next) = next {
            nav class="noprint" { a rel="next" href=(next) { "下一页" } }
        }
    };
    page("巡察整改情况通报", body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_numbering_goes_and_content_stays() {
        assert_eq!(bare("一是一是召开专题会议；"), "召开专题会议");
        assert_eq!(bare("（三）层层压实整改责任。"), "层层压实整改责任");
        assert_eq!(bare("2. 完善制度"), "完善制度");
        assert_eq!(bare("3、健全台账"), "健全台账");
        assert_eq!(bare("1.5万元资金已退回。"), "1.5万元资金已退回");
        assert_eq!(bare("2016年6月27日，市委发文"), "2016年6月27日，市委发文");
        assert_eq!(bare("（2020年）制定方案"), "（2020年）制定方案");
        assert_eq!(bare("（2020）12号文件"), "（2020）12号文件");
        assert_eq!(bare("（含兼职）一正五副"), "（含兼职）一正五副");
        assert_eq!(bare("(二)对落实“两个责任”不到位"), "对落实“两个责任”不到位");
        assert_eq!(bare("三、巩固成果"), "巩固成果");
        assert_eq!(bare("一二三四五、x"), "一二三四五、x");
        assert!(numbered("一是召开专题会议") && !numbered("召开专题会议"));
        // The unit's sentences as written, closed where open; numbered only when none is.
        assert_eq!(
            measures_paragraphs(
                ["一是召开专题会议", "二是完善制度。", "三是健全学习台账；"],
                None,
                false
            ),
            ["一是召开专题会议。二是完善制度。三是健全学习台账。"]
        );
        assert_eq!(
            measures_paragraphs(
                ["召开专题会议", "完善制度；"],
                Some("对此我们作了如下整改"),
                false
            ),
            ["对此我们作了如下整改：一是召开专题会议。二是完善制度。"]
        );
        assert_eq!(
            measures_paragraphs(["一是甲;", "二是乙"], None, true),
            ["一是甲。", "二是乙。"]
        );
        assert_eq!(
            measures_paragraphs(["1.5万元已退回"], None, false),
            ["1.5万元已退回。"]
        );
        assert_eq!(closed("管控不到位"), "管控不到位。");
        assert_eq!(closed("管控不到位，"), "管控不到位。");
        assert_eq!(closed("印发《方案》"), "印发《方案》。");
        assert_eq!(closed("做到“两个维护”。"), "做到“两个维护”。");
        assert_eq!(closed("他说：“好。”"), "他说：“好。”");
        assert_eq!(
            category_heading("落实“两个责任”不到位"),
            "对“落实‘两个责任’不到位”方面问题的整改情况"
        );
        assert_eq!(
            category_heading("“政治建设”方面"),
            "对“政治建设”方面问题的整改情况"
        );
        assert_eq!(
            category_heading("政治建设方面问题"),
            "对“政治建设”方面问题的整改情况"
        );
        assert_eq!(
            unknown_figures("共{问题数}个，{问题总数}个，{未闭合"),
            ["问题总数"]
        );
    }
}

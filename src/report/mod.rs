//! Reports as data: the immutable snapshot stored with every report, and its renderings
//! (JSON is the snapshot itself; CSV, XLSX and Markdown for the inspection office; Markdown
//! and HTML for public bulletins). Renderings are computed from the stored snapshot, so a
//! report reads the same forever, whatever happens to the data afterwards.

pub mod bulletin;
pub mod docx;
pub mod feedback;
pub mod ledger;
pub mod lists;
pub mod markdown;
pub mod md;
pub mod render;
pub mod roadmap;
pub mod xlsx;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Snapshot {
    /// `semi_monthly` or `bulletin`.
    pub kind: String,
    pub inspection: InspectionFacts,
    /// The first day the report covers: the day after the previous report's period, or feedback.
    pub period_start: Option<NaiveDate>,
    pub period_end: NaiveDate,
    /// When it was made, in the configured zone's offset (so that its documents show the
    /// unit's clock, and show it the same whatever the server is later configured with).
    pub generated_at: DateTime<FixedOffset>,
    pub summary: SummaryFacts,
    pub categories: Vec<CategoryFacts>,
    pub publicity: Publicity,
    /// The units whose records here came from their own instance by bundles (报送 across
    /// networks), with the bundle the figures stand on as of the report's moment; absent for
    /// a unit that keeps its own ledger here (and in older snapshots).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exchanged: Vec<ExchangedFacts>,
}

/// What a unit's figures stand on in a report: the last bundle merged from its instance on or
/// before the report's moment, and the sentence the documents print.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ExchangedFacts {
    pub unit_code: String,
    pub unit_name: String,
    /// The sending instance's name as registered.
    pub peer: String,
    /// The bundle's number; none while none had arrived.
    pub sequence: Option<i32>,
    /// When it was merged, on the unit's clock.
    pub received_at: Option<DateTime<FixedOffset>>,
    /// Its age at the report's moment, in whole hours.
    pub age_hours: Option<i64>,
    /// 市委统战部的数据截至其第 3 次报送（2026-12-07 09:30 收到，距报告截止 2 天）, or
    /// 市委统战部：尚未收到报送 (in Chinese: kept documents are Chinese whoever asks).
    pub sentence: String,
}

impl Snapshot {
    /// The sentences saying what exchanged units' figures stand on, one per unit.
    pub fn exchanged_sentences(&self) -> impl Iterator<Item = &str> {
        self.exchanged.iter().map(|e| e.sentence.as_str())
    }
}

impl Snapshot {
    /// Every finding, heading by heading, in order.
    pub fn findings(&self) -> impl Iterator<Item = &FindingFacts> {
        self.categories.iter().flat_map(|c| c.findings.iter())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InspectionFacts {
    pub id: i32,
    pub title: String,
    pub inspection_group: String,
    pub unit_code: String,
    pub unit_name: String,
    pub started_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
    pub feedback_on: Option<NaiveDate>,
    pub due_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct SummaryFacts {
    pub total: i64,
    pub not_started: i64,
    pub in_progress: i64,
    pub pending_review: i64,
    pub closed: i64,
    pub overdue: i64,
    pub measures_total: i64,
    pub measures_done: i64,
    pub completion_rate: f64,
    pub regulations: i64,
    /// Meetings held since feedback (ledger entries of kind meeting; absent in older snapshots).
    #[serde(default)]
    pub meetings: i64,
    /// Targets, and those met by their latest value (absent in older snapshots).
    #[serde(default)]
    pub targets_total: i64,
    #[serde(default)]
    pub targets_met: i64,
    /// Findings that had relapsed by the period's end.
    #[serde(default)]
    pub relapsed: i64,
    /// Public feedback (公众监督) received, answered and linked to a finding by the period's
    /// end (absent in older snapshots).
    #[serde(default)]
    pub feedback_received: i64,
    #[serde(default)]
    pub feedback_answered: i64,
    #[serde(default)]
    pub feedback_linked: i64,
    /// Supervision orders (督办单) about the inspection issued by then (督办件数), those open
    /// past their reply deadline (逾期未复) and the share of due ones replied in time
    /// (按期回复率, none while none is due); absent in older snapshots.
    #[serde(default)]
    pub supervision_issued: i64,
    #[serde(default)]
    pub supervision_overdue: i64,
    #[serde(default)]
    pub supervision_on_time_rate: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CategoryFacts {
    /// None for findings under no heading (listed last).
    pub ordinal: Option<i32>,
    pub title: Option<String>,
    pub findings: Vec<FindingFacts>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FindingFacts {
    pub id: i32,
    pub ordinal: i32,
    pub title: String,
    pub description: String,
    pub rectification_type: String,
    pub status: String,
    pub deadline: Option<NaiveDate>,
    pub responsible_leader: Option<String>,
    pub department: String,
    pub responsible_person: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub version: i32,
    /// Printed in the public bulletin (absent in older snapshots, which printed every one).
    #[serde(default = "published")]
    pub disclosed: bool,
    pub measures: Vec<MeasureFacts>,
    pub targets: Vec<TargetFacts>,
    /// Ledger entries dated within the report's period.
    pub progress: Vec<EntryFacts>,
}

fn published() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MeasureFacts {
    /// The measure's id and version (for the export's re-import; absent in older snapshots).
    #[serde(default)]
    pub id: Option<i32>,
    #[serde(default)]
    pub version: Option<i32>,
    pub ordinal: i32,
    pub content: String,
    pub status: String,
    pub deadline: Option<NaiveDate>,
    pub completed_on: Option<NaiveDate>,
    pub department: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TargetFacts {
    pub name: String,
    pub unit: String,
    pub baseline: Option<f64>,
    pub required_value: Option<f64>,
    pub current_value: Option<f64>,
    pub as_of: Option<NaiveDate>,
    /// Whether the current value meets the required one (absent in older snapshots).
    #[serde(default)]
    pub met: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EntryFacts {
    pub entry_date: NaiveDate,
    pub kind: String,
    pub content: String,
    pub author: String,
    /// The measure it is about, if any (absent in older snapshots).
    #[serde(default)]
    pub measure_id: Option<i32>,
    /// The titles of its evidence (佐证材料; absent in older snapshots).
    #[serde(default)]
    pub evidence: Vec<String>,
}

/// What a public bulletin says beyond the findings: the parts that are prose, entered by the
/// unit (`setBulletinContent`). Prose may name figures as `{问题数}` and the like
/// ([`bulletin::FIGURES`]): they are computed from the data when the bulletin is generated.
/// Every field is optional, so that snapshots stored before a field existed still read.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Publicity {
    /// Who issues the bulletin (署名); default: the unit.
    #[serde(default)]
    pub issuer: Option<String>,
    /// The bulletin's date (落款日期); default: the period's end.
    #[serde(default)]
    pub issued_on: Option<NaiveDate>,
    /// Whose deployment the inspection followed, as in 根据市委统一部署.
    #[serde(default)]
    pub deployed_by: Option<String>,
    /// How the prose names the unit (湛江市委统战部); default: its name.
    #[serde(default)]
    pub unit_short_name: Option<String>,
    /// Section 一: its heading, its opening paragraph and its items (the organisational measures).
    #[serde(default)]
    pub lead_heading: Option<String>,
    #[serde(default)]
    pub lead: Option<String>,
    #[serde(default)]
    pub organisational_measures: Vec<Paragraph>,
    /// Section 三 (consolidation and next steps): heading, opening paragraph, commitments.
    #[serde(default)]
    pub closing_heading: Option<String>,
    #[serde(default)]
    pub closing_lead: Option<String>,
    #[serde(default)]
    pub closing_commitments: Vec<Paragraph>,
    /// Where the public reaches the unit.
    #[serde(default)]
    pub contact: Option<Contact>,
    /// Section 二's headings as the unit words them, where they differ from the generated
    /// 对“…”方面问题的整改情况.
    #[serde(default)]
    pub headings: Vec<HeadingWording>,
    /// Section 二's problems as the unit words them, where they differ from the ledger's text.
    #[serde(default)]
    pub problems: Vec<ProblemWording>,
}

/// A heading of section 二 as the unit writes it (the one of the feedback heading `category`,
/// by its number). Printed as written; numbered unless it carries its own number.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HeadingWording {
    pub category: i32,
    pub text: String,
}

/// How the unit words one problem in the bulletin, where the ledger's text is not how the
/// bulletin prints it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ProblemWording {
    pub finding_id: i32,
    /// The item's title as printed, with its own punctuation and suffix
    /// (…工作不扎实的整改情况。 or …推进不力，): the description follows it directly.
    #[serde(default)]
    pub title: Option<String>,
    /// What opens the account of the measures (…对此我们作了如下整改：).
    #[serde(default)]
    pub intro: Option<String>,
    /// Each measure printed as a paragraph of its own.
    #[serde(default)]
    pub measures_apart: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Paragraph {
    pub title: String,
    pub content: String,
}

/// The contact block: its parts, or (in snapshots made before the parts existed) one text.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Contact {
    Parts {
        #[serde(default)]
        phone: Option<String>,
        #[serde(default)]
        address: Option<String>,
        #[serde(default)]
        email: Option<String>,
    },
    Text(String),
}

impl Contact {
    /// 电话：…；邮政地址：…；电子邮箱：… (the parts given).
    pub fn text(&self) -> String {
        match self {
            Contact::Text(text) => text.clone(),
            Contact::Parts {
                phone,
                address,
                email,
            } => [("电话", phone), ("邮政地址", address), ("电子邮箱", email)]
                .iter()
                .filter_map(|(label, v)| v.as_ref().map(|v| format!("{label}：{v}")))
                .collect::<Vec<_>>()
                .join("；"),
        }
    }
}

/// The status of a finding as a unit's ledger writes it (the catalogue's Chinese term: kept
/// documents are Chinese whoever asks).
pub fn status_zh(status: &str) -> String {
    term("finding-status", status)
}

fn term(kind: &str, status: &str) -> String {
    let id = format!("{kind}-{status}");
    if crate::i18n::known(&id) {
        crate::i18n::message_in(crate::i18n::Language::Chinese, &id, &[])
    } else {
        "未知".to_owned()
    }
}

/// The rectification type as a unit's ledger writes it.
pub fn type_zh(kind: &str) -> &'static str {
    match kind {
        "immediate" => "立行立改",
        "long_term" => "长期坚持",
        _ => "限期整改",
    }
}

/// The status of a measure as a unit's ledger writes it.
pub fn measure_status_zh(status: &str) -> String {
    term("measure-status", status)
}

/// 1 → 一, 12 → 十二, 21 → 二十一 (headings and "一是、二是" up to 99).
pub fn chinese_number(n: i32) -> String {
    const DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        0..=9 => DIGITS[n as usize].to_owned(),
        10..=19 => format!(
            "十{}",
            if n == 10 {
                ""
            } else {
                DIGITS[(n - 10) as usize]
            }
        ),
        20..=99 => format!(
            "{}十{}",
            DIGITS[(n / 10) as usize],
            if n % 10 == 0 {
                ""
            } else {
                DIGITS[(n % 10) as usize]
            }
        ),
        _ => n.to_string(),
    }
}

/// A date the way Chinese documents write it: 2020年9月5日.
pub fn chinese_date(date: NaiveDate) -> String {
    use chrono::Datelike;
    format!("{}年{}月{}日", date.year(), date.month(), date.day())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A text that is a formula, HTML and Markdown at once.
    const HOSTILE: &str = "=<i>x</i>|# `y` [z](javascript:alert(1))";

    /// A snapshot in which every text a user can write is [`HOSTILE`].
    fn hostile_snapshot() -> Snapshot {
        let h = || HOSTILE.to_owned();
        let day = NaiveDate::from_ymd_opt(2021, 4, 13).unwrap();
        let paragraph = || Paragraph {
            title: h(),
            content: h(),
        };
        Snapshot {
            kind: "bulletin".to_owned(),
            inspection: InspectionFacts {
                id: 1,
                title: h(),
                inspection_group: h(),
                unit_code: h(),
                unit_name: h(),
                started_on: day,
                ended_on: Some(day),
                feedback_on: Some(day),
                due_on: Some(day),
            },
            period_start: Some(day),
            period_end: day,
            generated_at: chrono::Utc::now().fixed_offset(),
            summary: SummaryFacts::default(),
            categories: vec![CategoryFacts {
                ordinal: Some(1),
                title: Some(h()),
                findings: vec![FindingFacts {
                    id: 1,
                    ordinal: 1,
                    title: h(),
                    description: h(),
                    rectification_type: "immediate".to_owned(),
                    status: "in_progress".to_owned(),
                    deadline: Some(day),
                    responsible_leader: Some(h()),
                    department: h(),
                    responsible_person: Some(h()),
                    closed_at: None,
                    version: 1,
                    disclosed: true,
                    measures: vec![MeasureFacts {
                        id: Some(1),
                        version: Some(1),
                        ordinal: 1,
                        content: h(),
                        status: "done".to_owned(),
                        deadline: Some(day),
                        completed_on: Some(day),
                        department: Some(h()),
                    }],
                    targets: vec![TargetFacts {
                        name: h(),
                        unit: h(),
                        baseline: Some(-1.0),
                        required_value: Some(2.0),
                        current_value: None,
                        as_of: Some(day),
                        met: Some(false),
                    }],
                    progress: vec![EntryFacts {
                        entry_date: day,
                        kind: "work".to_owned(),
                        content: h(),
                        author: h(),
                        measure_id: Some(1),
                        evidence: vec![h()],
                    }],
                }],
            }],
            publicity: Publicity {
                issuer: Some(h()),
                issued_on: Some(day),
                deployed_by: Some(h()),
                unit_short_name: Some(h()),
                lead_heading: Some(h()),
                lead: Some(h()),
                organisational_measures: vec![paragraph()],
                closing_heading: Some(h()),
                closing_lead: Some(h()),
                closing_commitments: vec![paragraph()],
                contact: Some(Contact::Parts {
                    phone: Some(h()),
                    address: Some(h()),
                    email: Some(h()),
                }),
                headings: vec![HeadingWording {
                    category: 1,
                    text: h(),
                }],
                problems: vec![ProblemWording {
                    finding_id: 1,
                    title: Some(h()),
                    intro: Some(h()),
                    measures_apart: true,
                }],
            },
            exchanged: vec![ExchangedFacts {
                unit_code: h(),
                unit_name: h(),
                peer: h(),
                sequence: Some(1),
                received_at: None,
                age_hours: Some(1),
                sentence: h(),
            }],
        }
    }

    #[test]
    fn every_text_reaches_every_rendering_as_text() {
        use render::{Document, Format, render_text};
        let s = hostile_snapshot();
        // Markdown: no HTML, and no Markdown, from the data.
        for document in [Document::Report(&s), Document::Bulletin(&s)] {
            let text = render_text(document, Format::Markdown).unwrap();
            for raw in ["<i>", "[z](", "`y`", "|#", "# `"] {
                assert!(!text.contains(raw), "{raw} in {text}");
            }
        }
        let page = render_text(Document::Bulletin(&s), Format::Html).unwrap();
        assert!(!page.contains("<i>"), "{page}");
        assert!(page.contains("&lt;i&gt;x&lt;/i&gt;"), "{page}");
        for document in [Document::Report(&s), Document::Ledger(&s)] {
            let csv = render_text(document, Format::Csv).unwrap();
            let mut reader = ::csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(csv.trim_start_matches('\u{FEFF}').as_bytes());
            for record in reader.records() {
                for cell in record.unwrap().iter() {
                    assert!(!cell.starts_with('='), "{cell}");
                }
            }
        }
    }

    #[test]
    fn numbers_and_dates_read_as_in_documents() {
        assert_eq!(chinese_number(1), "一");
        assert_eq!(chinese_number(10), "十");
        assert_eq!(chinese_number(13), "十三");
        assert_eq!(chinese_number(20), "二十");
        assert_eq!(chinese_number(21), "二十一");
        assert_eq!(
            chinese_date(NaiveDate::from_ymd_opt(2020, 9, 5).unwrap()),
            "2020年9月5日"
        );
    }
}

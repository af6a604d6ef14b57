//! The prose of a public bulletin (通报) as data: read on `Inspection.bulletinContent`, set by
//! `setBulletinContent`. Figures are named in the prose (`{问题数}`) and computed when a
//! bulletin is generated.

use async_graphql::{Context, ID, InputObject, Result};

use super::catalogue::{self, Fields};

use super::inspection::Inspection;
use super::scalars::{Date, date, naive};
use super::{parse_id, write};
use crate::error::AppResult;
use crate::report::{
    Contact, HeadingWording, Paragraph, ProblemWording, Publicity, bulletin::FIGURES,
};

/// A numbered item of section 一 or 三: （一）title。content
#[derive(InputObject, Clone)]
#[graphql(input_name = "BulletinItemInput")]
pub struct BulletinItem {
    pub title: String,
    pub content: String,
}

impl catalogue::Object for BulletinItem {
    const NAME: &'static str = "BulletinItem";
    const DOC: &'static str = "A numbered item of section 一 or 三: （一）title。content";

    fn fields(f: &mut Fields<Self>) {
        f.value("title", "", |r, _| r.title.clone());
        f.value("content", "", |r, _| r.content.clone());
    }
}

crate::object!(BulletinItem);

/// Where the public reaches the unit (联系方式).
#[derive(InputObject, Clone, Default)]
#[graphql(input_name = "BulletinContactInput")]
pub struct BulletinContact {
    /// 电话.
    pub phone: Option<String>,
    /// 邮政地址.
    pub address: Option<String>,
    /// 电子邮箱.
    pub email: Option<String>,
    /// The block as one text, when it was entered as one.
    #[graphql(skip_input)]
    pub text: Option<String>,
}

impl catalogue::Object for BulletinContact {
    const NAME: &'static str = "BulletinContact";
    const DOC: &'static str = "Where the public reaches the unit (联系方式).";

    fn fields(f: &mut Fields<Self>) {
        f.value("phone", "电话.", |r, _| r.phone.clone());
        f.value("address", "邮政地址.", |r, _| r.address.clone());
        f.value("email", "电子邮箱.", |r, _| r.email.clone());
        f.value(
            "text",
            "The block as one text, when it was entered as one.",
            |r, _| r.text.clone(),
        );
    }
}

crate::object!(BulletinContact);

/// A heading of section 二 as the unit writes it, where it differs from the generated
/// 对“…”方面问题的整改情况.
#[derive(InputObject, Clone)]
#[graphql(input_name = "BulletinHeadingInput")]
pub struct BulletinHeading {
    /// The feedback heading's number (问题类别序号).
    pub category: i32,
    /// The heading as printed: numbered （一）… unless it carries its own number.
    pub text: String,
}

impl catalogue::Object for BulletinHeading {
    const NAME: &'static str = "BulletinHeading";
    const DOC: &'static str = "A heading of section 二 as the unit writes it, where it differs from the generated\n对“…”方面问题的整改情况.";

    fn fields(f: &mut Fields<Self>) {
        f.value(
            "category",
            "The feedback heading's number (问题类别序号).",
            |r, _| r.category,
        );
        f.value(
            "text",
            "The heading as printed: numbered （一）… unless it carries its own number.",
            |r, _| r.text.clone(),
        );
    }
}

crate::object!(BulletinHeading);

/// How the unit words one problem in section 二, where the ledger's text is not how the
/// bulletin prints it. The problem is printed under its 序号 in the ledger.
#[derive(InputObject, Clone)]
#[graphql(input_name = "BulletinProblemInput")]
pub struct BulletinProblem {
    /// The finding.
    pub finding_id: ID,
    /// The item's title as printed, with its own punctuation and suffix
    /// (…工作不扎实的整改情况。 or …推进不力，): the description follows it directly.
    pub title: Option<String>,
    /// What opens the account of the measures (…对此我们作了如下整改：).
    pub intro: Option<String>,
    /// Each measure printed as a paragraph of its own.
    #[graphql(default)]
    pub measures_apart: bool,
}

impl catalogue::Object for BulletinProblem {
    const NAME: &'static str = "BulletinProblem";
    const DOC: &'static str = "How the unit words one problem in section 二, where the ledger's text is not how the\nbulletin prints it. The problem is printed under its 序号 in the ledger.";

    fn fields(f: &mut Fields<Self>) {
        f.value("findingId", "The finding.", |r, _| r.finding_id.clone());
        f.value("title", "The item's title as printed, with its own punctuation and suffix\n(…工作不扎实的整改情况。 or …推进不力，): the description follows it directly.", |r, _| r.title.clone());
        f.value(
            "intro",
            "What opens the account of the measures (…对此我们作了如下整改：).",
            |r, _| r.intro.clone(),
        );
        f.value(
            "measuresApart",
            "Each measure printed as a paragraph of its own.",
            |r, _| r.measures_apart,
        );
    }
}

crate::object!(BulletinProblem);

/// The prose of an inspection's bulletin. Prose may name figures in braces, computed from the
/// ledger when a bulletin is generated: {问题数}, {已销号数}, {未销号数}, {整改完成率},
/// {整改措施数}, {已完成措施数}, {会议数}, {制度数}, {目标达标数}, {反弹问题数}, and of the
/// office's supervision orders (督办单) {督办件数}, {逾期未复数}, {按期回复率}.
#[derive(InputObject, Clone, Default)]
#[graphql(input_name = "BulletinContentInput")]
pub struct BulletinContent {
    /// Who issues it (署名); default: the unit.
    pub issuer: Option<String>,
    /// The bulletin's date (落款日期); default: the period's end.
    pub issued_on: Option<Date>,
    /// Whose deployment the inspection followed (根据市委统一部署: 市委).
    pub deployed_by: Option<String>,
    /// How the prose names the unit (湛江市委统战部); default: its name.
    pub unit_short_name: Option<String>,
    /// Section 一's heading.
    pub lead_heading: Option<String>,
    /// Section 一's opening paragraph.
    pub lead: Option<String>,
    /// Section 一's items: the organisational measures (组织领导、研究部署、压实责任 ...).
    #[graphql(default)]
    pub organisational_measures: Vec<BulletinItem>,
    /// Section 三's heading (consolidation and next steps).
    pub closing_heading: Option<String>,
    /// Section 三's opening paragraph.
    pub closing_lead: Option<String>,
    /// Section 三's items: the closing commitments.
    #[graphql(default)]
    pub closing_commitments: Vec<BulletinItem>,
    /// The contact block.
    pub contact: Option<BulletinContact>,
    /// Section 二's headings as the unit words them.
    #[graphql(default)]
    pub headings: Vec<BulletinHeading>,
    /// Section 二's problems as the unit words them.
    #[graphql(default)]
    pub problems: Vec<BulletinProblem>,
}

impl catalogue::Object for BulletinContent {
    const NAME: &'static str = "BulletinContent";
    const DOC: &'static str = "The prose of an inspection's bulletin. Prose may name figures in braces, computed from the\nledger when a bulletin is generated: {问题数}, {已销号数}, {未销号数}, {整改完成率},\n{整改措施数}, {已完成措施数}, {会议数}, {制度数}, {目标达标数}, {反弹问题数}, and of the\noffice's supervision orders (督办单) {督办件数}, {逾期未复数}, {按期回复率}.";

    fn fields(f: &mut Fields<Self>) {
        f.value(
            "issuer",
            "Who issues it (署名); default: the unit.",
            |r, _| r.issuer.clone(),
        );
        f.value(
            "issuedOn",
            "The bulletin's date (落款日期); default: the period's end.",
            |r, _| r.issued_on,
        );
        f.value(
            "deployedBy",
            "Whose deployment the inspection followed (根据市委统一部署: 市委).",
            |r, _| r.deployed_by.clone(),
        );
        f.value(
            "unitShortName",
            "How the prose names the unit (湛江市委统战部); default: its name.",
            |r, _| r.unit_short_name.clone(),
        );
        f.value("leadHeading", "Section 一's heading.", |r, _| {
            r.lead_heading.clone()
        });
        f.value("lead", "Section 一's opening paragraph.", |r, _| {
            r.lead.clone()
        });
        f.nested(
            "organisationalMeasures",
            "Section 一's items: the organisational measures (组织领导、研究部署、压实责任 ...).",
            |r| &r.organisational_measures,
        );
        f.value(
            "closingHeading",
            "Section 三's heading (consolidation and next steps).",
            |r, _| r.closing_heading.clone(),
        );
        f.value("closingLead", "Section 三's opening paragraph.", |r, _| {
            r.closing_lead.clone()
        });
        f.nested(
            "closingCommitments",
            "Section 三's items: the closing commitments.",
            |r| &r.closing_commitments,
        );
        f.nested("contact", "The contact block.", |r| &r.contact);
        f.nested(
            "headings",
            "Section 二's headings as the unit words them.",
            |r| &r.headings,
        );
        f.nested(
            "problems",
            "Section 二's problems as the unit words them.",
            |r| &r.problems,
        );
    }
}

crate::object!(BulletinContent);

impl From<Publicity> for BulletinContent {
    fn from(p: Publicity) -> Self {
        let items = |v: Vec<Paragraph>| {
            v.into_iter()
                .map(|p| BulletinItem {
                    title: p.title,
                    content: p.content,
                })
                .collect()
        };
        Self {
            issuer: p.issuer,
            issued_on: date(p.issued_on),
            deployed_by: p.deployed_by,
            unit_short_name: p.unit_short_name,
            lead_heading: p.lead_heading,
            lead: p.lead,
            organisational_measures: items(p.organisational_measures),
            closing_heading: p.closing_heading,
            closing_lead: p.closing_lead,
            closing_commitments: items(p.closing_commitments),
            contact: p.contact.map(|c| match c {
                Contact::Parts {
                    phone,
                    address,
                    email,
                } => BulletinContact {
                    phone,
                    address,
                    email,
                    text: None,
                },
                Contact::Text(text) => BulletinContact {
                    text: Some(text),
                    ..Default::default()
                },
            }),
            headings: p
                .headings
                .into_iter()
                .map(|h| BulletinHeading {
                    category: h.category,
                    text: h.text,
                })
                .collect(),
            problems: p
                .problems
                .into_iter()
                .map(|w| BulletinProblem {
                    finding_id: ID(w.finding_id.to_string()),
                    title: w.title,
                    intro: w.intro,
                    measures_apart: w.measures_apart,
                })
                .collect(),
        }
    }
}

impl BulletinContent {
    /// The prose as stored (its findings named by id).
    fn into_publicity(self) -> AppResult<Publicity> {
        let c = self;
        let items = |v: Vec<BulletinItem>| {
            v.into_iter()
                .map(|i| Paragraph {
                    title: i.title,
                    content: i.content,
                })
                .collect()
        };
        let problems = c
            .problems
            .into_iter()
            .map(|w| {
                Ok(ProblemWording {
                    finding_id: parse_id("problems.findingId", &w.finding_id)?,
                    title: w.title,
                    intro: w.intro,
                    measures_apart: w.measures_apart,
                })
            })
            .collect::<AppResult<Vec<_>>>()?;
        Ok(Publicity {
            issuer: c.issuer,
            issued_on: naive(c.issued_on),
            deployed_by: c.deployed_by,
            unit_short_name: c.unit_short_name,
            lead_heading: c.lead_heading,
            lead: c.lead,
            organisational_measures: items(c.organisational_measures),
            closing_heading: c.closing_heading,
            closing_lead: c.closing_lead,
            closing_commitments: items(c.closing_commitments),
            contact: c.contact.map(|c| Contact::Parts {
                phone: c.phone,
                address: c.address,
                email: c.email,
            }),
            headings: c
                .headings
                .into_iter()
                .map(|h| HeadingWording {
                    category: h.category,
                    text: h.text,
                })
                .collect(),
            problems,
        })
    }
}

/// The names of the figures bulletin prose may use.
pub fn figure_names() -> Vec<String> {
    FIGURES.iter().map(|(n, _)| (*n).to_owned()).collect()
}

#[derive(Default)]
pub struct BulletinMutation;

impl catalogue::Root for BulletinMutation {
    const NAME: &'static str = "BulletinMutation";

    fn fields(f: &mut catalogue::Roots) {
        use catalogue::param;
        f.field(
            "setBulletinContent",
            "Replaces the prose of an inspection's public bulletin (the unit's managers within their\n\
            subtree, admins). `version` is the inspection's; bulletins generated before keep theirs.",
            (
                param::<ID>("inspectionId"),
                param::<i32>("version"),
                param::<BulletinContent>("content"),
            ),
            |ctx, (inspection_id, version, content)| {
                Box::pin(Self::set_bulletin_content(ctx, inspection_id, version, content))
            },
        );
    }
}

crate::root!(BulletinMutation);

impl BulletinMutation {
    async fn set_bulletin_content(
        ctx: &Context<'_>,
        inspection_id: ID,
        version: i32,
        content: BulletinContent,
    ) -> Result<Inspection> {
        let id = parse_id("inspectionId", &inspection_id)?;
        let content = content.into_publicity()?;
        let updated = write(ctx, async |txn, who| {
            crate::domain::documents::bulletin::set(txn, who, id, version, content.clone()).await
        })
        .await?;
        Ok(updated.into())
    }
}

//! Demo data: the Zhanjiang United Front Work Department's rectification after the fifth
//! inspection group's 2020 inspection, structured from the public bulletin of 2021-04-13
//! (`zhanjiang_2020.json`, compiled into the binary so `cargo run` works from any directory).
//!
//! The demo is loaded through the domain commands every surface uses (departments,
//! inspection, regulations, headings, findings, measures, targets, links, ledger entries), in
//! one `domain::write`, by the system actor `system:seed`: it passes every rule a user's data
//! passes, each row is audited as its command audits it, and each kind's new-row defaults come
//! from the one constructor its command uses. What the bulletin states and no everyday command
//! makes (findings closed and measures done before rectrack existed, rules linked to the
//! problems they answer) goes through the commands' "as recorded" forms
//! (`finding::create_recorded`, `measure::create_recorded`, `regulation::link_recorded`):
//! the same checks, without the ledger notes a change made today writes, since the bulletin's
//! own entries are the ledger. The one seed-only step is the bulletin's wording
//! ([`load`]), stored once the findings it names exist.

use std::collections::HashMap;

use chrono::NaiveDate;
use entity::enums::*;
use entity::inspection;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::Deserialize;
use serde_json::json;

use crate::audit::{self, Change};
use crate::auth::Caller;
use crate::config::TimeZone;
use crate::domain::records::finding::NewFinding;
use crate::domain::records::inspection::NewInspection;
use crate::domain::records::measure::NewMeasure;
use crate::domain::records::progress::{self, Checked};
use crate::domain::records::regulation::NewRegulation;
use crate::domain::records::target::NewTarget;
use crate::domain::{
    self, Acting, documents::bulletin, records::category, records::department, records::finding,
    records::measure, records::regulation, records::target,
};
use crate::error::{AppError, AppResult};

const DEMO: &str = include_str!("zhanjiang_2020.json");

/// Who the demo's ledger entries are written by: the bulletin they are taken from.
const BULLETIN_AUTHOR: &str = "巡察整改通报（2021-04-13）";

#[derive(Deserialize)]
pub struct Demo {
    pub departments: Vec<DemoDepartment>,
    pub bulletin: DemoBulletin,
    pub inspection: DemoInspection,
    pub regulations: Vec<DemoRegulation>,
    pub categories: Vec<DemoCategory>,
    pub unpublished: Unpublished,
    pub rectification_meetings: RectificationMeetings,
}

/// What the bulletin counts but does not publish: problems and regulations it states the
/// number of and never names. Each is represented by one stand-in record, so that the figures
/// the bulletin states are counted from data; the problems are not disclosed, so the bulletin
/// counts them without printing them.
#[derive(Deserialize)]
pub struct Unpublished {
    pub department: String,
    pub findings: i32,
    pub regulations: i32,
}

/// Meetings on the whole rectification that the bulletin names without a date, noted in
/// every finding's ledger as a bulk entry does (one meeting in many ledgers counts once).
#[derive(Deserialize)]
pub struct RectificationMeetings {
    pub entry_date: NaiveDate,
    pub contents: Vec<String>,
}

#[derive(Deserialize)]
pub struct DemoBulletin {
    pub published_on: NaiveDate,
    /// The bulletin's prose, its figures named (`{问题数}`) rather than written.
    #[serde(flatten)]
    pub publicity: crate::report::Publicity,
}

#[derive(Deserialize)]
pub struct DemoDepartment {
    pub code: String,
    pub name: String,
    pub kind: DepartmentKind,
    pub parent: Option<String>,
}

#[derive(Deserialize)]
pub struct DemoInspection {
    pub title: String,
    pub inspection_group: String,
    pub unit: String,
    pub started_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
    pub feedback_on: Option<NaiveDate>,
    pub due_on: Option<NaiveDate>,
}

#[derive(Deserialize)]
pub struct DemoRegulation {
    pub key: String,
    pub title: String,
    pub document_number: Option<String>,
    pub domain: RegulationDomain,
    pub issuing_department: Option<String>,
    pub issued_on: Option<NaiveDate>,
    pub status: RegulationStatus,
}

#[derive(Deserialize)]
pub struct DemoCategory {
    pub ordinal: i32,
    pub title: String,
    /// Its heading as the bulletin words it, where it is not the generated one.
    #[serde(default)]
    pub bulletin_heading: Option<String>,
    pub findings: Vec<DemoFinding>,
}

#[derive(Deserialize)]
pub struct DemoFinding {
    pub ordinal: i32,
    pub title: String,
    pub description: String,
    /// How the bulletin words the problem (`report::ProblemWording`), where it differs.
    #[serde(default)]
    pub bulletin_title: Option<String>,
    #[serde(default)]
    pub bulletin_intro: Option<String>,
    #[serde(default)]
    pub measures_apart: bool,
    pub rectification_type: RectificationType,
    pub status: FindingStatus,
    pub deadline: Option<NaiveDate>,
    pub responsible_leader: Option<String>,
    pub responsible_department: String,
    pub responsible_person: Option<String>,
    pub closed_on: Option<NaiveDate>,
    pub measures: Vec<DemoMeasure>,
    pub targets: Vec<DemoTarget>,
    pub regulations: Vec<String>,
    pub progress: Vec<DemoProgress>,
    #[serde(default = "published")]
    pub disclosed: bool,
}

fn published() -> bool {
    true
}

#[derive(Deserialize)]
pub struct DemoMeasure {
    pub ordinal: i32,
    pub content: String,
    pub status: MeasureStatus,
    pub deadline: Option<NaiveDate>,
    pub completed_on: Option<NaiveDate>,
    pub department: Option<String>,
}

#[derive(Deserialize)]
pub struct DemoTarget {
    pub name: String,
    pub unit: String,
    pub baseline: Option<f64>,
    pub required: Option<f64>,
    pub current: Option<f64>,
    pub as_of: Option<NaiveDate>,
    #[serde(default)]
    pub better: entity::enums::TargetBetter,
}

#[derive(Deserialize)]
pub struct DemoProgress {
    pub entry_date: NaiveDate,
    pub kind: ProgressKind,
    pub content: String,
    pub measure: Option<i32>,
}

/// The demo document, parsed.
pub fn demo() -> Demo {
    // The file is part of the binary and checked by tests; failing to parse it is a build bug.
    serde_json::from_str(DEMO).expect("the embedded demo data is valid")
}

/// What `load_demo` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Loaded { inspection_id: i32 },
    AlreadyPresent { inspection_id: i32 },
}

/// Loads the demo data in one transaction. Idempotent: departments are matched by code, and
/// an inspection of the same unit by the same group starting the same day is not loaded again.
pub async fn load_demo(db: &DatabaseConnection, zone: TimeZone) -> AppResult<Outcome> {
    let demo = demo();
    let who = loader(zone);
    domain::write(db, &who, async |txn| load(txn, &who, &demo).await).await
}

/// The system loading the demo: an administrator by role (the "as recorded" commands are
/// the administrators'), recorded as `system:seed`, and named in the ledger as the bulletin
/// its entries are taken from.
fn loader(zone: TimeZone) -> Acting {
    let mut who = Acting::system("seed", zone);
    if let Caller::Authenticated(identity) = &mut who.caller {
        identity.name = Some(BULLETIN_AUTHOR.to_owned());
    }
    who
}

async fn load(db: &impl ConnectionTrait, who: &Acting, demo: &Demo) -> AppResult<Outcome> {
    for d in &demo.departments {
        if department::find_by_code(db, &d.code).await?.is_none() {
            department::create_by(db, who, &d.code, &d.name, d.kind, d.parent.as_deref()).await?;
        }
    }
    let i = &demo.inspection;
    let unit = department::active_by_code(db, "unit", &i.unit).await?;
    if let Some(existing) = inspection::Entity::find()
        .filter(inspection::Column::UnitId.eq(unit.id))
        .filter(inspection::Column::InspectionGroup.eq(&i.inspection_group))
        .filter(inspection::Column::StartedOn.eq(i.started_on))
        .one(db)
        .await?
    {
        return Ok(Outcome::AlreadyPresent {
            inspection_id: existing.id,
        });
    }

    let insp = domain::records::inspection::create(
        db,
        who,
        NewInspection {
            title: i.title.clone(),
            inspection_group: i.inspection_group.clone(),
            unit_code: i.unit.clone(),
            started_on: i.started_on,
            ended_on: i.ended_on,
            feedback_on: i.feedback_on,
            due_on: i.due_on,
        },
    )
    .await?;
    let mut publicity = crate::report::Publicity {
        issued_on: Some(demo.bulletin.published_on),
        ..demo.bulletin.publicity.clone()
    };

    let mut regulation_ids = HashMap::new();
    for r in &demo.regulations {
        let created = regulation::create(
            db,
            who,
            NewRegulation {
                title: r.title.clone(),
                document_number: r.document_number.clone(),
                domain: r.domain,
                department_code: r.issuing_department.clone(),
                issued_on: r.issued_on,
                status: r.status,
            },
        )
        .await?;
        regulation_ids.insert(r.key.clone(), created.id);
    }

    let (mut finding_ids, mut measures, mut entries) = (Vec::new(), 0, 0);
    for c in &demo.categories {
        let cat = category::create(db, who, insp.id, Some(c.ordinal), &c.title).await?;
        if let Some(text) = &c.bulletin_heading {
            publicity.headings.push(crate::report::HeadingWording {
                category: c.ordinal,
                text: text.clone(),
            });
        }
        for f in &c.findings {
            let input = NewFinding {
                inspection_id: insp.id,
                category_id: Some(cat.id),
                ordinal: Some(f.ordinal),
                title: f.title.clone(),
                description: f.description.clone(),
                rectification_type: f.rectification_type,
                deadline: f.deadline,
                responsible_leader: f.responsible_leader.clone(),
                department_code: f.responsible_department.clone(),
                responsible_person: f.responsible_person.clone(),
                disclosed: f.disclosed,
            };
            let fnd = finding::create_recorded(db, who, input, f.status, f.closed_on).await?;
            finding_ids.push(fnd.id);
            if f.bulletin_title.is_some() || f.bulletin_intro.is_some() || f.measures_apart {
                publicity.problems.push(crate::report::ProblemWording {
                    finding_id: fnd.id,
                    title: f.bulletin_title.clone(),
                    intro: f.bulletin_intro.clone(),
                    measures_apart: f.measures_apart,
                });
            }
            let mut measure_ids = HashMap::new();
            for m in &f.measures {
                let input = NewMeasure {
                    finding_id: fnd.id,
                    ordinal: Some(m.ordinal),
                    content: m.content.clone(),
                    department_code: m.department.clone(),
                    responsible_person: None,
                    deadline: m.deadline,
                };
                // A done measure without a date in the bulletin is dated by the bulletin.
                let completed_on = m.completed_on.or(Some(demo.bulletin.published_on));
                let created =
                    measure::create_recorded(db, who, input, m.status, completed_on).await?;
                measure_ids.insert(m.ordinal, created.id);
                measures += 1;
            }
            for t in &f.targets {
                let input = NewTarget {
                    finding_id: fnd.id,
                    name: t.name.clone(),
                    unit: t.unit.clone(),
                    baseline: t.baseline,
                    required_value: t.required,
                    current_value: t.current,
                    as_of: t.as_of,
                    better: Some(t.better),
                };
                target::create(db, who, input).await?;
            }
            for key in &f.regulations {
                let regulation_id = *regulation_ids.get(key).ok_or_else(|| {
                    AppError::internal(format!("demo data names unknown regulation {key}"))
                })?;
                regulation::link_recorded(db, who, fnd.id, regulation_id).await?;
            }
            for p in &f.progress {
                let measure_id = p.measure.and_then(|o| measure_ids.get(&o).copied());
                history(db, who, fnd.id, measure_id, p).await?;
                entries += 1;
            }
        }
    }

    // Seed-only: the bulletin's wording of its problems names them by id, so it is stored
    // once they have one. Setting it through `bulletin::set` would raise the inspection to
    // version 2, and the demo's inspection is the one a unit would find as the bulletin left
    // it (version 1); it passes the same check (`bulletin::checked`), and the load's own
    // audit event below records it.
    let publicity = bulletin::checked(publicity)?;
    let publicity = serde_json::to_value(&publicity).map_err(AppError::internal)?;
    inspection::Entity::update_many()
        .col_expr(
            inspection::Column::Publicity,
            Expr::value(publicity.clone()),
        )
        .filter(inspection::Column::Id.eq(insp.id))
        .exec(db)
        .await?;

    let stand_ins =
        unpublished(db, who, &demo.unpublished, &insp, finding_ids.len() as i32).await?;
    let regulations = regulation_ids.len() + demo.unpublished.regulations as usize;
    finding_ids.extend(stand_ins);
    let m = &demo.rectification_meetings;
    for content in &m.contents {
        let meeting = DemoProgress {
            entry_date: m.entry_date,
            kind: ProgressKind::Meeting,
            content: content.clone(),
            measure: None,
        };
        for &finding_id in &finding_ids {
            history(db, who, finding_id, None, &meeting).await?;
            entries += 1;
        }
    }

    audit::record(
        db,
        &who.actor,
        Change {
            action: "inspection.seed_demo",
            entity_type: "inspection",
            entity_id: insp.id.to_string(),
            department_id: Some(unit.id),
            before: None,
            after: Some(json!({
                "title": insp.title,
                "categories": demo.categories.len(),
                "findings": finding_ids.len(),
                "measures": measures,
                "regulations": regulations,
                "progress_entries": entries,
                "publicity": publicity,
            })),
        },
    )
    .await?;
    Ok(Outcome::Loaded {
        inspection_id: insp.id,
    })
}

/// A ledger entry of the bulletin's history, appended as any entry is (the loader is named
/// as the bulletin, see [`loader`]).
async fn history(
    db: &impl ConnectionTrait,
    who: &Acting,
    finding_id: i32,
    measure_id: Option<i32>,
    p: &DemoProgress,
) -> AppResult<()> {
    let entry: Checked = progress::check(
        finding_id,
        measure_id,
        Some(p.entry_date),
        p.kind,
        &p.content,
        &[],
    )?;
    progress::append(db, who, &entry).await?;
    Ok(())
}

/// The stand-ins for what the bulletin counts and does not publish ([`Unpublished`]):
/// undisclosed findings numbered after the published ones, under the unit itself, and the
/// unnamed regulations linked to them in turn. Returns the findings' ids.
async fn unpublished(
    db: &impl ConnectionTrait,
    who: &Acting,
    u: &Unpublished,
    insp: &inspection::Model,
    published: i32,
) -> AppResult<Vec<i32>> {
    let mut ids = Vec::new();
    for k in 1..=u.findings {
        let ordinal = published + k;
        let input = NewFinding {
            inspection_id: insp.id,
            category_id: None,
            ordinal: Some(ordinal),
            title: format!("整改方案第{ordinal}项问题（未公开）"),
            description: format!(
                "通报只公布了问题总数（{}个），未公开本问题的内容。",
                published + u.findings
            ),
            rectification_type: RectificationType::ByDeadline,
            deadline: None,
            responsible_leader: None,
            department_code: u.department.clone(),
            responsible_person: None,
            disclosed: false,
        };
        let created =
            finding::create_recorded(db, who, input, FindingStatus::InProgress, None).await?;
        ids.push(created.id);
    }
    for k in 1..=u.regulations {
        let created = regulation::create(
            db,
            who,
            NewRegulation {
                title: format!("通报未列名称的规章制度（第{k}项）"),
                document_number: None,
                domain: RegulationDomain::Other,
                department_code: Some(u.department.clone()),
                issued_on: None,
                status: RegulationStatus::InForce,
            },
        )
        .await?;
        if let Some(&finding_id) = ids.get((k as usize - 1) % ids.len().max(1)) {
            regulation::link_recorded(db, who, finding_id, created.id).await?;
        }
    }
    Ok(ids)
}

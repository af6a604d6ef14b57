//! Demo data: the Zhanjiang United Front Work Department's rectification after the fifth
//! inspection group's 2020 inspection, structured from the public bulletin of 2021-04-13
//! (`zhanjiang_2020.json`, compiled into the binary so `cargo run` works from any directory).

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveTime, Utc};
use entity::enums::*;
use entity::{
    category, finding, finding_regulation, inspection, measure, progress_entry, regulation, target,
};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde::Deserialize;
use serde_json::json;

use crate::audit::{self, Actor, Change};
use crate::db;
use crate::domain::records::department;
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
pub async fn load_demo(db: &DatabaseConnection) -> AppResult<Outcome> {
    let demo = demo();
    let txn = db::begin_write(db).await?;
    let actor = Actor::system("seed");
    let now = Utc::now();

    let mut departments = HashMap::new();
    for d in &demo.departments {
        let model = match department::find_by_code(&txn, &d.code).await? {
            Some(existing) => existing,
            None => {
                let parent = d.parent.as_ref().map(|code| &departments[code]);
                let created = department::insert(&txn, &d.code, &d.name, d.kind, parent).await?;
                audit::record(
                    &txn,
                    &actor,
                    Change {
                        action: "department.create",
                        entity_type: "department",
                        entity_id: created.id.to_string(),
                        department_id: Some(created.id),
                        before: None,
                        after: Some(json!({"code": created.code, "name": created.name})),
                    },
                )
                .await?;
                created
            }
        };
        departments.insert(d.code.clone(), model);
    }
    let dept_id = |code: &str| -> AppResult<i32> {
        departments
            .get(code)
            .map(|d| d.id)
            .ok_or_else(|| AppError::internal(format!("demo data names unknown department {code}")))
    };

    let unit_id = dept_id(&demo.inspection.unit)?;
    if let Some(existing) = inspection::Entity::find()
        .filter(inspection::Column::UnitId.eq(unit_id))
        .filter(inspection::Column::InspectionGroup.eq(&demo.inspection.inspection_group))
        .filter(inspection::Column::StartedOn.eq(demo.inspection.started_on))
        .one(&txn)
        .await?
    {
        txn.commit().await?;
        return Ok(Outcome::AlreadyPresent {
            inspection_id: existing.id,
        });
    }

    let i = &demo.inspection;
    let mut publicity = crate::report::Publicity {
        issued_on: Some(demo.bulletin.published_on),
        ..demo.bulletin.publicity.clone()
    };
    let insp = inspection::ActiveModel {
        title: Set(i.title.clone()),
        inspection_group: Set(i.inspection_group.clone()),
        unit_id: Set(unit_id),
        started_on: Set(i.started_on),
        ended_on: Set(i.ended_on),
        feedback_on: Set(i.feedback_on),
        due_on: Set(i.due_on),
        publicity: Set(Some(
            serde_json::to_value(&publicity).map_err(AppError::internal)?,
        )),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;

    let mut regulation_ids = HashMap::new();
    for r in &demo.regulations {
        let issuing = match &r.issuing_department {
            Some(code) => Some(dept_id(code)?),
            None => None,
        };
        let created = regulation::ActiveModel {
            title: Set(r.title.clone()),
            document_number: Set(r.document_number.clone()),
            domain: Set(r.domain),
            department_id: Set(issuing),
            issued_on: Set(r.issued_on),
            status: Set(r.status),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        regulation_ids.insert(r.key.clone(), created.id);
    }

    let (mut finding_ids, mut measures, mut entries) = (Vec::new(), 0, 0);
    for c in &demo.categories {
        let cat = category::ActiveModel {
            inspection_id: Set(insp.id),
            ordinal: Set(c.ordinal),
            title: Set(c.title.clone()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        if let Some(text) = &c.bulletin_heading {
            publicity.headings.push(crate::report::HeadingWording {
                category: c.ordinal,
                text: text.clone(),
            });
        }
        for f in &c.findings {
            let fnd = finding::ActiveModel {
                inspection_id: Set(insp.id),
                category_id: Set(Some(cat.id)),
                ordinal: Set(f.ordinal),
                title: Set(f.title.clone()),
                description: Set(f.description.clone()),
                rectification_type: Set(f.rectification_type),
                status: Set(f.status),
                deadline: Set(f.deadline),
                responsible_leader: Set(f.responsible_leader.clone()),
                department_id: Set(dept_id(&f.responsible_department)?),
                responsible_person: Set(f.responsible_person.clone()),
                created_at: Set(now),
                updated_at: Set(now),
                closed_at: Set(f
                    .closed_on
                    .map(|d| d.and_time(NaiveTime::MIN).and_utc())
                    .or((f.status == FindingStatus::Closed).then_some(now))),
                version: Set(1),
                disclosed: Set(f.disclosed),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
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
                let department_id = match &m.department {
                    Some(code) => Some(dept_id(code)?),
                    None => None,
                };
                let created = measure::ActiveModel {
                    finding_id: Set(fnd.id),
                    ordinal: Set(m.ordinal),
                    content: Set(m.content.clone()),
                    department_id: Set(department_id),
                    deadline: Set(m.deadline),
                    status: Set(m.status),
                    // A done measure without a date in the bulletin is dated by the bulletin.
                    completed_on: Set(m.completed_on.or((m.status == MeasureStatus::Done)
                        .then(|| NaiveDate::from_ymd_opt(2021, 4, 13))
                        .flatten())),
                    version: Set(1),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
                measure_ids.insert(m.ordinal, created.id);
                measures += 1;
            }
            for t in &f.targets {
                target::ActiveModel {
                    finding_id: Set(fnd.id),
                    name: Set(t.name.clone()),
                    unit: Set(t.unit.clone()),
                    baseline: Set(t.baseline),
                    required_value: Set(t.required),
                    current_value: Set(t.current),
                    as_of: Set(t.as_of),
                    better: Set(t.better),
                    version: Set(1),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
            }
            for key in &f.regulations {
                let regulation_id = *regulation_ids.get(key).ok_or_else(|| {
                    AppError::internal(format!("demo data names unknown regulation {key}"))
                })?;
                finding_regulation::ActiveModel {
                    finding_id: Set(fnd.id),
                    regulation_id: Set(regulation_id),
                    linked_at: Set(now),
                    linked_by: Set(actor.sub.clone()),
                    unlinked_at: Set(None),
                }
                .insert(&txn)
                .await?;
            }
            for p in &f.progress {
                let measure_id = p.measure.and_then(|o| measure_ids.get(&o).copied());
                history(&txn, &actor, fnd.id, measure_id, p).await?;
                entries += 1;
            }
        }
    }

    // The bulletin's wording of its problems names them by id: stored once they have one.
    inspection::Entity::update_many()
        .col_expr(
            inspection::Column::Publicity,
            sea_orm::sea_query::Expr::value(
                serde_json::to_value(&publicity).map_err(AppError::internal)?,
            ),
        )
        .filter(inspection::Column::Id.eq(insp.id))
        .exec(&txn)
        .await?;

    let stand_ins = unpublished(
        &txn,
        &demo.unpublished,
        &insp,
        dept_id(&demo.unpublished.department)?,
        finding_ids.len() as i32,
        &actor,
    )
    .await?;
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
            history(&txn, &actor, finding_id, None, &meeting).await?;
            entries += 1;
        }
    }

    audit::record(
        &txn,
        &actor,
        Change {
            action: "inspection.seed_demo",
            entity_type: "inspection",
            entity_id: insp.id.to_string(),
            department_id: Some(unit_id),
            before: None,
            after: Some(json!({
                "title": insp.title,
                "categories": demo.categories.len(),
                "findings": finding_ids.len(),
                "measures": measures,
                "regulations": regulations,
                "progress_entries": entries,
            })),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(Outcome::Loaded {
        inspection_id: insp.id,
    })
}

/// A ledger entry of the bulletin's history, written as the system loading it.
async fn history(
    db: &impl sea_orm::ConnectionTrait,
    actor: &Actor,
    finding_id: i32,
    measure_id: Option<i32>,
    p: &DemoProgress,
) -> AppResult<()> {
    progress_entry::ActiveModel {
        finding_id: Set(finding_id),
        measure_id: Set(measure_id),
        entry_date: Set(p.entry_date),
        kind: Set(p.kind),
        content: Set(p.content.clone()),
        author_sub: Set(actor.sub.clone()),
        author_name: Set(Some(BULLETIN_AUTHOR.to_owned())),
        author_role: Set(Some(actor.role.clone())),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The stand-ins for what the bulletin counts and does not publish ([`Unpublished`]):
/// undisclosed findings numbered after the published ones, under the unit itself, and the
/// unnamed regulations linked to them in turn. Returns the findings' ids.
async fn unpublished(
    db: &impl sea_orm::ConnectionTrait,
    u: &Unpublished,
    insp: &inspection::Model,
    department_id: i32,
    published: i32,
    actor: &Actor,
) -> AppResult<Vec<i32>> {
    let now = Utc::now();
    let mut ids = Vec::new();
    for k in 1..=u.findings {
        let ordinal = published + k;
        let created = finding::ActiveModel {
            inspection_id: Set(insp.id),
            ordinal: Set(ordinal),
            title: Set(format!("整改方案第{ordinal}项问题（未公开）")),
            description: Set(format!(
                "通报只公布了问题总数（{}个），未公开本问题的内容。",
                published + u.findings
            )),
            rectification_type: Set(RectificationType::ByDeadline),
            status: Set(FindingStatus::InProgress),
            department_id: Set(department_id),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            disclosed: Set(false),
            ..Default::default()
        }
        .insert(db)
        .await?;
        ids.push(created.id);
    }
    for k in 1..=u.regulations {
        let created = regulation::ActiveModel {
            title: Set(format!("通报未列名称的规章制度（第{k}项）")),
            domain: Set(RegulationDomain::Other),
            department_id: Set(Some(department_id)),
            status: Set(RegulationStatus::InForce),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await?;
        if let Some(&finding_id) = ids.get((k as usize - 1) % ids.len().max(1)) {
            finding_regulation::ActiveModel {
                finding_id: Set(finding_id),
                regulation_id: Set(created.id),
                linked_at: Set(now),
                linked_by: Set(actor.sub.clone()),
                unlinked_at: Set(None),
            }
            .insert(db)
            .await?;
        }
    }
    Ok(ids)
}

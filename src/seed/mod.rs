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
use crate::domain::department;
use crate::error::{AppError, AppResult};

const DEMO: &str = include_str!("zhanjiang_2020.json");

#[derive(Deserialize)]
pub struct Demo {
    pub departments: Vec<DemoDepartment>,
    pub bulletin: DemoBulletin,
    pub inspection: DemoInspection,
    pub regulations: Vec<DemoRegulation>,
    pub categories: Vec<DemoCategory>,
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
    pub findings: Vec<DemoFinding>,
}

#[derive(Deserialize)]
pub struct DemoFinding {
    pub ordinal: i32,
    pub title: String,
    pub description: String,
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
    let insp = inspection::ActiveModel {
        title: Set(i.title.clone()),
        inspection_group: Set(i.inspection_group.clone()),
        unit_id: Set(unit_id),
        started_on: Set(i.started_on),
        ended_on: Set(i.ended_on),
        feedback_on: Set(i.feedback_on),
        due_on: Set(i.due_on),
        publicity: Set(Some(
            serde_json::to_value(crate::report::Publicity {
                issued_on: Some(demo.bulletin.published_on),
                ..demo.bulletin.publicity.clone()
            })
            .map_err(AppError::internal)?,
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

    let (mut findings, mut measures, mut entries) = (0, 0, 0);
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
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            findings += 1;
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
                progress_entry::ActiveModel {
                    finding_id: Set(fnd.id),
                    measure_id: Set(p.measure.and_then(|o| measure_ids.get(&o).copied())),
                    entry_date: Set(p.entry_date),
                    kind: Set(p.kind),
                    content: Set(p.content.clone()),
                    author_sub: Set(actor.sub.clone()),
                    author_name: Set(Some("巡察整改通报（2021-04-13）".to_owned())),
                    author_role: Set(Some(actor.role.clone())),
                    created_at: Set(now),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
                entries += 1;
            }
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
                "findings": findings,
                "measures": measures,
                "regulations": regulation_ids.len(),
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

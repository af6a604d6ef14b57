//! The three lists, the timetable and the road map (问题清单、任务清单、责任清单、时间表、路线图) of
//! one inspection: how a unit and its inspection office track a rectification plan. Each is
//! computed from one bounded read of the inspection ([`Plan::load`]) within the caller's reach,
//! so a section sees its own part and an inspection outside reach is not found.

pub mod problems;
pub mod responsibilities;
pub mod roadmap;
pub mod tasks;
pub mod timetable;

use std::collections::HashMap;

use chrono::NaiveDate;
use entity::enums::{FindingStatus, MeasureStatus};
use entity::{category, department, evidence, finding, inspection, measure, progress_entry};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};

use crate::auth::Caller;
use crate::domain::reads::scope;
use crate::domain::records::inspection as inspections;
use crate::domain::workflow::warning::{Level, Thresholds};
use crate::error::{AppError, AppResult};

/// The most findings a list reads of one inspection. An inspection has at most a few thousand;
/// past this the lists say they are cut (`truncated`) rather than grow without bound.
pub const MAX_FINDINGS: u64 = 5_000;

/// The most measures a list reads of one inspection (ten per finding at the cap).
pub const MAX_MEASURES: u64 = 50_000;

/// What the lists are computed from: the inspection and, of it, the findings the caller may
/// read with their measures, the departments they name and the evidence of each measure.
pub struct Plan {
    pub inspection: inspection::Model,
    /// The inspected unit's name.
    pub unit_name: String,
    /// The feedback headings, in order.
    pub categories: Vec<category::Model>,
    /// Readable findings, by number (序号).
    pub findings: Vec<finding::Model>,
    /// Their measures, by finding and number.
    pub measures: Vec<measure::Model>,
    /// Stages (阶段目标) of long-term findings, by finding and number.
    pub stages: Vec<entity::stage::Model>,
    /// Departments the findings and measures name, by id.
    pub departments: HashMap<i32, department::Model>,
    /// Evidence items recorded against each measure, by measure id.
    pub evidence: HashMap<i32, i64>,
    pub thresholds: Thresholds,
    /// More findings or measures than the caps: the lists show the first ones only.
    pub truncated: bool,
}

impl Plan {
    /// Reads inspection `inspection_id` for `caller` (`NOT_FOUND` outside reach).
    pub async fn load(
        db: &impl ConnectionTrait,
        caller: &Caller,
        inspection_id: i32,
        thresholds: Thresholds,
    ) -> AppResult<Self> {
        let inspection = inspections::get(db, caller, inspection_id).await?;
        let mut findings = scope::findings(caller)
            .filter(finding::Column::InspectionId.eq(inspection_id))
            .filter(finding::Column::ArchivedAt.is_null())
            .order_by_asc(finding::Column::Ordinal)
            .order_by_asc(finding::Column::Id)
            .limit(MAX_FINDINGS + 1)
            .all(db)
            .await?;
        let mut truncated = findings.len() as u64 > MAX_FINDINGS;
        findings.truncate(MAX_FINDINGS as usize);
        let readable = scope::findings(caller)
            .filter(finding::Column::InspectionId.eq(inspection_id))
            .filter(finding::Column::ArchivedAt.is_null())
            .select_only()
            .column(finding::Column::Id)
            .into_query();
        // The findings' measures and stages, read by the findings' ids in slices (an index
        // lookup per finding), not through the scope's subquery, and put in order here: a
        // planner asked to order them may scan and sort every measure instead.
        let mut finding_ids: Vec<i32> = findings.iter().map(|f| f.id).collect();
        finding_ids.sort_unstable();
        let mut measures = Vec::new();
        for chunk in finding_ids.chunks(500) {
            if measures.len() as u64 > MAX_MEASURES {
                break;
            }
            measures.extend(
                measure::Entity::find()
                    .filter(measure::Column::FindingId.is_in(chunk.iter().copied()))
                    .filter(measure::Column::ArchivedAt.is_null())
                    .limit(MAX_MEASURES + 1)
                    .all(db)
                    .await?,
            );
        }
        measures.sort_unstable_by_key(|m| (m.finding_id, m.ordinal, m.id));
        truncated |= measures.len() as u64 > MAX_MEASURES;
        measures.truncate(MAX_MEASURES as usize);
        let categories = category::Entity::find()
            .filter(category::Column::InspectionId.eq(inspection_id))
            .filter(category::Column::ArchivedAt.is_null())
            .order_by_asc(category::Column::Ordinal)
            .all(db)
            .await?;
        let mut ids: Vec<i32> = findings
            .iter()
            .map(|f| f.department_id)
            .chain(measures.iter().filter_map(|m| m.department_id))
            .chain([inspection.unit_id])
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let mut departments = HashMap::new();
        // In slices, so that no statement carries more bound values than a driver takes.
        for chunk in ids.chunks(500) {
            for d in department::Entity::find()
                .filter(department::Column::Id.is_in(chunk.iter().copied()))
                .all(db)
                .await?
            {
                departments.insert(d.id, d);
            }
        }
        let mut stages = Vec::new();
        for chunk in finding_ids.chunks(500) {
            if stages.len() as u64 > MAX_MEASURES {
                break;
            }
            stages.extend(
                entity::stage::Entity::find()
                    .filter(entity::stage::Column::FindingId.is_in(chunk.iter().copied()))
                    .filter(entity::stage::Column::ArchivedAt.is_null())
                    .limit(MAX_MEASURES + 1)
                    .all(db)
                    .await?,
            );
        }
        stages.sort_unstable_by_key(|s| (s.finding_id, s.ordinal, s.id));
        truncated |= stages.len() as u64 > MAX_MEASURES;
        stages.truncate(MAX_MEASURES as usize);
        let evidence = evidence_counts(db, readable).await?;
        let unit_name = departments
            .get(&inspection.unit_id)
            .map(|d| d.name.clone())
            .unwrap_or_default();
        Ok(Self {
            inspection,
            unit_name,
            categories,
            findings,
            measures,
            stages,
            departments,
            evidence,
            thresholds,
            truncated,
        })
    }

    /// The name of department `id` (empty if it is gone).
    pub fn department_name(&self, id: i32) -> &str {
        self.departments
            .get(&id)
            .map(|d| d.name.as_str())
            .unwrap_or("")
    }

    /// The finding of `id`, among those read.
    pub fn finding(&self, id: i32) -> Option<&finding::Model> {
        self.findings.iter().find(|f| f.id == id)
    }

    /// Findings by id, for the lists that walk measures.
    pub fn findings_by_id(&self) -> HashMap<i32, &finding::Model> {
        self.findings.iter().map(|f| (f.id, f)).collect()
    }

    /// Measures grouped by finding id, in order.
    pub fn measures_by_finding(&self) -> HashMap<i32, Vec<&measure::Model>> {
        let mut by: HashMap<i32, Vec<&measure::Model>> = HashMap::new();
        for m in &self.measures {
            by.entry(m.finding_id).or_default().push(m);
        }
        by
    }
}

/// Evidence items per measure, of the findings selected by `findings` (ids), in one grouped read.
async fn evidence_counts(
    db: &impl ConnectionTrait,
    findings: sea_orm::sea_query::SelectStatement,
) -> AppResult<HashMap<i32, i64>> {
    let query = Query::select()
        .column((progress_entry::Entity, progress_entry::Column::MeasureId))
        .expr(Expr::col((evidence::Entity, evidence::Column::Id)).count())
        .from(evidence::Entity)
        .inner_join(
            progress_entry::Entity,
            Expr::col((progress_entry::Entity, progress_entry::Column::Id))
                .equals((evidence::Entity, evidence::Column::ProgressEntryId)),
        )
        .and_where(
            Expr::col((progress_entry::Entity, progress_entry::Column::FindingId))
                .in_subquery(findings),
        )
        .and_where(
            Expr::col((progress_entry::Entity, progress_entry::Column::MeasureId)).is_not_null(),
        )
        .group_by_col((progress_entry::Entity, progress_entry::Column::MeasureId))
        .to_owned();
    let statement = db.get_database_backend().build(&query);
    let mut counts = HashMap::new();
    for row in db.query_all_raw(statement).await? {
        let id: i32 = row.try_get_by_index(0)?;
        let n: i64 = row.try_get_by_index(1)?;
        counts.insert(id, n);
    }
    Ok(counts)
}

/// A name as written on a record, trimmed; blank is no name.
pub fn name(written: Option<&str>) -> Option<String> {
    written
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Whether a finding is finished (closed out).
pub fn finding_done(f: &finding::Model) -> bool {
    f.status == FindingStatus::Closed
}

/// The day a finding was finished, if it was.
pub fn finding_done_on(f: &finding::Model) -> Option<NaiveDate> {
    finding_done(f)
        .then(|| f.closed_at.map(|t| t.date_naive()))
        .flatten()
}

/// A measure's deadline: its own, or its finding's.
pub fn measure_deadline(m: &measure::Model, f: Option<&finding::Model>) -> Option<NaiveDate> {
    m.deadline.or_else(|| f.and_then(|f| f.deadline))
}

/// Whether a measure is done.
pub fn measure_done(m: &measure::Model) -> bool {
    m.status == MeasureStatus::Done
}

/// Open work past its deadline.
pub fn overdue(deadline: Option<NaiveDate>, done: bool, today: NaiveDate) -> bool {
    !done && deadline.is_some_and(|d| d < today)
}

/// The warning level of work, by the ladder in force.
pub fn level(t: &Thresholds, deadline: Option<NaiveDate>, done: bool) -> Level {
    t.level(deadline, done)
}

/// `BAD_USER_INPUT` for a list name that is not one of the four.
pub fn unknown_list(name: &str) -> AppError {
    AppError::bad_input("list", t!("list-unknown", list = name))
}

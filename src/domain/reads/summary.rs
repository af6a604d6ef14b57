//! Status summaries (整改进度): counts by SQL aggregates over the findings the caller may read
//! (never by loading rows), for an inspection, a department's subtree, or everything; totals
//! and the same broken down by category and by responsible department.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use entity::enums::{FindingStatus, MeasureStatus, RectificationType, TargetBetter};
use entity::{finding, finding_regulation, measure, relapse, target};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait,
    Select,
};

use crate::auth::{Caller, Reach};
use crate::domain::reads::finding_list::overdue;
use crate::domain::reads::listing::subtree_of;
use crate::domain::reads::scope;
use crate::error::AppResult;

/// Which findings a summary covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Over {
    Everything,
    Inspection(i32),
    /// A department and everything below it.
    Department(i32),
}

/// Counts for one set of findings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    pub total: i64,
    pub not_started: i64,
    pub in_progress: i64,
    pub pending_review: i64,
    pub closed: i64,
    pub immediate: i64,
    pub by_deadline: i64,
    pub long_term: i64,
    pub overdue: i64,
    pub measures_total: i64,
    pub measures_done: i64,
}

impl Counts {
    /// Closed findings as a share of all, 0 to 1 (0 when there are none).
    pub fn completion_rate(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.closed as f64 / self.total as f64
        }
    }

    /// The counts of findings and measures already read (a report's, as of its period end),
    /// by the same rules as the SQL aggregates.
    pub fn of(findings: &[finding::Model], measures: &[measure::Model], today: NaiveDate) -> Self {
        let mut counts = Counts::default();
        for f in findings {
            counts.add_findings(f.status, f.rectification_type, 1);
            let closed = f.status == FindingStatus::Closed;
            if crate::domain::reads::finding_list::overdue_days(f.deadline, closed, today).is_some()
            {
                counts.overdue += 1;
            }
        }
        counts.measures_total = measures.len() as i64;
        counts.measures_done = measures
            .iter()
            .filter(|m| m.status == MeasureStatus::Done)
            .count() as i64;
        counts
    }

    fn add_findings(&mut self, status: FindingStatus, kind: RectificationType, n: i64) {
        self.total += n;
        match status {
            FindingStatus::NotStarted => self.not_started += n,
            FindingStatus::InProgress => self.in_progress += n,
            FindingStatus::PendingReview => self.pending_review += n,
            FindingStatus::Closed => self.closed += n,
        }
        match kind {
            RectificationType::Immediate => self.immediate += n,
            RectificationType::ByDeadline => self.by_deadline += n,
            RectificationType::LongTerm => self.long_term += n,
        }
    }
}

/// How counts are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Nothing,
    Category,
    Department,
    Inspection,
}

impl GroupBy {
    fn column(self) -> Option<finding::Column> {
        match self {
            GroupBy::Nothing => None,
            GroupBy::Category => Some(finding::Column::CategoryId),
            GroupBy::Department => Some(finding::Column::DepartmentId),
            GroupBy::Inspection => Some(finding::Column::InspectionId),
        }
    }
}

/// The findings a summary covers, within the caller's reach, archived ones left out.
pub async fn findings(
    db: &impl ConnectionTrait,
    caller: &Caller,
    over: Over,
) -> AppResult<Select<finding::Entity>> {
    caller.require_identity()?;
    findings_within(db, &caller.read_reach(), over).await
}

/// The findings a summary covers within `reach`, archived ones left out.
pub async fn findings_within(
    db: &impl ConnectionTrait,
    reach: &Reach,
    over: Over,
) -> AppResult<Select<finding::Entity>> {
    let select = scope::findings_within(reach).filter(finding::Column::ArchivedAt.is_null());
    Ok(match over {
        Over::Everything => select,
        Over::Inspection(id) => select.filter(finding::Column::InspectionId.eq(id)),
        Over::Department(id) => {
            select.filter(finding::Column::DepartmentId.in_subquery(subtree_of(db, id).await?))
        }
    })
}

/// Finding counts grouped by `group` (one entry keyed `None` when not grouped; findings
/// without a category are keyed `None` when grouped by category), in one scan: counts by
/// status and type, and overdue by a conditional sum.
pub async fn finding_counts(
    db: &impl ConnectionTrait,
    findings: &Select<finding::Entity>,
    group: GroupBy,
    today: NaiveDate,
) -> AppResult<BTreeMap<Option<i32>, Counts>> {
    let mut out: BTreeMap<Option<i32>, Counts> = BTreeMap::new();
    let key_expr = || match group.column() {
        Some(column) => Expr::col(column),
        None => Expr::val(Option::<i32>::None),
    };
    let overdue_case = Expr::Case(Box::new(
        Expr::case(overdue(today), Expr::val(1)).finally(Expr::val(0)),
    ));
    let rows: Vec<(Option<i32>, FindingStatus, RectificationType, i64, i64)> = findings
        .clone()
        .select_only()
        .column_as(key_expr(), "k")
        .column(finding::Column::Status)
        .column(finding::Column::RectificationType)
        .column_as(finding::Column::Id.count(), "n")
        .column_as(Expr::from(Func::sum(overdue_case)), "overdue")
        .group_by(key_expr())
        .group_by(finding::Column::Status)
        .group_by(finding::Column::RectificationType)
        .into_tuple()
        .all(db)
        .await?;
    for (key, status, kind, n, overdue) in rows {
        let counts = out.entry(key).or_default();
        counts.add_findings(status, kind, n);
        counts.overdue += overdue;
    }
    Ok(out)
}

/// Counts grouped by `group`, measures included.
pub async fn counts(
    db: &impl ConnectionTrait,
    findings: &Select<finding::Entity>,
    group: GroupBy,
    today: NaiveDate,
) -> AppResult<BTreeMap<Option<i32>, Counts>> {
    let mut out = finding_counts(db, findings, group, today).await?;
    for (key, (total, done)) in measure_counts(db, findings, group).await? {
        let counts = out.entry(key).or_default();
        counts.measures_total = total;
        counts.measures_done = done;
    }
    Ok(out)
}

/// Measures (total, done) of a set of findings, grouped by their finding's key.
pub async fn measure_counts(
    db: &impl ConnectionTrait,
    findings: &Select<finding::Entity>,
    group: GroupBy,
) -> AppResult<BTreeMap<Option<i32>, (i64, i64)>> {
    let mut out: BTreeMap<Option<i32>, (i64, i64)> = BTreeMap::new();
    // Measures of those findings, grouped by their finding's key.
    let ids = findings
        .clone()
        .select_only()
        .column(finding::Column::Id)
        .into_query();
    let key = match group.column() {
        Some(column) => Expr::col((finding::Entity, column)),
        None => Expr::val(Option::<i32>::None),
    };
    let statement = Query::select()
        .expr_as(key.clone(), Alias::new("k"))
        .column((measure::Entity, measure::Column::Status))
        .expr_as(
            Func::count(Expr::col((measure::Entity, measure::Column::Id))),
            Alias::new("n"),
        )
        .from(measure::Entity)
        .inner_join(
            finding::Entity,
            Expr::col((finding::Entity, finding::Column::Id))
                .equals((measure::Entity, measure::Column::FindingId)),
        )
        .and_where(Expr::col((measure::Entity, measure::Column::ArchivedAt)).is_null())
        .and_where(Expr::col((measure::Entity, measure::Column::FindingId)).in_subquery(ids))
        .group_by_col((measure::Entity, measure::Column::Status))
        .add_group_by([key])
        .to_owned();
    for row in db.query_all(&statement).await? {
        let key: Option<i32> = row.try_get("", "k")?;
        let status: MeasureStatus = row.try_get("", "status")?;
        let n: i64 = row.try_get("", "n")?;
        let entry = out.entry(key).or_default();
        entry.0 += n;
        if status == MeasureStatus::Done {
            entry.1 += n;
        }
    }
    Ok(out)
}

/// The totals of a set of findings.
pub async fn totals(
    db: &impl ConnectionTrait,
    findings: &Select<finding::Entity>,
    today: NaiveDate,
) -> AppResult<Counts> {
    Ok(counts(db, findings, GroupBy::Nothing, today)
        .await?
        .remove(&None)
        .unwrap_or_default())
}

/// Regulations made in answer to a set of findings (linked, not unlinked).
pub async fn regulations(
    db: &impl ConnectionTrait,
    findings: &Select<finding::Entity>,
) -> AppResult<i64> {
    let ids = findings
        .clone()
        .select_only()
        .column(finding::Column::Id)
        .into_query();
    let n: Option<i64> = finding_regulation::Entity::find()
        .select_only()
        .column_as(
            Expr::from(Func::count_distinct(Expr::col(
                finding_regulation::Column::RegulationId,
            ))),
            "n",
        )
        .filter(Condition::all().add(finding_regulation::Column::UnlinkedAt.is_null()))
        .filter(finding_regulation::Column::FindingId.in_subquery(ids))
        .into_tuple()
        .one(db)
        .await?;
    Ok(n.unwrap_or(0))
}

/// The targets of a set of findings: how many, how many met, and how many not known yet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TargetCounts {
    pub total: i64,
    pub met: i64,
    /// Without a required or a current value, so neither met nor missed.
    pub unknown: i64,
}

/// Counts the (not archived) targets of a set of findings, each judged by [`target::met`]
/// (the one rule of what meeting a target is; targets are few, so they are judged here rather
/// than in a second copy of the rule in SQL).
pub async fn targets(
    db: &impl ConnectionTrait,
    findings: &Select<finding::Entity>,
) -> AppResult<TargetCounts> {
    let ids = findings
        .clone()
        .select_only()
        .column(finding::Column::Id)
        .into_query();
    let rows: Vec<(TargetBetter, Option<f64>, Option<f64>)> = target::Entity::find()
        .select_only()
        .column(target::Column::Better)
        .column(target::Column::RequiredValue)
        .column(target::Column::CurrentValue)
        .filter(target::Column::ArchivedAt.is_null())
        .filter(target::Column::FindingId.in_subquery(ids))
        .into_tuple()
        .all(db)
        .await?;
    let mut counts = TargetCounts::default();
    for (better, required, current) in rows {
        counts.total += 1;
        match crate::domain::records::target::met(better, required, current) {
            Some(true) => counts.met += 1,
            Some(false) => {}
            None => counts.unknown += 1,
        }
    }
    Ok(counts)
}

/// Relapses (问题反弹) of a set of findings: (findings that relapsed, relapses in all).
pub async fn relapses(
    db: &impl ConnectionTrait,
    findings: &Select<finding::Entity>,
) -> AppResult<(i64, i64)> {
    let ids = findings
        .clone()
        .select_only()
        .column(finding::Column::Id)
        .into_query();
    let row: Option<(i64, i64)> = relapse::Entity::find()
        .select_only()
        .column_as(
            Expr::from(Func::count_distinct(Expr::col(relapse::Column::FindingId))),
            "findings",
        )
        .column_as(relapse::Column::Id.count(), "n")
        .filter(relapse::Column::FindingId.in_subquery(ids))
        .into_tuple()
        .one(db)
        .await?;
    Ok(row.unwrap_or_default())
}

/// Counts per inspection (for the status of every inspection at once).
pub async fn counts_by_inspection(
    db: &impl ConnectionTrait,
    findings: &Select<finding::Entity>,
    today: NaiveDate,
) -> AppResult<BTreeMap<i32, Counts>> {
    Ok(counts(db, findings, GroupBy::Inspection, today)
        .await?
        .into_iter()
        .filter_map(|(key, counts)| Some((key?, counts)))
        .collect())
}

/// The status of everything the caller may read: overall, and per inspection with the
/// inspection and its unit (what the inspection office pulls).
pub struct Overview {
    pub overall: Counts,
    pub inspections: Vec<(entity::inspection::Model, entity::department::Model, Counts)>,
}

pub async fn overview(
    db: &impl ConnectionTrait,
    caller: &Caller,
    today: NaiveDate,
) -> AppResult<Overview> {
    let everything = findings(db, caller, Over::Everything).await?;
    let overall = totals(db, &everything, today).await?;
    let mut by_inspection = counts_by_inspection(db, &everything, today).await?;
    let mut inspections =
        crate::domain::reads::relations::inspections(db, by_inspection.keys().copied()).await?;
    inspections.sort_by_key(|i| i.id);
    let units =
        crate::domain::reads::relations::departments(db, inspections.iter().map(|i| i.unit_id))
            .await?;
    let inspections = inspections
        .into_iter()
        .filter_map(|i| {
            let unit = units.get(&i.unit_id)?.clone();
            let counts = by_inspection.remove(&i.id).unwrap_or_default();
            Some((i, unit, counts))
        })
        .collect();
    Ok(Overview {
        overall,
        inspections,
    })
}

/// Finding totals kept per caller scope, summary and day ([`crate::domain::reads::kept`]), until
/// a change of a kind that writes a table their statement reads: a ledger entry without a move,
/// a login or an account's edit leaves them kept.
pub struct Cache(crate::domain::reads::kept::Kept<Counts>);

impl Cache {
    pub fn new(generation: std::sync::Arc<crate::domain::reads::kept::Generation>) -> Self {
        // Scopes are few in practice.
        Self(crate::domain::reads::kept::Kept::new(generation, 10_000))
    }

    /// On the pool only (see [`crate::domain::reads::kept`]).
    pub async fn finding_totals(
        &self,
        db: &sea_orm::DatabaseConnection,
        key: String,
        findings: &Select<finding::Entity>,
        today: NaiveDate,
    ) -> AppResult<Counts> {
        // The scope's statement names every table the count reads (the overdue test reads the
        // finding's own columns only).
        let statement = db
            .get_database_backend()
            .build(&findings.clone().into_query());
        let reads = crate::domain::reads::kept::Reads::named_in(&statement.sql);
        let counts = async {
            Ok(finding_counts(db, findings, GroupBy::Nothing, today)
                .await?
                .remove(&None)
                .unwrap_or_default())
        };
        self.0.get_or_reading(key, &reads, counts).await
    }
}

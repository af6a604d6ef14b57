//! Status summaries (整改进度): counts computed by SQL aggregates over the findings the caller
//! may read, never by loading rows.

use chrono::NaiveDate;
use entity::enums::{FindingStatus, MeasureStatus};
use entity::{finding, measure};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait, Select,
};

use crate::auth::Caller;
use crate::domain::finding_list::overdue;
use crate::domain::scope;
use crate::error::AppResult;

/// Counts for one set of findings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub total: i64,
    pub not_started: i64,
    pub in_progress: i64,
    pub pending_review: i64,
    pub closed: i64,
    pub overdue: i64,
    pub measures_total: i64,
    pub measures_done: i64,
}

impl Summary {
    /// Closed findings as a share of all, 0 to 1 (0 when there are none).
    pub fn completion_rate(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.closed as f64 / self.total as f64
        }
    }
}

/// The summary of the findings of one inspection the caller may read (all inspections when
/// `inspection_id` is `None`).
pub async fn of_inspection(
    db: &impl ConnectionTrait,
    caller: &Caller,
    inspection_id: Option<i32>,
    today: NaiveDate,
) -> AppResult<Summary> {
    caller.require_identity()?;
    let mut findings: Select<finding::Entity> =
        scope::findings(caller).filter(finding::Column::ArchivedAt.is_null());
    if let Some(id) = inspection_id {
        findings = findings.filter(finding::Column::InspectionId.eq(id));
    }
    let mut summary = Summary::default();
    let by_status: Vec<(FindingStatus, i64)> = findings
        .clone()
        .select_only()
        .column(finding::Column::Status)
        .column_as(finding::Column::Id.count(), "n")
        .group_by(finding::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    for (status, n) in by_status {
        summary.total += n;
        match status {
            FindingStatus::NotStarted => summary.not_started = n,
            FindingStatus::InProgress => summary.in_progress = n,
            FindingStatus::PendingReview => summary.pending_review = n,
            FindingStatus::Closed => summary.closed = n,
        }
    }
    summary.overdue = findings
        .clone()
        .filter(overdue(today))
        .select_only()
        .column_as(finding::Column::Id.count(), "n")
        .into_tuple::<i64>()
        .one(db)
        .await?
        .unwrap_or(0);
    let ids = findings
        .select_only()
        .column(finding::Column::Id)
        .into_query();
    let measures: Vec<(MeasureStatus, i64)> = measure::Entity::find()
        .filter(measure::Column::FindingId.in_subquery(ids))
        .filter(measure::Column::ArchivedAt.is_null())
        .select_only()
        .column(measure::Column::Status)
        .column_as(measure::Column::Id.count(), "n")
        .group_by(measure::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    for (status, n) in measures {
        summary.measures_total += n;
        if status == MeasureStatus::Done {
            summary.measures_done = n;
        }
    }
    Ok(summary)
}

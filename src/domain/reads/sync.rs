//! The incremental pull for systems that mirror an inspection's ledger (the inspection
//! office's, a unit's own): findings changed since a time, with their measures, oldest change
//! first. Archived findings and measures are kept in the pull as tombstones (`archived: true`),
//! so that a mirror learns of them; that is decided here, for every surface that syncs.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{department, finding, measure};

use crate::auth::Caller;
use crate::domain::reads::finding_list::{self, FindingFilter, FindingOrder};
use crate::domain::reads::page::{Page, PageArgs};
use crate::domain::reads::relations::{self, Archived};
use crate::domain::records::inspection;
use crate::domain::workflow::warning::Thresholds;
use crate::error::AppResult;

/// A page of changed findings with what a mirror needs of their relations.
pub struct Pulled {
    pub page: Page<finding::Model>,
    /// Each finding's measures by number, archived ones included.
    pub measures: HashMap<i32, Vec<measure::Model>>,
    /// The departments the findings and measures name.
    pub departments: HashMap<i32, department::Model>,
}

pub async fn pull(
    db: &impl sea_orm::ConnectionTrait,
    caller: &Caller,
    thresholds: &Thresholds,
    inspection_id: i32,
    updated_since: Option<DateTime<Utc>>,
    search: Option<&str>,
    args: &PageArgs,
) -> AppResult<Pulled> {
    inspection::get(db, caller, inspection_id).await?;
    let filter = FindingFilter {
        inspection_id: Some(inspection_id),
        updated_since,
        search: search.map(str::to_owned),
        include_archived: true,
        ..Default::default()
    };
    let page = finding_list::list(
        db,
        caller,
        &filter,
        (FindingOrder::UpdatedAt, false),
        thresholds,
        args,
    )
    .await?;
    let ids: Vec<i32> = page.rows.iter().map(|(_, f)| f.id).collect();
    let measures =
        relations::measures_of_findings(db, &ids, measure::COLUMNS, Archived::Kept).await?;
    let department_ids = page
        .rows
        .iter()
        .map(|(_, f)| f.department_id)
        .chain(measures.values().flatten().filter_map(|m| m.department_id));
    let departments = relations::departments(db, department_ids).await?;
    Ok(Pulled {
        page,
        measures,
        departments,
    })
}

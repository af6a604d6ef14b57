//! Stages (阶段目标) of long-term (长期坚持) findings: a finding kept up over the long term is
//! tracked by what is to be reached by when. A stage's target date must fall within its
//! finding's time: not before the inspection began and not after the finding's deadline
//! (refused, naming both dates); only long-term findings have stages.

use chrono::{DateTime, NaiveDate, Utc};
use entity::enums::RectificationType;
use entity::{finding, inspection, stage};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

use crate::auth::{Caller, Permission};
use crate::domain::records::change::{self, Kind, Record, Versioned, audited, versioned_update};
use crate::domain::records::ordinal::{self, Numbering};
use crate::domain::{Acting, reads::scope, records::text};
use crate::error::{AppError, AppResult};

/// The most stages one finding holds (a stage a month for eight years).
pub const MAX_PER_FINDING: u64 = 100;

pub struct NewStage {
    pub finding_id: i32,
    pub content: String,
    pub target_on: NaiveDate,
}

#[derive(Default)]
pub struct StagePatch {
    pub content: Option<String>,
    pub target_on: Option<NaiveDate>,
    /// Reached on this day (`Some(None)`: not reached after all).
    pub achieved_on: Option<Option<NaiveDate>>,
}

impl Kind for stage::Entity {
    const NAME: &'static str = "stage";
    const COLUMNS: Versioned<stage::Column> = Versioned {
        id: stage::Column::Id,
        version: stage::Column::Version,
        updated_at: stage::Column::UpdatedAt,
        archived_at: stage::Column::ArchivedAt,
    };
    const MANAGE: Permission = Permission::ManageFindings;

    async fn readable(db: &impl ConnectionTrait, who: &Acting, id: i32) -> AppResult<stage::Model> {
        let current = stage::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or_else(|| AppError::not_found("stage", id))?;
        scope::finding(db, &who.caller, current.finding_id)
            .await
            .map_err(|_| AppError::not_found("stage", id))?;
        Ok(current)
    }

    /// A stage's finding's department.
    async fn governing(
        db: &impl ConnectionTrait,
        models: &[stage::Model],
    ) -> AppResult<Vec<Option<i32>>> {
        let findings =
            crate::domain::reads::relations::findings(db, models.iter().map(|s| s.finding_id))
                .await?;
        Ok(models
            .iter()
            .map(|s| {
                findings
                    .iter()
                    .find(|f| f.id == s.finding_id)
                    .map(|f| f.department_id)
            })
            .collect())
    }

    fn archived(model: &stage::Model) -> bool {
        model.archived_at.is_some()
    }
}

/// What is to be reached.
pub fn content(value: &str) -> AppResult<String> {
    text::required("content", value, 2_000)
}

/// A stage's target date against its finding and the finding's inspection: not before the
/// inspection began, not after the finding's deadline.
pub fn check_target(
    inspection: &inspection::Model,
    finding: &finding::Model,
    target_on: NaiveDate,
) -> AppResult<NaiveDate> {
    let target_on = text::date("targetOn", target_on)?;
    text::not_before("targetOn", target_on, "startedOn", inspection.started_on)?;
    if let Some(deadline) = finding.deadline
        && target_on > deadline
    {
        return Err(AppError::bad_input(
            "targetOn",
            t!(
                "stage-after-deadline",
                target = target_on,
                deadline = deadline
            ),
        ));
    }
    Ok(target_on)
}

async fn inspection_of(
    db: &impl ConnectionTrait,
    f: &finding::Model,
) -> AppResult<inspection::Model> {
    inspection::Entity::find_by_id(f.inspection_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("inspection", f.inspection_id))
}

/// What every new stage starts as: version 1, created and updated `now`, not reached, not
/// archived. Callers set its own fields over it.
pub fn new_row(now: DateTime<Utc>) -> stage::ActiveModel {
    stage::ActiveModel {
        achieved_on: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        archived_at: Set(None),
        ..Default::default()
    }
}

/// Adds a stage to a long-term finding (managers within their subtree, admins).
pub async fn add(
    db: &impl ConnectionTrait,
    who: &Acting,
    input: NewStage,
) -> AppResult<stage::Model> {
    who.require(Permission::ManageFindings)?;
    let content = content(&input.content)?;
    let (finding, department_id) =
        change::writable::<finding::Entity>(db, who, input.finding_id).await?;
    if finding.rectification_type != RectificationType::LongTerm {
        return Err(AppError::bad_input("findingId", t!("stage-not-long-term")));
    }
    let target_on = check_target(
        &inspection_of(db, &finding).await?,
        &finding,
        input.target_on,
    )?;
    let numbering = Numbering {
        parent: "finding",
        child: "stage",
        parent_column: stage::Column::FindingId,
        ordinal_column: stage::Column::Ordinal,
    };
    let ordinal = ordinal::assign::<stage::Entity>(db, numbering, finding.id, None).await?;
    if ordinal as u64 > MAX_PER_FINDING {
        return Err(AppError::bad_input(
            "findingId",
            t!("stage-too-many", max = MAX_PER_FINDING as i64),
        ));
    }
    let created = stage::ActiveModel {
        finding_id: Set(finding.id),
        ordinal: Set(ordinal),
        content: Set(content),
        target_on: Set(target_on),
        ..new_row(who.now())
    }
    .insert(db)
    .await?;
    let record = Record {
        kind: "stage",
        id: created.id,
        department_id,
    };
    audited(db, who, "stage.create", record, None, Some(&created)).await?;
    Ok(created)
}

/// Edits a stage the caller may manage, if it is still at `version`.
pub async fn edit(
    db: &impl ConnectionTrait,
    who: &Acting,
    id: i32,
    version: i32,
    patch: StagePatch,
) -> AppResult<stage::Model> {
    who.require(Permission::ManageFindings)?;
    let (current, department_id) = change::writable::<stage::Entity>(db, who, id).await?;
    let mut update = stage::Entity::update_many();
    if let Some(value) = &patch.content {
        update = update.col_expr(stage::Column::Content, Expr::value(content(value)?));
    }
    if let Some(target_on) = patch.target_on {
        let finding = finding::Entity::find_by_id(current.finding_id)
            .one(db)
            .await?
            .ok_or_else(|| AppError::not_found("stage", id))?;
        let target_on = check_target(&inspection_of(db, &finding).await?, &finding, target_on)?;
        update = update.col_expr(stage::Column::TargetOn, Expr::value(target_on));
    }
    if let Some(achieved_on) = patch.achieved_on {
        let achieved_on = text::maybe_date("achievedOn", achieved_on)?;
        update = update.col_expr(stage::Column::AchievedOn, Expr::value(achieved_on));
    }
    let updated = versioned_update::<stage::Entity>(db, update, id, version).await?;
    let record = Record {
        kind: "stage",
        id,
        department_id,
    };
    audited(
        db,
        who,
        "stage.update",
        record,
        Some(&current),
        Some(&updated),
    )
    .await?;
    Ok(updated)
}

/// Removes (archives) a stage, if it is still at `version`.
pub async fn remove(
    db: &impl ConnectionTrait,
    who: &Acting,
    id: i32,
    version: i32,
) -> AppResult<stage::Model> {
    change::archive::<stage::Entity>(db, who, id, version).await
}

/// The stages of one finding the caller may read, in order (not archived).
pub async fn of_finding(
    db: &impl ConnectionTrait,
    caller: &Caller,
    finding_id: i32,
) -> AppResult<Vec<stage::Model>> {
    scope::finding(db, caller, finding_id).await?;
    Ok(stage::Entity::find()
        .filter(stage::Column::FindingId.eq(finding_id))
        .filter(stage::Column::ArchivedAt.is_null())
        .order_by_asc(stage::Column::Ordinal)
        .all(db)
        .await?)
}

//! Inspections (巡察): created by the inspection office.

use chrono::{DateTime, NaiveDate, Utc};
use entity::{finding, inspection};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QuerySelect, QueryTrait, Select, Set,
};

use crate::auth::{Caller, Permission, Reach};
use crate::domain::reads::listing::{contains, search_text, subtree_of};
use crate::domain::reads::page::{self, Key, Order, Page, PageArgs};
use crate::domain::records::change::{self, Kind, Record, Versioned, audited, versioned_update};
use crate::domain::{Acting, reads::scope, records::department, records::text};
use crate::error::{AppError, AppResult};

pub struct NewInspection {
    pub title: String,
    pub inspection_group: String,
    pub unit_code: String,
    pub started_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
    pub feedback_on: Option<NaiveDate>,
    pub due_on: Option<NaiveDate>,
}

/// Checks that the dates are within range and in order: started ≤ ended ≤ feedback ≤ due.
fn check_dates(input: &NewInspection) -> AppResult<()> {
    text::date("startedOn", input.started_on)?;
    let order = [
        ("endedOn", input.ended_on),
        ("feedbackOn", input.feedback_on),
        ("dueOn", input.due_on),
    ];
    let mut previous = ("startedOn", input.started_on);
    for (field, date) in order {
        if let Some(date) = date {
            text::date(field, date)?;
            text::not_before(field, date, previous.0, previous.1)?;
            previous = (field, date);
        }
    }
    Ok(())
}

/// A deadline (of a finding or a measure) against its inspection: one before the inspection
/// began is a typo, refused naming both dates (it would at once raise a RED overdue alert to
/// the unit's principal leader). One before the feedback date (反馈日期) is possible, a
/// problem put right on the spot, and is noticed instead ([`due_before_feedback`]).
pub fn check_deadline(
    inspection: &inspection::Model,
    field: &str,
    deadline: Option<NaiveDate>,
) -> AppResult<()> {
    match deadline {
        Some(d) => text::not_before(field, d, "startedOn", inspection.started_on),
        None => Ok(()),
    }
}

/// [`check_deadline`] against the inspection with this id.
pub async fn check_deadline_of(
    db: &impl ConnectionTrait,
    inspection_id: i32,
    field: &str,
    deadline: Option<NaiveDate>,
) -> AppResult<()> {
    if deadline.is_none() {
        return Ok(());
    }
    let inspection = inspection::Entity::find_by_id(inspection_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("inspection", inspection_id))?;
    check_deadline(&inspection, field, deadline)
}

/// The code of the notice about a deadline before its inspection's feedback date.
pub const DUE_BEFORE_FEEDBACK: &str = "FINDING_DUE_BEFORE_FEEDBACK";

/// The notice a finding's deadline earns when it falls before the inspection's feedback date
/// (the finding fell due before the unit was told of it), if it does.
pub fn due_before_feedback(
    deadline: Option<NaiveDate>,
    feedback_on: Option<NaiveDate>,
) -> Option<(&'static str, String)> {
    match (deadline, feedback_on) {
        (Some(d), Some(f)) if d < f => Some((
            DUE_BEFORE_FEEDBACK,
            t!("finding-due-before-feedback", deadline = d, feedback = f),
        )),
        _ => None,
    }
}

/// What every new inspection starts as, whichever road creates it: version 1, created and
/// updated `now`, no bulletin prose yet, not archived. Callers set its own fields over it.
pub fn new_row(now: DateTime<Utc>) -> inspection::ActiveModel {
    inspection::ActiveModel {
        publicity: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        archived_at: Set(None),
        ..Default::default()
    }
}

/// The title of an inspection.
pub fn title(value: &str) -> AppResult<String> {
    text::required("title", value, 300)
}

/// The inspection group (巡察组).
pub fn group(value: &str) -> AppResult<String> {
    text::required("inspectionGroup", value, 200)
}

pub async fn create(
    db: &impl ConnectionTrait,
    who: &Acting,
    input: NewInspection,
) -> AppResult<inspection::Model> {
    who.require(Permission::ManageInspections)?;
    let title = title(&input.title)?;
    let group = group(&input.inspection_group)?;
    check_dates(&input)?;
    let unit = department::active_by_code(db, "unitCode", &input.unit_code).await?;
    let created = inspection::ActiveModel {
        title: Set(title),
        inspection_group: Set(group),
        unit_id: Set(unit.id),
        started_on: Set(input.started_on),
        ended_on: Set(input.ended_on),
        feedback_on: Set(input.feedback_on),
        due_on: Set(input.due_on),
        ..new_row(who.now())
    }
    .insert(db)
    .await?;
    let record = Record {
        kind: "inspection",
        id: created.id,
        department_id: Some(created.unit_id),
    };
    audited(db, who, "inspection.create", record, None, Some(&created)).await?;
    Ok(created)
}

impl Kind for inspection::Entity {
    const NAME: &'static str = "inspection";
    const COLUMNS: Versioned<inspection::Column> = Versioned {
        id: inspection::Column::Id,
        version: inspection::Column::Version,
        updated_at: inspection::Column::UpdatedAt,
        archived_at: inspection::Column::ArchivedAt,
    };
    const MANAGE: Permission = Permission::ManageInspections;
    /// Inspections are the inspection office's: whoever may manage them may change any it sees.
    const SCOPED: bool = false;

    async fn readable(
        db: &impl ConnectionTrait,
        who: &Acting,
        id: i32,
    ) -> AppResult<inspection::Model> {
        get(db, &who.caller, id).await
    }

    async fn governing(
        _: &impl ConnectionTrait,
        models: &[inspection::Model],
    ) -> AppResult<Vec<Option<i32>>> {
        Ok(models.iter().map(|i| Some(i.unit_id)).collect())
    }

    fn archived(model: &inspection::Model) -> bool {
        model.archived_at.is_some()
    }
}

#[derive(Default)]
pub struct InspectionPatch {
    pub title: Option<String>,
    pub inspection_group: Option<String>,
    pub started_on: Option<NaiveDate>,
    pub ended_on: Option<Option<NaiveDate>>,
    pub feedback_on: Option<Option<NaiveDate>>,
    pub due_on: Option<Option<NaiveDate>>,
}

#[derive(Debug, Default, Clone)]
pub struct InspectionFilter {
    /// Inspections of this unit or any department below it.
    pub unit_id: Option<i32>,
    pub search: Option<String>,
    pub include_archived: bool,
}

/// Inspections the caller may read: of a unit within reach, or holding a finding it may read.
pub fn visible(caller: &Caller) -> Select<inspection::Entity> {
    match caller.read_reach() {
        Reach::All => inspection::Entity::find(),
        reach => {
            let with_findings = scope::findings(caller)
                .select_only()
                .column(finding::Column::InspectionId)
                .into_query();
            inspection::Entity::find().filter(
                Condition::any()
                    .add(scope::department_in(inspection::Column::UnitId, &reach))
                    .add(inspection::Column::Id.in_subquery(with_findings)),
            )
        }
    }
}

pub async fn get(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: i32,
) -> AppResult<inspection::Model> {
    caller.require_identity()?;
    visible(caller)
        .filter(inspection::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("inspection", id))
}

pub fn order(descending: bool) -> Order<inspection::Model> {
    Order {
        name: "inspection.started_on",
        exprs: vec![
            Expr::col(inspection::Column::StartedOn),
            Expr::col(inspection::Column::Id),
        ],
        keys: |i| vec![Key::D(i.started_on), Key::I(i.id.into())],
        descending,
    }
}

/// The page of those the caller may read, by `filter`; with `nested`, the list under each
/// of them read in the same statement ([`page::fetch_under`]).
pub async fn list(
    db: &impl ConnectionTrait,
    caller: &Caller,
    filter: &InspectionFilter,
    descending: bool,
    args: &PageArgs,
    nested: Option<&mut dyn page::Lateral>,
) -> AppResult<Page<inspection::Model>> {
    caller.require_identity()?;
    let mut select = visible(caller);
    if !filter.include_archived {
        select = select.filter(inspection::Column::ArchivedAt.is_null());
    }
    if let Some(unit) = filter.unit_id {
        select = select.filter(inspection::Column::UnitId.in_subquery(subtree_of(db, unit).await?));
    }
    if let Some(text) = search_text(filter.search.as_deref())? {
        select = select.filter(
            Condition::any()
                .add(contains(inspection::Column::Title, &text))
                .add(contains(inspection::Column::InspectionGroup, &text)),
        );
    }
    page::fetch_with(db, select, &order(descending), args, nested).await
}

/// A start moved later must not leave a finding's deadline before it ([`check_deadline`] the
/// other way round): refused naming the earliest such finding.
async fn deadlines_after(
    db: &impl ConnectionTrait,
    inspection_id: i32,
    started_on: NaiveDate,
) -> AppResult<()> {
    use sea_orm::QueryOrder;
    let early = finding::Entity::find()
        .filter(finding::Column::InspectionId.eq(inspection_id))
        .filter(finding::Column::ArchivedAt.is_null())
        .filter(finding::Column::Deadline.lt(started_on))
        .order_by_asc(finding::Column::Deadline)
        .one(db)
        .await?;
    match early {
        Some(f) => Err(AppError::bad_input(
            "startedOn",
            t!(
                "start-after-deadline",
                start = started_on,
                ordinal = f.ordinal,
                deadline = f.deadline.unwrap_or(started_on)
            ),
        )),
        None => Ok(()),
    }
}

/// Edits an inspection (inspectors and admins), if it is still at `version`.
pub async fn update(
    db: &impl ConnectionTrait,
    who: &Acting,
    id: i32,
    version: i32,
    patch: InspectionPatch,
) -> AppResult<inspection::Model> {
    who.require(Permission::ManageInspections)?;
    let (current, unit_id) = change::writable::<inspection::Entity>(db, who, id).await?;
    // Check the dates as they will be after the change.
    let merged = NewInspection {
        title: patch.title.clone().unwrap_or_else(|| current.title.clone()),
        inspection_group: patch
            .inspection_group
            .clone()
            .unwrap_or_else(|| current.inspection_group.clone()),
        unit_code: String::new(),
        started_on: patch.started_on.unwrap_or(current.started_on),
        ended_on: patch.ended_on.unwrap_or(current.ended_on),
        feedback_on: patch.feedback_on.unwrap_or(current.feedback_on),
        due_on: patch.due_on.unwrap_or(current.due_on),
    };
    check_dates(&merged)?;
    if merged.started_on > current.started_on {
        deadlines_after(db, id, merged.started_on).await?;
    }
    let update = inspection::Entity::update_many()
        .col_expr(
            inspection::Column::Title,
            Expr::value(title(&merged.title)?),
        )
        .col_expr(
            inspection::Column::InspectionGroup,
            Expr::value(group(&merged.inspection_group)?),
        )
        .col_expr(
            inspection::Column::StartedOn,
            Expr::value(merged.started_on),
        )
        .col_expr(inspection::Column::EndedOn, Expr::value(merged.ended_on))
        .col_expr(
            inspection::Column::FeedbackOn,
            Expr::value(merged.feedback_on),
        )
        .col_expr(inspection::Column::DueOn, Expr::value(merged.due_on));
    let updated = versioned_update::<inspection::Entity>(db, update, id, version).await?;
    let record = Record {
        kind: "inspection",
        id,
        department_id: unit_id,
    };
    audited(
        db,
        who,
        "inspection.update",
        record,
        Some(&current),
        Some(&updated),
    )
    .await?;
    Ok(updated)
}

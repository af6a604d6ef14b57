//! Findings (问题): creating, editing and archiving, within the caller's scope. Statuses move
//! only through the close-out workflow ([`crate::domain::workflow::close_out`]); the one exception is
//! the historical import of findings closed before rectrack existed ([`create_historical`]).

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use entity::enums::{FindingStatus, ProgressKind, RectificationType};
use entity::{category, finding, inspection};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use serde_json::json;

use crate::auth::Permission;
use crate::domain::records::change::{self, Kind, Record, Versioned, audited, versioned_update};
use crate::domain::records::ledger::{self, Note};
use crate::domain::records::ordinal::{self, Numbering};
use crate::domain::{Acting, reads::scope, records::department, records::text};
use crate::error::{AppError, AppResult};

impl Kind for finding::Entity {
    const NAME: &'static str = "finding";
    const COLUMNS: Versioned<finding::Column> = Versioned {
        id: finding::Column::Id,
        version: finding::Column::Version,
        updated_at: finding::Column::UpdatedAt,
        archived_at: finding::Column::ArchivedAt,
    };
    const MANAGE: Permission = Permission::ManageFindings;

    async fn readable(
        db: &impl ConnectionTrait,
        who: &Acting,
        id: i32,
    ) -> AppResult<finding::Model> {
        scope::finding(db, &who.caller, id).await
    }

    async fn governing(
        _: &impl ConnectionTrait,
        models: &[finding::Model],
    ) -> AppResult<Vec<Option<i32>>> {
        Ok(models.iter().map(|f| Some(f.department_id)).collect())
    }

    fn archived(model: &finding::Model) -> bool {
        model.archived_at.is_some()
    }
}

pub struct NewFinding {
    pub inspection_id: i32,
    pub category_id: Option<i32>,
    /// Next free number when not given.
    pub ordinal: Option<i32>,
    pub title: String,
    pub description: String,
    pub rectification_type: RectificationType,
    pub deadline: Option<NaiveDate>,
    pub responsible_leader: Option<String>,
    pub department_code: String,
    pub responsible_person: Option<String>,
    /// Printed in the public bulletin (the default); see [`finding::Model::disclosed`].
    pub disclosed: bool,
}

/// Changes to a finding; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Default)]
pub struct FindingPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub rectification_type: Option<RectificationType>,
    pub category_id: Option<Option<i32>>,
    pub ordinal: Option<i32>,
    pub deadline: Option<Option<NaiveDate>>,
    pub responsible_leader: Option<Option<String>>,
    pub responsible_person: Option<Option<String>>,
    pub department_code: Option<String>,
    pub disclosed: Option<bool>,
}

impl FindingPatch {
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.description.is_none()
            && self.rectification_type.is_none()
            && self.category_id.is_none()
            && self.ordinal.is_none()
            && self.deadline.is_none()
            && self.responsible_leader.is_none()
            && self.responsible_person.is_none()
            && self.department_code.is_none()
            && self.disclosed.is_none()
    }
}

/// The one-line problem (问题).
pub fn title(value: &str) -> AppResult<String> {
    text::required("title", value, 500)
}

/// The problem in full; empty is allowed.
pub fn description(value: &str) -> AppResult<String> {
    Ok(text::optional("description", value, 20_000)?.unwrap_or_default())
}

/// A responsible leader or person (责任领导, 责任人).
pub fn person(field: &str, value: Option<&str>) -> AppResult<Option<String>> {
    text::maybe(field, value, 100)
}

/// The rectification deadline (整改时限).
pub fn deadline(value: Option<NaiveDate>) -> AppResult<Option<NaiveDate>> {
    text::maybe_date("deadline", value)
}

/// Checks that a category belongs to the inspection.
async fn check_category(
    db: &impl ConnectionTrait,
    inspection_id: i32,
    category_id: i32,
) -> AppResult<()> {
    let found = category::Entity::find_by_id(category_id)
        .one(db)
        .await?
        .filter(|c| c.inspection_id == inspection_id && c.archived_at.is_none());
    match found {
        Some(_) => Ok(()),
        None => Err(AppError::bad_input(
            "categoryId",
            t!(
                "inspection-has-no-category",
                inspection = inspection_id,
                category = category_id
            ),
        )),
    }
}

/// Adds a finding to an inspection (managers for their subtree, admins), NOT_STARTED.
pub async fn create(
    db: &impl ConnectionTrait,
    who: &Acting,
    input: NewFinding,
) -> AppResult<finding::Model> {
    let created = insert(db, who, input, FindingStatus::NotStarted, None).await?;
    let record = Record {
        kind: "finding",
        id: created.id,
        department_id: Some(created.department_id),
    };
    audited(db, who, "finding.create", record, None, Some(&created)).await?;
    Ok(created)
}

/// Adds a finding from a unit's older ledger with the status it had there, closed ones
/// included (admins only): the one way a finding becomes CLOSED without a close-out review,
/// for findings closed before rectrack existed. The ledger and the audit trail mark it.
pub async fn create_historical(
    db: &impl ConnectionTrait,
    who: &Acting,
    input: NewFinding,
    status: FindingStatus,
    closed_on: Option<NaiveDate>,
) -> AppResult<finding::Model> {
    let created = insert_recorded(db, who, input, status, closed_on).await?;
    ledger::note(
        db,
        who,
        Note {
            finding_id: created.id,
            measure_id: None,
            entry_date: who.today(),
            kind: ProgressKind::Comment,
            content: format!(
                "历史台账导入：问题{}，导入时状态为{}",
                created.ordinal,
                crate::report::status_zh(status.as_str())
            ),
            details: Some(json!({"historical": true, "status": status})),
        },
    )
    .await?;
    let record = Record {
        kind: "finding",
        id: created.id,
        department_id: Some(created.department_id),
    };
    audited(
        db,
        who,
        "finding.import_historical",
        record,
        None,
        Some(&created),
    )
    .await?;
    Ok(created)
}

/// Adds a finding as a published document records it (the demo's bulletin: status and
/// closing date stated, its ledger loaded beside it), admins only. The same rules as
/// [`create_historical`], without its ledger note: the document's own entries say what
/// happened, and a note of the loading would be a line the document does not have. Audited
/// as a creation, its status in the event's after-image.
pub async fn create_recorded(
    db: &impl ConnectionTrait,
    who: &Acting,
    input: NewFinding,
    status: FindingStatus,
    closed_on: Option<NaiveDate>,
) -> AppResult<finding::Model> {
    let created = insert_recorded(db, who, input, status, closed_on).await?;
    let record = Record {
        kind: "finding",
        id: created.id,
        department_id: Some(created.department_id),
    };
    audited(db, who, "finding.create", record, None, Some(&created)).await?;
    Ok(created)
}

/// A finding inserted with a status reached outside the workflow (admins); a closed one is
/// closed at the start of `closed_on` (today when not given).
async fn insert_recorded(
    db: &impl ConnectionTrait,
    who: &Acting,
    input: NewFinding,
    status: FindingStatus,
    closed_on: Option<NaiveDate>,
) -> AppResult<finding::Model> {
    who.require(Permission::ImportHistory)?;
    let closed_on = text::maybe_date("closedOn", closed_on)?;
    let closed_at = (status == FindingStatus::Closed).then(|| {
        closed_on
            .unwrap_or_else(|| who.today())
            .and_time(NaiveTime::MIN)
            .and_utc()
    });
    insert(db, who, input, status, closed_at).await
}

/// What every new finding starts as, whichever road creates it (a command, the import, the
/// seed, the generator's bulk insert): version 1, created and updated `now`, NOT_STARTED,
/// disclosed, neither closed nor archived. Callers set the finding's own fields over it.
pub fn new_row(now: DateTime<Utc>) -> finding::ActiveModel {
    finding::ActiveModel {
        status: Set(FindingStatus::NotStarted),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        closed_at: Set(None),
        archived_at: Set(None),
        disclosed: Set(true),
        ..Default::default()
    }
}

async fn insert(
    db: &impl ConnectionTrait,
    who: &Acting,
    input: NewFinding,
    status: FindingStatus,
    closed_at: Option<chrono::DateTime<chrono::Utc>>,
) -> AppResult<finding::Model> {
    who.require(Permission::ManageFindings)?;
    let title = title(&input.title)?;
    let description = description(&input.description)?;
    let leader = person("responsibleLeader", input.responsible_leader.as_deref())?;
    let responsible = person("responsiblePerson", input.responsible_person.as_deref())?;
    let deadline = deadline(input.deadline)?;
    let inspection = inspection::Entity::find_by_id(input.inspection_id)
        .one(db)
        .await?
        .filter(|i| i.archived_at.is_none())
        .ok_or_else(|| {
            AppError::bad_input(
                "inspectionId",
                t!("no-inspection", id = input.inspection_id),
            )
        })?;
    crate::domain::records::inspection::check_deadline(&inspection, "deadline", deadline)?;
    if let Some(category_id) = input.category_id {
        check_category(db, inspection.id, category_id).await?;
    }
    let department_id =
        department::assignable(db, &who.caller, "departmentCode", &input.department_code).await?;
    let ordinal =
        ordinal::assign::<finding::Entity>(db, NUMBERING, inspection.id, input.ordinal).await?;
    Ok(finding::ActiveModel {
        inspection_id: Set(inspection.id),
        category_id: Set(input.category_id),
        ordinal: Set(ordinal),
        title: Set(title),
        description: Set(description),
        rectification_type: Set(input.rectification_type),
        status: Set(status),
        deadline: Set(deadline),
        responsible_leader: Set(leader),
        department_id: Set(department_id),
        responsible_person: Set(responsible),
        closed_at: Set(closed_at),
        disclosed: Set(input.disclosed),
        ..new_row(who.now())
    }
    .insert(db)
    .await?)
}

const NUMBERING: Numbering<finding::Column> = Numbering {
    parent: "inspection",
    child: "finding",
    parent_column: finding::Column::InspectionId,
    ordinal_column: finding::Column::Ordinal,
};

/// Edits a finding the caller may write, if it is still at `version`.
pub async fn update(
    db: &impl ConnectionTrait,
    who: &Acting,
    id: i32,
    version: i32,
    patch: FindingPatch,
) -> AppResult<finding::Model> {
    who.require(Permission::ManageFindings)?;
    let (current, _) = change::writable::<finding::Entity>(db, who, id).await?;
    let mut update = finding::Entity::update_many();
    if let Some(value) = patch.title {
        update = update.col_expr(finding::Column::Title, Expr::value(title(&value)?));
    }
    if let Some(value) = patch.description {
        let value = description(&value)?;
        update = update.col_expr(finding::Column::Description, Expr::value(value));
    }
    if let Some(kind) = patch.rectification_type {
        update = update.col_expr(
            finding::Column::RectificationType,
            Expr::value(kind.as_str()),
        );
    }
    if let Some(category_id) = patch.category_id {
        if let Some(category_id) = category_id {
            check_category(db, current.inspection_id, category_id).await?;
        }
        update = update.col_expr(finding::Column::CategoryId, Expr::value(category_id));
    }
    if let Some(n) = patch.ordinal.filter(|n| *n != current.ordinal) {
        let n = ordinal::assign::<finding::Entity>(db, NUMBERING, current.inspection_id, Some(n))
            .await?;
        update = update.col_expr(finding::Column::Ordinal, Expr::value(n));
    }
    if let Some(value) = patch.deadline {
        let value = deadline(value)?;
        crate::domain::records::inspection::check_deadline_of(
            db,
            current.inspection_id,
            "deadline",
            value,
        )
        .await?;
        update = update.col_expr(finding::Column::Deadline, Expr::value(value));
    }
    if let Some(leader) = patch.responsible_leader {
        let leader = person("responsibleLeader", leader.as_deref())?;
        update = update.col_expr(finding::Column::ResponsibleLeader, Expr::value(leader));
    }
    if let Some(responsible) = patch.responsible_person {
        let responsible = person("responsiblePerson", responsible.as_deref())?;
        update = update.col_expr(finding::Column::ResponsiblePerson, Expr::value(responsible));
    }
    if let Some(code) = patch.department_code {
        let department_id =
            department::assignable(db, &who.caller, "departmentCode", &code).await?;
        update = update.col_expr(finding::Column::DepartmentId, Expr::value(department_id));
    }
    if let Some(disclosed) = patch.disclosed {
        update = update.col_expr(finding::Column::Disclosed, Expr::value(disclosed));
    }
    let updated = versioned_update::<finding::Entity>(db, update, id, version).await?;
    let record = Record {
        kind: "finding",
        id,
        department_id: Some(updated.department_id),
    };
    audited(
        db,
        who,
        "finding.update",
        record,
        Some(&current),
        Some(&updated),
    )
    .await?;
    Ok(updated)
}

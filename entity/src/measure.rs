use crate::enums::MeasureStatus;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "measure")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub finding_id: i32,
    pub ordinal: i32,
    pub content: String,
    pub department_id: Option<i32>,
    pub responsible_person: Option<String>,
    pub deadline: Option<Date>,
    pub status: MeasureStatus,
    pub completed_on: Option<Date>,
    pub version: i32,
    pub archived_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The columns the read that made this model left out ([`crate::Unread`]): their fields
    /// hold placeholders, which [`Projected`] refuses to answer. No column, never serialised.
    #[sea_orm(ignore)]
    #[serde(skip)]
    unread: crate::Unread,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Every column, in field order.
pub const COLUMNS: [Column; 13] = [
    Column::Id,
    Column::FindingId,
    Column::Ordinal,
    Column::Content,
    Column::DepartmentId,
    Column::ResponsiblePerson,
    Column::Deadline,
    Column::Status,
    Column::CompletedOn,
    Column::Version,
    Column::ArchivedAt,
    Column::CreatedAt,
    Column::UpdatedAt,
];

impl Model {
    /// A model with no column read: every field a placeholder, every column [`crate::Unread`].
    fn unselected() -> Self {
        Self {
            id: 0,
            finding_id: 0,
            ordinal: 0,
            content: String::new(),
            department_id: None,
            responsible_person: None,
            deadline: None,
            status: MeasureStatus::Planned,
            completed_on: None,
            version: 0,
            archived_at: None,
            created_at: DateTimeUtc::default(),
            updated_at: DateTimeUtc::default(),
            unread: crate::Unread::all(COLUMNS.len()),
        }
    }

    /// Decodes a row that selected `columns`, in that order, by position. The fields of
    /// columns not selected hold placeholders, and the model says which they are
    /// ([`crate::Unread`]): read it through [`Projected`], which refuses them.
    ///
    /// Why not `FromQueryResult`: it looks every column up by a freshly formatted name, which
    /// made decoding the measures of a page of findings the list page's largest cost; and
    /// reading only the columns a page shows decodes a third as many values.
    pub fn from_columns(row: &QueryResult, columns: &[Column]) -> Result<Self, DbErr> {
        let mut m = Self::unselected();
        for (i, column) in columns.iter().enumerate() {
            match column {
                Column::Id => m.id = row.try_get_by_index(i)?,
                Column::FindingId => m.finding_id = row.try_get_by_index(i)?,
                Column::Ordinal => m.ordinal = row.try_get_by_index(i)?,
                Column::Content => m.content = row.try_get_by_index(i)?,
                Column::DepartmentId => m.department_id = row.try_get_by_index(i)?,
                Column::ResponsiblePerson => m.responsible_person = row.try_get_by_index(i)?,
                Column::Deadline => m.deadline = row.try_get_by_index(i)?,
                Column::Status => m.status = row.try_get_by_index(i)?,
                Column::CompletedOn => m.completed_on = row.try_get_by_index(i)?,
                Column::Version => m.version = row.try_get_by_index(i)?,
                Column::ArchivedAt => m.archived_at = row.try_get_by_index(i)?,
                Column::CreatedAt => m.created_at = row.try_get_by_index(i)?,
                Column::UpdatedAt => m.updated_at = row.try_get_by_index(i)?,
            }
            m.unread.read(*column as u32);
        }
        Ok(m)
    }
}

crate::projected!("measure";
    id: i32 = Id,
    finding_id: i32 = FindingId,
    ordinal: i32 = Ordinal,
    content: String = Content,
    department_id: Option<i32> = DepartmentId,
    responsible_person: Option<String> = ResponsiblePerson,
    deadline: Option<Date> = Deadline,
    status: MeasureStatus = Status,
    completed_on: Option<Date> = CompletedOn,
    version: i32 = Version,
    archived_at: Option<DateTimeUtc> = ArchivedAt,
    created_at: DateTimeUtc = CreatedAt,
    updated_at: DateTimeUtc = UpdatedAt,
);

crate::positional!(
    id,
    finding_id,
    ordinal,
    content,
    department_id,
    responsible_person,
    deadline,
    status,
    completed_on,
    version,
    archived_at,
    created_at,
    updated_at;
    unread
);

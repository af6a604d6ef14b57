use crate::enums::{FindingStatus, RectificationType};
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "finding")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub inspection_id: i32,
    pub category_id: Option<i32>,
    /// Number of the finding within its inspection (1, 2, ...).
    pub ordinal: i32,
    pub title: String,
    pub description: String,
    pub rectification_type: RectificationType,
    pub status: FindingStatus,
    pub deadline: Option<Date>,
    pub responsible_leader: Option<String>,
    /// Responsible department (责任科室): the scope a finding belongs to.
    pub department_id: i32,
    pub responsible_person: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub closed_at: Option<DateTimeUtc>,
    /// Optimistic concurrency: raised by every update.
    pub version: i32,
    pub archived_at: Option<DateTimeUtc>,
    /// Printed in the public bulletin (通报公开); counted in its figures either way.
    /// (Audit records written before the column existed lack it: they were all published.)
    #[serde(default = "published")]
    pub disclosed: bool,
    /// The columns the read that made this model left out ([`crate::Unread`]): their fields
    /// hold placeholders, which [`Projected`] refuses to answer. No column, never serialised.
    #[sea_orm(ignore)]
    #[serde(skip)]
    unread: crate::Unread,
}

fn published() -> bool {
    true
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Every column, in field order.
pub const COLUMNS: [Column; 18] = [
    Column::Id,
    Column::InspectionId,
    Column::CategoryId,
    Column::Ordinal,
    Column::Title,
    Column::Description,
    Column::RectificationType,
    Column::Status,
    Column::Deadline,
    Column::ResponsibleLeader,
    Column::DepartmentId,
    Column::ResponsiblePerson,
    Column::CreatedAt,
    Column::UpdatedAt,
    Column::ClosedAt,
    Column::Version,
    Column::ArchivedAt,
    Column::Disclosed,
];

impl Model {
    /// A model with no column read: every field a placeholder, every column [`crate::Unread`].
    fn unselected() -> Self {
        Self {
            id: 0,
            inspection_id: 0,
            category_id: None,
            ordinal: 0,
            title: String::new(),
            description: String::new(),
            rectification_type: RectificationType::ByDeadline,
            status: FindingStatus::NotStarted,
            deadline: None,
            responsible_leader: None,
            department_id: 0,
            responsible_person: None,
            created_at: DateTimeUtc::default(),
            updated_at: DateTimeUtc::default(),
            closed_at: None,
            version: 0,
            archived_at: None,
            disclosed: true,
            unread: crate::Unread::all(COLUMNS.len()),
        }
    }

    /// Decodes a row that selected `columns`, in that order, by position. The fields of
    /// columns not selected hold placeholders, and the model says which they are
    /// ([`crate::Unread`]): read it through [`Projected`], which refuses them.
    /// (Why by position: see `measure::Model::from_columns`.)
    pub fn from_columns(row: &QueryResult, columns: &[Column]) -> Result<Self, DbErr> {
        Self::from_columns_at(row, columns, 0)
    }

    /// [`Model::from_columns`] for columns that start at index `at` of the row.
    pub fn from_columns_at(
        row: &QueryResult,
        columns: &[Column],
        at: usize,
    ) -> Result<Self, DbErr> {
        let mut f = Self::unselected();
        for (i, column) in (at..).zip(columns) {
            match column {
                Column::Id => f.id = row.try_get_by_index(i)?,
                Column::InspectionId => f.inspection_id = row.try_get_by_index(i)?,
                Column::CategoryId => f.category_id = row.try_get_by_index(i)?,
                Column::Ordinal => f.ordinal = row.try_get_by_index(i)?,
                Column::Title => f.title = row.try_get_by_index(i)?,
                Column::Description => f.description = row.try_get_by_index(i)?,
                Column::RectificationType => f.rectification_type = row.try_get_by_index(i)?,
                Column::Status => f.status = row.try_get_by_index(i)?,
                Column::Deadline => f.deadline = row.try_get_by_index(i)?,
                Column::ResponsibleLeader => f.responsible_leader = row.try_get_by_index(i)?,
                Column::DepartmentId => f.department_id = row.try_get_by_index(i)?,
                Column::ResponsiblePerson => f.responsible_person = row.try_get_by_index(i)?,
                Column::CreatedAt => f.created_at = row.try_get_by_index(i)?,
                Column::UpdatedAt => f.updated_at = row.try_get_by_index(i)?,
                Column::ClosedAt => f.closed_at = row.try_get_by_index(i)?,
                Column::Version => f.version = row.try_get_by_index(i)?,
                Column::ArchivedAt => f.archived_at = row.try_get_by_index(i)?,
                Column::Disclosed => f.disclosed = row.try_get_by_index(i)?,
            }
            f.unread.read(*column as u32);
        }
        Ok(f)
    }

    /// The columns the read that made this model left out.
    pub fn unread(&self) -> crate::Unread {
        self.unread
    }
}

crate::projected!("finding";
    id: i32 = Id,
    inspection_id: i32 = InspectionId,
    category_id: Option<i32> = CategoryId,
    ordinal: i32 = Ordinal,
    title: String = Title,
    description: String = Description,
    rectification_type: RectificationType = RectificationType,
    status: FindingStatus = Status,
    deadline: Option<Date> = Deadline,
    responsible_leader: Option<String> = ResponsibleLeader,
    department_id: i32 = DepartmentId,
    responsible_person: Option<String> = ResponsiblePerson,
    created_at: DateTimeUtc = CreatedAt,
    updated_at: DateTimeUtc = UpdatedAt,
    closed_at: Option<DateTimeUtc> = ClosedAt,
    version: i32 = Version,
    archived_at: Option<DateTimeUtc> = ArchivedAt,
    disclosed: bool = Disclosed,
);

use crate::enums::{RegulationDomain, RegulationStatus};
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "regulation")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub title: String,
    /// 文号, e.g. 湛统发〔2020〕12号.
    pub document_number: Option<String>,
    pub domain: RegulationDomain,
    /// Issuing department.
    pub department_id: Option<i32>,
    pub issued_on: Option<Date>,
    pub status: RegulationStatus,
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
pub const COLUMNS: [Column; 11] = [
    Column::Id,
    Column::Title,
    Column::DocumentNumber,
    Column::Domain,
    Column::DepartmentId,
    Column::IssuedOn,
    Column::Status,
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
            title: String::new(),
            document_number: None,
            domain: RegulationDomain::Other,
            department_id: None,
            issued_on: None,
            status: RegulationStatus::InForce,
            version: 0,
            archived_at: None,
            created_at: DateTimeUtc::default(),
            updated_at: DateTimeUtc::default(),
            unread: crate::Unread::all(COLUMNS.len()),
        }
    }

    /// Decodes the columns `columns` of a row, in that order from index `at`, by position (as
    /// the finding's `from_columns_at`): the fields of columns not selected hold placeholders,
    /// marked unread.
    pub fn from_columns_at(
        row: &QueryResult,
        columns: &[Column],
        at: usize,
    ) -> Result<Self, DbErr> {
        let mut m = Self::unselected();
        for (i, column) in (at..).zip(columns) {
            match column {
                Column::Id => m.id = row.try_get_by_index(i)?,
                Column::Title => m.title = row.try_get_by_index(i)?,
                Column::DocumentNumber => m.document_number = row.try_get_by_index(i)?,
                Column::Domain => m.domain = row.try_get_by_index(i)?,
                Column::DepartmentId => m.department_id = row.try_get_by_index(i)?,
                Column::IssuedOn => m.issued_on = row.try_get_by_index(i)?,
                Column::Status => m.status = row.try_get_by_index(i)?,
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

crate::projected!("regulation";
    id: i32 = Id,
    title: String = Title,
    document_number: Option<String> = DocumentNumber,
    domain: RegulationDomain = Domain,
    department_id: Option<i32> = DepartmentId,
    issued_on: Option<Date> = IssuedOn,
    status: RegulationStatus = Status,
    version: i32 = Version,
    archived_at: Option<DateTimeUtc> = ArchivedAt,
    created_at: DateTimeUtc = CreatedAt,
    updated_at: DateTimeUtc = UpdatedAt,
);

crate::positional!(
    id,
    title,
    document_number,
    domain,
    department_id,
    issued_on,
    status,
    version,
    archived_at,
    created_at,
    updated_at;
    unread
);

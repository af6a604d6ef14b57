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

crate::projected!("regulation";
    id: i32 = Id (0),
    title: String = Title (String::new()),
    document_number: Option<String> = DocumentNumber (None),
    domain: RegulationDomain = Domain (RegulationDomain::Other),
    department_id: Option<i32> = DepartmentId (None),
    issued_on: Option<Date> = IssuedOn (None),
    status: RegulationStatus = Status (RegulationStatus::InForce),
    version: i32 = Version (0),
    archived_at: Option<DateTimeUtc> = ArchivedAt (None),
    created_at: DateTimeUtc = CreatedAt (DateTimeUtc::default()),
    updated_at: DateTimeUtc = UpdatedAt (DateTimeUtc::default()),
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

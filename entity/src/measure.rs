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

crate::projected!("measure";
    id: i32 = Id (0),
    finding_id: i32 = FindingId (0),
    ordinal: i32 = Ordinal (0),
    content: String = Content (String::new()),
    department_id: Option<i32> = DepartmentId (None),
    responsible_person: Option<String> = ResponsiblePerson (None),
    deadline: Option<Date> = Deadline (None),
    status: MeasureStatus = Status (MeasureStatus::Planned),
    completed_on: Option<Date> = CompletedOn (None),
    version: i32 = Version (0),
    archived_at: Option<DateTimeUtc> = ArchivedAt (None),
    created_at: DateTimeUtc = CreatedAt (DateTimeUtc::default()),
    updated_at: DateTimeUtc = UpdatedAt (DateTimeUtc::default()),
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

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

crate::projected!("finding";
    id: i32 = Id (0),
    inspection_id: i32 = InspectionId (0),
    category_id: Option<i32> = CategoryId (None),
    ordinal: i32 = Ordinal (0),
    title: String = Title (String::new()),
    description: String = Description (String::new()),
    rectification_type: RectificationType = RectificationType (RectificationType::ByDeadline),
    status: FindingStatus = Status (FindingStatus::NotStarted),
    deadline: Option<Date> = Deadline (None),
    responsible_leader: Option<String> = ResponsibleLeader (None),
    department_id: i32 = DepartmentId (0),
    responsible_person: Option<String> = ResponsiblePerson (None),
    created_at: DateTimeUtc = CreatedAt (DateTimeUtc::default()),
    updated_at: DateTimeUtc = UpdatedAt (DateTimeUtc::default()),
    closed_at: Option<DateTimeUtc> = ClosedAt (None),
    version: i32 = Version (0),
    archived_at: Option<DateTimeUtc> = ArchivedAt (None),
    disclosed: bool = Disclosed (true),
);

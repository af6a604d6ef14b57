use crate::enums::FeedbackStatus;
use sea_orm::entity::prelude::*;

/// What a member of the public sent about a published bulletin (公众监督). Deliberately not
/// `Serialize`: the sender's name and contact must never reach a payload by accident; what is
/// audited or published is built field by field from it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "public_feedback")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The published bulletin (a report) it is about.
    pub report_id: i32,
    pub inspection_id: i32,
    /// The inspected unit whose bulletin it is.
    pub unit_id: i32,
    /// The bulletin's number (序号) of the problem it concerns.
    pub problem_no: Option<i32>,
    pub content: String,
    pub digest: String,
    pub name: Option<String>,
    pub contact: Option<String>,
    /// 查询码: the sender's key to the reply.
    pub receipt_code: String,
    pub status: FeedbackStatus,
    pub finding_id: Option<i32>,
    /// How many times the same text was sent again (folded into this row).
    pub duplicates: i32,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub answered_at: Option<DateTimeUtc>,
    pub linked_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

crate::positional!(
    id,
    report_id,
    inspection_id,
    unit_id,
    problem_no,
    content,
    digest,
    name,
    contact,
    receipt_code,
    status,
    finding_id,
    duplicates,
    version,
    created_at,
    updated_at,
    answered_at,
    linked_at,
    closed_at
);

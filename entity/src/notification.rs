use sea_orm::entity::prelude::*;
use serde::Serialize;

/// One person alerted of one early-warning crossing, supervision order or public feedback
/// (the in-app inbox).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "notification")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The early-warning crossing it tells of; none for a supervision order's notice.
    pub crossing_id: Option<i32>,
    /// The finding it is about; none for a notice of public feedback.
    pub finding_id: Option<i32>,
    /// `responsible_person`, `responsible_leader`, `principal_leader` or `manager`.
    pub role: String,
    pub recipient: Option<String>,
    pub level: String,
    pub title: String,
    pub body: String,
    pub created_at: DateTimeUtc,
    pub read_at: Option<DateTimeUtc>,
    /// The supervision order (督办单) it tells of, if it is such a notice.
    pub supervision_order_id: Option<i32>,
    /// The public feedback (公众监督) it tells of, if it is such a notice.
    pub public_feedback_id: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

crate::positional!(
    id,
    crossing_id,
    finding_id,
    role,
    recipient,
    level,
    title,
    body,
    created_at,
    read_at,
    supervision_order_id,
    public_feedback_id
);

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// A system that receives rectrack's events by signed HTTP POST (Standard Webhooks).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "webhook_endpoint")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub url: String,
    pub description: Option<String>,
    /// The event kinds it receives (a JSON array of strings).
    pub event_types: Json,
    /// Its reach: this department's subtree; everything when `None`.
    pub department_id: Option<i32>,
    /// `whsec_` and the base64 key; never serialised into the audit trail.
    #[serde(skip)]
    pub secret: String,
    pub enabled: bool,
    pub consecutive_failures: i32,
    pub disabled_at: Option<DateTimeUtc>,
    pub disabled_reason: Option<String>,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
    pub archived_at: Option<DateTimeUtc>,
    /// When its current run of failed attempts began; `None` while it delivers.
    pub failing_since: Option<DateTimeUtc>,
    /// When it last delivered: a failure of an attempt begun before it is not a new run.
    pub last_delivered_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

crate::positional!(
    id,
    url,
    description,
    event_types,
    department_id,
    secret,
    enabled,
    consecutive_failures,
    disabled_at,
    disabled_reason,
    created_by,
    created_at,
    updated_at,
    version,
    archived_at,
    failing_since,
    last_delivered_at
);

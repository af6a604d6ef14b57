use sea_orm::entity::prelude::*;
use serde::Serialize;

/// One link of the audit hash chain: `hash = sha256(prev_hash || canonical(event))`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "audit_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub occurred_at: DateTimeUtc,
    pub actor_sub: String,
    /// A role, or `system` for the server's own work (migrations, seeding).
    pub actor_role: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub before: Option<Json>,
    pub after: Option<Json>,
    pub request_id: Option<String>,
    /// The department the changed record belongs to, for scoped reading of the trail.
    pub department_id: Option<i32>,
    pub prev_hash: String,
    #[sea_orm(unique)]
    pub hash: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

crate::positional!(
    id,
    occurred_at,
    actor_sub,
    actor_role,
    action,
    entity_type,
    entity_id,
    before,
    after,
    request_id,
    department_id,
    prev_hash,
    hash
);

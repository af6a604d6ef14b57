use crate::enums::Role;
use sea_orm::entity::prelude::*;
use serde::Serialize;

/// A local login account, for deployments without single sign-on.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "account")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub username: String,
    pub display_name: Option<String>,
    /// argon2id PHC string; never leaves the server (nor the audit trail).
    #[serde(skip_serializing)]
    pub password_hash: String,
    pub role: Role,
    pub department_id: Option<i32>,
    pub disabled: bool,
    /// No longer written (nor `locked_until`): logins are throttled per name and address in
    /// memory (`rectrack::domain::login_throttle`). Kept until a migration drops them.
    pub failed_attempts: i32,
    pub locked_until: Option<DateTimeUtc>,
    pub token_version: i32,
    pub last_login_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

crate::positional!(
    id,
    username,
    display_name,
    password_hash,
    role,
    department_id,
    disabled,
    failed_attempts,
    locked_until,
    token_version,
    last_login_at,
    created_at,
    updated_at
);

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// One bundle written or read: what, when, by whom, with what result.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "exchange_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub peer_id: Option<i32>,
    /// `export` or `import` (a bundle file written or read), `push` or `pull` (an attempt of
    /// connected mode to deliver one over the network, or to take one from the peer).
    pub direction: String,
    pub sequence: Option<i32>,
    pub bundle_sha256: Option<String>,
    /// `written`, `merged`, `duplicate` or `refused`; for `push` and `pull`, `delivered` or
    /// `failed`.
    pub result: String,
    /// The error code of a refusal or a failed attempt.
    pub code: Option<String>,
    pub detail: Option<String>,
    /// Rows per member.
    pub counts: Option<Json>,
    pub actor_sub: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

crate::positional!(
    id,
    peer_id,
    direction,
    sequence,
    bundle_sha256,
    result,
    code,
    detail,
    counts,
    actor_sub,
    created_at
);

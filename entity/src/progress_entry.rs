use crate::enums::ProgressKind;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// One entry of a finding's ledger (台账记录). Append-only: the database refuses updates and
/// deletes.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "progress_entry")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub finding_id: i32,
    pub measure_id: Option<i32>,
    pub entry_date: Date,
    pub kind: ProgressKind,
    pub content: String,
    pub author_sub: String,
    pub author_name: Option<String>,
    pub author_role: Option<String>,
    /// For a correction: the entry it corrects.
    pub corrects_id: Option<i32>,
    pub details: Option<Json>,
    pub created_at: DateTimeUtc,
    /// The columns the read that made this model left out ([`crate::Unread`]): their fields
    /// hold placeholders, which [`Projected`] refuses to answer. No column, never serialised.
    #[sea_orm(ignore)]
    #[serde(skip)]
    unread: crate::Unread,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

crate::projected!("progress_entry";
    id: i32 = Id (0),
    finding_id: i32 = FindingId (0),
    measure_id: Option<i32> = MeasureId (None),
    entry_date: Date = EntryDate (Date::default()),
    kind: ProgressKind = Kind (ProgressKind::Progress),
    content: String = Content (String::new()),
    author_sub: String = AuthorSub (String::new()),
    author_name: Option<String> = AuthorName (None),
    author_role: Option<String> = AuthorRole (None),
    corrects_id: Option<i32> = CorrectsId (None),
    details: Option<Json> = Details (None),
    created_at: DateTimeUtc = CreatedAt (DateTimeUtc::default()),
);

crate::positional!(
    id,
    finding_id,
    measure_id,
    entry_date,
    kind,
    content,
    author_sub,
    author_name,
    author_role,
    corrects_id,
    details,
    created_at;
    unread
);

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

/// Every column, in field order.
pub const COLUMNS: [Column; 12] = [
    Column::Id,
    Column::FindingId,
    Column::MeasureId,
    Column::EntryDate,
    Column::Kind,
    Column::Content,
    Column::AuthorSub,
    Column::AuthorName,
    Column::AuthorRole,
    Column::CorrectsId,
    Column::Details,
    Column::CreatedAt,
];

impl Model {
    /// A model with no column read: every field a placeholder, every column [`crate::Unread`].
    fn unselected() -> Self {
        Self {
            id: 0,
            finding_id: 0,
            measure_id: None,
            entry_date: Date::default(),
            kind: ProgressKind::Progress,
            content: String::new(),
            author_sub: String::new(),
            author_name: None,
            author_role: None,
            corrects_id: None,
            details: None,
            created_at: DateTimeUtc::default(),
            unread: crate::Unread::all(COLUMNS.len()),
        }
    }

    /// Decodes a row that selected `columns`, in that order, by position (as the finding's
    /// `from_columns`): the fields of columns not selected hold placeholders, marked unread.
    pub fn from_columns(row: &QueryResult, columns: &[Column]) -> Result<Self, DbErr> {
        let mut m = Self::unselected();
        for (i, column) in columns.iter().enumerate() {
            match column {
                Column::Id => m.id = row.try_get_by_index(i)?,
                Column::FindingId => m.finding_id = row.try_get_by_index(i)?,
                Column::MeasureId => m.measure_id = row.try_get_by_index(i)?,
                Column::EntryDate => m.entry_date = row.try_get_by_index(i)?,
                Column::Kind => m.kind = row.try_get_by_index(i)?,
                Column::Content => m.content = row.try_get_by_index(i)?,
                Column::AuthorSub => m.author_sub = row.try_get_by_index(i)?,
                Column::AuthorName => m.author_name = row.try_get_by_index(i)?,
                Column::AuthorRole => m.author_role = row.try_get_by_index(i)?,
                Column::CorrectsId => m.corrects_id = row.try_get_by_index(i)?,
                Column::Details => m.details = row.try_get_by_index(i)?,
                Column::CreatedAt => m.created_at = row.try_get_by_index(i)?,
            }
            m.unread.read(*column as u32);
        }
        Ok(m)
    }
}

crate::projected!("progress_entry";
    id: i32 = Id,
    finding_id: i32 = FindingId,
    measure_id: Option<i32> = MeasureId,
    entry_date: Date = EntryDate,
    kind: ProgressKind = Kind,
    content: String = Content,
    author_sub: String = AuthorSub,
    author_name: Option<String> = AuthorName,
    author_role: Option<String> = AuthorRole,
    corrects_id: Option<i32> = CorrectsId,
    details: Option<Json> = Details,
    created_at: DateTimeUtc = CreatedAt,
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

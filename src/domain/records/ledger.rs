//! The rows of the ledger (一问题一台账), whoever writes them: what every entry starts with, and
//! the notes the system writes for the changes it records. Both the ledger's own commands
//! ([`crate::domain::records::progress`]) and the workflow write entries through here, so
//! neither needs the other to write one.

use chrono::NaiveDate;
use entity::enums::ProgressKind;
use entity::progress_entry;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};

use crate::domain::Acting;
use crate::error::AppResult;

/// What every new ledger entry starts as, whichever road writes it (an entry, a system note,
/// a correction): written now by the acting caller, as the ledger names its author. Callers
/// set the entry's own fields over it.
pub fn new_row(who: &Acting) -> progress_entry::ActiveModel {
    progress_entry::ActiveModel {
        author_sub: Set(who.sub().to_owned()),
        author_name: Set(who.author_name()),
        author_role: Set(Some(who.actor.role.clone())),
        created_at: Set(who.now()),
        ..Default::default()
    }
}

/// An entry the system writes into a finding's ledger for a change it records (a status move,
/// a measure's status, a target's value, a regulation link, an import).
pub struct Note {
    pub finding_id: i32,
    pub measure_id: Option<i32>,
    pub entry_date: NaiveDate,
    pub kind: ProgressKind,
    pub content: String,
    pub details: Option<serde_json::Value>,
}

/// Writes a [`Note`] by the acting caller. The caller's right to the change it records is the
/// command's to check; the note only records it.
pub async fn note(
    db: &impl ConnectionTrait,
    who: &Acting,
    note: Note,
) -> AppResult<progress_entry::Model> {
    Ok(progress_entry::ActiveModel {
        finding_id: Set(note.finding_id),
        measure_id: Set(note.measure_id),
        entry_date: Set(note.entry_date),
        kind: Set(note.kind),
        content: Set(note.content),
        details: Set(note.details),
        ..new_row(who)
    }
    .insert(db)
    .await?)
}

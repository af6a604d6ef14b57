//! Which of a finding's columns a read decodes: a set the lists, the relations and the
//! catalogue share (below all of them, so that none imports another for it).

use entity::finding;

/// Which of a finding's columns a read decodes: the columns the fields shown read (found from
/// each field's own read-off when the catalogue is built: `graphql::finding::touched`),
/// always with the id. The other fields of the models read hold placeholders, marked unread
/// (`entity::Unread`), which `finding::Projected`'s accessors refuse to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Columns(u32);

impl Default for Columns {
    /// Every column.
    fn default() -> Self {
        Self::ALL
    }
}

impl Columns {
    /// Every column.
    pub const ALL: Columns = Columns((1 << finding::COLUMNS.len()) - 1);
    /// The id alone.
    pub const ID: Columns = Columns(1 << finding::Column::Id as u32);

    /// These columns (and the id).
    pub const fn of(columns: &[finding::Column]) -> Self {
        let mut set = Self::ID.0;
        let mut i = 0;
        while i < columns.len() {
            set |= 1 << columns[i] as u32;
            i += 1;
        }
        Self(set)
    }

    /// From [`Columns::bits`] (and the id).
    pub fn from_bits(bits: u64) -> Self {
        Self((bits as u32 & Self::ALL.0) | Self::ID.0)
    }

    /// As a bit per column, by the column's place in the model.
    pub fn bits(self) -> u64 {
        self.0.into()
    }

    /// Both sets.
    pub fn with(self, other: Columns) -> Self {
        Self(self.0 | other.0)
    }

    /// The columns to select, in the model's order ([`finding::Model::from_columns`] decodes
    /// them by their place in this list).
    pub fn list(self) -> Vec<finding::Column> {
        finding::COLUMNS
            .iter()
            .copied()
            .filter(|&column| self.0 & 1 << column as u32 != 0)
            .collect()
    }
}

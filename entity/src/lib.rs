//! sea-orm entities: rectrack's data layer, one module per table. API types live in the
//! `rectrack` crate and convert from these models; entities are never exposed directly.

pub mod account;
pub mod audit_event;
pub mod audit_head;
pub mod audit_pending;
pub mod category;
pub mod department;
pub mod enums;
pub mod event;
pub mod evidence;
pub mod exchange_applied;
pub mod exchange_chain_event;
pub mod exchange_decision;
pub mod exchange_log;
pub mod exchange_origin;
pub mod exchange_peer;
pub mod exchange_received;
pub mod finding;
pub mod finding_regulation;
pub mod idempotency_key;
pub mod inspection;
pub mod measure;
pub mod notification;
pub mod progress_entry;
pub mod public_feedback;
pub mod public_feedback_key;
pub mod public_feedback_reply;
pub mod recheck;
pub mod regulation;
pub mod relapse;
pub mod report;
pub mod stage;
pub mod supervision_order;
pub mod supervision_order_subject;
pub mod supervision_reply;
pub mod supervision_reply_evidence;
pub mod target;
pub mod warning_crossing;
pub mod webhook_cursor;
pub mod webhook_delivery;
pub mod webhook_endpoint;
pub mod webhook_notice;

pub mod prelude {
    pub use crate::account::Entity as Account;
    pub use crate::audit_event::Entity as AuditEvent;
    pub use crate::category::Entity as Category;
    pub use crate::department::Entity as Department;
    pub use crate::evidence::Entity as Evidence;
    pub use crate::finding::Entity as Finding;
    pub use crate::finding_regulation::Entity as FindingRegulation;
    pub use crate::inspection::Entity as Inspection;
    pub use crate::measure::Entity as Measure;
    pub use crate::progress_entry::Entity as ProgressEntry;
    pub use crate::regulation::Entity as Regulation;
    pub use crate::report::Entity as Report;
    pub use crate::target::Entity as Target;
}

/// A model decoded from a row by position: its columns, in field order, from index `at`.
///
/// Why not `FromQueryResult`: it looks every column up by a freshly formatted name, which on
/// a page of twenty parents cost more than the rest of decoding them. A page's statement
/// selects the entity's columns in field order (`Select<E>` does), so the position is known.
pub trait Positional: Sized {
    /// The columns' names in the order [`Positional::decode_at`] reads them (checked against
    /// the entity's own column order by `domain::page`'s tests).
    const FIELDS: &'static [&'static str];

    fn decode_at(row: &sea_orm::QueryResult, at: usize) -> Result<Self, sea_orm::DbErr>;
}

/// Implements [`Positional`] for the module's `Model`, whose fields are listed in their order.
/// (A field left out fails to compile; one out of order fails `domain::page`'s tests.)
macro_rules! positional {
    ($($field:ident),+ $(,)?) => {
        $crate::positional!($($field),+; );
    };
    // `$kept`: fields that are no column (`#[sea_orm(ignore)]`), decoded as their default.
    ($($field:ident),+ ; $($kept:ident),* $(,)?) => {
        impl $crate::Positional for Model {
            const FIELDS: &'static [&'static str] = &[$(stringify!($field)),+];

            fn decode_at(
                row: &sea_orm::QueryResult,
                at: usize,
            ) -> Result<Self, sea_orm::DbErr> {
                let mut index = at..;
                Ok(Self {
                    $($field: row.try_get_by_index(index.next().unwrap_or(usize::MAX))?,)+
                    $($kept: Default::default(),)*
                })
            }
        }
    };
}
pub(crate) use positional;

/// The columns a read of a model left out, a bit per column by its place in the model (none
/// for a row read whole: the default, which is what sea-orm's own decoding and the audit
/// trail's snapshots give).
///
/// Why a model carries it: a read that selects only the columns a page shows (the finding's
/// `from_columns`) must still fill every field of the struct, and a value put there for a
/// column not read (NOT_STARTED, no deadline, department 0) is plausible enough to be served
/// as data when a field's list of columns is wrong. With the set kept beside the values, the
/// model's checked accessors (its `Projected`) refuse such a value instead of serving it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Unread(u64);

impl Unread {
    /// Every one of `count` columns.
    pub const fn all(count: usize) -> Self {
        if count >= 64 {
            Self(u64::MAX)
        } else {
            Self((1 << count) - 1)
        }
    }

    /// The column at `place` read after all.
    pub fn read(&mut self, place: u32) {
        self.0 &= !(1 << place);
    }

    /// Whether the column at `place` was left out.
    pub fn left_out(self, place: u32) -> bool {
        self.0 & 1 << place != 0
    }
}

thread_local! {
    /// The columns a [`recorded`] run has touched so far (`None`: no run on this thread).
    static RECORDING: std::cell::Cell<Option<u64>> = const { std::cell::Cell::new(None) };
}

/// Runs `read` over rows that selected no column (a `Projected::recording`), and returns
/// the columns it touched, a bit each by their place in the model: the columns a field that
/// reads a row this way needs selected. Reads of left-out columns are recorded here rather
/// than refused ([`check`]).
pub fn recorded(read: impl FnOnce()) -> u64 {
    /// Puts back what was recorded before, even if `read` panics: a thread left recording
    /// would let every later read of a left-out column through.
    struct Restore(Option<u64>);
    impl Drop for Restore {
        fn drop(&mut self) {
            RECORDING.set(self.0);
        }
    }
    let restore = Restore(RECORDING.replace(Some(0)));
    read();
    let touched = RECORDING.get().unwrap_or(0);
    drop(restore);
    touched
}

/// A model's checked projection (the `Projected` of [`projected!`]): what the columns a field
/// reads are recorded on.
pub trait Recording: Sized {
    /// The id's place in the model: every read selects it.
    const ID: u32;
    /// A row that selected no column.
    fn recording() -> Self;
}

/// The columns `read` touches of a `P` ([`recorded`] on a row that selected none), with the id.
pub fn touched<P: Recording>(read: impl FnOnce(&P)) -> u64 {
    let row = P::recording();
    recorded(|| read(&row)) | 1 << P::ID
}

/// The check every checked accessor makes before it answers a field: the field's column at
/// `place` was read. While [`recorded`] runs, a left-out column is recorded; otherwise reading
/// it is a bug (the columns selected did not include one a field reads), and this panics,
/// naming the column, in every build: the GraphQL executor turns the panic into an
/// `INTERNAL_SERVER_ERROR` and logs it, so a placeholder is never served as data.
#[track_caller]
pub fn check(unread: Unread, table: &str, place: u32, column: &str) {
    if !unread.left_out(place) {
        return;
    }
    let recording = RECORDING.with(|touched| match touched.get() {
        Some(set) => {
            touched.set(Some(set | 1 << place));
            true
        }
        None => false,
    });
    if !recording {
        panic!(
            "{table}.{column} was read from a row that did not select it: the columns the \
             read selected are wrong"
        );
    }
}

/// A module's model as a read selected it, listed once as `field: Type = Column (placeholder)`
/// in the model's order (every column: a left-out one fails to compile in `from_columns_at`).
/// Generates the table's `COLUMNS`; `Model::from_columns(_at)`, which decodes a row that
/// selected some of them by position and marks the rest unread ([`Unread`]) over their
/// placeholders; `selected`, the columns a set of bits names; and `Projected`, whose only way
/// to a field is an accessor that [`check`]s the field's column was read.
///
/// Why by position: sea-orm's `FromQueryResult` looks every column up by a freshly formatted
/// name, which made decoding the measures of a page of findings the page's largest cost; and
/// reading only the columns a page shows decodes a third as many values.
macro_rules! projected {
    ($table:literal; $($field:ident: $ty:ty = $column:ident ($placeholder:expr)),+ $(,)?) => {
        /// Every column, in field order.
        pub const COLUMNS: &[Column] = &[$(Column::$column),+];

        impl Model {
            /// A model with no column read: every field a placeholder, every column unread.
            fn unselected() -> Self {
                Self {
                    $($field: $placeholder,)+
                    unread: $crate::Unread::all(COLUMNS.len()),
                }
            }

            /// Decodes a row that selected `columns`, in that order, by position. The fields
            /// of columns not selected hold placeholders, and the model says which they are
            /// ([`crate::Unread`]): read it through [`Projected`], which refuses them.
            pub fn from_columns(
                row: &sea_orm::QueryResult,
                columns: &[Column],
            ) -> Result<Self, sea_orm::DbErr> {
                Self::from_columns_at(row, columns, 0)
            }

            /// [`Model::from_columns`] for columns that start at index `at` of the row.
            pub fn from_columns_at(
                row: &sea_orm::QueryResult,
                columns: &[Column],
                at: usize,
            ) -> Result<Self, sea_orm::DbErr> {
                let mut m = Self::unselected();
                for (i, column) in (at..).zip(columns) {
                    match column {
                        $(Column::$column => m.$field = row.try_get_by_index(i)?,)+
                    }
                    m.unread.read(*column as u32);
                }
                Ok(m)
            }

            /// The columns the read that made this model left out.
            pub fn unread(&self) -> $crate::Unread {
                self.unread
            }
        }

        /// The columns of `reads` (a bit each by its place in the model; `None`: every one)
        /// and the id, in the model's order: what a read that decodes through
        /// [`Model::from_columns`] selects.
        pub fn selected(reads: Option<u64>) -> Vec<Column> {
            COLUMNS
                .iter()
                .copied()
                .filter(|&c| {
                    c as u32 == Column::Id as u32
                        || reads.is_none_or(|set| set & 1 << c as u32 != 0)
                })
                .collect()
        }

        impl $crate::Recording for Projected {
            const ID: u32 = Column::Id as u32;

            fn recording() -> Self {
                Self(Model::unselected())
            }
        }

        /// The model as a read selected it: each field reached through an accessor that
        /// refuses a column the read left out ([`crate::Unread`]).
        #[derive(Clone, Debug)]
        pub struct Projected(Model);

        impl From<Model> for Projected {
            fn from(model: Model) -> Self {
                Self(model)
            }
        }

        impl Projected {
            /// A row that selected no column, for [`crate::recorded`].
            pub fn recording() -> Self {
                Self(Model::unselected())
            }

            /// The columns the read left out.
            pub fn unread(&self) -> $crate::Unread {
                self.0.unread
            }

            $(
                #[track_caller]
                pub fn $field(&self) -> $ty {
                    $crate::check(
                        self.0.unread,
                        $table,
                        Column::$column as u32,
                        stringify!($field),
                    );
                    self.0.$field.clone()
                }
            )+
        }
    };
}
pub(crate) use projected;

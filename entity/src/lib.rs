//! sea-orm entities: rectrack's data layer, one module per table. API types live in the
//! `rectrack` crate and convert from these models; entities are never exposed directly.

pub mod account;
pub mod audit_event;
pub mod audit_head;
pub mod category;
pub mod department;
pub mod enums;
pub mod event;
pub mod evidence;
pub mod finding;
pub mod finding_regulation;
pub mod idempotency_key;
pub mod inspection;
pub mod measure;
pub mod notification;
pub mod progress_entry;
pub mod recheck;
pub mod regulation;
pub mod relapse;
pub mod report;
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
        impl $crate::Positional for Model {
            const FIELDS: &'static [&'static str] = &[$(stringify!($field)),+];

            fn decode_at(
                row: &sea_orm::QueryResult,
                at: usize,
            ) -> Result<Self, sea_orm::DbErr> {
                let mut index = at..;
                Ok(Self {
                    $($field: row.try_get_by_index(index.next().unwrap_or(usize::MAX))?),+
                })
            }
        }
    };
}
pub(crate) use positional;

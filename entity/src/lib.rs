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

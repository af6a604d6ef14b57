//! Rules both APIs share. GraphQL resolvers and REST handlers are thin adapters over these
//! functions. Each checks the caller's permission itself (one place per rule), reads through
//! [`scope`] so that records outside the caller's reach are not found, and makes its change
//! and the change's audit event in one transaction.

pub mod account;
pub mod audit_log;
pub mod bulk;
pub mod category;
pub mod change;
pub mod department;
pub mod finding;
pub mod finding_list;
pub mod inspection;
pub mod ledger_export;
pub mod ledger_import;
pub mod listing;
pub mod measure;
pub mod measure_list;
pub mod ordinal;
pub mod page;
pub mod progress;
pub mod regulation;
pub mod report;
pub mod scope;
pub mod summary;
pub mod target;
pub mod text;
pub mod warning;
pub mod workflow;

//! The rules every surface shares. GraphQL, REST, bulk mutations, the ledger import and the
//! command line are thin adapters over these functions:
//! - commands (create, update, archive, link, each workflow move, progress, targets,
//!   evidence) take the connection they run on and an [`Acting`] caller, and do in one place
//!   the permission and scope checks, validation, the version guard, the ledger entry and the
//!   audit event; adapters run them inside [`write`];
//! - reads start from [`scope`], so that records outside the caller's reach are not found,
//!   whichever surface asks.

pub mod account;
mod acting;
pub mod alert;
pub mod as_of;
pub mod audit_log;
pub mod bulk;
pub mod bulletin;
pub mod can;
pub mod category;
pub mod change;
pub mod delivery;
pub mod department;
pub mod events;
pub mod finding;
pub mod finding_list;
pub mod idempotency;
pub mod inspection;
pub mod kept;
pub mod ledger_import;
pub mod listing;
pub mod login_throttle;
pub mod look_back;
pub mod measure;
pub mod measure_list;
pub mod ordinal;
pub mod page;
pub mod progress;
pub mod regulation;
pub mod relations;
pub mod report;
pub mod scope;
pub mod summary;
pub mod sync;
pub mod target;
pub mod text;
pub mod warning;
pub mod webhook;
pub mod webhook_notice;
pub mod webhook_target;
pub mod workflow;

pub use acting::{Acting, write};

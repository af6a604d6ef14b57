//! The rules every surface shares. GraphQL, REST, bulk mutations, the ledger import and the
//! command line are thin adapters over these functions:
//! - commands (create, update, archive, link, each workflow move, progress, targets,
//!   evidence) take the connection they run on and an [`Acting`] caller, and do in one place
//!   the permission and scope checks, validation, the version guard, the ledger entry and the
//!   audit event; adapters run them inside [`write`];
//! - reads start from [`reads::scope`], so that records outside the caller's reach are not
//!   found, whichever surface asks.
//!
//! The parts, one folder each: [`records`] (the kinds of record and their commands),
//! [`workflow`] (close-out, look-back, warnings), [`reads`] (scope, pages, lists, summaries),
//! [`documents`] (reports, the bulletin, the import, bulk changes), [`integration`] (the outbox
//! and webhooks) and [`gate`] (login attempts, replayed requests).

mod acting;
pub mod documents;
pub mod gate;
pub mod integration;
pub mod reads;
pub mod records;
pub mod workflow;

pub use acting::{Acting, write};

//! rectrack: tracking the rectification of inspection findings (巡察整改).
//!
//! Map of the crate (see docs/ARCHITECTURE.md for the path of a request):
//! - [`config`]: typed settings from flags and `RECTRACK_*` variables.
//! - [`startup`]: [`startup::Application`], which opens the database, migrates, binds and serves.
//! - [`http`]: the axum router, health checks and middleware.
//! - [`graphql`]: the GraphQL schema, split by domain.
//! - [`domain`]: the rules both APIs share.
//! - [`audit`]: the hash-chained audit trail.
//! - [`metrics`]: the metrics served at `/metrics`, one registry per server.
//! - [`seed`]: the demo data from the real bulletin.
//! - [`error`]: the one error type, [`error::AppError`].

// First: its `t!` macro is used by every module below.
#[macro_use]
pub mod i18n;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod cli;
pub mod config;
pub mod config_file;
pub mod db;
pub mod domain;
pub mod error;
pub mod evidence;
pub mod exchange;
pub mod generate;
pub mod graphql;
pub mod http;
pub mod ledger_file;
pub mod live;
pub mod metrics;
pub mod report;
pub mod seed;
pub mod spreadsheet;
pub mod startup;
pub mod telemetry;

//! rectrack's integration tests: one binary, the real app on port 0 with a fresh database per
//! test, spoken to over HTTP. With `TEST_DATABASE_URL` set they run on PostgreSQL (each test in
//! a database of its own, dropped afterwards); without it, on SQLite.

mod helpers;
mod jwt;
mod ws_client;

mod accounts;
mod alerts;
mod audit;
mod authorization;
mod automation;
mod bad_input;
mod batching;
mod browser;
mod bulletin;
mod bulletin_wording;
mod concurrency;
mod documents;
mod escaping;
mod evidence;
mod faults;
mod filters;
mod generate;
mod hardening;
mod health;
mod hostile_documents;
mod import_limits;
mod introspection;
mod languages;
mod ledger;
mod limits;
mod live;
mod logins;
mod look_back;
mod migrations;
mod mutations;
mod one_road;
mod pagination;
mod reads;
mod reports;
mod rest;
mod schema;
mod schemathesis;
mod seed;
mod shapes;
mod sweep;
mod tokens;
mod viewer_can;
mod webhook_targets;
mod webhooks;
mod workflow;

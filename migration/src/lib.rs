//! Schema migrations for rectrack, run by `rectrack migrate` and before `rectrack serve`.
//!
//! Migrations are history: once released, a file is never edited; a change is a new file.
//! Enumerations are stored as lowercase snake_case text guarded by CHECK constraints (portable
//! between SQLite and PostgreSQL, and readable in a plain SQL console).

pub use sea_orm_migration::prelude::*;

mod helpers;
mod m20261127_000001_create_department;
mod m20261127_000002_create_inspection;
mod m20261127_000003_create_finding;
mod m20261127_000004_create_regulation;
mod m20261127_000005_create_ledger;
mod m20261127_000006_create_report;
mod m20261127_000007_create_audit_and_account;
mod m20261127_000008_version_department_and_category;
mod m20261127_000009_audit_department;
mod m20261127_000010_inspection_publicity;
mod m20261127_000011_create_idempotency_key;
mod m20261201_000012_audit_head_and_fixed_reports;
mod m20261202_000013_live_finding_status;
mod m20261202_000014_look_back_and_targets;
mod m20261202_000015_events_webhooks_notifications;
mod m20261202_000016_finding_disclosed;
mod m20261202_000017_finding_live_status_order;
mod m20261203_000018_department_path_bytes;
mod m20261206_000019_department_subtree_ids;
mod m20261206_000020_webhook_outage;
mod m20261207_000021_list_order_indexes;
mod m20261207_000022_finding_stages;
mod m20261207_000023_supervision_orders;
mod m20261207_000024_exchange;
mod m20261207_000025_public_feedback;
mod m20261207_000026_supervision_reply_evidence;
mod m20261207_000027_audit_pending;
mod m20261207_000028_webhook_last_delivered;
mod m20261207_000029_exchange_import;
mod m20261207_000030_feedback_notices;
mod m20261207_000031_exchange_decisions;
mod m20261207_000032_exchange_connected;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_create_department::Migration),
            Box::new(m20261127_000002_create_inspection::Migration),
            Box::new(m20261127_000003_create_finding::Migration),
            Box::new(m20261127_000004_create_regulation::Migration),
            Box::new(m20261127_000005_create_ledger::Migration),
            Box::new(m20261127_000006_create_report::Migration),
            Box::new(m20261127_000007_create_audit_and_account::Migration),
            Box::new(m20261127_000008_version_department_and_category::Migration),
            Box::new(m20261127_000009_audit_department::Migration),
            Box::new(m20261127_000010_inspection_publicity::Migration),
            Box::new(m20261127_000011_create_idempotency_key::Migration),
            Box::new(m20261201_000012_audit_head_and_fixed_reports::Migration),
            Box::new(m20261202_000013_live_finding_status::Migration),
            Box::new(m20261202_000014_look_back_and_targets::Migration),
            Box::new(m20261202_000015_events_webhooks_notifications::Migration),
            Box::new(m20261202_000016_finding_disclosed::Migration),
            Box::new(m20261202_000017_finding_live_status_order::Migration),
            Box::new(m20261203_000018_department_path_bytes::Migration),
            Box::new(m20261206_000019_department_subtree_ids::Migration),
            Box::new(m20261206_000020_webhook_outage::Migration),
            Box::new(m20261207_000021_list_order_indexes::Migration),
            Box::new(m20261207_000022_finding_stages::Migration),
            Box::new(m20261207_000023_supervision_orders::Migration),
            Box::new(m20261207_000024_exchange::Migration),
            Box::new(m20261207_000025_public_feedback::Migration),
            Box::new(m20261207_000026_supervision_reply_evidence::Migration),
            Box::new(m20261207_000027_audit_pending::Migration),
            Box::new(m20261207_000028_webhook_last_delivered::Migration),
            Box::new(m20261207_000029_exchange_import::Migration),
            Box::new(m20261207_000030_feedback_notices::Migration),
            Box::new(m20261207_000031_exchange_decisions::Migration),
            Box::new(m20261207_000032_exchange_connected::Migration),
        ]
    }
}

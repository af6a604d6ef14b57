//! Every order a list of findings or measures offers, served by an index on both databases,
//! alone and after a status filter (tests/api/plans.rs checks every list's filters and orders
//! against the plans). Before, ordering by deadline sorted every finding or measure the filter
//! let through: the order is `COALESCE(deadline, '9999-12-31')` (a missing deadline last), which
//! no index held; findings of one status by deadline took 430 ms at 100,000 findings on SQLite
//! (41,000 rows sorted to keep twenty). The order's expression is now written with the date as
//! a literal (`finding_list::deadline_or_last`), as here: neither database matches an
//! expression index against an expression holding a placeholder.
//!
//! Measures get the live-status index findings have had since `m20261202_000017`: a page of one
//! status in the default order walks it and stops at the page's end, and its count reads the
//! index alone (a count of 225,000 DONE measures fetched every row to check `archived_at`:
//! 825 ms; 22 ms from this one). As with findings, SQLite loses the plain status index, which
//! it preferred for those counts and then fetched every row from. `measure.updated_at` is
//! widened by `id`, the order's tie-break, which PostgreSQL otherwise sorts for.
//!
//! The audit log, newest first by id, filtered by the kind of record, the actor or the action:
//! SQLite sorted a third of the log for one kind of record, PostgreSQL read the whole log and
//! sorted it for one actor or action.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Each index's name and its `ON …` part; `{no_deadline}` is the literal the orders use.
const INDEXES: [(&str, &str); 11] = [
    (
        "finding_deadline_order_idx",
        "finding ((COALESCE(deadline, {no_deadline})), id)",
    ),
    (
        "finding_live_status_deadline_idx",
        "finding (status, (COALESCE(deadline, {no_deadline})), id) WHERE archived_at IS NULL",
    ),
    (
        "finding_live_status_updated_idx",
        "finding (status, updated_at, id) WHERE archived_at IS NULL",
    ),
    (
        "measure_deadline_order_idx",
        "measure ((COALESCE(deadline, {no_deadline})), id)",
    ),
    (
        "measure_live_status_order_idx",
        "measure (status, finding_id, ordinal, id) WHERE archived_at IS NULL",
    ),
    (
        "measure_live_status_deadline_idx",
        "measure (status, (COALESCE(deadline, {no_deadline})), id) WHERE archived_at IS NULL",
    ),
    (
        "measure_live_status_updated_idx",
        "measure (status, updated_at, id) WHERE archived_at IS NULL",
    ),
    ("measure_updated_at_id_idx", "measure (updated_at, id)"),
    (
        "audit_event_type_order_idx",
        "audit_event (entity_type, id)",
    ),
    ("audit_event_actor_order_idx", "audit_event (actor_sub, id)"),
    ("audit_event_action_order_idx", "audit_event (action, id)"),
];

fn no_deadline(backend: DatabaseBackend) -> &'static str {
    // The column is a DATE on PostgreSQL (the literal is typed as one there anyway; said
    // explicitly so that the index's expression is plainly the queries'), text on SQLite.
    match backend {
        DatabaseBackend::Postgres => "'9999-12-31'::date",
        _ => "'9999-12-31'",
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let db = manager.get_connection();
        for (name, on) in INDEXES {
            let on = on.replace("{no_deadline}", no_deadline(backend));
            db.execute_unprepared(&format!("CREATE INDEX {name} ON {on}"))
                .await?;
        }
        db.execute_unprepared("DROP INDEX measure_updated_at_idx")
            .await?;
        if backend == DatabaseBackend::Sqlite {
            db.execute_unprepared("DROP INDEX measure_status_idx")
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if manager.get_database_backend() == DatabaseBackend::Sqlite {
            db.execute_unprepared("CREATE INDEX measure_status_idx ON measure (status)")
                .await?;
        }
        db.execute_unprepared("CREATE INDEX measure_updated_at_idx ON measure (updated_at)")
            .await?;
        for (name, _) in INDEXES.iter().rev() {
            db.execute_unprepared(&format!("DROP INDEX {name}")).await?;
        }
        Ok(())
    }
}

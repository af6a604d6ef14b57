//! The schema: migrations run forward and back on the engine under test, and the database
//! itself refuses rows that break the domain's rules.

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use crate::helpers::{TestDb, count};

const TABLES: [&str; 23] = [
    "department",
    "inspection",
    "category",
    "finding",
    "measure",
    "target",
    "stage",
    "regulation",
    "finding_regulation",
    "progress_entry",
    "evidence",
    "report",
    "audit_event",
    "account",
    "idempotency_key",
    "notification",
    "supervision_order",
    "supervision_order_subject",
    "supervision_reply",
    "public_feedback",
    "public_feedback_reply",
    "public_feedback_key",
    "supervision_reply_evidence",
];

async fn existing_tables(db: &DatabaseConnection, postgres: bool) -> i64 {
    let list = TABLES.map(|t| format!("'{t}'")).join(", ");
    let sql = if postgres {
        format!(
            "SELECT COUNT(*) FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_name IN ({list})"
        )
    } else {
        format!("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ({list})")
    };
    count(db, &sql).await
}

#[tokio::test]
async fn migrations_run_up_down_and_up_again() {
    let test_db = TestDb::new().await;
    let db = test_db.connect().await;
    let pg = test_db.is_postgres();

    Migrator::up(&db, None).await.expect("up");
    assert_eq!(existing_tables(&db, pg).await, TABLES.len() as i64);
    assert!(
        Migrator::get_pending_migrations(&db)
            .await
            .unwrap()
            .is_empty()
    );

    Migrator::down(&db, None).await.expect("down");
    assert_eq!(existing_tables(&db, pg).await, 0);
    assert_eq!(
        Migrator::get_applied_migrations(&db).await.unwrap().len(),
        0
    );

    Migrator::up(&db, None).await.expect("up again");
    assert_eq!(existing_tables(&db, pg).await, TABLES.len() as i64);
    db.close().await.unwrap();
}

/// A migrated database with one unit, one inspection and one category.
async fn prepared() -> (TestDb, DatabaseConnection) {
    let test_db = TestDb::new().await;
    let db = test_db.connect().await;
    Migrator::up(&db, None).await.unwrap();
    for sql in [
        "INSERT INTO department (code, name, kind, path, created_at, updated_at) \
         VALUES ('U1', 'Unit', 'unit', '/1/', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
        "INSERT INTO inspection (title, inspection_group, unit_id, started_on, ended_on, version, created_at, updated_at) \
         VALUES ('I', 'G', 1, '2020-03-19', '2020-07-15', 1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
        "INSERT INTO category (inspection_id, ordinal, title, created_at, updated_at) \
         VALUES (1, 1, 'C', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
    ] {
        db.execute_unprepared(sql).await.unwrap();
    }
    (test_db, db)
}

fn finding_insert(title: &str, status: &str, ordinal: i32) -> String {
    format!(
        "INSERT INTO finding (inspection_id, category_id, ordinal, title, description, \
         rectification_type, status, department_id, created_at, updated_at, version) \
         VALUES (1, 1, {ordinal}, {title}, '', 'immediate', '{status}', 1, \
         '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 1)"
    )
}

#[tokio::test]
async fn the_database_refuses_findings_that_break_the_rules() {
    let (_test_db, db) = prepared().await;

    // A valid finding is accepted, so the refusals below are about the one bad value each.
    db.execute_unprepared(&finding_insert("'Fine'", "not_started", 1))
        .await
        .expect("a valid finding is stored");

    for (what, sql) in [
        ("no title", finding_insert("NULL", "not_started", 2)),
        ("a blank title", finding_insert("'   '", "not_started", 3)),
        ("an unknown status", finding_insert("'T'", "finished", 4)),
        (
            "closed without a close time",
            finding_insert("'T'", "closed", 5),
        ),
        (
            "a duplicate ordinal",
            finding_insert("'T'", "not_started", 1),
        ),
        ("ordinal zero", finding_insert("'T'", "not_started", 0)),
    ] {
        assert!(
            db.execute_unprepared(&sql).await.is_err(),
            "a finding with {what} must be refused"
        );
    }
    assert_eq!(count(&db, "SELECT COUNT(*) FROM finding").await, 1);

    // Foreign keys hold on SQLite too (they are off there unless switched on).
    assert!(
        db.execute_unprepared(
            "INSERT INTO category (inspection_id, ordinal, title, created_at, updated_at) \
             VALUES (99, 2, 'C', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')"
        )
        .await
        .is_err(),
        "a category of a missing inspection must be refused"
    );
    // An inspection cannot end before it starts.
    assert!(
        db.execute_unprepared(
            "INSERT INTO inspection (title, inspection_group, unit_id, started_on, ended_on, version, created_at, updated_at) \
             VALUES ('I', 'G', 1, '2020-07-15', '2020-03-19', 1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')"
        )
        .await
        .is_err()
    );
    // Measures: unknown status, and done without a completion date.
    for (what, status, completed) in [
        ("an unknown status", "finished", "NULL"),
        ("done without a date", "done", "NULL"),
    ] {
        let sql = format!(
            "INSERT INTO measure (finding_id, ordinal, content, status, completed_on, version, created_at, updated_at) \
             VALUES (1, 1, 'M', '{status}', {completed}, 1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')"
        );
        assert!(
            db.execute_unprepared(&sql).await.is_err(),
            "a measure with {what} must be refused"
        );
    }
}

#[tokio::test]
async fn ledger_entries_cannot_be_changed_or_deleted() {
    let (_test_db, db) = prepared().await;
    db.execute_unprepared(&finding_insert("'Fine'", "in_progress", 1))
        .await
        .unwrap();
    db.execute_unprepared(
        "INSERT INTO progress_entry (finding_id, entry_date, kind, content, author_sub, created_at) \
         VALUES (1, '2020-10-23', 'progress', 'Re-election held', 'tester', '2026-01-01T00:00:00Z')",
    )
    .await
    .expect("appending is allowed");

    assert!(
        db.execute_unprepared("UPDATE progress_entry SET content = 'rewritten'")
            .await
            .is_err()
    );
    assert!(
        db.execute_unprepared("DELETE FROM progress_entry")
            .await
            .is_err()
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM progress_entry WHERE content = 'Re-election held'"
        )
        .await,
        1
    );
    // A correction must point at the entry it corrects.
    assert!(
        db.execute_unprepared(
            "INSERT INTO progress_entry (finding_id, entry_date, kind, content, author_sub, created_at) \
             VALUES (1, '2020-10-24', 'correction', 'Fix', 'tester', '2026-01-01T00:00:00Z')",
        )
        .await
        .is_err()
    );
    db.execute_unprepared(
        "INSERT INTO progress_entry (finding_id, entry_date, kind, content, author_sub, corrects_id, created_at) \
         VALUES (1, '2020-10-24', 'correction', 'Fix', 'tester', 1, '2026-01-01T00:00:00Z')",
    )
    .await
    .expect("a correction pointing at its entry is stored");
}

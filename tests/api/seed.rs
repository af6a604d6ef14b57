//! The demo data: `rectrack seed --demo` loads the real bulletin, idempotently.

use std::process::Command;

use crate::helpers::{TestDb, count};

fn seed(db: &TestDb) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_rectrack"))
        .args(["seed", "--demo"])
        .env("RECTRACK_DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "seed failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test]
async fn seeding_the_demo_twice_gives_the_same_inspection() {
    let test_db = TestDb::new().await;
    assert!(seed(&test_db).starts_with("demo data loaded (inspection 1)"));
    assert!(seed(&test_db).starts_with("demo data already present (inspection 1)"));

    let db = test_db.connect().await;
    assert_eq!(count(&db, "SELECT COUNT(*) FROM inspection").await, 1);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM category").await, 3);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM finding").await, 35);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM department").await, 9);
    // Findings numbered 1..35 without gaps: the 21 published, 13 + 6 + 2 under the three
    // headings, then the 14 the bulletin counts without publishing, under none.
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(DISTINCT ordinal) FROM finding WHERE ordinal BETWEEN 1 AND 35"
        )
        .await,
        35
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM finding WHERE NOT disclosed AND category_id IS NULL AND ordinal > 21"
        )
        .await,
        14
    );
    for (ordinal, findings) in [(1, 13), (2, 6), (3, 2)] {
        let sql = format!(
            "SELECT COUNT(*) FROM finding f JOIN category c ON c.id = f.category_id WHERE c.ordinal = {ordinal}"
        );
        assert_eq!(count(&db, &sql).await, findings, "category {ordinal}");
    }
    db.close().await.unwrap();
}

#[tokio::test]
async fn the_demo_reflects_what_the_bulletin_reports() {
    let test_db = TestDb::new().await;
    seed(&test_db);
    let db = test_db.connect().await;

    // Finding 16 has its six finance rules.
    let finance = "SELECT COUNT(*) FROM finding_regulation fr \
        JOIN finding f ON f.id = fr.finding_id JOIN regulation r ON r.id = fr.regulation_id \
        WHERE f.ordinal = 16 AND r.domain = 'finance'";
    assert_eq!(count(&db, finance).await, 6);
    for title in [
        "公务接待管理规定",
        "差旅费管理规定",
        "现金使用管理规定",
        "政府采购内部控制管理规定",
        "公务卡使用管理规定",
        "财务管理报销流程",
    ] {
        let sql = format!(
            "SELECT COUNT(*) FROM finding_regulation fr JOIN finding f ON f.id = fr.finding_id \
             JOIN regulation r ON r.id = fr.regulation_id WHERE f.ordinal = 16 AND r.title = '{title}'"
        );
        assert_eq!(count(&db, &sql).await, 1, "finding 16 links {title}");
    }

    // Findings 10 and 20 are closed, with every measure done.
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM finding WHERE ordinal IN (10, 20) AND status = 'closed'"
        )
        .await,
        2
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM measure m JOIN finding f ON f.id = m.finding_id \
                    WHERE f.ordinal IN (10, 20) AND m.status <> 'done'"
        )
        .await,
        0
    );
    // Finding 3 is long-term and in progress, with its 12% against 25% target.
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM finding WHERE ordinal = 3 \
                    AND rectification_type = 'long_term' AND status = 'in_progress'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM target t JOIN finding f ON f.id = t.finding_id \
                    WHERE f.ordinal = 3 AND t.baseline = 12 AND t.required_value = 25"
        )
        .await,
        1
    );
    // Targets exist exactly for findings 3, 16, 20 and 21.
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(DISTINCT f.ordinal) FROM target t JOIN finding f ON f.id = t.finding_id \
                    WHERE f.ordinal IN (3, 16, 20, 21)"
        )
        .await,
        4
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM target").await, 4);
    // The bulletin gives no deadlines, so none are invented.
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM finding WHERE deadline IS NOT NULL"
        )
        .await,
        0
    );
    // Finding 1's measures come from its 一是/二是/三是 text.
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM measure m JOIN finding f ON f.id = m.finding_id WHERE f.ordinal = 1").await,
        3
    );
    // Loading was audited.
    assert!(
        count(
            &db,
            "SELECT COUNT(*) FROM audit_event WHERE action = 'inspection.seed_demo'"
        )
        .await
            == 1
    );
    db.close().await.unwrap();
}

#[tokio::test]
async fn the_demo_is_loaded_through_the_commands_and_audited_row_by_row() {
    let test_db = TestDb::new().await;
    seed(&test_db);
    let db = test_db.connect().await;
    // Each row was made by the command a user's would be, as `system:seed`, and audited by it.
    for (action, rows) in [
        ("department.create", 9),
        ("inspection.create", 1),
        ("regulation.create", 54),
        ("category.create", 3),
        ("finding.create", 35),
        ("measure.create", 64),
        ("target.create", 4),
        ("regulation.link", 75),
        ("progress_entry.create", 158),
    ] {
        let sql = format!(
            "SELECT COUNT(*) FROM audit_event WHERE action = '{action}' AND actor_sub = 'system:seed'"
        );
        assert_eq!(count(&db, &sql).await, rows, "{action}");
    }
    // A loaded state is not a change made today: no status moves, link or import notes in
    // the ledger, whose entries are the bulletin's, by the bulletin.
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM progress_entry WHERE kind IN ('status_change', 'comment')"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM progress_entry WHERE author_name = '巡察整改通报（2021-04-13）' \
             AND author_sub = 'system:seed' AND author_role = 'system'"
        )
        .await,
        158
    );
    // Every row starts from its kind's new-row defaults: version 1, created when updated.
    for table in [
        "inspection",
        "category",
        "finding",
        "measure",
        "target",
        "regulation",
    ] {
        let sql = format!(
            "SELECT COUNT(*) FROM {table} WHERE version <> 1 OR created_at <> updated_at OR archived_at IS NOT NULL"
        );
        assert_eq!(count(&db, &sql).await, 0, "{table}");
    }
    db.close().await.unwrap();
}

//! The audit trail: one event per change, a verifiable hash chain, and a log each role may
//! read within its reach.

use std::process::Command;

use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::helpers::{TestApp, TestUser, count, error_code, spawn_app};

fn verify(app: &TestApp) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_rectrack"))
        .args(["audit", "verify"])
        .env("RECTRACK_DATABASE_URL", &app.test_db.url)
        .output()
        .expect("the binary runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[tokio::test]
async fn audit_verify_passes_then_names_the_first_event_altered_in_the_database() {
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    let f1 = app.finding_id(1).await.to_string();
    for title in ["第一次修改", "第二次修改", "第三次修改"] {
        let version = app.finding_version(f1.parse().unwrap()).await;
        app.data(
            &manager,
            "mutation($i: UpdateFindingInput!) { updateFinding(input: $i) { id } }",
            json!({"i": {"id": f1, "version": version, "title": title}}),
        )
        .await;
    }
    let events = count(&app.db, "SELECT COUNT(*) FROM audit_event").await;
    let (ok, out) = verify(&app);
    assert!(ok, "{out}");
    assert_eq!(
        out.trim(),
        format!(
            "audit trail intact: {events} events, every hash and link verified, the chain ends at its head; 0 report snapshots match their recorded hashes"
        )
    );

    // Tamper with the second of the three updates, past the database's own guard.
    let target = count(
        &app.db,
        "SELECT id FROM audit_event WHERE action = 'finding.update' ORDER BY id LIMIT 1 OFFSET 1",
    )
    .await;
    if app.test_db.is_postgres() {
        app.sql("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
            .await;
    } else {
        app.sql("DROP TRIGGER audit_event_no_update").await;
    }
    app.sql(&format!(
        "UPDATE audit_event SET actor_sub = 'someone-else' WHERE id = {target}"
    ))
    .await;
    let (ok, out) = verify(&app);
    assert!(!ok, "verification must fail: {out}");
    assert!(
        out.starts_with(&format!(
            "audit trail BROKEN at event {target}: its content does not match its hash"
        )),
        "{out}"
    );

    // Removing an event breaks the link of the next one.
    app.sql(&format!(
        "UPDATE audit_event SET actor_sub = 'test-manager' WHERE id = {target}"
    ))
    .await;
    assert!(verify(&app).0, "restored");
    if !app.test_db.is_postgres() {
        app.sql("DROP TRIGGER audit_event_no_delete").await;
    }
    app.sql(&format!("DELETE FROM audit_event WHERE id = {target}"))
        .await;
    let (ok, out) = verify(&app);
    assert!(!ok);
    assert!(
        out.contains(&format!(
            "BROKEN at event {}: its link does not match",
            target + 1
        )),
        "{out}"
    );
}

/// Lifts the append-only guard of `table` (as someone with the database's keys could).
async fn lift_guard(app: &TestApp, table: &str) {
    if app.test_db.is_postgres() {
        app.sql(&format!("ALTER TABLE {table} DISABLE TRIGGER ALL"))
            .await;
    } else {
        let names = [
            "audit_event_no_update",
            "audit_event_no_delete",
            "report_snapshot_fixed",
            "report_status_forward",
            "report_no_delete",
        ];
        for name in names.iter().filter(|n| n.starts_with(table)) {
            app.sql(&format!("DROP TRIGGER IF EXISTS {name}")).await;
        }
    }
}

#[tokio::test]
async fn removing_the_newest_events_or_editing_a_report_snapshot_is_found() {
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    let report = app.report(&manager).await;
    let (ok, out) = verify(&app);
    assert!(ok, "{out}");
    assert!(out.contains("1 report snapshots match"), "{out}");

    // The database itself refuses to edit or delete a snapshot.
    let edit =
        format!("UPDATE report SET snapshot = '{{\"kind\":\"semi_monthly\"}}' WHERE id = {report}");
    assert!(app.db.execute_unprepared(&edit).await.is_err());
    assert!(
        app.db
            .execute_unprepared(&format!("DELETE FROM report WHERE id = {report}"))
            .await
            .is_err()
    );
    // Past the guard, the edit is found by the hash in the chain.
    let original = count(
        &app.db,
        &format!("SELECT COUNT(*) FROM report WHERE id = {report}"),
    )
    .await;
    assert_eq!(original, 1);
    lift_guard(&app, "report").await;
    let snapshot: String = {
        let row = app
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                app.db.get_database_backend(),
                format!("SELECT CAST(snapshot AS TEXT) FROM report WHERE id = {report}"),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get_by_index(0).unwrap()
    };
    // PostgreSQL writes jsonb with a space after each colon.
    let altered = snapshot
        .replacen("\"total\":35", "\"total\":34", 1)
        .replacen("\"total\": 35", "\"total\": 34", 1);
    assert!(altered != snapshot, "the snapshot counts 35 findings");
    let quoted = altered.replace('\'', "''");
    let cast = if app.test_db.is_postgres() {
        "::jsonb"
    } else {
        ""
    };
    app.sql(&format!(
        "UPDATE report SET snapshot = '{quoted}'{cast} WHERE id = {report}"
    ))
    .await;
    let (ok, out) = verify(&app);
    assert!(!ok, "{out}");
    assert!(
        out.contains(&format!(
            "report {report}'s snapshot does not match the hash recorded when it was generated"
        )),
        "{out}"
    );
    let quoted = snapshot.replace('\'', "''");
    app.sql(&format!(
        "UPDATE report SET snapshot = '{quoted}'{cast} WHERE id = {report}"
    ))
    .await;
    assert!(verify(&app).0, "restored");

    // Removing the newest event leaves no broken link behind it, but the chain now ends
    // before its head.
    let newest = count(&app.db, "SELECT MAX(id) FROM audit_event").await;
    lift_guard(&app, "audit_event").await;
    app.sql(&format!("DELETE FROM audit_event WHERE id = {newest}"))
        .await;
    let (ok, out) = verify(&app);
    assert!(!ok, "{out}");
    assert!(
        out.contains(&format!(
            "BROKEN at event {newest}: the chain ends before its head: its newest events were removed"
        )),
        "{out}"
    );
}

#[tokio::test]
async fn every_change_is_one_event_and_the_log_is_read_within_reach() {
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    let f1 = app.finding_id(1).await.to_string();
    let before = count(&app.db, "SELECT COUNT(*) FROM audit_event").await;
    app.data(
        &manager,
        "mutation($i: UpdateFindingInput!) { updateFinding(input: $i) { id } }",
        json!({"i": {"id": f1, "version": 1, "title": "改后的标题"}}),
    )
    .await;
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM audit_event").await,
        before + 1
    );
    // A refused change writes nothing.
    let (_, body) = app
        .gql(
            Some(&manager),
            "mutation($i: UpdateFindingInput!) { updateFinding(input: $i) { id } }",
            json!({"i": {"id": f1, "version": 1, "title": "过期"}}),
        )
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"));
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM audit_event").await,
        before + 1
    );

    let log = "query($f: AuditFilterInput) { auditLog(filter: $f, first: 5) { totalCount edges { node { actor actorRole action entityType entityId before after requestId } } } }";
    let filter = json!({"f": {"entityType": "finding", "entityId": f1}});
    let data = app.data(&TestUser::inspector(), log, filter.clone()).await;
    let event = &data["auditLog"]["edges"][0]["node"];
    assert_eq!(event["actor"], "test-manager");
    assert_eq!(event["action"], "finding.update");
    assert_eq!(
        event["before"]["title"],
        "贯彻落实中央决策和上级部署不到位，履职担当不够"
    );
    assert_eq!(event["after"]["title"], "改后的标题");
    assert!(event["requestId"].is_string());
    // The manager reads its subtree's events (the finding's creation and its two rules'
    // links, audited as the demo was loaded, and the change); another unit's manager sees
    // none of them.
    assert_eq!(
        app.data(&manager, log, filter.clone()).await["auditLog"]["totalCount"],
        4
    );
    app.sql("INSERT INTO department (code, name, kind, parent_id, path, created_at, updated_at) VALUES ('OTHER', '另一单位', 'unit', 1, '/1/99/', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')").await;
    assert_eq!(
        app.data(&TestUser::manager("OTHER"), log, filter.clone())
            .await["auditLog"]["totalCount"],
        0
    );
    let (_, body) = app
        .gql(Some(&TestUser::officer("ZJTZB-BGS")), log, filter)
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"));
    let _ = app.db.execute_unprepared("SELECT 1").await;
}

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
        format!("audit trail intact: {events} events, every hash and link verified")
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
    // The manager reads its subtree's events; another unit's manager sees none of them.
    assert_eq!(
        app.data(&manager, log, filter.clone()).await["auditLog"]["totalCount"],
        1
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

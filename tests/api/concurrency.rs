//! Many writers at once: every request succeeds or fails cleanly (never "database is
//! locked"), and the rows written equal the successful responses.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{TestUser, count, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_clients_writing_for_ten_seconds_lose_nothing() {
    let app = std::sync::Arc::new(spawn_app().await);
    let finding = app.finding_id(1).await.to_string();
    let officer = TestUser::officer("ZJTZB-BGS");
    let deadline = Instant::now() + Duration::from_secs(10);
    let query =
        "mutation($input: AddProgressEntryInput!) { addProgressEntry(input: $input) { id } }";

    let mut clients = Vec::new();
    for client in 0..50 {
        let (app, finding, officer) = (app.clone(), finding.clone(), officer.clone());
        clients.push(tokio::spawn(async move {
            let (mut ok, mut failed, mut i) = (0u64, Vec::<Value>::new(), 0);
            while Instant::now() < deadline {
                let input = json!({"input": {"findingId": finding, "content": format!("并发写入 {client}-{i}")}});
                let (status, body) = app.gql(Some(&officer), query, input).await;
                if status == 200 && body.get("errors").is_none() && body["data"]["addProgressEntry"]["id"].is_string() {
                    ok += 1;
                } else {
                    failed.push(body);
                }
                i += 1;
            }
            (ok, failed)
        }));
    }
    let mut succeeded = 0;
    let mut failures = Vec::new();
    for client in clients {
        let (ok, failed) = client.await.unwrap();
        succeeded += ok;
        failures.extend(failed);
    }
    assert!(succeeded > 50, "only {succeeded} writes in 10 s");
    for failure in &failures {
        let code = failure["errors"][0]["extensions"]["code"].as_str();
        assert!(code.is_some(), "a failure without a code: {failure}");
        assert!(!failure.to_string().contains("locked"), "{failure}");
    }
    assert!(
        failures.is_empty(),
        "{} of {} writes failed: {:?}",
        failures.len(),
        succeeded as usize + failures.len(),
        failures.first()
    );
    let written = count(
        &app.db,
        "SELECT COUNT(*) FROM progress_entry WHERE content LIKE '并发写入 %'",
    )
    .await;
    assert_eq!(written as u64, succeeded);
    // Each write was audited once (beside the demo's entries, audited as they were loaded),
    // and the chain has no fork.
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM audit_event WHERE action = 'progress_entry.create' AND actor_role <> 'system'"
        )
        .await as u64,
        succeeded
    );
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) - COUNT(DISTINCT prev_hash) FROM audit_event"
        )
        .await,
        0
    );
}

/// Findings and measures created at once under one parent each get a number of their own, one
/// past another's: none fails because another took the number it read as free.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn records_created_at_once_under_one_parent_are_numbered_in_turn() {
    let app = std::sync::Arc::new(spawn_app().await);
    let manager = TestUser::manager("ZJTZB");
    let before = count(
        &app.db,
        "SELECT MAX(ordinal) FROM finding WHERE inspection_id = 1",
    )
    .await;
    let finding = app.create_finding("同时编号的措施所属问题", "ZJTZB").await;

    let mut tasks = Vec::new();
    for i in 0..12 {
        let (app, manager, finding) = (app.clone(), manager.clone(), finding.clone());
        tasks.push(tokio::spawn(async move {
            let created = app
                .gql(
                    Some(&manager),
                    "mutation($i: CreateFindingInput!) { createFinding(input: $i) { ordinal } }",
                    json!({"i": {"inspectionId": "1", "title": format!("同时编号的问题 {i}"), "rectificationType": "IMMEDIATE", "departmentCode": "ZJTZB"}}),
                )
                .await;
            let measure = app
                .gql(
                    Some(&manager),
                    "mutation($i: CreateMeasureInput!) { createMeasure(input: $i) { ordinal } }",
                    json!({"i": {"findingId": finding, "content": format!("同时编号的措施 {i}")}}),
                )
                .await;
            (created, measure)
        }));
    }
    let (mut findings, mut measures) = (Vec::new(), Vec::new());
    for task in tasks {
        let ((status, created), (measure_status, measure)) = task.await.unwrap();
        assert_eq!(status, 200, "{created}");
        assert!(created.get("errors").is_none(), "{created}");
        assert!(
            measure.get("errors").is_none(),
            "{measure_status} {measure}"
        );
        findings.push(
            created["data"]["createFinding"]["ordinal"]
                .as_i64()
                .unwrap(),
        );
        measures.push(
            measure["data"]["createMeasure"]["ordinal"]
                .as_i64()
                .unwrap(),
        );
    }
    findings.sort_unstable();
    measures.sort_unstable();
    // The finding made first took `before + 1`; the twelve follow it without a gap.
    assert_eq!(findings, ((before + 2)..(before + 14)).collect::<Vec<_>>());
    assert_eq!(measures, (1..13).collect::<Vec<_>>());
}

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
    // Each write was audited once, and the chain has no fork.
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM audit_event WHERE action = 'progress_entry.create'"
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

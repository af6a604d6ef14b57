//! Automation: bulk mutations (all or nothing, per-item outcomes) and idempotent retries.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, count, error_code, spawn_app};

const BULK_PROGRESS: &str = "mutation($items: [BulkProgressInput!]!) { bulkAddProgress(items: $items) { applied failed items { index entry { id } error { code field } } } }";
const BULK_MEASURES: &str = "mutation($items: [UpdateMeasureInput!]!) { bulkUpdateMeasures(items: $items) { applied failed items { index measure { status version } error { code message } } } }";

async fn post_with_key(
    app: &TestApp,
    token: &str,
    key: &str,
    query: &str,
    variables: Value,
) -> (u16, Value, bool) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let replayed = response.headers().get("idempotent-replayed").is_some();
    (status, response.json().await.unwrap(), replayed)
}

#[tokio::test]
async fn a_bulk_request_applies_all_items_or_none_and_reports_each() {
    let app = spawn_app().await;
    let officer = TestUser::officer("ZJTZB-BGS");
    let f1 = app.finding_id(1).await.to_string();
    let sibling = app.finding_id(2).await.to_string();
    let before = count(&app.db, "SELECT COUNT(*) FROM progress_entry").await;

    let items = json!([
        {"findingId": f1, "content": "第一条"},
        {"findingId": sibling, "content": "越权"},
        {"findingId": f1, "content": "  "},
        {"findingId": f1, "content": "第四条"},
    ]);
    let data = app
        .data(&officer, BULK_PROGRESS, json!({"items": items}))
        .await["bulkAddProgress"]
        .clone();
    assert_eq!(data["applied"], false);
    assert_eq!(data["failed"], 2);
    assert_eq!(
        data["items"][0],
        json!({"index": 0, "entry": null, "error": null})
    );
    assert_eq!(data["items"][1]["error"]["code"], "NOT_FOUND");
    assert_eq!(
        data["items"][2]["error"],
        json!({"code": "BAD_USER_INPUT", "field": "content"})
    );
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM progress_entry").await,
        before,
        "nothing was written"
    );

    let items =
        json!([{"findingId": f1, "content": "第一条"}, {"findingId": f1, "content": "第二条"}]);
    let data = app
        .data(&officer, BULK_PROGRESS, json!({"items": items}))
        .await["bulkAddProgress"]
        .clone();
    assert_eq!(data["applied"], true);
    assert!(data["items"][1]["entry"]["id"].is_string());
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM progress_entry").await,
        before + 2
    );

    // Measures: one stale version sinks the batch.
    let m1 = count(
        &app.db,
        "SELECT MIN(id) FROM measure WHERE status = 'in_progress'",
    )
    .await
    .to_string();
    let m2 = count(
        &app.db,
        "SELECT MAX(id) FROM measure WHERE status = 'in_progress'",
    )
    .await
    .to_string();
    let items = json!([{"id": m1, "version": 1, "status": "DONE"}, {"id": m2, "version": 7, "status": "DONE"}]);
    let data = app
        .data(&TestUser::admin(), BULK_MEASURES, json!({"items": items}))
        .await["bulkUpdateMeasures"]
        .clone();
    assert_eq!(
        (data["applied"].clone(), data["failed"].clone()),
        (json!(false), json!(1))
    );
    assert_eq!(data["items"][1]["error"]["code"], "CONFLICT");
    assert_eq!(
        count(
            &app.db,
            &format!("SELECT COUNT(*) FROM measure WHERE id = {m1} AND status = 'in_progress'")
        )
        .await,
        1
    );
    let items = json!([{"id": m1, "version": 1, "status": "DONE"}, {"id": m2, "version": 1, "status": "DONE"}]);
    let data = app
        .data(&TestUser::admin(), BULK_MEASURES, json!({"items": items}))
        .await["bulkUpdateMeasures"]
        .clone();
    assert_eq!(data["applied"], true);
    assert_eq!(
        data["items"][0]["measure"],
        json!({"status": "DONE", "version": 2})
    );
    let (_, body) = app
        .gql(Some(&officer), BULK_PROGRESS, json!({"items": []}))
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
}

#[tokio::test]
async fn the_same_request_sent_twice_with_one_key_changes_the_data_once() {
    let app = spawn_app().await;
    let officer = TestUser::officer("ZJTZB-BGS");
    let f1 = app.finding_id(1).await.to_string();
    let items = json!({"items": [{"findingId": f1, "content": "脚本推送的进展"}]});
    let (status, first, replayed) = post_with_key(
        &app,
        &officer,
        "sync-2026-11-27-001",
        BULK_PROGRESS,
        items.clone(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(!replayed);
    let (status, second, replayed) = post_with_key(
        &app,
        &officer,
        "sync-2026-11-27-001",
        BULK_PROGRESS,
        items.clone(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(replayed, "the stored response is returned");
    assert_eq!(first, second);
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM progress_entry WHERE content = '脚本推送的进展'"
        )
        .await,
        1
    );
    // The same key with another body is refused; another caller's same key is its own.
    let other = json!({"items": [{"findingId": f1, "content": "别的内容"}]});
    let (status, body, _) =
        post_with_key(&app, &officer, "sync-2026-11-27-001", BULK_PROGRESS, other).await;
    assert_eq!(status, 409);
    assert_eq!(error_code(&body), Some("CONFLICT"));
    let (status, _, replayed) = post_with_key(
        &app,
        &TestUser::manager("ZJTZB"),
        "sync-2026-11-27-001",
        BULK_PROGRESS,
        items,
    )
    .await;
    assert_eq!((status, replayed), (200, false));
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM progress_entry WHERE content = '脚本推送的进展'"
        )
        .await,
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_with_one_key_do_the_work_once() {
    let app = std::sync::Arc::new(spawn_app().await);
    let officer = TestUser::officer("ZJTZB-BGS");
    let f1 = app.finding_id(1).await.to_string();
    let items = json!({"items": [{"findingId": f1, "content": "并发重试"}]});
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (app, officer, items) = (app.clone(), officer.clone(), items.clone());
            tokio::spawn(async move {
                post_with_key(&app, &officer, "retry-storm", BULK_PROGRESS, items).await
            })
        })
        .collect();
    let mut bodies = Vec::new();
    for task in tasks {
        let (status, body, _) = task.await.unwrap();
        assert_eq!(status, 200, "{body}");
        bodies.push(body);
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "every retry got the same response"
    );
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM progress_entry WHERE content = '并发重试'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn keys_expire_and_survive_a_restart() {
    let app = spawn_app().await;
    let officer = TestUser::officer("ZJTZB-BGS");
    let f1 = app.finding_id(1).await.to_string();
    let items = json!({"items": [{"findingId": f1, "content": "过期后重发"}]});
    post_with_key(&app, &officer, "k-expire", BULK_PROGRESS, items.clone()).await;
    // A second server on the same database sees the key (as after a restart, or another process).
    let second = rectrack::startup::Application::build(crate::helpers::config(
        &app.test_db,
        &["--jwt-secret", crate::helpers::SECRET],
    ))
    .await
    .unwrap();
    let address = format!("http://{}", second.address());
    tokio::spawn(second.run_until_stopped());
    let response = app
        .client
        .post(format!("{address}/graphql"))
        .bearer_auth(&officer)
        .header("Idempotency-Key", "k-expire")
        .json(&json!({"query": BULK_PROGRESS, "variables": items.clone()}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["idempotent-replayed"], "true");
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM progress_entry WHERE content = '过期后重发'"
        )
        .await,
        1
    );
    // Once expired, the same key does the work again.
    app.sql("UPDATE idempotency_key SET expires_at = '2000-01-01T00:00:00Z'")
        .await;
    let (_, _, replayed) = post_with_key(&app, &officer, "k-expire", BULK_PROGRESS, items).await;
    assert!(!replayed);
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM progress_entry WHERE content = '过期后重发'"
        )
        .await,
        2
    );
}

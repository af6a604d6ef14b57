//! A kept `totalCount` lives as long as the data it counts: a change of another kind (an
//! account, a failed login, a webhook endpoint, a department) leaves it kept, on every instance,
//! and a change of what it counts makes the next request count again.

use serde_json::{Value, json};

use crate::helpers::{SECRET, TestApp, TestUser, count, spawn_app_with};

const TOTAL: &str = "{ findings(filter: {status: [NOT_STARTED]}) { totalCount } }";
const STORED: &str =
    "SELECT COUNT(*) FROM finding WHERE status = 'not_started' AND archived_at IS NULL";

/// The total shown to the admin at `address` (this app's when `None`), and the statements the
/// request ran.
async fn total(app: &TestApp, address: Option<&str>) -> (i64, u64) {
    let address = address.unwrap_or(&app.address);
    let before = app.sql_statements().await;
    let body: Value = app
        .client
        .post(format!("{address}/graphql"))
        .bearer_auth(TestUser::admin())
        .json(&json!({ "query": TOTAL }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(body.get("errors").is_none(), "{body}");
    let statements = app.sql_statements().await - before;
    (
        body["data"]["findings"]["totalCount"].as_i64().unwrap(),
        statements,
    )
}

/// Changes of every kind that cannot change a count of findings, through the API.
async fn unrelated_changes(app: &TestApp, n: i32) {
    let admin = TestUser::admin();
    app.data(
        &admin,
        "mutation($i: CreateAccountInput!) { createAccount(input: $i) { id } }",
        json!({"i": {"username": format!("kept-{n}"), "password": "a-long-password-1", "role": "VIEWER"}}),
    )
    .await;
    app.data(
        &admin,
        "mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { secret } }",
        json!({"i": {"url": format!("https://8.8.8.8/kept/{n}"), "eventTypes": ["report.published"]}}),
    )
    .await;
    // A department renamed (version n: this is its n-th change).
    app.data(
        &admin,
        "mutation($v: Int!, $n: String!) { updateDepartment(input: {id: \"4\", version: $v, name: $n}) { version } }",
        json!({"v": n, "n": format!("综合办公室{n}")}),
    )
    .await;
    // A failed login writes its audit event.
    let (_, refused) = app
        .gql(
            None,
            "mutation { login(username: \"nobody-here\", password: \"not-the-password\") { accessToken } }",
            json!({}),
        )
        .await;
    assert!(refused.get("errors").is_some(), "{refused}");
    // Whatever background work the changes woke (the outbox pump) is over before a request's
    // statements are counted.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
}

#[tokio::test]
async fn a_kept_count_survives_changes_it_cannot_see_and_is_counted_again_after_one_it_can() {
    // The outbox is read on commits only, not on a timer, so that the statements a request runs
    // are the request's.
    let flags = ["--jwt-secret", SECRET, "--events-poll", "1h"];
    let app = spawn_app_with(&flags).await;
    let second = app.another(&flags).await;
    app.create_finding("保留计数的问题", "ZJTZB").await;
    let stored = count(&app.db, STORED).await;
    assert!(stored >= 1);
    let (first, _) = total(&app, None).await;
    assert_eq!(first, stored);
    // Asked again with nothing changed: kept, so the count's statement is not run.
    let (again, kept) = total(&app, None).await;
    assert_eq!(again, stored);

    // A row changed behind the API's back is not counted while the count is kept: this is
    // what shows, below, that the count was kept rather than counted again.
    app.sql("UPDATE finding SET status = 'in_progress' WHERE title = '保留计数的问题'")
        .await;
    let audited = count(&app.db, "SELECT COUNT(*) FROM audit_event").await;
    unrelated_changes(&app, 1).await;
    assert!(
        count(&app.db, "SELECT COUNT(*) FROM audit_event").await >= audited + 4,
        "each change above is audited"
    );
    assert_eq!(total(&app, None).await, (stored, kept));
    // The same on the other instance, after changes made through either.
    let (there, _) = total(&app, Some(&second)).await;
    unrelated_changes(&app, 2).await;
    assert_eq!(total(&app, Some(&second)).await.0, there);
    assert_eq!(total(&app, None).await, (stored, kept));

    // A change to findings, made on the other instance, is counted on both, with the change
    // made behind the API's back.
    let created: Value = app
        .client
        .post(format!("{second}/graphql"))
        .bearer_auth(TestUser::manager("ZJTZB"))
        .json(&json!({
            "query": "mutation($i: CreateFindingInput!) { createFinding(input: $i) { id } }",
            "variables": {"i": {"inspectionId": "1", "title": "另一台服务器上的问题", "rectificationType": "IMMEDIATE", "departmentCode": "ZJTZB"}},
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(created.get("errors").is_none(), "{created}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let now = count(&app.db, STORED).await;
    assert_eq!(now, stored, "one finding left the status and one came in");
    app.sql("UPDATE finding SET status = 'in_progress' WHERE title = '另一台服务器上的问题'")
        .await;
    let now = count(&app.db, STORED).await;
    assert_eq!(now, stored - 1);
    let (recounted, statements) = total(&app, None).await;
    assert_eq!(recounted, now);
    assert_eq!(statements, kept + 1, "the count's statement ran once more");
    assert_eq!(total(&app, Some(&second)).await.0, now);
}

const SUMMARY: &str = "{ statusSummary { total notStarted inProgress pendingReview } }";

/// The admin's summary and the statements the request ran.
async fn summary(app: &TestApp) -> (Value, u64) {
    let before = app.sql_statements().await;
    let data = app.data(&TestUser::admin(), SUMMARY, json!({})).await;
    (
        data["statusSummary"].clone(),
        app.sql_statements().await - before,
    )
}

async fn add_entry(app: &TestApp, finding: &str, content: &str) {
    app.data(
        &TestUser::admin(),
        "mutation($f: ID!, $c: String!) { addProgressEntry(input: {findingId: $f, content: $c}) { id } }",
        json!({"f": finding, "c": content}),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
}

#[tokio::test]
async fn a_kept_summary_survives_ledger_entries_that_move_nothing_and_is_counted_again_after_a_start()
 {
    let app = spawn_app_with(&["--jwt-secret", SECRET, "--events-poll", "1h"]).await;
    let waiting = app.create_finding("尚未开始的问题", "ZJTZB").await;
    let working = app.create_finding("已在整改的问题", "ZJTZB").await;
    // The first work starts a finding.
    add_entry(&app, &working, "第一次进展").await;
    let (first, _) = summary(&app).await;
    let (again, kept) = summary(&app).await;
    assert_eq!(again, first);
    let not_started = count(
        &app.db,
        "SELECT COUNT(*) FROM finding WHERE status = 'not_started' AND archived_at IS NULL",
    )
    .await;
    assert_eq!(first["notStarted"].as_i64(), Some(not_started));

    // A change behind the API's back shows, below, whether the summary was kept.
    app.sql("UPDATE finding SET status = 'pending_review' WHERE title = '已在整改的问题'")
        .await;
    unrelated_changes(&app, 1).await;
    // Ledger entries on a finding already at work move nothing the summary counts.
    app.sql("UPDATE finding SET status = 'in_progress' WHERE title = '已在整改的问题'")
        .await;
    add_entry(&app, &working, "又一次进展").await;
    app.sql("UPDATE finding SET status = 'pending_review' WHERE title = '已在整改的问题'")
        .await;
    assert_eq!(summary(&app).await, (first.clone(), kept));

    // The first work on the waiting finding starts it: counted again, with the change made
    // behind the API's back.
    add_entry(&app, &waiting, "开始整改").await;
    let (recounted, statements) = summary(&app).await;
    assert_eq!(recounted["notStarted"].as_i64(), Some(not_started - 1));
    assert_eq!(
        recounted["inProgress"].as_i64(),
        first["inProgress"].as_i64(),
        "one finding started, the other sent for review behind the API's back"
    );
    assert_eq!(
        recounted["pendingReview"].as_i64(),
        first["pendingReview"].as_i64().map(|c| c + 1)
    );
    assert!(statements > kept, "the summary was computed again");
}

const MEASURES: &str = "{ measures(first: 1) { totalCount } }";
const PLANNED: &str = "SELECT COUNT(*) FROM measure WHERE archived_at IS NULL";

/// The count of measures the admin is shown, and the statements the request ran.
async fn planned(app: &TestApp) -> (i64, u64) {
    let before = app.sql_statements().await;
    let data = app.data(&TestUser::admin(), MEASURES, json!({})).await;
    (
        data["measures"]["totalCount"].as_i64().unwrap(),
        app.sql_statements().await - before,
    )
}

#[tokio::test]
async fn a_kept_count_of_measures_survives_ledger_entries_and_is_counted_again_after_a_change_to_findings()
 {
    let app = spawn_app_with(&["--jwt-secret", SECRET, "--events-poll", "1h"]).await;
    let working = app.create_finding("有进展的问题", "ZJTZB").await;
    add_entry(&app, &working, "开始整改").await;
    let stored = count(&app.db, PLANNED).await;
    assert!(stored >= 1, "the demo has measures");
    let (first, _) = planned(&app).await;
    assert_eq!(first, stored);
    let (_, kept) = planned(&app).await;

    // A change behind the API's back shows, below, whether the count was kept.
    app.sql("UPDATE measure SET archived_at = created_at WHERE id = (SELECT MIN(id) FROM measure WHERE archived_at IS NULL)")
        .await;
    unrelated_changes(&app, 1).await;
    add_entry(&app, &working, "又一次进展").await;
    assert_eq!(planned(&app).await, (stored, kept));

    // A finding's change may change what the count's scope reads: counted again.
    app.create_finding("又一个问题", "ZJTZB").await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(planned(&app).await.0, stored - 1);
}

//! Early warnings that reach people: a finding crossing into a level notifies the level's
//! audience once (inbox, subscription, webhook), however many instances and restarts see it.

use std::time::{Duration, Instant};

use chrono::{Days, Utc};
use serde_json::{Value, json};

use crate::helpers::{SECRET, TestApp, TestUser, count, error_code, spawn_app_with};
use crate::jwt;
use crate::ws_client::Ws;

fn named(name: &str, role: &str, dept: &str) -> String {
    jwt::hs256(
        SECRET.as_bytes(),
        &json!({"sub": format!("user-{name}"), "name": name, "role": role, "dept": dept, "exp": jwt::now() + 3600, "iat": jwt::now()}),
    )
}

/// Today in the server's zone (Asia/Shanghai by default) plus `days`.
fn day(days: i64) -> String {
    let today = (Utc::now() + chrono::Duration::hours(8)).date_naive();
    if days >= 0 {
        today.checked_add_days(Days::new(days as u64)).unwrap()
    } else {
        today.checked_sub_days(Days::new((-days) as u64)).unwrap()
    }
    .to_string()
}

async fn notifications_of(app: &TestApp, finding: &str) -> i64 {
    count(
        &app.db,
        &format!("SELECT COUNT(*) FROM notification WHERE finding_id = {finding}"),
    )
    .await
}

async fn wait_for(app: &TestApp, finding: &str, n: i64) {
    let started = Instant::now();
    while notifications_of(app, finding).await < n {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{n} notifications for {finding}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A server that raises warnings and polls the outbox often.
const ALERTS: [&str; 6] = [
    "--jwt-secret",
    SECRET,
    "--warning-alerts",
    "true",
    "--events-poll",
    "200ms",
];

const INBOX: &str = "query($u: Boolean! = false) { notifications(unreadOnly: $u) { totalCount nodes { id role level title body readAt finding { id } } } }";

#[tokio::test]
async fn a_crossing_notifies_its_audience_once_across_instances_and_restarts() {
    let flags = ALERTS;
    let app = spawn_app_with(&flags).await;
    let manager = TestUser::manager("ZJTZB");
    let mut ws = Ws::as_caller(&app.address, &TestUser::admin()).await;
    ws.subscribe(
        "w",
        "subscription { warningRaised { level deadline finding { id } measure { id } } }",
        json!({}),
    )
    .await;
    ws.send(json!({"type": "ping"})).await;
    assert_eq!(ws.next().await.unwrap()["type"], "pong");

    // Due in five days: YELLOW (within ten), for the responsible person and leader.
    let created = app
        .data(
            &manager,
            "mutation($i: CreateFindingInput!) { createFinding(input: $i) { id version } }",
            json!({"i": {"inspectionId": "1", "title": "会议记录不规范", "rectificationType": "IMMEDIATE",
                "departmentCode": "ZJTZB-BGS", "deadline": day(5), "responsiblePerson": "张三", "responsibleLeader": "李四"}}),
        )
        .await;
    let finding = created["createFinding"]["id"].as_str().unwrap().to_owned();
    wait_for(&app, &finding, 2).await;
    let raised = ws.data("w").await["warningRaised"].clone();
    assert_eq!(
        raised,
        json!({"level": "YELLOW", "deadline": day(5), "finding": {"id": finding}, "measure": null})
    );

    // Each person finds theirs in the inbox, in Chinese.
    let zhang = named("张三", "officer", "ZJTZB-BGS");
    let inbox = app.data(&zhang, INBOX, json!({})).await["notifications"].clone();
    assert_eq!(inbox["totalCount"], 1, "{inbox}");
    let mine = &inbox["nodes"][0];
    assert_eq!(mine["role"], "RESPONSIBLE_PERSON");
    assert_eq!(mine["level"], "YELLOW");
    assert_eq!(
        mine["title"],
        "【黄色预警】问题“会议记录不规范”距整改时限仅剩 5 天"
    );
    assert!(
        mine["body"]
            .as_str()
            .unwrap()
            .contains("提醒对象：责任人张三"),
        "{mine}"
    );
    assert_eq!(mine["finding"]["id"], finding);
    let li = named("李四", "manager", "ZJTZB");
    let theirs = app.data(&li, INBOX, json!({})).await["notifications"]["nodes"].clone();
    assert_eq!(theirs[0]["role"], "RESPONSIBLE_LEADER");
    // Someone else may not mark it read; its addressee may.
    let id = mine["id"].clone();
    let mark = "mutation($ids: [ID!]!) { markNotificationsRead(ids: $ids) { id readAt } }";
    let (_, body) = app
        .gql(
            Some(&named("王五", "officer", "ZJTZB-BGS")),
            mark,
            json!({"ids": [id]}),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    let read = app.data(&zhang, mark, json!({"ids": [id]})).await;
    assert!(read["markNotificationsRead"][0]["readAt"].is_string());
    let unread = app.data(&zhang, INBOX, json!({"u": true})).await;
    assert_eq!(unread["notifications"]["totalCount"], 0);

    // A second instance sweeps the same data at start-up, and this one checks again: nothing
    // is notified twice.
    let _second = app.another(&flags).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(notifications_of(&app, &finding).await, 2);
    assert_eq!(
        count(
            &app.db,
            &format!("SELECT COUNT(*) FROM warning_crossing WHERE finding_id = {finding}")
        )
        .await,
        1
    );

    // Moved to yesterday: a new crossing, RED, which also alerts the unit's principal leader.
    let version = created["createFinding"]["version"].as_i64().unwrap();
    app.data(
        &manager,
        "mutation($i: UpdateFindingInput!) { updateFinding(input: $i) { id } }",
        json!({"i": {"id": finding, "version": version, "deadline": day(-1)}}),
    )
    .await;
    wait_for(&app, &finding, 5).await;
    let raised = ws.data("w").await["warningRaised"].clone();
    assert_eq!(raised["level"], "RED");
    let roles = count(
        &app.db,
        &format!("SELECT COUNT(*) FROM notification WHERE finding_id = {finding} AND level = 'red' AND role = 'principal_leader'"),
    )
    .await;
    assert_eq!(roles, 1);
    let red: Value = app.data(&zhang, INBOX, json!({})).await["notifications"]["nodes"][0].clone();
    assert_eq!(red["title"], "【红色预警】问题“会议记录不规范”已逾期 1 天");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(notifications_of(&app, &finding).await, 5);
}

/// A change is checked for warnings only when it may write what the check reads (the finding
/// and its measures): a ledger entry is not (it cannot move a warning, and most writes are
/// ledger entries), a change to the finding is.
#[tokio::test]
async fn only_changes_that_can_move_a_warning_are_checked_again() {
    let flags = ALERTS;
    let app = spawn_app_with(&flags).await;
    let manager = TestUser::manager("ZJTZB");
    let created = app
        .data(
            &manager,
            "mutation($i: CreateFindingInput!) { createFinding(input: $i) { id version } }",
            json!({"i": {"inspectionId": "1", "title": "台账登记不完整", "rectificationType": "IMMEDIATE",
                "departmentCode": "ZJTZB-BGS", "deadline": day(5), "responsiblePerson": "张三", "responsibleLeader": "李四"}}),
        )
        .await;
    let finding = created["createFinding"]["id"].as_str().unwrap().to_owned();
    let version = created["createFinding"]["version"].as_i64().unwrap();
    wait_for(&app, &finding, 2).await;
    let sql = format!("SELECT COUNT(*) FROM warning_crossing WHERE finding_id = {finding}");
    let entry = "mutation($f: ID!, $c: String!) { addProgressEntry(input: {findingId: $f, content: $c}) { id } }";
    // The first work starts the finding (a change to it); the next entries only add to its ledger.
    app.data(
        &manager,
        entry,
        json!({"f": finding, "c": "已制定整改方案"}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(count(&app.db, &sql).await, 1);
    // The deadline moved behind the API's back: overdue now, not yet raised.
    app.sql(&format!(
        "UPDATE finding SET deadline = '{}' WHERE id = {finding}",
        day(-1)
    ))
    .await;
    app.data(
        &manager,
        entry,
        json!({"f": finding, "c": "已召开专题会议"}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        count(&app.db, &sql).await,
        1,
        "a ledger entry is not checked again"
    );
    // A change to the finding is, and raises what its state now calls for.
    app.data(
        &manager,
        "mutation($i: UpdateFindingInput!) { updateFinding(input: $i) { id } }",
        json!({"i": {"id": finding, "version": version + 1, "title": "台账登记不完整、不规范"}}),
    )
    .await;
    let started = Instant::now();
    while count(&app.db, &sql).await < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the change to the finding was not checked"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

//! Subscriptions over graphql-transport-ws: changes reach subscribers as they commit, only
//! those a subscriber may read, across instances and across reconnects; bad input gets the
//! protocol's answer.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{SECRET, TestUser, spawn_app, spawn_app_with};
use crate::jwt;
use crate::ws_client::Ws;

const CHANGED: &str = "subscription($f: FindingFilterInput, $after: ID) { findingChanged(filter: $f, after: $after) { eventId action entityType entityId finding { id title status } } }";

/// Waits until the server has started the subscription (its first event would otherwise race
/// the subscribe message): a harmless change is made and awaited.
async fn subscribed(ws: &mut Ws, id: &str, query: &str, variables: Value) {
    ws.subscribe(id, query, variables).await;
    // The subscribe message is handled before any later message of the same socket.
    ws.send(json!({"type": "ping"})).await;
    let pong = ws.next().await.expect("pong");
    assert_eq!(pong["type"], "pong", "{pong}");
}

#[tokio::test]
async fn changes_reach_every_subscriber_that_may_read_them_and_no_other() {
    let app = spawn_app().await;
    let office = app.create_finding("办公室问题", "ZJTZB-BGS").await;
    let cadre = app.create_finding("干部科问题", "ZJTZB-GBK").await;

    let mut admin = Ws::as_caller(&app.address, &TestUser::admin()).await;
    let mut bgs = Ws::as_caller(&app.address, &TestUser::officer("ZJTZB-BGS")).await;
    let mut gbk = Ws::as_caller(&app.address, &TestUser::officer("ZJTZB-GBK")).await;
    let mut closed_only = Ws::as_caller(&app.address, &TestUser::admin()).await;
    for ws in [&mut admin, &mut bgs, &mut gbk] {
        subscribed(ws, "1", CHANGED, json!({})).await;
    }
    subscribed(
        &mut closed_only,
        "1",
        CHANGED,
        json!({"f": {"status": ["CLOSED"]}}),
    )
    .await;

    app.retitle(&office, "办公室问题（修改）").await;
    app.retitle(&cadre, "干部科问题（修改）").await;

    // The admin sees both, in commit order.
    let first = admin.data("1").await["findingChanged"].clone();
    assert_eq!(first["action"], "finding.update");
    assert_eq!(first["entityType"], "finding");
    assert_eq!(first["entityId"], office);
    assert_eq!(first["finding"]["id"], office);
    assert_eq!(first["finding"]["title"], "办公室问题（修改）");
    let second = admin.data("1").await["findingChanged"].clone();
    assert_eq!(second["finding"]["id"], cadre);
    let ids = |v: &Value| v["eventId"].as_str().unwrap().parse::<i64>().unwrap();
    assert!(ids(&second) > ids(&first));

    // Each officer sees only the finding of their own section: its first event is its own.
    let seen = bgs.data("1").await["findingChanged"].clone();
    assert_eq!(seen["finding"]["id"], office);
    let seen = gbk.data("1").await["findingChanged"].clone();
    assert_eq!(seen["finding"]["id"], cadre);
    assert!(bgs.quiet_for(Duration::from_millis(800)).await);
    assert!(gbk.quiet_for(Duration::from_millis(300)).await);
    // The filter is a list's filter: neither finding is closed.
    assert!(closed_only.quiet_for(Duration::from_millis(300)).await);

    // A measure and a ledger entry are changes of their finding.
    app.data(
        &TestUser::manager("ZJTZB"),
        "mutation($i: AddProgressEntryInput!) { addProgressEntry(input: $i) { id } }",
        json!({"i": {"findingId": office, "kind": "COMMENT", "content": "已约谈相关责任人"}}),
    )
    .await;
    let mut actions = Vec::new();
    while !actions.contains(&"progress_entry.create".to_owned()) {
        let change = bgs.data("1").await["findingChanged"].clone();
        assert_eq!(change["finding"]["id"], office);
        actions.push(change["action"].as_str().unwrap().to_owned());
    }
}

#[tokio::test]
async fn a_subscriber_that_reconnects_after_an_event_gets_what_it_missed() {
    let app = spawn_app().await;
    let finding = app.create_finding("待整改问题", "ZJTZB-BGS").await;
    let admin = TestUser::admin();
    let mut ws = Ws::as_caller(&app.address, &admin).await;
    subscribed(&mut ws, "a", CHANGED, json!({})).await;
    app.retitle(&finding, "第一次").await;
    let seen = ws.data("a").await["findingChanged"]["eventId"]
        .as_str()
        .unwrap()
        .to_owned();
    drop(ws);

    // Two changes while away.
    app.retitle(&finding, "第二次").await;
    app.retitle(&finding, "第三次").await;

    let mut again = Ws::as_caller(&app.address, &admin).await;
    again.subscribe("b", CHANGED, json!({"after": seen})).await;
    let missed: Vec<Value> = vec![
        again.data("b").await["findingChanged"].clone(),
        again.data("b").await["findingChanged"].clone(),
    ];
    // Both missed events, in order (the finding is read as it is now).
    let ids: Vec<i64> = missed
        .iter()
        .map(|m| m["eventId"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(
        ids[0] > seen.parse::<i64>().unwrap() && ids[1] > ids[0],
        "{ids:?}"
    );
    assert!(missed.iter().all(|m| m["action"] == "finding.update"));
    assert!(missed.iter().all(|m| m["finding"]["title"] == "第三次"));
    // Then live events.
    app.retitle(&finding, "第四次").await;
    let live = again.data("b").await["findingChanged"].clone();
    assert_eq!(live["finding"]["title"], "第四次");
    assert!(live["eventId"].as_str().unwrap().parse::<i64>().unwrap() > ids[1]);
}

#[tokio::test]
async fn a_change_made_on_one_instance_reaches_a_subscriber_on_another() {
    let app = spawn_app().await;
    if !app.test_db.is_postgres() {
        // One SQLite file is one process's database; instances share a PostgreSQL one.
        return;
    }
    let other = app.another(&["--jwt-secret", SECRET]).await;
    let finding = app.create_finding("跨实例问题", "ZJTZB-BGS").await;
    let mut on_b = Ws::as_caller(&other, &TestUser::admin()).await;
    subscribed(&mut on_b, "x", CHANGED, json!({})).await;
    // Made through A, delivered by B (woken by NOTIFY; read from the shared outbox).
    let started = std::time::Instant::now();
    app.retitle(&finding, "经由实例甲修改").await;
    let change = on_b.data("x").await["findingChanged"].clone();
    assert_eq!(change["finding"]["title"], "经由实例甲修改");
    // Well under the poll interval's few seconds of fallback: the notification woke B.
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn the_token_goes_in_connection_init_as_each_client_sends_it() {
    let app = spawn_app().await;
    let token = TestUser::viewer(None);
    for payload in [
        json!({"Authorization": format!("Bearer {token}")}),
        json!({"authorization": format!("Bearer {token}")}),
        json!({"headers": {"Authorization": format!("Bearer {token}")}}),
        json!({"headers": {"authorization": token}}),
    ] {
        let mut ws = Ws::connected(&app.address, payload.clone()).await;
        subscribed(&mut ws, "1", CHANGED, json!({})).await;
    }
    // The upgrade request's own header also serves.
    let mut ws = Ws::open_with(
        &app.address,
        &[("authorization", &format!("Bearer {token}"))],
    )
    .await;
    ws.send(json!({"type": "connection_init"})).await;
    assert_eq!(ws.next().await.unwrap()["type"], "connection_ack");
}

#[tokio::test]
async fn refused_sockets_get_the_protocols_close_codes() {
    let app = spawn_app_with(&[
        "--jwt-secret",
        SECRET,
        "--ws-init-timeout",
        "1s",
        "--ws-max-sockets",
        "2",
        "--ws-max-subscriptions",
        "2",
    ])
    .await;
    let address = &app.address;
    let close = |code: u16| code;

    // A token that is not valid: 4403 Forbidden.
    let mut ws = Ws::open(address).await;
    ws.send(json!({"type": "connection_init", "payload": {"Authorization": "Bearer not.a.token"}}))
        .await;
    assert_eq!(ws.closed_with().await, close(4403));
    // No token at all: 4403 too (subscriptions are for signed-in callers).
    let mut ws = Ws::open(address).await;
    ws.send(json!({"type": "connection_init", "payload": {}}))
        .await;
    assert_eq!(ws.closed_with().await, 4403);
    // No connection_init in time: 4408.
    let mut ws = Ws::open(address).await;
    assert_eq!(ws.closed_with().await, 4408);
    // A subscribe before the ack: 4401 Unauthorized.
    let mut ws = Ws::open(address).await;
    ws.subscribe("1", CHANGED, json!({})).await;
    assert_eq!(ws.closed_with().await, 4401);
    // Not JSON, or not a protocol message: 4400.
    let mut ws = Ws::as_caller(address, &TestUser::admin()).await;
    ws.send_text("{not json").await;
    assert_eq!(ws.closed_with().await, 4400);
    let mut ws = Ws::as_caller(address, &TestUser::admin()).await;
    ws.send(json!({"type": "launch_missiles"})).await;
    assert_eq!(ws.closed_with().await, 4400);
    // A second connection_init: 4429.
    let mut ws = Ws::as_caller(address, &TestUser::admin()).await;
    ws.send(json!({"type": "connection_init", "payload": {}}))
        .await;
    assert_eq!(ws.closed_with().await, 4429);

    // Two subscriptions per socket: the third gets the protocol's error message with a code,
    // and the socket stays open; the same id twice closes it (4409).
    let mut ws = Ws::as_caller(address, &TestUser::admin()).await;
    subscribed(&mut ws, "1", CHANGED, json!({})).await;
    subscribed(&mut ws, "2", CHANGED, json!({})).await;
    ws.subscribe("3", CHANGED, json!({})).await;
    let refused = ws.next().await.unwrap();
    assert_eq!(refused["type"], "error");
    assert_eq!(refused["id"], "3");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"],
        "TOO_MANY_SUBSCRIPTIONS"
    );
    // Completing one makes room.
    ws.send(json!({"id": "2", "type": "complete"})).await;
    subscribed(&mut ws, "3", CHANGED, json!({})).await;
    ws.subscribe("1", CHANGED, json!({})).await;
    assert_eq!(ws.closed_with().await, 4409);

    // A bad operation is the operation's error, not the socket's.
    let mut ws = Ws::as_caller(address, &TestUser::admin()).await;
    ws.subscribe("q", "subscription { findingChanged { nope } }", json!({}))
        .await;
    let error = ws.next().await.unwrap();
    assert_eq!(error["type"], "error", "{error}");
    assert_eq!(
        error["payload"][0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );
    ws.subscribe("r", CHANGED, json!({"after": "-5"})).await;
    let error = ws.next().await.unwrap();
    assert_eq!(error["type"], "error", "{error}");
    assert_eq!(
        error["payload"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{error}"
    );
    // An error ends the operation: no `complete` follows, and the socket goes on.
    ws.send(json!({"type": "ping"})).await;
    assert_eq!(ws.next().await.unwrap()["type"], "pong");

    // Two sockets per caller (two held open): the third is closed with 4429.
    let token = TestUser::viewer(None);
    let _one = Ws::as_caller(address, &token).await;
    let _two = Ws::as_caller(address, &token).await;
    let mut three = Ws::open(address).await;
    three
        .send(json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}}))
        .await;
    assert_eq!(three.closed_with().await, 4429);
    drop(_one);
    // Once one closes, there is room again.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _again = Ws::as_caller(address, &token).await;
}

#[tokio::test]
async fn a_socket_closes_when_its_token_expires() {
    let app = spawn_app().await;
    let claims = json!({
        "sub": "short-lived",
        "name": "Short",
        "role": "viewer",
        "exp": jwt::now() + 2,
        "iat": jwt::now(),
    });
    let token = jwt::hs256(SECRET.as_bytes(), &claims);
    let mut ws = Ws::as_caller(&app.address, &token).await;
    subscribed(&mut ws, "1", CHANGED, json!({})).await;
    let started = std::time::Instant::now();
    assert_eq!(ws.closed_with().await, 4403);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn queries_ping_and_report_events_work_over_the_socket() {
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    let mut ws = Ws::as_caller(&app.address, &manager).await;
    // A query over the socket: one result, then complete.
    ws.subscribe("q", "{ me { role } }", json!({})).await;
    assert_eq!(ws.data("q").await["me"]["role"], "MANAGER");
    assert_eq!(
        ws.next().await.unwrap(),
        json!({"id": "q", "type": "complete"})
    );
    // Ping with a payload.
    ws.send(json!({"type": "ping", "payload": {"at": 1}})).await;
    assert_eq!(ws.next().await.unwrap()["type"], "pong");

    // A submitted report reaches its unit's managers, not another unit's.
    let mut other = Ws::as_caller(&app.address, &TestUser::manager("ZJTZB-BGS")).await;
    let query = "subscription { reportSubmitted { eventId status report { id status } } }";
    subscribed(&mut ws, "r", query, json!({})).await;
    subscribed(&mut other, "r", query, json!({})).await;
    let generated = app
        .data(
            &manager,
            "mutation { generateReport(inspectionId: \"1\") { id } }",
            json!({}),
        )
        .await;
    let id = generated["generateReport"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.data(
        &manager,
        "mutation($id: ID!) { submitReport(id: $id) { status } }",
        json!({"id": id}),
    )
    .await;
    let event = ws.data("r").await["reportSubmitted"].clone();
    assert_eq!(event["status"], "SUBMITTED");
    assert_eq!(event["report"]["id"], id);
    assert_eq!(event["report"]["status"], "SUBMITTED");
    assert!(other.quiet_for(Duration::from_millis(800)).await);
}

/// The graphql-ws library's own client (`tests/browser/subscriptions.mjs`): it authenticates
/// with connectionParams, is closed with 4403 when its token expires, reconnects with a fresh
/// token and goes on receiving; a bad token is refused with 4403.
#[tokio::test]
async fn the_graphql_ws_client_subscribes_reconnects_at_expiry_and_is_refused_a_bad_token() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    if !dir.join("node_modules/graphql-ws").exists() {
        assert!(
            std::env::var("RECTRACK_BROWSER_TESTS").as_deref() != Ok("required"),
            "the graphql-ws client is required: run `npm ci` in tests/browser"
        );
        eprintln!("note: graphql-ws client test skipped (run `npm ci` in tests/browser)");
        return;
    }
    let app = spawn_app().await;
    let finding = app.create_finding("客户端订阅的问题", "ZJTZB-BGS").await;
    let short = jwt::hs256(
        SECRET.as_bytes(),
        &json!({"sub": "front-end", "role": "manager", "dept": "ZJTZB", "exp": jwt::now() + 3, "iat": jwt::now()}),
    );
    let fresh = TestUser::manager("ZJTZB");
    let mut command = std::process::Command::new("node");
    command.arg(dir.join("subscriptions.mjs")).args([
        app.address.as_str(),
        finding.as_str(),
        short.as_str(),
        fresh.as_str(),
        "not-a-token",
    ]);
    let output = tokio::task::spawn_blocking(move || command.output().expect("node runs"))
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|_| panic!("{stdout}\n{}", String::from_utf8_lossy(&output.stderr)));
    assert!(output.status.success(), "{report}");
    assert_eq!(report["closed"][0], 4403, "{report}");
    assert!(report["connected"].as_i64().unwrap() >= 2, "{report}");
    let events = report["events"].as_array().unwrap();
    assert!(
        events
            .iter()
            .all(|e| e["finding"]["id"] == finding && e["action"] == "finding.update")
    );
    assert!(events.iter().any(|e| e["connection"] == 1), "{report}");
    assert!(events.iter().any(|e| e["connection"] == 2), "{report}");
    assert_eq!(report["refused"], 4403, "{report}");
}

/// Every subscription the schema serves, generated from introspection (a field added later is
/// swept without editing this test): changes in one section, a warning raised there and a unit
/// report submitted reach the admin on each, and nothing reaches an officer of another section.
#[tokio::test]
async fn every_subscription_tells_only_those_who_may_read() {
    let app = spawn_app_with(&["--jwt-secret", SECRET, "--warning-alerts", "true"]).await;
    let fields = app
        .data(
            &TestUser::admin(),
            "{ __schema { subscriptionType { fields { name } } } }",
            json!({}),
        )
        .await["__schema"]["subscriptionType"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    assert!(fields.len() >= 3, "{fields:?}");
    let mut admin = Ws::as_caller(&app.address, &TestUser::admin()).await;
    let mut outsider = Ws::as_caller(&app.address, &TestUser::officer("ZJTZB-GBK")).await;
    for field in &fields {
        let query = format!("subscription {{ {field} {{ eventId }} }}");
        subscribed(&mut admin, field, &query, json!({})).await;
        subscribed(&mut outsider, field, &query, json!({})).await;
    }

    // A finding of the office due in five days (a change and a YELLOW warning), and a report
    // of the unit submitted.
    let manager = TestUser::manager("ZJTZB");
    let soon = (chrono::Utc::now() + chrono::Duration::days(5))
        .date_naive()
        .to_string();
    let created = app.data(
        &manager,
        "mutation($i: CreateFindingInput!) { createFinding(input: $i) { id } }",
        json!({"i": {"inspectionId": "1", "title": "仅办公室可见", "rectificationType": "IMMEDIATE", "departmentCode": "ZJTZB-BGS", "deadline": soon, "responsiblePerson": "张三"}}),
    )
    .await;
    // A supervision order (督办单) about it, for the supervision subscription.
    app.data(
        &TestUser::inspector(),
        "mutation($i: IssueSupervisionOrderInput!) { issueSupervisionOrder(input: $i) { id } }",
        json!({"i": {"findingIds": [created["createFinding"]["id"]], "level": "GENERAL", "requirement": "请报送整改情况", "replyDeadline": soon}}),
    )
    .await;
    let report = app
        .data(
            &manager,
            "mutation { generateReport(inspectionId: \"1\") { id } }",
            json!({}),
        )
        .await["generateReport"]["id"]
        .clone();
    app.data(
        &manager,
        "mutation($id: ID!) { submitReport(id: $id) { status } }",
        json!({"id": report}),
    )
    .await;

    let mut told: Vec<String> = Vec::new();
    while told.len() < fields.len() {
        let message = admin.next().await.expect("the admin's socket stays open");
        assert_eq!(message["type"], "next", "{message}");
        let id = message["id"].as_str().unwrap().to_owned();
        if !told.contains(&id) {
            told.push(id);
        }
    }
    assert!(outsider.quiet_for(Duration::from_millis(1500)).await);
}

//! Webhooks that survive an outage, as the established senders do (Svix disables an endpoint
//! only when every attempt to it has failed for 5 days): a receiver down during a burst of
//! changes fails many attempts in seconds, yet stays enabled and receives every message once it
//! is back; only failing continuously for the configured time, with no delivery in between,
//! disables it. The first failure of a run and the disabling are told to the administrators,
//! and every undelivered message is kept and sent when the endpoint is enabled again.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, spawn_app_with};
use crate::webhooks::{Receiver, fast, register};

const ENDPOINT: &str = "{ webhookEndpoints { nodes { id enabled version consecutiveFailures failingSince disabledReason deliveries(first: 100) { totalCount nodes { status lastError } } } } }";
const NOTICES: &str = "{ webhookNotices { nodes { kind title body endpoint { id } } } }";

/// A loopback address nobody listens on (yet).
fn dead_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

async fn endpoint(app: &TestApp) -> Value {
    app.data(&TestUser::admin(), ENDPOINT, json!({})).await["webhookEndpoints"]["nodes"][0].clone()
}

/// Polls the endpoint until `done` holds of it.
async fn endpoint_when(app: &TestApp, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    loop {
        let node = endpoint(app).await;
        if done(&node) {
            return node;
        }
        assert!(
            started.elapsed() < Duration::from_secs(40),
            "{what}: {node}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn notice_kinds(app: &TestApp) -> Vec<Value> {
    let data = app.data(&TestUser::admin(), NOTICES, json!({})).await;
    data["webhookNotices"]["nodes"].as_array().unwrap().clone()
}

fn statuses(node: &Value) -> Vec<&str> {
    node["deliveries"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["status"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_receiver_down_during_a_burst_stays_enabled_and_gets_every_message_when_back() {
    let app = spawn_app_with(&fast()).await;
    let address = dead_address();
    let (id, _) = register(&app, json!({"url": format!("http://{address}/hook")})).await;
    let finding = app.create_finding("停机期间的变更", "ZJTZB-BGS").await;
    for n in 0..31 {
        app.retitle(&finding, &format!("停机期间的变更（{n}）"))
            .await;
    }
    // 32 messages, each retried: far more failed attempts than the 50 that used to disable
    // an endpoint, within seconds, and it stays enabled.
    let node = endpoint_when(&app, "more than 60 failed attempts", |node| {
        assert_eq!(node["enabled"], true, "{node}");
        node["consecutiveFailures"].as_i64().unwrap() > 60
    })
    .await;
    assert!(node["failingSince"].is_string(), "{node}");
    assert_eq!(node["disabledReason"], Value::Null);
    // A failed attempt reads in the reader's language.
    let failed = node["deliveries"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| !d["lastError"].is_null())
        .unwrap()
        .clone();
    assert_eq!(failed["lastError"], "未送达", "{node}");
    let (_, english) = app
        .gql_in("en", Some(&TestUser::admin()), ENDPOINT, json!({}))
        .await;
    let said: Vec<&Value> = english["data"]["webhookEndpoints"]["nodes"][0]["deliveries"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["lastError"])
        .filter(|e| !e.is_null())
        .collect();
    assert!(
        !said.is_empty() && said.iter().all(|e| *e == "not delivered"),
        "{said:?}"
    );
    // The administrators were told once that deliveries are failing, not once per attempt.
    let notices = notice_kinds(&app).await;
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!(notices[0]["kind"], "FAILING");
    assert_eq!(notices[0]["endpoint"]["id"], id);
    assert!(
        notices[0]["title"].as_str().unwrap().contains("投递失败"),
        "{notices:?}"
    );
    assert!(
        notices[0]["body"].as_str().unwrap().contains("5 天"),
        "{notices:?}"
    );

    // The receiver comes back on its port: every message arrives, and the endpoint is healthy.
    let receiver = Receiver::default();
    receiver.start_at(&address).await;
    let delivered = receiver.wait_delivered(32).await;
    assert_eq!(delivered.len(), 32);
    let node = endpoint_when(&app, "every delivery recorded", |node| {
        node["deliveries"]["totalCount"] == 32 && statuses(node).iter().all(|s| *s == "DELIVERED")
    })
    .await;
    assert_eq!(node["enabled"], true);
    assert_eq!(node["consecutiveFailures"], 0);
    assert_eq!(node["failingSince"], Value::Null);
    assert_eq!(notice_kinds(&app).await.len(), 1);
}

#[tokio::test]
async fn failing_continuously_past_the_set_time_disables_tells_the_admins_and_keeps_every_message()
{
    let mut flags = fast();
    flags.extend([
        "--webhook-disable-after",
        "2s",
        "--webhook-max-attempts",
        "6",
    ]);
    let app = spawn_app_with(&flags).await;
    let address = dead_address();
    let (id, _) = register(&app, json!({"url": format!("http://{address}/hook")})).await;
    let started = Instant::now();
    let finding = app.create_finding("接收端长期失联", "ZJTZB-BGS").await;
    app.retitle(&finding, "接收端长期失联（一）").await;
    app.retitle(&finding, "接收端长期失联（二）").await;
    let node = endpoint_when(&app, "disabled", |node| node["enabled"] == false).await;
    // Not before the set time of continuous failure.
    assert!(started.elapsed() >= Duration::from_secs(2));
    assert!(
        node["disabledReason"]
            .as_str()
            .unwrap()
            .contains("持续投递失败"),
        "{node}"
    );
    // Told: first that deliveries fail, then that it is disabled (newest first).
    let notices = notice_kinds(&app).await;
    let kinds: Vec<&Value> = notices.iter().map(|n| &n["kind"]).collect();
    assert_eq!(
        kinds,
        [&json!("DISABLED"), &json!("FAILING")],
        "{notices:?}"
    );
    assert!(notices.iter().all(|n| n["endpoint"]["id"] == id));
    assert!(
        notices[0]["title"].as_str().unwrap().contains("已自动停用"),
        "{notices:?}"
    );
    assert!(
        notices[0]["body"].as_str().unwrap().contains("2 秒"),
        "{notices:?}"
    );
    let audit = app
        .data(
            &TestUser::admin(),
            "query($f: AuditFilterInput) { auditLog(filter: $f) { nodes { actorRole entityId } } }",
            json!({"f": {"action": "webhook_endpoint.disable"}}),
        )
        .await;
    assert_eq!(
        audit["auditLog"]["nodes"],
        json!([{"actorRole": "system", "entityId": id}])
    );

    // A change while it is disabled is kept for it too, and nothing is sent meanwhile.
    app.retitle(&finding, "接收端长期失联（三）").await;
    let receiver = Receiver::default();
    receiver.start_at(&address).await;
    let node = endpoint_when(&app, "four messages kept", |node| {
        node["deliveries"]["totalCount"] == 4
    })
    .await;
    assert!(statuses(&node).iter().all(|s| *s != "DELIVERED"), "{node}");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(receiver.received().is_empty());

    // Enabled again: the waiting messages go out, and a replay sends any given up.
    let enabled = app
        .data(
            &TestUser::admin(),
            "mutation($id: ID!, $v: Int!) { updateWebhookEndpoint(id: $id, version: $v, input: {enabled: true}) { enabled failingSince consecutiveFailures } }",
            json!({"id": id, "v": node["version"]}),
        )
        .await;
    assert_eq!(
        enabled["updateWebhookEndpoint"],
        json!({"enabled": true, "failingSince": null, "consecutiveFailures": 0})
    );
    app.data(
        &TestUser::admin(),
        "mutation($e: ID!) { replayWebhookDeliveries(endpointId: $e, failedOnly: true) }",
        json!({"e": id}),
    )
    .await;
    let delivered = receiver.wait_delivered(4).await;
    assert_eq!(delivered.len(), 4);
    let node = endpoint_when(&app, "every delivery recorded", |node| {
        statuses(node).iter().all(|s| *s == "DELIVERED")
    })
    .await;
    assert_eq!(node["deliveries"]["totalCount"], 4);
    assert_eq!(node["enabled"], true);
}

//! Outbound webhooks against receivers on loopback (which the servers here allow-list, as a
//! unit lists its intranet receivers): signed as Standard Webhooks, delivered at least once
//! through failures, timeouts and a killed server, within the endpoint's reach, and an
//! endpoint that keeps failing is disabled.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::{SECRET, TestApp, TestDb, TestUser, error_code, spawn_app_with};

/// What the receiver does with one request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Answer {
    Ok,
    Fail,
    /// Answers only after this long (past the sender's timeout).
    Hang(Duration),
    /// Answers 2xx after this long (within the sender's timeout).
    Slow(Duration),
}

/// One request as the receiver saw it.
#[derive(Clone, Debug)]
pub struct Received {
    pub id: String,
    timestamp: String,
    signature: String,
    pub body: String,
    answered: Answer,
}

#[derive(Default)]
struct Script {
    /// Answers for the next requests, in order; then `then`.
    next: VecDeque<Answer>,
    then: Option<Answer>,
    received: Vec<Received>,
}

#[derive(Clone, Default)]
pub struct Receiver(Arc<Mutex<Script>>);

impl Receiver {
    /// Listens on a free loopback port; returns its URL.
    pub async fn start(&self) -> String {
        self.start_at("127.0.0.1:0").await
    }

    /// Listens at `address` (a receiver coming back on the port it had); returns its URL.
    pub async fn start_at(&self, address: &str) -> String {
        let listener = tokio::net::TcpListener::bind(address).await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(self.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    fn script(&self, next: &[Answer], then: Answer) {
        let mut s = self.0.lock().unwrap();
        s.next = next.iter().copied().collect();
        s.then = Some(then);
    }

    pub fn received(&self) -> Vec<Received> {
        self.0.lock().unwrap().received.clone()
    }

    /// The ids answered 2xx.
    fn delivered(&self) -> Vec<String> {
        self.received()
            .into_iter()
            .filter(|r| matches!(r.answered, Answer::Ok | Answer::Slow(_)))
            .map(|r| r.id)
            .collect()
    }

    /// Waits until `n` distinct messages were delivered.
    pub async fn wait_delivered(&self, n: usize) -> Vec<String> {
        let started = Instant::now();
        loop {
            let mut ids = self.delivered();
            ids.sort();
            ids.dedup();
            if ids.len() >= n {
                return ids;
            }
            assert!(
                started.elapsed() < Duration::from_secs(40),
                "only {} of {n} delivered: {:?}",
                ids.len(),
                self.received()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: String) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let answer = {
        let mut s = receiver.0.lock().unwrap();
        let answer = s.next.pop_front().or(s.then).unwrap_or(Answer::Ok);
        s.received.push(Received {
            id: header("webhook-id"),
            timestamp: header("webhook-timestamp"),
            signature: header("webhook-signature"),
            body,
            answered: answer,
        });
        answer
    };
    match answer {
        Answer::Ok => StatusCode::NO_CONTENT,
        Answer::Fail => StatusCode::INTERNAL_SERVER_ERROR,
        Answer::Hang(wait) | Answer::Slow(wait) => {
            tokio::time::sleep(wait).await;
            StatusCode::OK
        }
    }
}

/// Verifies a Standard Webhooks signature as a receiver does.
fn verified(secret: &str, r: &Received) -> bool {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.{}", r.id, r.timestamp, r.body).as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    r.signature
        .split(' ')
        .any(|s| s.strip_prefix("v1,") == Some(expected.as_str()))
}

pub const CREATE: &str = "mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { secret endpoint { id url eventTypes enabled version } } }";

pub async fn register(app: &TestApp, input: Value) -> (String, String) {
    let created = app
        .data(&TestUser::admin(), CREATE, json!({"i": input}))
        .await["createWebhookEndpoint"]
        .clone();
    (
        created["endpoint"]["id"].as_str().unwrap().to_owned(),
        created["secret"].as_str().unwrap().to_owned(),
    )
}

/// Flags of a server that delivers quickly to receivers on 127.0.0.1.
pub fn fast() -> Vec<&'static str> {
    vec![
        "--jwt-secret",
        SECRET,
        "--webhook-allow",
        "127.0.0.1",
        "--webhook-backoff",
        "200ms",
        "--webhook-backoff-max",
        "1s",
        "--webhook-timeout",
        "1s",
        "--events-poll",
        "200ms",
    ]
}

#[tokio::test]
async fn deliveries_are_signed_retried_through_failures_and_timeouts_and_logged() {
    let app = spawn_app_with(&fast()).await;
    let receiver = Receiver::default();
    // The first attempt fails, the second times out, everything after succeeds.
    receiver.script(
        &[Answer::Fail, Answer::Hang(Duration::from_secs(3))],
        Answer::Ok,
    );
    let url = receiver.start().await;
    let created = app
        .data(&TestUser::admin(), CREATE, json!({"i": {"url": url}}))
        .await["createWebhookEndpoint"]
        .clone();
    let endpoint = created["endpoint"]["id"].as_str().unwrap().to_owned();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(
        created["endpoint"]["eventTypes"],
        json!([
            "finding.changed",
            "warning.raised",
            "report.submitted",
            "report.published",
            "supervision.issued",
            "supervision.replied",
            "supervision.accepted",
            "supervision.returned",
            "supervision.reminded",
            "supervision.overdue",
            "feedback.received"
        ])
    );
    // The secret is shown once: the endpoint itself has no field for it.
    let (_, body) = app
        .gql(
            Some(&TestUser::admin()),
            "{ webhookEndpoints { nodes { secret } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        error_code(&body),
        Some("GRAPHQL_VALIDATION_FAILED"),
        "{body}"
    );

    let finding = app.create_finding("推送测试问题", "ZJTZB-BGS").await;
    for title in ["一", "二", "三"] {
        app.retitle(&finding, title).await;
    }
    // The creation and three updates: four messages.
    let delivered = receiver.wait_delivered(4).await;
    assert_eq!(delivered.len(), 4, "{delivered:?}");
    let received = receiver.received();
    for r in &received {
        assert!(verified(&secret, r), "signature of {r:?}");
        let body: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["type"], "finding.changed");
        assert_eq!(body["data"]["finding"]["id"], finding);
        assert!(body["timestamp"].as_str().unwrap().ends_with('Z'));
    }
    // At least once, and twice only when retried: an id seen again was failed or timed out
    // before, and each id was answered 2xx exactly once.
    let mut seen: HashMap<&str, Vec<Answer>> = HashMap::new();
    for r in &received {
        seen.entry(&r.id).or_default().push(r.answered);
    }
    for (id, answers) in &seen {
        assert_eq!(
            answers.iter().filter(|a| **a == Answer::Ok).count(),
            1,
            "{id}: {answers:?}"
        );
        assert_eq!(answers.last(), Some(&Answer::Ok), "{id}: {answers:?}");
    }
    assert_eq!(received.len(), 6, "two retries: {received:?}");

    // The delivery log says the same, per delivery, once the sender has recorded the last
    // answer (the receiver sees a request before the sender writes down how it went).
    let started = Instant::now();
    let log = loop {
        let log = app
            .data(
                &TestUser::admin(),
                "{ webhookEndpoints { nodes { id consecutiveFailures deliveries { totalCount nodes { id messageId status attempts lastError lastStatus deliveredAt } } } } }",
                json!({}),
            )
            .await;
        let recorded = log["webhookEndpoints"]["nodes"][0]["deliveries"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["status"] == "DELIVERED");
        if recorded || started.elapsed() > Duration::from_secs(20) {
            break log;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let node = &log["webhookEndpoints"]["nodes"][0];
    assert_eq!(node["id"], endpoint);
    assert_eq!(node["consecutiveFailures"], 0);
    let deliveries = node["deliveries"]["nodes"].as_array().unwrap();
    assert_eq!(deliveries.len(), 4);
    assert!(
        deliveries
            .iter()
            .all(|d| d["status"] == "DELIVERED" && d["lastError"].is_null())
    );
    let attempts: i64 = deliveries
        .iter()
        .map(|d| d["attempts"].as_i64().unwrap())
        .sum();
    assert_eq!(attempts, 6);

    // A replay sends a delivery again under its own webhook-id.
    let first = deliveries.last().unwrap();
    let replayed = app
        .data(
            &TestUser::admin(),
            "mutation($e: ID!, $d: [ID!]) { replayWebhookDeliveries(endpointId: $e, deliveryIds: $d) }",
            json!({"e": endpoint, "d": [first["id"]]}),
        )
        .await;
    assert_eq!(replayed["replayWebhookDeliveries"], 1);
    let started = Instant::now();
    while receiver.received().len() < 7 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the replay arrives"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        receiver.received().last().unwrap().id,
        first["messageId"].as_str().unwrap()
    );
}

#[tokio::test]
async fn an_endpoint_learns_only_of_its_reach_and_its_event_types() {
    let app = spawn_app_with(&fast()).await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    register(
        &app,
        json!({"url": url, "departmentCode": "ZJTZB-GBK", "eventTypes": ["finding.changed"]}),
    )
    .await;
    let office = app.create_finding("办公室的问题", "ZJTZB-BGS").await;
    let cadre = app.create_finding("干部科的问题", "ZJTZB-GBK").await;
    app.retitle(&office, "办公室的问题（改）").await;
    app.retitle(&cadre, "干部科的问题（改）").await;
    receiver.wait_delivered(2).await;
    // Let anything else that would come arrive.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let findings: Vec<Value> = receiver
        .received()
        .iter()
        .map(|r| serde_json::from_str::<Value>(&r.body).unwrap()["data"]["finding"]["id"].clone())
        .collect();
    assert_eq!(findings, vec![json!(cadre), json!(cadre)]);

    // Bad input is named; only administrators manage endpoints.
    for (input, field) in [
        (json!({"url": "ftp://example.org/x"}), "url"),
        (json!({"url": "not a url"}), "url"),
        (
            json!({"url": "http://127.0.0.1:9/x", "eventTypes": ["finding.deleted"]}),
            "eventTypes",
        ),
        (
            json!({"url": "http://127.0.0.1:9/x", "secret": "hunter2"}),
            "secret",
        ),
        (
            json!({"url": "http://127.0.0.1:9/x", "departmentCode": "NOPE"}),
            "departmentCode",
        ),
    ] {
        let (_, body) = app
            .gql(Some(&TestUser::admin()), CREATE, json!({"i": input}))
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    let (_, body) = app
        .gql(
            Some(&TestUser::manager("ZJTZB")),
            CREATE,
            json!({"i": {"url": url}}),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
}

#[tokio::test]
async fn an_endpoint_that_keeps_failing_is_disabled_and_that_is_audited() {
    let mut flags = fast();
    flags.extend(["--webhook-disable-after", "1s"]);
    let app = spawn_app_with(&flags).await;
    // A port nobody listens on.
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/hook", listener.local_addr().unwrap())
    };
    let (endpoint, _) = register(&app, json!({"url": dead})).await;
    let finding = app.create_finding("无人接收", "ZJTZB-BGS").await;
    app.retitle(&finding, "仍无人接收").await;
    let query =
        "{ webhookEndpoints { nodes { id enabled disabledReason consecutiveFailures version } } }";
    let started = Instant::now();
    let node = loop {
        let node =
            app.data(&TestUser::admin(), query, json!({})).await["webhookEndpoints"]["nodes"][0]
                .clone();
        if node["enabled"] == false {
            break node;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{node}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        node["disabledReason"]
            .as_str()
            .unwrap()
            .contains("持续投递失败"),
        "{node}"
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
        json!([{"actorRole": "system", "entityId": endpoint}])
    );
    // Enabled again by hand, it starts from a clean count.
    let enabled = app
        .data(
            &TestUser::admin(),
            "mutation($id: ID!, $v: Int!) { updateWebhookEndpoint(id: $id, version: $v, input: {enabled: true}) { enabled consecutiveFailures disabledReason } }",
            json!({"id": endpoint, "v": node["version"]}),
        )
        .await;
    assert_eq!(
        enabled["updateWebhookEndpoint"],
        json!({"enabled": true, "consecutiveFailures": 0, "disabledReason": null})
    );
}

#[tokio::test]
async fn a_slow_receiver_never_slows_a_request() {
    let app = spawn_app_with(&fast()).await;
    let receiver = Receiver::default();
    receiver.script(&[], Answer::Hang(Duration::from_secs(10)));
    let url = receiver.start().await;
    register(&app, json!({"url": url})).await;
    let finding = app.create_finding("慢接收端", "ZJTZB-BGS").await;
    for title in ["一", "二", "三", "四"] {
        let started = Instant::now();
        app.retitle(&finding, title).await;
        // Far below the receiver's ten seconds: the request does not wait for delivery.
        assert!(started.elapsed() < Duration::from_secs(3));
    }
}

/// A server process of the real binary on `db`, listening on a free port.
fn server(db: &TestDb, port: u16) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_rectrack"))
        .args([
            "serve",
            "--database-url",
            &db.url,
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--jwt-secret",
            SECRET,
            "--warning-alerts",
            "false",
            "--webhook-timeout",
            "2s",
            "--webhook-backoff",
            "200ms",
            "--webhook-backoff-max",
            "1s",
            "--events-poll",
            "200ms",
            "--webhook-allow",
            "127.0.0.1",
        ])
        .env(
            "RECTRACK_DATA_DIR",
            std::env::temp_dir().join(format!("rectrack_kill_{port}")),
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the server starts")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn ready(client: &reqwest::Client, port: u16) {
    let started = Instant::now();
    while client
        .get(format!("http://127.0.0.1:{port}/readyz"))
        .send()
        .await
        .map(|r| !r.status().is_success())
        .unwrap_or(true)
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the server gets ready"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn killing_a_server_mid_delivery_loses_no_event_and_duplicates_only_retried_ones() {
    let db = TestDb::new().await;
    let client = crate::helpers::http_client();
    let receiver = Receiver::default();
    // Each answer takes a second: deliveries are in flight when the server dies.
    receiver.script(&[], Answer::Slow(Duration::from_millis(1000)));
    let url = receiver.start().await;

    let port = free_port();
    let mut first = server(&db, port);
    ready(&client, port).await;
    let gql = |port: u16, query: &'static str, variables: Value| {
        let client = client.clone();
        async move {
            let body: Value = client
                .post(format!("http://127.0.0.1:{port}/graphql"))
                .bearer_auth(TestUser::admin())
                .json(&json!({"query": query, "variables": variables}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert!(body.get("errors").is_none(), "{body}");
            body["data"].clone()
        }
    };
    gql(port, CREATE, json!({"i": {"url": url}})).await;
    let mut titles = Vec::new();
    for n in 0..12 {
        let title = format!("事件{n}");
        gql(
            port,
            "mutation($i: CreateFindingInput!) { createFinding(input: $i) { id } }",
            json!({"i": {"inspectionId": "1", "title": title, "rectificationType": "IMMEDIATE", "departmentCode": "ZJTZB-BGS"}}),
        )
        .await;
        titles.push(title);
    }
    // Wait until some deliveries are in flight, then kill -9.
    let started = Instant::now();
    while receiver.received().is_empty() {
        assert!(started.elapsed() < Duration::from_secs(20));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    first.kill().expect("kill -9");
    first.wait().ok();
    let before_kill: Vec<String> = receiver.received().iter().map(|r| r.id.clone()).collect();
    assert!(!before_kill.is_empty());

    // A new server on the same database finishes the work.
    receiver.script(&[], Answer::Ok);
    let port = free_port();
    let mut second = server(&db, port);
    ready(&client, port).await;
    let delivered = receiver.wait_delivered(12).await;
    second.kill().ok();
    second.wait().ok();

    // Every event arrived; the bodies name every finding created.
    let mut bodies: Vec<String> = receiver
        .received()
        .iter()
        .map(|r| {
            serde_json::from_str::<Value>(&r.body).unwrap()["data"]["finding"]["title"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    bodies.sort();
    bodies.dedup();
    let mut expected = titles.clone();
    expected.sort();
    assert_eq!(bodies, expected);
    assert_eq!(delivered.len(), 12);
    // An id received twice was one in flight when the server died (the retry of an attempt
    // whose answer was never recorded), never one already answered.
    let mut count: HashMap<String, usize> = HashMap::new();
    for r in receiver.received() {
        *count.entry(r.id).or_default() += 1;
    }
    for (id, n) in count {
        if n > 1 {
            assert!(
                before_kill.contains(&id),
                "{id} was sent twice without a failed attempt"
            );
        }
    }
}

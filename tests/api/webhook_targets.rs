//! Where webhooks may go: receivers on loopback, private, link-local, unique-local, reserved
//! and metadata addresses, in every spelling, and URLs with credentials are refused at
//! registration; a name is checked again by what it resolves to at each delivery; the
//! allow-list opens a unit's intranet receivers; and the delivery log cannot tell a closed
//! port from a server that is not HTTP or one that never answers.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rectrack::startup::Application;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{
    SECRET, TestApp, TestDb, TestUser, config, count, error_code, http_client, spawn_app,
    spawn_app_with,
};
use crate::webhooks::fast;

const CREATE: &str = "mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { secret endpoint { id url version } } }";
const UPDATE: &str = "mutation($id: ID!, $v: Int!, $url: String) { updateWebhookEndpoint(id: $id, version: $v, input: {url: $url}) { url version } }";
const LOG: &str = "{ webhookEndpoints(first: 100) { nodes { id url enabled disabledReason deliveries { nodes { status attempts lastStatus lastError } } } } }";

/// Each spelling of a refused receiver, and the words its refusal names it by.
const REFUSED: &[(&str, &str)] = &[
    // Cloud metadata services, by address, in other spellings, and by name.
    ("http://169.254.169.254/latest/meta-data/", "元数据"),
    ("http://2852039166/latest/meta-data/", "元数据"),
    ("http://0xa9.0xfe.0xa9.0xfe/", "元数据"),
    ("http://[::ffff:169.254.169.254]/", "元数据"),
    ("http://[fd00:ec2::254]/latest/meta-data/", "元数据"),
    ("http://100.100.100.200/latest/meta-data/", "元数据"),
    (
        "http://metadata.google.internal/computeMetadata/v1/",
        "元数据",
    ),
    (
        "http://METADATA.google.internal./computeMetadata/v1/",
        "元数据",
    ),
    ("http://instance-data/latest/", "元数据"),
    // Loopback in every spelling the URL parser reads as an address.
    ("http://[::1]:6379/", "本机回环地址"),
    ("http://2130706433/", "本机回环地址"),
    ("http://0x7f.1/", "本机回环地址"),
    ("http://0x7f000001/", "本机回环地址"),
    ("http://0177.0.0.1/", "本机回环地址"),
    ("http://127.1/", "本机回环地址"),
    ("http://127.0.0.1./", "本机回环地址"),
    ("http://%31%32%37.0.0.1/", "本机回环地址"),
    ("http://[::ffff:127.0.0.1]/", "本机回环地址"),
    ("http://[::ffff:7f00:1]/", "本机回环地址"),
    ("http://[::127.0.0.1]/", "本机回环地址"),
    ("http://[64:ff9b::127.0.0.1]/", "本机回环地址"),
    ("http://[2002:7f00:1::]/", "本机回环地址"),
    ("http://localhost:8080/", "本机回环地址"),
    ("http://api.localhost/", "本机回环地址"),
    // Private: RFC 1918, the shared (CGNAT) space, private names.
    ("http://10.0.0.1/", "内网私有地址"),
    ("http://172.16.5.4/", "内网私有地址"),
    ("http://192.168.1.1:8080/", "内网私有地址"),
    ("http://3232235777/", "内网私有地址"),
    ("http://[::ffff:10.0.0.1]/", "内网私有地址"),
    ("http://100.64.0.1/", "内网私有地址"),
    ("http://redis:6379/", "内网私有地址"),
    ("http://hooks.corp.internal/", "内网私有地址"),
    // Link-local and unique-local.
    ("http://169.254.1.1/", "链路本地地址"),
    ("http://[fe80::1]/", "链路本地地址"),
    ("http://printer.local/", "链路本地地址"),
    ("http://[fc00::1]/", "IPv6 唯一本地地址"),
    ("http://[fd12:3456::1]/", "IPv6 唯一本地地址"),
    // Unspecified, multicast and broadcast, reserved and documentation ranges.
    ("http://0.0.0.0/", "未指定地址"),
    ("http://0/", "未指定地址"),
    ("http://[::]/", "未指定地址"),
    ("http://224.0.0.1/", "组播或广播地址"),
    ("http://255.255.255.255/", "组播或广播地址"),
    ("http://[ff02::1]/", "组播或广播地址"),
    ("http://192.0.2.1/", "保留或文档专用地址"),
    ("http://198.51.100.1/", "保留或文档专用地址"),
    ("http://203.0.113.1/", "保留或文档专用地址"),
    ("http://240.0.0.1/", "保留或文档专用地址"),
    ("http://[2001:db8::1]/", "保留或文档专用地址"),
];

async fn endpoints(app: &TestApp) -> Vec<Value> {
    app.data(&TestUser::admin(), LOG, json!({})).await["webhookEndpoints"]["nodes"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn every_spelling_of_an_internal_or_metadata_receiver_is_refused_at_registration() {
    let app = spawn_app().await;
    for (url, named) in REFUSED {
        let (_, body) = app
            .gql(Some(&TestUser::admin()), CREATE, json!({"i": {"url": url}}))
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{url}: {body}");
        let error = &body["errors"][0];
        assert_eq!(error["extensions"]["field"], "url", "{url}: {body}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(named), "{url}: {message}");
    }
    assert_eq!(endpoints(&app).await, Vec::<Value>::new());

    // A public receiver registers; changing its URL to a refused one is refused the same way
    // and leaves it as it was.
    let created = app
        .data(
            &TestUser::admin(),
            CREATE,
            json!({"i": {"url": "https://hooks.example.gov.cn/rectrack"}}),
        )
        .await["createWebhookEndpoint"]["endpoint"]
        .clone();
    for url in [
        "http://0x7f.1/",
        "http://[fd00:ec2::254]/",
        "http://10.1.2.3/",
    ] {
        let (_, body) = app
            .gql(
                Some(&TestUser::admin()),
                UPDATE,
                json!({"id": created["id"], "v": created["version"], "url": url}),
            )
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{url}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "url", "{body}");
    }
    let stored = endpoints(&app).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["url"], "https://hooks.example.gov.cn/rectrack");

    // Only http and https.
    for url in [
        "ftp://hooks.example.gov.cn/",
        "file:///etc/passwd",
        "gopher://hooks.example.gov.cn/",
    ] {
        let (_, body) = app
            .gql(Some(&TestUser::admin()), CREATE, json!({"i": {"url": url}}))
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{url}: {body}");
    }
}

#[tokio::test]
async fn a_url_with_credentials_is_refused_never_kept_and_never_repeated() {
    let app = spawn_app().await;
    for url in [
        "https://hook-user:s3cret-pass@hooks.example.gov.cn/x",
        "https://hook-user@hooks.example.gov.cn/x",
        "https://:s3cret-pass@hooks.example.gov.cn/x",
    ] {
        let (_, body) = app
            .gql(Some(&TestUser::admin()), CREATE, json!({"i": {"url": url}}))
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "url");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("用户名或密码"), "{message}");
        assert!(!body.to_string().contains("s3cret"), "{body}");
    }
    // Not on a change either.
    let created = app
        .data(
            &TestUser::admin(),
            CREATE,
            json!({"i": {"url": "https://hooks.example.gov.cn/x"}}),
        )
        .await["createWebhookEndpoint"]["endpoint"]
        .clone();
    let (_, body) = app
        .gql(
            Some(&TestUser::admin()),
            UPDATE,
            json!({"id": created["id"], "v": created["version"], "url": "https://u:s3cret-pass@hooks.example.gov.cn/x"}),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert!(!body.to_string().contains("s3cret"), "{body}");
    // Nothing holds the password: neither the endpoints nor the audit trail.
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM webhook_endpoint WHERE url LIKE '%s3cret%' OR url LIKE '%hook-user%'"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM audit_event WHERE CAST(after AS TEXT) LIKE '%s3cret%'"
        )
        .await,
        0
    );
    assert_eq!(endpoints(&app).await.len(), 1);
}

/// A receiver on loopback that counts what it is sent and answers `status`.
async fn http_receiver(status: u16) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let counted = counted.clone();
            async move {
                counted.fetch_add(1, Ordering::SeqCst);
                axum::http::StatusCode::from_u16(status).unwrap()
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, hits)
}

/// A TCP listener that counts connections and answers each with garbage, or holds it open and
/// says nothing.
async fn tcp_listener(garbage: bool) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buffer = [0u8; 1024];
                let _ = socket.read(&mut buffer).await;
                if garbage {
                    let _ = socket
                        .write_all(b"SSH-2.0-OpenSSH_9.6\r\n\x00\x01\x02garbage\r\n")
                        .await;
                    let _ = socket.shutdown().await;
                } else {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                }
            });
        }
    });
    (url, hits)
}

/// Waits until every endpoint has a delivery attempted at least twice (or delivered, which
/// the test then finds wrong); returns the log.
async fn attempted(app: &TestApp, endpoints_expected: usize) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let nodes = endpoints(app).await;
        let done = nodes.len() == endpoints_expected
            && nodes.iter().all(|n| {
                n["deliveries"]["nodes"].as_array().is_some_and(|d| {
                    d.iter()
                        .any(|d| d["attempts"].as_i64() >= Some(2) || d["status"] == "DELIVERED")
                })
            });
        if done {
            return nodes;
        }
        assert!(
            started.elapsed() < Duration::from_secs(40),
            "every endpoint attempted twice: {nodes:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn the_delivery_log_says_only_not_delivered_with_the_status_that_came_back() {
    let app = spawn_app_with(&fast()).await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/hook", listener.local_addr().unwrap())
    };
    let (garbage, garbage_hits) = tcp_listener(true).await;
    let (silent, silent_hits) = tcp_listener(false).await;
    let (failing, failing_hits) = http_receiver(500).await;
    let mut ids = Vec::new();
    for url in [&closed, &garbage, &silent, &failing] {
        let created = app
            .data(
                &TestUser::admin(),
                CREATE,
                json!({"i": {"url": url, "eventTypes": ["finding.changed"]}}),
            )
            .await;
        ids.push(created["createWebhookEndpoint"]["endpoint"]["id"].clone());
    }
    app.create_finding("端口探测", "ZJTZB-BGS").await;
    let log = attempted(&app, 4).await;
    let last = |id: &Value| {
        let node = log.iter().find(|n| &n["id"] == id).unwrap();
        let delivery = &node["deliveries"]["nodes"][0];
        json!({"lastStatus": delivery["lastStatus"], "lastError": delivery["lastError"]})
    };
    // Each was really tried: the listeners saw connections, the HTTP server requests.
    assert!(garbage_hits.load(Ordering::SeqCst) >= 1);
    assert!(silent_hits.load(Ordering::SeqCst) >= 1);
    assert!(failing_hits.load(Ordering::SeqCst) >= 1);
    // A closed port, a server that is not HTTP and one that never answers read alike.
    let not_delivered = json!({"lastStatus": null, "lastError": "未送达"});
    assert_eq!(last(&ids[0]), not_delivered, "closed port");
    assert_eq!(last(&ids[1]), not_delivered, "not HTTP");
    assert_eq!(last(&ids[2]), not_delivered, "no answer");
    // An HTTP answer gives its status, and nothing more.
    assert_eq!(
        last(&ids[3]),
        json!({"lastStatus": 500, "lastError": "未送达"})
    );
    // In English on request, as every message.
    let (_, body) = app
        .gql_in("en", Some(&TestUser::admin()), LOG, json!({}))
        .await;
    let first = &body["data"]["webhookEndpoints"]["nodes"][0]["deliveries"]["nodes"][0];
    assert_eq!(first["lastError"], "not delivered", "{body}");
}

#[tokio::test]
async fn the_allow_list_opens_a_units_intranet_receivers_and_never_metadata() {
    let flags: Vec<&str> = fast()
        .into_iter()
        .map(|f| match f {
            "127.0.0.1" => "127.0.0.1,169.254.0.0/16,hooks.unit.internal",
            other => other,
        })
        .collect();
    let app = spawn_app_with(&flags).await;
    let (url, hits) = http_receiver(204).await;
    app.data(
        &TestUser::admin(),
        CREATE,
        json!({"i": {"url": url, "eventTypes": ["finding.changed"]}}),
    )
    .await;
    app.create_finding("内网接收端", "ZJTZB-BGS").await;
    let started = Instant::now();
    while hits.load(Ordering::SeqCst) == 0 {
        assert!(started.elapsed() < Duration::from_secs(30), "delivered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for opened in [
        "http://[::ffff:127.0.0.1]:9/x",
        "http://169.254.10.20/x",
        "http://hooks.unit.internal/x",
    ] {
        let (_, body) = app
            .gql(
                Some(&TestUser::admin()),
                CREATE,
                json!({"i": {"url": opened}}),
            )
            .await;
        assert!(body.get("errors").is_none(), "{opened}: {body}");
    }
    for closed in [
        "http://127.0.0.2/x",
        "http://10.0.0.1/x",
        "http://other.unit.internal/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://metadata.google.internal/",
    ] {
        let (_, body) = app
            .gql(
                Some(&TestUser::admin()),
                CREATE,
                json!({"i": {"url": closed}}),
            )
            .await;
        assert_eq!(
            error_code(&body),
            Some("BAD_USER_INPUT"),
            "{closed}: {body}"
        );
    }
}

/// The real binary on `db`, allow-listing `allow`.
fn server(db: &TestDb, port: u16, allow: &str) -> std::process::Child {
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
            "--webhook-allow",
            allow,
        ])
        .env(
            "RECTRACK_DATA_DIR",
            std::env::temp_dir().join(format!("rectrack_targets_{port}")),
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the server starts")
}

#[tokio::test]
async fn a_name_that_resolves_to_a_refused_address_at_delivery_is_not_delivered() {
    // A receiver on loopback, registered by a name while the allow-list named it.
    let (receiver, hits) = http_receiver(204).await;
    let port_of_receiver = receiver
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches("/hook");
    let by_name = format!("http://localhost:{port_of_receiver}/hook");
    let db = TestDb::new().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut first = server(&db, port, "localhost");
    let client = http_client();
    let started = Instant::now();
    while client
        .get(format!("http://127.0.0.1:{port}/readyz"))
        .send()
        .await
        .map(|r| !r.status().is_success())
        .unwrap_or(true)
    {
        assert!(started.elapsed() < Duration::from_secs(60), "ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let created: Value = client
        .post(format!("http://127.0.0.1:{port}/graphql"))
        .bearer_auth(TestUser::admin())
        .json(&json!({"query": CREATE, "variables": {"i": {"url": by_name, "eventTypes": ["finding.changed"]}}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(created.get("errors").is_none(), "{created}");
    first.kill().expect("stopped");
    first.wait().ok();

    // The server now runs without that entry: the name passes as a name, but it resolves to
    // loopback when a delivery is made, and nothing is sent.
    let mut flags = fast();
    flags.retain(|f| *f != "--webhook-allow" && *f != "127.0.0.1");
    let data_dir = std::env::temp_dir().join(format!("rectrack_targets_data_{port}"));
    let data_flag = data_dir.to_string_lossy().into_owned();
    flags.extend(["--data-dir", data_flag.as_str()]);
    let built = Application::build(config(&db, &flags))
        .await
        .expect("the app builds");
    let address = format!("http://{}", built.address());
    tokio::spawn(built.run_until_stopped());
    let app = TestApp {
        address,
        client: http_client(),
        db: db.connect().await,
        data_dir,
        test_db: db,
    };
    app.create_finding("解析到本机", "ZJTZB-BGS").await;
    let log = attempted(&app, 1).await;
    let delivery = &log[0]["deliveries"]["nodes"][0];
    assert_eq!(log[0]["url"], by_name);
    assert_eq!(delivery["lastError"], "未送达", "{log:?}");
    assert_eq!(delivery["lastStatus"], Value::Null, "{log:?}");
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "nothing reached the receiver"
    );
}

#[tokio::test]
async fn an_endpoint_kept_from_before_with_credentials_is_neither_shown_nor_delivered_to() {
    let app = spawn_app_with(&fast()).await;
    let (url, hits) = http_receiver(204).await;
    app.data(
        &TestUser::admin(),
        CREATE,
        json!({"i": {"url": url, "eventTypes": ["finding.changed"]}}),
    )
    .await;
    // As a row registered before credentials were refused holds it.
    let with_credentials = url.replace("http://", "http://hook-user:s3cret-pass@");
    app.sql(&format!(
        "UPDATE webhook_endpoint SET url = '{with_credentials}'"
    ))
    .await;
    app.create_finding("旧的接收端", "ZJTZB-BGS").await;
    let log = attempted(&app, 1).await;
    assert_eq!(log[0]["url"], url.as_str());
    assert!(!format!("{log:?}").contains("s3cret"));
    let delivery = &log[0]["deliveries"]["nodes"][0];
    assert_eq!(delivery["lastError"], "未送达", "{log:?}");
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "nothing reached the receiver"
    );
}

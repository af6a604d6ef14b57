//! `/metrics`: after traffic of each kind, every metric appears with its label set (scraped and
//! parsed as Prometheus parses it), with the exact value where the traffic fixes it; the
//! bearer token and the address of its own restrict it.

use std::time::{Duration, Instant};

use prometheus_parse::{Scrape, Value as Sampled};
use serde_json::json;

use crate::helpers::{
    SECRET, TestDb, TestUser, config, count, error_code, http_client, spawn_app_with,
};
use crate::ws_client::Ws;

/// Fetches and parses `/metrics` at `base`.
async fn scrape(base: &str, token: Option<&str>) -> Scrape {
    let mut request = http_client().get(format!("{base}/metrics"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the server answers");
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).expect("the Prometheus text format")
}

/// The sample of `metric` whose labels are exactly `labels`.
fn sample<'a>(
    scrape: &'a Scrape,
    metric: &str,
    labels: &[(&str, &str)],
) -> Option<&'a prometheus_parse::Sample> {
    scrape.samples.iter().find(|s| {
        s.metric == metric
            && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v))
            && labels.len() == label_count(s)
    })
}

fn label_count(sample: &prometheus_parse::Sample) -> usize {
    [
        "route",
        "method",
        "status",
        "operation",
        "type",
        "code",
        "pool",
        "state",
        "endpoint",
    ]
    .iter()
    .filter(|k| sample.labels.get(k).is_some())
    .count()
}

/// A counter's or gauge's value.
fn value(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    match &sample(scrape, metric, labels)
        .unwrap_or_else(|| panic!("{metric} {labels:?} is served"))
        .value
    {
        Sampled::Counter(v) | Sampled::Gauge(v) | Sampled::Untyped(v) => *v,
        other => panic!("{metric} is not a single value: {other:?}"),
    }
}

/// A histogram's observation count (its `+Inf` bucket).
fn observed(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    match &sample(scrape, metric, labels)
        .unwrap_or_else(|| panic!("{metric} {labels:?} is served"))
        .value
    {
        Sampled::Histogram(buckets) => {
            buckets
                .iter()
                .find(|b| b.less_than.is_infinite())
                .expect("a +Inf bucket")
                .count
        }
        other => panic!("{metric} is not a histogram: {other:?}"),
    }
}

/// Scrapes until `done` holds (background work: the webhook sender, the sweep), at most 20 s.
async fn until(base: &str, done: impl Fn(&Scrape) -> bool) -> Scrape {
    let started = Instant::now();
    loop {
        let scraped = scrape(base, None).await;
        if done(&scraped) {
            return scraped;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "not reached");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

const WATCH: &str = "subscription Watch { findingChanged { eventId } }";
const FINDINGS: &str = "query Findings { findings(first: 2) { nodes { id } } }";
const ADD: &str = "mutation Add($i: CreateFindingInput!) { createFinding(input: $i) { id } }";
const RENAME: &str = "mutation Rename($i: UpdateFindingInput!) { updateFinding(input: $i) { id } }";

#[tokio::test]
async fn every_metric_appears_with_its_labels_after_its_traffic() {
    let app = spawn_app_with(&[
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
    ])
    .await;
    let admin = TestUser::admin();
    let manager = TestUser::manager("ZJTZB");

    // A receiver that is not there: every attempt fails.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    app.data(
        &admin,
        "mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { endpoint { id } } }",
        json!({"i": {"url": url}}),
    )
    .await;
    let endpoint = app.rows("SELECT id FROM webhook_endpoint").await[0]
        .try_get_by_index::<i32>(0)
        .unwrap()
        .to_string();

    // A subscription, running once its first event has come.
    let mut ws = Ws::as_caller(&app.address, &admin).await;
    ws.subscribe("1", WATCH, json!({})).await;
    ws.send(json!({"type": "ping"})).await;
    assert_eq!(ws.next().await.unwrap()["type"], "pong");

    // A query and a mutation by name, and a mutation refused with a code.
    let (status, body) = app
        .gql_op(Some(&admin), FINDINGS, "Findings", json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = app
        .gql_op(
            Some(&manager),
            ADD,
            "Add",
            json!({"i": {"inspectionId": "1", "title": "度量测试问题", "rectificationType": "IMMEDIATE", "departmentCode": "ZJTZB"}}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let (_, body) = app
        .gql_op(
            Some(&manager),
            RENAME,
            "Rename",
            json!({"i": {"id": "999999", "version": 1, "title": "无此问题"}}),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    assert!(ws.data("1").await["findingChanged"]["eventId"].is_string());

    // REST: a read by a route with a parameter, with its statements counted; and no route.
    let before = app.sql_statements().await;
    let got = app
        .client
        .get(app.url("/api/v1/inspections/1"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    let after = app.sql_statements().await;
    let missing = app
        .client
        .get(app.url("/no/such/page"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    // The failed webhook attempt is counted (the sender works in the background).
    let failures = [("endpoint", endpoint.as_str())];
    let m = until(&app.address, |m| {
        sample(m, "rectrack_webhook_failures_total", &failures).is_some()
    })
    .await;
    assert!(value(&m, "rectrack_webhook_failures_total", &failures) >= 1.0);
    assert!(value(&m, "rectrack_webhook_queue_depth", &failures) >= 0.0);

    // Requests by route template, method and status; latency and statements per request.
    let rest = [("route", "/api/v1/inspections/:id"), ("method", "GET")];
    let ok = [rest[0], rest[1], ("status", "200")];
    assert_eq!(value(&m, "rectrack_http_requests_total", &ok), 1.0);
    assert_eq!(
        observed(&m, "rectrack_http_request_duration_seconds", &rest),
        1.0
    );
    let statements = [rest[0]];
    assert_eq!(
        observed(&m, "rectrack_http_request_sql_statements", &statements),
        1.0
    );
    assert_eq!(
        value(&m, "rectrack_http_request_sql_statements_sum", &statements),
        (after - before) as f64
    );
    assert!(after > before);
    let unmatched = [("route", "unmatched"), ("method", "GET"), ("status", "404")];
    assert_eq!(value(&m, "rectrack_http_requests_total", &unmatched), 1.0);
    // The webhook's creation, the three operations (the refused one answers 200 too).
    let posts = [("route", "/graphql"), ("method", "POST"), ("status", "200")];
    assert_eq!(value(&m, "rectrack_http_requests_total", &posts), 4.0);

    // GraphQL operations by name and type, their latency, and errors by code.
    let findings = [("operation", "Findings"), ("type", "query")];
    assert_eq!(
        value(&m, "rectrack_graphql_operations_total", &findings),
        1.0
    );
    assert_eq!(
        observed(&m, "rectrack_graphql_operation_duration_seconds", &findings),
        1.0
    );
    let add = [("operation", "Add"), ("type", "mutation")];
    assert_eq!(value(&m, "rectrack_graphql_operations_total", &add), 1.0);
    assert_eq!(
        observed(&m, "rectrack_graphql_operation_duration_seconds", &add),
        1.0
    );
    let rename = [("operation", "Rename"), ("type", "mutation")];
    assert_eq!(value(&m, "rectrack_graphql_operations_total", &rename), 1.0);
    let not_found = [rename[0], rename[1], ("code", "NOT_FOUND")];
    assert_eq!(value(&m, "rectrack_graphql_errors_total", &not_found), 1.0);
    assert!(
        sample(
            &m,
            "rectrack_graphql_errors_total",
            &[add[0], add[1], ("code", "NOT_FOUND")]
        )
        .is_none()
    );
    let watch = [("operation", "Watch"), ("type", "subscription")];
    assert_eq!(value(&m, "rectrack_graphql_operations_total", &watch), 1.0);
    let anonymous = [("operation", "anonymous"), ("type", "mutation")];
    assert_eq!(
        value(&m, "rectrack_graphql_operations_total", &anonymous),
        1.0
    );
    assert_eq!(value(&m, "rectrack_subscriptions_open", &[]), 1.0);

    // The pools (the tests' 8 request connections; the background pool's 4).
    let request_pool = [("pool", "request")];
    assert_eq!(
        value(&m, "rectrack_db_pool_max_connections", &request_pool),
        8.0
    );
    let background = [("pool", "background")];
    assert_eq!(
        value(&m, "rectrack_db_pool_max_connections", &background),
        4.0
    );
    for pool in ["request", "background"] {
        let open = value(
            &m,
            "rectrack_db_pool_connections",
            &[("pool", pool), ("state", "in_use")],
        ) + value(
            &m,
            "rectrack_db_pool_connections",
            &[("pool", pool), ("state", "idle")],
        );
        assert!(open >= 1.0, "{pool}: {open}");
    }

    // The outbox lag (the pump follows within its poll), no backup yet, SQL statements.
    assert!(value(&m, "rectrack_outbox_lag_events", &[]) >= 0.0);
    assert!(value(&m, "rectrack_backup_age_seconds", &[]).is_nan());
    assert!(value(&m, "rectrack_sql_statements_total", &[]) >= after as f64);
    assert!(m.docs.contains_key("rectrack_graphql_errors_total"));

    // The subscription ends with its socket.
    drop(ws);
    until(&app.address, |m| {
        sample(m, "rectrack_subscriptions_open", &[])
            .is_some_and(|s| s.value == Sampled::Gauge(0.0))
    })
    .await;
}

#[tokio::test]
async fn operation_names_are_capped_in_number_and_length() {
    let app = spawn_app_with(&["--jwt-secret", SECRET]).await;
    let admin = TestUser::admin();
    for n in 0..101 {
        let name = format!("Q{n}");
        let document = format!("query {name} {{ __typename }}");
        let (status, _) = app.gql_op(Some(&admin), &document, &name, json!({})).await;
        assert_eq!(status, 200);
    }
    let long = format!("Q{}", "x".repeat(80));
    let document = format!("query {long} {{ __typename }}");
    app.gql_op(Some(&admin), &document, &long, json!({})).await;
    let m = scrape(&app.address, None).await;
    let query = |name| [("operation", name), ("type", "query")];
    assert_eq!(
        value(&m, "rectrack_graphql_operations_total", &query("Q0")),
        1.0
    );
    assert_eq!(
        value(&m, "rectrack_graphql_operations_total", &query("Q99")),
        1.0
    );
    assert!(sample(&m, "rectrack_graphql_operations_total", &query("Q100")).is_none());
    // The 101st name and the long one.
    assert_eq!(
        value(&m, "rectrack_graphql_operations_total", &query("other")),
        2.0
    );
}

#[tokio::test]
async fn the_sweep_reports_its_duration_and_crossings() {
    let app = spawn_app_with(&["--jwt-secret", SECRET]).await;
    // Due in five days: a YELLOW crossing for the sweep of the next instance to raise.
    let deadline = (chrono::Local::now().date_naive() + chrono::Days::new(5)).to_string();
    app.data(
        &TestUser::manager("ZJTZB"),
        "mutation($i: CreateFindingInput!) { createFinding(input: $i) { id } }",
        json!({"i": {"inspectionId": "1", "title": "预警度量", "rectificationType": "IMMEDIATE",
            "departmentCode": "ZJTZB-BGS", "deadline": deadline, "responsiblePerson": "张三"}}),
    )
    .await;
    let sweeping = app
        .another(&["--jwt-secret", SECRET, "--warning-alerts", "true"])
        .await;
    let m = until(&sweeping, |m| {
        sample(m, "rectrack_warning_sweep_duration_seconds", &[]).is_some()
    })
    .await;
    assert_eq!(
        observed(&m, "rectrack_warning_sweep_duration_seconds", &[]),
        1.0
    );
    let raised = count(&app.db, "SELECT COUNT(*) FROM warning_crossing").await;
    assert!(raised >= 1);
    assert_eq!(
        value(&m, "rectrack_warning_sweep_crossings_total", &[]),
        raised as f64
    );
    // Progress: the sweep checked the findings up to the newest open one.
    let newest = count(
        &app.db,
        "SELECT MAX(id) FROM finding WHERE status <> 'closed' AND archived_at IS NULL",
    )
    .await;
    assert_eq!(
        value(&m, "rectrack_warning_sweep_checked_up_to", &[]),
        newest as f64
    );
}

#[tokio::test]
async fn a_token_restricts_metrics() {
    let app = spawn_app_with(&["--jwt-secret", SECRET, "--metrics-token", "s3cret-scrape"]).await;
    for (header, language) in [(None, None), (Some("Bearer wrong"), Some("en"))] {
        let mut request = app.client.get(app.url("/metrics"));
        if let Some(header) = header {
            request = request.header("authorization", header);
        }
        if let Some(language) = language {
            request = request.header("accept-language", language);
        }
        let refused = request.send().await.unwrap();
        assert_eq!(refused.status(), 401);
        let body: serde_json::Value = refused.json().await.unwrap();
        assert_eq!(body["error"]["code"], "UNAUTHENTICATED", "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        if language.is_some() {
            assert!(message.starts_with("/metrics needs a token"), "{message}");
        } else {
            assert!(message.starts_with("访问 /metrics 需要令牌"), "{message}");
        }
    }
    let m = scrape(&app.address, Some("s3cret-scrape")).await;
    let refused = [("route", "/metrics"), ("method", "GET"), ("status", "401")];
    assert_eq!(value(&m, "rectrack_http_requests_total", &refused), 2.0);
}

#[tokio::test]
async fn a_token_file_and_an_address_of_its_own() {
    let db = TestDb::new().await;
    let file = std::env::temp_dir().join(format!("rectrack_metrics_token_{}", std::process::id()));
    std::fs::write(&file, "from-a-file\n").unwrap();
    let file_flag = file.to_string_lossy().into_owned();
    let cfg = config(
        &db,
        &[
            "--jwt-secret",
            SECRET,
            "--metrics-bind",
            "127.0.0.1:0",
            "--metrics-token-file",
            &file_flag,
        ],
    );
    let app = rectrack::startup::Application::build(cfg)
        .await
        .expect("builds");
    let main = format!("http://{}", app.address());
    let own = format!("http://{}", app.metrics_address().expect("its own address"));
    tokio::spawn(app.run_until_stopped());
    let client = http_client();
    // Not on the main address.
    let there = client.get(format!("{main}/metrics")).send().await.unwrap();
    assert_eq!(there.status(), 404);
    let no_token = client.get(format!("{own}/metrics")).send().await.unwrap();
    assert_eq!(no_token.status(), 401);
    let m = scrape(&own, Some("from-a-file")).await;
    assert!(value(&m, "rectrack_sql_statements_total", &[]) >= 1.0);
    let _ = std::fs::remove_file(&file);
    // Both the token and its file: refused at start-up, naming both.
    let both = config(
        &db,
        &[
            "--jwt-secret",
            SECRET,
            "--metrics-token",
            "x",
            "--metrics-token-file",
            &file_flag,
        ],
    );
    let err = rectrack::startup::Application::build(both)
        .await
        .err()
        .expect("refused");
    assert!(
        err.to_string().contains("RECTRACK_METRICS_TOKEN_FILE"),
        "{err}"
    );
}

#[tokio::test]
async fn requests_the_rate_limits_refuse_are_counted() {
    let app = spawn_app_with(&[
        "--jwt-secret",
        SECRET,
        "--rate-anonymous-per-minute",
        "1",
        "--rate-anonymous-burst",
        "1",
    ])
    .await;
    let query = "query Hello { __typename }";
    let (first, _) = app.gql_op(None, query, "Hello", json!({})).await;
    assert_eq!(first, 200);
    let (second, body) = app.gql_op(None, query, "Hello", json!({})).await;
    assert_eq!(second, 429, "{body}");
    let m = scrape(&app.address, None).await;
    let post = |status| {
        [
            ("route", "/graphql"),
            ("method", "POST"),
            ("status", status),
        ]
    };
    assert_eq!(value(&m, "rectrack_http_requests_total", &post("200")), 1.0);
    assert_eq!(value(&m, "rectrack_http_requests_total", &post("429")), 1.0);
    // Refused before GraphQL: one operation ran.
    let hello = [("operation", "Hello"), ("type", "query")];
    assert_eq!(value(&m, "rectrack_graphql_operations_total", &hello), 1.0);
}

/// A build without the `otel` feature cannot export traces: an endpoint set is refused at
/// start-up, naming the feature, rather than ignored.
#[cfg(not(feature = "otel"))]
#[tokio::test]
async fn an_otlp_endpoint_without_the_feature_is_refused() {
    let db = TestDb::new().await;
    let cfg = config(
        &db,
        &[
            "--jwt-secret",
            SECRET,
            "--otlp-endpoint",
            "http://127.0.0.1:4318",
        ],
    );
    let err = rectrack::startup::Application::build(cfg)
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("--features otel"), "{err}");
}

/// A request that waits for the request pool's one connection is timed: the wait shows in
/// `rectrack_db_pool_wait_seconds`, whose sum's rate is the mean number of requests waiting.
#[tokio::test]
async fn a_request_waiting_for_a_connection_is_timed() {
    let app = spawn_app_with(&["--jwt-secret", SECRET, "--db-max-connections", "1"]).await;
    let admin = TestUser::admin();
    let manager = TestUser::manager("ZJTZB");
    let pool = [("pool", "request")];
    let waits = |m: &Scrape| match &sample(m, "rectrack_db_pool_wait_seconds", &pool)
        .expect("the pool wait histogram is served")
        .value
    {
        Sampled::Histogram(buckets) => buckets
            .iter()
            .map(|b| (b.less_than, b.count))
            .collect::<Vec<_>>(),
        other => panic!("not a histogram: {other:?}"),
    };
    let over = |buckets: &[(f64, f64)], seconds: f64| {
        let all = buckets.iter().find(|(le, _)| le.is_infinite()).unwrap().1;
        let within = buckets.iter().find(|(le, _)| *le == seconds).unwrap().1;
        all - within
    };
    // Every request takes a connection: its wait is observed even when nobody else holds it.
    app.data(&admin, "{ findings(first: 1) { nodes { id } } }", json!({}))
        .await;
    let before = waits(&scrape(&app.address, None).await);
    assert!(before.iter().any(|(le, n)| le.is_infinite() && *n >= 1.0));
    assert_eq!(over(&before, 0.25), 0.0, "nobody waited: {before:?}");

    // A write holds the one connection while it waits for another connection's lock; a read
    // sent meanwhile waits for the pool until the lock is released.
    let lock = crate::limits::hold_the_write_lock(&app).await;
    let writer = {
        let (client, url, token) = (app.client.clone(), app.url("/graphql"), manager.clone());
        tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(&token)
                .json(&json!({"query": ADD, "variables": {"i": {"inspectionId": "1", "title": "等连接的问题", "rectificationType": "IMMEDIATE", "departmentCode": "ZJTZB"}}}))
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let reader = {
        let (client, url, token) = (
            app.client.clone(),
            app.url("/api/v1/inspections/1"),
            admin.clone(),
        );
        tokio::spawn(async move {
            client
                .get(url)
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    tokio::time::sleep(Duration::from_millis(700)).await;
    lock.rollback().await.unwrap();
    let written = writer.await.unwrap();
    assert!(written.get("errors").is_none(), "{written}");
    assert_eq!(reader.await.unwrap(), 200);

    let after = waits(&scrape(&app.address, None).await);
    assert!(
        over(&after, 0.25) >= 1.0,
        "the read waited about 0.7 s for the connection: {after:?}"
    );
}

//! Hostile requests: each limit on /graphql is enforced, answers with a stable code, and runs
//! nothing it refuses.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{SECRET, TestApp, TestUser, count, error_code, spawn_app, spawn_app_with};

const ADD: &str =
    "mutation($f: ID!) { addProgressEntry(input: {findingId: $f, content: \"批量写入\"}) { id } }";

async fn entries(app: &TestApp) -> i64 {
    count(
        &app.db,
        "SELECT COUNT(*) FROM progress_entry WHERE content = '批量写入'",
    )
    .await
}

#[tokio::test]
async fn deep_and_expensive_queries_are_refused_as_too_complex() {
    let app = spawn_app().await;
    let admin = TestUser::admin();
    let mut deep = String::from("name");
    for _ in 0..15 {
        deep = format!("parent {{ {deep} }}");
    }
    let (_, body) = app
        .gql(
            Some(&admin),
            &format!("{{ department(id: 9) {{ {deep} }} }}"),
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), Some("QUERY_TOO_COMPLEX"), "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("查询嵌套过深：深度 17，最多允许 12"),
        "{message}"
    );

    let wide = "{ departments(first: 100) { edges { node { children { children { children { name } } } } } } }";
    let (_, body) = app.gql(Some(&admin), wide, json!({})).await;
    assert_eq!(error_code(&body), Some("QUERY_TOO_COMPLEX"), "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.starts_with("查询过于复杂：复杂度"), "{message}");

    // 500 aliases of one cheap field.
    let aliases: String = (0..500).map(|i| format!("a{i}: me {{ sub }} ")).collect();
    let (_, body) = app
        .gql(Some(&admin), &format!("{{ {aliases} }}"), json!({}))
        .await;
    assert_eq!(error_code(&body), Some("QUERY_TOO_COMPLEX"), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("查询过于复杂：选择了 1000 个字段")
    );

    // A fragment spread many times counts every time.
    let spreads: String = (0..200).map(|i| format!("s{i}: me {{ ...F }} ")).collect();
    let query = format!("{{ {spreads} }} fragment F on Me {{ sub role }}");
    let (_, body) = app.gql(Some(&admin), &query, json!({})).await;
    assert_eq!(error_code(&body), Some("QUERY_TOO_COMPLEX"), "{body}");

    let directives = "{ me { sub @skip(if: false) @skip(if: false) @skip(if: false) @skip(if: false) @skip(if: false) } }";
    let (_, body) = app.gql(Some(&admin), directives, json!({})).await;
    assert!(body.get("errors").is_some(), "{body}");
    assert!(body.get("data").is_none_or(Value::is_null), "{body}");

    // A real front-end page passes: 100 findings with their relations.
    let page = "{ findings(first: 100) { totalCount edges { cursor node { id ordinal title status deadline isOverdue \
        department { name } category { title } measures { id content status department { name } } \
        regulations { title } targets { name currentValue } } } pageInfo { hasNextPage endCursor } } }";
    app.data(&admin, page, json!({})).await;
}

#[tokio::test]
async fn batches_run_up_to_ten_operations_and_bigger_ones_run_nothing() {
    let app = spawn_app().await;
    let admin = TestUser::admin();
    let finding = app.finding_id(1).await.to_string();
    let op = json!({"query": ADD, "variables": {"f": finding}});

    let two: Vec<Value> = vec![op.clone(), json!({"query": "{ me { role } }"})];
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&admin)
        .json(&two)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body.as_array().unwrap().len(), 2);
    assert_eq!(body[1]["data"]["me"]["role"], "ADMIN");
    assert_eq!(entries(&app).await, 1);

    let eleven: Vec<Value> = std::iter::repeat_n(op, 11).collect();
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&admin)
        .json(&eleven)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), Some("BATCH_TOO_LARGE"));
    assert_eq!(entries(&app).await, 1, "nothing in the refused batch ran");
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_413_even_when_chunked() {
    let app = spawn_app().await;
    let padding = "x".repeat(200 * 1024);
    let query = format!("{{ me {{ sub }} }} # {padding}");
    let response = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({"query": query}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"errors": [{"message": "请求体超过 131072 字节", "extensions": {"code": "PAYLOAD_TOO_LARGE"}}]})
    );

    // The same body, chunked: no Content-Length to refuse up front.
    let payload = json!({"query": query}).to_string();
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for chunk in payload.as_bytes().chunks(16 * 1024) {
        let written = async {
            stream
                .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .await?;
            stream.write_all(chunk).await?;
            stream.write_all(b"\r\n").await
        };
        // The server may answer and close before the whole body is sent.
        if written.await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"PAYLOAD_TOO_LARGE\""), "{answer}");
}

#[tokio::test]
async fn only_json_posts_run_and_get_never_runs_a_mutation() {
    let app = spawn_app().await;
    let admin = TestUser::admin();
    let finding = app.finding_id(1).await.to_string();
    let body = json!({"query": ADD, "variables": {"f": finding}}).to_string();

    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/xml",
    ] {
        let response = app
            .client
            .post(app.url("/graphql"))
            .bearer_auth(&admin)
            .header("Content-Type", content_type)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 415, "{content_type}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(error_code(&answer), Some("UNSUPPORTED_MEDIA_TYPE"));
    }
    // Multipart is for uploads and must follow the GraphQL multipart request spec.
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&admin)
        .header("Content-Type", "multipart/form-data; boundary=x")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        error_code(&response.json().await.unwrap()),
        Some("BAD_REQUEST")
    );
    let mutation = format!(
        "mutation{{addProgressEntry(input:{{findingId:%22{finding}%22,content:%22x%22}}){{id}}}}"
    );
    let response = app
        .client
        .get(app.url(&format!("/graphql?query={mutation}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("GraphiQL"));
    assert_eq!(
        entries(&app).await,
        0,
        "neither a non-JSON POST nor a GET ran the mutation"
    );

    let response = app
        .client
        .post(app.url("/graphql"))
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        error_code(&response.json().await.unwrap()),
        Some("BAD_REQUEST")
    );
}

#[tokio::test]
async fn production_hides_suggestions_and_introspection_can_be_switched_off() {
    let dev = spawn_app().await;
    let (_, body) = dev
        .gql(Some(&TestUser::admin()), "{ findingz { id } }", json!({}))
        .await;
    assert_eq!(
        body["errors"][0]["message"],
        json!("类型“Query”没有字段“findingz”。您是不是要找“finding”或“findings”？"),
        "{body}"
    );
    assert_eq!(error_code(&body), Some("GRAPHQL_VALIDATION_FAILED"));
    // An argument the schema does not have is the document's mistake even when a variable
    // fills it; a bad value in a variable for a real argument is the caller's data.
    let (_, body) = dev
        .gql(
            Some(&TestUser::admin()),
            "query($x: ID!) { finding(ident: $x) { id } }",
            json!({"x": "1"}),
        )
        .await;
    let codes: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["extensions"]["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.iter().all(|c| *c == "GRAPHQL_VALIDATION_FAILED"),
        "{body}"
    );
    let (_, body) = dev
        .gql(
            Some(&TestUser::admin()),
            "query($x: Int) { findings(first: $x) { totalCount } }",
            json!({"x": "many"}),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");

    let prod = spawn_app_with(&[
        "--jwt-secret",
        SECRET,
        "--env",
        "production",
        "--graphql-introspection",
        "false",
    ])
    .await;
    let (_, body) = prod
        .gql(Some(&TestUser::admin()), "{ findingz { id } }", json!({}))
        .await;
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert_eq!(message, "类型“Query”没有字段“findingz”", "{message}");
    let (_, body) = prod
        .gql(
            Some(&TestUser::admin()),
            "{ __schema { types { name } } }",
            json!({}),
        )
        .await;
    assert!(
        body.get("errors").is_some() || body["data"]["__schema"].is_null(),
        "{body}"
    );
    // Ordinary queries still work.
    prod.data(&TestUser::admin(), "{ me { role } }", json!({}))
        .await;
}

#[tokio::test]
async fn a_request_past_the_timeout_ends_with_an_error_and_changes_nothing() {
    let app = spawn_app_with(&["--jwt-secret", SECRET, "--request-timeout", "1s"]).await;
    let admin = TestUser::admin();
    let finding = app.finding_id(1).await;
    // Another connection holds the write lock, so the mutation has to wait.
    let lock = hold_the_write_lock(&app).await;
    let started = Instant::now();
    let input = json!({"input": {"id": finding.to_string(), "version": 1, "title": "超时的修改"}});
    let (status, body) = app
        .gql(
            Some(&admin),
            "mutation($input: UpdateFindingInput!) { updateFinding(input: $input) { id } }",
            input,
        )
        .await;
    let took = started.elapsed();
    assert_eq!(status, 503, "{body}");
    assert_eq!(error_code(&body), Some("TIMEOUT"));
    assert!(took < Duration::from_secs(5), "answered after {took:?}");
    lock.rollback().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        count(
            &app.db,
            &format!("SELECT COUNT(*) FROM finding WHERE id = {finding} AND title = '超时的修改'")
        )
        .await,
        0
    );
    if app.test_db.is_postgres() {
        // The statement was cancelled in the database too, not left running.
        assert_eq!(
            count(&app.db, "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active' AND query LIKE '%UPDATE \"finding\"%'").await,
            0
        );
    }
    // The server is still fine.
    app.data(&admin, "{ me { role } }", json!({})).await;
}

#[tokio::test]
async fn a_mutation_sent_over_the_socket_past_the_timeout_ends_with_an_error_and_changes_nothing() {
    let app = spawn_app_with(&["--jwt-secret", SECRET, "--request-timeout", "1s"]).await;
    let admin = TestUser::admin();
    let finding = app.finding_id(1).await;
    // Another connection holds the write lock, so the mutation has to wait.
    let lock = hold_the_write_lock(&app).await;
    let mut socket = crate::ws_client::Ws::as_caller(&app.address, &admin).await;
    let started = Instant::now();
    socket
        .subscribe(
            "1",
            "mutation($input: UpdateFindingInput!) { updateFinding(input: $input) { id } }",
            json!({"input": {"id": finding.to_string(), "version": 1, "title": "套接字上超时的修改"}}),
        )
        .await;
    let answer = socket.next().await.expect("the socket stays open");
    let took = started.elapsed();
    assert_eq!(answer["type"], "next", "{answer}");
    assert_eq!(answer["id"], "1", "{answer}");
    assert_eq!(
        answer["payload"]["errors"][0]["extensions"]["code"], "TIMEOUT",
        "{answer}"
    );
    assert!(took < Duration::from_secs(5), "answered after {took:?}");
    lock.rollback().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        count(
            &app.db,
            &format!(
                "SELECT COUNT(*) FROM finding WHERE id = {finding} AND title = '套接字上超时的修改'"
            )
        )
        .await,
        0
    );
    app.data(&admin, "{ me { role } }", json!({})).await;
}

/// A transaction of another connection that holds what a finding's update needs: SQLite's
/// write lock, or on PostgreSQL the finding table.
pub(crate) async fn hold_the_write_lock(app: &TestApp) -> sea_orm::DatabaseTransaction {
    use sea_orm::{ConnectionTrait, SqliteTransactionMode, TransactionOptions, TransactionTrait};
    let blocker = app.test_db.connect().await;
    let lock = blocker
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await
        .unwrap();
    if app.test_db.is_postgres() {
        lock.execute_unprepared("LOCK TABLE finding IN ACCESS EXCLUSIVE MODE")
            .await
            .unwrap();
    }
    lock
}

//! Logins counted as guesses: every attempt counts, however it is aliased or batched, per
//! account name and client address, per address and per name; throttled names are refused
//! alike whether an account has them or not; failures and throttling are audited with the
//! address, and no account is made for a name that has none; HTTP and the WebSocket share the
//! counts.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{SECRET, TestApp, TestUser, count, error_code, spawn_app_with};

const LOGIN: &str =
    "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }";
const RIGHT: &str = "correct horse battery";

/// An app that believes the test's `X-Forwarded-For`, with `extra` login settings.
async fn app_with(extra: &[&str]) -> TestApp {
    let mut flags = vec!["--jwt-secret", SECRET, "--trusted-proxies", "127.0.0.1"];
    flags.extend_from_slice(extra);
    spawn_app_with(&flags).await
}

async fn create_account(app: &TestApp, username: &str) {
    let query =
        "mutation($input: CreateAccountInput!) { createAccount(input: $input) { username } }";
    let input = json!({"input": {"username": username, "password": RIGHT, "role": "OFFICER", "departmentCode": "ZJTZB-BGS"}});
    let (_, body) = app.gql(Some(&TestUser::admin()), query, input).await;
    assert_eq!(
        body["data"]["createAccount"]["username"], username,
        "{body}"
    );
}

/// Posts `body` to /graphql as the client at `address`.
async fn post_from(app: &TestApp, address: &str, body: &Value) -> Value {
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("X-Forwarded-For", address)
        .json(body)
        .send()
        .await
        .expect("the server answers");
    assert_eq!(response.status(), 200);
    response.json().await.expect("a JSON body")
}

async fn login_from(app: &TestApp, address: &str, username: &str, password: &str) -> Value {
    post_from(
        app,
        address,
        &json!({"query": LOGIN, "variables": {"u": username, "p": password}}),
    )
    .await
}

/// The answer's one error, with the seconds in its message and `retryAfter` left out (they
/// say how long, which differs by when it is asked).
fn answer(body: &Value) -> Value {
    let error = &body["errors"][0];
    let message = error["message"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .replace(|c: char| c.is_ascii_digit(), "");
    json!({"code": error["extensions"]["code"], "message": message, "data": body["data"]})
}

#[tokio::test]
async fn a_hundred_guesses_aliased_and_batched_in_one_request_count_as_a_hundred() {
    let app = app_with(&["--login-lockout", "2s"]).await;
    create_account(&app, "wang.wu").await;

    // Ten operations of ten aliased logins each: one request, a hundred guesses.
    let batch: Vec<Value> = (0..10)
        .map(|op| {
            let fields: String = (0..10)
                .map(|n| {
                    format!(
                        "g{n}: login(username: \"wang.wu\", password: \"guess number {op}-{n}\") {{ accessToken }} "
                    )
                })
                .collect();
            json!({"query": format!("mutation {{ {fields}}}")})
        })
        .collect();
    let answers = post_from(&app, "203.0.113.7", &Value::Array(batch)).await;
    let answers = answers.as_array().unwrap_or_else(|| panic!("{answers}"));
    assert_eq!(answers.len(), 10);
    let codes: Vec<&str> = answers
        .iter()
        .flat_map(|a| a["errors"].as_array().unwrap_or_else(|| panic!("{a}")))
        .map(|e| e["extensions"]["code"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(codes.len(), 100, "{codes:?}");
    // Five guesses are checked; the other ninety-five are refused unchecked.
    assert_eq!(codes[..5], ["UNAUTHENTICATED"; 5], "{codes:?}");
    assert!(codes[5..].iter().all(|c| *c == "RATE_LIMITED"), "{codes:?}");
    let refused = &answers[9]["errors"][9];
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .starts_with("登录尝试过于频繁，请 "),
        "{refused}"
    );
    let retry = refused["extensions"]["retryAfter"].as_u64().unwrap();
    assert!((1..=2).contains(&retry), "{refused}");

    // The right password from the guessing address waits too ...
    let body = login_from(&app, "203.0.113.7", "wang.wu", RIGHT).await;
    assert_eq!(error_code(&body), Some("RATE_LIMITED"), "{body}");
    // ... while the owner, elsewhere, is not shut out by a stranger's guessing.
    let body = login_from(&app, "198.51.100.20", "wang.wu", RIGHT).await;
    assert!(body["data"]["login"]["accessToken"].is_string(), "{body}");
    // Once the wait is over, the guessing address may try again.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let body = login_from(&app, "203.0.113.7", "wang.wu", RIGHT).await;
    assert!(body["data"]["login"]["accessToken"].is_string(), "{body}");
}

#[tokio::test]
async fn unknown_names_wrong_passwords_and_throttled_names_are_answered_alike() {
    let app = app_with(&["--login-max-failures", "2"]).await;
    create_account(&app, "li.si").await;
    let existing: Vec<Value> = {
        let mut all = Vec::new();
        for _ in 0..3 {
            all.push(answer(
                &login_from(&app, "203.0.113.7", "li.si", "wrong password!").await,
            ));
        }
        all
    };
    let unknown: Vec<Value> = {
        let mut all = Vec::new();
        for _ in 0..3 {
            all.push(answer(
                &login_from(&app, "203.0.113.7", "nobody.here", "wrong password!").await,
            ));
        }
        all
    };
    assert_eq!(existing, unknown);
    let failed = json!({"code": "UNAUTHENTICATED", "message": "用户名或密码不正确", "data": null});
    let throttled =
        json!({"code": "RATE_LIMITED", "message": "登录尝试过于频繁，请  秒后再试", "data": null});
    assert_eq!(
        existing,
        [failed.clone(), failed.clone(), throttled.clone()]
    );
    // Throttled, even the right password is refused the same way.
    let body = login_from(&app, "203.0.113.7", "li.si", RIGHT).await;
    assert_eq!(answer(&body), throttled);
    // A name longer than any account's is one more unknown name (audited cut to 64 characters).
    let long = "长".repeat(10_000);
    let body = login_from(&app, "203.0.113.8", &long, "wrong password!").await;
    assert_eq!(answer(&body), failed);
    let kept = count(
        &app.db,
        &format!(
            "SELECT COUNT(*) FROM audit_event WHERE action = 'login.failed' AND entity_id = '{}'",
            "长".repeat(64)
        ),
    )
    .await;
    assert_eq!(kept, 1);
}

#[tokio::test]
async fn failed_logins_and_throttling_are_audited_with_the_address_and_make_no_account() {
    let app = app_with(&["--login-max-failures", "2"]).await;
    create_account(&app, "zhao.liu").await;
    for _ in 0..3 {
        login_from(&app, "203.0.113.9", "nobody.here", "wrong password!").await;
    }
    login_from(&app, "203.0.113.9", "zhao.liu", "wrong password!").await;

    let log = "query($f: AuditFilterInput) { auditLog(filter: $f, direction: ASC) { nodes { actor action entityType entityId after } } }";
    let (_, body) = app
        .gql(
            Some(&TestUser::admin()),
            log,
            json!({"f": {"entityType": "login"}}),
        )
        .await;
    let nodes = body["data"]["auditLog"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    let tried = |scope: Option<&str>, name: &str, account: Value| {
        let mut after = json!({"username": name, "address": "203.0.113.9", "accountId": account});
        if let Some(scope) = scope {
            after["scope"] = json!(scope);
        }
        after
    };
    let events: Vec<(String, String, Value)> = nodes
        .iter()
        .map(|n| {
            assert_eq!(n["actor"], "anonymous", "{n}");
            (
                n["action"].as_str().unwrap().to_owned(),
                n["entityId"].as_str().unwrap().to_owned(),
                n["after"].clone(),
            )
        })
        .collect();
    let account_id = count(
        &app.db,
        "SELECT id FROM account WHERE username = 'zhao.liu'",
    )
    .await;
    let nobody = || "nobody.here".to_owned();
    // Two failures of the unknown name, the second spending its budget from that address;
    // the third attempt was refused unchecked (logged, not audited); then one failure of the
    // existing name.
    assert_eq!(
        events,
        [
            (
                "login.failed".to_owned(),
                nobody(),
                tried(None, "nobody.here", Value::Null)
            ),
            (
                "login.failed".to_owned(),
                nobody(),
                tried(None, "nobody.here", Value::Null)
            ),
            (
                "login.throttled".to_owned(),
                nobody(),
                tried(Some("name_from_address"), "nobody.here", Value::Null)
            ),
            (
                "login.failed".to_owned(),
                "zhao.liu".to_owned(),
                tried(None, "zhao.liu", json!(account_id))
            ),
        ]
    );
    // Auditing a name no account has made no account of it.
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM account WHERE username = 'nobody.here'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn guessing_from_many_addresses_reaches_the_names_ceiling_and_spraying_the_addresses() {
    let app = app_with(&[
        "--login-max-failures",
        "2",
        "--login-account-max-failures",
        "6",
        "--login-address-max-failures",
        "3",
    ])
    .await;
    create_account(&app, "sun.qi").await;
    // The owner has logged in from the office before.
    let body = login_from(&app, "192.0.2.10", "sun.qi", RIGHT).await;
    assert!(body.get("errors").is_none(), "{body}");
    // Three addresses, two guesses each: six failures of the name from everywhere.
    for address in ["203.0.113.1", "203.0.113.2", "203.0.113.3"] {
        for _ in 0..2 {
            let body = login_from(&app, address, "sun.qi", "wrong password!").await;
            assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
        }
    }
    // Now the name waits from every address, and admins see until when.
    let body = login_from(&app, "198.51.100.1", "sun.qi", RIGHT).await;
    assert_eq!(error_code(&body), Some("RATE_LIMITED"), "{body}");
    let (_, body) = app
        .gql(
            Some(&TestUser::admin()),
            "{ accounts(search: \"sun.qi\") { nodes { username lockedUntil } } }",
            json!({}),
        )
        .await;
    assert!(
        body["data"]["accounts"]["nodes"][0]["lockedUntil"].is_string(),
        "{body}"
    );
    // Strangers cannot shut the owner out of the office, where they logged in before.
    let body = login_from(&app, "192.0.2.10", "sun.qi", RIGHT).await;
    assert!(body.get("errors").is_none(), "{body}");
    // An admin's password reset forgets the name's failures: a new address gets in too.
    let id = body_id(&app, "sun.qi").await;
    app.data(
        &TestUser::admin(),
        "mutation($id: ID!, $p: String!) { resetPassword(id: $id, newPassword: $p) { id } }",
        json!({"id": id, "p": RIGHT}),
    )
    .await;
    let body = login_from(&app, "198.51.100.1", "sun.qi", RIGHT).await;
    assert!(body.get("errors").is_none(), "{body}");

    // One address spraying a password across names spends its own budget of three.
    for name in ["a.one", "b.two", "c.three"] {
        let body = login_from(&app, "192.0.2.50", name, "Spring2026!!").await;
        assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    }
    let body = login_from(&app, "192.0.2.50", "d.four", "Spring2026!!").await;
    assert_eq!(error_code(&body), Some("RATE_LIMITED"), "{body}");
    // Another address is not held back by it.
    let body = login_from(&app, "192.0.2.51", "d.four", "Spring2026!!").await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
}

#[tokio::test]
async fn logins_sent_over_the_websocket_count_with_those_over_http_from_the_same_address() {
    let app = app_with(&["--login-max-failures", "2"]).await;
    create_account(&app, "qian.ba").await;
    let mut ws =
        crate::ws_client::Ws::open_with(&app.address, &[("x-forwarded-for", "203.0.113.30")]).await;
    ws.send(json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {}", TestUser::viewer(None))}}))
        .await;
    let ack = ws.next().await.expect("an answer to connection_init");
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    let guesses = "mutation { a: login(username: \"qian.ba\", password: \"first wrong one\") { accessToken } b: login(username: \"qian.ba\", password: \"second wrong one\") { accessToken } c: login(username: \"qian.ba\", password: \"third wrong one\") { accessToken } }";
    ws.subscribe("1", guesses, json!({})).await;
    let message = ws.next().await.expect("the socket stays open");
    let codes: Vec<&str> = message["payload"]["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("{message}"))
        .iter()
        .map(|e| e["extensions"]["code"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        codes,
        ["UNAUTHENTICATED", "UNAUTHENTICATED", "RATE_LIMITED"]
    );
    // The same address over HTTP finds the name throttled; another address does not.
    let body = login_from(&app, "203.0.113.30", "qian.ba", RIGHT).await;
    assert_eq!(error_code(&body), Some("RATE_LIMITED"), "{body}");
    let body = login_from(&app, "203.0.113.31", "qian.ba", RIGHT).await;
    assert!(body["data"]["login"]["accessToken"].is_string(), "{body}");
}

/// The id of the account named `username`, as admins list it.
async fn body_id(app: &TestApp, username: &str) -> String {
    let body = app
        .data(
            &TestUser::admin(),
            "query($s: String!) { accounts(search: $s) { nodes { id username } } }",
            json!({"s": username}),
        )
        .await;
    body["accounts"]["nodes"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

//! When the database goes away for a moment: answers are SERVICE_UNAVAILABLE (503 with
//! Retry-After), never an internal error; `/readyz` says the database is down while it is;
//! and a script that retries with its Idempotency-Key gets exactly one write. PostgreSQL
//! only: its connections can be cut and refused for one database without touching others.

use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

use crate::helpers::{TestUser, count, spawn_app};

const ADD: &str = "mutation($f: ID!) { addProgressEntry(input: {findingId: $f, content: \"断网重试的台账记录\"}) { id } }";

#[tokio::test]
async fn a_database_outage_is_retryable_and_a_retried_write_happens_once() {
    let app = spawn_app().await;
    if !app.test_db.is_postgres() {
        return;
    }
    let admin_url = std::env::var("TEST_DATABASE_URL").unwrap();
    let admin = Database::connect(&admin_url).await.unwrap();
    let name = app.test_db.url.rsplit('/').next().unwrap().to_owned();
    let cut = |allow: bool| {
        let (admin, name) = (&admin, name.clone());
        async move {
            admin
                .execute_unprepared(&format!(
                    "ALTER DATABASE {name} WITH ALLOW_CONNECTIONS {allow}"
                ))
                .await
                .unwrap();
            if !allow {
                admin
                    .execute_unprepared(&format!(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                         WHERE datname = '{name}' AND pid <> pg_backend_pid()"
                    ))
                    .await
                    .unwrap();
            }
        }
    };
    let finding = app.finding_id(1).await.to_string();
    let post = |key: &'static str| {
        app.client
            .post(app.url("/graphql"))
            .bearer_auth(TestUser::manager("ZJTZB"))
            .header("Idempotency-Key", key)
            .json(&json!({"query": ADD, "variables": {"f": finding}}))
            .send()
    };

    cut(false).await;
    let started = Instant::now();
    let response = post("retry-1").await.unwrap();
    assert_eq!(response.status(), 503);
    assert!(response.headers().get("retry-after").is_some());
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "SERVICE_UNAVAILABLE",
        "{body}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );

    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    assert_eq!(
        ready.json::<Value>().await.unwrap(),
        json!({"status": "unavailable", "database": "unreachable"})
    );
    let rest = app
        .client
        .get(app.url("/api/v1/status"))
        .bearer_auth(TestUser::admin())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.status(), 503);
    assert!(rest.headers().get("retry-after").is_some());
    let body: Value = rest.json().await.unwrap();
    assert_eq!(body["error"]["code"], "SERVICE_UNAVAILABLE", "{body}");

    cut(true).await;
    // The script retries until it gets an answer; the write is made once.
    let mut answered = None;
    for _ in 0..40 {
        let response = post("retry-1").await.unwrap();
        if response.status() == 200 {
            answered = Some(response.json::<Value>().await.unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let answered = answered.expect("the database came back");
    assert!(answered.get("errors").is_none(), "{answered}");
    let replay = post("retry-1").await.unwrap();
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    assert_eq!(replay.json::<Value>().await.unwrap(), answered);
    let db = app.test_db.connect().await;
    let written = count(
        &db,
        "SELECT COUNT(*) FROM progress_entry WHERE content = '断网重试的台账记录'",
    )
    .await;
    assert_eq!(written, 1);
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
}

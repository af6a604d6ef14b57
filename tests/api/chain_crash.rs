//! Audited writes and the chain across a crash: on PostgreSQL an event is chained after its
//! change commits, before the change is answered. A server killed (`kill -9`) in the middle
//! of a burst of writes from 16 clients loses no write it acknowledged, duplicates none,
//! leaves its chain verifiable, and what it left waiting is chained when a server starts.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{Value, json};

use crate::helpers::{SECRET, TestDb, TestUser, http_client};

/// The real binary serving `db` on `port`, its logs discarded.
fn server(db: &TestDb, port: u16, data: &std::path::Path) -> std::process::Child {
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
        ])
        .env("RECTRACK_DATA_DIR", data)
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

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// `rectrack audit verify` on `db`: its exit status and what it printed.
fn verify(db: &TestDb, data: &std::path::Path) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rectrack"))
        .args(["audit", "verify"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RECTRACK_DATABASE_URL", &db.url)
        .env("RECTRACK_DATA_DIR", data)
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[tokio::test]
async fn a_server_killed_during_a_write_burst_keeps_every_acknowledged_write_once_on_a_chain_that_verifies()
 {
    let db = TestDb::new().await;
    let data = std::env::temp_dir().join(format!("rectrack_chain_crash_{}", free_port()));
    let client = http_client();
    let port = free_port();
    let mut first = server(&db, port, &data);
    ready(&client, port).await;

    // 16 clients create findings until the server is gone; each id is noted once answered.
    let acknowledged = Arc::new(Mutex::new(Vec::<i64>::new()));
    let gone = Arc::new(AtomicBool::new(false));
    let token = TestUser::manager("ZJTZB");
    let writers: Vec<_> = (0..16)
        .map(|w| {
            let (client, acknowledged, gone, token) = (
                client.clone(),
                acknowledged.clone(),
                gone.clone(),
                token.clone(),
            );
            tokio::spawn(async move {
                let mut n = 0;
                while !gone.load(Ordering::SeqCst) {
                    let sent = client
                        .post(format!("http://127.0.0.1:{port}/graphql"))
                        .bearer_auth(&token)
                        .json(&json!({
                            "query": "mutation($i: CreateFindingInput!) { createFinding(input: $i) { id } }",
                            "variables": {"i": {"inspectionId": "1", "title": format!("突发写入 {w}-{n}"), "rectificationType": "IMMEDIATE", "departmentCode": "ZJTZB-BGS"}}
                        }))
                        .send()
                        .await;
                    n += 1;
                    // A request the dying server never answered is not acknowledged.
                    let Ok(response) = sent else { continue };
                    let Ok(body) = response.json::<Value>().await else {
                        continue;
                    };
                    if let Some(id) = body["data"]["createFinding"]["id"].as_str() {
                        acknowledged.lock().unwrap().push(id.parse().unwrap());
                    }
                }
            })
        })
        .collect();
    let started = Instant::now();
    while acknowledged.lock().unwrap().len() < 200 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the writers are answered"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // SIGKILL, with writes in flight.
    first.kill().expect("kill -9");
    first.wait().expect("the server is gone");
    gone.store(true, Ordering::SeqCst);
    for writer in writers {
        writer.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();

    let (intact, said) = verify(&db, &data);
    assert!(intact && said.contains("audit trail intact"), "{said}");
    let conn = db.connect().await;
    let created = |table: &str| {
        format!(
            "SELECT COUNT(*) FROM {table} WHERE action = 'finding.create' AND entity_id IN ({})",
            acknowledged
                .iter()
                .map(|id| format!("'{id}'"))
                .collect::<Vec<_>>()
                .join(",")
        )
    };
    let ids = acknowledged
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    assert_eq!(
        count(
            &conn,
            &format!("SELECT COUNT(*) FROM finding WHERE id IN ({ids})")
        )
        .await,
        acknowledged.len() as i64,
        "every acknowledged finding is there"
    );
    // Acknowledged means chained: each has its one event on the chain, none waiting.
    assert_eq!(
        count(&conn, &created("audit_event")).await,
        acknowledged.len() as i64,
        "every acknowledged write has exactly one event on the chain"
    );
    assert_eq!(count(&conn, &created("audit_pending")).await, 0);
    // Every finding the burst made, answered or not, has exactly one event, chained or waiting.
    let made = count(
        &conn,
        "SELECT COUNT(*) FROM finding WHERE title LIKE '突发写入%'",
    )
    .await;
    let burst = "entity_id IN (SELECT CAST(id AS TEXT) FROM finding WHERE title LIKE '突发写入%')";
    let events = count(
        &conn,
        &format!(
            "SELECT (SELECT COUNT(*) FROM audit_event WHERE action = 'finding.create' AND {burst}) \
             + (SELECT COUNT(*) FROM audit_pending WHERE action = 'finding.create' AND {burst})"
        ),
    )
    .await;
    assert!(made >= acknowledged.len() as i64);
    assert_eq!(events, made, "one creation event per finding");

    // A server started on the database chains whatever a killed one left waiting.
    let second_port = free_port();
    let mut second = server(&db, second_port, &data);
    ready(&client, second_port).await;
    second.kill().expect("stopped");
    second.wait().expect("the server is gone");
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM audit_pending").await, 0);
    assert_eq!(
        count(
            &conn,
            &format!(
                "SELECT COUNT(*) FROM audit_event WHERE action = 'finding.create' AND {burst}"
            )
        )
        .await,
        made
    );
    let (intact, said) = verify(&db, &data);
    assert!(intact && said.contains("audit trail intact"), "{said}");
    assert!(!said.contains("wait for their place"), "{said}");
    conn.close().await.ok();
    let _ = std::fs::remove_dir_all(&data);
}

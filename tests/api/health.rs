//! The binary starts, answers its probes and stops cleanly.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rectrack::startup::Application;

use crate::helpers::{TestDb, config};

#[tokio::test]
async fn the_binary_serves_probes_on_a_fresh_database_and_stops_on_sigterm() {
    let db = TestDb::new().await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_rectrack"))
        .env("RECTRACK_DATABASE_URL", &db.url)
        .env("RECTRACK_BIND", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut lines = BufReader::new(stdout).lines();
    let address = loop {
        let line = lines
            .next()
            .expect("the server prints its address before anything else ends")
            .expect("stdout is text");
        if let Some(rest) = line.strip_prefix("rectrack listening on ") {
            break rest.trim().to_owned();
        }
    };

    let client = crate::helpers::http_client();
    let health = client
        .get(format!("{address}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let body: serde_json::Value = health.json().await.unwrap();
    assert_eq!(body["status"], "ok");

    let ready = client
        .get(format!("{address}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({"status": "ready", "database": "ok"})
    );

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let started = Instant::now();
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("wait works") {
            break exit;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the server did not stop within 10 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "clean exit after SIGTERM, got {exit:?}");
    // The port is closed afterwards.
    assert!(
        client
            .get(format!("{address}/healthz"))
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn readyz_answers_503_when_the_database_is_unreachable() {
    let db = TestDb::new().await;
    let app = Application::build(config(&db, &[])).await.unwrap();
    let address = format!("http://{}", app.address());
    let pool = app.state().db.clone();
    tokio::spawn(app.run_until_stopped());
    let client = crate::helpers::http_client();

    let ok = client
        .get(format!("{address}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);

    // Closing the shared pool makes every query fail, as a lost database would.
    pool.close().await.unwrap();
    let down = client
        .get(format!("{address}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(down.status(), 503);
    let body: serde_json::Value = down.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({"status": "unavailable", "database": "unreachable"})
    );
    // Liveness does not depend on the database.
    let alive = client
        .get(format!("{address}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(alive.status(), 200);
}

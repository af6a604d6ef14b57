//! The benchmark data generator, at a small scale: the same statements as at province scale.

use std::process::Command;

use rectrack::startup::Application;
use serde_json::json;

use crate::helpers::{SECRET, TestDb, TestUser, config, count};

#[tokio::test]
async fn dev_generate_fills_an_empty_database_that_the_api_then_serves() {
    let db = TestDb::new().await;
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_rectrack"))
            .args(["dev", "generate", "--findings", "400"])
            .env("RECTRACK_DATABASE_URL", &db.url)
            .env("RECTRACK_DEMO", "false")
            .output()
            .expect("the binary runs")
    };
    let output = run();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let conn = db.connect().await;
    for (table, rows) in [
        ("department", 2000),
        ("inspection", 2),
        ("category", 6),
        ("finding", 400),
        ("measure", 2000),
        ("progress_entry", 4000),
        ("regulation", 20),
        ("finding_regulation", 20),
    ] {
        assert_eq!(
            count(&conn, &format!("SELECT COUNT(*) FROM {table}")).await,
            rows,
            "{table}"
        );
    }
    // Every finding's department lies in its inspection's unit's subtree.
    let outside = "SELECT COUNT(*) FROM finding f JOIN inspection i ON i.id = f.inspection_id \
        JOIN department u ON u.id = i.unit_id JOIN department d ON d.id = f.department_id \
        WHERE d.path NOT LIKE u.path || '%'";
    assert_eq!(count(&conn, outside).await, 0);
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM finding WHERE length(description) < 150"
        )
        .await,
        0
    );
    // A second run refuses to add to it.
    let again = run();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds 400 findings"));

    // The data serves: the benchmark's list page, and a unit's manager sees its own part.
    let app = Application::build(config(&db, &["--jwt-secret", SECRET, "--demo", "false"]))
        .await
        .unwrap();
    let address = format!("http://{}", app.address());
    tokio::spawn(app.run_until_stopped());
    let client = crate::helpers::http_client();
    let q1 = "{ findings(first: 50) { totalCount edges { node { id title status department { name } measures { id content status } } } } }";
    let body: serde_json::Value = client
        .post(format!("{address}/graphql"))
        .bearer_auth(TestUser::admin())
        .json(&json!({"query": q1}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["data"]["findings"]["totalCount"], 400, "{body}");
    assert_eq!(
        body["data"]["findings"]["edges"][0]["node"]["measures"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    let unit: serde_json::Value = client
        .post(format!("{address}/graphql"))
        .bearer_auth(TestUser::manager("D21"))
        .json(&json!({"query": "{ findings { totalCount } }"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        unit["data"]["findings"]["totalCount"], 200,
        "inspection 1 belongs to unit D21"
    );
}

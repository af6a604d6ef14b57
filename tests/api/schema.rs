//! `schema.graphql` is the contract front ends build on: it must equal what the server serves.

use std::process::Command;

use serde_json::json;

use crate::helpers::spawn_app;

const CHECKED_IN: &str = include_str!("../../schema.graphql");

#[test]
fn schema_graphql_equals_what_rectrack_schema_prints() {
    let output = Command::new(env!("CARGO_BIN_EXE_rectrack"))
        .arg("schema")
        .output()
        .expect("the binary runs");
    assert!(output.status.success());
    let printed = String::from_utf8(output.stdout).unwrap();
    assert!(
        printed == CHECKED_IN,
        "schema.graphql is stale: run `cargo run -- schema > schema.graphql` and review the diff"
    );
}

#[tokio::test]
async fn the_served_schema_has_every_type_of_schema_graphql() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({"query": "{ __schema { types { name } } serverInfo { version database } }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    let served: Vec<&str> = body["data"]["__schema"]["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .filter(|name| !name.starts_with("__"))
        .collect();
    for name in &served {
        let declared = [
            format!("type {name} "),
            format!("enum {name} "),
            format!("input {name} "),
            format!("scalar {name}"),
            format!("interface {name} "),
            format!("union {name} "),
        ];
        let builtin = ["String", "Int", "Float", "Boolean", "ID"].contains(name);
        assert!(
            builtin || declared.iter().any(|d| CHECKED_IN.contains(d.as_str())),
            "served type {name} is missing from schema.graphql"
        );
    }
    let expected_engine = if app.test_db.is_postgres() {
        "POSTGRESQL"
    } else {
        "SQLITE"
    };
    assert_eq!(body["data"]["serverInfo"]["database"], expected_engine);
    assert_eq!(
        body["data"]["serverInfo"]["version"],
        env!("CARGO_PKG_VERSION")
    );
}

//! Documents: parsed and checked once, sent by hash (automatic persisted queries), registered
//! as trusted documents from the manifests front-end tools emit, and an allow-list of them.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{SECRET, TestApp, TestUser, error_code, spawn_app, spawn_app_with};

const FINDING: &str = "query One($id: ID!) { finding(id: $id) { id title } }";

fn sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn post(app: &TestApp, token: Option<&str>, body: Value) -> (u16, Value) {
    let mut request = app.client.post(app.url("/graphql")).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// A manifest file in a fresh temporary folder.
fn manifest(name: &str, content: &Value) -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("rectrack_documents_{}_{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("documents.json");
    std::fs::write(&path, serde_json::to_vec(content).unwrap()).unwrap();
    path
}

#[tokio::test]
async fn a_text_seen_before_is_still_checked_against_its_new_variables() {
    let app = spawn_app().await;
    let admin = TestUser::admin();
    let first = app.data(&admin, FINDING, json!({"id": "1"})).await;
    assert_eq!(first["finding"]["id"], "1");
    // The same text with a variable of the wrong type: refused as before, not waved through
    // because the text passed once.
    let (status, body) = app
        .gql(Some(&admin), FINDING, json!({"id": {"not": "an id"}}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert!(body["data"].is_null(), "{body}");
    // And a limit that depends on a variable (the page size's cost) holds on a text seen before.
    let page = "query P($n: Int) { inspections(first: $n) { edges { node { findings(first: $n) { edges { node { id measures { id } } } } } } } }";
    app.data(&admin, page, json!({"n": 1})).await;
    let (_, body) = app.gql(Some(&admin), page, json!({"n": 100})).await;
    assert_eq!(error_code(&body), Some("QUERY_TOO_COMPLEX"), "{body}");
}

#[tokio::test]
async fn automatic_persisted_queries_follow_apollos_protocol() {
    let app = spawn_app().await;
    let admin = TestUser::admin();
    let hash = sha256(FINDING);
    let apq = json!({"persistedQuery": {"version": 1, "sha256Hash": hash}});
    // Unknown hash: the client is told to send the text.
    let (status, body) = post(
        &app,
        Some(&admin),
        json!({"variables": {"id": "2"}, "extensions": apq}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        error_code(&body),
        Some("PERSISTED_QUERY_NOT_FOUND"),
        "{body}"
    );
    // A text with a hash that is not its own is refused and not registered.
    let wrong = json!({"persistedQuery": {"version": 1, "sha256Hash": sha256("{ __typename }")}});
    let (_, body) = post(
        &app,
        Some(&admin),
        json!({"query": FINDING, "variables": {"id": "2"}, "extensions": wrong}),
    )
    .await;
    assert_eq!(error_code(&body), Some("BAD_REQUEST"), "{body}");
    // The text with its hash runs and registers it.
    let (_, with_text) = post(
        &app,
        Some(&admin),
        json!({"query": FINDING, "variables": {"id": "2"}, "extensions": apq}),
    )
    .await;
    assert_eq!(with_text["data"]["finding"]["id"], "2", "{with_text}");
    // Then the hash alone answers the same, with any variables.
    let (_, by_hash) = post(
        &app,
        Some(&admin),
        json!({"variables": {"id": "2"}, "extensions": apq}),
    )
    .await;
    assert_eq!(by_hash, with_text);
    let (_, other) = post(
        &app,
        Some(&admin),
        json!({"variables": {"id": "3"}, "extensions": apq}),
    )
    .await;
    assert_eq!(other["data"]["finding"]["id"], "3", "{other}");
}

#[tokio::test]
async fn trusted_documents_run_by_id_in_the_formats_front_end_tools_emit() {
    // graphql-codegen's client preset: {"sha256 hash": "document"}, sent as documentId
    // "sha256:<hash>"; Relay: {"id": "document"}, sent as doc_id.
    let codegen = manifest(
        "codegen",
        &json!({ sha256(FINDING): FINDING, "relay-summary-1": "query Summary { statusSummary { total } }" }),
    );
    let path = codegen.to_string_lossy().into_owned();
    let app = spawn_app_with(&["--jwt-secret", SECRET, "--graphql-documents", &path]).await;
    let admin = TestUser::admin();
    let (_, body) = post(
        &app,
        Some(&admin),
        json!({"documentId": format!("sha256:{}", sha256(FINDING)), "variables": {"id": "1"}}),
    )
    .await;
    assert_eq!(body["data"]["finding"]["id"], "1", "{body}");
    let (_, body) = post(&app, Some(&admin), json!({"doc_id": "relay-summary-1"})).await;
    assert!(
        body["data"]["statusSummary"]["total"].as_i64().unwrap() > 0,
        "{body}"
    );
    let (_, body) = post(&app, Some(&admin), json!({"documentId": "sha256:0000"})).await;
    assert_eq!(
        error_code(&body),
        Some("PERSISTED_QUERY_NOT_FOUND"),
        "{body}"
    );
    // In a batch too.
    let (_, body) = post(
        &app,
        Some(&admin),
        json!([{"doc_id": "relay-summary-1"}, {"query": "{ __typename }"}]),
    )
    .await;
    assert_eq!(body[1]["data"]["__typename"], "Query", "{body}");
    assert!(body[0]["data"]["statusSummary"].is_object(), "{body}");
}

#[tokio::test]
async fn a_server_that_runs_only_trusted_documents_refuses_any_other_text() {
    let apollo = manifest(
        "apollo",
        &json!({
            "format": "apollo-persisted-query-manifest",
            "version": 1,
            "operations": [{"id": "finding-one", "name": "One", "type": "query", "body": FINDING}]
        }),
    );
    let path = apollo.to_string_lossy().into_owned();
    let app = spawn_app_with(&[
        "--jwt-secret",
        SECRET,
        "--graphql-documents",
        &path,
        "--graphql-trusted-only",
        "true",
    ])
    .await;
    let admin = TestUser::admin();
    let (_, body) = post(
        &app,
        Some(&admin),
        json!({"documentId": "finding-one", "variables": {"id": "1"}}),
    )
    .await;
    assert_eq!(body["data"]["finding"]["id"], "1", "{body}");
    // The trusted text sent as text runs too; any other text is refused before it is parsed,
    // introspection included, and an automatic persisted query registers nothing.
    let (_, body) = app.gql(Some(&admin), FINDING, json!({"id": "1"})).await;
    assert_eq!(body["data"]["finding"]["id"], "1", "{body}");
    for text in [
        "{ __typename }",
        "{ __schema { types { name } } }",
        "not even GraphQL",
    ] {
        let (status, body) = app.gql(Some(&admin), text, json!({})).await;
        assert_eq!(status, 200);
        assert_eq!(
            error_code(&body),
            Some("PERSISTED_QUERY_NOT_IN_LIST"),
            "{text}: {body}"
        );
        assert!(body.get("data").is_none_or(Value::is_null), "{body}");
    }
    let text = "{ statusSummary { total } }";
    let apq = json!({"persistedQuery": {"version": 1, "sha256Hash": sha256(text)}});
    let (_, body) = post(
        &app,
        Some(&admin),
        json!({"query": text, "extensions": apq}),
    )
    .await;
    assert_eq!(
        error_code(&body),
        Some("PERSISTED_QUERY_NOT_IN_LIST"),
        "{body}"
    );
    let (_, body) = post(&app, Some(&admin), json!({"extensions": apq})).await;
    assert_eq!(
        error_code(&body),
        Some("PERSISTED_QUERY_NOT_FOUND"),
        "{body}"
    );
}

#[tokio::test]
async fn a_bad_manifest_or_an_allow_list_without_one_stops_the_start() {
    let db = crate::helpers::TestDb::new().await;
    let broken = manifest("broken", &json!({"bad": "query { finding(id: "}));
    let path = broken.to_string_lossy().into_owned();
    let built = rectrack::startup::Application::build(crate::helpers::config(
        &db,
        &["--jwt-secret", SECRET, "--graphql-documents", &path],
    ))
    .await;
    let err = built
        .err()
        .expect("a document that does not parse stops the start");
    assert!(err.to_string().contains("bad"), "{err}");
    let built = rectrack::startup::Application::build(crate::helpers::config(
        &db,
        &["--jwt-secret", SECRET, "--graphql-trusted-only", "true"],
    ))
    .await;
    let err = built.err().expect("an allow-list needs its manifest");
    assert!(
        err.to_string().contains("RECTRACK_GRAPHQL_DOCUMENTS"),
        "{err}"
    );
}

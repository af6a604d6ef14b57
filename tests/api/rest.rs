//! REST for integration: status, incremental pull with cursors while findings change, ETags,
//! scoping on every endpoint, and an OpenAPI document that matches the routes.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, spawn_app};

async fn get(app: &TestApp, token: Option<&str>, path: &str) -> (u16, Value) {
    let mut request = app.client.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn status_and_inspections_answer_within_scope() {
    let app = spawn_app().await;
    let (status, body) = get(&app, Some(&TestUser::inspector()), "/api/v1/status").await;
    assert_eq!(status, 200);
    assert_eq!(body["overall"]["total"], 35);
    assert_eq!(body["overall"]["closed"], 9);
    assert_eq!(body["inspections"][0]["unitCode"], "ZJTZB");
    assert_eq!(body["inspections"][0]["counts"]["longTerm"], 9);
    let (_, body) = get(&app, Some(&TestUser::inspector()), "/api/v1/inspections").await;
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    assert_eq!(body["nextCursor"], Value::Null);
    assert_eq!(body["items"][0]["inspectionGroup"], "市委第五巡察组");

    // Another unit's manager: nothing of ours, everywhere.
    app.sql("INSERT INTO department (code, name, kind, parent_id, path, created_at, updated_at) VALUES ('OTHER', '另一单位', 'unit', 1, '/1/99/', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')").await;
    let other = TestUser::manager("OTHER");
    assert_eq!(
        get(&app, Some(&other), "/api/v1/status").await.1["overall"]["total"],
        0
    );
    assert_eq!(
        get(&app, Some(&other), "/api/v1/inspections").await.1["items"],
        json!([])
    );
    let (status, body) = get(&app, Some(&other), "/api/v1/inspections/1/findings").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("NOT_FOUND"))
    );
    let report = app
        .data(
            &TestUser::manager("ZJTZB"),
            "mutation { generateReport(inspectionId: 1) { id } }",
            json!({}),
        )
        .await["generateReport"]["id"]
        .clone();
    let (status, _) = get(
        &app,
        Some(&other),
        &format!("/api/v1/reports/{}", report.as_str().unwrap()),
    )
    .await;
    assert_eq!(status, 404);
    // No token: 401 with the REST error body.
    let (status, body) = get(&app, None, "/api/v1/status").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("UNAUTHENTICATED"))
    );
    let (status, body) = get(&app, Some("garbage"), "/api/v1/status").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("UNAUTHENTICATED"))
    );
    let (status, body) = get(
        &app,
        Some(&TestUser::inspector()),
        "/api/v1/inspections/1/findings?updated_since=yesterday",
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("BAD_USER_INPUT"))
    );
}

#[tokio::test]
async fn an_incremental_pull_sees_every_change_once_across_pages_while_findings_change() {
    let app = spawn_app().await;
    let reader = TestUser::inspector();
    let manager = TestUser::manager("ZJTZB");
    let mut seen: Vec<(i64, String)> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!(
                "/api/v1/inspections/1/findings?limit=5&updated_since=2000-01-01T00:00:00Z&cursor={c}"
            ),
            None => "/api/v1/inspections/1/findings?limit=5&updated_since=2000-01-01T00:00:00Z"
                .to_owned(),
        };
        let (status, body) = get(&app, Some(&reader), &path).await;
        assert_eq!(status, 200, "{body}");
        for item in body["items"].as_array().unwrap() {
            seen.push((
                item["ordinal"].as_i64().unwrap(),
                item["updatedAt"].as_str().unwrap().to_owned(),
            ));
            assert!(item["measures"].is_array());
        }
        pages += 1;
        if pages == 2 {
            // Finding 1 was pulled on page 1; changing it now moves it to the end.
            let f1 = app.finding_id(1).await.to_string();
            app.data(
                &manager,
                "mutation($i: UpdateFindingInput!) { updateFinding(input: $i) { id } }",
                json!({"i": {"id": f1, "version": 1, "responsiblePerson": "张科长"}}),
            )
            .await;
        }
        match body["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let ordinals: Vec<i64> = seen.iter().map(|(o, _)| *o).collect();
    assert_eq!(
        ordinals.len(),
        36,
        "35 findings, and finding 1 again after its change: {ordinals:?}"
    );
    assert_eq!(*ordinals.last().unwrap(), 1, "the newest change comes last");
    let mut unique = ordinals.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique, (1..=35).collect::<Vec<i64>>());
    // Newest change last: updatedAt never goes down along the pull.
    assert!(seen.windows(2).all(|w| w[0].1 <= w[1].1));

    // Asking from the last change on returns just it.
    let since = &seen.last().unwrap().1;
    let (_, body) = get(
        &app,
        Some(&reader),
        &format!(
            "/api/v1/inspections/1/findings?updated_since={}",
            since.replace('+', "%2B")
        ),
    )
    .await;
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["responsiblePerson"], "张科长");
}

#[tokio::test]
async fn every_get_has_an_etag_and_answers_304_until_the_data_changes() {
    let app = spawn_app().await;
    let reader = TestUser::inspector();
    let first = app
        .client
        .get(app.url("/api/v1/status"))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let again = app
        .client
        .get(app.url("/api/v1/status"))
        .bearer_auth(&reader)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());
    // A change: the same tag no longer matches.
    let f1 = app.finding_id(1).await.to_string();
    let input = json!({"input": {"findingId": f1, "content": "进展"}});
    app.data(
        &TestUser::officer("ZJTZB-BGS"),
        "mutation($input: AddProgressEntryInput!) { addProgressEntry(input: $input) { id } }",
        input,
    )
    .await;
    let version = app.finding_version(f1.parse().unwrap()).await;
    let input = json!({"i": {"id": f1, "version": version, "deadline": "2020-04-02"}});
    app.data(
        &TestUser::manager("ZJTZB"),
        "mutation($i: UpdateFindingInput!) { updateFinding(input: $i) { id } }",
        input,
    )
    .await;
    let changed = app
        .client
        .get(app.url("/api/v1/status"))
        .bearer_auth(&reader)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    assert_ne!(changed.headers()["etag"].to_str().unwrap(), etag);
}

#[tokio::test]
async fn the_openapi_document_matches_the_routes_and_the_checked_in_copy() {
    let app = spawn_app().await;
    let (status, doc) = get(&app, None, "/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    let checked_in: Value = serde_json::from_str(include_str!("../../docs/openapi.json")).unwrap();
    assert!(
        doc == checked_in,
        "docs/openapi.json is stale: run `cargo run -- openapi > docs/openapi.json`"
    );
    let paths = doc["paths"].as_object().unwrap();
    assert_eq!(paths.len(), 23);
    assert!(paths.contains_key("/api/v1/exchange/export"));
    assert!(paths.contains_key("/api/v1/exchange/bundles"));
    assert!(paths.contains_key("/api/v1/exchange/conflicts"));
    assert!(paths.contains_key("/api/v1/exchange/peer/bundles"));
    assert!(paths.contains_key("/api/v1/exchange/peer/bundle"));
    assert!(paths.contains_key("/api/v1/exchange/peer/acks"));
    let page = app
        .client
        .get(app.url("/api/v1/docs"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let admin = TestUser::admin();
    for (path, item) in paths {
        // The exchange POSTs: a bundle written for a peer, a bundle imported from one, and
        // connected mode's (tests/api/exchange.rs, exchange_import.rs, exchange_connected.rs).
        if path == "/api/v1/exchange/export"
            || path == "/api/v1/exchange/bundles"
            || path == "/api/v1/exchange/peer/bundles"
            || path == "/api/v1/exchange/peer/acks"
        {
            continue;
        }
        for method in item.as_object().unwrap().keys() {
            // The one route that is not a GET: the public's feedback post (its own tests).
            if path == "/public/bulletins/{id}/feedback" {
                assert_eq!(method, "post");
                assert!(
                    page.contains(&format!("POST {path}")),
                    "the docs page lists {path}"
                );
                continue;
            }
            assert_eq!(method, "get", "{path}");
            assert!(
                page.contains(&format!("GET {path}")),
                "the docs page lists {path}"
            );
            // Every documented path is served: an answer from a handler, never the router's
            // own "no route" (404 with an empty body) or "wrong method" (405).
            let concrete = path
                .replace("{id}", "1")
                .replace("{code}", "0000000000000000000Z");
            let response = app
                .client
                .get(app.url(&concrete))
                .bearer_auth(&admin)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body = response.bytes().await.unwrap();
            assert_ne!(status, 405, "{path}");
            assert!(
                status != 404 || !body.is_empty(),
                "{path} is documented but not routed"
            );
        }
    }
    // And an undocumented path is not served.
    let response = app
        .client
        .get(app.url("/api/v1/nothing-here"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

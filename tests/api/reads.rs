//! How the read path saves work without changing an answer: a finding's description is read
//! only when a selection shows it, and a list's `totalCount` is counted once per change.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, count, spawn_app};

/// Every finding's description, by id, as stored.
async fn stored_descriptions(app: &TestApp) -> Vec<(String, String)> {
    use sea_orm::{ConnectionTrait, Statement};
    let rows = app
        .db
        .query_all_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT id, description FROM finding ORDER BY id",
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            (
                r.try_get_by_index::<i32>(0).unwrap().to_string(),
                r.try_get_by_index::<String>(1).unwrap(),
            )
        })
        .collect()
}

fn pairs(nodes: &Value, field: &str) -> Vec<(String, String)> {
    nodes
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["id"].as_str().unwrap().to_owned(),
                n[field].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_description_is_answered_however_the_selection_asks_for_it() {
    let app = spawn_app().await;
    let admin = TestUser::admin();
    // A description of its own for every finding, so that an empty one would show.
    app.sql("UPDATE finding SET description = '问题描述' || id")
        .await;
    let stored = stored_descriptions(&app).await;
    assert!(stored.len() >= 5, "the demo data has findings");

    let data = app
        .data(
            &admin,
            "query { plain: findings(first: 100) { nodes { id description } }
              aliased: findings(first: 100) { edges { node { id d: description } } }
              spread: findings(first: 100) { edges { node { ...F } } }
              inline: findings(first: 100) { nodes { id ... on Finding { description } } }
              without: findings(first: 100) { nodes { id title } } }
             fragment F on Finding { id description }",
            json!({}),
        )
        .await;
    assert_eq!(pairs(&data["plain"]["nodes"], "description"), stored);
    let aliased: Vec<Value> = data["aliased"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    assert_eq!(pairs(&json!(aliased), "d"), stored);
    let spread: Vec<Value> = data["spread"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    assert_eq!(pairs(&json!(spread), "description"), stored);
    assert_eq!(pairs(&data["inline"]["nodes"], "description"), stored);
    assert_eq!(
        data["without"]["nodes"].as_array().unwrap().len(),
        stored.len()
    );

    // Nested under inspections, and a measure's finding, with and without the description.
    let data = app
        .data(
            &admin,
            "{ inspections(first: 10) { nodes { findings(first: 100) { nodes { id description } } } }
               measures(first: 100) { nodes { finding { id description } brief: finding { id title } } } }",
            json!({}),
        )
        .await;
    let mut nested: Vec<(String, String)> = data["inspections"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| pairs(&i["findings"]["nodes"], "description"))
        .collect();
    nested.sort_by_key(|(id, _)| id.parse::<i64>().unwrap());
    assert_eq!(nested, stored);
    let measures = data["measures"]["nodes"].as_array().unwrap();
    assert!(!measures.is_empty());
    for m in measures {
        let id = m["finding"]["id"].as_str().unwrap();
        let want = &stored.iter().find(|(i, _)| i == id).unwrap().1;
        assert_eq!(m["finding"]["description"], json!(want), "{m}");
        assert_eq!(m["brief"]["id"], json!(id));
    }
}

const COUNTS: &str = "{ findings(filter: { status: [NOT_STARTED] }) { totalCount }
  inspections(first: 10) { nodes { id findings(filter: { status: [NOT_STARTED] }) { totalCount } } } }";

/// Runs an operation that must succeed on the instance at `address`; returns its `data`.
async fn post(app: &TestApp, address: &str, token: &str, query: &str, variables: Value) -> Value {
    let body: Value = app
        .client
        .post(format!("{address}/graphql"))
        .bearer_auth(token)
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(body.get("errors").is_none(), "{body}");
    body["data"].clone()
}

async fn counts(app: &TestApp, address: Option<&str>, token: &str) -> (i64, i64) {
    let body = match address {
        None => app.data(token, COUNTS, json!({})).await,
        Some(address) => post(app, address, token, COUNTS, json!({})).await,
    };
    let nested: i64 = body["inspections"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["findings"]["totalCount"].as_i64().unwrap())
        .sum();
    (body["findings"]["totalCount"].as_i64().unwrap(), nested)
}

#[tokio::test]
async fn a_total_count_is_counted_again_after_any_change_on_any_instance() {
    let app = spawn_app().await;
    let second = app.another(&["--jwt-secret", crate::helpers::SECRET]).await;
    let admin = TestUser::admin();
    // Findings not started yet, one in each of two offices of the unit.
    app.create_finding("科室甲尚未开始的问题", "ZJTZB-BGS")
        .await;
    app.create_finding("科室乙尚未开始的问题", "ZJTZB-GBK")
        .await;
    let stored = count(
        &app.db,
        "SELECT COUNT(*) FROM finding WHERE status = 'not_started' AND archived_at IS NULL",
    )
    .await;
    assert!(stored >= 2);
    assert_eq!(counts(&app, None, &admin).await, (stored, stored));
    // A manager's count is of its own reach, not the admin's kept one.
    let manager = TestUser::manager("ZJTZB-BGS");
    let reach = counts(&app, None, &manager).await;
    assert!(0 < reach.0 && reach.0 < stored, "{reach:?} of {stored}");
    assert_eq!(reach.0, reach.1);

    // Kept while nothing is audited: a row written behind the API's back is not counted yet
    // (this is what shows that the count is kept, not read on every request)...
    app.sql("UPDATE finding SET status = 'in_progress' WHERE title = '科室乙尚未开始的问题'")
        .await;
    assert_eq!(counts(&app, None, &admin).await, (stored, stored));
    // ...and the next audited change, here made through the other instance, shows both.
    post(
        &app,
        &second,
        &TestUser::manager("ZJTZB"),
        "mutation($i: CreateFindingInput!) { createFinding(input: $i) { id } }",
        json!({"i": {"inspectionId": "1", "title": "另一台服务器上新增的问题", "rectificationType": "IMMEDIATE", "departmentCode": "ZJTZB"}}),
    )
    .await;
    let now = count(
        &app.db,
        "SELECT COUNT(*) FROM finding WHERE status = 'not_started' AND archived_at IS NULL",
    )
    .await;
    assert_eq!(now, stored);
    assert_eq!(counts(&app, None, &admin).await, (now, now));
    assert_eq!(counts(&app, Some(&second), &admin).await, (now, now));
    assert_eq!(counts(&app, None, &manager).await, (reach.0, reach.1));

    // An archived finding leaves the count at once.
    let id = app.create_finding("随后归档的问题", "ZJTZB").await;
    assert_eq!(counts(&app, None, &admin).await, (now + 1, now + 1));
    app.data(
        &admin,
        "mutation($id: ID!, $v: Int!) { archiveFinding(id: $id, version: $v) { id } }",
        json!({"id": id, "v": app.finding_version(id.parse().unwrap()).await}),
    )
    .await;
    assert_eq!(counts(&app, None, &admin).await, (now, now));
}

/// Requests at once share reads of the change counter (one at a time), yet a count asked for
/// after a change was answered always includes it, whichever request read the counter.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_total_count_among_many_at_once_includes_every_change_answered_before_it() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicI64, Ordering};
    const TOTAL: &str = "{ findings(filter: {search: \"同时计数\"}) { totalCount } }";
    let app = Arc::new(spawn_app().await);
    let admin = TestUser::admin();
    // Changes answered so far, and changes begun: every count lies between the two.
    let answered = Arc::new(AtomicI64::new(0));
    let begun = Arc::new(AtomicI64::new(0));
    let (writers, each) = (4, 12);

    let mut tasks = Vec::new();
    for writer in 0..writers {
        let (app, answered, begun) = (app.clone(), answered.clone(), begun.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..each {
                begun.fetch_add(1, Ordering::SeqCst);
                app.create_finding(&format!("同时计数 {writer}-{i}"), "ZJTZB")
                    .await;
                answered.fetch_add(1, Ordering::SeqCst);
            }
            0
        }));
    }
    for _ in 0..12 {
        let (app, admin, answered, begun) =
            (app.clone(), admin.clone(), answered.clone(), begun.clone());
        tasks.push(tokio::spawn(async move {
            let mut asked = 0;
            loop {
                let before = answered.load(Ordering::SeqCst);
                let body = app.data(&admin, TOTAL, json!({})).await;
                let total = body["findings"]["totalCount"].as_i64().unwrap();
                let after = begun.load(Ordering::SeqCst);
                assert!(
                    before <= total && total <= after,
                    "a count of {total} asked after {before} changes were answered ({after} begun)"
                );
                asked += 1;
                if before == writers * each {
                    return asked;
                }
            }
        }));
    }
    let mut asked = 0;
    for task in tasks {
        asked += task.await.unwrap();
    }
    assert!(asked >= 12, "{asked} counts asked");
    assert_eq!(
        app.data(&admin, TOTAL, json!({})).await["findings"]["totalCount"],
        writers * each
    );
}

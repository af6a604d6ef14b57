//! Each list filter, checked against counts taken from the bulletin by hand.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, spawn_app};

async fn total(app: &TestApp, token: &str, list: &str, filter: Value) -> i64 {
    let query = format!(
        "query($filter: {}FilterInput) {{ {list}(filter: $filter) {{ totalCount }} }}",
        capitalised(list)
    );
    let data = app.data(token, &query, json!({"filter": filter})).await;
    data[list]["totalCount"].as_i64().unwrap()
}

fn capitalised(list: &str) -> String {
    let singular = list.trim_end_matches('s');
    let mut chars = singular.chars();
    chars.next().unwrap().to_uppercase().chain(chars).collect()
}

async fn ordinals(app: &TestApp, token: &str, filter: Value) -> Vec<i64> {
    let query = "query($filter: FindingFilterInput) { findings(filter: $filter, first: 100) { edges { node { ordinal } } } }";
    let data = app.data(token, query, json!({"filter": filter})).await;
    data["findings"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["ordinal"].as_i64().unwrap())
        .collect()
}

async fn department_id(app: &TestApp, code: &str) -> String {
    crate::helpers::count(
        &app.db,
        &format!("SELECT id FROM department WHERE code = '{code}'"),
    )
    .await
    .to_string()
}

async fn set_deadline(app: &TestApp, admin: &str, ordinal: i32, deadline: &str) {
    let id = app.finding_id(ordinal).await.to_string();
    let version = crate::helpers::count(
        &app.db,
        &format!("SELECT version FROM finding WHERE id = {id}"),
    )
    .await;
    let query =
        "mutation($input: UpdateFindingInput!) { updateFinding(input: $input) { deadline } }";
    let data = app
        .data(
            admin,
            query,
            json!({"input": {"id": id, "version": version, "deadline": deadline}}),
        )
        .await;
    assert_eq!(data["updateFinding"]["deadline"], deadline);
}

#[tokio::test]
async fn findings_filter_by_each_condition() {
    let app = spawn_app().await;
    let admin = TestUser::admin();
    let category_3 = crate::helpers::count(&app.db, "SELECT id FROM category WHERE ordinal = 3")
        .await
        .to_string();

    assert_eq!(
        total(&app, &admin, "findings", json!({"inspectionId": "1"})).await,
        35
    );
    assert_eq!(
        total(&app, &admin, "findings", json!({"inspectionId": "999"})).await,
        0
    );
    assert_eq!(
        ordinals(&app, &admin, json!({"categoryId": category_3})).await,
        [20, 21]
    );
    // The unit's subtree holds every finding (the 14 unpublished ones at the unit itself);
    // 办公室 holds 1, 4-8 and 16-19.
    assert_eq!(
        total(
            &app,
            &admin,
            "findings",
            json!({"departmentId": department_id(&app, "ZJTZB").await})
        )
        .await,
        35
    );
    assert_eq!(
        ordinals(
            &app,
            &admin,
            json!({"departmentId": department_id(&app, "ZJTZB-BGS").await})
        )
        .await,
        [1, 4, 5, 6, 7, 8, 16, 17, 18, 19]
    );
    assert_eq!(
        ordinals(&app, &admin, json!({"status": ["CLOSED"]})).await,
        [2, 5, 10, 16, 17, 18, 19, 20, 21]
    );
    assert_eq!(
        total(
            &app,
            &admin,
            "findings",
            json!({"status": ["CLOSED", "IN_PROGRESS"]})
        )
        .await,
        35
    );
    assert_eq!(
        ordinals(&app, &admin, json!({"rectificationType": ["LONG_TERM"]})).await,
        [3, 4, 7, 8, 9, 11, 12, 13, 15]
    );
    // Text: in titles and descriptions, and in measures only (正大集团 is in finding 9's measure).
    assert_eq!(
        ordinals(&app, &admin, json!({"search": "党支部"})).await,
        [20]
    );
    assert_eq!(
        ordinals(&app, &admin, json!({"search": "正大集团"})).await,
        [9]
    );
    assert_eq!(
        ordinals(&app, &admin, json!({"search": "100%_"})).await,
        Vec::<i64>::new()
    );

    // Deadlines: 1 is past, 3 is ahead, 10 is past but closed (so not overdue).
    set_deadline(&app, &admin, 1, "2020-12-31").await;
    set_deadline(&app, &admin, 3, "2099-06-30").await;
    set_deadline(&app, &admin, 10, "2020-11-30").await;
    assert_eq!(ordinals(&app, &admin, json!({"overdue": true})).await, [1]);
    assert_eq!(
        total(&app, &admin, "findings", json!({"overdue": false})).await,
        34
    );
    assert_eq!(
        ordinals(&app, &admin, json!({"deadlineFrom": "2020-12-01"})).await,
        [1, 3]
    );
    assert_eq!(
        ordinals(
            &app,
            &admin,
            json!({"deadlineFrom": "2020-01-01", "deadlineTo": "2020-12-31"})
        )
        .await,
        [1, 10]
    );
    let query = "{ findings(orderBy: {field: DEADLINE}, first: 4) { edges { node { ordinal isOverdue daysOverdue } } } }";
    let data = app.data(&admin, query, json!({})).await;
    let nodes: Vec<Value> = data["findings"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    assert_eq!(nodes[0]["ordinal"], 10);
    assert_eq!(
        nodes[0]["isOverdue"], false,
        "closed findings are never overdue"
    );
    assert_eq!(nodes[1]["ordinal"], 1);
    assert_eq!(nodes[1]["isOverdue"], true);
    assert!(nodes[1]["daysOverdue"].as_i64().unwrap() > 365);
    assert_eq!(nodes[2]["ordinal"], 3);
    assert_eq!(
        nodes[3]["ordinal"], 2,
        "then the findings without a deadline, by id"
    );
    // Archived findings leave the lists unless asked for.
    let f = app.finding_id(35).await.to_string();
    let version = crate::helpers::count(
        &app.db,
        &format!("SELECT version FROM finding WHERE id = {f}"),
    )
    .await;
    app.data(
        &admin,
        "mutation($id: ID!, $v: Int!) { archiveFinding(id: $id, version: $v) { archived } }",
        json!({"id": f, "v": version}),
    )
    .await;
    assert_eq!(total(&app, &admin, "findings", json!({})).await, 34);
    assert_eq!(
        total(&app, &admin, "findings", json!({"includeArchived": true})).await,
        35
    );
}

#[tokio::test]
async fn measures_and_regulations_filter_by_each_condition() {
    let app = spawn_app().await;
    let admin = TestUser::admin();
    let f16 = app.finding_id(16).await.to_string();
    assert_eq!(total(&app, &admin, "measures", json!({})).await, 64);
    assert_eq!(
        total(&app, &admin, "measures", json!({"findingId": f16})).await,
        3
    );
    let done = total(&app, &admin, "measures", json!({"status": ["DONE"]})).await;
    let open = total(
        &app,
        &admin,
        "measures",
        json!({"status": ["PLANNED", "IN_PROGRESS"]}),
    )
    .await;
    assert_eq!(done + open, 64);
    assert_eq!(
        done,
        crate::helpers::count(
            &app.db,
            "SELECT COUNT(*) FROM measure WHERE status = 'done'"
        )
        .await
    );
    // 宗教科's measures: its own (2.2) and those of its findings without a department of their own.
    let zjk = department_id(&app, "ZJTZB-ZJK").await;
    let expected = crate::helpers::count(
        &app.db,
        "SELECT COUNT(*) FROM measure m JOIN finding f ON f.id = m.finding_id JOIN department d ON d.code = 'ZJTZB-ZJK' \
         WHERE m.department_id = d.id OR (m.department_id IS NULL AND f.department_id = d.id)",
    )
    .await;
    assert!(expected > 0);
    assert_eq!(
        total(&app, &admin, "measures", json!({"departmentId": zjk})).await,
        expected
    );
    let open_measure = crate::helpers::count(
        &app.db,
        "SELECT MIN(id) FROM measure WHERE status <> 'done'",
    )
    .await;
    let query =
        "mutation($input: UpdateMeasureInput!) { updateMeasure(input: $input) { isOverdue } }";
    let data = app.data(&admin, query, json!({"input": {"id": open_measure.to_string(), "version": 1, "deadline": "2021-01-31"}})).await;
    assert_eq!(data["updateMeasure"]["isOverdue"], true);
    assert_eq!(
        total(&app, &admin, "measures", json!({"overdue": true})).await,
        1
    );

    assert_eq!(total(&app, &admin, "regulations", json!({})).await, 54);
    assert_eq!(
        total(&app, &admin, "regulations", json!({"domain": ["FINANCE"]})).await,
        6
    );
    assert_eq!(
        total(&app, &admin, "regulations", json!({"status": ["REVISED"]})).await,
        2
    );
    assert_eq!(
        total(&app, &admin, "regulations", json!({"findingId": f16})).await,
        7
    );
    assert_eq!(
        total(&app, &admin, "regulations", json!({"search": "意识形态"})).await,
        2
    );
    let unit = department_id(&app, "ZJTZB").await;
    assert_eq!(
        total(&app, &admin, "regulations", json!({"departmentId": unit})).await,
        crate::helpers::count(
            &app.db,
            "SELECT COUNT(*) FROM regulation WHERE department_id IS NOT NULL"
        )
        .await
    );
}

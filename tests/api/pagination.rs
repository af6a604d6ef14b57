//! Relay pagination: forwards and backwards across pages with no gaps or repeats while rows
//! are inserted, page size limits, and cursors that belong to one list and order.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, error_code, spawn_app};

const PAGE: &str =
    "query($first: Int, $after: String, $last: Int, $before: String, $order: FindingOrderInput) {
  findings(first: $first, after: $after, last: $last, before: $before, orderBy: $order) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { ordinal } }
  }
}";

fn ordinals(connection: &Value) -> Vec<i64> {
    connection["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["ordinal"].as_i64().unwrap())
        .collect()
}

async fn create_finding(app: &TestApp, admin: &str, ordinal: i32) {
    let query =
        "mutation($input: CreateFindingInput!) { createFinding(input: $input) { ordinal } }";
    let input = json!({"input": {"inspectionId": "1", "ordinal": ordinal, "title": format!("新增问题{ordinal}"),
        "rectificationType": "BY_DEADLINE", "departmentCode": "ZJTZB-BGS"}});
    let data = app.data(admin, query, input).await;
    assert_eq!(data["createFinding"]["ordinal"], ordinal);
}

#[tokio::test]
async fn paging_forwards_sees_every_row_once_while_rows_are_inserted() {
    let app = spawn_app().await;
    let admin = TestUser::admin();
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let data = app
            .data(&admin, PAGE, json!({"first": 4, "after": after}))
            .await;
        let connection = &data["findings"];
        seen.extend(ordinals(connection));
        assert_eq!(connection["pageInfo"]["hasPreviousPage"], after.is_some());
        pages += 1;
        if pages == 2 {
            // Inserted ahead of the cursor: it must show up, once.
            create_finding(&app, &admin, 36).await;
        }
        if connection["pageInfo"]["hasNextPage"] == false {
            assert_eq!(connection["totalCount"], 36);
            break;
        }
        after = connection["pageInfo"]["endCursor"]
            .as_str()
            .map(str::to_owned);
    }
    assert_eq!(seen, (1..=36).collect::<Vec<i64>>());
    assert_eq!(pages, 9);
}

#[tokio::test]
async fn paging_backwards_mirrors_paging_forwards() {
    let app = spawn_app().await;
    let admin = TestUser::admin();
    let mut seen = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let data = app
            .data(&admin, PAGE, json!({"last": 5, "before": before}))
            .await;
        let connection = &data["findings"];
        let mut page = ordinals(connection);
        // Each page is itself in order.
        assert!(page.windows(2).all(|w| w[0] < w[1]), "{page:?}");
        page.extend(seen);
        seen = page;
        assert_eq!(connection["pageInfo"]["hasNextPage"], before.is_some());
        if connection["pageInfo"]["hasPreviousPage"] == false {
            break;
        }
        before = connection["pageInfo"]["startCursor"]
            .as_str()
            .map(str::to_owned);
    }
    assert_eq!(seen, (1..=35).collect::<Vec<i64>>());

    // Descending by deadline: findings without a deadline come last in ascending order, so
    // first in descending order; ties break by id, so the walk is still complete.
    let order = json!({"field": "DEADLINE", "direction": "DESC"});
    let first = app
        .data(&admin, PAGE, json!({"first": 18, "order": order}))
        .await;
    let cursor = first["findings"]["pageInfo"]["endCursor"].clone();
    let rest = app
        .data(
            &admin,
            PAGE,
            json!({"first": 18, "after": cursor, "order": order}),
        )
        .await;
    let mut all = ordinals(&first["findings"]);
    all.extend(ordinals(&rest["findings"]));
    all.sort_unstable();
    assert_eq!(all, (1..=35).collect::<Vec<i64>>());
}

#[tokio::test]
async fn page_sizes_and_cursors_are_checked() {
    let app = spawn_app().await;
    let admin = TestUser::admin();
    let data = app.data(&admin, PAGE, json!({})).await;
    assert_eq!(
        ordinals(&data["findings"]).len(),
        20,
        "the default page is 20"
    );
    let data = app.data(&admin, PAGE, json!({"first": 100})).await;
    assert_eq!(ordinals(&data["findings"]).len(), 35);

    for (variables, field) in [
        (json!({"first": 101}), "first"),
        (json!({"last": 500}), "last"),
        (json!({"first": -1}), "first"),
        (json!({"first": 5, "last": 5}), "last"),
        (json!({"first": 5, "after": "not-a-cursor"}), "after"),
    ] {
        let (_, body) = app.gql(Some(&admin), PAGE, variables.clone()).await;
        assert_eq!(
            error_code(&body),
            Some("BAD_USER_INPUT"),
            "{variables}: {body}"
        );
        assert_eq!(
            body["errors"][0]["extensions"]["field"], field,
            "{variables}"
        );
    }
    // A cursor of one order is refused by another.
    let by_ordinal = app.data(&admin, PAGE, json!({"first": 2})).await;
    let cursor = by_ordinal["findings"]["pageInfo"]["endCursor"].clone();
    let (_, body) = app
        .gql(
            Some(&admin),
            PAGE,
            json!({"first": 2, "after": cursor, "order": {"field": "UPDATED_AT"}}),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
}

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

/// A list nested under a page of parents (on PostgreSQL, read in the parents' statement) pages
/// as the same list read on its own: in every order, both ways, under parents paged both ways.
#[tokio::test]
async fn a_nested_page_is_the_list_read_on_its_own() {
    let app = spawn_app().await;
    let admin = TestUser::admin();
    // Regulations come by id: the last page of parents holds one that no finding cites.
    app.data(
        &admin,
        "mutation { createRegulation(input: {title: \"无关联的制度\", domain: ADMINISTRATION, \
         departmentCode: \"ZJTZB\", status: IN_FORCE}) { id } }",
        json!({}),
    )
    .await;
    let nested = "query($pf: Int, $pl: Int, $f: Int, $l: Int, $o: FindingOrderInput) {
      regulations(first: $pf, last: $pl) { nodes { id findings(first: $f, last: $l, orderBy: $o) {
        totalCount pageInfo { hasNextPage hasPreviousPage } nodes { id ordinal } } } } }";
    let alone = "query($r: ID!, $f: Int, $l: Int, $o: FindingOrderInput) {
      findings(filter: {regulationId: $r}, first: $f, last: $l, orderBy: $o) {
        totalCount pageInfo { hasNextPage hasPreviousPage } nodes { id ordinal } } }";
    let orders = [
        json!(null),
        json!({"field": "DEADLINE", "direction": "DESC"}),
        json!({"field": "UPDATED_AT", "direction": "ASC"}),
    ];
    let (mut cut, mut empty) = (0, 0);
    for order in &orders {
        for (f, l) in [(json!(2), json!(null)), (json!(null), json!(2))] {
            for (pf, pl) in [(json!(6), json!(null)), (json!(null), json!(6))] {
                let vars = json!({"pf": pf, "pl": pl, "f": f, "l": l, "o": order});
                let data = app.data(&admin, nested, vars).await;
                let parents = data["regulations"]["nodes"].as_array().unwrap();
                assert_eq!(parents.len(), 6, "{data}");
                for parent in parents {
                    let vars = json!({"r": parent["id"], "f": f, "l": l, "o": order});
                    let own = app.data(&admin, alone, vars).await;
                    assert_eq!(parent["findings"], own["findings"], "{order} {f} {l}");
                    let info = &own["findings"]["pageInfo"];
                    cut +=
                        usize::from(info["hasNextPage"] == true || info["hasPreviousPage"] == true);
                    empty += usize::from(own["findings"]["totalCount"] == 0);
                }
            }
        }
    }
    // Pages cut short and parents without rows were both seen.
    assert!(cut > 0 && empty > 0, "cut {cut}, empty {empty}");
}

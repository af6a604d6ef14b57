//! DataLoaders: a page of findings with all its relations runs a fixed number of SQL
//! statements, whatever the page size.

use serde_json::{Value, json};

use crate::helpers::{SECRET, TestApp, TestUser, count, error_code, spawn_app_with};

const PAGE: &str = "query($first: Int!) { findings(first: $first) { edges { node {
    id title department { name } category { title } inspection { title }
    measures { id content status department { name } }
    regulations { title domain } targets { name currentValue }
} } } }";

/// Adds `n` findings, each with two measures (one with a department of its own), a target and
/// a regulation link, straight into the database.
pub(crate) async fn grow(app: &TestApp, n: i32) {
    let now = "'2026-01-01T00:00:00Z'";
    for i in 0..n {
        let ordinal = 100 + i;
        app.sql(&format!(
            "INSERT INTO finding (inspection_id, category_id, ordinal, title, description, rectification_type, status, \
             department_id, created_at, updated_at, version) VALUES (1, 1, {ordinal}, '批量问题{i}', '', 'by_deadline', \
             'in_progress', {dept}, {now}, {now}, 1)",
            dept = 4 + i % 6
        ))
        .await;
        let finding = format!("(SELECT id FROM finding WHERE ordinal = {ordinal})");
        app.sql(&format!(
            "INSERT INTO measure (finding_id, ordinal, content, status, version, created_at, updated_at, department_id) \
             VALUES ({finding}, 1, '措施甲', 'planned', 1, {now}, {now}, NULL), \
                    ({finding}, 2, '措施乙', 'in_progress', 1, {now}, {now}, 5)"
        ))
        .await;
        app.sql(&format!(
            "INSERT INTO target (finding_id, name, unit, current_value, version, created_at, updated_at) \
             VALUES ({finding}, '指标', '%', {i}, 1, {now}, {now})"
        ))
        .await;
        app.sql(&format!(
            "INSERT INTO finding_regulation (finding_id, regulation_id, linked_at, linked_by) VALUES ({finding}, {r}, {now}, 'test')",
            r = 1 + i % 15
        ))
        .await;
    }
}

async fn statements_for(app: &TestApp, token: &str, first: i32) -> u64 {
    let before = app.sql_statements().await;
    let data = app.data(token, PAGE, json!({"first": first})).await;
    assert_eq!(
        data["findings"]["edges"].as_array().unwrap().len(),
        first as usize
    );
    app.sql_statements().await - before
}

#[tokio::test]
async fn a_page_of_findings_with_its_relations_costs_the_same_statements_at_any_size() {
    // A wide batching window, so that a slow debug build on a loaded machine still gathers
    // every key of a level into one batch (the property under test is that it batches).
    let app = spawn_app_with(&["--jwt-secret", SECRET, "--dataloader-delay", "50ms"]).await;
    grow(&app, 100).await;
    let admin = TestUser::admin();
    let small = statements_for(&app, &admin, 5).await;
    let large = statements_for(&app, &admin, 100).await;
    assert_eq!(small, large, "statements must not grow with the page size");
    // One page query plus one batch per relation: departments, categories, inspections,
    // measures, regulations, targets, then the measures' departments. Never one per row.
    assert_eq!(large, 8, "{large} statements for a page of 100");

    // A scoped caller pays one more statement: its department, read once per request.
    let manager = TestUser::manager("ZJTZB");
    assert_eq!(statements_for(&app, &manager, 100).await, large + 1);
}

/// Lists nested under a page of parents, each with its own page and `totalCount`.
const NESTED: &str = "query($n: Int!, $m: Int!, $after: String) {
  regulations(first: $n) { edges { node { id
    findings(first: $m, after: $after, orderBy: {field: DEADLINE, direction: DESC}) {
      totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
      edges { cursor node { id title } } } } } }
  findings(first: $n) { edges { node { id
    progress(first: $m) { totalCount pageInfo { hasNextPage endCursor } edges { node { id content } } } } } } }";

/// The same list for one parent, from the root field (the one-parent path).
const ROOT: &str = "query($r: ID!, $m: Int!, $after: String) {
  findings(first: $m, after: $after, filter: {regulationId: $r}, orderBy: {field: DEADLINE, direction: DESC}) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { id title } } } }";

/// Adds `per` ledger entries to each of the first `findings` grown findings, straight into the
/// database (so that ledgers are longer than a page).
async fn ledgers(app: &TestApp, findings: i32, per: i32) {
    for i in 0..findings {
        let finding = format!("(SELECT id FROM finding WHERE ordinal = {})", 100 + i);
        for k in 0..per + i % 3 {
            app.sql(&format!(
                "INSERT INTO progress_entry (finding_id, entry_date, kind, content, author_sub, created_at) \
                 VALUES ({finding}, '2026-01-0{d}', 'progress', '进展{i}-{k}', 'test', '2026-01-01T00:00:00Z')",
                d = 1 + k % 9
            ))
            .await;
        }
    }
}

async fn nested(app: &TestApp, token: &str, n: i32, m: i32, after: Option<&str>) -> (Value, u64) {
    let before = app.sql_statements().await;
    let data = app
        .data(token, NESTED, json!({"n": n, "m": m, "after": after}))
        .await;
    (data, app.sql_statements().await - before)
}

/// Every nested connection equals the root field's answer for its one parent, and every
/// ledger page equals the database's rows.
async fn check_against_one_parent(
    app: &TestApp,
    token: &str,
    data: &Value,
    m: i32,
    after: Option<&str>,
) {
    for edge in data["regulations"]["edges"].as_array().unwrap() {
        let node = &edge["node"];
        let root = app
            .data(
                token,
                ROOT,
                json!({"r": node["id"], "m": m, "after": after}),
            )
            .await;
        assert_eq!(
            node["findings"], root["findings"],
            "regulation {}",
            node["id"]
        );
    }
    let db = &app.db;
    for edge in data["findings"]["edges"].as_array().unwrap() {
        let node = &edge["node"];
        let id: i64 = node["id"].as_str().unwrap().parse().unwrap();
        let progress = &node["progress"];
        let total = count(
            db,
            &format!("SELECT COUNT(*) FROM progress_entry WHERE finding_id = {id}"),
        )
        .await;
        assert_eq!(progress["totalCount"], json!(total), "finding {id}");
        let shown: Vec<i64> = progress["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["id"].as_str().unwrap().parse().unwrap())
            .collect();
        assert_eq!(shown.len() as i64, total.min(m as i64), "finding {id}");
        assert_eq!(
            progress["pageInfo"]["hasNextPage"],
            json!(total > m as i64),
            "finding {id}"
        );
        for (k, entry) in shown.iter().enumerate() {
            let expected = count(
                db,
                &format!("SELECT id FROM progress_entry WHERE finding_id = {id} ORDER BY id LIMIT 1 OFFSET {k}"),
            )
            .await;
            assert_eq!(*entry, expected, "finding {id}, entry {k}");
        }
    }
}

#[tokio::test]
async fn connections_nested_under_a_page_cost_one_statement_per_level_at_any_size() {
    let app = spawn_app_with(&["--jwt-secret", SECRET, "--dataloader-delay", "50ms"]).await;
    grow(&app, 40).await;
    ledgers(&app, 12, 3).await;
    let admin = TestUser::admin();

    let (small, few) = nested(&app, &admin, 2, 2, None).await;
    let (large, many) = nested(&app, &admin, 12, 5, None).await;
    assert_eq!(few, many, "statements must not grow with either page size");
    // The two root pages, the regulations' findings and their counts, the ledgers and their
    // counts, each count with the change counter it is kept under: one statement per level
    // (and one per count), never one per parent. On PostgreSQL each nested list is read in the
    // statement of its parents' page.
    let fused = 2 * u64::from(app.test_db.is_postgres());
    assert_eq!(
        many,
        8 - fused,
        "{many} statements for 12 parents of each kind"
    );
    // Asked again with nothing changed, the counts are kept: the counter alone is read.
    let (again, kept) = nested(&app, &admin, 12, 5, None).await;
    assert_eq!(again, large);
    assert_eq!(kept, 6 - fused, "{kept} statements with the counts kept");
    check_against_one_parent(&app, &admin, &small, 2, None).await;
    check_against_one_parent(&app, &admin, &large, 5, None).await;

    // A cursor from one parent's page applies to every parent, as it does one parent at a time.
    let after = large["regulations"]["edges"][0]["node"]["findings"]["pageInfo"]["endCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let (paged, _) = nested(&app, &admin, 12, 2, Some(&after)).await;
    check_against_one_parent(&app, &admin, &paged, 2, Some(&after)).await;

    // A scoped caller sees, under each parent, what it sees of that parent alone.
    let manager = TestUser::manager("ZJTZB");
    let (scoped, _) = nested(&app, &manager, 12, 3, None).await;
    check_against_one_parent(&app, &manager, &scoped, 3, None).await;
    assert_ne!(
        scoped["regulations"], large["regulations"],
        "the scope must narrow something"
    );

    // A bad cursor in a nested list is the caller's mistake, named as one.
    let (status, body) = app
        .gql(
            Some(&admin),
            NESTED,
            json!({"n": 3, "m": 2, "after": "not-a-cursor"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "after", "{body}");
}

/// Pages of regulations and of inspections, each parent with a page of its findings (read in
/// the parents' statement on PostgreSQL), and the regulations again through `nodes`.
const WITH_PARENTS: &str = "query($first: Int, $last: Int, $rb: String, $ib: String, $m: Int,
    $ml: Int, $after: String) {
  regulations(first: $first, last: $last, before: $rb) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id title findings(first: $m, last: $ml, after: $after) { ...Page } } }
    nodes { id findings(first: 2) { totalCount nodes { id } } } }
  inspections(first: $first, last: $last, before: $ib) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id findings(first: $m, last: $ml, after: $after) { ...Page } } } } }
fragment Page on FindingConnection { totalCount
  pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  edges { cursor node { id title status department { id } } } }";

/// The parents' pages alone: nothing nested to read with them.
const PARENTS_ALONE: &str = "query($first: Int, $last: Int, $rb: String, $ib: String) {
  regulations(first: $first, last: $last, before: $rb) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id title } } }
  inspections(first: $first, last: $last, before: $ib) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id } } } }";

/// One parent's findings, asked of the parent alone.
const ONE_PARENT: &str = "query($r: ID!, $i: ID!, $m: Int, $ml: Int, $after: String) {
  regulation(id: $r) { findings(first: $m, last: $ml, after: $after) { ...Page } }
  inspection(id: $i) { findings(first: $m, last: $ml, after: $after) { ...Page } } }
fragment Page on FindingConnection { totalCount
  pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  edges { cursor node { id title status department { id } } } }";

#[tokio::test]
async fn a_list_read_with_its_parents_page_reads_as_under_each_parent_alone() {
    let app = spawn_app_with(&[
        "--jwt-secret",
        SECRET,
        "--graphql-max-complexity",
        "10000000",
    ])
    .await;
    grow(&app, 40).await;
    let admin = TestUser::admin();
    // A regulation that answers no finding: its page of findings is empty, not missing.
    let lone = app
        .data(
            &admin,
            "mutation { createRegulation(input: {title: \"无关联的制度\", \
             domain: PARTY_BUILDING, departmentCode: \"ZJTZB\", status: IN_FORCE}) { id } }",
            json!({}),
        )
        .await["createRegulation"]["id"]
        .clone();
    let tail = app.data(&admin, PARENTS_ALONE, json!({"last": 3})).await;
    let rb = &tail["regulations"]["pageInfo"]["endCursor"];
    let ib = &tail["inspections"]["pageInfo"]["endCursor"];
    // A cursor of the findings' order under a parent.
    let head = app
        .data(&admin, WITH_PARENTS, json!({"first": 1, "m": 1}))
        .await;
    let after = &head["regulations"]["edges"][0]["node"]["findings"]["pageInfo"]["endCursor"];
    assert!(after.is_string(), "{head}");
    let mut lone_seen = false;
    for (token, role) in [
        (admin.clone(), "admin"),
        (TestUser::manager("ZJTZB"), "manager"),
    ] {
        for vars in [
            json!({"first": 20, "m": 3}),
            json!({"first": 4, "ml": 2}),
            json!({"last": 5, "m": 2, "after": after}),
            json!({"last": 4, "rb": rb, "ib": ib, "ml": 3}),
            json!({"first": 60, "m": 50}),
        ] {
            let context = format!("{role}, {vars}");
            let body = app.data(&token, WITH_PARENTS, vars.clone()).await;
            let alone = app.data(&token, PARENTS_ALONE, vars.clone()).await;
            for list in ["regulations", "inspections"] {
                // The parents' page is the one read alone.
                assert_eq!(
                    body[list]["pageInfo"], alone[list]["pageInfo"],
                    "{context}, {list}"
                );
                let rows = |data: &Value| -> Vec<Value> {
                    data[list]["edges"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|e| json!([e["cursor"], e["node"]["id"]]))
                        .collect()
                };
                assert_eq!(rows(&body), rows(&alone), "{context}, {list}");
            }
            // Each parent's findings are those it has alone.
            let regulations = body["regulations"]["edges"].as_array().unwrap();
            let inspections = body["inspections"]["edges"].as_array().unwrap();
            assert!(regulations.len() >= 3, "{context}");
            for (k, edge) in regulations.iter().enumerate() {
                let regulation = &edge["node"];
                // The demo has fewer inspections: the first is asked for again past their end.
                let inspection = inspections.get(k).or(inspections.first());
                let inspection = inspection.map_or(&Value::Null, |edge| &edge["node"]);
                lone_seen |= regulation["id"] == lone;
                let mut one = json!({"r": regulation["id"], "i": inspection["id"].as_str().unwrap_or("999999")});
                for key in ["m", "ml", "after"] {
                    if let Some(value) = vars.get(key) {
                        one[key] = value.clone();
                    }
                }
                let single = app.data(&token, ONE_PARENT, one).await;
                assert_eq!(
                    regulation["findings"], single["regulation"]["findings"],
                    "{context}, regulation {}",
                    regulation["id"]
                );
                if !inspection.is_null() {
                    assert_eq!(
                        inspection["findings"], single["inspection"]["findings"],
                        "{context}, inspection {}",
                        inspection["id"]
                    );
                }
                if regulation["id"] == lone {
                    assert_eq!(regulation["findings"]["totalCount"], json!(0), "{context}");
                }
            }
            // The same regulations through `nodes`, with their own page of findings.
            let nodes = body["regulations"]["nodes"].as_array().unwrap();
            assert_eq!(nodes.len(), regulations.len(), "{context}");
            for (node, edge) in nodes.iter().zip(regulations) {
                assert_eq!(node["id"], edge["node"]["id"], "{context}");
                assert_eq!(
                    node["findings"]["totalCount"], edge["node"]["findings"]["totalCount"],
                    "{context}"
                );
            }
        }
    }
    assert!(
        lone_seen,
        "the regulation without findings must be in a page"
    );
}

/// Every relation of a measure, and of a finding (with its measures).
const MEASURE: &str = "fragment M on Measure { id content notices { code } warning { level }
  department { id name } finding { id title description inspection { id title } } }";
const FINDING: &str =
    "fragment F on Finding { id title department { id name } category { id title }
  inspection { id title } measures { ...M } targets { id name currentValue }
  regulations { id title } relapseCount nextRecheck { id } }";

/// Findings and measures read in pages, at two levels.
const DEEP: &str = "query($n: Int!, $m: Int!) {
  findings(first: $n) { edges { node { ...F } } }
  measures(first: $n) { edges { node { ...M } } }
  inspections(first: 3) { edges { node { findings(first: $m) { nodes { ...F } } } } } }";

#[tokio::test]
async fn a_relation_reads_the_same_for_a_record_in_a_page_and_for_it_alone() {
    // The principal leaders of RED warnings still come through the DataLoader: a wide window
    // gathers them into one batch on a slow build.
    let app = spawn_app_with(&[
        "--jwt-secret",
        SECRET,
        "--graphql-max-complexity",
        "1000000",
        "--dataloader-delay",
        "50ms",
    ])
    .await;
    grow(&app, 40).await;
    for (token, scope) in [(TestUser::admin(), 0), (TestUser::manager("ZJTZB"), 1)] {
        let deep = async |n: i32, m: i32| {
            let before = app.sql_statements().await;
            let query = format!("{DEEP} {FINDING} {MEASURE}");
            let data = app.data(&token, &query, json!({"n": n, "m": m})).await;
            (data, app.sql_statements().await - before)
        };
        // The first request may open the pool's connections (their set-up is counted).
        deep(60, 20).await;
        let (_, more) = deep(60, 20).await;
        let (data, statements) = deep(30, 10).await;
        // At most one statement per relation and level, whatever the number of records: the
        // three root pages and the nested one; for each of the two levels of findings their
        // department, category, inspection, measures, targets, regulations and look-back
        // (relapses and re-checks); for each of the two levels of measures their department,
        // their finding (with its inspection) and their finding's brief columns (for notices
        // and warning). Fewer when the DataLoader gathers two levels' keys in one window. A
        // scoped caller reads its department once more.
        for n in [statements, more] {
            assert!(n <= 32 + scope, "{n} statements");
        }
        let mut findings: Vec<&Value> = data["findings"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["node"])
            .collect();
        for inspection in data["inspections"]["edges"].as_array().unwrap() {
            findings.extend(inspection["node"]["findings"]["nodes"].as_array().unwrap());
        }
        let mut measures: Vec<&Value> = data["measures"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["node"])
            .collect();
        measures.extend(
            findings
                .iter()
                .flat_map(|f| f["measures"].as_array().unwrap()),
        );
        assert!(findings.len() > 30 && measures.len() > 60, "{data}");
        assert!(
            findings
                .iter()
                .any(|f| !f["regulations"].as_array().unwrap().is_empty())
                && measures.iter().any(|m| !m["department"].is_null()),
            "the data must hold the relations compared"
        );
        let one_finding =
            format!("query($id: ID!) {{ finding(id: $id) {{ ...F }} }} {FINDING} {MEASURE}");
        let one_measure = format!("query($id: ID!) {{ measure(id: $id) {{ ...M }} }} {MEASURE}");
        for node in findings {
            let alone = app
                .data(&token, &one_finding, json!({"id": node["id"]}))
                .await;
            assert_eq!(&alone["finding"], node, "finding {}", node["id"]);
        }
        for node in measures {
            let alone = app
                .data(&token, &one_measure, json!({"id": node["id"]}))
                .await;
            assert_eq!(&alone["measure"], node, "measure {}", node["id"]);
        }
    }
}

/// A page of departments with their parent, children and ancestors: each relation read once
/// for the whole page (a level of the catalogue), not awaited row by row, so the statements
/// do not grow with the page even with no batching window at all.
#[tokio::test]
async fn a_page_of_departments_reads_each_relation_once_at_any_size() {
    let app = spawn_app_with(&["--jwt-secret", SECRET, "--dataloader-delay", "0ms"]).await;
    let query = "query($first: Int!) { departments(first: $first) { nodes {
        code parent { code } children { code } ancestors { code } } } }";
    let admin = TestUser::admin();
    let mut seen = Vec::new();
    for first in [2, 9] {
        // Background work (the audit chain's periodic pass on PostgreSQL) may run a statement
        // during a measurement; it only adds, so the fewest of three is the page's own count.
        let mut fewest = u64::MAX;
        let mut data = Value::Null;
        for _ in 0..3 {
            let before = app.sql_statements().await;
            data = app.data(&admin, query, json!({"first": first})).await;
            fewest = fewest.min(app.sql_statements().await - before);
        }
        seen.push(fewest);
        let nodes = data["departments"]["nodes"].as_array().unwrap().clone();
        assert_eq!(nodes.len(), first as usize, "{data}");
        // Each answer is the tree's: a child's parent lists it among its children.
        for node in &nodes {
            let Some(parent) = node["parent"]["code"].as_str() else {
                assert_eq!(node["ancestors"], json!([]), "{node}");
                continue;
            };
            assert_eq!(
                node["ancestors"].as_array().unwrap().last().unwrap()["code"],
                parent,
                "{node}"
            );
            let siblings = app
                .data(
                    &admin,
                    "query($c: String!) { departments(filter: {search: $c}) { nodes { code children { code } } } }",
                    json!({"c": parent}),
                )
                .await;
            let under = siblings["departments"]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|d| d["code"] == parent)
                .unwrap()["children"]
                .clone();
            assert!(
                under
                    .as_array()
                    .unwrap()
                    .contains(&json!({"code": node["code"]})),
                "{parent}'s children {under} lack {node}"
            );
        }
    }
    // The page, the children, and the departments above (parents and ancestors are both read
    // by id, in one batch).
    assert_eq!(seen, vec![3, 3], "statements for 2 and for 9 departments");
}

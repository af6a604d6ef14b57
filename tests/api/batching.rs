//! DataLoaders: a page of findings with all its relations runs a fixed number of SQL
//! statements, whatever the page size.

use serde_json::json;

use crate::helpers::{SECRET, TestApp, TestUser, spawn_app_with};

const PAGE: &str = "query($first: Int!) { findings(first: $first) { edges { node {
    id title department { name } category { title } inspection { title }
    measures { id content status department { name } }
    regulations { title domain } targets { name currentValue }
} } } }";

/// Adds `n` findings, each with two measures (one with a department of its own), a target and
/// a regulation link, straight into the database.
async fn grow(app: &TestApp, n: i32) {
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

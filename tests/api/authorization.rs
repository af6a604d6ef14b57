//! Who may read and change what, for each role, including the denials: a record outside the
//! caller's department subtree is not found; a role that may not act is FORBIDDEN.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, error_code, spawn_app};

const FINDING: &str =
    "query($id: ID!) { finding(id: $id) { id title version measures { id version status } } }";
const UPDATE_FINDING: &str =
    "mutation($input: UpdateFindingInput!) { updateFinding(input: $input) { id title version } }";
const UPDATE_MEASURE: &str = "mutation($input: UpdateMeasureInput!) { updateMeasure(input: $input) { id status completedOn version } }";
const ADD_PROGRESS: &str = "mutation($input: AddProgressEntryInput!) { addProgressEntry(input: $input) { id content author } }";
const CREATE_INSPECTION: &str = "mutation($input: CreateInspectionInput!) { createInspection(input: $input) { id title unit { code } } }";

/// A second unit, outside the demo unit's tree, with one finding; returns that finding's id.
async fn other_unit(app: &TestApp) -> i64 {
    let now = "'2026-01-01T00:00:00Z'";
    app.sql(&format!(
        "INSERT INTO department (code, name, kind, parent_id, path, created_at, updated_at) \
         VALUES ('OTHER', '另一单位', 'unit', 1, '', {now}, {now})"
    ))
    .await;
    app.sql("UPDATE department SET path = '/1/' || CAST(id AS TEXT) || '/' WHERE code = 'OTHER'")
        .await;
    app.sql(&format!(
        "INSERT INTO inspection (title, inspection_group, unit_id, started_on, version, created_at, updated_at) \
         SELECT '另一巡察', '市委第一巡察组', id, '2021-01-01', 1, {now}, {now} FROM department WHERE code = 'OTHER'"
    ))
    .await;
    app.sql(&format!(
        "INSERT INTO finding (inspection_id, ordinal, title, description, rectification_type, status, \
         department_id, created_at, updated_at, version) \
         SELECT i.id, 1, '别处的问题', '', 'by_deadline', 'in_progress', d.id, {now}, {now}, 1 \
         FROM inspection i JOIN department d ON d.id = i.unit_id WHERE d.code = 'OTHER'"
    ))
    .await;
    crate::helpers::count(&app.db, "SELECT f.id FROM finding f JOIN department d ON d.id = f.department_id WHERE d.code = 'OTHER'").await
}

async fn read(app: &TestApp, token: &str, id: i64) -> Value {
    let (status, body) = app
        .gql(Some(token), FINDING, json!({"id": id.to_string()}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["finding"].clone()
}

async fn rename(app: &TestApp, token: &str, id: i64, version: i64, title: &str) -> Value {
    let input = json!({"input": {"id": id.to_string(), "version": version, "title": title}});
    app.gql(Some(token), UPDATE_FINDING, input).await.1
}

async fn add_progress(app: &TestApp, token: &str, finding: i64) -> Value {
    let input =
        json!({"input": {"findingId": finding.to_string(), "content": "已召开专题会议推进整改"}});
    app.gql(Some(token), ADD_PROGRESS, input).await.1
}

#[tokio::test]
async fn a_manager_works_within_its_unit_and_cannot_see_or_touch_another() {
    let app = spawn_app().await;
    let other = other_unit(&app).await;
    let manager = TestUser::manager("ZJTZB");
    let f3 = app.finding_id(3).await;

    // Allowed: read and rename a finding of its own unit (held by a section below it).
    let finding = read(&app, &manager, f3).await;
    assert_eq!(
        finding["title"],
        "推动党外干部实职安排工作与中央和省要求差距大"
    );
    let renamed = rename(&app, &manager, f3, 1, "党外干部实职安排未达要求").await;
    assert_eq!(
        renamed["data"]["updateFinding"],
        json!({"id": f3.to_string(), "title": "党外干部实职安排未达要求", "version": 2})
    );

    // Denied: another unit's finding is not found, for reading and for writing.
    assert_eq!(read(&app, &manager, other).await, Value::Null);
    let body = rename(&app, &manager, other, 1, "越权修改").await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    assert_eq!(
        crate::helpers::count(&app.db, &format!("SELECT COUNT(*) FROM finding WHERE id = {other} AND title = '别处的问题' AND version = 1")).await,
        1,
        "the other unit's finding is unchanged"
    );
    // Denied: creating inspections is the inspection office's.
    let input = json!({"input": {"title": "自查", "inspectionGroup": "自查组", "unitCode": "ZJTZB", "startedOn": "2021-05-01"}});
    let (_, body) = app.gql(Some(&manager), CREATE_INSPECTION, input).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");

    // The other unit's own manager does see it.
    let theirs = TestUser::manager("OTHER");
    assert_eq!(read(&app, &theirs, other).await["title"], "别处的问题");
    assert_eq!(read(&app, &theirs, f3).await, Value::Null);
}

#[tokio::test]
async fn an_officer_updates_its_sections_measures_but_not_a_sibling_sections() {
    let app = spawn_app().await;
    // Finding 1 belongs to 办公室 (ZJTZB-BGS); finding 2 to its sibling 宗教科 (ZJTZB-ZJK).
    let own = app.finding_id(1).await;
    let sibling = app.finding_id(2).await;
    let officer = TestUser::officer("ZJTZB-BGS");

    let finding = read(&app, &officer, own).await;
    let measure = finding["measures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["status"] != "DONE")
        .cloned();
    let measure = measure.expect("finding 1 has a measure still open");
    let input = json!({"input": {"id": measure["id"], "version": measure["version"], "status": "DONE", "completedOn": "2021-04-30"}});
    let (_, body) = app.gql(Some(&officer), UPDATE_MEASURE, input).await;
    assert_eq!(body["data"]["updateMeasure"]["status"], "DONE", "{body}");
    assert_eq!(body["data"]["updateMeasure"]["completedOn"], "2021-04-30");
    let body = add_progress(&app, &officer, own).await;
    assert_eq!(
        body["data"]["addProgressEntry"]["author"], "Test officer",
        "{body}"
    );

    // The sibling section's finding: not visible, not writable.
    assert_eq!(read(&app, &officer, sibling).await, Value::Null);
    let body = add_progress(&app, &officer, sibling).await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    let sibling_measure = crate::helpers::count(
        &app.db,
        &format!("SELECT MIN(id) FROM measure WHERE finding_id = {sibling}"),
    )
    .await;
    let input =
        json!({"input": {"id": sibling_measure.to_string(), "version": 1, "content": "改写"}});
    let (_, body) = app.gql(Some(&officer), UPDATE_MEASURE, input).await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    // Editing the finding itself is the manager's.
    let body = rename(&app, &officer, own, 1, "改名").await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    assert_eq!(
        crate::helpers::count(&app.db, &format!("SELECT COUNT(*) FROM progress_entry WHERE finding_id = {sibling} AND content = '已召开专题会议推进整改'")).await,
        0
    );
}

#[tokio::test]
async fn an_inspector_reads_every_unit_and_creates_inspections_but_does_not_edit_findings() {
    let app = spawn_app().await;
    let other = other_unit(&app).await;
    let inspector = TestUser::inspector();
    assert_eq!(read(&app, &inspector, other).await["title"], "别处的问题");
    assert!(read(&app, &inspector, app.finding_id(16).await).await["title"].is_string());

    let input = json!({"input": {"title": "2021年专项巡察", "inspectionGroup": "市委第二巡察组", "unitCode": "OTHER", "startedOn": "2021-05-01", "endedOn": "2021-06-30"}});
    let (_, body) = app.gql(Some(&inspector), CREATE_INSPECTION, input).await;
    assert_eq!(
        body["data"]["createInspection"]["unit"]["code"], "OTHER",
        "{body}"
    );

    let body = rename(&app, &inspector, other, 1, "巡察组改写").await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    let body = add_progress(&app, &inspector, other).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
}

#[tokio::test]
async fn a_viewer_reads_its_subtree_only_and_writes_nothing() {
    let app = spawn_app().await;
    let other = other_unit(&app).await;
    let viewer = TestUser::viewer(Some("ZJTZB"));
    let f3 = app.finding_id(3).await;
    assert!(read(&app, &viewer, f3).await["title"].is_string());
    assert_eq!(read(&app, &viewer, other).await, Value::Null);
    let body = add_progress(&app, &viewer, f3).await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    let body = rename(&app, &viewer, f3, 1, "x").await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");

    // Without a department a viewer (e.g. the discipline inspection group) reads everything.
    let everywhere = TestUser::viewer(None);
    assert_eq!(read(&app, &everywhere, other).await["title"], "别处的问题");
}

#[tokio::test]
async fn an_admin_does_everything_and_anonymous_callers_nothing() {
    let app = spawn_app().await;
    let other = other_unit(&app).await;
    let admin = TestUser::admin();
    let renamed = rename(&app, &admin, other, 1, "管理员更正标题").await;
    assert_eq!(renamed["data"]["updateFinding"]["version"], 2, "{renamed}");
    let body = add_progress(&app, &admin, other).await;
    assert!(body["data"]["addProgressEntry"]["id"].is_string(), "{body}");
    // Even an admin cannot write over a newer version.
    let stale = rename(&app, &admin, other, 1, "过期版本").await;
    assert_eq!(error_code(&stale), Some("CONFLICT"), "{stale}");

    // Anonymous: reads and writes need a token.
    let (status, body) = app
        .gql(None, FINDING, json!({"id": other.to_string()}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    let (_, body) = app
        .gql(
            None,
            UPDATE_FINDING,
            json!({"input": {"id": other.to_string(), "version": 2, "title": "匿名"}}),
        )
        .await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
}

#[tokio::test]
async fn me_reports_identity_scope_and_permissions() {
    let app = spawn_app().await;
    let query = "{ me { sub name role readsEverything permissions department { code } } }";
    let (_, body) = app
        .gql(Some(&TestUser::officer("ZJTZB-BGS")), query, json!({}))
        .await;
    assert_eq!(
        body["data"]["me"],
        json!({
            "sub": "test-officer",
            "name": "Test officer",
            "role": "OFFICER",
            "readsEverything": false,
            "permissions": ["READ_SUBTREE", "UPDATE_MEASURES", "ADD_PROGRESS"],
            "department": {"code": "ZJTZB-BGS"},
        })
    );
    let (_, body) = app
        .gql(Some(&TestUser::inspector()), query, json!({}))
        .await;
    assert_eq!(body["data"]["me"]["readsEverything"], true);
    assert_eq!(
        body["data"]["me"]["permissions"],
        json!([
            "READ_ALL",
            "MANAGE_INSPECTIONS",
            "REVIEW_CLOSE_OUT",
            "PULL_REPORTS",
            "READ_AUDIT_LOG"
        ])
    );
}

#[tokio::test]
async fn every_list_and_nested_field_keeps_to_the_callers_subtree() {
    let app = spawn_app().await;
    let other = other_unit(&app).await;
    let lists = "{ findings { totalCount } measures { totalCount } regulations { totalCount } inspections { totalCount } departments { totalCount } }";
    let count_of = |data: &Value, list: &str| data[list]["totalCount"].as_i64().unwrap();

    let admin = app.data(&TestUser::admin(), lists, json!({})).await;
    assert_eq!(count_of(&admin, "findings"), 36);
    assert_eq!(count_of(&admin, "inspections"), 2);
    assert_eq!(count_of(&admin, "departments"), 10);

    let theirs = app
        .data(&TestUser::manager("OTHER"), lists, json!({}))
        .await;
    assert_eq!(count_of(&theirs, "findings"), 1);
    assert_eq!(count_of(&theirs, "measures"), 0);
    assert_eq!(count_of(&theirs, "regulations"), 0);
    assert_eq!(count_of(&theirs, "inspections"), 1);
    assert_eq!(count_of(&theirs, "departments"), 1);

    let ours = app
        .data(&TestUser::manager("ZJTZB"), lists, json!({}))
        .await;
    assert_eq!(count_of(&ours, "findings"), 35);
    assert_eq!(count_of(&ours, "measures"), 64);
    assert_eq!(count_of(&ours, "regulations"), 54);
    assert_eq!(count_of(&ours, "inspections"), 1);
    assert_eq!(
        count_of(&ours, "departments"),
        7,
        "the unit and its six sections"
    );

    // A section sees the findings it holds, and the inspection they belong to although the
    // inspected unit is above it.
    let section = app
        .data(&TestUser::officer("ZJTZB-GBK"), lists, json!({}))
        .await;
    assert_eq!(
        count_of(&section, "findings"),
        2,
        "干部科 holds findings 3 and 21"
    );
    assert_eq!(count_of(&section, "inspections"), 1);
    assert_eq!(count_of(&section, "departments"), 1);

    // Nested lists go through the same scope: the other unit's manager asking for the demo
    // inspection gets nothing, and asking for its own gets only its finding.
    let nested = "query($id: ID!) { inspection(id: $id) { findings { totalCount edges { node { id } } } statusSummary { total } } }";
    let data = app
        .data(&TestUser::manager("OTHER"), nested, json!({"id": "1"}))
        .await;
    assert_eq!(data["inspection"], Value::Null);
    let own_inspection = crate::helpers::count(
        &app.db,
        &format!("SELECT inspection_id FROM finding WHERE id = {other}"),
    )
    .await;
    let data = app
        .data(
            &TestUser::manager("OTHER"),
            nested,
            json!({"id": own_inspection.to_string()}),
        )
        .await;
    assert_eq!(data["inspection"]["findings"]["totalCount"], 1);
    assert_eq!(data["inspection"]["statusSummary"]["total"], 1);
    // The officer of 干部科 sees the demo inspection's summary over its own two findings only.
    let data = app
        .data(&TestUser::officer("ZJTZB-GBK"), nested, json!({"id": "1"}))
        .await;
    assert_eq!(data["inspection"]["statusSummary"]["total"], 2);
    // Anonymous callers list nothing.
    let (_, body) = app
        .gql(None, "{ findings { totalCount } }", json!({}))
        .await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
}

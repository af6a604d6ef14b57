//! Mutations: each entity created, edited and archived through the API, every validation
//! error with its code and field, stale versions refused, and every change audited.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, count, error_code, spawn_app};

async fn fails(
    app: &TestApp,
    token: &str,
    query: &str,
    variables: Value,
) -> (String, Option<String>) {
    let (status, body) = app.gql(Some(token), query, variables).await;
    assert_eq!(status, 200, "{body}");
    let code = error_code(&body)
        .unwrap_or_else(|| panic!("expected an error: {body}"))
        .to_owned();
    let field = body["errors"][0]["extensions"]["field"]
        .as_str()
        .map(str::to_owned);
    (code, field)
}

const CREATE_INSPECTION: &str =
    "mutation($input: CreateInspectionInput!) { createInspection(input: $input) { id version } }";
const CREATE_FINDING: &str = "mutation($input: CreateFindingInput!) { createFinding(input: $input) { id ordinal status version department { code } category { title } } }";

#[tokio::test]
async fn a_rectification_plan_is_built_through_the_api() {
    let app = spawn_app().await;
    let admin = TestUser::admin();
    let inspector = TestUser::inspector();
    let manager = TestUser::manager("ZJTZB");
    let audit_before = count(&app.db, "SELECT COUNT(*) FROM audit_event").await;

    let inspection = app
        .data(&inspector, CREATE_INSPECTION, json!({"input": {"title": "2021年巡察", "inspectionGroup": "市委第三巡察组",
            "unitCode": "ZJTZB", "startedOn": "2021-03-01", "endedOn": "2021-04-30", "feedbackOn": "2021-06-01", "dueOn": "2021-12-31"}}))
        .await["createInspection"]["id"]
        .clone();
    let category = app
        .data(&manager, "mutation($i: ID!) { createCategory(inspectionId: $i, title: \"  政治建设方面  \") { id ordinal title } }", json!({"i": inspection}))
        .await["createCategory"]
        .clone();
    assert_eq!(category["ordinal"], 1);
    assert_eq!(category["title"], "政治建设方面", "titles are trimmed");
    let finding = app
        .data(&manager, CREATE_FINDING, json!({"input": {"inspectionId": inspection, "categoryId": category["id"],
            "title": "学习贯彻不深入", "rectificationType": "BY_DEADLINE", "deadline": "2021-09-30", "departmentCode": "ZJTZB-BGS"}}))
        .await["createFinding"]
        .clone();
    assert_eq!(finding["ordinal"], 1);
    assert_eq!(finding["status"], "NOT_STARTED");
    assert_eq!(finding["department"]["code"], "ZJTZB-BGS");
    let measure = app
        .data(&manager, "mutation($f: ID!) { createMeasure(input: {findingId: $f, content: \"开展专题学习\", deadline: \"2021-08-31\"}) { id ordinal status version } }", json!({"f": finding["id"]}))
        .await["createMeasure"]
        .clone();
    assert_eq!(measure["status"], "PLANNED");
    let target = app
        .data(&manager, "mutation($f: ID!) { createTarget(input: {findingId: $f, name: \"学习覆盖率\", unit: \"%\", baseline: 60, requiredValue: 100}) { id version } }", json!({"f": finding["id"]}))
        .await["createTarget"]
        .clone();
    let target = app
        .data(&manager, "mutation($t: ID!, $v: Int!) { updateTarget(input: {id: $t, version: $v, currentValue: 85, asOf: \"2021-07-01\"}) { currentValue asOf version } }", json!({"t": target["id"], "v": target["version"]}))
        .await["updateTarget"]
        .clone();
    assert_eq!(
        target,
        json!({"currentValue": 85.0, "asOf": "2021-07-01", "version": 2})
    );
    let regulation = app
        .data(&manager, "mutation { createRegulation(input: {title: \"《理论学习中心组学习制度》\", domain: PARTY_BUILDING, departmentCode: \"ZJTZB\", status: IN_FORCE, documentNumber: \"湛统发〔2021〕3号\"}) { id title } }", json!({}))
        .await["createRegulation"]
        .clone();
    assert_eq!(
        regulation["title"], "理论学习中心组学习制度",
        "《》 are not part of the title"
    );
    app.data(
        &manager,
        "mutation($f: ID!, $r: ID!) { linkRegulation(findingId: $f, regulationId: $r) { id } }",
        json!({"f": finding["id"], "r": regulation["id"]}),
    )
    .await;
    let (code, _) = fails(
        &app,
        &manager,
        "mutation($f: ID!, $r: ID!) { linkRegulation(findingId: $f, regulationId: $r) { id } }",
        json!({"f": finding["id"], "r": regulation["id"]}),
    )
    .await;
    assert_eq!(code, "CONFLICT", "linking twice");
    // An officer moves the measure to DONE; the finding starts.
    let officer = TestUser::officer("ZJTZB-BGS");
    app.data(&officer, "mutation($m: ID!, $v: Int!) { updateMeasure(input: {id: $m, version: $v, status: DONE, completedOn: \"2021-08-20\"}) { status } }", json!({"m": measure["id"], "v": measure["version"]})).await;
    let view = app
        .data(&manager, "query($f: ID!) { finding(id: $f) { status measures { status completedOn } targets { currentValue } regulations { title } progress { totalCount edges { node { kind content } } } } }", json!({"f": finding["id"]}))
        .await["finding"]
        .clone();
    assert_eq!(view["status"], "IN_PROGRESS");
    assert_eq!(
        view["measures"],
        json!([{"status": "DONE", "completedOn": "2021-08-20"}])
    );
    assert_eq!(
        view["regulations"],
        json!([{"title": "理论学习中心组学习制度"}])
    );
    // The ledger holds the target update, the regulation link, the measure's status change and
    // the finding's start, which that first work made.
    let kinds: Vec<&str> = view["progress"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["PROGRESS", "COMMENT", "STATUS_CHANGE", "STATUS_CHANGE"]
    );
    // Every change above was audited: inspection, category, finding, measure, target x2,
    // regulation, link, measure update, and the finding's start.
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM audit_event").await - audit_before,
        10
    );
    let _ = admin;
}

#[tokio::test]
async fn bad_input_is_refused_with_its_code_and_field_and_changes_nothing() {
    let app = spawn_app().await;
    let inspector = TestUser::inspector();
    let manager = TestUser::manager("ZJTZB");
    let base = json!({"title": "T", "inspectionGroup": "G", "unitCode": "ZJTZB", "startedOn": "2021-03-01"});
    let with = |key: &str, value: Value| {
        let mut input = base.clone();
        input[key] = value;
        json!({"input": input})
    };
    let inspections = count(&app.db, "SELECT COUNT(*) FROM inspection").await;
    for (variables, code, field) in [
        (
            with("endedOn", json!("2021-02-01")),
            "BAD_USER_INPUT",
            Some("endedOn"),
        ),
        (
            with("dueOn", json!("2020-01-01")),
            "BAD_USER_INPUT",
            Some("dueOn"),
        ),
        (with("title", json!("   ")), "BAD_USER_INPUT", Some("title")),
        (
            with("title", json!("长".repeat(301))),
            "BAD_USER_INPUT",
            Some("title"),
        ),
        (
            with("unitCode", json!("NOPE")),
            "BAD_USER_INPUT",
            Some("unitCode"),
        ),
        (
            with("startedOn", json!("2021-02-30")),
            "BAD_USER_INPUT",
            Some("startedOn"),
        ),
    ] {
        let (got, got_field) = fails(&app, &inspector, CREATE_INSPECTION, variables.clone()).await;
        assert_eq!(got, code, "{variables}");
        assert_eq!(got_field.as_deref(), field, "{variables}");
    }
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM inspection").await,
        inspections,
        "nothing was created"
    );

    let finding = |extra: Value| {
        let mut input = json!({"inspectionId": "1", "title": "T", "rectificationType": "IMMEDIATE", "departmentCode": "ZJTZB-BGS"});
        for (k, v) in extra.as_object().unwrap() {
            input[k] = v.clone();
        }
        json!({"input": input})
    };
    for (variables, code, field) in [
        (
            finding(json!({"inspectionId": "abc"})),
            "BAD_USER_INPUT",
            Some("inspectionId"),
        ),
        (
            finding(json!({"inspectionId": "999"})),
            "BAD_USER_INPUT",
            Some("inspectionId"),
        ),
        (
            finding(json!({"categoryId": "999"})),
            "BAD_USER_INPUT",
            Some("categoryId"),
        ),
        (finding(json!({"ordinal": 3})), "CONFLICT", None),
        (
            finding(json!({"ordinal": 0})),
            "BAD_USER_INPUT",
            Some("ordinal"),
        ),
        (
            finding(json!({"departmentCode": "OTHER-UNIT"})),
            "BAD_USER_INPUT",
            Some("departmentCode"),
        ),
        (
            finding(json!({"rectificationType": "SOMETIME"})),
            "BAD_USER_INPUT",
            Some("rectificationType"),
        ),
    ] {
        let (got, got_field) = fails(&app, &manager, CREATE_FINDING, variables.clone()).await;
        assert_eq!(got, code, "{variables}");
        assert_eq!(got_field.as_deref(), field, "{variables}");
    }
    // A manager cannot hand a finding to a department outside its own unit.
    let (code, _) = fails(
        &app,
        &manager,
        CREATE_FINDING,
        finding(json!({"departmentCode": "ZJSW-XCB"})),
    )
    .await;
    assert_eq!(code, "FORBIDDEN");
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM finding").await, 35);

    let link = json!({"input": {"findingId": "1", "content": "见链接", "links": [{"title": "文件", "url": "javascript:alert(1)"}]}});
    let (code, field) = fails(
        &app,
        &manager,
        "mutation($input: AddProgressEntryInput!) { addProgressEntry(input: $input) { id } }",
        link,
    )
    .await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("links.url"))
    );
    let future = json!({"input": {"findingId": "1", "content": "未来", "entryDate": "2999-01-01"}});
    let (code, field) = fails(
        &app,
        &manager,
        "mutation($input: AddProgressEntryInput!) { addProgressEntry(input: $input) { id } }",
        future,
    )
    .await;
    assert_eq!(
        (code.as_str(), field.as_deref()),
        ("BAD_USER_INPUT", Some("entryDate"))
    );
}

#[tokio::test]
async fn a_stale_version_is_a_conflict_for_every_versioned_record() {
    let app = spawn_app().await;
    let admin = TestUser::admin();
    let measure = count(&app.db, "SELECT MIN(id) FROM measure")
        .await
        .to_string();
    let query = "mutation($id: ID!, $v: Int!, $c: String!) { updateMeasure(input: {id: $id, version: $v, content: $c}) { version } }";
    let first = app
        .data(
            &admin,
            query,
            json!({"id": measure, "v": 1, "c": "第一次修改"}),
        )
        .await;
    assert_eq!(first["updateMeasure"]["version"], 2);
    let (code, _) = fails(
        &app,
        &admin,
        query,
        json!({"id": measure, "v": 1, "c": "基于旧版本的修改"}),
    )
    .await;
    assert_eq!(code, "CONFLICT");
    assert_eq!(
        count(
            &app.db,
            &format!(
                "SELECT COUNT(*) FROM measure WHERE id = {measure} AND content = '第一次修改'"
            )
        )
        .await,
        1
    );

    let dept = "mutation($v: Int!) { updateDepartment(input: {id: \"4\", version: $v, name: \"综合办公室\"}) { version name } }";
    assert_eq!(
        app.data(&admin, dept, json!({"v": 1})).await["updateDepartment"],
        json!({"version": 2, "name": "综合办公室"})
    );
    assert_eq!(
        fails(&app, &admin, dept, json!({"v": 1})).await.0,
        "CONFLICT"
    );
    let inspection = "mutation($v: Int!) { updateInspection(input: {id: \"1\", version: $v, dueOn: \"2021-06-30\"}) { version dueOn } }";
    assert_eq!(
        app.data(&admin, inspection, json!({"v": 1})).await["updateInspection"]["dueOn"],
        "2021-06-30"
    );
    assert_eq!(
        fails(&app, &admin, inspection, json!({"v": 1})).await.0,
        "CONFLICT"
    );
    // Archiving twice is a conflict too, and archived records stay readable by id.
    let archive =
        "mutation($v: Int!) { archiveRegulation(id: \"1\", version: $v) { archived version } }";
    assert_eq!(
        app.data(&admin, archive, json!({"v": 1})).await["archiveRegulation"],
        json!({"archived": true, "version": 2})
    );
    assert_eq!(
        fails(&app, &admin, archive, json!({"v": 2})).await.0,
        "CONFLICT"
    );
    assert_eq!(
        app.data(&admin, "{ regulation(id: 1) { archived } }", json!({}))
            .await["regulation"]["archived"],
        true
    );
    // The archive is audited once; the refused second attempt leaves no event.
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM audit_event WHERE action = 'regulation.archive' AND entity_id = '1'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn departments_are_managed_by_admins_only() {
    let app = spawn_app().await;
    let create = "mutation($c: String!) { createDepartment(input: {code: $c, name: \"民族科\", kind: SECTION, parentCode: \"ZJTZB\"}) { id code ancestors { code } } }";
    let created = app
        .data(&TestUser::admin(), create, json!({"c": "ZJTZB-MZK"}))
        .await;
    assert_eq!(
        created["createDepartment"]["ancestors"],
        json!([{"code": "ZJSW"}, {"code": "ZJTZB"}])
    );
    assert_eq!(
        fails(&app, &TestUser::admin(), create, json!({"c": "ZJTZB-MZK"}))
            .await
            .0,
        "CONFLICT"
    );
    assert_eq!(
        fails(
            &app,
            &TestUser::manager("ZJTZB"),
            create,
            json!({"c": "ZJTZB-X"})
        )
        .await
        .0,
        "FORBIDDEN"
    );
    // The new section is in the unit's subtree at once: its manager sees it among the children.
    let data = app
        .data(
            &TestUser::manager("ZJTZB"),
            "{ department(id: 3) { children { code } } }",
            json!({}),
        )
        .await;
    let codes: Vec<&str> = data["department"]["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"ZJTZB-MZK"), "{codes:?}");
    // A unit with active sections cannot be archived.
    let archive = "mutation { archiveDepartment(id: \"3\", version: 1) { archived } }";
    assert_eq!(
        fails(&app, &TestUser::admin(), archive, json!({})).await.0,
        "CONFLICT"
    );
}

#[tokio::test]
async fn new_records_take_the_next_number_or_a_free_one_asked_for() {
    let app = spawn_app().await;
    let admin = TestUser::admin();
    // Findings within inspection 1, which the demo numbers 1..=35.
    let finding = |ordinal: Value| {
        json!({"input": {"inspectionId": "1", "ordinal": ordinal, "title": "新增问题",
            "rectificationType": "BY_DEADLINE", "departmentCode": "ZJTZB-BGS"}})
    };
    assert_eq!(
        app.data(&admin, CREATE_FINDING, finding(Value::Null)).await["createFinding"]["ordinal"],
        36
    );
    assert_eq!(
        app.data(&admin, CREATE_FINDING, finding(json!(40))).await["createFinding"]["ordinal"],
        40
    );
    assert_eq!(
        app.data(&admin, CREATE_FINDING, finding(Value::Null)).await["createFinding"]["ordinal"],
        41
    );
    let (_, body) = app
        .gql(Some(&admin), CREATE_FINDING, finding(json!(5)))
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"));
    assert_eq!(body["errors"][0]["message"], "巡察 1 已有序号为 5 的问题");
    assert_eq!(
        fails(&app, &admin, CREATE_FINDING, finding(json!(0))).await,
        ("BAD_USER_INPUT".to_owned(), Some("ordinal".to_owned()))
    );

    // Categories within inspection 1 (the demo has three), and measures within a new finding.
    let category = "mutation($o: Int) { createCategory(inspectionId: \"1\", title: \"其他方面\", ordinal: $o) { ordinal } }";
    assert_eq!(
        app.data(&admin, category, json!({"o": null})).await["createCategory"]["ordinal"],
        4
    );
    assert_eq!(
        fails(&app, &admin, category, json!({"o": 2})).await.0,
        "CONFLICT"
    );
    let finding_id = app.finding_id(36).await.to_string();
    let measure = "mutation($f: ID!, $o: Int) { createMeasure(input: {findingId: $f, ordinal: $o, content: \"整改\"}) { ordinal } }";
    let ordinal = |o: Value| json!({"f": finding_id, "o": o});
    assert_eq!(
        app.data(&admin, measure, ordinal(Value::Null)).await["createMeasure"]["ordinal"],
        1
    );
    assert_eq!(
        fails(&app, &admin, measure, ordinal(json!(1))).await.0,
        "CONFLICT"
    );
    assert_eq!(
        fails(&app, &admin, measure, ordinal(json!(-1))).await.0,
        "BAD_USER_INPUT"
    );
    assert_eq!(
        count(
            &app.db,
            &format!("SELECT COUNT(*) FROM measure WHERE finding_id = {finding_id}")
        )
        .await,
        1,
        "refused creations write nothing"
    );
}

#[tokio::test]
async fn the_first_progress_entry_starts_a_finding() {
    let app = spawn_app().await;
    let admin = TestUser::admin();
    let input = json!({"input": {"inspectionId": "1", "title": "新增问题",
        "rectificationType": "BY_DEADLINE", "departmentCode": "ZJTZB-BGS"}});
    let finding = app.data(&admin, CREATE_FINDING, input).await["createFinding"].clone();
    assert_eq!(finding["status"], "NOT_STARTED");
    let progress = "mutation($f: ID!) { addProgressEntry(input: {findingId: $f, content: \"召开专题会议\"}) { id } }";
    let status = "query($f: ID!) { finding(id: $f) { status version } }";
    let vars = json!({"f": finding["id"]});
    app.data(&admin, progress, vars.clone()).await;
    assert_eq!(
        app.data(&admin, status, vars.clone()).await["finding"],
        json!({"status": "IN_PROGRESS", "version": 2})
    );
    // Later entries leave the status, and the version, alone.
    app.data(&admin, progress, vars.clone()).await;
    assert_eq!(
        app.data(&admin, status, vars).await["finding"],
        json!({"status": "IN_PROGRESS", "version": 2})
    );
}

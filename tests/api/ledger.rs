//! Spreadsheet ledgers in and out: a unit's own workbook (merged cells, Chinese dates and
//! statuses) imported; every problem reported by sheet, row and column with nothing changed;
//! all or nothing; and export → import elsewhere → export giving the same rows.

use rust_xlsxwriter::{Format, Workbook};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, count, spawn_app};

const IMPORT: &str = "mutation($i: ID!, $file: Upload!, $dry: Boolean, $asNew: Boolean) { importLedger(inspectionId: $i, file: $file, dryRun: $dry, asNew: $asNew) {
    dryRun applied findingsCreated findingsUpdated measuresCreated measuresUpdated entriesAdded problems { sheet row column code message } } }";
const IMPORT_HISTORICAL: &str = "mutation($i: ID!, $file: Upload!) { importLedger(inspectionId: $i, file: $file, historical: true) {
    applied findingsCreated problems { row column code message } } }";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

async fn empty_inspection(app: &TestApp) -> String {
    app.create_inspection("导入测试").await
}

async fn import(
    app: &TestApp,
    inspection: &str,
    name: &str,
    media: &str,
    bytes: &[u8],
    dry: bool,
    as_new: bool,
) -> Value {
    let (status, body) = app
        .upload(
            &TestUser::manager("ZJTZB"),
            IMPORT,
            json!({"i": inspection, "file": null, "dry": dry, "asNew": as_new}),
            &[("variables.file", name, media, bytes)],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["importLedger"].clone()
}

/// A unit's own workbook: a title row, headings in its own words and order, a finding whose
/// cells are merged over its three measure rows, dates and statuses as the unit writes them,
/// and a closed finding.
fn unit_workbook() -> Vec<u8> {
    workbook(true)
}

fn unit_workbook_without_the_closed_row() -> Vec<u8> {
    workbook(false)
}

fn workbook(with_closed_row: bool) -> Vec<u8> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet().set_name("统战部整改台账").unwrap();
    let plain = Format::new();
    sheet
        .merge_range(
            0,
            0,
            0,
            8,
            "市委统战部落实市委第五巡察组反馈意见整改台账",
            &plain,
        )
        .unwrap();
    for (c, h) in [
        "序号",
        "存在问题",
        "整改措施",
        "责任领导",
        "责任部门",
        "责任人",
        "完成时限",
        "整改情况",
        "状态",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(1, c as u16, *h).unwrap();
    }
    // Finding 1 over rows 3-5 (merged), finding 2 on row 6.
    for (c, v) in [
        (0, "1"),
        (1, "宗教工作三级网络建设推进不力"),
        (3, "李副部长"),
        (4, "宗教科"),
        (5, "陈科长"),
        (6, "2020年12月31日"),
        (7, "已下发通知并督导"),
        (8, "整改中"),
    ] {
        sheet.merge_range(2, c, 4, c, v, &plain).unwrap();
    }
    sheet.write_string(2, 2, "召开专题会议研究部署").unwrap();
    sheet.write_string(3, 2, "下发三级网络建设通知").unwrap();
    sheet.write_string(4, 2, "到各县（市、区）督导").unwrap();
    if !with_closed_row {
        return workbook.save_to_buffer().unwrap();
    }
    for (c, v) in [
        "2",
        "财务印章由一人管理",
        "分开保管财务印章",
        "王副部长",
        "ZJTZB-BGS",
        "",
        "2020.10.19",
        "",
        "已销号",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(5, c as u16, *v).unwrap();
    }
    workbook.save_to_buffer().unwrap()
}

#[tokio::test]
async fn a_units_own_workbook_is_imported_with_merged_cells_chinese_dates_and_statuses() {
    let app = spawn_app().await;
    let inspection = empty_inspection(&app).await;
    // The workbook says finding 2 is 已销号: no import closes a finding, only a second
    // person's approveCloseOut does, so the manager's import is refused at that cell.
    for dry in [true, false] {
        let refused = import(
            &app,
            &inspection,
            "台账.xlsx",
            XLSX,
            &unit_workbook(),
            dry,
            false,
        )
        .await;
        assert_eq!(refused["applied"], false);
        let problems = refused["problems"].as_array().unwrap();
        assert_eq!(problems.len(), 1, "{refused}");
        assert_eq!(
            (
                problems[0]["row"].clone(),
                problems[0]["column"].clone(),
                problems[0]["code"].clone()
            ),
            (json!(6), json!("状态"), json!("INVALID_TRANSITION"))
        );
    }
    assert_eq!(
        count(
            &app.db,
            &format!("SELECT COUNT(*) FROM finding WHERE inspection_id = {inspection}")
        )
        .await,
        0,
        "nothing changed"
    );

    // Without the closed row, the same workbook is imported; 整改中 is reached through the
    // workflow's own start.
    let open_only = unit_workbook_without_the_closed_row();
    let dry = import(
        &app,
        &inspection,
        "台账.xlsx",
        XLSX,
        &open_only,
        true,
        false,
    )
    .await;
    assert_eq!(
        dry,
        json!({"dryRun": true, "applied": false, "findingsCreated": 1, "findingsUpdated": 0, "measuresCreated": 3,
               "measuresUpdated": 0, "entriesAdded": 1, "problems": []})
    );
    let done = import(
        &app,
        &inspection,
        "台账.xlsx",
        XLSX,
        &open_only,
        false,
        false,
    )
    .await;
    assert_eq!(done["applied"], true, "{done}");
    let query = "query($i: ID!) { findings(filter: {inspectionId: $i}) { edges { node { ordinal title status deadline responsibleLeader responsiblePerson department { code }
        measures { ordinal content } progress { edges { node { kind content } } } } } } }";
    let data = app
        .data(&TestUser::manager("ZJTZB"), query, json!({"i": inspection}))
        .await;
    let nodes: Vec<Value> = data["findings"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0]["title"], "宗教工作三级网络建设推进不力");
    assert_eq!(nodes[0]["status"], "IN_PROGRESS");
    assert_eq!(nodes[0]["deadline"], "2020-12-31");
    assert_eq!(
        nodes[0]["department"]["code"], "ZJTZB-ZJK",
        "matched by name"
    );
    assert_eq!(nodes[0]["responsibleLeader"], "李副部长");
    let contents: Vec<&str> = nodes[0]["measures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(
        contents,
        [
            "召开专题会议研究部署",
            "下发三级网络建设通知",
            "到各县（市、区）督导"
        ]
    );
    let ledger: Vec<(String, String)> = nodes[0]["progress"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["node"]["kind"].as_str().unwrap().to_owned(),
                e["node"]["content"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        ledger,
        [
            ("COMMENT".to_owned(), "台账导入：新增问题1".to_owned()),
            ("PROGRESS".to_owned(), "已下发通知并督导".to_owned()),
            ("STATUS_CHANGE".to_owned(), "开始整改".to_owned()),
        ]
    );
    // Every record was made by the commands every surface uses, and audited as such.
    let actions = |action: &str| {
        format!(
            "SELECT COUNT(*) FROM audit_event WHERE action = '{action}' AND request_id IS NOT NULL"
        )
    };
    assert_eq!(count(&app.db, &actions("finding.create")).await, 1);
    assert_eq!(count(&app.db, &actions("measure.create")).await, 3);
    assert_eq!(count(&app.db, &actions("finding.start")).await, 1);
}

#[tokio::test]
async fn an_older_ledger_with_closed_findings_comes_in_through_the_historical_import_of_admins() {
    let app = spawn_app().await;
    let inspection = empty_inspection(&app).await;
    // Not for managers.
    let (_, body) = app
        .upload(
            &TestUser::manager("ZJTZB"),
            IMPORT_HISTORICAL,
            json!({"i": inspection, "file": null}),
            &[("variables.file", "台账.xlsx", XLSX, &unit_workbook())],
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{body}"
    );
    let (status, body) = app
        .upload(
            &TestUser::admin(),
            IMPORT_HISTORICAL,
            json!({"i": inspection, "file": null}),
            &[("variables.file", "台账.xlsx", XLSX, &unit_workbook())],
        )
        .await;
    assert_eq!(status, 200);
    let report = &body["data"]["importLedger"];
    assert_eq!(report["applied"], true, "{body}");
    assert_eq!(report["findingsCreated"], 2);
    let query = "query($i: ID!) { findings(filter: {inspectionId: $i}) { edges { node { ordinal status closedAt progress { edges { node { kind content } } } } } } }";
    let data = app
        .data(&TestUser::admin(), query, json!({"i": inspection}))
        .await;
    let closed = &data["findings"]["edges"][1]["node"];
    assert_eq!(closed["status"], "CLOSED");
    assert!(closed["closedAt"].is_string());
    let first = &closed["progress"]["edges"][0]["node"];
    assert_eq!(first["kind"], "COMMENT");
    assert_eq!(first["content"], "历史台账导入：问题2，导入时状态为已销号");
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM audit_event WHERE action = 'finding.import_historical'"
        )
        .await,
        2
    );
}

#[tokio::test]
async fn every_problem_is_reported_by_row_and_column_and_nothing_changes() {
    let app = spawn_app().await;
    // An export of the demo inspection, then a change to finding 2 so that its row is stale.
    let csv = app
        .client
        .get(app.url("/api/v1/inspections/1/ledger?format=csv"))
        .bearer_auth(TestUser::manager("ZJTZB"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let f2 = app.finding_id(2).await.to_string();
    app.data(
        &TestUser::manager("ZJTZB"),
        "mutation($i: UpdateFindingInput!) { updateFinding(input: $i) { id } }",
        json!({"i": {"id": f2, "version": 1, "responsiblePerson": "新的责任人"}}),
    )
    .await;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv.trim_start_matches('\u{FEFF}').as_bytes());
    let mut rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    let header = rows[0].clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (dept, title, deadline, ordinal) =
        (col("责任科室"), col("问题"), col("整改时限"), col("序号"));
    // Rows 2-4 of the file: finding 1 and its measures. An unknown department (on every row
    // of the finding, as exports repeat a finding's cells), and a deadline that is no date.
    let f1 = rows[1][col("问题ID")].clone();
    for row in rows.iter_mut().filter(|r| r[col("问题ID")] == f1) {
        row[dept] = "不存在的科室".to_owned();
    }
    rows[1][deadline] = "下月底".to_owned();
    // A new finding (no ids) with no text and a number that is taken.
    let mut new_row = vec![String::new(); rows[0].len()];
    new_row[ordinal] = "3".to_owned();
    new_row[dept] = "办公室".to_owned();
    new_row[col("整改措施")] = "一项措施".to_owned();
    new_row[title] = String::new();
    rows.push(new_row);
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in &rows {
        writer.write_record(row).unwrap();
    }
    let file = writer.into_inner().unwrap();
    let entries = count(&app.db, "SELECT COUNT(*) FROM progress_entry").await;
    let audits = count(&app.db, "SELECT COUNT(*) FROM audit_event").await;

    for dry in [true, false] {
        let report = import(&app, "1", "ledger.csv", "text/csv", &file, dry, false).await;
        assert_eq!(report["applied"], false);
        let problems: Vec<(i64, String, String)> = report["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                assert_eq!(p["sheet"], "CSV");
                (
                    p["row"].as_i64().unwrap(),
                    p["column"].as_str().unwrap().to_owned(),
                    p["message"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let has = |row: i64, column: &str, text: &str| {
            problems
                .iter()
                .any(|(r, c, m)| *r == row && c == column && m.contains(text))
        };
        assert!(
            has(2, "责任科室", "没有名称或代码为“不存在的科室”的部门"),
            "{problems:?}"
        );
        assert!(has(2, "整改时限", "“下月底”不是日期"), "{problems:?}");
        let stale_row = rows.iter().position(|r| r[col("问题ID")] == f2).unwrap() as i64 + 1;
        assert!(has(stale_row, "问题版本", "版本已过期"), "{problems:?}");
        let last = rows.len() as i64;
        assert!(has(last, "问题", "标题不能为空"), "{problems:?}");
        assert!(has(last, "序号", "已有序号为 3 的问题"), "{problems:?}");
        assert!(has(last, "序号", "序号 3 重复（第"), "{problems:?}");
        assert_eq!(problems.len(), 6, "{problems:?}");
    }
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM progress_entry").await,
        entries,
        "nothing changed"
    );
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM audit_event").await,
        audits
    );
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM finding").await, 35);
}

async fn export_json(app: &TestApp, inspection: &str) -> Vec<Value> {
    app.client
        .get(app.url(&format!(
            "/api/v1/inspections/{inspection}/ledger?format=json"
        )))
        .bearer_auth(TestUser::manager("ZJTZB"))
        .send()
        .await
        .unwrap()
        .json::<Vec<Value>>()
        .await
        .unwrap()
}

fn without_ids(rows: &[Value]) -> Vec<Value> {
    rows.iter()
        .map(|r| {
            let mut r = r.clone();
            for k in ["问题ID", "问题版本", "措施ID", "措施版本"] {
                r.as_object_mut().unwrap().remove(k);
            }
            r
        })
        .collect()
}

#[tokio::test]
async fn export_import_elsewhere_and_export_again_give_the_same_rows() {
    let app = spawn_app().await;
    let xlsx = app
        .client
        .get(app.url("/api/v1/inspections/1/ledger?format=xlsx"))
        .bearer_auth(TestUser::manager("ZJTZB"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let first = export_json(&app, "1").await;
    assert_eq!(
        first.len(),
        64 + 14,
        "one row per measure, and one for each (unpublished) finding without"
    );
    let copy = empty_inspection(&app).await;
    // A manager's copy would close the demo's closed findings without a review: refused on
    // exactly their first rows, and nothing is changed.
    let refused = import(&app, &copy, "ledger.xlsx", XLSX, &xlsx, false, true).await;
    assert_eq!(refused["applied"], false);
    let closed_rows: Vec<i64> = first
        .iter()
        .enumerate()
        .filter(|(i, r)| {
            r["状态"] == "已销号" && (*i == 0 || first[i - 1]["问题ID"] != r["问题ID"])
        })
        .map(|(i, _)| i as i64 + 2)
        .collect();
    let refused_rows: Vec<i64> = refused["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert_eq!(p["code"], "INVALID_TRANSITION", "{p}");
            p["row"].as_i64().unwrap()
        })
        .collect();
    assert!(!closed_rows.is_empty());
    assert_eq!(refused_rows, closed_rows);
    assert_eq!(
        count(
            &app.db,
            &format!("SELECT COUNT(*) FROM finding WHERE inspection_id = {copy}")
        )
        .await,
        0
    );
    // Copied by an admin as a historical ledger, it keeps its statuses.
    let (_, body) = app
        .upload(
            &TestUser::admin(),
            "mutation($i: ID!, $file: Upload!) { importLedger(inspectionId: $i, file: $file, asNew: true, historical: true) {
                applied findingsCreated measuresCreated problems { row column code message } } }",
            json!({"i": copy, "file": null}),
            &[("variables.file", "ledger.xlsx", XLSX, &xlsx)],
        )
        .await;
    let report = &body["data"]["importLedger"];
    assert_eq!(report["applied"], true, "{body}");
    assert_eq!(
        (
            report["findingsCreated"].clone(),
            report["measuresCreated"].clone()
        ),
        (json!(35), json!(64))
    );
    let second = export_json(&app, &copy).await;
    assert_eq!(without_ids(&second), without_ids(&first));
    // Importing the copy's own export changes nothing.
    let again = app
        .client
        .get(app.url(&format!("/api/v1/inspections/{copy}/ledger?format=csv")))
        .bearer_auth(TestUser::manager("ZJTZB"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let report = import(&app, &copy, "ledger.csv", "text/csv", &again, false, false).await;
    assert_eq!(
        (
            report["findingsUpdated"].clone(),
            report["measuresUpdated"].clone(),
            report["entriesAdded"].clone()
        ),
        (json!(0), json!(0), json!(0)),
        "{report}"
    );
}

/// The Excel serial day of a date (days since 1899-12-30).
fn serial(date: &str) -> f64 {
    let day = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
    (day - chrono::NaiveDate::from_ymd_opt(1899, 12, 30).unwrap()).num_days() as f64
}

#[tokio::test]
async fn the_printed_ledger_is_the_one_units_file_and_reads_back() {
    use calamine::{Data, Reader};
    use std::io::Read;
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    let f1 = app.finding_id(1).await;
    let m2 = count(
        &app.db,
        &format!("SELECT id FROM measure WHERE finding_id = {f1} AND ordinal = 2"),
    )
    .await;
    app.data(
        &manager,
        "mutation($i: UpdateMeasureInput!) { updateMeasure(input: $i) { id } }",
        json!({"i": {"id": m2.to_string(), "version": 1, "deadline": "2021-06-30"}}),
    )
    .await;
    app.data(
        &manager,
        "mutation($i: AddProgressEntryInput!) { addProgressEntry(input: $i) { id } }",
        json!({"i": {"findingId": f1.to_string(), "measureId": m2.to_string(), "content": "召开领导小组会议", "links": [{"title": "领导小组会议纪要", "url": "https://tzb.example.cn/jiyao.pdf"}]}}),
    )
    .await;

    let get = |query: &'static str| {
        let client = app.client.clone();
        let url = app.url(&format!("/api/v1/inspections/1/ledger{query}"));
        let token = manager.clone();
        async move { client.get(url).bearer_auth(token).send().await.unwrap() }
    };
    let response = get("?layout=printed").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], XLSX);
    let bytes = response.bytes().await.unwrap().to_vec();

    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.clone())).unwrap();
    assert_eq!(book.sheet_names(), ["整改台账"]);
    let sheet = book.worksheet_range("整改台账").unwrap();
    let text = |r: u32, c: u32| match sheet.get_value((r, c)) {
        Some(Data::String(s)) => s.clone(),
        other => format!("{other:?}"),
    };
    assert_eq!(text(0, 0), "中共湛江市委统一战线工作部巡察整改台账");
    assert!(text(1, 0).starts_with("巡察：市委第五巡察组对市委统战部的巡察（市委第五巡察组）　　被巡察单位：中共湛江市委统一战线工作部　　截至："));
    let header: Vec<String> = (0..9).map(|c| text(2, c)).collect();
    assert_eq!(
        header,
        [
            "序号",
            "问题",
            "整改措施",
            "责任领导",
            "责任单位",
            "责任人",
            "整改时限",
            "完成情况",
            "佐证材料"
        ]
    );
    assert_eq!(
        text(3, 0),
        "一、贯彻落实党的路线方针政策和党的决策部署，围绕中心、服务大局工作仍有差距"
    );
    assert_eq!(text(4, 0), "1");
    assert!(text(4, 1).starts_with("贯彻落实中央决策和上级部署不到位，履职担当不够\n"));
    // The unit numbered its measures itself (一是…): printed once.
    assert!(text(4, 2).starts_with("一是2016年6月27日"));
    assert_eq!(text(4, 4), "办公室");
    assert!(
        text(4, 7).starts_with("已完成（2020年4月22日）"),
        "{}",
        text(4, 7)
    );
    assert!(text(5, 2).starts_with("二是落实领导小组有关工作规则制度"));
    assert_eq!(text(5, 7), "进行中");
    assert_eq!(text(5, 8), "领导小组会议纪要");
    // A deadline is a date, not text.
    match sheet.get_value((5, 6)) {
        Some(Data::DateTime(d)) => assert_eq!(d.as_f64(), serial("2021-06-30")),
        other => panic!("the deadline is {other:?}"),
    }
    // The title rows, a group row per heading and one row per measure; the 14 unpublished
    // findings (under no heading, and without measures) a group row and a row each.
    let measures = count(
        &app.db,
        "SELECT COUNT(*) FROM measure WHERE archived_at IS NULL",
    )
    .await as u32;
    assert_eq!(sheet.height() as u32, 3 + 3 + measures + 1 + 14);

    // The finding's cells are merged over its three measures; the title over every column.
    book.load_merged_regions().unwrap();
    let merged: Vec<((u32, u32), (u32, u32))> = book
        .merged_regions_by_sheet("整改台账")
        .iter()
        .map(|(_, _, d)| (d.start, d.end))
        .collect();
    for region in [
        ((0, 0), (0, 8)),
        ((3, 0), (3, 8)),
        ((4, 0), (6, 0)),
        ((4, 1), (6, 1)),
        ((4, 3), (6, 3)),
    ] {
        assert!(merged.contains(&region), "{region:?} merged, in {merged:?}");
    }

    // Frozen header, landscape A4 fitted to the width, print area and header repeated.
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut part = |name: &str| {
        let mut xml = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut xml).unwrap();
        xml
    };
    let sheet_xml = part("xl/worksheets/sheet1.xml");
    assert!(
        sheet_xml.contains("ySplit=\"3\"") && sheet_xml.contains("state=\"frozen\""),
        "{sheet_xml}"
    );
    assert!(
        sheet_xml.contains("paperSize=\"9\"") && sheet_xml.contains("orientation=\"landscape\"")
    );
    assert!(
        sheet_xml.contains("fitToHeight=\"0\"")
            && sheet_xml.contains("<pageSetUpPr fitToPage=\"1\"/>")
    );
    let workbook_xml = part("xl/workbook.xml");
    assert!(
        workbook_xml.contains("_xlnm.Print_Area") && workbook_xml.contains("_xlnm.Print_Titles")
    );
    assert!(
        workbook_xml.contains("整改台账!$1:$3")
            || workbook_xml.contains("'整改台账'!$3:$3")
            || workbook_xml.contains("整改台账!$3:$3"),
        "{workbook_xml}"
    );

    // An empty format is not one of the formats the contract lists.
    let empty = get("?format=").await;
    assert_eq!(empty.status(), 400);
    // Printed as CSV is its table, one row per finding; an unknown layout is named.
    let csv = get("?layout=printed&format=csv").await;
    assert_eq!(csv.status(), 200);
    let text = csv.text().await.unwrap();
    assert!(
        text.trim_start_matches('\u{feff}')
            .starts_with("序号,问题,整改措施,责任领导,责任科室,责任人,整改时限,整改进展,状态"),
        "{text}"
    );
    let unknown = get("?layout=poster").await;
    assert_eq!(unknown.status(), 400);
    let body: Value = unknown.json().await.unwrap();
    assert_eq!(body["error"]["code"], "BAD_USER_INPUT");
    assert_eq!(body["error"]["field"], "layout", "{body}");
}

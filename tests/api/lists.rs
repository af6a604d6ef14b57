//! The three lists, the timetable and the road map of the demo inspection: what the seed
//! states, per role, through GraphQL and the REST downloads (XLSX read back, CSV parsed), and
//! the road map drawn as SVG.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, count, error_code, spawn_app};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

const PROBLEMS: &str = "query($i: ID!) { inspection(id: $i) { problemList { truncated groups { ordinal heading problems { ordinal title department disclosed status measures measuresDone progress rectificationType warningLevel } } } } }";

async fn problems(app: &TestApp, token: &str) -> Value {
    app.data(token, PROBLEMS, json!({"i": "1"})).await["inspection"]["problemList"].clone()
}

async fn tasks(app: &TestApp, token: &str, filter: Value) -> Vec<Value> {
    app.data(
        token,
        "query($i: ID!, $f: TaskFilterInput) { inspection(id: $i) { taskList(filter: $f) { truncated tasks { measureId findingOrdinal ordinal department responsiblePerson deadline status evidenceCount overdue warningLevel } } } }",
        json!({"i": "1", "f": filter}),
    )
    .await["inspection"]["taskList"]["tasks"]
        .as_array()
        .unwrap()
        .clone()
}

async fn get(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// Sets the deadline of measure `ordinal` of finding 1 (as the unit's manager).
async fn set_deadline(app: &TestApp, ordinal: i32, deadline: &str) -> i64 {
    let f1 = app.finding_id(1).await;
    let m = count(
        &app.db,
        &format!("SELECT id FROM measure WHERE finding_id = {f1} AND ordinal = {ordinal}"),
    )
    .await;
    app.data(
        &TestUser::manager("ZJTZB"),
        "mutation($i: UpdateMeasureInput!) { updateMeasure(input: $i) { id } }",
        json!({"i": {"id": m.to_string(), "version": 1, "deadline": deadline}}),
    )
    .await;
    m
}

#[tokio::test]
async fn the_problem_list_holds_the_21_published_problems_under_their_three_headings_and_the_14_held_back()
 {
    let app = spawn_app().await;
    let list = problems(&app, &TestUser::admin()).await;
    assert_eq!(list["truncated"], false);
    let groups = list["groups"].as_array().unwrap();
    let shape: Vec<(Value, usize)> = groups
        .iter()
        .map(|g| {
            (
                g["ordinal"].clone(),
                g["problems"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            (json!(1), 13),
            (json!(2), 6),
            (json!(3), 2),
            (Value::Null, 14)
        ]
    );
    assert_eq!(
        groups[0]["heading"],
        "贯彻落实党的路线方针政策和党的决策部署，围绕中心、服务大局工作仍有差距"
    );
    assert_eq!(groups[3]["heading"], "其他问题");
    // The published ones are numbered 1 to 21 in order and disclosed; the rest held back.
    let ordinals: Vec<i64> = groups[..3]
        .iter()
        .flat_map(|g| g["problems"].as_array().unwrap().iter())
        .map(|p| p["ordinal"].as_i64().unwrap())
        .collect();
    assert_eq!(ordinals, (1..=21).collect::<Vec<_>>());
    for (k, group) in groups.iter().enumerate() {
        for p in group["problems"].as_array().unwrap() {
            assert_eq!(p["disclosed"], k < 3, "{p}");
        }
    }
    let first = &groups[0]["problems"][0];
    assert_eq!(
        first["title"],
        "贯彻落实中央决策和上级部署不到位，履职担当不够"
    );
    assert_eq!(first["department"], "办公室");
    assert_eq!(
        (first["measures"].clone(), first["measuresDone"].clone()),
        (json!(3), json!(1))
    );
    assert_eq!(first["progress"], 33);
    // Finding 20 is closed: all done.
    let twenty = &groups[2]["problems"][0];
    assert_eq!(
        (
            twenty["ordinal"].clone(),
            twenty["status"].clone(),
            twenty["progress"].clone()
        ),
        (json!(20), json!("CLOSED"), json!(100))
    );
    // The departments the seed names, as the problems carry them.
    let mut departments: Vec<String> = groups
        .iter()
        .flat_map(|g| g["problems"].as_array().unwrap().iter())
        .map(|p| p["department"].as_str().unwrap().to_owned())
        .collect();
    departments.sort();
    departments.dedup();
    assert_eq!(
        departments,
        [
            "中共湛江市委统一战线工作部",
            "侨务科",
            "办公室",
            "宗教科",
            "干部科",
            "机关党委",
            "机关纪委"
        ]
    );
}

#[tokio::test]
async fn the_task_list_has_every_measure_and_filters_by_department_person_status_and_due_period() {
    let app = spawn_app().await;
    let admin = TestUser::admin();
    let measures = count(
        &app.db,
        "SELECT COUNT(*) FROM measure WHERE archived_at IS NULL",
    )
    .await;
    assert_eq!(measures, 64);
    let all = tasks(&app, &admin, Value::Null).await;
    assert_eq!(all.len() as i64, measures);
    // In the order of findings and their measures.
    let first: Vec<(i64, i64)> = all[..3]
        .iter()
        .map(|t| {
            (
                t["findingOrdinal"].as_i64().unwrap(),
                t["ordinal"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(first, [(1, 1), (1, 2), (1, 3)]);
    let done = count(
        &app.db,
        "SELECT COUNT(*) FROM measure WHERE status = 'done'",
    )
    .await;
    assert_eq!(
        tasks(&app, &admin, json!({"status": ["DONE"]})).await.len() as i64,
        done
    );

    // 宗教科: its four findings' measures (one of finding 2 assigned to it by name).
    let zjk = count(
        &app.db,
        "SELECT id FROM department WHERE code = 'ZJTZB-ZJK'",
    )
    .await;
    let religion = tasks(&app, &admin, json!({"departmentId": zjk.to_string()})).await;
    assert_eq!(religion.len(), 14);
    assert!(religion.iter().all(|t| t["department"] == "宗教科"));
    // The unit's id takes its whole subtree.
    let unit = count(&app.db, "SELECT id FROM department WHERE code = 'ZJTZB'").await;
    assert_eq!(
        tasks(&app, &admin, json!({"departmentId": unit.to_string()}))
            .await
            .len(),
        64
    );

    // A deadline in June 2021, past: overdue, red.
    let m = set_deadline(&app, 2, "2021-06-30").await;
    let june = tasks(
        &app,
        &admin,
        json!({"dueFrom": "2021-06-01", "dueTo": "2021-06-30"}),
    )
    .await;
    assert_eq!(june.len(), 1);
    assert_eq!(june[0]["measureId"], m.to_string());
    assert_eq!(june[0]["deadline"], "2021-06-30");
    assert_eq!(
        (june[0]["overdue"].clone(), june[0]["warningLevel"].clone()),
        (json!(true), json!("RED"))
    );
    assert!(
        tasks(&app, &admin, json!({"dueFrom": "2021-07-01"}))
            .await
            .is_empty()
    );

    // A person as written, surrounding spaces ignored.
    app.data(
        &TestUser::manager("ZJTZB"),
        "mutation($i: UpdateMeasureInput!) { updateMeasure(input: $i) { id } }",
        json!({"i": {"id": m.to_string(), "version": 2, "responsiblePerson": "李明"}}),
    )
    .await;
    let li = tasks(&app, &admin, json!({"person": "  李明 "})).await;
    assert_eq!(li.len(), 1);
    assert_eq!(li[0]["responsiblePerson"], "李明");

    // A period that ends before it starts is refused, in Chinese.
    let (_, body) = app
        .gql(
            Some(&admin),
            "{ inspection(id: 1) { taskList(filter: {dueFrom: \"2021-06-30\", dueTo: \"2021-06-01\"}) { truncated } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("早于开始日"),
        "{body}"
    );
}

#[tokio::test]
async fn the_responsibility_list_counts_per_leader_department_and_person() {
    let app = spawn_app().await;
    let admin = TestUser::admin();
    set_deadline(&app, 2, "2021-06-30").await;
    let f1 = app.finding_id(1).await;
    app.data(
        &TestUser::manager("ZJTZB"),
        "mutation($i: UpdateFindingInput!) { updateFinding(input: $i) { id } }",
        json!({"i": {"id": f1.to_string(), "version": app.finding_version(f1).await, "responsibleLeader": " 王副部长 "}}),
    )
    .await;
    let list = app
        .data(
            &admin,
            "{ inspection(id: 1) { responsibilityList { leaders { name findings measures measuresOverdue warningLevel findingOrdinals } departments { name departmentId findings findingsClosed measures measuresDone measuresOverdue warningLevel } people { name } } } }",
            json!({}),
        )
        .await["inspection"]["responsibilityList"]
        .clone();
    // The leader as written, trimmed: finding 1 and its three measures, one overdue.
    assert_eq!(
        list["leaders"],
        json!([{"name": "王副部长", "findings": 1, "measures": 3, "measuresOverdue": 1, "warningLevel": "RED", "findingOrdinals": [1]}])
    );
    let departments = list["departments"].as_array().unwrap();
    let row = |name: &str| {
        departments
            .iter()
            .find(|d| d["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {departments:?}"))
            .clone()
    };
    let office = row("办公室");
    assert_eq!(office["findings"], 10);
    assert_eq!(office["findingsClosed"], 5);
    assert_eq!(office["measures"], 31);
    assert_eq!(office["measuresOverdue"], 1);
    assert_eq!(office["warningLevel"], "RED");
    assert_eq!(row("宗教科")["findings"], 4);
    assert_eq!(row("宗教科")["measures"], 14);
    assert_eq!(row("中共湛江市委统一战线工作部")["findings"], 14);
    assert_eq!(row("机关党委")["warningLevel"], "NONE");
    let named: i64 = departments
        .iter()
        .map(|d| d["findings"].as_i64().unwrap())
        .sum();
    assert_eq!(named, 35);
    // The seed names no responsible person.
    assert_eq!(list["people"], json!([]));

    // A leader sees what they lead: a viewer of the unit named as written on the record.
    let leader = crate::jwt::hs256(
        crate::helpers::SECRET.as_bytes(),
        &json!({"sub": "wang", "name": "王副部长", "role": "viewer", "dept": "ZJTZB",
                "exp": crate::jwt::now() + 3600, "iat": crate::jwt::now()}),
    );
    let mine = app
        .data(
            &leader,
            "{ inspection(id: 1) { responsibilityList(mine: true) { leaders { name findings } departments { name findings } people { name } } } }",
            json!({}),
        )
        .await["inspection"]["responsibilityList"]
        .clone();
    assert_eq!(
        mine,
        json!({"leaders": [{"name": "王副部长", "findings": 1}], "departments": [{"name": "中共湛江市委统一战线工作部", "findings": 14}], "people": []})
    );
}

#[tokio::test]
async fn the_timetable_marks_the_reporting_days_and_what_falls_due_in_each() {
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    set_deadline(&app, 2, "2021-06-30").await;
    // Two measures due 2021-05-31, done: one ten days before (on time), one ten days after
    // (late).
    // Of finding 3, whose measures 3 and 4 are still at work in the demo.
    let f3 = app.finding_id(3).await;
    for (ordinal, done_on) in [(3, "2021-05-21"), (4, "2021-06-10")] {
        let m = count(
            &app.db,
            &format!("SELECT id FROM measure WHERE finding_id = {f3} AND ordinal = {ordinal}"),
        )
        .await;
        let done = app
            .data(
                &manager,
                "mutation($i: UpdateMeasureInput!) { updateMeasure(input: $i) { status completedOn } }",
                json!({"i": {"id": m.to_string(), "version": 1, "deadline": "2021-05-31", "status": "DONE", "completedOn": done_on}}),
            )
            .await;
        assert_eq!(done["updateMeasure"]["completedOn"], done_on, "{done}");
    }
    let timetable = app
        .data(
            &manager,
            "{ inspection(id: 1) { timetable { truncated periods { startsOn endsOn findings { due } measures { due onTime late overdue open } } } } reportSchedule(inspectionId: 1) { dueOn } }",
            json!({}),
        )
        .await;
    let periods = timetable["inspection"]["timetable"]["periods"]
        .as_array()
        .unwrap();
    // From the feedback (2020-09-05): the 15th and the month's end, as reportSchedule counts.
    assert_eq!(periods[0]["startsOn"], "2020-09-05");
    assert_eq!(periods[0]["endsOn"], "2020-09-15");
    assert_eq!(periods[1]["startsOn"], "2020-09-16");
    assert_eq!(periods[1]["endsOn"], "2020-09-30");
    assert_eq!(periods[11]["endsOn"], "2021-02-28");
    let schedule: Vec<&Value> = timetable["reportSchedule"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["dueOn"])
        .collect();
    let ends: Vec<&Value> = periods.iter().map(|p| &p["endsOn"]).collect();
    // Up to the period of the last deadline: September 2020 to June 2021.
    assert_eq!(ends.len(), 20);
    assert_eq!(periods[19]["endsOn"], "2021-06-30");
    assert_eq!(ends[..], schedule[..ends.len()]);
    // The deadlines: in the period ending 2021-06-30 one open and past; in the period ending
    // 2021-05-31 one done on time and one late.
    for p in periods {
        let expected = if p["endsOn"] == "2021-06-30" {
            json!({"due": 1, "onTime": 0, "late": 0, "overdue": 1, "open": 0})
        } else if p["endsOn"] == "2021-05-31" {
            json!({"due": 2, "onTime": 1, "late": 1, "overdue": 0, "open": 0})
        } else {
            json!({"due": 0, "onTime": 0, "late": 0, "overdue": 0, "open": 0})
        };
        assert_eq!(p["measures"], expected, "{p}");
        assert_eq!(p["findings"]["due"], 0);
    }
}

#[tokio::test]
async fn a_section_sees_its_own_part_and_an_inspection_out_of_reach_is_not_found() {
    let app = spawn_app().await;
    // 宗教科: its four findings (2, 11, 12, 13), all under the first heading.
    let officer = TestUser::officer("ZJTZB-ZJK");
    let list = problems(&app, &officer).await;
    let groups = list["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1);
    let ordinals: Vec<i64> = groups[0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["ordinal"].as_i64().unwrap())
        .collect();
    assert_eq!(ordinals, [2, 11, 12, 13]);
    assert_eq!(tasks(&app, &officer, Value::Null).await.len(), 14);
    let csv = get(
        &app,
        &officer,
        "/api/v1/inspections/1/lists/problems?format=csv",
    )
    .await;
    assert_eq!(csv.status(), 200);
    let text = csv.text().await.unwrap();
    assert_eq!(csv_rows(&text).len(), 1 + 4);

    // The inspection office reads everything.
    let inspector = problems(&app, &TestUser::inspector()).await;
    assert_eq!(inspector["groups"].as_array().unwrap().len(), 4);

    // A viewer of the inspection office's own department reaches none of it.
    let outside = TestUser::manager("ZJSW-XCB");
    let (_, body) = app.gql(Some(&outside), PROBLEMS, json!({"i": "1"})).await;
    assert_eq!(body["data"]["inspection"], Value::Null, "{body}");
    for path in [
        "/api/v1/inspections/1/lists/problems",
        "/api/v1/inspections/1/lists/tasks?format=csv",
        "/api/v1/inspections/1/lists/timetable",
        "/api/v1/inspections/1/roadmap.svg",
        "/api/v1/inspections/999/lists/responsibilities",
    ] {
        let response = get(&app, &outside, path).await;
        assert_eq!(response.status(), 404, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "NOT_FOUND", "{path}");
    }
    // Anonymous callers are refused before anything.
    let anonymous = app
        .client
        .get(app.url("/api/v1/inspections/1/lists/problems"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[tokio::test]
async fn the_lists_download_as_printed_workbooks_and_csv() {
    use calamine::{Data, Reader};
    use std::io::Read;
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    let response = get(
        &app,
        &manager,
        "/api/v1/inspections/1/lists/problems?format=xlsx",
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], XLSX);
    let bytes = response.bytes().await.unwrap().to_vec();
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.clone())).unwrap();
    assert_eq!(book.sheet_names(), ["问题清单"]);
    let sheet = book.worksheet_range("问题清单").unwrap();
    let text = |r: u32, c: u32| match sheet.get_value((r, c)) {
        Some(Data::String(s)) => s.clone(),
        other => format!("{other:?}"),
    };
    assert_eq!(text(0, 0), "中共湛江市委统一战线工作部巡察反馈问题清单");
    assert!(text(1, 0).starts_with("巡察：市委第五巡察组对市委统战部的巡察（市委第五巡察组）　　被巡察单位：中共湛江市委统一战线工作部　　制表日期："), "{}", text(1, 0));
    assert_eq!(text(2, 0), "序号");
    assert_eq!(text(2, 1), "问题");
    assert_eq!(
        text(3, 0),
        "一、贯彻落实党的路线方针政策和党的决策部署，围绕中心、服务大局工作仍有差距"
    );
    assert_eq!(text(4, 0), "1");
    assert_eq!(text(4, 5), "办公室");
    // Title, line, header; four group rows; 35 problems.
    assert_eq!(sheet.height(), 3 + 4 + 35);
    book.load_merged_regions().unwrap();
    let merged: Vec<((u32, u32), (u32, u32))> = book
        .merged_regions_by_sheet("问题清单")
        .iter()
        .map(|(_, _, d)| (d.start, d.end))
        .collect();
    // The title, the line and each heading across every column.
    for region in [
        ((0, 0), (0, 10)),
        ((1, 0), (1, 10)),
        ((3, 0), (3, 10)),
        ((17, 0), (17, 10)),
    ] {
        assert!(merged.contains(&region), "{region:?} merged, in {merged:?}");
    }
    assert_eq!(merged.len(), 2 + 4);
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut part = |name: &str| {
        let mut xml = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut xml).unwrap();
        xml
    };
    let sheet_xml = part("xl/worksheets/sheet1.xml");
    assert!(
        sheet_xml.contains("paperSize=\"9\"") && sheet_xml.contains("orientation=\"landscape\"")
    );
    let workbook_xml = part("xl/workbook.xml");
    assert!(
        workbook_xml.contains("_xlnm.Print_Titles") && workbook_xml.contains("$3:$3"),
        "{workbook_xml}"
    );

    // Every list and the timetable, in both formats.
    for (list, sheet_name, rows) in [
        ("tasks", "任务清单", 64),
        ("responsibilities", "责任清单", 7),
        ("timetable", "时间表", 0),
    ] {
        let x = get(
            &app,
            &manager,
            &format!("/api/v1/inspections/1/lists/{list}"),
        )
        .await;
        assert_eq!(x.status(), 200, "{list}");
        let bytes = x.bytes().await.unwrap().to_vec();
        let book: calamine::Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(book.sheet_names(), [sheet_name]);
        let c = get(
            &app,
            &manager,
            &format!("/api/v1/inspections/1/lists/{list}?format=CSV"),
        )
        .await;
        assert_eq!(c.status(), 200);
        assert_eq!(c.headers()["content-type"], "text/csv; charset=utf-8");
        let parsed = csv_rows(&c.text().await.unwrap());
        if rows > 0 {
            assert_eq!(parsed.len(), 1 + rows, "{list}");
        }
        assert_eq!(
            parsed[0][0],
            if list == "timetable" {
                "时段"
            } else {
                "分组"
            }
        );
    }
    let problems_csv = csv_rows(
        &get(
            &app,
            &manager,
            "/api/v1/inspections/1/lists/problems?format=csv",
        )
        .await
        .text()
        .await
        .unwrap(),
    );
    assert_eq!(problems_csv.len(), 1 + 35);
    assert_eq!(problems_csv[1][1], "1");
    assert_eq!(problems_csv[35][0], "其他问题");
    assert_eq!(problems_csv[35][11], "否");

    // Unknown lists and formats are named in the refusal.
    let unknown = get(&app, &manager, "/api/v1/inspections/1/lists/wishes").await;
    assert_eq!(unknown.status(), 400);
    let body: Value = unknown.json().await.unwrap();
    assert_eq!(body["error"]["code"], "BAD_USER_INPUT");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("wishes"),
        "{body}"
    );
    let pdf = get(
        &app,
        &manager,
        "/api/v1/inspections/1/lists/tasks?format=pdf",
    )
    .await;
    assert_eq!(pdf.status(), 400);
}

#[tokio::test]
async fn the_road_map_draws_every_finding_with_escaped_labels() {
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    let id = app.create_finding("<b>&\"未成年\"</b>", "ZJTZB-BGS").await;
    let response = get(&app, &manager, "/api/v1/inspections/1/roadmap.svg").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "image/svg+xml; charset=utf-8"
    );
    let svg = response.text().await.unwrap();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.ends_with("</svg>"));
    assert_eq!(svg.matches("class=\"finding\"").count(), 36);
    let findings = app.rows("SELECT id FROM finding").await;
    for row in findings {
        let fid: i32 = row.try_get_by_index(0).unwrap();
        assert!(
            svg.contains(&format!("data-finding=\"{fid}\"")),
            "finding {fid}"
        );
    }
    assert_eq!(svg.matches("class=\"step\"").count(), 64);
    assert!(svg.contains("&lt;b&gt;&amp;&quot;未成年&quot;&lt;/b&gt;"));
    assert!(!svg.contains("<b>"));
    assert!(svg.contains("整改路线图"));
    assert!(svg.contains("今天"));
    let graphql = app
        .data(
            &manager,
            "{ inspection(id: 1) { roadmap { startsOn rows { findingId steps { plannedFrom done } } svg } } }",
            json!({}),
        )
        .await;
    let map = &graphql["inspection"]["roadmap"];
    assert_eq!(map["startsOn"], "2020-09-05");
    assert_eq!(map["rows"].as_array().unwrap().len(), 36);
    assert_eq!(map["rows"][35]["findingId"], id);
    assert_eq!(map["svg"], svg);
    crate::browser::screenshot_svg("roadmap.png", &svg).await;
}

const ADD_STAGE: &str = "mutation($i: AddStageInput!) { addStage(input: $i) { id ordinal content targetOn achievedOn version } }";

#[tokio::test]
async fn a_long_term_finding_takes_stages_within_its_time_and_the_road_map_draws_them() {
    let app = spawn_app().await;
    let manager = TestUser::manager("ZJTZB");
    // Finding 3 is long-term; give it a deadline to bound its stages.
    let f3 = app.finding_id(3).await;
    app.data(
        &manager,
        "mutation($i: UpdateFindingInput!) { updateFinding(input: $i) { id } }",
        json!({"i": {"id": f3.to_string(), "version": app.finding_version(f3).await, "deadline": "2022-12-31"}}),
    )
    .await;
    let add = |content: &str, target: &str| json!({"i": {"findingId": f3.to_string(), "content": content, "targetOn": target}});
    let first = app
        .data(
            &manager,
            ADD_STAGE,
            add("党外干部占比达到15%", "2021-06-30"),
        )
        .await["addStage"]
        .clone();
    assert_eq!(
        (
            first["ordinal"].clone(),
            first["targetOn"].clone(),
            first["achievedOn"].clone(),
            first["version"].clone()
        ),
        (json!(1), json!("2021-06-30"), Value::Null, json!(1))
    );
    let second = app
        .data(
            &manager,
            ADD_STAGE,
            add("党外干部占比达到25%", "2022-12-31"),
        )
        .await["addStage"]
        .clone();
    assert_eq!(second["ordinal"], 2);

    // After the finding's deadline, or before the inspection began: refused, in Chinese.
    for (target, words) in [
        ("2023-01-01", "晚于问题的整改时限"),
        ("2020-01-01", "巡察开始日期"),
    ] {
        let (_, body) = app
            .gql(Some(&manager), ADD_STAGE, add("太晚或太早", target))
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(words), "{message}");
    }
    // Only long-term findings have stages (finding 1 is by deadline).
    let f1 = app.finding_id(1).await;
    let (_, body) = app
        .gql(
            Some(&manager),
            ADD_STAGE,
            json!({"i": {"findingId": f1.to_string(), "content": "阶段", "targetOn": "2021-01-01"}}),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("长期坚持")
    );
    // An edit is held to the same rule; a reached stage says when; a stale version conflicts.
    let (_, body) = app
        .gql(
            Some(&manager),
            "mutation($i: UpdateStageInput!) { updateStage(input: $i) { id } }",
            json!({"i": {"id": first["id"], "version": 1, "targetOn": "2023-06-30"}}),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    let reached = app
        .data(
            &manager,
            "mutation($i: UpdateStageInput!) { updateStage(input: $i) { achievedOn version } }",
            json!({"i": {"id": first["id"], "version": 1, "achievedOn": "2021-06-20"}}),
        )
        .await["updateStage"]
        .clone();
    assert_eq!(reached, json!({"achievedOn": "2021-06-20", "version": 2}));
    let (_, body) = app
        .gql(
            Some(&manager),
            "mutation($i: UpdateStageInput!) { updateStage(input: $i) { id } }",
            json!({"i": {"id": first["id"], "version": 1, "content": "旧版本"}}),
        )
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    // An officer manages no stages; a manager outside the unit does not find them.
    let (_, body) = app
        .gql(
            Some(&TestUser::officer("ZJTZB-GBK")),
            "mutation($id: ID!) { removeStage(id: $id, version: 1) { id } }",
            json!({"id": second["id"]}),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    let (_, body) = app
        .gql(
            Some(&TestUser::manager("ZJSW-XCB")),
            "mutation($id: ID!) { removeStage(id: $id, version: 1) { id } }",
            json!({"id": second["id"]}),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");

    // Finding.stages, and the road map with its flags.
    let stages = app
        .data(
            &manager,
            "query($id: ID!) { finding(id: $id) { stages { ordinal content achievedOn } } }",
            json!({"id": f3.to_string()}),
        )
        .await["finding"]["stages"]
        .clone();
    assert_eq!(
        stages,
        json!([
            {"ordinal": 1, "content": "党外干部占比达到15%", "achievedOn": "2021-06-20"},
            {"ordinal": 2, "content": "党外干部占比达到25%", "achievedOn": null}
        ])
    );
    let svg = get(&app, &manager, "/api/v1/inspections/1/roadmap.svg")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(svg.matches("class=\"stage\"").count(), 2);
    assert!(svg.contains("阶段目标1：党外干部占比达到15%（目标 2021-06-30，2021-06-20 实现）"));

    // Removed: archived, audited, gone from the lists.
    let removed = app
        .data(
            &manager,
            "mutation($id: ID!) { removeStage(id: $id, version: 1) { id } }",
            json!({"id": second["id"]}),
        )
        .await;
    assert_eq!(removed["removeStage"]["id"], second["id"]);
    let left = app
        .data(
            &manager,
            "query($id: ID!) { finding(id: $id) { stages { ordinal } } }",
            json!({"id": f3.to_string()}),
        )
        .await["finding"]["stages"]
        .clone();
    assert_eq!(left, json!([{"ordinal": 1}]));
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM stage WHERE archived_at IS NOT NULL"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM audit_event WHERE entity_type = 'stage'"
        )
        .await,
        4
    );
}
